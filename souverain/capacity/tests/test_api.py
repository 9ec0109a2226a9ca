"""The capacity API: latest per region and per zone, history with date filters, and who sees which region."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from souverain.capacity.models import CapacitySnapshot
from souverain.capacity.services import fits, store
from souverain.estate.models import CloudDedication
from souverain.inventory.tests.factories import make_cloud

from .factories import capacity_report, provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured(tenants: dict[str, Any]) -> dict[str, Any]:
    public = make_cloud("pub", regions=("r1",)).regions.get()
    private_cloud = make_cloud("priv", regions=("p1",))
    CloudDedication.objects.create(cloud=private_cloud, tenant=tenants["foreign"])
    private = private_cloud.regions.get()
    earlier = timezone.now() - dt.timedelta(days=2)
    store(public, capacity_report(provider("n1", zone="az1", vcpu=8)), taken_at=earlier)
    store(public, capacity_report(provider("n1", zone="az1", vcpu=8, used=(6, 1024, 10)),
                                  provider("n2", zone="az2", vcpu=4, ratio=2.0)))
    store(private, capacity_report(provider("secret-node", zone="Other Corp zone", vcpu=64)))
    return {"public": public, "private": private, "earlier": earlier}


def test_the_latest_capacity_per_region_with_its_zones(api_as: Any, measured: dict[str, Any]) -> None:
    body = api_as("operator-ops").get("/api/capacity/regions/").json()
    by_region = {row["region"]: row for row in body["results"]}
    assert set(by_region) == {"pub/r1", "priv/p1"}
    pub = by_region["pub/r1"]
    assert pub["resources"]["VCPU"] == {"total": 12, "reserved": 0, "allocatable": 16, "used": 6, "free": 10,
                                        "largest_free": 8, "providers": 2}
    assert pub["zones"]["az1"]["VCPU"]["free"] == 2 and pub["zones"]["az2"]["VCPU"]["allocatable"] == 8
    detail = api_as("auditor").get(f"/api/capacity/regions/{measured['public'].pk}/").json()
    assert [p["name"] for p in detail["providers"]] == ["n1", "n2"]
    zones = api_as("operator-ops").get("/api/capacity/zones/", {"cloud": "pub", "resource_class": "VCPU"}).json()
    assert [(z["zone"], z["free"]) for z in zones["results"]] == [("az1", 2), ("az2", 8)]


def test_history_keeps_every_measure_and_filters_by_date(api_as: Any, measured: dict[str, Any]) -> None:
    client = api_as("operator-admin")
    series = client.get("/api/capacity/history/", {"region": measured["public"].pk, "zone": "az1",
                                                   "resource_class": "VCPU"}).json()["results"]
    assert [row["used"] for row in series] == [0, 6]  # oldest first
    since = (measured["earlier"] + dt.timedelta(hours=1)).isoformat()
    recent = client.get("/api/capacity/history/", {"region": measured["public"].pk, "since": since}).json()
    assert recent["count"] == 9  # the last measure only: the region and its two zones, three classes each
    until = client.get("/api/capacity/history/", {"cloud": "pub", "until": since}).json()
    assert {row["taken_at"][:10] for row in until["results"]} == {measured["earlier"].date().isoformat()}
    bad = client.get("/api/capacity/history/", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()


def test_tenants_see_public_regions_and_their_own_private_ones_only(api_as: Any, measured: dict[str, Any]) -> None:
    for username in ("tenant-admin", "tenant-member"):
        client = api_as(username)
        rows = client.get("/api/capacity/regions/").json()["results"]
        assert [row["region"] for row in rows] == ["pub/r1"]
        assert client.get(f"/api/capacity/regions/{measured['private'].pk}/").status_code == 404
        for route in ("zones", "history"):
            assert "Other Corp" not in client.get(f"/api/capacity/{route}/").content.decode()
    foreign = api_as("foreign-admin").get("/api/capacity/regions/").json()["results"]
    assert {row["region"] for row in foreign} == {"pub/r1", "priv/p1"}
    assert api_as(None).get("/api/capacity/regions/").status_code in (401, 403)
    assert api_as("operator-ops").post("/api/capacity/regions/", {}).status_code == 403  # measuring is a job


def test_fits_answers_per_region_from_the_last_measure(measured: dict[str, Any]) -> None:
    verdicts = fits(["pub/r1", "priv/p1", "nowhere/x"], {"vcpu": 9})
    assert verdicts["pub/r1"]["status"] == "full"  # 10 vCPU free in all, but 2 and 8 on the two nodes
    assert verdicts["priv/p1"]["status"] == "fits"
    assert verdicts["nowhere/x"]["status"] == "unknown"
    assert fits(["pub/r1"], {"vcpu": 2, "count": 5})["pub/r1"]["status"] == "fits"  # 1 on n1 + 4 on n2
    assert fits(["pub/r1"], {"vcpu": 2, "count": 6})["pub/r1"]["missing"] == {"VCPU": 2}
    # A failed measure is kept, but the verdict reads the last successful one.
    CapacitySnapshot.objects.create(region=measured["public"], taken_at=timezone.now(), status="failed", error="x")
    assert fits(["pub/r1"], {"vcpu": 2})["pub/r1"]["status"] == "fits"
