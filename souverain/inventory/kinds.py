"""What the inventory stores of each resource kind, and how it reads the few columns it indexes.

Items come from the connector in the provider API's own JSON (``connectors.base``); the inventory keeps
that JSON whole in ``Resource.attrs`` and copies out only what it filters on: id, name, status, cloud
project and tags. The keys below are OpenStack's; a provider whose JSON differs adds its own keys here.

Incremental sync, per kind (the connector's ``changes_since`` filter, see ``connectors.openstack.kinds``):

- ``incremental``: the listing accepts a "changed since" filter, so an incremental sync asks only for what
  changed since the last successful listing;
- ``deletions_visible``: that filtered listing also returns what was deleted, marked (Nova returns deleted
  servers with status DELETED), so an incremental sync catches deletions too. Where it does not (Cinder,
  Neutron, Glance), deletions are caught by the next full listing: an incremental sync does a full one for
  a kind whose last full listing is older than ``FULL_EVERY`` (see ``services``).
- every other kind has no time filter and is listed whole each time - a complete listing, so deletions are
  reconciled as in a full sync. They are small (flavors, projects, quotas...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class KindInfo:
    #: The connector's name of the kind (``"servers"``).
    listing: str
    #: The inventory's name (``"server"``), used in the API's ``kind`` filter.
    name: str
    label: str
    id_key: str = "id"
    incremental: bool = False
    deletions_visible: bool = False
    #: Read per project (quotas, usage): the item's id is its project's id.
    per_project: bool = False
    #: Holds or carries customer data (a server, a volume, an image...): compliance evaluates these kinds
    #: only. Infrastructure objects (networks, ports, security-group rules, quotas, projects...) hold none
    #: and inherit nothing from their tenant's data classes.
    holds_data: bool = False
    #: Where the API's JSON keeps this kind's free key-value labels, read beside its tags for
    #: ``souverain:*`` classification: "metadata" (Nova server, Cinder volume and snapshot metadata), "" for
    #: top-level keys (Glance image properties), None when the listing carries none (Swift containers
    #: keep theirs in headers a listing does not return).
    labels_at: str | None = None


KINDS: tuple[KindInfo, ...] = (
    KindInfo("servers", "server", "Server", incremental=True, deletions_visible=True, holds_data=True,
             labels_at="metadata"),
    KindInfo("flavors", "flavor", "Flavor"),
    KindInfo("images", "image", "Image", incremental=True, holds_data=True, labels_at=""),
    KindInfo("volumes", "volume", "Volume", incremental=True, holds_data=True, labels_at="metadata"),
    KindInfo("snapshots", "snapshot", "Volume snapshot", holds_data=True, labels_at="metadata"),
    KindInfo("networks", "network", "Network", incremental=True),
    KindInfo("subnets", "subnet", "Subnet", incremental=True),
    KindInfo("routers", "router", "Router", incremental=True),
    KindInfo("ports", "port", "Port", incremental=True),
    KindInfo("security_groups", "security_group", "Security group", incremental=True),
    KindInfo("security_group_rules", "security_group_rule", "Security group rule", incremental=True),
    KindInfo("floating_ips", "floating_ip", "Floating IP", incremental=True),
    KindInfo("containers", "container", "Object container", id_key="name", holds_data=True),
    KindInfo("projects", "project", "Cloud project"),
    KindInfo("quotas", "quota", "Quota", id_key="project_id", per_project=True),
    KindInfo("usage", "usage", "Quota usage", id_key="project_id", per_project=True),
)
BY_LISTING = {k.listing: k for k in KINDS}
#: The kinds compliance evaluates (Cinder backups would join them once the inventory lists them).
DATA_KINDS = tuple(k.name for k in KINDS if k.holds_data)
BY_NAME = {k.name: k for k in KINDS}
KIND_CHOICES = [(k.name, k.label) for k in KINDS]

#: Order in which a region's kinds start: the longest listings first, so they overlap the short ones.
START_ORDER = ("servers", "ports", "volumes", "security_group_rules", "images", "snapshots", "quotas", "usage",
               "floating_ips", "networks", "subnets", "routers", "security_groups", "flavors", "projects",
               "containers")


def kind(name_or_listing: str) -> KindInfo:
    info = BY_NAME.get(name_or_listing) or BY_LISTING.get(name_or_listing)
    if info is None:
        raise ValueError(f"unknown resource kind {name_or_listing!r}; kinds: {', '.join(BY_NAME)}")
    return info


def external_id(info: KindInfo, item: dict[str, Any]) -> str:
    return str(item[info.id_key])


def project_of(info: KindInfo, item: dict[str, Any]) -> str:
    if info.per_project:
        return str(item.get("project_id") or "")
    if info.name == "project":  # a project belongs to itself, so mapping it maps its tenant too
        return str(item.get("id") or "")
    for key in PROJECT_KEYS:
        value = item.get(key)
        if value:
            return str(value)
    return ""


def name_of(info: KindInfo, item: dict[str, Any]) -> str:
    for key in NAME_KEYS:
        value = item.get(key)
        if value:
            return str(value)[:255]
    if info.name == "security_group_rule":
        ports = "" if item.get("port_range_min") is None else f" {item['port_range_min']}-{item.get('port_range_max')}"
        peer = item.get("remote_ip_prefix") or item.get("remote_group_id") or ""
        return f"{item.get('direction', '')} {item.get('protocol') or 'any'}{ports} {peer}".strip()[:255]
    return ""


def status_of(info: KindInfo, item: dict[str, Any]) -> str:
    status = item.get("status")
    if isinstance(status, str):
        return status.lower()[:40]
    if info.name == "project":
        return "enabled" if item.get("enabled", True) else "disabled"
    return ""


def tags_of(item: dict[str, Any]) -> list[str]:
    tags = item.get("tags")
    return sorted({str(t) for t in tags})[:100] if isinstance(tags, list) else []


def canonical(value: Any) -> Any:
    """``value``, in place, with every list of objects that each carry an ``id`` in a fixed order. Such a list
    is a set (a security group's rules, a server's attached volumes) that the APIs return in no particular
    order (Neutron's embedded rules come shuffled from one listing to the next), and an order that changes is
    not a change. Other lists keep theirs: for a subnet's DNS servers or routes, order means something."""
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict | list):
                canonical(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                canonical(item)
        if len(value) > 1 and all(isinstance(item, dict) and "id" in item for item in value):
            value.sort(key=lambda item: (str(item["id"]), json.dumps(item, sort_keys=True, default=str)))
    return value


def is_deletion_marker(item: dict[str, Any]) -> bool:
    """The API returned this object only to say it was deleted (Nova ``changes-since``)."""
    return str(item.get("status", "")).upper() == "DELETED" or item.get("deleted") is True


def is_managed(item: dict[str, Any], tags: list[str]) -> bool:
    metadata = item.get("metadata")
    marked = isinstance(metadata, dict) and str(metadata.get(MANAGED_METADATA_KEY, "")).lower() == "true"
    return marked or MANAGED_TAG in tags
