"""Obligation vs doctrine end to end: the tenant's legal category, from the database, decides deny or warn.

The same request and the same example estate, placed for a State administration and for a private company
(issue 10, item 1); unknown names in a workload refused with the field named (item 2); both languages of every
reason (the packs' French).
"""

from __future__ import annotations

import datetime as dt

import pytest

from souverain.inventory.models import Resource
from souverain.policy.compliance import evaluate
from souverain.policy.models import Violation
from souverain.tenancy.models import Tenant

ON = "2026-11-25"
INTERNATIONAL = "international/eu-west-1"


@pytest.fixture
def admin(example_estate, api_as):
    return api_as("operator-admin")


def place(client, workload, status=200):
    response = client.post("/api/placement/", {"workload": workload, "on": ON}, format="json")
    assert response.status_code == status, response.content
    return response.json()


def outcome(result, region):
    """('denied', rules) or ('allowed', warning rules) of one region."""
    for entry in result["denied"]:
        if entry["region"] == region:
            return "denied", {r["rule"] for r in entry["reasons"]}
    entry = next(a for a in result["allowed"] if a["region"] == region)
    return "allowed", {w["rule"] for w in entry["warnings"]}


@pytest.mark.django_db
def test_the_same_restricted_workload_is_denied_for_a_ministry_and_warned_for_a_private_company(admin):
    Tenant.objects.create(slug="dinum", name="DINUM", category="state_administration")
    Tenant.objects.create(slug="acme", name="Acme SAS", category="private")
    request = {"data_classes": ["diffusion_restreinte"]}
    ministry = place(admin, {**request, "tenant": "dinum"})
    company = place(admin, {**request, "tenant": "acme"})
    assert ministry["workload"]["tenant_category"] == "state_administration"
    verdict, rules = outcome(ministry, INTERNATIONAL)
    assert verdict == "denied" and {"secnumcloud.vendor_access", "extraterritorial.compelled_exposure"} <= rules
    verdict, rules = outcome(company, INTERNATIONAL)
    assert verdict == "allowed" and {"secnumcloud.vendor_access", "extraterritorial.compelled_exposure"} <= rules
    warning = next(w for a in company["allowed"] if a["region"] == INTERNATIONAL for w in a["warnings"]
                   if w["rule"] == "secnumcloud.vendor_access")
    assert "State administrations and public bodies" in warning["binds"]
    assert warning["message_fr"].startswith("Région ") and "Recommandation" in warning["message_fr"]


@pytest.mark.django_db
def test_a_request_cannot_lower_its_tenant_s_category(admin):
    Tenant.objects.create(slug="dinum", name="DINUM", category="state_administration")
    response = admin.post("/api/placement/", {"workload": {"tenant": "dinum", "tenant_category": "private"}},
                          format="json")
    assert response.status_code == 400
    assert "tenant_category" in str(response.json())


@pytest.mark.django_db
@pytest.mark.parametrize("workload, field", [
    ({"requirements": {"no_exposure_to": ["us-clud-act"]}}, "requirements.no_exposure_to.0: unknown law 'us-clud-act'"),
    ({"requirements": {"no_foriegn_law": True}}, "requirements.no_foriegn_law: unknown requirement"),
    ({"data_classes": ["secret"]}, "data_classes.0: unknown data class 'secret'"),
    ({"requirements": {"packs": ["hsd"]}}, "requirements.packs.0: unknown pack 'hsd'"),
])
def test_unknown_names_are_refused_naming_the_field(admin, workload, field):
    response = admin.post("/api/placement/", {"workload": workload, "on": ON}, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json())


@pytest.mark.django_db
def test_no_foreign_law_denies_every_region_a_non_eu_law_reaches(admin):
    result = place(admin, {"data_classes": ["internal"], "requirements": {"no_foreign_law": True}})
    verdict, rules = outcome(result, INTERNATIONAL)
    assert verdict == "denied" and "extraterritorial.compelled_exposure" in rules
    assert outcome(result, "sovereign/fr-paris-1")[0] == "allowed"


@pytest.mark.django_db
def test_an_unknown_class_in_resource_tags_is_a_violation_not_ignored(example_estate):
    from django.utils import timezone

    from souverain.estate.models import Region

    region = Region.objects.select_related("cloud").get(cloud__slug="sovereign", slug="fr-paris-1")
    now = timezone.now()
    labelled = Resource.objects.create(
        kind="server", cloud=region.cloud, region=region, external_id="x-1", name="db", status="active",
        attrs={}, attrs_hash="x", tags=["souverain:classes=Diffusion-Restriente"], first_seen=now, last_seen=now)
    evaluate(on=dt.date.fromisoformat(ON))
    violation = Violation.objects.get(resource=labelled, resolved_at__isnull=True)
    assert violation.rule == "requirements.unknown_label"
    assert "Diffusion-Restriente" in violation.message
    assert violation.reason[0]["message_fr"].startswith("La charge de travail porte la classe de données inconnue")
