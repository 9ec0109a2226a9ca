"""The organisation tree's portal pages: the tree a reader may see, a node's page, and delegated administration
through the same serializers as the API (a refusal is the API's, shown on the page with a 400)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from souverain.core.roles import Role
from souverain.tenancy.models import Membership, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(username: str, role: str, tenant: Tenant | None) -> Client:
    user = get_user_model().objects.create_user(username=username, password="pw")
    Membership.objects.create(user=user, role=role, tenant=tenant)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org() -> dict[str, Tenant]:
    ministry = Tenant.objects.create(slug="ministry", name="Ministry")
    directorate = Tenant.objects.create(slug="directorate", name="Directorate", parent=ministry)
    project = Tenant.objects.create(slug="project", name="Project", parent=directorate)
    sibling = Tenant.objects.create(slug="sibling", name="Sibling", parent=ministry)
    return {t.slug: t for t in (ministry, directorate, project, sibling)}


def test_the_tree_shows_the_readers_subtree_with_counts(org):
    reader = login("reader", Role.TENANT_MEMBER, org["directorate"])
    page = reader.get("/tenants/").content.decode()
    assert "Directorate" in page and "Project" in page and "1 member" in page
    assert "Sibling" not in page and "Ministry" not in page
    assert reader.get("/tenants/sibling/").status_code == 404
    node = reader.get("/tenants/project/").content.decode()
    assert "Effective defaults" in node and 'name="action" value="create-child"' not in node
    assert reader.post("/tenants/project/", {"action": "create-child", "slug": "x", "name": "X"}).status_code == 403
    operator = login("op", Role.OPERATOR_ADMIN, None)
    assert "Sibling" in operator.get("/tenants/").content.decode()


def test_delegated_administration_through_the_page(org):
    admin = login("admin", Role.TENANT_ADMIN, org["directorate"])
    created = admin.post("/tenants/project/", {"action": "create-child", "slug": "team", "name": "Team"})
    assert created.status_code == 302 and Tenant.objects.get(slug="team").parent == org["project"]
    added = admin.post("/tenants/team/", {"action": "add-member", "username": "alice", "role": "tenant-member"})
    assert added.status_code == 302
    alice = Membership.objects.get(user__username="alice")
    assert alice.tenant.slug == "team" and not alice.user.has_usable_password()
    changed = admin.post("/tenants/team/", {"action": "set-role", "membership": alice.pk, "role": "tenant-admin"})
    assert changed.status_code == 302
    alice.refresh_from_db()
    assert alice.role == Role.TENANT_ADMIN
    # The API's refusals, on the page: an operator role, a second membership; nothing written.
    refused = admin.post("/tenants/team/", {"action": "add-member", "username": "eve", "role": "operator-admin"})
    assert refused.status_code == 400
    refused = admin.post("/tenants/team/", {"action": "add-member", "username": "alice", "role": "tenant-member"})
    assert refused.status_code == 400 and "already has a membership" in refused.content.decode()
    assert not get_user_model().objects.filter(username="eve").exists()
    # Its own role, and anything of the sibling's: refused / not found.
    own = Membership.objects.get(user__username="admin")
    assert admin.post("/tenants/directorate/", {"action": "set-role", "membership": own.pk,
                                                "role": "tenant-member"}).status_code == 400
    assert admin.post("/tenants/sibling/", {"action": "create-child", "slug": "y", "name": "Y"}).status_code == 404


def test_the_tree_and_node_pages_show_each_nodes_quota_beside_its_subtrees_usage(org):
    from souverain.inventory.tests.factories import make_cloud, make_resource
    from souverain.provisioning.models import Quota

    cloud = make_cloud("qc")
    make_resource(cloud, external_id="s1", tenant=org["project"], flavor={"vcpus": 2, "ram": 2048})
    make_resource(cloud, external_id="s2", tenant=org["directorate"], flavor={"vcpus": 1, "ram": 1024})
    Quota.objects.create(tenant=org["directorate"], vcpu=8, instances=1)
    reader = login("reader", Role.TENANT_ADMIN, org["directorate"])
    tree = reader.get("/tenants/").content.decode()
    # The directorate's usage is its subtree's (3 vCPU of 8; 2 instances over a limit of 1, flagged).
    assert "vCPU 3 / 8" in tree and '<span class="quota bad-text">instances 2 / 1</span>' in tree
    assert "vCPU 2</span>" in tree  # the project: no quota of its own, its usage only
    node = reader.get("/tenants/directorate/").content.decode()
    assert "vCPU 3 / 8" in node and "RAM (MB) 3072" in node
