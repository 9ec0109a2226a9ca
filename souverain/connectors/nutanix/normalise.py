"""Nutanix objects in the form the inventory reads today (``inventory.kinds``: OpenStack's keys).

The inventory indexes ``id``, ``name``, ``status``, ``project_id`` and ``tags`` and reads ``souverain:*``
labels from a server's ``metadata``; until a provider-neutral kind registry exists, a Nutanix VM is stored
as a ``server`` with those keys, and the whole Prism document is kept under ``"nutanix"`` beside them. Pure
functions of the wire JSON (camelCase, as Prism sends it): no SDK, no I/O.

Categories are Nutanix's labels (``key: value``, referenced from a VM by extId): each becomes a tag
``key=value`` and a metadata entry ``key: value`` (so ``souverain:data-class: personal`` classifies a VM
exactly as the same Nova metadata would).
"""

from __future__ import annotations

from typing import Any

#: Prism's power states as the OpenStack statuses the inventory and compliance already understand.
POWER_STATUS = {"ON": "ACTIVE", "OFF": "SHUTOFF", "PAUSED": "PAUSED", "SUSPENDED": "SUSPENDED"}

Categories = dict[str, tuple[str, str]]


def categories_by_id(raw: list[dict[str, Any]]) -> Categories:
    return {c["extId"]: (str(c.get("key") or ""), str(c.get("value") or "")) for c in raw if c.get("extId")}


def vm(raw: dict[str, Any], categories: Categories) -> dict[str, Any]:
    labels = [categories[ref["extId"]] for ref in raw.get("categories") or [] if ref.get("extId") in categories]
    sockets, cores, threads = (raw.get(k) or 1 for k in ("numSockets", "numCoresPerSocket", "numThreadsPerCore"))
    disks = []
    for disk in raw.get("disks") or []:
        backing = (disk.get("backingInfo") or {})
        disks.append({"id": disk.get("extId"), "size_bytes": backing.get("diskSizeBytes"),
                      "bus": (disk.get("diskAddress") or {}).get("busType")})
    addresses: dict[str, list[dict[str, Any]]] = {}
    for nic in raw.get("nics") or []:
        info = nic.get("networkInfo") or nic.get("nicNetworkInfo") or {}
        subnet = (info.get("subnet") or {}).get("extId") or "unattached"
        ips = [(ip.get("ipAddress") or {}).get("value") for ip in (info.get("ipv4Info") or {}).get("learnedIpAddresses")
               or []] if isinstance(info.get("ipv4Info"), dict) else []
        addresses.setdefault(subnet, []).extend({"addr": ip, "version": 4} for ip in ips if ip)
    return {
        "id": raw["extId"],
        "name": raw.get("name") or "",
        "status": POWER_STATUS.get(str(raw.get("powerState")), str(raw.get("powerState") or "UNKNOWN")),
        "power_state": raw.get("powerState"),
        "project_id": raw.get("projectExtId") or (raw.get("project") or {}).get("extId") or "",
        "tags": sorted(f"{k}={v}" for k, v in labels),
        "metadata": {**description_labels(raw.get("description")), **dict(labels)},
        "vcpus": sockets * cores * threads,
        "ram": (raw.get("memorySizeBytes") or 0) // 2**20,
        "disks": disks,
        "addresses": addresses,
        "cluster_id": (raw.get("cluster") or {}).get("extId"),
        "host_id": (raw.get("host") or {}).get("extId"),
        "created": raw.get("createTime"),
        "updated": raw.get("updateTime"),
        "nutanix": raw,
    }


def description_labels(description: Any) -> dict[str, str]:
    """The ``souverain:*`` labels Souverain's provisioning writes in a VM's description, one ``key=value`` a line."""
    found = {}
    for line in str(description or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("souverain:"):
            found[key.strip()] = value.strip()
    return found


def image(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw["extId"], "name": raw.get("name") or "", "status": "active", "size": raw.get("sizeBytes"),
            "disk_format": raw.get("type"), "created": raw.get("createTime"), "updated": raw.get("lastUpdateTime"),
            "nutanix": raw}


def subnet(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw["extId"], "name": raw.get("name") or "", "network_id": raw.get("networkId"),
            "subnet_type": raw.get("subnetType"), "cluster_id": raw.get("clusterReference"), "nutanix": raw}


def plain(raw: dict[str, Any]) -> dict[str, Any]:
    """Kinds the inventory does not store yet (clusters, hosts, storage containers, categories): id and name."""
    ext_id = raw.get("extId") or raw.get("containerExtId")
    return {"id": ext_id, "name": raw.get("name") or raw.get("hostName") or
            (f"{raw['key']}={raw.get('value')}" if "key" in raw else ""), "nutanix": raw}
