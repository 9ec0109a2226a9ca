"""The organisation tree through the API: a 4-level tree where the tenant admin of level 2 manages levels 3-4
but never sees its sibling, its parent or its parent's other children; moves and deletes audited and refused as
the tree's rules say, each refusal a 400/409 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from souverain.audit.models import AuditRecord
from souverain.core.roles import Role
from souverain.tenancy.models import Membership, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def as_user(username: str, role: str, tenant: Tenant | None) -> APIClient:
    user = get_user_model().objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, role=role, tenant=tenant)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def org() -> dict[str, Tenant]:
    """ministry (1) → directorate (2) → project (3) → team (4); the ministry's other directorate (sibling), and a
    project below it (the parent's other children's subtree)."""
    ministry = Tenant.objects.create(slug="ministry", name="Ministry")
    directorate = Tenant.objects.create(slug="directorate", name="Directorate", parent=ministry)
    project = Tenant.objects.create(slug="project", name="Project", parent=directorate)
    team = Tenant.objects.create(slug="team", name="Team", parent=project)
    sibling = Tenant.objects.create(slug="sibling", name="Sibling directorate", parent=ministry)
    cousin = Tenant.objects.create(slug="cousin", name="Cousin project", parent=sibling)
    return {t.slug: t for t in (ministry, directorate, project, team, sibling, cousin)}


@pytest.fixture
def level2_admin(org: dict[str, Tenant]) -> APIClient:
    return as_user("dir-admin", Role.TENANT_ADMIN, org["directorate"])


def slugs(response: Any) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["slug"] for row in rows}


def test_a_level_2_admin_sees_its_subtree_only(org, level2_admin):
    assert slugs(level2_admin.get("/api/tenants/")) == {"directorate", "project", "team"}
    for hidden in ("ministry", "sibling", "cousin"):
        assert level2_admin.get(f"/api/tenants/{hidden}/").status_code == 404
    tree = level2_admin.get("/api/tenants/tree/").json()
    assert [root["slug"] for root in tree] == ["directorate"]
    assert tree[0]["children"][0]["slug"] == "project"
    assert tree[0]["children"][0]["children"][0]["slug"] == "team"


def test_a_level_2_admin_manages_levels_3_and_4(org, level2_admin):
    created = level2_admin.post("/api/tenants/", {"slug": "team-b", "name": "Team B", "parent": "project"},
                                format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["depth"] == 4
    assert level2_admin.patch("/api/tenants/team/", {"name": "Team A"}, format="json").status_code == 200
    member = level2_admin.post("/api/memberships/", {"username": "alice", "role": "tenant-member",
                                                    "tenant": "team", "password": "a long pass phrase 42"},
                               format="json")
    assert member.status_code == 201, member.json()
    changed = level2_admin.patch(f"/api/memberships/{member.json()['id']}/", {"role": "tenant-admin"},
                                 format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "tenant-admin"
    moved = level2_admin.post("/api/tenants/team-b/move/", {"parent": "directorate"}, format="json")
    assert moved.status_code == 200 and moved.json()["parent"] == "directorate" and moved.json()["depth"] == 3


def test_a_level_2_admin_cannot_reach_above_or_beside(org, level2_admin):
    # Its sibling's subtree, its parent, its own node: not found (outside) or refused (its own).
    refused = level2_admin.post("/api/tenants/", {"slug": "x", "name": "X", "parent": "sibling"}, format="json")
    assert refused.status_code == 400 and "parent" in refused.json()
    assert level2_admin.post("/api/tenants/", {"slug": "x", "name": "X"}, format="json").status_code == 400
    assert level2_admin.patch("/api/tenants/directorate/", {"name": "Mine"}, format="json").status_code == 403
    assert level2_admin.patch("/api/tenants/cousin/", {"name": "Theirs"}, format="json").status_code == 404
    assert level2_admin.post("/api/tenants/project/move/", {"parent": "ministry"}, format="json").status_code == 400
    granted = level2_admin.post("/api/memberships/", {"username": "bob", "role": "tenant-admin", "tenant": "cousin"},
                                format="json")
    assert granted.status_code == 400 and "tenant" in granted.json()
    operator = level2_admin.post("/api/memberships/", {"username": "eve", "role": "operator-admin", "tenant": None},
                                 format="json")
    assert operator.status_code == 400 and "role" in operator.json()
    assert not get_user_model().objects.filter(username__in=["bob", "eve"]).exists()


def test_depth_and_cycles_are_refused_naming_parent(org):
    operator = as_user("op", Role.OPERATOR_ADMIN, None)
    Tenant.objects.create(slug="level5", name="Level 5", parent=org["team"])
    too_deep = operator.post("/api/tenants/", {"slug": "level6", "name": "L6", "parent": "level5"}, format="json")
    assert too_deep.status_code == 400 and "levels deep" in str(too_deep.json()["parent"])
    Tenant.objects.filter(slug="ministry").update(category="public_body")
    child = operator.post("/api/tenants/", {"slug": "agency", "name": "Agency", "parent": "ministry"}, format="json")
    assert child.status_code == 201 and child.json()["category"] == "public_body"  # the parent's, by default
    cycle = operator.post("/api/tenants/directorate/move/", {"parent": "team"}, format="json")
    assert cycle.status_code == 400 and "parent" in cycle.json()
    patched = operator.patch("/api/tenants/directorate/", {"parent": "project"}, format="json")
    assert patched.status_code == 400 and "parent" in patched.json()
    org["directorate"].refresh_from_db()
    assert org["directorate"].parent_id == org["ministry"].pk


def test_moves_and_deletes_are_audited_and_deletes_refused_while_in_use(org):
    operator = as_user("op", Role.OPERATOR_ADMIN, None)
    moved = operator.patch("/api/tenants/project/", {"parent": "sibling"}, format="json")
    assert moved.status_code == 200, moved.json()
    org["team"].refresh_from_db()
    assert org["team"].path == f"/{org['ministry'].pk}/{org['sibling'].pk}/{org['project'].pk}/{org['team'].pk}/"
    move = AuditRecord.objects.filter(action="tenancy.move", object_repr="project").get()
    assert json.loads(move.data) == {"from": "directorate", "to": "sibling"}
    refused = operator.delete("/api/tenants/project/")
    assert refused.status_code == 409 and "tenants" in refused.json()["referenced_by"]
    assert operator.delete("/api/tenants/team/").status_code == 204
    assert AuditRecord.objects.filter(action="tenancy.delete", object_repr="team").exists()
