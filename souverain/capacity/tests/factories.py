"""Capacity reports as the connector gives them, built from a few numbers per provider."""

from __future__ import annotations

from typing import Any

from souverain.connectors.openstack.capacity import inventory_figures, report


def provider(name: str, *, zone: str | None = "nova", vcpu: int = 16, ram_mb: int = 32768, disk_gb: int = 500,
             ratio: float = 1.0, used: tuple[int, int, int] = (0, 0, 0), reserved_mb: int = 0,
             schedulable: bool = True, root: str | None = None) -> dict[str, Any]:
    totals = {"VCPU": vcpu, "MEMORY_MB": ram_mb, "DISK_GB": disk_gb}
    reserved = {"VCPU": 0, "MEMORY_MB": reserved_mb, "DISK_GB": 0}
    usage = dict(zip(("VCPU", "MEMORY_MB", "DISK_GB"), used, strict=True))
    return {
        "uuid": f"uuid-{name}", "name": name, "root_uuid": root or f"uuid-{name}", "parent_uuid": None,
        "host": name, "zone": zone, "hypervisor": None,
        "inventories": {rc: inventory_figures({"total": total, "reserved": reserved[rc], "allocation_ratio": ratio,
                                               "max_unit": total}, usage[rc], schedulable=schedulable)
                        for rc, total in totals.items()},
    }


def capacity_report(*providers: dict[str, Any]) -> dict[str, Any]:
    return report(list(providers))
