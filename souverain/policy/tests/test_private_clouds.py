"""Private clouds belong to their customers (issue 10, item 6).

The example estate dedicates its two customers' private clouds to them (fusionsphere-private to the hospital
group, nutanix-private to the bank). Another tenant neither sees them (API lists and details, portal pages)
nor gets them proposed by placement; a resource of another tenant found in one is a violation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from souverain.core.roles import Role
from souverain.estate import estatefile, snapshot
from souverain.estate.models import Cloud, Region
from souverain.inventory.models import Resource
from souverain.policy import services
from souverain.policy.compliance import FOREIGN_PRIVATE_CLOUD, evaluate
from souverain.policy.engine import Engine
from souverain.policy.models import Violation
from souverain.sovereignty.kb import packaged
from souverain.tenancy.models import Membership, Tenant

ROOT = Path(__file__).resolve().parents[3]
ON = "2026-11-25"
PRIVATE = {"fusionsphere-private": "gh-saint-martin", "nutanix-private": "banque-mutualiste-centre"}


def client_for(tenant: Tenant, role: str = Role.TENANT_MEMBER) -> APIClient:
    user = get_user_model().objects.create_user(username=f"{tenant.slug}-{role}", password="pw")
    Membership.objects.create(user=user, role=role, tenant=tenant)
    client = APIClient()
    client.force_authenticate(user)
    return client


def clouds_in(result: dict) -> set[str]:
    return {entry["cloud"] for entry in [*result["allowed"], *result["denied"]]}


@pytest.fixture
def estate(example_estate, tenants):
    return {"ministere": tenants["home"], **{slug: Tenant.objects.get(slug=slug) for slug in PRIVATE.values()}}


@pytest.mark.django_db
def test_a_tenant_never_sees_another_customers_private_cloud_in_the_api(estate, api_as):
    hospital = client_for(estate["gh-saint-martin"])
    ministry = api_as("tenant-member")
    bank_cloud = Region.objects.get(cloud__slug="nutanix-private")

    listed = {c["slug"] for c in ministry.get("/api/clouds/", {"limit": 100}).json()["results"]}
    assert listed.isdisjoint(PRIVATE) and {"sovereign", "international"} <= listed
    assert ministry.get("/api/clouds/nutanix-private/").status_code == 404
    assert ministry.get(f"/api/regions/{bank_cloud.pk}/").status_code == 404
    assert ministry.get(f"/api/regions/{bank_cloud.pk}/exposure/").status_code == 404
    regions = {r["cloud"] for r in ministry.get("/api/regions/", {"limit": 100}).json()["results"]}
    assert regions.isdisjoint(PRIVATE)
    certificates = ministry.get("/api/certifications/", {"limit": 500}).json()["results"]
    assert {c["cloud"] for c in certificates}.isdisjoint(PRIVATE)

    # The hospital group sees its own private cloud, not the bank's; the auditor bound to it likewise.
    own = {c["slug"]: c for c in hospital.get("/api/clouds/", {"limit": 100}).json()["results"]}
    assert "fusionsphere-private" in own and "nutanix-private" not in own
    assert own["fusionsphere-private"]["dedicated_to"] == ["gh-saint-martin"]
    assert hospital.get("/api/clouds/nutanix-private/").status_code == 404
    auditor = client_for(estate["gh-saint-martin"], Role.AUDITOR)
    assert auditor.get("/api/clouds/nutanix-private/").status_code == 404

    # Operators see every cloud, with its tenants.
    operator = {c["slug"]: c for c in api_as("operator-ops").get("/api/clouds/", {"limit": 100}).json()["results"]}
    assert {slug: operator[slug]["dedicated_to"] for slug in PRIVATE} == {k: [v] for k, v in PRIVATE.items()}
    assert operator["sovereign"]["dedicated_to"] == []


@pytest.mark.django_db
def test_a_shared_private_cloud_does_not_name_its_other_tenants(estate, api_as):
    Cloud.objects.get(slug="nutanix-private").dedicated_to.add(estate["gh-saint-martin"])
    hospital = client_for(estate["gh-saint-martin"])
    assert hospital.get("/api/clouds/nutanix-private/").json()["dedicated_to"] == ["gh-saint-martin"]


@pytest.mark.django_db
def test_operators_dedicate_a_cloud_through_the_api(estate, api_as):
    admin = api_as("operator-admin")
    response = admin.patch("/api/clouds/sovereign/", {"dedicated_to": ["ministere"]}, format="json")
    assert response.status_code == 200, response.content
    assert api_as("foreign-admin").get("/api/clouds/sovereign/").status_code == 404
    assert api_as("tenant-member").get("/api/clouds/sovereign/").status_code == 200
    unknown = admin.patch("/api/clouds/sovereign/", {"dedicated_to": ["nobody"]}, format="json")
    assert unknown.status_code == 400 and "dedicated_to" in unknown.json()


@pytest.mark.django_db
def test_placement_proposes_only_public_clouds_and_the_tenants_own(estate, api_as):
    public_data = {"data_classes": ["public"]}
    ministry = api_as("tenant-member").post("/api/placement/", {"workload": public_data, "on": ON}, format="json")
    assert ministry.status_code == 200, ministry.content
    assert clouds_in(ministry.json()).isdisjoint(PRIVATE)
    assert ministry.json()["allowed"]  # public clouds still are

    hospital = client_for(estate["gh-saint-martin"]).post(
        "/api/placement/", {"workload": public_data, "on": ON}, format="json").json()
    assert "fusionsphere-private" in clouds_in(hospital) and "nutanix-private" not in clouds_in(hospital)

    # No tenant (an operator's what-if): public clouds only.
    what_if = api_as("operator-admin").post("/api/placement/", {"workload": public_data, "on": ON},
                                            format="json").json()
    assert clouds_in(what_if).isdisjoint(PRIVATE)
    as_bank = api_as("operator-admin").post(
        "/api/placement/", {"workload": {**public_data, "tenant": "banque-mutualiste-centre"}, "on": ON},
        format="json").json()
    assert "nutanix-private" in clouds_in(as_bank) and "fusionsphere-private" not in clouds_in(as_bank)


def test_placement_against_the_estate_file_follows_its_dedications():
    estate = snapshot.from_document(estatefile.load(ROOT / "examples" / "estate" / "souverain.yaml"))
    assert estate.clouds["fusionsphere-private"].dedicated_to == ["gh-saint-martin"]
    common = {"estate": estate, "kb": packaged(), "engine": Engine(), "use_tenant_defaults": False}
    anonymous = services.place({"data_classes": ["public"]}, dt.date(2026, 11, 25), **common)
    hospital = services.place({"data_classes": ["public"], "tenant": "gh-saint-martin"}, dt.date(2026, 11, 25),
                              **common)
    assert clouds_in(anonymous).isdisjoint(PRIVATE)
    assert clouds_in(hospital) & set(PRIVATE) == {"fusionsphere-private"}


@pytest.mark.django_db
def test_a_resource_in_another_customers_private_cloud_is_a_violation(estate):
    region = Region.objects.select_related("cloud").get(cloud__slug="fusionsphere-private")
    now = timezone.now()

    def server(tenant: Tenant | None, name: str) -> Resource:
        return Resource.objects.create(kind="server", cloud=region.cloud, region=region, tenant=tenant,
                                       external_id=name, name=name, status="active", attrs={}, attrs_hash="x",
                                       tags=[], first_seen=now, last_seen=now)

    intruder = server(estate["ministere"], "intruder")
    owner = server(estate["gh-saint-martin"], "own")
    unmapped = server(None, "unmapped")
    evaluate(on=dt.date(2026, 11, 25))
    violation = Violation.objects.get(resource=intruder, rule=FOREIGN_PRIVATE_CLOUD, resolved_at__isnull=True)
    assert violation.severity == "critical" and violation.tenant == estate["ministere"]
    assert "ministere" in violation.message and "gh-saint-martin" not in violation.message
    assert violation.reason[0]["message_fr"].startswith("La région")
    assert not Violation.objects.filter(resource__in=[owner, unmapped], rule=FOREIGN_PRIVATE_CLOUD).exists()


@pytest.mark.django_db
def test_portal_pages_hide_another_customers_private_cloud(estate, role_users):
    from django.test import Client

    client = Client()
    client.force_login(role_users["tenant-member"])
    private = Cloud.objects.get(slug="nutanix-private")
    assert client.get(f"/clouds/{private.slug}/").status_code == 404
    assert client.get(f"/regions/{private.regions.get().pk}/").status_code == 404
    overview = client.get("/").content.decode()
    assert "Banque Mutualiste du Centre private cloud" not in overview
    assert "Hexagone Cloud Souverain" in overview


@pytest.mark.django_db
def test_the_estate_file_dedicates_clouds_to_existing_tenants_only(kb_loaded, tmp_path):
    from souverain.estate.services import apply_file

    text = (ROOT / "examples" / "estate" / "souverain.yaml").read_text(encoding="utf-8")
    path = tmp_path / "estate.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(estatefile.EstateFileError) as refused:  # the example tenants do not exist here
        apply_file(path)
    problems = {(p.field, p.message) for p in refused.value.problems}
    assert ("clouds[2].dedicated_to[0]", "unknown tenant 'gh-saint-martin' (create the tenant before applying"
            " the file)") in problems
    assert refused.value.problems[0].line > 1
    assert not Cloud.objects.exists()  # nothing half-written

    for slug in PRIVATE.values():
        Tenant.objects.create(slug=slug, name=slug)
    apply_file(path)
    assert {c.slug: [t.slug for t in c.dedicated_to.all()] for c in Cloud.objects.filter(slug__in=PRIVATE)} == \
        {k: [v] for k, v in PRIVATE.items()}
    path.write_text(text.replace("    dedicated_to: [gh-saint-martin]", ""), encoding="utf-8")
    apply_file(path)  # no longer dedicated: public again
    assert not Cloud.objects.get(slug="fusionsphere-private").dedicated_to.exists()


@pytest.mark.django_db
def test_a_tenant_holding_a_private_cloud_cannot_be_deleted_into_making_it_public(estate):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        estate["gh-saint-martin"].delete()
    assert Cloud.objects.get(slug="fusionsphere-private").dedicated_to.get() == estate["gh-saint-martin"]
