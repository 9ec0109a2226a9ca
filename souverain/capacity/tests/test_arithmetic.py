"""The capacity arithmetic: Placement's allocatable = (total - reserved) x allocation_ratio, used, free, and whether
a workload of a size fits, provider tree by provider tree."""

from __future__ import annotations

from souverain.capacity import fit
from souverain.connectors.openstack.capacity import allocatable, inventory_figures, summarise

from .factories import capacity_report, provider


def test_allocatable_subtracts_reserved_before_applying_the_ratio() -> None:
    assert allocatable(1000, 0, 16.0) == 16000
    assert allocatable(800000, 512, 16.0) == (800000 - 512) * 16
    assert allocatable(10, 2, 1.5) == 12
    assert allocatable(7, 0, 0.5) == 3  # whole units: floored
    assert allocatable(4, 6, 2.0) == 0  # more reserved than there is: nothing, never negative


def test_free_is_allocatable_minus_used_never_negative_and_none_where_nova_cannot_schedule() -> None:
    figures = inventory_figures({"total": 8, "reserved": 2, "allocation_ratio": 4.0, "max_unit": 8}, 5)
    assert (figures["allocatable"], figures["used"], figures["free"]) == (24, 5, 19)
    over = inventory_figures({"total": 8, "reserved": 0, "allocation_ratio": 1.0}, 10)  # a ratio lowered later
    assert (over["allocatable"], over["free"]) == (8, 0)
    disabled = inventory_figures({"total": 8, "reserved": 0, "allocation_ratio": 1.0}, 2, schedulable=False)
    assert (disabled["allocatable"], disabled["used"], disabled["free"]) == (8, 2, 0)


def test_region_and_zone_sums() -> None:
    report = capacity_report(provider("a", zone="az1", vcpu=8, ratio=2.0, used=(4, 1024, 10)),
                             provider("b", zone="az2", vcpu=4, reserved_mb=512, used=(1, 0, 0)),
                             provider("pool", zone=None, vcpu=0, ram_mb=0))
    region = report["region"]
    assert region["VCPU"] == {"total": 12, "reserved": 0, "allocatable": 20, "used": 5, "free": 15, "providers": 3,
                              "largest_free": 12}
    assert region["MEMORY_MB"]["allocatable"] == 32768 * 2 + (32768 - 512)
    assert set(report["zones"]) == {"az1", "az2"}  # a provider outside any zone counts in the region only
    assert report["zones"]["az2"]["VCPU"]["free"] == 3
    assert summarise([]) == {}


def test_a_size_fits_or_says_allowed_but_full_with_what_is_missing() -> None:
    report = capacity_report(provider("a", vcpu=8, used=(6, 0, 0)), provider("b", vcpu=8))
    fits = fit.verdict(report, {"vcpu": 2, "ram_mb": 1024, "count": 4})
    assert fits["status"] == fit.FITS and fits["hosted"] == 5
    assert fits["headroom"] == 2 / 16  # the scarcest class once placed: 2 of 16 vCPU left
    assert fit.verdict(report, {"vcpu": 2, "count": 5})["headroom"] == 0.0
    full = fit.verdict(report, {"vcpu": 4, "count": 3})
    assert full["status"] == fit.FULL
    assert full["missing"] == {"VCPU": 2} and "needs 12 vCPU, 10 free" in full["message"]
    assert full["message"].startswith("allowed but full") and full["message_fr"].startswith("autorisée mais pleine")


def test_free_capacity_spread_over_nodes_too_small_for_one_server_is_full() -> None:
    report = capacity_report(provider("a", vcpu=8, used=(5, 0, 0)), provider("b", vcpu=8, used=(5, 0, 0)))
    verdict = fit.verdict(report, {"vcpu": 4})  # 6 vCPU free in all, 3 on each node
    assert verdict["status"] == fit.FULL and verdict["missing"] == {} and verdict["hosted"] == 0
    assert "room for only 0 of 1 servers, each on one node" in verdict["message"]
    # Beyond a class's max_unit, no node can take it, whatever is free.
    assert fit.verdict(capacity_report(provider("c", vcpu=8, ratio=4.0)), {"vcpu": 9})["status"] == fit.FULL


def test_nested_providers_count_with_their_root() -> None:
    root = provider("node", vcpu=4, disk_gb=0)
    child = provider("disk", vcpu=0, ram_mb=0, disk_gb=100, root="uuid-node")
    assert fit.verdict(capacity_report(root, child), {"vcpu": 2, "disk_gb": 50, "count": 2})["status"] == fit.FITS


def test_unknown_capacity_is_no_claim() -> None:
    verdict = fit.verdict(None, {"vcpu": 10**9})
    assert verdict["status"] == fit.UNKNOWN and verdict["headroom"] is None
    assert verdict["message"] == "capacity unknown" and verdict["message_fr"] == "capacité inconnue"


def test_servers_of_several_shapes_are_placed_biggest_first() -> None:
    report = capacity_report(provider("a", vcpu=8), provider("b", vcpu=8))
    moved = [{"vcpu": 2, "count": 2}, {"vcpu": 6}, {"vcpu": 4}]  # 6 + 2 on one node, 4 + 2 on the other
    assert fit.verdict(report, moved)["status"] == fit.FITS
    too_much = fit.verdict(report, [{"vcpu": 6, "count": 2}, {"vcpu": 4}])  # 16 free, but 2 + 2 left for the 4
    assert too_much["status"] == fit.FULL and too_much["hosted"] == 2 and too_much["missing"] == {}
    assert fit.verdict(report, [{"vcpu": 8, "count": 2}, {"vcpu": 1}])["missing"] == {"VCPU": 1}
