"""Nutanix objects as the connector yields them, and in the registry's normalised form (``connectors.kinds``).

A listing yields each Prism document (camelCase, as Prism sends it) kept whole under ``"nutanix"``, beside a few
keys resolved at listing time: a VM's categories are referenced by extId, so the listing names them (``tags``,
``metadata``) while it holds the category listing. The inventory stores that document and reads only its
normalised form (``normalised``). ``metadata`` and the OpenStack-like keys (``status``, ``addresses``...) keep
the portal's per-kind columns and compliance's label reading (``labels_at``) working on Nutanix VMs. Pure
functions of the wire JSON: no SDK, no I/O.

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


def cluster(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw["extId"], "name": raw.get("name") or "", "nutanix": raw}


def host(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw["extId"], "name": raw.get("hostName") or "", "cluster_id": (raw.get("cluster") or {}).get("uuid"),
            "nutanix": raw}


def storage_container(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": raw.get("containerExtId") or raw["extId"], "name": raw.get("name") or "",
            "cluster_id": raw.get("clusterExtId"), "size": raw.get("maxCapacityBytes"), "nutanix": raw}


def plain(raw: dict[str, Any]) -> dict[str, Any]:
    """Collections read for their names only (categories): id and name."""
    ext_id = raw.get("extId") or raw.get("containerExtId")
    return {"id": ext_id, "name": raw.get("name") or raw.get("hostName") or
            (f"{raw['key']}={raw.get('value')}" if "key" in raw else ""), "nutanix": raw}


def normalised(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The registry's normalised form of a document this connector yields (``vm``, ``image``, ``subnet``)."""
    out: dict[str, Any] = {"id": str(item["id"]), "name": str(item.get("name") or "")[:255],
                           "status": str(item.get("status") or "").lower()[:40],
                           "project": str(item.get("project_id") or ""), "tags": list(item.get("tags") or [])}
    labels = item.get("metadata")
    if isinstance(labels, dict) and labels:
        out["labels"] = {str(k): str(v) for k, v in labels.items()}
    out["managed"] = str(out.get("labels", {}).get("souverain:managed", "")).lower() == "true" or \
        "souverain-managed" in out["tags"]
    for key in ("vcpus", "ram", "addresses", "created", "updated"):
        if item.get(key) not in (None, "", {}):
            out[key] = item[key]
    if item.get("cluster_id"):
        out["zone"] = str(item["cluster_id"])  # a Prism cluster is the failure domain: the zone
    if kind == "servers":
        sizes = [d.get("size_bytes") for d in item.get("disks") or [] if isinstance(d.get("size_bytes"), int)]
        if sizes:
            out["size"] = sum(sizes)
    elif isinstance(item.get("size"), int):
        out["size"] = item["size"]
    return out
