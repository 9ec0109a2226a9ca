"""The one permission layer every API view and portal page uses.

A view declares ``access = Access(read=..., write=..., tenant_lookup=...)``. ``RolePermission`` (the DRF
default) refuses a view without one, so a new route cannot forget it; ``TenantScopedQuerysetMixin`` and
``scope_queryset`` restrict tenant-scoped users to the rows of their tenant's subtree (their node and the nodes
below it in the organisation tree, never the parent or a sibling: the rule is in ``scope_queryset`` only), and to
the estate they may see: a private cloud dedicated to some tenants (``Cloud.dedicated_to``), its regions and
certifications exist only for those tenants' (and their ancestors') users (``dedicated_lookup``; a detail
answers 404 to anyone else). The route-walking tests in
``souverain/core/tests/test_route_permissions.py`` check every route of the URL conf with every role.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission

from souverain.core import events
from souverain.core.context import rebind_user
from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, Role

from .models import Membership, Tenant
from .services import subtree_query


@dataclass(frozen=True)
class Access:
    read: frozenset[str] = field(default_factory=frozenset)
    write: frozenset[str] = field(default_factory=frozenset)
    # ORM path from the view's model to its Tenant; None when the objects are not tenant-owned.
    tenant_lookup: str | None = None
    # ORM path from the view's model to the tenants its cloud is dedicated to (e.g. "cloud__dedicated_to"):
    # shared objects that a tenant-scoped user sees only when public (no tenant) or dedicated to their tenant.
    dedicated_lookup: str | None = None


ESTATE_ACCESS = Access(read=ALL_ROLES, write=frozenset({Role.OPERATOR_ADMIN}))
CLOUD_ACCESS = replace(ESTATE_ACCESS, dedicated_lookup="dedicated_to")
#: Regions, certifications and anything else that belongs to one cloud.
CLOUD_PART_ACCESS = replace(ESTATE_ACCESS, dedicated_lookup="cloud__dedicated_to")
OPERATOR_ONLY = Access(read=OPERATOR_ROLES | {Role.AUDITOR}, write=frozenset({Role.OPERATOR_ADMIN}))
AUTHENTICATED_READ_ONLY = Access(read=ALL_ROLES)


#: The API header choosing the membership a request acts with: a tenant's slug, or "-" for the membership
#: without a tenant (an operator's, an unbound auditor's). Absent: the session's choice, else the default.
TENANT_HEADER = "X-Souverain-Tenant"
UNBOUND = "-"
#: The portal's "act as" choice: the chosen membership's id, in the session.
SESSION_KEY = "souverain_membership"


class NoMembershipThere(Exception):
    """The user holds no membership at the tenant a request names (the API answers 400)."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def memberships_of(user: Any) -> list[Membership]:
    """Every membership of the user, oldest first (the first is the default one)."""
    if user is None or not user.is_authenticated:
        return []
    return list(Membership.objects.select_related("tenant").filter(user=user).order_by("pk"))


def membership_of(user: Any) -> Membership | None:
    """The membership the user acts with in this request: the one chosen (``act_as``, ``use_session_choice``),
    else the oldest. Every permission check reads this one, so a user with several memberships holds the rights
    of one at a time (Keystone's project-scoped tokens: see models.py)."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_souverain_membership", None)
    if cached is None:
        cached = Membership.objects.select_related("tenant").filter(user=user).order_by("pk").first()
        if cached is None and user.is_superuser:
            cached = Membership(user=user, role=Role.OPERATOR_ADMIN)
        user._souverain_membership = cached
    return cached


def act_as(user: Any, tenant_slug: str) -> Membership:
    """Make the user's membership at this tenant (``UNBOUND``: the one without a tenant) the active one for the
    rest of the request; ``NoMembershipThere`` when they hold none there."""
    rows = Membership.objects.select_related("tenant").filter(user=user)
    found = rows.filter(tenant__isnull=True).first() if tenant_slug == UNBOUND \
        else rows.filter(tenant__slug=tenant_slug).first()
    if found is None:
        raise NoMembershipThere(tenant_slug)
    user._souverain_membership = found
    return found


def use_session_choice(request: Any) -> None:
    """Apply the portal's "act as" choice kept in the session (a membership id of this user); a choice that is
    no longer the user's (the membership was removed) is forgotten and the default applies."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated:
        return
    chosen = session.get(SESSION_KEY)
    if chosen is None:
        return
    found = Membership.objects.select_related("tenant").filter(user=user, pk=chosen).first() \
        if isinstance(chosen, int) else None
    if found is None:
        session.pop(SESSION_KEY, None)
        user._souverain_membership = None  # read again: the default
        return
    user._souverain_membership = found


def switch(request: Any, membership_id: int) -> Membership | None:
    """The portal's switcher: act with this membership of the user from now on (kept in the session); audited
    (``tenancy.act_as``, naming the memberships before and after). None when it is not one of theirs."""
    user = request.user
    found = Membership.objects.select_related("tenant").filter(user=user, pk=membership_id).first()
    if found is None:
        return None
    before = membership_of(user)
    request.session[SESSION_KEY] = found.pk
    user._souverain_membership = found
    events.emit("tenancy.act_as", object_type="tenancy.membership", object_id=str(found.pk), object_repr=str(found),
                username=user.get_username(),
                data={"from": _describe(before), "to": _describe(found)})
    return found


def _describe(membership: Membership | None) -> dict[str, Any] | None:
    if membership is None:
        return None
    return {"role": membership.role, "tenant": membership.tenant.slug if membership.tenant_id else None}


def role_of(user: Any) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def tenant_of(user: Any) -> Tenant | None:
    membership = membership_of(user)
    return membership.tenant if membership and membership.tenant_id else None


def access_of(view: Any, method: str) -> Access:
    action = getattr(view, "action", None)
    per_action = getattr(view, "action_access", {}) or {}
    access = per_action.get(action) or getattr(view, "access", None)
    if not isinstance(access, Access):
        raise ImproperlyConfigured(f"{type(view).__name__} declares no Access policy")
    return access


def is_allowed(user: Any, access: Access, method: str) -> bool:
    role = role_of(user)
    if role is None:
        return False
    return role in (access.read if method in SAFE_METHODS else access.write)


def scope_queryset(queryset: QuerySet, user: Any, access: Access) -> QuerySet:
    """Restrict a queryset to the user's tenant and those below it when the objects are tenant-owned and the
    user is scoped, and to public or own (subtree's) dedicated clouds' objects when they belong to a cloud."""
    membership = membership_of(user)
    if membership is None:
        return queryset.none()
    if not membership.is_tenant_scoped:
        return queryset
    # The subtree rule, once for every view: a node's users see their node and every node below it (the
    # organisation tree, services.subtree_query: one indexed prefix subquery), never its parent or siblings.
    subtree = subtree_query(membership.tenant or membership.tenant_id)
    if access.tenant_lookup is not None:
        queryset = queryset.filter(**{f"{access.tenant_lookup}__in": subtree})
    if access.dedicated_lookup is not None:
        lookup = access.dedicated_lookup
        # A subquery rather than a join on the outer query: a cloud dedicated to several tenants stays one row.
        visible = queryset.model._default_manager.filter(
            Q(**{f"{lookup}__isnull": True}) | Q(**{f"{lookup}__in": subtree})).values("pk")
        queryset = queryset.filter(pk__in=visible)
    return queryset


def sees_dedicated(user: Any, dedicated_to: Collection[str]) -> bool:
    """Whether the user may see what belongs to a cloud dedicated to these tenants (slugs; empty: public), for
    code that reads the estate as plain data (``EstateData``) rather than through a queryset."""
    membership = membership_of(user)
    if membership is None:
        return False
    if not dedicated_to or not membership.is_tenant_scoped:
        return True
    if membership.tenant is None:
        return False
    return bool(set(dedicated_to) & set(Tenant.objects.filter(pk__in=subtree_query(membership.tenant))
                                        .values_list("slug", flat=True)))


def audit_denial(request: Any, view: Any) -> None:
    """A refusal to an authenticated user is a security event (anonymous requests are only asked to log in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    events.emit("access.denied", username=user.get_username(),
                data={"method": request.method, "path": request.path[:500], "view": type(view).__name__,
                      "role": role_of(user)})


class RolePermission(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.user is not None and request.user.is_authenticated:
            rebind_user(request.user.get_username())  # DRF has authenticated by now: changes name the real user
        access = access_of(view, request.method)
        if request.user is not None and request.user.is_authenticated:
            use_session_choice(request)
            chosen = request.headers.get(TENANT_HEADER)
            if chosen:
                try:
                    act_as(request.user, chosen.strip())
                except NoMembershipThere as error:
                    raise ValidationError({TENANT_HEADER: [
                        _("You hold no membership at tenant “%(slug)s” (header %(header)s): name one of your "
                          "tenants, or leave the header out to act with your default membership.")
                        % {"slug": error.slug[:100], "header": TENANT_HEADER}]}) from None
        allowed = is_allowed(request.user, access, request.method)
        if not allowed:
            audit_denial(request, view)
        return allowed

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        access = access_of(view, request.method)
        membership = membership_of(request.user)
        scoped = access.tenant_lookup is not None or access.dedicated_lookup is not None
        if not scoped or membership is None or not membership.is_tenant_scoped:
            return True
        model = type(obj)
        return scope_queryset(model.objects.filter(pk=obj.pk), request.user, access).exists()


class TenantScopedQuerysetMixin:
    """For DRF views and Django class-based views: every queryset goes through ``scope_queryset``."""

    access: Access

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()  # type: ignore[misc]
        access = access_of(self, self.request.method)  # type: ignore[attr-defined]
        return scope_queryset(queryset, self.request.user, access)  # type: ignore[attr-defined]


class PortalAccessMixin(TenantScopedQuerysetMixin):
    """Portal pages: anonymous users go to the login page; a role without access gets 403."""

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        from django.contrib.auth.views import redirect_to_login

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        use_session_choice(request)
        if not is_allowed(request.user, access_of(self, request.method), request.method):
            audit_denial(request, self)
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
