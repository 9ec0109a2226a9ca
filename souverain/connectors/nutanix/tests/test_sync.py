"""The example estate's Nutanix cloud (a bank's dedicated private cloud) synced from the Prism Central simulator:
its VMs in the inventory with their categories as tags, and evaluated by compliance."""

from __future__ import annotations

import pytest

from souverain.estate.models import Cloud
from souverain.inventory.credentials import Source, locate
from souverain.inventory.models import Resource
from souverain.inventory.services import request_sync, syncable_clouds
from souverain.jobs import services as jobs
from souverain.policy.compliance import evaluate

pytestmark = pytest.mark.django_db(transaction=True)

CLOUD = "nutanix-private"


@pytest.fixture
def nutanix_cloud(example_estate, prism, monkeypatch) -> Cloud:
    # As an operator would: the secret in the environment at apply time, the endpoint pointed at the simulator.
    monkeypatch.setenv("NUTANIX_PASSWORD", prism.password)
    from pathlib import Path

    from souverain.estate.services import apply_file

    apply_file(Path(__file__).parents[4] / "examples/estate/souverain.yaml")
    cloud = Cloud.objects.get(slug=CLOUD)
    cloud.endpoint = prism.url
    cloud.save()
    return cloud


def test_the_example_nutanix_cloud_syncs_into_the_inventory_and_is_evaluated(nutanix_cloud, prism):
    assert locate(nutanix_cloud).source == Source.DATABASE
    assert CLOUD in [c.slug for c in syncable_clouds()]
    job = jobs.run_job(request_sync([CLOUD], full=True, requested_by="nutanix-test").pk)
    assert job is not None and job.status == "succeeded", job and job.errors

    servers = {r.name: r for r in Resource.objects.filter(cloud=nutanix_cloud, kind="server")}
    assert len(servers) == len(prism.collections["vms"].items) == 23
    vm = servers["vm-00001"]
    assert vm.status == "active" and vm.region.slug == "clermont-dc1"
    assert vm.tags == ["Department=Risk", "souverain:data-class=personal"]
    assert vm.attrs["nutanix"]["$objectType"] == "vmm.v4.ahv.config.Vm"
    assert servers["vm-00000"].status == "shutoff"
    assert Resource.objects.filter(cloud=nutanix_cloud, kind="image").count() == 2
    assert Resource.objects.filter(cloud=nutanix_cloud, kind="subnet").count() == 2
    # The hyperconverged infrastructure: registry kinds of their own, normalised by the Nutanix connector.
    cluster = Resource.objects.get(cloud=nutanix_cloud, kind="cluster")
    assert cluster.name == "clermont-ahv-1" and cluster.attrs["nutanix"]["extId"] == cluster.external_id
    hosts = Resource.objects.filter(cloud=nutanix_cloud, kind="host")
    assert sorted(h.name for h in hosts) == ["ahv-node-1", "ahv-node-2"]
    assert {h.normalised["zone"] for h in hosts} == {cluster.external_id}
    container = Resource.objects.get(cloud=nutanix_cloud, kind="storage_container")
    assert container.name == "default-container" and container.normalised["zone"] == cluster.external_id
    assert vm.normalised["zone"] == cluster.external_id and vm.normalised["vcpus"] >= 1

    record = evaluate(resource_ids=[r.pk for r in servers.values()])
    assert record.resources == 23

    # A VM powered off in Prism is seen so by the next (incremental) sync.
    from souverain.connectors import get_connector

    connector = get_connector("nutanix", config={"endpoint": prism.url, "username": "admin",
                                                 "password": prism.password})
    connector.power_off_server(vm.external_id)
    assert jobs.run_job(request_sync([CLOUD], requested_by="nutanix-test").pk).status == "succeeded"
    vm.refresh_from_db()
    assert vm.status == "shutoff"


def test_a_tenant_never_sees_another_customers_nutanix_vms_nor_gets_the_cloud_proposed(nutanix_cloud, prism,
                                                                                        tenants):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from souverain.core.roles import Role
    from souverain.inventory.models import ProjectMapping
    from souverain.inventory.services import apply_project_mappings
    from souverain.tenancy.models import Membership, Tenant
    from testbed.nutanix.simulator import PROJECT_ID

    bank = Tenant.objects.get(slug="banque-mutualiste-centre")
    assert list(nutanix_cloud.dedicated_to.values_list("slug", flat=True)) == [bank.slug]
    assert jobs.run_job(request_sync([CLOUD], full=True, requested_by="nutanix-test").pk).status == "succeeded"
    ProjectMapping.objects.create(cloud=nutanix_cloud, project_id=PROJECT_ID, tenant=bank)
    apply_project_mappings(nutanix_cloud.pk)

    def member_of(tenant: Tenant) -> APIClient:
        user = get_user_model().objects.create_user(username=f"{tenant.slug}-member", password="pw")
        Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=tenant)
        client = APIClient()
        client.force_authenticate(user)
        return client

    bank_client, ministry = member_of(bank), member_of(tenants["home"])
    query = {"kind": "server", "limit": 100}
    seen_by_bank = {r["name"] for r in bank_client.get("/api/inventory/resources/", query).json()["results"]}
    assert "vm-00001" in seen_by_bank
    listed = ministry.get("/api/inventory/resources/", {**query, "search": "vm-0"}).json()["results"]
    assert [r for r in listed if r["name"].startswith("vm-0")] == []
    vm = Resource.objects.get(cloud=nutanix_cloud, name="vm-00001")
    assert ministry.get(f"/api/inventory/resources/{vm.pk}/").status_code == 404
    assert bank_client.get(f"/api/inventory/resources/{vm.pk}/").status_code == 200
    # Placement never proposes the bank's cloud to the ministry, and does to the bank.
    payload = {"workload": {"data_classes": ["public"]}, "on": "2026-11-25"}
    for client, proposed in ((ministry, False), (bank_client, True)):
        answer = client.post("/api/placement/", payload, format="json")
        assert answer.status_code == 200, answer.content
        clouds = {e["cloud"] for e in [*answer.json()["allowed"], *answer.json()["denied"]]}
        assert (CLOUD in clouds) is proposed


def test_an_approved_request_creates_a_nutanix_vm_then_stops_and_deletes_it(nutanix_cloud, prism):
    from souverain.estate.models import Region
    from souverain.inventory.models import ProjectMapping
    from souverain.jobs.models import Job
    from souverain.provisioning import execution
    from souverain.provisioning.models import ServiceRequest
    from souverain.tenancy.models import Tenant
    from testbed.nutanix.simulator import PROJECT_ID

    bank = Tenant.objects.get(slug="banque-mutualiste-centre")
    ProjectMapping.objects.create(cloud=nutanix_cloud, project_id=PROJECT_ID, tenant=bank)
    request = ServiceRequest.objects.create(
        tenant=bank, requester_name="alice", kind="server", name="ledger-1",
        spec={"flavor": "2c4g", "image": "rhel-9.4", "network": "prod-vlan-100"},
        region=Region.objects.get(cloud=nutanix_cloud, slug="clermont-dc1"),
        status=ServiceRequest.Status.APPROVED, effective_classes=["personal"])

    job = jobs.run_job(jobs.create_job(execution.EXECUTE_JOB, {"request": request.pk}, requested_by="alice").pk)
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.DONE, request.status_detail
    assert job.status == Job.Status.SUCCEEDED
    [created] = request.created_objects
    vm = prism.collections["vms"].items[created["id"]]
    assert vm["name"] == "ledger-1" and vm["powerState"] == "ON" and vm["numSockets"] == 2
    row = Resource.objects.get(cloud=nutanix_cloud, external_id=created["id"])
    assert row.kind == "server" and row.status == "active" and row.managed
    assert row.attrs["metadata"]["souverain:classes"] == "personal"

    for action, check in (("stop", lambda: vm_state(prism, created["id"]) == "OFF"),
                          ("delete", lambda: created["id"] not in prism.collections["vms"].items)):
        done = jobs.run_job(jobs.create_job(execution.ACTION_JOB, {"resource": row.pk, "action": action, "args": {}},
                                            requested_by="alice").pk)
        assert done.status == Job.Status.SUCCEEDED, done.errors
        assert check()


def vm_state(prism, vm_id):
    return prism.collections["vms"].items[vm_id]["powerState"]
