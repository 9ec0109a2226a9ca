"""Several memberships per user, one active at a time (Keystone's project-scoped tokens: tenancy/models.py).

A user who is tenant admin of node A and member of node B: acting as A, they administer A's subtree and see
nothing of B's; switched to B (portal switcher, audited; or the API's ``X-Souverain-Tenant`` header) they have
member rights in B only; naming a tenant where they hold no membership is a 400 that says so. Memberships are
managed per tenant (API and the node page), one per (user, tenant), at most one without a tenant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from souverain.audit.models import AuditRecord
from souverain.core.roles import Role
from souverain.tenancy.models import Membership, Tenant
from souverain.tenancy.permissions import SESSION_KEY, membership_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def org() -> dict[str, Tenant]:
    """root → a → a-project; root → b → b-project; other (a root the dual user does not belong to)."""
    root = Tenant.objects.create(slug="root", name="Root")
    a = Tenant.objects.create(slug="a", name="Node A", parent=root)
    a_project = Tenant.objects.create(slug="a-project", name="A project", parent=a)
    b = Tenant.objects.create(slug="b", name="Node B", parent=root)
    b_project = Tenant.objects.create(slug="b-project", name="B project", parent=b)
    other = Tenant.objects.create(slug="other", name="Other")
    return {t.slug: t for t in (root, a, a_project, b, b_project, other)}


@pytest.fixture
def dual(org: dict[str, Tenant]) -> Any:
    """Tenant admin in A (the older membership: the default), member in B."""
    user = get_user_model().objects.create_user(username="dual", password="pw")
    Membership.objects.create(user=user, role=Role.TENANT_ADMIN, tenant=org["a"])
    Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=org["b"])
    return user


def api(user: Any, tenant: str | None = None) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))  # a fresh object: nothing cached
    if tenant is not None:
        client.credentials(HTTP_X_SOUVERAIN_TENANT=tenant)
    return client


def main(page: str) -> str:
    """The page without its header (where the switcher names every membership)."""
    return page.split('<main id="content">', 1)[1]


def slugs(response: Any) -> set[str]:
    body = response.json()
    return {row["slug"] for row in (body["results"] if isinstance(body, dict) else body)}


def test_the_default_membership_is_the_oldest_and_me_lists_them_all(dual, org):
    me = api(dual).get("/api/users/me/").json()
    assert (me["role"], me["tenant"]) == ("tenant-admin", "a")
    assert [(m["tenant"], m["role"], m["active"]) for m in me["memberships"]] == [
        ("a", "tenant-admin", True), ("b", "tenant-member", False)]
    fresh = get_user_model().objects.get(pk=dual.pk)
    assert membership_of(fresh).tenant_id == org["a"].pk


def test_acting_as_a_administers_a_subtree_not_b(dual, org):
    client = api(dual)
    assert slugs(client.get("/api/tenants/")) == {"a", "a-project"}
    created = client.post("/api/tenants/", {"slug": "a-team", "name": "A team", "parent": "a-project"},
                          format="json")
    assert created.status_code == 201, created.content
    assert client.patch("/api/tenants/a-project/", {"name": "A project 2"}, format="json").status_code == 200
    # B's subtree does not exist for A's admin: not readable, not a parent, not writable.
    assert client.get("/api/tenants/b-project/").status_code == 404
    refused = client.post("/api/tenants/", {"slug": "b-team", "name": "B team", "parent": "b"}, format="json")
    assert refused.status_code == 400 and "parent" in refused.json()
    assert client.patch("/api/tenants/b-project/", {"name": "x"}, format="json").status_code == 404
    assert not Tenant.objects.filter(slug="b-team").exists()
    assert Tenant.objects.get(slug="b-project").name == "B project"


def test_the_header_chooses_b_with_member_rights_in_b_only(dual, org):
    client = api(dual, tenant="b")
    me = client.get("/api/users/me/").json()
    assert (me["role"], me["tenant"]) == ("tenant-member", "b")
    assert [m["tenant"] for m in me["memberships"] if m["active"]] == ["b"]
    assert slugs(client.get("/api/tenants/")) == {"b", "b-project"}
    assert client.get("/api/tenants/a-project/").status_code == 404
    # A member writes nothing, in B or (unseen) in A.
    assert client.post("/api/tenants/", {"slug": "b-team", "name": "B team", "parent": "b"},
                       format="json").status_code == 403
    assert client.patch("/api/tenants/b-project/", {"name": "x"}, format="json").status_code == 403
    assert client.get("/api/memberships/").status_code == 403  # a member does not manage memberships
    assert not Tenant.objects.filter(slug="b-team").exists()


@pytest.mark.parametrize("named", ["other", "root", "a-project", "no-such-tenant"])
def test_a_header_naming_a_tenant_without_membership_is_a_400_that_says_so(dual, org, named):
    response = api(dual, tenant=named).get("/api/tenants/")
    assert response.status_code == 400
    message = json.dumps(response.json())
    assert "X-Souverain-Tenant" in message and named in message and "no membership" in message


def test_the_unbound_membership_is_named_by_a_dash(org):
    user = get_user_model().objects.create_user(username="both", password="pw")
    Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=org["b"])
    Membership.objects.create(user=user, role=Role.OPERATOR_OPS, tenant=None)
    assert slugs(api(user).get("/api/tenants/")) == {"b", "b-project"}
    assert len(slugs(api(user, tenant="-").get("/api/tenants/"))) == 6
    assert api(user, tenant="-").get("/api/users/me/").json()["role"] == "operator-ops"


def test_the_portal_switcher_changes_the_active_membership_and_is_audited(dual, org):
    client = Client()
    client.force_login(dual)
    page = client.get("/tenants/").content.decode()
    assert 'action="/act-as/"' in page  # the switcher (header) names both; the tree (main) A's subtree only
    assert "Node A" in main(page) and "Node B" not in main(page)
    b_membership = Membership.objects.get(user=dual, tenant=org["b"])
    switched = client.post("/act-as/", {"membership": b_membership.pk})
    assert switched.status_code == 302 and client.session[SESSION_KEY] == b_membership.pk
    record = AuditRecord.objects.filter(action="tenancy.act_as").latest("seq")
    assert record.username == "dual" and record.object_id == str(b_membership.pk)
    assert json.loads(record.data) == {"from": {"role": "tenant-admin", "tenant": "a"},
                                       "to": {"role": "tenant-member", "tenant": "b"}}
    page = client.get("/tenants/").content.decode()
    assert "Node B" in main(page) and "Node A" not in main(page)
    assert client.get("/tenants/a-project/").status_code == 404
    # Member rights in B: no delegated administration there.
    assert client.post("/tenants/b/", {"action": "create-child", "slug": "x", "name": "X"}).status_code == 403
    # The session's choice holds for the API called from the portal (session authentication) too.
    assert client.get("/api/users/me/").json()["tenant"] == "b"
    # Someone else's membership cannot be chosen, nor can a GET switch.
    stranger = get_user_model().objects.create_user(username="stranger")
    theirs = Membership.objects.create(user=stranger, role=Role.TENANT_ADMIN, tenant=org["other"])
    assert client.post("/act-as/", {"membership": theirs.pk}).status_code == 404
    assert client.get("/act-as/").status_code == 405
    assert client.session[SESSION_KEY] == b_membership.pk
    # A removed membership falls back to the default (A) instead of failing.
    b_membership.delete()
    assert "Node A" in main(client.get("/tenants/").content.decode())
    assert SESSION_KEY not in client.session


def test_a_user_with_one_membership_sees_no_switcher(org):
    user = get_user_model().objects.create_user(username="single")
    Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=org["a"])
    client = Client()
    client.force_login(user)
    assert 'action="/act-as/"' not in client.get("/tenants/").content.decode()


def test_memberships_are_one_per_tenant_and_granted_within_the_subtree(dual, org):
    operator = get_user_model().objects.create_user(username="op")
    Membership.objects.create(user=operator, role=Role.OPERATOR_ADMIN)
    client = api(operator)
    added = client.post("/api/memberships/", {"username": "dual", "role": "tenant-member", "tenant": "other"},
                        format="json")
    assert added.status_code == 201, added.content
    listed = client.get("/api/memberships/?username=dual").json()["results"]
    assert sorted(row["tenant"] for row in listed) == ["a", "b", "other"]
    again = client.post("/api/memberships/", {"username": "dual", "role": "tenant-admin", "tenant": "b"},
                        format="json")
    assert again.status_code == 400 and "already has a membership at tenant" in json.dumps(again.json())
    unbound = client.post("/api/memberships/", {"username": "op", "role": "auditor"}, format="json")
    assert unbound.status_code == 400 and "without a tenant" in json.dumps(unbound.json())
    removed = client.delete(f"/api/memberships/{listed[-1]['id']}/")
    assert removed.status_code == 204 and Membership.objects.filter(user=dual).count() == 2
    # A's tenant admin grants within A's subtree only, to an existing user too.
    admin = api(dual)
    granted = admin.post("/api/memberships/", {"username": "op", "role": "tenant-member", "tenant": "a-project"},
                         format="json")
    assert granted.status_code == 201, granted.content
    outside = admin.post("/api/memberships/", {"username": "newbie", "role": "tenant-member", "tenant": "b"},
                         format="json")
    assert outside.status_code == 400 and "tenant" in outside.json()
    assert not get_user_model().objects.filter(username="newbie").exists()
    # Acting as B (member), the same user grants nothing.
    assert api(dual, tenant="b").post("/api/memberships/", {"username": "x", "role": "tenant-member",
                                                             "tenant": "b"}, format="json").status_code == 403


def test_the_node_page_lists_other_memberships_and_removes_one(dual, org):
    operator = get_user_model().objects.create_user(username="op")
    Membership.objects.create(user=operator, role=Role.OPERATOR_ADMIN)
    client = Client()
    client.force_login(operator)
    page = client.get("/tenants/a/").content.decode()
    assert "Other memberships" in page and 'href="/tenants/b/"' in page  # dual's membership in B
    added = client.post("/tenants/other/", {"action": "add-member", "username": "dual", "role": "tenant-admin"})
    assert added.status_code == 302 and Membership.objects.filter(user=dual).count() == 3
    held = Membership.objects.get(user=dual, tenant=org["other"])
    removed = client.post("/tenants/other/", {"action": "remove-member", "membership": held.pk})
    assert removed.status_code == 302
    assert sorted(Membership.objects.filter(user=dual).values_list("tenant__slug", flat=True)) == ["a", "b"]
    assert AuditRecord.objects.filter(object_type="tenancy.membership", object_id=str(held.pk),
                                      action="object.delete").exists()
    # A tenant admin may not remove their own membership from the page.
    own = Membership.objects.get(user=dual, tenant=org["a"])
    admin = Client()
    admin.force_login(dual)
    assert admin.post("/tenants/a/", {"action": "remove-member", "membership": own.pk}).status_code == 400
    assert Membership.objects.filter(pk=own.pk).exists()
