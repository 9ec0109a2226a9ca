"""Capacity against the real test-bed: what Souverain stores equals Placement's inventories and usages read raw
(keystoneauth, outside the connector); a server of flavor F moves the used vCPU by F's vCPU; a workload bigger
than a region's free capacity is "allowed but full" there.

Other suites create servers on the same clouds at the same time, so every comparison is made in a quiet window:
Placement's allocations are read raw before and after Souverain measures, and the comparison counts only when
the two reads agree (retried otherwise). Moving by F's vCPU is checked net of what other consumers did meanwhile,
read from the same raw allocations. The test-bed is expected: when it cannot come up these tests error.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

import testbed
from souverain.capacity import services
from souverain.capacity.models import CapacityFigure, CapacitySnapshot
from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.inventory import services as inventory

pytestmark = [pytest.mark.testbed, pytest.mark.django_db(transaction=True)]

REGIONS = {"sovereign": "fr-paris-1", "international": "eu-west-1"}
CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")
ATTEMPTS = 15


@pytest.fixture(scope="module")
def clouds_yaml() -> Iterator[Path]:
    path = testbed.up()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield path


@pytest.fixture
def estate(clouds_yaml: Path) -> dict[str, Region]:
    operator = LegalEntity.objects.create(slug="tb-cap-operator", name="Test-bed operator", country="FR")
    regions = {}
    for name, region in REGIONS.items():
        cloud = Cloud.objects.create(slug=name, name=name, kind="openstack", clouds_yaml_entry=f"{name}-admin",
                                     operator=operator)
        regions[name] = Region.objects.create(cloud=cloud, slug=region, name=region)
        inventory.forget_connector(cloud, regions[name])
    return regions


class RawPlacement:
    """Placement read with keystoneauth alone: providers, inventories, usages and allocations, as the API says."""

    def __init__(self, clouds_yaml: Path, cloud: str) -> None:
        entry = yaml.safe_load(clouds_yaml.read_text())["clouds"][f"{cloud}-admin"]
        self.session = ks_session.Session(auth=v3.Password(**entry["auth"]))
        self.filter = {"service_type": "placement", "interface": "public", "region_name": entry["region_name"]}

    def get(self, path: str) -> Any:
        response = self.session.get(path, endpoint_filter=self.filter,
                                    headers={"OpenStack-API-Version": "placement 1.14"})
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        """Per provider UUID: its inventories, usages and allocations by consumer."""
        state = {}
        for provider in self.get("/resource_providers")["resource_providers"]:
            uuid_ = provider["uuid"]
            state[uuid_] = {
                "inventories": self.get(f"/resource_providers/{uuid_}/inventories")["inventories"],
                "usages": self.get(f"/resource_providers/{uuid_}/usages")["usages"],
                "allocations": {consumer: a["resources"] for consumer, a in
                                self.get(f"/resource_providers/{uuid_}/allocations")["allocations"].items()},
            }
        return state


def quietly(raw: RawPlacement, measure: Callable[[], Any]) -> tuple[dict[str, Any], Any]:
    """``measure()`` between two raw reads of Placement that agree: (the raw state, what measure returned)."""
    for _ in range(ATTEMPTS):
        before = raw.state()
        result = measure()
        if raw.state() == before:
            return before, result
        time.sleep(1)
    pytest.fail(f"Placement never stayed still for one measure in {ATTEMPTS} attempts (other suites busy?)")


def expected_sums(state: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The region's figures computed here from the raw answers: (total - reserved) x ratio, usages summed."""
    sums: dict[str, dict[str, int]] = {}
    for provider in state.values():
        for rc, inv in provider["inventories"].items():
            if rc not in CLASSES:
                continue
            into = sums.setdefault(rc, {"total": 0, "reserved": 0, "allocatable": 0, "used": 0})
            into["total"] += inv["total"]
            into["reserved"] += inv["reserved"]
            into["allocatable"] += math.floor((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
            into["used"] += provider["usages"].get(rc, 0)
    return sums


def stored_sums(snapshot: CapacitySnapshot) -> dict[str, dict[str, int]]:
    return {f.resource_class: {"total": f.total, "reserved": f.reserved, "allocatable": f.allocatable, "used": f.used}
            for f in CapacityFigure.objects.filter(snapshot=snapshot, zone="")}


@pytest.mark.parametrize("cloud", list(REGIONS))
def test_capacity_per_region_equals_placement_read_raw(clouds_yaml: Path, estate: dict[str, Region],
                                                       cloud: str) -> None:
    region = estate[cloud]
    raw = RawPlacement(clouds_yaml, cloud)
    state, snapshot = quietly(raw, lambda: services.sync_region(region.cloud, region))
    assert snapshot.status == "ok", snapshot.error
    assert stored_sums(snapshot) == expected_sums(state)
    assert {p["uuid"] for p in snapshot.providers} == set(state)
    zones = set(CapacityFigure.objects.filter(snapshot=snapshot).exclude(zone="").values_list("zone", flat=True))
    assert zones == {"nova"}  # the test-bed's compute hosts are in Nova's default zone


def test_a_server_moves_the_used_vcpu_by_its_flavor(clouds_yaml: Path, estate: dict[str, Region]) -> None:
    region = estate["sovereign"]
    raw = RawPlacement(clouds_yaml, "sovereign")
    admin = openstack.connect(cloud="sovereign-admin")
    vcpus = 3  # a count no bootstrap flavor has, so the server's allocation is recognisable
    flavor = admin.compute.create_flavor(name=f"cap-{uuid.uuid4().hex[:6]}", ram=64, vcpus=vcpus, disk=1)
    server = None
    try:
        before, first = quietly(raw, lambda: services.sync_region(region.cloud, region))
        image = admin.image.find_image("testbed-tiny")
        network = admin.network.find_network("shared")
        server = admin.compute.create_server(name=f"cap-{uuid.uuid4().hex[:6]}", flavor_id=flavor.id,
                                             image_id=image.id, networks=[{"uuid": network.id}])
        server = admin.compute.wait_for_server(server, wait=300)
        after, second = quietly(raw, lambda: services.sync_region(region.cloud, region))
    finally:
        if server is not None:
            admin.compute.delete_server(server, ignore_missing=True)
            admin.compute.wait_for_delete(server, wait=300)
        admin.compute.delete_flavor(flavor, ignore_missing=True)

    def allocated(state: dict[str, Any], skip: str | None = None) -> int:
        return sum(resources.get("VCPU", 0) for provider in state.values()
                   for consumer, resources in provider["allocations"].items() if consumer != skip)

    mine = sum(p["allocations"].get(server.id, {}).get("VCPU", 0) for p in after.values())
    assert mine == vcpus
    others_meanwhile = allocated(after, skip=server.id) - allocated(before)
    used = {s: CapacityFigure.objects.get(snapshot=s, zone="", resource_class="VCPU").used for s in (first, second)}
    assert used[second] - used[first] == vcpus + others_meanwhile
    assert used[second] == allocated(after)


def test_a_workload_bigger_than_the_free_capacity_is_allowed_but_full(clouds_yaml: Path,
                                                                      estate: dict[str, Region]) -> None:
    from souverain.policy import services as policy

    region = estate["sovereign"]
    snapshot = services.sync_region(region.cloud, region)
    assert snapshot.status == "ok", snapshot.error
    vcpu = CapacityFigure.objects.get(snapshot=snapshot, zone="", resource_class="VCPU")
    per_server = max(p["inventories"]["VCPU"]["max_unit"] for p in snapshot.providers)  # as big as a node takes
    too_many = vcpu.free // per_server + 1
    result = policy.place({"name": "big", "size": {"vcpu": per_server, "count": too_many}})
    entry = next(a for a in result["allowed"] if a["region"] == region.key)
    assert entry["capacity"]["status"] == "full"
    assert entry["capacity"]["missing"]["VCPU"] == per_server * too_many - vcpu.free
    assert entry["capacity"]["message"].startswith("allowed but full: needs")
    statuses = [a["capacity"]["status"] for a in result["allowed"]]
    assert statuses == sorted(statuses, key=lambda status: status == "full")  # full ones ranked last
    international = next(a for a in result["allowed"] if a["region"] == estate["international"].key)
    assert international["capacity"]["status"] == "unknown"  # never measured here: no claim
    small = policy.place({"name": "small", "size": {"vcpu": 1, "ram_mb": 64, "disk_gb": 1}})
    fits = next(a for a in small["allowed"] if a["region"] == region.key)
    assert fits["capacity"]["status"] == "fits" and fits["capacity"]["headroom"] > 0
