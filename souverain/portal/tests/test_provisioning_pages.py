"""The provisioning pages: the catalogue offers only what the tenant may use and submits through the gate, the
request page shows a refusal's reasons and the timeline, the approvals inbox decides; another tenant sees none of
it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.inventory.services import digest
from souverain.jobs.models import Job
from souverain.provisioning import approvals
from souverain.provisioning.models import Approval, ServiceRequest

pytestmark = pytest.mark.django_db

SOVEREIGN = "sovereign/fr-paris-1"
RULES = """
rules:
  - name: restricted-data
    when: {data_classes: [diffusion_restreinte]}
    approvers: [{role: operator}]
"""


def _row(region: Region, kind: str, name: str, tenant: Any = None, **attrs: Any) -> Resource:
    now = timezone.now()
    attrs = {"id": f"{kind}-{name}", "name": name, **attrs}
    return Resource.objects.create(kind=kind, cloud=region.cloud, region=region, external_id=attrs["id"], name=name,
                                   tenant=tenant, attrs=attrs, attrs_hash=digest(attrs), first_seen=now, last_seen=now)


@pytest.fixture
def world(example_estate: None, tenants: dict[str, Any], role_users: dict[str, Any]) -> dict[str, Any]:
    region = Region.objects.select_related("cloud").get(cloud__slug="sovereign", slug="fr-paris-1")
    _row(region, "flavor", "m1.small", vcpus=2, ram=2048, disk=20)
    _row(region, "image", "debian-12", visibility="public")
    _row(region, "image", "private-image-of-other-corp", tenants["foreign"], visibility="private")
    _row(region, "network", "private", tenants["home"])
    _row(region, "network", "foreign-net-of-other-corp", tenants["foreign"])
    _row(region, "network", "shared", shared=True)
    approvals.upload(RULES, "test")
    return {"region": region, "tenants": tenants, "users": role_users}


def client_as(world: dict[str, Any], username: str) -> Client:
    client = Client()
    client.force_login(world["users"][username])
    return client


def test_the_catalogue_offers_only_allowed_regions_and_what_the_tenant_may_use(world: dict[str, Any]) -> None:
    page = client_as(world, "tenant-member").get("/catalogue/?kind=server&region=" + SOVEREIGN)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{SOVEREIGN}"' in html and 'value="auto"' in html
    # The ministry's default class (Diffusion Restreinte) keeps it off the international cloud.
    assert 'value="international/' not in html
    for offered in ("m1.small", "debian-12", ">private<", ">shared<"):
        assert offered in html
    assert "other-corp" not in html and "Other Corp" not in html


def test_the_pickers_partial_follows_the_kind(world: dict[str, Any]) -> None:
    client = client_as(world, "tenant-member")
    volume = client.get("/catalogue/pickers/?kind=volume&region=" + SOVEREIGN, HTTP_HX_REQUEST="true")
    assert volume.status_code == 200 and 'name="size_gb"' in volume.content.decode()
    assert "<html" not in volume.content.decode()
    assert client.post("/catalogue/pickers/", {"kind": "volume"}).status_code == 405


def test_a_request_goes_through_the_gate_waits_for_the_operator_and_is_approved(world: dict[str, Any]) -> None:
    member = client_as(world, "tenant-member")
    answer = member.post("/catalogue/", {"kind": "server", "name": "web-1", "region": SOVEREIGN, "flavor": "m1.small",
                                         "image": "debian-12", "network": "private", "idempotency_key": "k1"})
    assert answer.status_code == 302
    request = ServiceRequest.objects.get()
    assert answer["Location"] == f"/requests/{request.pk}/"
    assert request.status == ServiceRequest.Status.AWAITING_APPROVAL and request.requester == world["users"][
        "tenant-member"]
    # The same form posted twice (a double click): the same request.
    member.post("/catalogue/", {"kind": "server", "name": "web-1", "region": SOVEREIGN, "flavor": "m1.small",
                                "image": "debian-12", "network": "private", "idempotency_key": "k1"})
    assert ServiceRequest.objects.count() == 1

    detail = member.get(answer["Location"]).content.decode()
    assert "hx-trigger=\"every 2s\"" in detail and "restricted-data" in detail
    live = member.get(answer["Location"] + "?part=live", HTTP_HX_REQUEST="true").content.decode()
    assert live.startswith('<div id="request-live"') and "<html" not in live

    assert "web-1" not in member.get("/approvals/").content.decode()  # not the member's to decide
    operator = client_as(world, "operator-admin")
    inbox = operator.get("/approvals/").content.decode()
    assert "web-1" in inbox
    approval = Approval.objects.get(request=request)
    assert operator.post("/approvals/", {"approval": approval.pk, "decision": "approve",
                                         "comment": "fine"}).status_code == 302
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.APPROVED
    assert Job.objects.filter(pk=request.job_id, kind="provisioning.execute").exists()
    assert "web-1" not in operator.get("/approvals/").content.decode()

    # Another tenant sees neither the request nor its approval.
    foreign = client_as(world, "foreign-admin")
    assert foreign.get(f"/requests/{request.pk}/").status_code == 404
    assert "web-1" not in foreign.get("/requests/").content.decode()
    assert foreign.post("/approvals/", {"approval": approval.pk, "decision": "reject"}).status_code == 404


def test_a_denied_region_is_refused_with_placements_reasons(world: dict[str, Any]) -> None:
    member = client_as(world, "tenant-member")
    answer = member.post("/catalogue/", {"kind": "volume", "name": "data-1", "region": "international/eu-west-1",
                                         "size_gb": "5"})
    assert answer.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.status == ServiceRequest.Status.REFUSED and request.refusal["stage"] == "placement"
    page = member.get(answer["Location"]).content.decode()
    assert "Refused before any cloud call" in page
    first = request.refusal["reasons"][0]["message"]
    assert first.split("{")[0][:30].strip() in page or first[:30] in page


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(world: dict[str, Any]) -> None:
    answer = client_as(world, "tenant-member").post("/catalogue/", {"kind": "volume", "name": "v", "region": SOVEREIGN,
                                                                    "size_gb": "zero"})
    assert answer.status_code == 400 and "spec.size_gb" in answer.content.decode()
    assert not ServiceRequest.objects.exists()


def test_an_auditor_reads_but_may_not_submit(world: dict[str, Any]) -> None:
    auditor = client_as(world, "auditor")
    assert auditor.get("/requests/").status_code == 200
    assert auditor.post("/catalogue/", {"kind": "volume", "name": "v", "size_gb": "1", "tenant": "ministere",
                                        "region": SOVEREIGN}).status_code == 403


def test_a_placement_result_offers_create_here_with_the_workloads_classes(world: dict[str, Any]) -> None:
    member = client_as(world, "tenant-member")
    html = member.get("/placement/?run=1&data_classes=personal&eu_only=on").content.decode()
    link = f'href="/catalogue/?region={SOVEREIGN}&amp;classes=personal&amp;tenant=ministere&amp;eu_only=1"'
    assert link in html
    # The catalogue opened from it: the region chosen, the class and the requirement ticked.
    page = member.get(f"/catalogue/?region={SOVEREIGN}&classes=personal&tenant=ministere&eu_only=1").content.decode()
    assert f'value="{SOVEREIGN}" selected' in page
    assert 'value="personal" checked' in page and 'name="eu_only" value="1" checked' in page
    assert 'class="create-here"' not in client_as(world, "auditor").get(
        "/placement/?run=1&tenant=ministere").content.decode()


def test_day2_actions_show_what_the_user_may_do_and_queue_the_apis_job(world: dict[str, Any]) -> None:
    region, home = world["region"], world["tenants"]["home"]
    server = _row(region, "server", "app-1", home, status="ACTIVE")
    Resource.objects.filter(pk=server.pk).update(status="active", project_id="p-home")
    member = client_as(world, "tenant-member")
    panel = member.get(f"/inventory/{server.pk}/actions/", HTTP_HX_REQUEST="true").content.decode()
    assert 'value="stop"' in panel and 'value="resize"' in panel and 'value="start"' not in panel
    assert f'hx-get="/inventory/{server.pk}/actions/"' in member.get(f"/inventory/{server.pk}/").content.decode()
    assert 'name="action"' not in client_as(world, "auditor").get(f"/inventory/{server.pk}/actions/").content.decode()
    assert client_as(world, "foreign-admin").get(f"/inventory/{server.pk}/actions/").status_code == 404
    assert client_as(world, "foreign-admin").post(f"/inventory/{server.pk}/actions/",
                                                  {"action": "stop"}).status_code == 404
    assert client_as(world, "auditor").post(f"/inventory/{server.pk}/actions/", {"action": "stop"}).status_code == 403

    refused = member.post(f"/inventory/{server.pk}/actions/", {"action": "resize", "flavor": "m9.huge"}, follow=True)
    assert "args.flavor" in refused.content.decode()
    assert not Job.objects.filter(kind="provisioning.action").exists()
    assert member.post(f"/inventory/{server.pk}/actions/", {"action": "stop"}).status_code == 302
    job = Job.objects.get(kind="provisioning.action")
    assert job.params["resource"] == server.pk and job.params["action"] == "stop"
    assert job.requested_by == "tenant-member"


def test_operators_set_quotas_and_replace_the_approval_rules_from_the_portal(world: dict[str, Any]) -> None:
    from souverain.provisioning.models import ApprovalPolicy, Quota

    operator = client_as(world, "operator-admin")
    assert operator.post("/quotas/", {"form": "quota", "tenant": "ministere", "vcpu": "8",
                                      "instances": "2"}).status_code == 302
    quota = Quota.objects.get(tenant=world["tenants"]["home"], cloud=None)
    assert (quota.vcpu, quota.instances, quota.ram_mb) == (8, 2, None)
    bad = operator.post("/quotas/", {"form": "quota", "tenant": "ministere", "vcpu": "lots"})
    assert bad.status_code == 400 and "vcpu" in bad.content.decode()
    page = operator.get("/quotas/").content.decode()
    assert "Ministère" in page and "0 / 8" in page and "restricted-data" in page

    broken = operator.post("/quotas/", {"form": "rules", "source": "rules: [{name: x}]\n"})
    assert broken.status_code == 400 and "line 1" in broken.content.decode()
    assert ApprovalPolicy.objects.filter(active=True).count() == 1
    assert operator.post("/quotas/", {"form": "rules", "source": "rules: []\n"}).status_code == 302
    assert ApprovalPolicy.objects.filter(active=True).get().source == "rules: []\n"

    # A tenant admin sets only the nodes below theirs (none here), sees its own quota, never the rules' form.
    admin = client_as(world, "tenant-admin")
    refused = admin.post("/quotas/", {"form": "quota", "tenant": "ministere", "vcpu": "99"})
    assert refused.status_code == 400 and Quota.objects.get(pk=quota.pk).vcpu == 8
    assert admin.post("/quotas/", {"form": "rules", "source": "rules: []\n"}).status_code == 403
    assert 'name="source"' not in admin.get("/quotas/").content.decode()
    assert "Ministère" not in client_as(world, "foreign-admin").get("/quotas/").content.decode()
