"""Tenants (customer organisations) and each user's role."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel
from souverain.core.roles import TENANT_ROLES, Role

from . import categories


class TenantCategory(models.TextChoices):
    """Who the tenant is in law: the built-in packs deny only on obligations that bind this category.

    Circular 6282/SG "cloud au centre" (2021, updated 2023) and law SREN art. 31 (2024) bind State
    administrations and public bodies; LPM/NIS2 bind critical operators to security measures but not to a
    qualification; HDS and GDPR bind whoever processes health or personal data, whatever its category. Which
    categories each text binds is data (souverain/policies/packs.yaml), not code: this list only names them.
    """

    STATE_ADMINISTRATION = categories.STATE_ADMINISTRATION, _("State administration")
    PUBLIC_BODY = categories.PUBLIC_BODY, _("Public body")
    CRITICAL_OPERATOR = categories.CRITICAL_OPERATOR, _("Critical operator (OIV/OSE)")
    REGULATED_HEALTH = categories.REGULATED_HEALTH, _("Regulated health organisation")
    REGULATED_FINANCE = categories.REGULATED_FINANCE, _("Regulated financial organisation")
    PRIVATE = categories.PRIVATE, _("Private company")


class Tenant(ChangeLoggedModel):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # "private" by default: the least-bound category, so no tenant is denied by an obligation it may not have;
    # an operator sets the category of State administrations and public bodies explicitly.
    category = models.CharField(
        _("legal category"), max_length=32, choices=TenantCategory.choices, default=categories.DEFAULT_TENANT_CATEGORY,
        help_text=_("The tenant's legal category, which decides the regulations that bind it"),
    )
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
