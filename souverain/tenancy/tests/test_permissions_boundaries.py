"""The permission layer's remaining edges, found by mutation testing (docs/development/mutation-testing.md).

Private clouds (``Access.dedicated_lookup``, ``sees_dedicated``): a tenant user sees public clouds and those
dedicated to their own tenant, never another customer's, and a cloud dedicated to several tenants is still one
row; operators see every cloud; a user without membership sees none. Refusals to an authenticated user are
security events naming who, what and where (``audit_denial``); an anonymous refusal is not. Once DRF has
authenticated the request, changes are attributed to that user (``rebind_user``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View
from rest_framework.test import APIRequestFactory

from souverain.core import events
from souverain.core.context import acting_as, current_actor
from souverain.core.roles import Role
from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.tenancy.models import Membership, Tenant
from souverain.tenancy.permissions import (
    CLOUD_ACCESS,
    CLOUD_PART_ACCESS,
    OPERATOR_ONLY,
    Access,
    PortalAccessMixin,
    RolePermission,
    is_allowed,
    membership_of,
    scope_queryset,
    sees_dedicated,
    tenant_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def clouds(tenants: dict[str, Tenant]) -> dict[str, Cloud]:
    """public; dedicated to the home tenant; to the foreign tenant; shared by both; each with one region."""
    operator = LegalEntity.objects.create(slug="op", name="Operator", country="FR")
    made = {}
    for slug, dedicated in (("public", []), ("home-private", ["home"]), ("foreign-vm-private", ["foreign"]),
                            ("shared-private", ["home", "foreign"])):
        cloud = Cloud.objects.create(slug=slug, name=slug, kind="openstack", operator=operator)
        cloud.dedicated_to.add(*(tenants[key] for key in dedicated))
        Region.objects.create(cloud=cloud, slug="r1", name=f"{slug} r1")
        made[slug] = cloud
    return made


@pytest.fixture
def recorded() -> Iterator[list[events.Event]]:
    seen: list[events.Event] = []
    events.add_recorder(seen.append)
    yield seen
    events.remove_recorder(seen.append)


def slugs(queryset: Any) -> list[str]:
    return sorted(queryset.values_list("slug", flat=True))


# --- private clouds ---------------------------------------------------------------------------------------------


def test_a_tenant_user_sees_public_clouds_and_their_own_tenants_private_ones(role_users: dict, clouds: dict) -> None:
    for username in ("tenant-admin", "tenant-member"):
        assert slugs(scope_queryset(Cloud.objects.all(), fresh(role_users[username]), CLOUD_ACCESS)) == [
            "home-private", "public", "shared-private"]
    assert slugs(scope_queryset(Cloud.objects.all(), fresh(role_users["foreign-admin"]), CLOUD_ACCESS)) == [
        "foreign-vm-private", "public", "shared-private"]


def test_a_cloud_dedicated_to_several_tenants_is_one_row(role_users: dict, clouds: dict) -> None:
    rows = scope_queryset(Cloud.objects.all(), fresh(role_users["tenant-admin"]), CLOUD_ACCESS)
    assert rows.count() == 3
    assert [c.slug for c in rows].count("shared-private") == 1


def test_the_parts_of_a_private_cloud_follow_their_cloud(role_users: dict, clouds: dict) -> None:
    rows = scope_queryset(Region.objects.all(), fresh(role_users["tenant-member"]), CLOUD_PART_ACCESS)
    assert sorted(r.cloud.slug for r in rows) == ["home-private", "public", "shared-private"]


def test_operators_and_unbound_auditors_see_every_cloud(role_users: dict, clouds: dict) -> None:
    for username in ("operator-admin", "operator-ops", "auditor"):
        assert len(scope_queryset(Cloud.objects.all(), fresh(role_users[username]), CLOUD_ACCESS)) == 4


def test_a_user_without_membership_sees_no_cloud_at_all(clouds: dict) -> None:
    outsider = get_user_model().objects.create_user(username="outsider", password="pw")
    assert not scope_queryset(Cloud.objects.all(), outsider, CLOUD_ACCESS).exists()
    assert not sees_dedicated(outsider, [])
    assert not sees_dedicated(AnonymousUser(), [])


def test_sees_dedicated_for_code_reading_the_estate_as_plain_data(role_users: dict, tenants: dict) -> None:
    member = fresh(role_users["tenant-member"])  # of "ministere"
    assert sees_dedicated(member, [])  # public
    assert sees_dedicated(member, ["ministere"])
    assert sees_dedicated(member, ["other-corp", "ministere"])
    assert not sees_dedicated(member, ["other-corp"])
    for username in ("operator-admin", "operator-ops", "auditor"):
        assert sees_dedicated(fresh(role_users[username]), ["other-corp"])


def test_an_auditor_bound_to_a_tenant_sees_that_tenants_private_clouds_only(tenants: dict, clouds: dict) -> None:
    auditor = get_user_model().objects.create_user(username="bound", password="pw")
    Membership.objects.create(user=auditor, role=Role.AUDITOR, tenant=tenants["foreign"])
    auditor = fresh(auditor)
    assert tenant_of(auditor) == tenants["foreign"]
    assert not sees_dedicated(auditor, ["ministere"])
    assert sees_dedicated(auditor, ["other-corp"])
    assert "home-private" not in slugs(scope_queryset(Cloud.objects.all(), auditor, CLOUD_ACCESS))


def test_object_permission_refuses_another_customers_private_cloud(role_users: dict, clouds: dict) -> None:
    class CloudsView:
        access = CLOUD_ACCESS

    request = APIRequestFactory().get("/")
    request.user = fresh(role_users["tenant-member"])
    permission = RolePermission()
    assert permission.has_object_permission(request, CloudsView(), clouds["public"])
    assert permission.has_object_permission(request, CloudsView(), clouds["home-private"])
    assert not permission.has_object_permission(request, CloudsView(), clouds["foreign-vm-private"])
    request.user = fresh(role_users["operator-ops"])
    assert permission.has_object_permission(request, CloudsView(), clouds["foreign-vm-private"])


# --- reads, writes and roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "allowed"), [("GET", True), ("HEAD", True), ("OPTIONS", True), ("POST", False),
                                                 ("PUT", False), ("PATCH", False), ("DELETE", False)])
def test_only_safe_methods_are_reads(role_users: dict, method: str, allowed: bool) -> None:
    access = Access(read=frozenset({Role.TENANT_MEMBER}))
    assert is_allowed(fresh(role_users["tenant-member"]), access, method) is allowed


def test_a_write_needs_a_role_in_the_write_set_even_if_it_may_read(role_users: dict) -> None:
    access = Access(read=frozenset({Role.OPERATOR_OPS}), write=frozenset({Role.OPERATOR_ADMIN}))
    assert not is_allowed(fresh(role_users["operator-ops"]), access, "POST")
    assert is_allowed(fresh(role_users["operator-admin"]), access, "POST")
    assert not is_allowed(fresh(role_users["operator-admin"]), access, "GET")


# --- denials are security events; changes name the real user --------------------------------------------------


class Forbidden:
    access = OPERATOR_ONLY


def test_a_refusal_to_an_authenticated_user_is_recorded_with_who_what_and_where(role_users: dict,
                                                                                 recorded: list) -> None:
    request = APIRequestFactory().post("/api/x/" + "p" * 600)
    request.user = fresh(role_users["tenant-admin"])
    assert not RolePermission().has_permission(request, Forbidden())
    [event] = recorded
    assert event.action == "access.denied"
    assert event.username == "tenant-admin"
    assert event.data == {"method": "POST", "path": ("/api/x/" + "p" * 600)[:500], "view": "Forbidden",
                          "role": "tenant-admin"}


def test_an_allowed_request_and_an_anonymous_refusal_are_not_security_events(role_users: dict,
                                                                             recorded: list) -> None:
    request = APIRequestFactory().get("/api/x/")
    request.user = fresh(role_users["operator-ops"])
    assert RolePermission().has_permission(request, Forbidden())
    request.user = AnonymousUser()
    assert not RolePermission().has_permission(request, Forbidden())
    assert recorded == []


def test_once_authenticated_the_request_acts_as_its_user(role_users: dict) -> None:
    request = APIRequestFactory().get("/api/x/")
    request.user = fresh(role_users["auditor"])
    with acting_as("anonymous", "api"):
        RolePermission().has_permission(request, Forbidden())
        assert current_actor().username == "auditor"
    request.user = AnonymousUser()
    with acting_as("anonymous", "api"):
        RolePermission().has_permission(request, Forbidden())
        assert current_actor().username == "anonymous"


class Page(PortalAccessMixin, View):
    access = OPERATOR_ONLY

    def get(self, request: Any) -> HttpResponse:
        return HttpResponse("the page")


def test_a_portal_refusal_is_recorded_too(role_users: dict, recorded: list) -> None:
    request = RequestFactory().get("/portal/page/")
    request.user = fresh(role_users["tenant-member"])
    with pytest.raises(PermissionDenied):
        Page.as_view()(request)
    [event] = recorded
    assert (event.action, event.username, event.data["view"], event.data["path"]) == (
        "access.denied", "tenant-member", "Page", "/portal/page/")


class Echo(PortalAccessMixin, View):
    access = OPERATOR_ONLY

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(f"{args} {kwargs}")


def test_a_portal_page_receives_the_urls_arguments(role_users: dict) -> None:
    request = RequestFactory().get("/portal/echo/")
    request.user = fresh(role_users["operator-ops"])
    assert Echo.as_view()(request, "fr", cloud="nimbus").content == b"('fr',) {'cloud': 'nimbus'}"


def test_the_superusers_fallback_membership_is_theirs(db: None) -> None:
    root = get_user_model().objects.create_superuser(username="root", password="pw")
    membership = membership_of(root)
    assert membership.user == root
    assert membership.role == Role.OPERATOR_ADMIN and membership.tenant_id is None
