"""What-if's capacity question: "if this tenant moved here, would it fit?" (``services.would_fit``): the tenant's
servers (its node and the nodes below it) by their inventoried sizes, those already in a region needing no room
there, against each region's free capacity as last measured."""

from __future__ import annotations

from typing import Any

import pytest

from souverain.capacity.services import server_sizes, store, would_fit
from souverain.inventory.tests.factories import make_cloud, make_resource
from souverain.tenancy.models import Tenant

from .factories import capacity_report, provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate() -> dict[str, Any]:
    cloud = make_cloud("pub", regions=("here", "roomy", "small"))
    regions = {r.slug: r for r in cloud.regions.all()}
    store(regions["roomy"], capacity_report(provider("big", vcpu=16, ram_mb=65536)))
    store(regions["small"], capacity_report(provider("tiny", vcpu=8, ram_mb=65536, used=(2, 0, 0))))
    ministry = Tenant.objects.create(slug="ministry", name="Ministry")
    directorate = Tenant.objects.create(slug="directorate", name="Directorate", parent=ministry)
    other = Tenant.objects.create(slug="other", name="Other")
    medium = {"vcpus": 4, "ram": 8192, "disk": 20}
    make_resource(cloud, external_id="m1", tenant=ministry, flavor=medium)
    make_resource(cloud, external_id="m2", tenant=ministry, flavor=medium)
    make_resource(cloud, external_id="d1", tenant=directorate, flavor={"vcpus": 8, "ram": 16384, "disk": 40})
    make_resource(cloud, external_id="gone", tenant=ministry, flavor={"vcpus": 64, "ram": 1, "disk": 1}, gone=True)
    make_resource(cloud, external_id="o1", tenant=other, flavor={"vcpus": 32, "ram": 1024, "disk": 1})
    return {"cloud": cloud, "ministry": ministry, "directorate": directorate}


def test_server_sizes_groups_shapes_from_the_normalised_attributes_or_the_flavour() -> None:
    assert server_sizes([{"normalised": {"vcpus": 2, "ram": 4096}, "flavor": {"disk": 10}},
                         {"normalised": {}, "flavor": {"vcpus": 2, "ram": 4096, "disk": 10}},
                         {"normalised": {}, "flavor": None}]) == [
        {"vcpu": 0, "ram_mb": 0, "disk_gb": 0, "count": 1}, {"vcpu": 2, "ram_mb": 4096, "disk_gb": 10, "count": 2}]


def test_the_subtree_fits_where_there_is_room_and_is_full_with_numbers_elsewhere(estate: dict[str, Any]) -> None:
    verdicts = would_fit(["pub/roomy", "pub/small", "pub/here", "pub/never-measured"], tenant=estate["ministry"])
    # 4 + 4 + 8 vCPU (the directorate's server counts: it is below the ministry; the gone one and Other's do not).
    assert verdicts["pub/roomy"]["status"] == "fits" and verdicts["pub/roomy"]["servers"] == 3
    small = verdicts["pub/small"]
    assert small["status"] == "full" and small["missing"] == {"VCPU": 10}
    assert small["message"] == "allowed but full: needs 16 vCPU, 6 free"
    assert small["message_fr"] == "autorisée mais pleine : il faut 16 vCPU, 6 libres"
    assert verdicts["pub/here"]["status"] == "fits" and verdicts["pub/here"]["servers"] == 0  # already there
    assert verdicts["pub/never-measured"]["status"] == "unknown"


def test_a_child_alone_or_chosen_resources(estate: dict[str, Any]) -> None:
    assert would_fit(["pub/small"], tenant=estate["directorate"])["pub/small"]["status"] == "full"  # 8 > 6 free
    one = list(estate["cloud"].resources.filter(external_id="m1").values_list("pk", flat=True))
    two = list(estate["cloud"].resources.filter(external_id__in=["m1", "m2"]).values_list("pk", flat=True))
    chosen = would_fit(["pub/small"], resource_ids=one)["pub/small"]
    assert chosen["status"] == "fits" and chosen["servers"] == 1  # 4 of 6 free vCPU
    assert would_fit(["pub/small"], resource_ids=two)["pub/small"]["missing"] == {"VCPU": 2}  # 8 of 6
