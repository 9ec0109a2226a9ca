"""Portal pages. Each declares ``access = Access(...)`` and goes through ``PortalAccessMixin`` (anonymous → login,
role not allowed → 403, querysets scoped to the user's tenant); what a page shows comes from ``..services``."""
