"""Where each resource kind lives in the OpenStack APIs, and how to list only what changed.

Incremental listing, per kind. ``changes_since`` is floored to whole seconds: every service keeps
``updated_at`` to the second, and rounding up would miss objects changed in that second. Where the API
has no time filter, or the cloud refuses it, the full listing is filtered on ``updated_at`` by the
connector (see ``incremental``): the transfer is the full listing's, the result the same.

- servers: Nova ``changes-since=<t>``; also lists the servers deleted since then (status DELETED).
- volumes: Cinder ``updated_at=gte:<t>`` from microversion 3.60 (Cinder has no ``changes-since``);
  below 3.60, filtered here.
- snapshots: Cinder filters snapshots on no time field: filtered here.
- networks, subnets, routers, ports, security_groups, security_group_rules, floating_ips: Neutron
  ``changed_since=<t>`` (standard-attr-timestamp). Neutron refuses it when its filter-validation
  extension is on, which is the default: then filtered here.
- images: Glance ``updated_at=gte:<t>``.
- flavors, projects, containers: no filter and no ``updated_at`` to compare: the full listing.
- quotas, usage: read per project, in full.

Only Nova reports deletions in an incremental listing: the inventory notices other deletions by
comparing with a full listing from time to time.

Every API here pages with ``limit`` and ``marker`` and says when a page was full: Nova, Cinder and
Neutron with a ``<plural>_links`` "next" link, Glance with ``next`` in the body. Keystone does not
page at all (``list_limit`` truncates and says ``truncated``); Swift gives no link, so a full page
is the only sign that there may be more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: A negotiated microversion as (major, minor), or None when the service has none.
Microversion = tuple[int, int] | None
#: Given the floored ISO time and the microversion in use, the query parameters asking for changes since
#: then, or None when this service cannot filter on time.
Since = Callable[[str, Microversion], dict[str, str] | None]

#: Microversions asked for, capped by what each cloud offers. Nova 2.100 embeds the flavor (2.47),
#: image properties (2.98) and scheduler hints (2.100) in server details, sparing the inventory a
#: lookup per server; Cinder 3.60 adds the time filter, 3.63/3.65 volume_type_id and consumes_quota.
MICROVERSIONS: dict[str, str] = {"compute": "2.100", "block-storage": "3.71"}


def _nova_since(ts: str, mv: Microversion) -> dict[str, str]:
    return {"changes-since": ts}


def _cinder_since(ts: str, mv: Microversion) -> dict[str, str] | None:
    return {"updated_at": f"gte:{ts}"} if mv is not None and mv >= (3, 60) else None


def _neutron_since(ts: str, mv: Microversion) -> dict[str, str]:
    return {"changed_since": ts}


def _glance_since(ts: str, mv: Microversion) -> dict[str, str]:
    return {"updated_at": f"gte:{ts}"}


@dataclass(frozen=True)
class Kind:
    """One resource kind of one OpenStack service."""

    name: str
    service: str
    #: Collection path, relative to the service's versioned endpoint.
    path: str
    #: Key of the list in a listing's body; None when the body is the list itself (Swift).
    plural: str | None
    #: Key of the object in show/create bodies; None when the body is the object itself (Glance).
    singular: str | None
    #: Path of the listing with every field, when it differs from ``path`` (Nova and Cinder ``/detail``).
    list_path: str | None = None
    #: Listing path for credentials that may not list every project (Keystone).
    own_list_path: str | None = None
    #: Query parameters that widen a listing to every project, for administrators.
    all_projects: Mapping[str, str] = field(default_factory=dict)
    since: Since | None = None
    id_key: str = "id"
    #: False when the listing takes no limit/marker (Keystone).
    paged: bool = True
    #: Field holding the last change time, for filtering here when the service will not; None if absent.
    updated_key: str | None = "updated_at"

    @property
    def links_key(self) -> str:
        return f"{self.plural}_links"


def _neutron(name: str, path: str, plural: str, singular: str) -> Kind:
    # Neutron lists every project's objects to an administrator without being asked to.
    return Kind(name, "network", path, plural, singular, since=_neutron_since)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("servers", "compute", "/servers", "servers", "server", list_path="/servers/detail",
             all_projects={"all_tenants": "1"}, since=_nova_since, updated_key="updated"),
        Kind("flavors", "compute", "/flavors", "flavors", "flavor", list_path="/flavors/detail",
             all_projects={"is_public": "None"}, updated_key=None),  # private flavors too
        Kind("images", "image", "/images", "images", None, since=_glance_since),
        Kind("volumes", "block-storage", "/volumes", "volumes", "volume", list_path="/volumes/detail",
             all_projects={"all_tenants": "1"}, since=_cinder_since),
        Kind("snapshots", "block-storage", "/snapshots", "snapshots", "snapshot", list_path="/snapshots/detail",
             all_projects={"all_tenants": "1"}),
        _neutron("networks", "/networks", "networks", "network"),
        _neutron("subnets", "/subnets", "subnets", "subnet"),
        _neutron("routers", "/routers", "routers", "router"),
        _neutron("ports", "/ports", "ports", "port"),
        _neutron("security_groups", "/security-groups", "security_groups", "security_group"),
        _neutron("security_group_rules", "/security-group-rules", "security_group_rules", "security_group_rule"),
        _neutron("floating_ips", "/floatingips", "floatingips", "floatingip"),
        Kind("containers", "object-store", "", None, None, id_key="name", updated_key=None),
        Kind("projects", "identity", "/projects", "projects", "project", own_list_path="/auth/projects",
             paged=False, updated_key=None),
    )
}


@dataclass(frozen=True)
class QuotaApi:
    """Where one service keeps a project's limits (``path``) and its use of them (``usage_path``)."""

    service: str
    path: str
    key: str
    usage_path: str
    usage_params: Mapping[str, str] = field(default_factory=dict)


#: Keyed by service type, which is also the key of each service's part in ``quotas()`` and ``usage()``.
QUOTA_APIS: dict[str, QuotaApi] = {
    q.service: q
    for q in (
        QuotaApi("compute", "/os-quota-sets/{}", "quota_set", "/os-quota-sets/{}/detail"),
        QuotaApi("block-storage", "/os-quota-sets/{}", "quota_set", "/os-quota-sets/{}", {"usage": "True"}),
        QuotaApi("network", "/quotas/{}", "quota", "/quotas/{}/details"),
    )
}
