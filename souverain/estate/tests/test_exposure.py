"""Exposure of every region of the example estate: the right laws, channels and explanation chains."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from souverain.estate.models import Region

ON = "2026-11-25"


def exposure(api, key: str, on: str = ON) -> dict:
    cloud, region = key.split("/")
    pk = Region.objects.get(cloud__slug=cloud, slug=region).pk
    response = api.get(f"/api/regions/{pk}/exposure/", {"on": on})
    assert response.status_code == 200, response.content
    return response.json()


def chains(data: dict, law: str, channel: str | None = None) -> list[str]:
    return [e["explanation"] for e in data["exposure"] if e["law"] == law and channel in (None, e["channel"])]


@pytest.fixture
def api(example_estate, api_as):
    return api_as("auditor")  # reads every region, the customers' private clouds included


@pytest.mark.django_db
def test_sovereign_national_region_is_immune_and_passes_the_ownership_test(api):
    data = exposure(api, "sovereign/fr-paris-1")
    assert data["level"] == "immune"
    assert [e for e in data["exposure"] if e["country"] not in ("FR",)] == []
    assert data["ownership"]["passed"] is True
    assert all(not law["exposed"] and law["why_not"] for law in data["laws"])
    cloud_act = next(law for law in data["laws"] if law["law"] == "us-cloud-act")
    assert "no entity in the operator's control chain is domiciled in United States" in cloud_act["why_not"]
    assert {c["scheme"] for c in data["certifications"] if c["valid"]} >= {"secnumcloud"}


@pytest.mark.django_db
def test_international_region_is_reached_by_the_vendor_and_the_us_colocation(api):
    data = exposure(api, "international/eu-west-1")
    assert data["level"] == "exposed"
    vendor = chains(data, "cn-nil-art7", "access")
    assert vendor and vendor[0].startswith("Region international/eu-west-1 ← cloud")
    assert "has remote support access" in vendor[0] and vendor[0].endswith("article 7")
    assert chains(data, "cn-nil-art7", "supply_chain")
    colo = chains(data, "us-fisa-702", "access")
    assert len(colo) == 1
    assert "backs up its data to" in colo[0] and "facility operated by" in colo[0]
    assert "← 100 % owned by Atlas Interconnect, Inc. (US) → FISA" in colo[0]
    assert not chains(data, "us-cloud-act")  # a colocation landlord has no custody or control of the data
    hds = next(c for c in data["certifications"] if c["scheme"] == "hds")
    assert hds["valid"] is False and hds["days_to_expiry"] < 0


@pytest.mark.django_db
def test_us_hyperscaler_region_in_paris_is_reached_by_the_cloud_act_through_its_parent(api):
    data = exposure(api, "nimbus/eu-paris-1")
    cloud_act = chains(data, "us-cloud-act", "legal_control")
    assert len(cloud_act) == 1
    assert " operated by Nimbus Web Services EMEA Limited (IE) ← 100 % owned by Nimbus Web Services, Inc. (US)" \
        " → CLOUD Act" in cloud_act[0]
    assert data["ownership"]["passed"] is False
    assert data["ownership"]["non_eu_single_max"]["country"] == "US"
    parent = data["operator"]["chain"][1]
    assert parent["country"] == "US" and parent["dpf_certified"] is True


@pytest.mark.django_db
def test_certificate_validity_depends_on_the_date(api):
    before = exposure(api, "international/eu-west-1", on="2026-05-15")
    after = exposure(api, "international/eu-west-1", on="2026-05-16")
    hds_before = next(c for c in before["certifications"] if c["scheme"] == "hds")
    hds_after = next(c for c in after["certifications"] if c["scheme"] == "hds")
    assert hds_before["valid"] and not hds_after["valid"]


@pytest.mark.django_db
def test_every_example_region_is_explained(api):
    for region in Region.objects.select_related("cloud"):
        data = exposure(api, region.key)
        assert data["level"] in {"immune", "informational", "exposed"}
        for law in data["laws"]:
            assert law["exposed"] == bool(law["paths"])
            assert law["exposed"] or law["why_not"]
        for entry in data["exposure"]:
            assert entry["explanation"].startswith(f"Region {region.key}")
            assert entry["explanation"].endswith(entry["law_name"])


@pytest.mark.django_db
def test_bad_date_is_a_clear_400(api):
    pk = Region.objects.first().pk
    response = api.get(f"/api/regions/{pk}/exposure/", {"on": "25/11/2026"})
    assert response.status_code == 400
    [message] = response.json()["on"]  # DRF's error shape: a list of messages per field
    assert "'25/11/2026' is not a date (YYYY-MM-DD)" in message


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])  # UTC+14 and UTC-12: never the same date
def test_date_defaults_to_today_in_the_configured_time_zone(api, settings, zone):
    """Today is the date in TIME_ZONE, computed here independently of the process clock's zone."""
    settings.TIME_ZONE = zone
    pk = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1").pk
    for _ in range(3):  # a request that straddles midnight in that zone is asked again
        before = dt.datetime.now(ZoneInfo(zone)).date()
        response = api.get(f"/api/regions/{pk}/exposure/")
        assert response.status_code == 200, response.content
        answered = response.json()["date"]
        if dt.datetime.now(ZoneInfo(zone)).date() == before:
            break
    # The two zones' dates always differ, so a default that ignores TIME_ZONE (UTC's date, the machine's) fails one.
    assert answered == before.isoformat()
