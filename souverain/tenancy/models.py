"""Tenants (customer organisations) and each user's role."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel
from souverain.core.roles import TENANT_ROLES, Role


class Tenant(ChangeLoggedModel):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Defaults that every workload of this tenant inherits (policy issue): data classes and requirements.
    default_data_classes = models.JSONField(default=list, blank=True)
    default_requirements = models.JSONField(default=dict, blank=True)
    safeguards = models.JSONField(default=list, blank=True, help_text=_("Declared GDPR chapter V safeguards"))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(ChangeLoggedModel):
    """A user's single role, and for tenant roles the tenant they act for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(max_length=20, choices=Role.choices)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        scope = f" @ {self.tenant}" if self.tenant_id else ""
        return f"{self.user} ({self.role}{scope})"

    def clean(self) -> None:
        if self.role in TENANT_ROLES and self.tenant_id is None:
            raise ValidationError({"tenant": _("A tenant role needs a tenant.")})
        if self.role in {Role.OPERATOR_ADMIN, Role.OPERATOR_OPS} and self.tenant_id is not None:
            raise ValidationError({"tenant": _("Operator roles are not bound to a tenant.")})

    @property
    def is_tenant_scoped(self) -> bool:
        """Tenant users, and auditors bound to one tenant, only see that tenant's objects."""
        return self.tenant_id is not None
