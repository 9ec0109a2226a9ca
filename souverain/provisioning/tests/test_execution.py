"""Executing approved requests on the real test-bed: the job creates, waits, records in the inventory at once and
hands the new objects to compliance; failures end the request with what was rolled back; day-2 actions are jobs.

Each test provisions into a project of its own on the sovereign cloud (the admin user as its member, which is
how an operator lets Souverain's account provision into a tenant's project), mapped to a tenant of its own; the
project is swept and deleted afterwards, whatever happened. The test-bed is expected: these tests error, never
skip.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import testbed
from souverain.connectors import get_connector
from souverain.connectors.openstack import OpenStackConnector
from souverain.estate.models import Cloud, Region
from souverain.inventory.models import ProjectMapping, Resource
from souverain.jobs import services as jobs
from souverain.jobs.models import Job
from souverain.policy.tasks import JOB_KIND as COMPLIANCE_JOB
from souverain.provisioning import execution
from souverain.provisioning.models import RequestEvent, ServiceRequest
from souverain.tenancy.models import Tenant

pytestmark = [pytest.mark.testbed, pytest.mark.django_db(transaction=True)]

SERVER = {"flavor": "m1.nano", "image": "testbed-tiny", "network": "shared", "volume_gb": 1, "floating_ip": True}


@pytest.fixture(scope="module")
def clouds_yaml() -> Iterator[Path]:
    path = testbed.up()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield path


@pytest.fixture
def project(clouds_yaml: Path) -> Iterator[tuple[str, OpenStackConnector, OpenStackConnector]]:
    """(project id, a connector scoped to it, the cloud's admin connector); swept and deleted afterwards."""
    from tests.functional.conftest import sweep

    admin = get_connector("openstack", cloud="sovereign-admin")
    assert isinstance(admin, OpenStackConnector)
    created = admin.create_project(f"ex-{uuid.uuid4().hex[:8]}", description="provisioning execution test")
    identity = admin.connection.identity
    member = identity.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
    identity.put(f"/projects/{created['id']}/users/{admin.connection.current_user_id}/roles/{member}").raise_for_status()
    entry = copy.deepcopy(yaml.safe_load(clouds_yaml.read_text())["clouds"]["sovereign-admin"])
    for key in ("project_name", "project_domain_name"):
        entry["auth"].pop(key)
    entry["auth"]["project_id"] = created["id"]
    scoped = get_connector("openstack", config=entry, name="sovereign")
    assert isinstance(scoped, OpenStackConnector)
    try:
        yield created["id"], scoped, admin
    finally:
        sweep(scoped)
        admin.delete_project(created["id"])


@pytest.fixture
def world(example_estate: Any, project: tuple[str, OpenStackConnector, OpenStackConnector]) -> dict[str, Any]:
    Cloud.objects.filter(slug="sovereign").update(clouds_yaml_entry="sovereign-admin")
    cloud = Cloud.objects.get(slug="sovereign")
    tenant = Tenant.objects.create(slug=f"acme-{uuid.uuid4().hex[:6]}", name="Acme")
    ProjectMapping.objects.create(cloud=cloud, project_id=project[0], tenant=tenant)
    return {"cloud": cloud, "region": Region.objects.get(cloud=cloud, slug="fr-paris-1"), "tenant": tenant,
            "project_id": project[0], "conn": project[1], "admin": project[2]}


def _approved(world: dict[str, Any], kind: str = "server", spec: dict[str, Any] | None = None) -> ServiceRequest:
    return ServiceRequest.objects.create(tenant=world["tenant"], requester_name="alice", kind=kind, name="web-1",
                                         spec=dict(SERVER if spec is None else spec), region=world["region"],
                                         status=ServiceRequest.Status.APPROVED, effective_classes=["personal"])


def _run(request: ServiceRequest) -> Job:
    job = jobs.run_job(jobs.create_job(execution.EXECUTE_JOB, {"request": request.pk}, requested_by="alice").pk)
    assert job is not None
    request.refresh_from_db()
    return job


def test_an_approved_request_creates_records_and_hands_over_to_compliance(world: dict[str, Any]) -> None:
    request = _approved(world)

    job = _run(request)

    assert request.status == ServiceRequest.Status.DONE, request.status_detail
    assert job.status == Job.Status.SUCCEEDED and job.counts == {"created": 3, "inventoried": 3}
    conn = world["conn"]
    servers = list(conn.servers())
    assert len(servers) == 1 and servers[0]["status"] == "ACTIVE"
    assert servers[0]["metadata"]["souverain:classes"] == "personal"
    assert servers[0]["metadata"]["souverain:request"] == execution.request_ref(request)
    created = {o["kind"]: o["id"] for o in request.created_objects}
    assert created == {"server": servers[0]["id"], "volume": next(iter(conn.volumes()))["id"],
                       "floating_ip": next(iter(conn.floating_ips()))["id"]}
    # In the inventory at once, owned by the tenant, marked managed, with the classes compliance reads.
    rows = {r.kind: r for r in Resource.objects.filter(cloud=world["cloud"], project_id=world["project_id"])}
    assert {kind: rows[kind].external_id for kind in created} == created
    assert all(r.tenant_id == world["tenant"].pk and r.managed for r in rows.values())
    assert rows["server"].status == "active" and rows["server"].attrs["metadata"]["souverain:classes"] == "personal"
    assert rows["volume"].status == "in-use"
    passes = Job.objects.filter(kind=COMPLIANCE_JOB, params__trigger="sync")
    assert any(rows["server"].pk in (p.params.get("resource_ids") or []) for p in passes)
    steps = list(request.events.values_list("step", flat=True))
    assert steps[0] == RequestEvent.Step.RUNNING and steps[-1] == RequestEvent.Step.DONE
    assert RequestEvent.Step.PROGRESS in steps

    # Run again (a job delivered twice after the request ended): nothing happens.
    again = _run(request)
    assert again.status == Job.Status.SUCCEEDED and "nothing to do" in again.message
    assert len(list(conn.servers())) == 1


def test_a_failure_midway_ends_the_request_failed_with_what_was_rolled_back(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    request = _approved(world)
    # The cloud's quota check passes; then another client takes the project's last floating IP (the quota drops
    # to zero): the server and its volume are made, the floating IP fails.
    provisioner = execution.provisioner_for(world["cloud"], world["region"], world["project_id"])
    real = provisioner.quota_shortfalls

    def check_then_lose_the_floating_ips(project: str, spec: Any) -> Any:
        found = real(project, spec)
        world["admin"].set_quotas(project, floatingip=0)
        return found

    monkeypatch.setattr(provisioner, "quota_shortfalls", check_then_lose_the_floating_ips)

    job = _run(request)

    assert request.status == ServiceRequest.Status.FAILED and job.status == Job.Status.FAILED
    assert "quota" in request.status_detail.lower()
    failed = request.events.get(step=RequestEvent.Step.FAILED)
    assert sorted(entry.split()[0] for entry in failed.data["rolled_back"]) == ["server", "volume"]
    assert failed.data["left"] == [] and "Rolled back: server " in failed.message
    conn = world["conn"]
    assert list(conn.servers()) == [] and list(conn.volumes()) == [] and list(conn.floating_ips()) == []


def test_the_clouds_own_quota_refuses_before_any_object_is_made(world: dict[str, Any]) -> None:
    world["admin"].set_quotas(world["project_id"], instances=0)
    request = _approved(world)

    job = _run(request)

    assert request.status == ServiceRequest.Status.FAILED and job.status == Job.Status.FAILED
    assert "instances: asked 1, used 0, limit 0" in request.status_detail
    assert list(world["conn"].servers()) == [] and list(world["conn"].volumes()) == []


def test_a_request_without_a_project_on_the_cloud_fails_clearly(world: dict[str, Any]) -> None:
    ProjectMapping.objects.filter(tenant=world["tenant"]).delete()
    request = _approved(world)

    _run(request)

    assert request.status == ServiceRequest.Status.FAILED
    assert "has no project on cloud sovereign" in request.status_detail


def test_day_two_actions_are_jobs_that_update_the_inventory(world: dict[str, Any]) -> None:
    request = _approved(world, spec={"flavor": "m1.nano", "image": "testbed-tiny", "network": "shared"})
    _run(request)
    server = Resource.objects.get(kind="server", project_id=world["project_id"])
    volume = world["conn"].create_volume(1, name="extra")
    world["conn"].wait_for_volume(volume["id"])
    fresh = world["conn"].get_volume(volume["id"])
    execution.record_in_inventory(world["cloud"], world["region"], [("volumes", fresh)], None)

    stop = jobs.run_job(execution.request_action(server, "stop", {}, user=None).pk)
    assert stop is not None and stop.status == Job.Status.SUCCEEDED, stop and stop.errors
    server.refresh_from_db()
    assert server.status == "shutoff" and world["conn"].get_server(server.external_id)["status"] == "SHUTOFF"

    attach = jobs.run_job(execution.request_action(server, "attach_volume", {"volume": "extra"}, user=None).pk)
    assert attach is not None and attach.status == Job.Status.SUCCEEDED, attach and attach.errors
    assert Resource.objects.get(kind="volume", external_id=volume["id"]).status == "in-use"

    with pytest.raises(execution.ActionRefused) as refused:
        execution.request_action(server, "attach_volume", {"volume": "nope"}, user=None)
    assert refused.value.field == "args.volume"
    with pytest.raises(execution.ActionRefused) as refused:
        execution.request_action(server, "explode", {}, user=None)
    assert refused.value.field == "action"

    delete = jobs.run_job(execution.request_action(server, "delete", {}, user=None).pk)
    assert delete is not None and delete.status == Job.Status.SUCCEEDED, delete and delete.errors
    server.refresh_from_db()
    assert server.gone_at is not None and list(world["conn"].servers()) == []
