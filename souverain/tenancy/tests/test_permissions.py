"""The permission layer on its own (``tenancy/permissions.py``), below any view: who has which role, what a role
may read or write, and which rows a queryset keeps for whom.

The route walker (``core/tests/test_route_permissions.py``) checks every route through HTTP; these tests pin
the rules it relies on, case by case, so that a change in the layer fails here with a name that says which:
no membership → nothing at all; a tenant user → only their tenant's rows; operators and unbound auditors →
every row; a superuser without a membership → operator-admin; an auditor bound to a tenant → that tenant.

Tenant-owned rows here are the tenancy app's own: ``Membership`` (owned through ``tenant``) and ``Tenant``
itself (``pk``), so the layer is tested without any other app.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View
from django.views.generic import ListView
from rest_framework.test import APIRequestFactory

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, TENANT_ROLES, Role
from souverain.tenancy.models import Membership, Tenant
from souverain.tenancy.permissions import (
    AUTHENTICATED_READ_ONLY,
    ESTATE_ACCESS,
    OPERATOR_ONLY,
    Access,
    PortalAccessMixin,
    RolePermission,
    TenantScopedQuerysetMixin,
    access_of,
    is_allowed,
    membership_of,
    role_of,
    scope_queryset,
    tenant_of,
)

pytestmark = pytest.mark.django_db

MEMBERSHIPS_BY_TENANT = Access(read=ALL_ROLES, write=frozenset({Role.TENANT_ADMIN}), tenant_lookup="tenant")
TENANTS_BY_PK = Access(read=ALL_ROLES, tenant_lookup="pk")
READS = ("GET", "HEAD", "OPTIONS")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Six users a test: the real hasher's cost (by design) would dominate the run and is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fresh(user: Any) -> Any:
    """The same user as a new request would load it: without the membership cached on the object."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def outsider(db: None) -> Any:
    """Authenticated, but with no membership: a user created by hand or whose membership was removed."""
    return get_user_model().objects.create_user(username="outsider", password="pw-outsider")


@pytest.fixture
def superuser(db: None) -> Any:
    return get_user_model().objects.create_superuser(username="root", password="pw-root")


@pytest.fixture
def bound_auditor(tenants: dict[str, Tenant]) -> Any:
    user = get_user_model().objects.create_user(username="bound-auditor", password="pw")
    Membership.objects.create(user=user, role=Role.AUDITOR, tenant=tenants["home"])
    return user


def membership_tenants(queryset: Any) -> set[str | None]:
    return {m.tenant.slug if m.tenant_id else None for m in queryset.select_related("tenant")}


# --- who is who -----------------------------------------------------------------------------------------------


def test_anonymous_and_missing_users_have_no_membership() -> None:
    assert membership_of(None) is None
    assert membership_of(AnonymousUser()) is None
    assert role_of(AnonymousUser()) is None and tenant_of(AnonymousUser()) is None


def test_a_user_without_membership_has_no_role_and_no_tenant(outsider: Any) -> None:
    assert membership_of(outsider) is None
    assert role_of(outsider) is None
    assert tenant_of(outsider) is None


def test_each_role_and_tenant_comes_from_the_membership(role_users: dict[str, Any], tenants: dict) -> None:
    for role in Role:
        assert role_of(fresh(role_users[str(role)])) == role
    assert tenant_of(fresh(role_users["tenant-admin"])) == tenants["home"]
    assert tenant_of(fresh(role_users["foreign-admin"])) == tenants["foreign"]
    assert tenant_of(fresh(role_users["operator-admin"])) is None
    assert tenant_of(fresh(role_users["auditor"])) is None


def test_a_superuser_without_membership_acts_as_operator_admin_with_no_tenant(superuser: Any) -> None:
    membership = membership_of(superuser)
    assert membership is not None and membership.role == Role.OPERATOR_ADMIN
    assert not membership.is_tenant_scoped
    assert tenant_of(superuser) is None
    assert not Membership.objects.filter(user=superuser).exists()  # a fallback, never written


def test_a_superuser_with_a_membership_gets_that_membership_not_the_fallback(superuser: Any, tenants: dict) -> None:
    Membership.objects.create(user=superuser, role=Role.TENANT_MEMBER, tenant=tenants["home"])
    assert role_of(fresh(superuser)) == Role.TENANT_MEMBER
    assert tenant_of(fresh(superuser)) == tenants["home"]


def test_the_membership_is_read_once_per_user_object(role_users: dict[str, Any],
                                                    django_assert_num_queries: Any) -> None:
    user = fresh(role_users["tenant-member"])
    with django_assert_num_queries(1):
        membership_of(user)
        role_of(user)
        tenant_of(user)


def test_only_tenant_users_and_bound_auditors_are_tenant_scoped(role_users: dict, bound_auditor: Any) -> None:
    scoped = {name for name, user in role_users.items() if membership_of(fresh(user)).is_tenant_scoped}
    assert scoped == {"tenant-admin", "tenant-member", "foreign-admin"}
    assert membership_of(bound_auditor).is_tenant_scoped


# --- what a role may do ---------------------------------------------------------------------------------------


def test_no_membership_is_allowed_nothing_even_on_an_open_access(outsider: Any) -> None:
    everything = Access(read=ALL_ROLES, write=ALL_ROLES)
    for method in READS + WRITES:
        assert not is_allowed(outsider, everything, method)
        assert not is_allowed(AnonymousUser(), everything, method)


@pytest.mark.parametrize("role", list(Role))
def test_reads_follow_the_read_set_and_writes_the_write_set(role_users: dict[str, Any], role: Role) -> None:
    user = role_users[str(role)]
    for method in READS:
        assert is_allowed(user, ESTATE_ACCESS, method)
        assert is_allowed(user, OPERATOR_ONLY, method) is (role in OPERATOR_ROLES | {Role.AUDITOR})
        assert is_allowed(user, Access(write=ALL_ROLES), method) is False  # writing is not reading
    for method in WRITES:
        assert is_allowed(user, ESTATE_ACCESS, method) is (role == Role.OPERATOR_ADMIN)
        assert is_allowed(user, AUTHENTICATED_READ_ONLY, method) is False
        assert is_allowed(user, Access(read=ALL_ROLES), method) is False  # reading is not writing
        assert is_allowed(user, MEMBERSHIPS_BY_TENANT, method) is (role == Role.TENANT_ADMIN)


def test_the_superuser_fallback_may_do_what_operator_admin_may(superuser: Any) -> None:
    assert is_allowed(superuser, ESTATE_ACCESS, "DELETE")
    assert is_allowed(superuser, OPERATOR_ONLY, "POST")
    assert not is_allowed(superuser, Access(read=TENANT_ROLES, write=TENANT_ROLES), "GET")


# --- which rows a queryset keeps ------------------------------------------------------------------------------


def test_a_user_without_membership_gets_no_rows_even_of_objects_no_tenant_owns(outsider: Any,
                                                                              role_users: dict) -> None:
    assert list(scope_queryset(Membership.objects.all(), outsider, MEMBERSHIPS_BY_TENANT)) == []
    assert list(scope_queryset(Tenant.objects.all(), outsider, AUTHENTICATED_READ_ONLY)) == []
    assert list(scope_queryset(Tenant.objects.all(), AnonymousUser(), ESTATE_ACCESS)) == []


@pytest.mark.parametrize("username", ["tenant-admin", "tenant-member"])
def test_a_tenant_user_gets_only_their_tenants_rows(role_users: dict[str, Any], username: str) -> None:
    user = fresh(role_users[username])
    assert membership_tenants(scope_queryset(Membership.objects.all(), user, MEMBERSHIPS_BY_TENANT)) == {"ministere"}
    assert [t.slug for t in scope_queryset(Tenant.objects.all(), user, TENANTS_BY_PK)] == ["ministere"]


def test_the_foreign_tenant_user_gets_only_the_foreign_rows(role_users: dict[str, Any]) -> None:
    user = fresh(role_users["foreign-admin"])
    rows = scope_queryset(Membership.objects.all(), user, MEMBERSHIPS_BY_TENANT)
    assert [m.user.username for m in rows] == ["foreign-admin"]


def test_objects_no_tenant_owns_are_not_filtered_for_tenant_users(role_users: dict[str, Any]) -> None:
    user = fresh(role_users["tenant-member"])
    assert scope_queryset(Tenant.objects.all(), user, ESTATE_ACCESS).count() == Tenant.objects.count() == 2


@pytest.mark.parametrize("username", ["operator-admin", "operator-ops", "auditor"])
def test_operator_roles_and_unbound_auditors_get_every_row(role_users: dict[str, Any], username: str) -> None:
    rows = scope_queryset(Membership.objects.all(), fresh(role_users[username]), MEMBERSHIPS_BY_TENANT)
    assert membership_tenants(rows) == {None, "ministere", "other-corp"}
    assert rows.count() == Membership.objects.count()


def test_the_superuser_fallback_gets_every_row(superuser: Any, role_users: dict) -> None:
    assert scope_queryset(Membership.objects.all(), superuser, MEMBERSHIPS_BY_TENANT).count() == 6


def test_an_auditor_bound_to_a_tenant_gets_that_tenants_rows_only(bound_auditor: Any, role_users: dict) -> None:
    rows = scope_queryset(Membership.objects.all(), bound_auditor, MEMBERSHIPS_BY_TENANT)
    assert membership_tenants(rows) == {"ministere"}


def test_scoping_keeps_the_callers_own_filters(role_users: dict[str, Any]) -> None:
    user = fresh(role_users["tenant-admin"])
    rows = scope_queryset(Membership.objects.filter(role=Role.TENANT_MEMBER), user, MEMBERSHIPS_BY_TENANT)
    assert [m.user.username for m in rows] == ["tenant-member"]


# --- the DRF permission and the view mixins -------------------------------------------------------------------


class MembershipsView:
    """The minimum DRF asks of a view: an access policy (and, per action, an override)."""

    access = MEMBERSHIPS_BY_TENANT
    action_access = {"destroy": OPERATOR_ONLY}

    def __init__(self, action: str | None = None) -> None:
        self.action = action


def drf_request(method: str, user: Any) -> Any:
    request = getattr(APIRequestFactory(), method.lower())("/")
    request.user = user
    request.method = method
    return request


def test_a_view_without_an_access_policy_is_refused_by_name() -> None:
    class Forgotten:
        pass

    with pytest.raises(ImproperlyConfigured, match="Forgotten declares no Access policy"):
        access_of(Forgotten(), "GET")
    with pytest.raises(ImproperlyConfigured):
        RolePermission().has_permission(drf_request("GET", AnonymousUser()), Forgotten())


def test_an_action_may_declare_its_own_access() -> None:
    assert access_of(MembershipsView("list"), "GET") is MEMBERSHIPS_BY_TENANT
    assert access_of(MembershipsView("destroy"), "DELETE") is OPERATOR_ONLY
    assert access_of(MembershipsView(None), "GET") is MEMBERSHIPS_BY_TENANT


def test_role_permission_applies_the_actions_access(role_users: dict[str, Any]) -> None:
    permission = RolePermission()
    tenant_admin = fresh(role_users["tenant-admin"])
    assert permission.has_permission(drf_request("DELETE", tenant_admin), MembershipsView("update"))
    assert not permission.has_permission(drf_request("DELETE", tenant_admin), MembershipsView("destroy"))
    assert permission.has_permission(drf_request("DELETE", fresh(role_users["operator-admin"])),
                                     MembershipsView("destroy"))


def test_role_permission_tells_a_read_from_a_write_by_the_requests_method(role_users: dict[str, Any]) -> None:
    member = fresh(role_users["tenant-member"])  # reads memberships, may not write them
    assert RolePermission().has_permission(drf_request("GET", member), MembershipsView("list"))
    assert not RolePermission().has_permission(drf_request("POST", member), MembershipsView("list"))


def test_object_permission_refuses_another_tenants_object_to_a_tenant_user(role_users: dict[str, Any]) -> None:
    permission = RolePermission()
    own = Membership.objects.get(user=role_users["tenant-member"])
    foreign = Membership.objects.get(user=role_users["foreign-admin"])
    operator_row = Membership.objects.get(user=role_users["operator-ops"])
    request = drf_request("GET", fresh(role_users["tenant-admin"]))
    assert permission.has_object_permission(request, MembershipsView("retrieve"), own)
    assert not permission.has_object_permission(request, MembershipsView("retrieve"), foreign)
    assert not permission.has_object_permission(request, MembershipsView("retrieve"), operator_row)
    for username in ("operator-admin", "operator-ops", "auditor"):
        assert permission.has_object_permission(drf_request("GET", fresh(role_users[username])),
                                                MembershipsView("retrieve"), foreign)


def test_object_permission_does_not_filter_objects_no_tenant_owns(role_users: dict[str, Any], tenants: dict) -> None:
    class TenantsView:
        access = ESTATE_ACCESS

    request = drf_request("GET", fresh(role_users["tenant-member"]))
    assert RolePermission().has_object_permission(request, TenantsView(), tenants["foreign"])


class MembershipList(TenantScopedQuerysetMixin, ListView):
    model = Membership
    access = MEMBERSHIPS_BY_TENANT


class Page(PortalAccessMixin, View):
    access = OPERATOR_ONLY

    def get(self, request: Any) -> HttpResponse:
        return HttpResponse("the page")


def test_the_queryset_mixin_scopes_a_class_based_view(role_users: dict[str, Any]) -> None:
    def rows(username: str) -> set[str | None]:
        view = MembershipList()
        view.request = RequestFactory().get("/")
        view.request.user = fresh(role_users[username])
        return membership_tenants(view.get_queryset())

    assert rows("tenant-member") == {"ministere"}
    assert rows("foreign-admin") == {"other-corp"}
    assert rows("operator-ops") == {None, "ministere", "other-corp"}


def test_portal_pages_send_anonymous_users_to_the_login_page_with_next() -> None:
    request = RequestFactory().get("/portal/page/?x=1")
    request.user = AnonymousUser()
    response = Page.as_view()(request)
    assert response.status_code == 302
    assert response["Location"].endswith("?next=/portal/page/%3Fx%3D1")


def test_portal_pages_refuse_a_role_without_access_and_serve_one_with_it(role_users: dict[str, Any],
                                                                         outsider: Any) -> None:
    for user in (role_users["tenant-admin"], outsider):
        request = RequestFactory().get("/portal/page/")
        request.user = fresh(user)
        with pytest.raises(PermissionDenied):
            Page.as_view()(request)
    request = RequestFactory().get("/portal/page/")
    request.user = fresh(role_users["auditor"])
    assert Page.as_view()(request).content == b"the page"
