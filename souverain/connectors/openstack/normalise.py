"""OpenStack documents in the registry's normalised form (``connectors.kinds``): where each service keeps the
name, status, owning project, sizes, addresses and labels of its objects. Pure functions of the API's JSON.
"""

from __future__ import annotations

from typing import Any

from ..kinds import Normalised

#: A tag, or a metadata key set to "true", that marks a resource Souverain created (provisioning sets it).
MANAGED_TAG = "souverain-managed"
MANAGED_METADATA_KEY = "souverain:managed"

# Where OpenStack's services put the owning project: Nova, Neutron (project_id/tenant_id), Cinder volumes
# and snapshots (extension attributes), Glance (owner).
PROJECT_KEYS = (
    "project_id",
    "tenant_id",
    "os-vol-tenant-attr:tenant_id",
    "os-extended-snapshot-attributes:project_id",
    "owner",
)
NAME_KEYS = ("name", "display_name", "floating_ip_address")
#: The listings whose id is not ``id``: Swift containers are named, quotas and usage are their project's.
ID_KEYS = {"containers": "name", "quotas": "project_id", "usage": "project_id"}
#: Only Nova's ``changes-since`` returns deleted objects (status DELETED) in a listing.
DELETION_MARKERS = frozenset({"servers"})


def normalise(kind: str, item: dict[str, Any]) -> Normalised:
    """The normalised form of one OpenStack object of listing ``kind`` (``"servers"``)."""
    out: Normalised = {"id": str(item[ID_KEYS.get(kind, "id")])}
    name = name_of(kind, item)
    if name:
        out["name"] = name
    status = status_of(kind, item)
    if status:
        out["status"] = status
    out["project"] = project_of(kind, item)
    tags = tags_of(item)
    labels = _labels(kind, item)
    out["tags"] = tags
    if labels:
        out["labels"] = labels
    out["managed"] = str(labels.get(MANAGED_METADATA_KEY, "")).lower() == "true" or MANAGED_TAG in tags
    if kind in DELETION_MARKERS and (str(item.get("status", "")).upper() == "DELETED" or item.get("deleted") is True):
        out["deleted"] = True
    zone = item.get("OS-EXT-AZ:availability_zone") or item.get("availability_zone")
    if isinstance(zone, str) and zone:
        out["zone"] = zone
    for key in ("size", "bytes"):  # Cinder and Glance "size"; Swift "bytes"
        if isinstance(item.get(key), int):
            out["size"] = item[key]
            break
    if kind == "servers":
        flavor = item.get("flavor") or {}
        if isinstance(flavor, dict):
            out["flavor"] = flavor.get("original_name") or flavor.get("id")
            for key in ("vcpus", "ram"):
                if isinstance(flavor.get(key), int):
                    out[key] = flavor[key]
        if isinstance(item.get("addresses"), dict):
            out["addresses"] = {net: [{"addr": a.get("addr"), "version": a.get("version")} for a in addrs
                                      if isinstance(a, dict)]
                                for net, addrs in item["addresses"].items() if isinstance(addrs, list)}
    elif kind == "flavors":
        for key in ("vcpus", "ram"):
            if isinstance(item.get(key), int):
                out[key] = item[key]
    for key, names in (("created", ("created_at", "created")), ("updated", ("updated_at", "updated"))):
        value = next((item[n] for n in names if isinstance(item.get(n), str)), None)
        if value:
            out[key] = value
    return out


def project_of(kind: str, item: dict[str, Any]) -> str:
    if kind in ("quotas", "usage"):
        return str(item.get("project_id") or "")
    if kind == "projects":  # a project belongs to itself, so mapping it maps its tenant too
        return str(item.get("id") or "")
    for key in PROJECT_KEYS:
        value = item.get(key)
        if value:
            return str(value)
    return ""


def name_of(kind: str, item: dict[str, Any]) -> str:
    for key in NAME_KEYS:
        value = item.get(key)
        if value:
            return str(value)[:255]
    if kind == "security_group_rules":
        ports = "" if item.get("port_range_min") is None else f" {item['port_range_min']}-{item.get('port_range_max')}"
        peer = item.get("remote_ip_prefix") or item.get("remote_group_id") or ""
        return f"{item.get('direction', '')} {item.get('protocol') or 'any'}{ports} {peer}".strip()[:255]
    return ""


def status_of(kind: str, item: dict[str, Any]) -> str:
    status = item.get("status")
    if isinstance(status, str):
        return status.lower()[:40]
    if kind == "projects":
        return "enabled" if item.get("enabled", True) else "disabled"
    return ""


def tags_of(item: dict[str, Any]) -> list[str]:
    tags = item.get("tags")
    return sorted({str(t) for t in tags})[:100] if isinstance(tags, list) else []


def _labels(kind: str, item: dict[str, Any]) -> dict[str, str]:
    if kind == "images":  # Glance keeps properties as top-level keys: only Souverain's are labels here
        return {k: str(v) for k, v in item.items() if k.startswith("souverain:")}
    metadata = item.get("metadata")
    return {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
