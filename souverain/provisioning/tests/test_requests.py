"""The gate, quotas in the tree, approvals, idempotency, expiry and isolation, through the API (no cloud)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from souverain.jobs.models import Job
from souverain.provisioning import services
from souverain.provisioning.models import Approval, Quota, ServiceRequest

from .conftest import INTERNATIONAL, SOVEREIGN, server_request

pytestmark = pytest.mark.django_db

TWO_LEVELS = """
expire_after_hours: 24
rules:
  - name: restricted-data
    when: {data_classes: [diffusion_restreinte]}
    approvers:
      - {role: tenant-admin}
      - {role: operator}
"""


def execute_jobs():
    return list(Job.objects.filter(kind=services.EXECUTE_JOB))


def steps(client, request_id):
    detail = client.get(f"/api/requests/{request_id}/").json()
    return [event["step"] for event in detail["timeline"]]


def test_denied_region_is_refused_with_placements_reasons_and_nothing_is_queued(world, client_for):
    member = client_for("tenant-member")
    response = member.post("/api/requests/", server_request(INTERNATIONAL), format="json")
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["status"] == "refused" and body["refusal"]["stage"] == "placement"
    placement = member.post("/api/placement/", {"workload": {}}, format="json").json()
    expected = next(d["reasons"] for d in placement["denied"] if d["region"] == INTERNATIONAL)
    assert body["refusal"]["reasons"] == expected and expected
    assert {r["rule"] for r in expected} >= {"secnumcloud.vendor_access"}
    assert body["demand"] == {}  # never sized, never counted
    assert execute_jobs() == []
    assert [e["step"] for e in body["timeline"]] == ["submitted", "placement", "refused"]


def test_allowed_region_without_rules_is_approved_and_queued(world, client_for):
    member = client_for("tenant-member")
    response = member.post("/api/requests/", server_request(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["region"] == SOVEREIGN
    assert body["effective_classes"] == ["diffusion_restreinte"]  # the tenant's default, merged as for placement
    assert body["demand"] == {"cloud": "sovereign", "region": SOVEREIGN, "instances": 1, "vcpu": 2, "ram_mb": 2048,
                              "volume_gb": 0, "floating_ips": 0}
    [job] = execute_jobs()
    assert job.params == {"request": body["id"]} and job.tenant == world["home"]
    assert [e["step"] for e in body["timeline"]] == ["submitted", "placement", "quota", "approved", "queued"]


def test_let_souverain_choose_takes_the_best_allowed_region(world, client_for):
    body = client_for("tenant-member").post("/api/requests/", server_request(None, auto=True), format="json").json()
    assert body["auto"] is True and body["region"] == SOVEREIGN and body["status"] == "approved"


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(world, client_for):
    member = client_for("tenant-member")
    cases = [
        (server_request(spec={"flavor": "m1.small", "image": "x"}), "spec.network"),
        (server_request(spec={**server_request()["spec"], "flavor": "m9.huge"}), "spec.flavor"),
        (server_request("nowhere/r1"), "region"),
        (server_request(auto=True), "region"),
        ({**server_request(), "kind": "lemonade"}, "kind"),
        (server_request(data_classes=["secret-sauce"]), "workload"),
    ]
    for body, field_name in cases:
        response = member.post("/api/requests/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field_name in response.json(), (field_name, response.json())
    assert ServiceRequest.objects.count() == 0


def test_over_quota_at_a_parent_level_is_refused_with_the_numbers(world, client_for):
    from souverain.inventory.models import Resource
    from souverain.inventory.services import digest

    region, now = world["region"], world["now"]
    # A server the sibling directorate made directly on the cloud, seen by the sync: it counts at the parent.
    server = {"id": "s-outside", "name": "made-outside", "flavor": {"vcpus": 3, "ram": 1024}}
    Resource.objects.create(kind="server", cloud=region.cloud, region=region, external_id="s-outside",
                            tenant=world["sibling"], attrs=server, attrs_hash=digest(server), first_seen=now,
                            last_seen=now)
    operator = client_for("operator-admin")
    assert operator.post("/api/quotas/", {"tenant": "ministere", "vcpu": 4}, format="json").status_code == 201
    response = client_for("a-member").post("/api/requests/", server_request(), format="json")
    assert response.status_code == 422, response.content
    refusal = response.json()["refusal"]
    assert refusal["stage"] == "quota"
    assert refusal["shortfalls"] == [{"tenant": "ministere", "tenant_name": "Ministère", "cloud": None,
                                      "resource": "vcpu", "asked": 2, "used": 3, "limit": 4, "level": "ancestor"}]
    assert "asked 2, used 3, limit 4" in refusal["message"]
    assert "demandé 2, utilisé 3, limite 4" in refusal["message_fr"]
    assert execute_jobs() == []
    # The report flags the node pushed over by what was made outside Souverain once the limit is lower.
    Quota.objects.filter(tenant=world["home"]).update(vcpu=2)
    report = operator.get("/api/quotas/report/").json()
    assert [(row["tenant"], row["over"], row["usage"]["vcpu"]) for row in report["results"]] == [
        ("ministere", ["vcpu"], 3)]


def test_in_flight_requests_count_against_the_quota(world, client_for):
    client_for("operator-admin").post("/api/quotas/", {"tenant": "directorate-a", "instances": 1}, format="json")
    member = client_for("a-member")
    assert member.post("/api/requests/", server_request(name="one"), format="json").status_code == 201
    second = member.post("/api/requests/", server_request(name="two"), format="json")
    assert second.status_code == 422
    assert second.json()["refusal"]["shortfalls"][0] | {} == {
        "tenant": "directorate-a", "tenant_name": "Directorate A", "cloud": None, "resource": "instances",
        "asked": 1, "used": 1, "limit": 1, "level": "self"}


def test_children_quotas_are_carved_out_of_the_parents(world, client_for):
    operator = client_for("operator-admin")
    assert operator.post("/api/quotas/", {"tenant": "ministere", "vcpu": 10}, format="json").status_code == 201
    home_admin = client_for("tenant-admin")
    assert home_admin.post("/api/quotas/", {"tenant": "directorate-a", "vcpu": 6}, format="json").status_code == 201
    refused = home_admin.post("/api/quotas/", {"tenant": "directorate-b", "vcpu": 5}, format="json")
    assert refused.status_code == 400
    assert "at most 4 is left, not 5" in refused.json()["vcpu"][0]
    assert home_admin.post("/api/quotas/", {"tenant": "directorate-b", "vcpu": 4}, format="json").status_code == 201
    # The parent cannot shrink below what it gave its children; a node's admin does not set its own quota.
    home_quota = Quota.objects.get(tenant=world["home"])
    shrink = operator.patch(f"/api/quotas/{home_quota.pk}/", {"vcpu": 8}, format="json")
    assert shrink.status_code == 400 and "already have 10" in shrink.json()["vcpu"][0]
    assert home_admin.patch(f"/api/quotas/{home_quota.pk}/", {"vcpu": 50}, format="json").status_code == 403
    assert client_for("a-admin").post("/api/quotas/", {"tenant": "directorate-b", "vcpu": 1},
                                      format="json").status_code == 400  # not in its subtree: unknown to it
    assert Quota.objects.get(tenant=world["home"]).vcpu == 10


def test_two_level_approval_then_the_job_is_queued(world, client_for):
    operator = client_for("operator-admin")
    assert operator.post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json").status_code == 201
    member, admin = client_for("tenant-member"), client_for("tenant-admin")
    body = member.post("/api/requests/", server_request(), format="json").json()
    assert body["status"] == "awaiting_approval" and body["approval_level"] == 1
    first, second = body["approvals"]
    assert (first["status"], first["approver"]["role"], first["approver_tenant"]) == ("pending", "tenant-admin",
                                                                                    "ministere")
    assert (second["status"], second["approver"]["role"]) == ("waiting", "operator")
    # The requester may not approve; the operator may not skip the first level.
    assert member.post(f"/api/approvals/{first['id']}/approve/", {}, format="json").status_code == 403
    assert operator.post(f"/api/approvals/{second['id']}/approve/", {}, format="json").status_code == 409
    inbox = admin.get("/api/approvals/?status=pending").json()["results"]
    assert [(a["id"], a["actionable"]) for a in inbox] == [(first["id"], True)]
    assert [a["id"] for a in admin.get("/api/approvals/?mine=true").json()["results"]] == [first["id"]]
    assert operator.get("/api/approvals/?mine=true").json()["results"] == []  # not its turn yet
    assert member.get("/api/approvals/?mine=true").json()["results"] == []
    assert admin.post(f"/api/approvals/{first['id']}/approve/", {"comment": "ok for me"},
                      format="json").status_code == 200
    assert execute_jobs() == []
    assert ServiceRequest.objects.get(pk=body["id"]).approval_level == 2
    assert [a["id"] for a in operator.get("/api/approvals/?mine=true").json()["results"]] == [second["id"]]
    assert operator.post(f"/api/approvals/{second['id']}/approve/", {}, format="json").status_code == 200
    [job] = execute_jobs()
    assert job.params == {"request": body["id"]}
    assert ServiceRequest.objects.get(pk=body["id"]).status == "approved"
    timeline = member.get(f"/api/requests/{body['id']}/").json()["timeline"]
    assert [e["step"] for e in timeline] == ["submitted", "placement", "quota", "approval_requested", "approved",
                                             "approval_requested", "approved", "approved", "queued"]
    assert timeline[4]["actor"] == "tenant-admin" and "ok for me" in timeline[4]["message"]


def test_the_parents_admin_approves_a_childs_request(world, client_for):
    rules = "rules:\n  - name: parent-says\n    approvers: [{role: tenant-admin, node: parent}]\n"
    client_for("operator-admin").post("/api/approval-rules/", {"source": rules}, format="json")
    body = client_for("a-member").post("/api/requests/", server_request(), format="json").json()
    [approval] = body["approvals"]
    assert approval["approver_tenant"] == "ministere"
    assert client_for("a-admin").post(f"/api/approvals/{approval['id']}/approve/", {},
                                      format="json").status_code in (403, 404)
    assert client_for("b-admin").post(f"/api/approvals/{approval['id']}/approve/", {},
                                      format="json").status_code == 404  # a sibling does not even see it
    assert client_for("tenant-admin").post(f"/api/approvals/{approval['id']}/approve/", {},
                                           format="json").status_code == 200
    assert len(execute_jobs()) == 1


def test_a_rejection_ends_the_request_and_never_queues(world, client_for):
    client_for("operator-admin").post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json")
    body = client_for("tenant-member").post("/api/requests/", server_request(), format="json").json()
    first = body["approvals"][0]
    response = client_for("tenant-admin").post(f"/api/approvals/{first['id']}/reject/", {"comment": "not now"},
                                               format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    request = ServiceRequest.objects.get(pk=body["id"])
    assert request.status == "rejected" and request.status_detail == "not now"
    assert list(request.approvals.values_list("status", flat=True)) == ["rejected", "void"]
    assert client_for("operator-admin").post(f"/api/approvals/{body['approvals'][1]['id']}/approve/", {},
                                             format="json").status_code == 409
    assert execute_jobs() == []


def test_the_same_idempotency_key_gives_the_same_request(world, client_for):
    member = client_for("tenant-member")
    first = member.post("/api/requests/", server_request(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = member.post("/api/requests/", server_request(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = member.post("/api/requests/", server_request(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert ServiceRequest.objects.count() == 2 and len(execute_jobs()) == 2
    # Another user's key is theirs: the same string makes their own request.
    mine = client_for("tenant-admin").post("/api/requests/", server_request(), format="json",
                                           HTTP_IDEMPOTENCY_KEY="k-1")
    assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]


def test_a_request_waiting_too_long_expires(world, client_for):
    client_for("operator-admin").post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json")
    body = client_for("tenant-member").post("/api/requests/", server_request(), format="json").json()
    request = ServiceRequest.objects.get(pk=body["id"])
    assert request.expires_at - timezone.now() > dt.timedelta(hours=23)
    assert services.expire_waiting() == []
    assert services.expire_waiting(timezone.now() + dt.timedelta(hours=25)) == [request.pk]
    request.refresh_from_db()
    assert request.status == "expired"
    assert set(request.approvals.values_list("status", flat=True)) == {Approval.Status.VOID}
    assert client_for("tenant-admin").post(f"/api/approvals/{body['approvals'][0]['id']}/approve/", {},
                                           format="json").status_code == 409
    assert execute_jobs() == []


def test_cancel_by_the_requester_not_by_another_member(world, client_for):
    client_for("operator-admin").post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json")
    body = client_for("tenant-member").post("/api/requests/", server_request(), format="json").json()
    assert client_for("b-admin").post(f"/api/requests/{body['id']}/cancel/", {}, format="json").status_code == 404
    response = client_for("tenant-member").post(f"/api/requests/{body['id']}/cancel/", {"reason": "typo"},
                                                format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client_for("tenant-member").post(f"/api/requests/{body['id']}/cancel/", {}, format="json")
    assert again.status_code == 409


def test_tenants_and_siblings_never_see_each_others_requests_quotas_or_approvals(world, client_for):
    operator = client_for("operator-admin")
    operator.post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json")
    operator.post("/api/quotas/", {"tenant": "directorate-a", "vcpu": 8}, format="json")
    mine = client_for("a-member").post("/api/requests/", server_request(name="a-secret"), format="json").json()
    for username in ("foreign-admin", "b-admin"):
        other = client_for(username)
        for url in ("/api/requests/", "/api/approvals/", "/api/quotas/"):
            listing = other.get(url)
            assert listing.status_code == 200
            assert "a-secret" not in listing.content.decode() and "directorate-a" not in listing.content.decode()
        assert other.get(f"/api/requests/{mine['id']}/").status_code == 404
        for approval in mine["approvals"]:
            assert other.get(f"/api/approvals/{approval['id']}/").status_code == 404
    assert client_for("a-member").get(f"/api/requests/{mine['id']}/").status_code == 200


def test_approval_rules_are_validated_with_lines_and_versioned(world, client_for):
    operator = client_for("operator-admin")
    bad = operator.post("/api/approval-rules/", {"source": "rules:\n  - name: x\n    approvers: [{role: king}]\n"},
                        format="json")
    assert bad.status_code == 400 and "line 3" in bad.json()["source"][0]
    too_many = "rules:\n  - name: x\n    approvers: [" + ", ".join(["{role: operator}"] * 6) + "]\n"
    assert operator.post("/api/approval-rules/", {"source": too_many}, format="json").status_code == 400
    assert client_for("operator-ops").post("/api/approval-rules/", {"source": TWO_LEVELS},
                                           format="json").status_code == 403
    assert operator.post("/api/approval-rules/", {"source": TWO_LEVELS}, format="json").status_code == 201
    assert operator.post("/api/approval-rules/", {"source": "rules: []\n"}, format="json").status_code == 201
    versions = operator.get("/api/approval-rules/").json()["results"]
    assert [(v["number"], v["active"]) for v in versions] == [(2, True), (1, False)]


def test_errors_and_refusals_in_french(world, client_for):
    member = client_for("tenant-member")
    unknown = member.post("/api/requests/", server_request("nowhere/r1"), format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert unknown.status_code == 400 and unknown.json()["region"] == ["région inconnue « nowhere/r1 » (cloud/région)"]
    refused = member.post("/api/requests/", server_request(INTERNATIONAL), format="json", HTTP_ACCEPT_LANGUAGE="fr")
    body = refused.json()
    assert body["refusal"]["message_fr"] == f"Le placement refuse {INTERNATIONAL}."
    assert all(reason["message_fr"] for reason in body["refusal"]["reasons"])
    assert body["timeline"][0]["message_fr"].startswith("tenant-member a demandé server web-1")


def test_rule_conditions_and_level_approvers(world, client_for):
    from souverain.estate.models import Datacenter

    countries = set(Datacenter.objects.filter(regions=world["region"]).values_list("country", flat=True))
    assert countries == {"FR"}
    rules = """
home_countries: {directorate-a: BE}
rules:
  - name: big
    when: {vcpu_over: 1, kinds: [server]}
    approvers: [{role: tenant-admin, node: level, level: 1}]
  - name: abroad
    when: {outside_home_country: true}
    approvers: [{role: operator}]
  - name: volumes-only
    when: {kinds: [volume]}
    approvers: [{role: tenant-member}]
"""
    assert client_for("operator-admin").post("/api/approval-rules/", {"source": rules},
                                             format="json").status_code == 201
    # A directorate at home in Belgium asks for 2 vCPU in France: the root's admin, then an operator.
    body = client_for("a-member").post("/api/requests/", server_request(), format="json").json()
    assert [(a["rule"], a["approver"]["role"], a["approver_tenant"]) for a in body["approvals"]] == [
        ("big", "tenant-admin", "ministere"), ("abroad", "operator", None)]
    # The ministry is at home in France (the default): only the size rule.
    body = client_for("tenant-member").post("/api/requests/", server_request(), format="json").json()
    assert [a["rule"] for a in body["approvals"]] == ["big"]
