"""Tenants (customer organisations), nested in an organisation tree, and each user's role.

Tenants form a tree at most five levels deep (``parent``; rules in tree.py, queries in services.py): a node's
users see their node and the nodes below it, its tenant admins administer the nodes below it, and its defaults
are inherited downwards, only ever made stricter (docs/organisation.md).

A user has one or more ``Membership`` rows: a role at a node (tenant roles, bound auditors), or at most one
role without a tenant (operators, unbound auditors); at most one per (user, tenant). A request acts with ONE of
them at a time, as Keystone's project-scoped tokens do (a Keystone user holds role assignments on several
projects and each token is scoped to one of them: docs.openstack.org/keystone/latest/admin/tokens-overview.html):
the portal keeps the chosen membership in the session (the header's "act as" switcher, audited), the API takes an
optional ``X-Souverain-Tenant: <slug>`` header (400 without a membership there), and without a choice the user's
oldest membership is the default. ``permissions.membership_of(user)`` returns that active membership, so every
check written for one membership per user keeps working unchanged.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel
from souverain.core.roles import TENANT_ROLES, Role

from . import categories, tree


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


#: The tree's refusals (tree.TreeError codes) in the reader's language.
TREE_MESSAGES = {
    "cycle": _("A tenant cannot be moved under itself or one of its descendants."),
    "too_deep": _("The tree would be %(depth)d levels deep (at most %(max)d): the parent is already at level "
                  "%(parent_level)d."),
    "too_deep_subtree": _("The tree would be %(depth)d levels deep (at most %(max)d): this tenant would be at level "
                          "%(level)d and its subtree reaches %(height)d level(s) below it."),
}


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
    # The organisation tree (tree.py): a parent cannot be deleted while it has children (PROTECT), and ``path``
    # ("/1/4/9/", root first, the tenant itself last) is kept by save() and services.move for subtree queries.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent"))
    path = models.CharField(max_length=255, blank=True, default="", editable=False)

    changelog_exclude = ("path",)

    class Meta:
        ordering = ["name"]
        # opclasses: PostgreSQL uses the index for ``LIKE '/1/4/%'`` whatever the collation (ignored elsewhere).
        indexes = [models.Index(fields=["path"], name="tenancy_tenant_path", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return tree.depth_of(self.path) if self.path else (1 if self.parent_id is None else 0)

    def clean(self) -> None:
        from .services import check_defaults  # the defaults' rule needs the ancestors (services)

        super().clean()
        self.check_tree()
        check_defaults(self)

    def check_tree(self) -> None:
        """Refuse a parent that would make a cycle or a tree deeper than tree.MAX_DEPTH (ValidationError on
        ``parent``): every write path (API, portal, estate/tenants files, services) goes through it."""
        parent = Tenant.objects.filter(pk=self.parent_id).only("pk", "path").first() if self.parent_id else None
        subtree: list[str] = []
        if self.pk is not None and self.path:
            subtree = list(Tenant.objects.filter(path__startswith=self.path).exclude(pk=self.pk)
                           .values_list("path", flat=True))
        try:
            tree.check_parent(self.pk, self.path or None, self.parent_id, parent.path if parent else None, subtree)
        except tree.TreeError as error:
            raise ValidationError({error.field: TREE_MESSAGES[error.code] % error.params}) from None

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``path`` (and the paths of the subtree, on a move) in step with ``parent``."""
        if self.pk is None:
            self.check_tree()
            super().save(*args, **kwargs)
            self.path = self._expected_path()
            Tenant.objects.filter(pk=self.pk).update(path=self.path)
            return
        old_path = Tenant.objects.filter(pk=self.pk).values_list("path", flat=True).first() or ""
        new_path = self._expected_path()
        if new_path != old_path:
            self.check_tree()
            self.path = new_path
        super().save(*args, **kwargs)
        if old_path and new_path != old_path:
            from django.db.models import Value
            from django.db.models.functions import Concat, Substr

            Tenant.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)))

    def _expected_path(self) -> str:
        parent_path = Tenant.objects.filter(pk=self.parent_id).values_list("path", flat=True).first() \
            if self.parent_id else None
        return tree.child_path(parent_path, self.pk)


class Membership(ChangeLoggedModel):
    """One of a user's roles, and for tenant roles (and bound auditors) the tenant it is held at."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        ordering = ["user__username", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="tenancy_membership_one_per_tenant"),
            # NULLs are distinct in a unique index: the "at most one role without a tenant" rule needs its own.
            models.UniqueConstraint(fields=["user"], condition=models.Q(tenant__isnull=True),
                                    name="tenancy_membership_one_unbound"),
        ]

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
