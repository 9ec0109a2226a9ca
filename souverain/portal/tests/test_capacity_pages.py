"""Capacity pages: the list of regions, a region's zones and history chart (inline SVG), the region page's summary,
placement's capacity verdicts, in English and French, and another customer's private region hidden."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from souverain.capacity.services import store
from souverain.capacity.tests.factories import capacity_report, provider
from souverain.estate.models import CloudDedication
from souverain.inventory.tests.factories import make_cloud

pytestmark = pytest.mark.django_db


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def measured(tenants: dict[str, Any], role_users: dict[str, Any]) -> dict[str, Any]:
    region = make_cloud("pub", regions=("r1",)).regions.get()
    private_cloud = make_cloud("priv", regions=("p1",))
    CloudDedication.objects.create(cloud=private_cloud, tenant=tenants["foreign"])
    private = private_cloud.regions.get()
    now = timezone.now()
    for days, used in ((3, 1), (2, 4), (1, 6)):
        store(region, capacity_report(provider("n1", zone="az1", vcpu=8, ram_mb=16384, used=(used, 2048, 10)),
                                      provider("n2", zone="az2", vcpu=4)), taken_at=now - dt.timedelta(days=days))
    store(private, capacity_report(provider("n9", zone="Other Corp zone")))
    return {"region": region, "private": private}


def test_the_region_capacity_page_shows_zones_figures_and_the_history_chart(login: Any,
                                                                             measured: dict[str, Any]) -> None:
    page = text(login("operator-ops").get(f"/capacity/regions/{measured['region'].pk}/"))
    assert "Availability zone az1" in page and "Availability zone az2" in page
    assert "<td>12</td><td>6</td><td>6</td>" in page  # vCPU: allocatable 12, used 6, free 6
    assert "<td>48</td><td>2</td><td>46</td>" in page  # RAM in GiB: 16 + 32 allocatable, 2 used
    assert page.count("<svg") == 3 and page.count("<polyline") == 6  # used and allocatable per class
    assert "3 measures" in page
    short = text(login("operator-ops").get(f"/capacity/regions/{measured['region'].pk}/?days=2"))
    assert "1 measure" in short and "3 measures" not in short  # the measures of the last 2 days: one
    refused = text(login("operator-ops").get(f"/capacity/regions/{measured['region'].pk}/?days=lots"))
    assert "days: a whole number from 1 to 366" in refused


def test_french(login: Any, measured: dict[str, Any]) -> None:
    client = login("tenant-member")
    client.cookies["django_language"] = "fr"
    page = text(client.get(f"/capacity/regions/{measured['region'].pk}/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Zone de disponibilité az1" in page and "Historique" in page and "Allouable" in page
    overview = text(client.get("/capacity/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Capacité" in overview and "Capacity unknown" not in overview


def test_tenants_do_not_see_another_customers_private_region(login: Any, measured: dict[str, Any]) -> None:
    client = login("tenant-admin")
    assert client.get(f"/capacity/regions/{measured['private'].pk}/").status_code == 404
    overview = text(client.get("/capacity/"))
    assert "Pub — r1" in overview and "Other Corp" not in overview and "Priv" not in overview
    assert "Other Corp zone" in text(login("foreign-admin").get(f"/capacity/regions/{measured['private'].pk}/"))


def test_a_region_never_measured_says_capacity_unknown(login: Any, measured: dict[str, Any]) -> None:
    empty = make_cloud("empty", regions=("e1",)).regions.get()
    assert "Capacity unknown" in text(login("auditor").get(f"/capacity/regions/{empty.pk}/"))


def test_placement_says_allowed_but_full_in_both_languages(login: Any, estate: Any) -> None:
    from souverain.estate.models import Region

    for region in Region.objects.all():
        store(region, capacity_report(provider(f"n-{region.pk}", vcpu=8)))
    client = login("operator-ops")
    page = text(client.get("/placement/", {"run": "1", "size_vcpu": "4", "size_count": "3"}))
    assert "allowed but full" in page and "needs 12 vCPU, 8 free" in page
    fits = text(client.get("/placement/", {"run": "1", "size_vcpu": "2"}))
    assert "allowed but full" not in fits and "% headroom" in fits
    client.cookies["django_language"] = "fr"
    french = text(client.get("/placement/", {"run": "1", "size_vcpu": "4", "size_count": "3"},
                             HTTP_ACCEPT_LANGUAGE="fr"))
    assert "autorisée mais pleine" in french and "il faut 12 vCPU, 8 libres" in french
    refused = client.get("/placement/", {"run": "1", "size_count": "0"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "allowed but full" not in refused.content.decode()
