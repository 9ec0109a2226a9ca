"""Provisioning test world: the example estate, a flavor in the sovereign region's inventory, a tenant tree."""

from __future__ import annotations

import pytest

SOVEREIGN = "sovereign/fr-paris-1"
INTERNATIONAL = "international/eu-west-1"
SERVER_SPEC = {"flavor": "m1.small", "image": "debian-12", "network": "private"}


@pytest.fixture
def execute_kind():
    """The job kind approved requests queue; registered by execution.py, or here while it is not written yet
    (the handler never runs in these tests: nothing is committed, so no worker is woken)."""
    from souverain.jobs import registry
    from souverain.provisioning.services import EXECUTE_JOB

    if EXECUTE_JOB not in registry.kinds():
        @registry.register(EXECUTE_JOB)
        def _not_run(job, reporter):  # pragma: no cover - never claimed in these tests
            raise AssertionError("the execution job must not run in the gate's tests")
    return EXECUTE_JOB


@pytest.fixture
def world(example_estate, tenants, role_users, execute_kind):
    from django.contrib.auth import get_user_model

    from souverain.core.roles import Role
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource
    from souverain.inventory.services import digest
    from souverain.tenancy.models import Membership, Tenant

    region = Region.objects.select_related("cloud").get(cloud__slug="sovereign", slug="fr-paris-1")
    from django.utils import timezone

    now = timezone.now()
    flavor = {"id": "f-small", "name": "m1.small", "vcpus": 2, "ram": 2048, "disk": 20}
    Resource.objects.create(kind="flavor", cloud=region.cloud, region=region, external_id="f-small", name="m1.small",
                            attrs=flavor, attrs_hash=digest(flavor), first_seen=now, last_seen=now)
    home = tenants["home"]
    child = Tenant.objects.create(slug="directorate-a", name="Directorate A", parent=home)
    sibling = Tenant.objects.create(slug="directorate-b", name="Directorate B", parent=home)
    users = dict(role_users)
    for username, role, tenant in (("a-member", Role.TENANT_MEMBER, child), ("a-admin", Role.TENANT_ADMIN, child),
                                   ("b-admin", Role.TENANT_ADMIN, sibling)):
        user = get_user_model().objects.create_user(username=username, password="pw")
        Membership.objects.create(user=user, role=role, tenant=tenant)
        users[username] = user
    return {"region": region, "home": home, "child": child, "sibling": sibling, "foreign": tenants["foreign"],
            "users": users, "now": now}


@pytest.fixture
def client_for(world):
    from rest_framework.test import APIClient

    def make(username: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(world["users"][username])
        return client

    return make


def server_request(region: str | None = SOVEREIGN, name: str = "web-1", **extra):
    body = {"kind": "server", "name": name, "spec": dict(SERVER_SPEC)}
    if region:
        body["region"] = region
    body.update(extra)
    return body
