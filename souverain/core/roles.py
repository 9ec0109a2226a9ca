"""The five roles of Souverain and what each may do, in one place."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR_ADMIN = "operator-admin", _("Operator admin")
    OPERATOR_OPS = "operator-ops", _("Operator ops")
    TENANT_ADMIN = "tenant-admin", _("Tenant admin")
    TENANT_MEMBER = "tenant-member", _("Tenant member")
    AUDITOR = "auditor", _("Auditor")


OPERATOR_ROLES = frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_OPS})
TENANT_ROLES = frozenset({Role.TENANT_ADMIN, Role.TENANT_MEMBER})
ALL_ROLES = frozenset(Role)
