"""The legal categories of tenants, as plain values: no Django, so pure modules (policy.workloads) read them.

A tenant's category says which texts bind it, and so whether a rule may deny or only warn (see
souverain/policies/packs.yaml, where the categories each text binds are data with their source). The labels
and the database field are in tenancy/models.py (``TenantCategory``), built from these values.
"""

from __future__ import annotations

STATE_ADMINISTRATION = "state_administration"
PUBLIC_BODY = "public_body"
CRITICAL_OPERATOR = "critical_operator"  # OIV (LPM) / OSE, essential or important entity (NIS2)
REGULATED_HEALTH = "regulated_health"
REGULATED_FINANCE = "regulated_finance"
PRIVATE = "private"

TENANT_CATEGORIES = (STATE_ADMINISTRATION, PUBLIC_BODY, CRITICAL_OPERATOR, REGULATED_HEALTH, REGULATED_FINANCE,
                     PRIVATE)

# The least-bound category: a tenant (or a what-if workload) nobody classified is never denied on an
# obligation that binds only State administrations or public bodies; it gets those rules as warnings.
DEFAULT_TENANT_CATEGORY = PRIVATE
