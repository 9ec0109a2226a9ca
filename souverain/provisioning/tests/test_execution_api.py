"""The day-2 actions API on inventoried servers: who may act on what, bad input named, the job queued."""

from __future__ import annotations

import pytest

from souverain.inventory.tests.factories import make_cloud, make_resource
from souverain.jobs.models import Job
from souverain.provisioning.execution import ACTION_JOB

pytestmark = pytest.mark.django_db


@pytest.fixture
def servers(tenants):
    cloud = make_cloud("alpha")
    flavor = make_resource(cloud, kind="flavor", external_id="f-big", name="m1.big", vcpus=4, ram=4096)
    home = make_resource(cloud, external_id="home-vm", name="home-vm", tenant=tenants["home"], project_id="p-home",
                         flavor={"vcpus": 1, "ram": 512, "original_name": "m1.nano"})
    volume = make_resource(cloud, kind="volume", external_id="home-vol", name="home-vol", tenant=tenants["home"],
                           project_id="p-home", status="available")
    foreign_volume = make_resource(cloud, kind="volume", external_id="foreign-vol", name="foreign-vol",
                                   tenant=tenants["foreign"], project_id="p-foreign", status="available")
    foreign = make_resource(cloud, external_id="foreign-vm", name="foreign-vm", tenant=tenants["foreign"],
                            project_id="p-foreign")
    stopped = make_resource(cloud, external_id="home-off", name="home-off", tenant=tenants["home"],
                            project_id="p-home", status="shutoff")
    return {"home": home, "foreign": foreign, "volume": volume, "foreign_volume": foreign_volume,
            "stopped": stopped, "flavor": flavor}


def url(resource) -> str:
    return f"/api/inventory/resources/{resource.pk}/actions/"


def test_a_tenant_member_stops_its_own_server_through_a_job(api_as, servers):
    response = api_as("tenant-member").post(url(servers["home"]), {"action": "stop"}, format="json")

    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == ACTION_JOB and job.requested_by == "tenant-member"
    assert job.params == {"resource": servers["home"].pk, "action": "stop", "args": {}}
    assert job.tenant == servers["home"].tenant
    assert response.json()["url"].endswith(f"/api/jobs/{job.pk}/")


def test_the_actions_offered_follow_the_status_and_the_role(api_as, servers):
    active = api_as("tenant-member").get(url(servers["home"])).json()["actions"]
    assert "stop" in active and "start" not in active
    stopped = api_as("tenant-member").get(url(servers["stopped"])).json()["actions"]
    assert "start" in stopped and "stop" not in stopped
    assert api_as("auditor").get(url(servers["home"])).json()["actions"] == []
    assert api_as("auditor").post(url(servers["home"]), {"action": "stop"}, format="json").status_code == 403
    assert api_as("tenant-member").get(url(servers["volume"])).json()["actions"] == []


def test_another_tenants_server_or_volume_is_out_of_reach(api_as, servers):
    client = api_as("tenant-admin")
    assert client.post(url(servers["foreign"]), {"action": "stop"}, format="json").status_code == 404
    response = client.post(url(servers["home"]), {"action": "attach_volume", "args": {"volume": "foreign-vol"}},
                           format="json")
    assert response.status_code == 400 and "args.volume" in response.json()
    assert not Job.objects.filter(kind=ACTION_JOB).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({}, "action"),
    ({"action": "explode"}, "action"),
    ({"action": "resize"}, "args.flavor"),
    ({"action": "resize", "args": {"flavor": "m1.missing"}}, "args.flavor"),
    ({"action": "stop", "args": {"force": True}}, "args.force"),
    ({"action": "reboot", "args": {"type": "GENTLE"}}, "args.type"),
])
def test_bad_input_is_a_400_naming_the_field(api_as, servers, body, field):
    response = api_as("operator-ops").post(url(servers["home"]), body, format="json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert not Job.objects.filter(kind=ACTION_JOB).exists()


def test_a_volume_is_not_a_server(api_as, servers):
    response = api_as("operator-admin").post(url(servers["volume"]), {"action": "stop"}, format="json")
    assert response.status_code == 400 and "resource" in response.json()


def test_a_resize_over_the_tenants_quota_is_refused_with_the_numbers(api_as, servers, tenants):
    from souverain.provisioning.models import Quota

    Quota.objects.create(tenant=tenants["home"], vcpu=2)
    response = api_as("tenant-admin").post(url(servers["home"]), {"action": "resize", "args": {"flavor": "m1.big"}},
                                           format="json")
    assert response.status_code == 400 and "args.flavor" in response.json(), response.content
    assert "quota" in response.json()["args.flavor"][0]
    ok = api_as("tenant-admin").post(url(servers["home"]), {"action": "resize", "args": {"flavor": "f-big"}},
                                     format="json")
    assert ok.status_code == 400  # the same flavor by id: the same refusal


@pytest.mark.parametrize(("english", "french"), [
    ("server 9f1 asked", "serveur 9f1 demandé"),
    ("server 9f1 ACTIVE", "serveur 9f1 actif"),
    ("found 2 objects of an earlier attempt: data-volume, server",
     "2 objets d'une tentative précédente repris : data-volume, server"),
    ("floating IP 203.0.113.7 associated", "IP flottante 203.0.113.7 associée"),
    ("router r1 joined to the external network", "routeur r1 relié au réseau externe"),
    ("failed: quota; rolling back", "échec : quota ; annulation en cours"),
])
def test_the_timeline_says_the_execution_steps_in_french(english, french):
    from souverain.provisioning.execution import progress_in_french

    assert progress_in_french(english) == french


def test_a_provider_without_provisioning_says_so():
    from types import SimpleNamespace

    from souverain.connectors import NotSupported
    from souverain.connectors.provisioning import provisioner_for

    elsewhere = SimpleNamespace(provider="vmware", cloud="vc-1", region="dc-1")
    with pytest.raises(NotSupported, match="not supported by the 'vmware' provider"):
        provisioner_for(elsewhere)  # type: ignore[arg-type]
