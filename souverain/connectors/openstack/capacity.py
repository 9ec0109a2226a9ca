"""A region's capacity from OpenStack Placement and Nova: allocatable, used and free vCPU, RAM and disk.

Placement is the source of the figures. Each resource provider (a compute node, or a shared storage pool, or a
nested provider under a compute node) has an inventory per resource class - ``total``, ``reserved``,
``allocation_ratio``, ``min_unit``, ``max_unit``, ``step_size`` - and a usage per class, the sum of its
allocations. Placement accepts an allocation while ``used + amount <= (total - reserved) * allocation_ratio``
and ``min_unit <= amount <= max_unit`` (a multiple of ``step_size``): that product is what we call
*allocatable*, and ``free = allocatable - used`` (never below zero: an operator who lowers a ratio can leave a
provider over-committed).

Nova says where each provider is. A compute node's provider has the node's UUID, which is the hypervisor's
``id`` from compute microversion 2.53 (before, the hypervisor's ``hypervisor_hostname`` is the provider's
name); the hypervisor's ``service.host`` is listed under one availability zone by
``os-availability-zone/detail`` (host aggregates carrying ``availability_zone`` metadata, the default zone
otherwise). A nested provider goes with its root; a provider with no hypervisor (a shared storage pool) counts
in the region only, under no zone.

Free capacity only counts where Nova may schedule: a disabled or down hypervisor keeps its inventory and its
usage in the figures, but none of its room is free.

Placement's microversion 1.14 (Queens) is asked for: it gives every provider its root, which places nested
providers. Both APIs are admin-only by default; a member's credentials get ``Forbidden``, which the caller
reports as capacity unknown. Everything here returns plain dicts (JSON) and imports no Django.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import NotSupported
from .transport import Transport

#: The resource classes a workload's size is made of (``size``: vcpu, ram_mb, disk_gb).
RESOURCE_CLASSES: tuple[str, ...] = ("VCPU", "MEMORY_MB", "DISK_GB")
PLACEMENT_MICROVERSION = "placement 1.14"
_PLACEMENT_HEADERS = {"OpenStack-API-Version": PLACEMENT_MICROVERSION}
#: The zone Nova lists its control services in; no compute host lives there.
INTERNAL_ZONE = "internal"


def allocatable(total: int, reserved: int, allocation_ratio: float) -> int:
    """What Placement will allocate from one inventory: ``(total - reserved) * allocation_ratio``, floored (an
    allocation is whole units), never negative (reserved may exceed total on a provider being drained)."""
    return max(math.floor((total - reserved) * allocation_ratio), 0)


def inventory_figures(inventory: Mapping[str, Any], used: int, *, schedulable: bool = True) -> dict[str, Any]:
    """One provider's inventory of one class, with its usage: the API's fields plus allocatable, used, free."""
    total, reserved = int(inventory.get("total", 0)), int(inventory.get("reserved", 0))
    ratio = float(inventory.get("allocation_ratio", 1.0))
    room = allocatable(total, reserved, ratio)
    return {
        "total": total, "reserved": reserved, "allocation_ratio": ratio,
        "min_unit": int(inventory.get("min_unit", 1)), "max_unit": int(inventory.get("max_unit", total)),
        "step_size": int(inventory.get("step_size", 1)),
        "allocatable": room, "used": int(used), "free": max(room - int(used), 0) if schedulable else 0,
    }


def summarise(providers: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Sum the providers' figures per resource class (total, reserved, allocatable, used, free, providers)."""
    sums: dict[str, dict[str, int]] = {}
    for provider in providers:
        for rc, inv in provider["inventories"].items():
            into = sums.setdefault(rc, {"total": 0, "reserved": 0, "allocatable": 0, "used": 0, "free": 0,
                                        "providers": 0, "largest_free": 0})
            for key in ("total", "reserved", "allocatable", "used", "free"):
                into[key] += int(inv[key])
            into["providers"] += 1
            into["largest_free"] = max(into["largest_free"], int(inv["free"]))
    return sums


def report(providers: list[dict[str, Any]]) -> dict[str, Any]:
    """The plain capacity report: every provider, and the sums for the region and for each zone."""
    zones: dict[str, list[dict[str, Any]]] = {}
    for provider in providers:
        if provider.get("zone"):
            zones.setdefault(provider["zone"], []).append(provider)
    return {
        "providers": providers,
        "region": summarise(providers),
        "zones": {zone: summarise(members) for zone, members in sorted(zones.items())},
    }


def read_capacity(transport: Transport) -> dict[str, Any]:
    """The capacity report of the transport's region (see the module's note)."""
    if not transport.has_service("placement"):
        raise NotSupported("capacity: no placement service in this cloud's catalog",
                           cloud=transport.cloud, region=transport.region)
    listed = transport.request("placement", "GET", "/resource_providers", headers=_PLACEMENT_HEADERS).json()
    rows = listed["resource_providers"]
    hosts = _hypervisors(transport) if transport.has_service("compute") else {}
    zone_of_host = _zones(transport) if transport.has_service("compute") else {}
    by_uuid = {row["uuid"]: row for row in rows}
    providers = []
    for row in sorted(rows, key=lambda r: (r.get("name") or "", r["uuid"])):
        root = by_uuid.get(row.get("root_provider_uuid") or row["uuid"], row)
        hypervisor = hosts.get(root["uuid"]) or hosts.get(f"name:{root.get('name')}")
        host = (hypervisor or {}).get("service", {}).get("host") if hypervisor else None
        schedulable = hypervisor is None or (hypervisor.get("status", "enabled") == "enabled"
                                             and hypervisor.get("state", "up") == "up")
        inventories = _get(transport, f"/resource_providers/{row['uuid']}/inventories")["inventories"]
        usages = _get(transport, f"/resource_providers/{row['uuid']}/usages")["usages"]
        providers.append({
            "uuid": row["uuid"], "name": row.get("name"), "root_uuid": root["uuid"],
            "parent_uuid": row.get("parent_provider_uuid"), "host": host,
            "zone": zone_of_host.get(host) if host else None,
            "hypervisor": ({"status": hypervisor.get("status"), "state": hypervisor.get("state")}
                           if hypervisor else None),
            "inventories": {rc: inventory_figures(inv, usages.get(rc, 0), schedulable=schedulable)
                            for rc, inv in sorted(inventories.items()) if rc in RESOURCE_CLASSES},
        })
    return report(providers)


def _get(transport: Transport, path: str) -> Any:
    return transport.request("placement", "GET", path, headers=_PLACEMENT_HEADERS).json()


def _hypervisors(transport: Transport) -> dict[str, dict[str, Any]]:
    """Hypervisors by id (a UUID from 2.53, the provider's) and by ``name:<hypervisor_hostname>``."""
    found: dict[str, dict[str, Any]] = {}
    for hypervisor in _paged(transport, "/os-hypervisors/detail", "hypervisors"):
        found[str(hypervisor["id"])] = hypervisor
        found[f"name:{hypervisor.get('hypervisor_hostname')}"] = hypervisor
    return found


def _zones(transport: Transport) -> dict[str, str]:
    """Compute host -> availability zone, from ``os-availability-zone/detail``."""
    body = transport.get_json("compute", "/os-availability-zone/detail")
    zones: dict[str, str] = {}
    for zone in body.get("availabilityZoneInfo") or []:
        if zone.get("zoneName") == INTERNAL_ZONE:
            continue
        for host, services in (zone.get("hosts") or {}).items():
            if "nova-compute" in (services or {}):
                zones[host] = zone["zoneName"]
    return zones


def _paged(transport: Transport, path: str, key: str) -> Iterator[dict[str, Any]]:
    """Nova pages hypervisors from 2.33 (``limit``/``marker``, a "next" link while a page was full)."""
    params: dict[str, str] = {}
    while True:
        body = transport.get_json("compute", path, params)
        items = body.get(key) or []
        yield from items
        following = [link for link in body.get(f"{key}_links") or [] if link.get("rel") == "next"]
        if not following or not items:
            return
        params = {"marker": str(items[-1]["id"])}
