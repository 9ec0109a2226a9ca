"""The what-if API and the saved workloads' API: roles, tenant isolation, clear 400s, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

from souverain.mobility.models import SavedWorkload

from .test_whatif import ON, SEED, resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(example_estate, tenants):
    resource("sovereign/fr-paris-1", tenants["home"], name="ministry-vm")
    resource("sovereign/fr-paris-1", tenants["foreign"], tags=["souverain:classes=health"], name="foreign-vm")
    SavedWorkload.objects.create(tenant=tenants["foreign"], name="foreign-vm workload",
                                 descriptor={"data_classes": ["health"]})
    return tenants


def counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_operators_and_auditors_get_everything_and_nothing_is_written(seeded, api_as):
    for username in ("operator-admin", "auditor"):
        before = counts()
        response = api_as(username).post("/api/whatif/", {"change": SEED.read_text(encoding="utf-8"),
                                                          "on": ON.isoformat(), "format": "markdown"}, format="json")
        assert response.status_code == 200, response.content
        assert counts() == before
        body = response.json()
        names = {item["name"] for item in body["resources"]["list"]}
        assert names == {"ministry-vm", "foreign-vm"}
        assert "National Intelligence Law" in body["report"] and "sovereign/fr-paris-1" in body["report"]
        assert [s["name"] for s in body["saved_workloads"]] == ["foreign-vm workload"]


def test_a_tenant_gets_only_its_own_resources(seeded, api_as):
    response = api_as("tenant-admin").post("/api/whatif/", {"changes": [
        {"stack": {"cloud": "sovereign", "like": "international"}}], "on": ON.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {item["name"] for item in body["resources"]["list"]} == {"ministry-vm"}
    assert body["saved_workloads"] == [] and "foreign-vm" not in response.content.decode()


def test_bad_questions_are_400_naming_the_field(seeded, api_as):
    client = api_as("operator-ops")
    response = client.post("/api/whatif/", {"changes": [{"stack": {"cloud": "nowhere", "like": "international"}}]},
                           format="json")
    assert response.status_code == 400
    assert "changes[0].stack.cloud: unknown cloud 'nowhere'" in response.json()["changes"][0]
    response = client.post("/api/whatif/", {"change": "version: 1\nchanges:\n  - stack: {cloud: sovereign}\n"},
                           format="json")
    assert response.status_code == 400 and "change:3:" in response.json()["change"][0]
    response = client.post("/api/whatif/", {"estate": "clouds: 3\n"}, format="json")
    assert response.status_code == 400 and response.json()["estate"]
    response = client.post("/api/whatif/", {}, format="json")
    assert response.status_code == 400 and "changes" in response.json()
    response = client.post("/api/whatif/", {"change": "a: b", "estate": "c: d"}, format="json")
    assert response.status_code == 400


def test_an_alternative_estate_file(seeded, api_as):
    text = (Path(__file__).resolve().parents[3] / "examples/estate/souverain.yaml").read_text(encoding="utf-8")
    text = text.replace("vendor: null, vendor_access: none}", "vendor: longhua-tech, vendor_access: remote_support}")
    response = api_as("operator-admin").post("/api/whatif/", {"estate": text, "on": ON.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    region = next(r for r in response.json()["regions"] if r["region"] == "sovereign/fr-paris-1")
    assert any(law["law"] == "cn-nil-art7" for law in region["newly_reaching_laws"])


def test_saved_workloads_are_tenant_scoped(seeded, api_as):
    tenant = api_as("tenant-member")
    assert tenant.get("/api/saved-workloads/").json()["results"] == []
    created = tenant.post("/api/saved-workloads/", {"name": "app", "descriptor": {"data_classes": ["personal"]}},
                          format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tenant"] == "ministere" and created.json()["created_by"] == "tenant-member"
    refused = tenant.post("/api/saved-workloads/", {"name": "x", "tenant": "other-corp", "descriptor": {}},
                          format="json")
    assert refused.status_code == 400 and "tenant" in refused.json()
    bad = tenant.post("/api/saved-workloads/", {"name": "y", "descriptor": {"data_classes": ["nonsense"]}},
                      format="json")
    assert bad.status_code == 400 and "descriptor" in bad.json()
    foreign = SavedWorkload.objects.get(name="foreign-vm workload")
    assert tenant.get(f"/api/saved-workloads/{foreign.pk}/").status_code == 404
    assert tenant.delete(f"/api/saved-workloads/{foreign.pk}/").status_code == 404
    assert api_as("auditor").post("/api/saved-workloads/", {"name": "z", "descriptor": {}},
                                  format="json").status_code == 403
    names = {row["name"] for row in api_as("operator-ops").get("/api/saved-workloads/").json()["results"]}
    assert names == {"app", "foreign-vm workload"}


def test_would_the_tenant_fit_is_answered_with_the_servers_sizes_and_scoped(seeded, api_as):
    """Issue 15's question through a what-if: if the ministry moved to each region, would its servers fit?"""
    from souverain.capacity.services import store
    from souverain.capacity.tests.factories import capacity_report, provider
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource

    Resource.objects.filter(name="ministry-vm").update(attrs={"flavor": {"vcpus": 8, "ram": 16384, "disk": 40}})
    roomy = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    small = Region.objects.get(cloud__slug="international", slug="eu-central-1")
    store(roomy, capacity_report(provider("big", vcpu=64, ram_mb=262144)))
    store(small, capacity_report(provider("tiny", vcpu=8, ram_mb=65536, used=(4, 0, 0))))
    before = counts()
    body = {"changes": [{"stack": {"cloud": "sovereign", "like": "international"}}], "on": ON.isoformat(),
            "fit_tenant": "ministere", "format": "markdown"}
    response = api_as("tenant-admin").post("/api/whatif/", body, format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200, response.content
    assert counts() == before
    fit = response.json()["fit"]
    assert fit["tenant"] == "ministere"
    assert fit["regions"]["international/eu-west-1"]["status"] == "fits"
    central = fit["regions"]["international/eu-central-1"]
    assert central["status"] == "full" and central["missing"] == {"VCPU": 4}  # 8 vCPU asked, 4 free
    assert fit["regions"]["sovereign/fr-paris-1"]["servers"] == 0  # already there: nothing to move
    assert fit["regions"]["international/ap-southeast-1"]["status"] == "unknown"  # never measured
    assert "autorisée mais pleine : il faut 8 vCPU, 4 libres" in response.json()["report"]
    # Another tenant's node is not theirs to ask about: the same refusal as for a tenant that does not exist.
    for slug in ("other-corp", "nowhere"):
        refused = api_as("tenant-admin").post("/api/whatif/", {**body, "fit_tenant": slug}, format="json")
        assert refused.status_code == 400 and f"'{slug}'" in refused.json()["fit_tenant"][0]
    assert api_as("operator-ops").post("/api/whatif/", {**body, "fit_tenant": "other-corp"},
                                       format="json").status_code == 200
