"""Souverain's own quotas, per node of the tenant tree: carved out of the parent's, used by the subtree, checked
at every level up to the root.

Limits. A ``Quota`` row holds one node's limits overall (``cloud`` empty) or on one cloud; an empty limit is
unlimited. Operators set any node's; a tenant-admin sets its node's descendants' (never its own: that is carved
by the level above). A child's limit is carved out of its parent's: the sum of the children's limits of one scope
(overall, or one cloud) never exceeds the parent's limit of that scope, and a parent's limit never drops below
its children's sum - both refused with the numbers. An unlimited child adds nothing to the sum: it shares what
its ancestors allow, which the gate checks at their levels.

Usage. A node's usage is its whole subtree's: what the inventory holds of its tenants' projects (servers and
their flavors' vCPU and RAM, volumes' GB, floating IPs) - resources created outside Souverain included, since they
arrive through the sync - plus the demand of its requests still in flight (submitted, awaiting approval,
approved, running). A running request whose objects the inventory already recorded is counted twice until it
ends: the error is on the safe side, and lasts one request's run.

The check. ``shortfalls(tenant, demand, cloud)`` walks the tenant's ancestors from the node itself to the root,
and for each quota row of each level (overall, and the request's cloud) compares used + asked with the limit.
The gate calls it with the tenant rows of the chain locked (``services.submit``), so two concurrent requests
cannot both take the last vCPU.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from souverain.inventory.models import Resource
from souverain.tenancy import services as tenancy
from souverain.tenancy.models import Tenant

from .models import QUOTA_FIELDS, Quota, ServiceRequest

#: The quota dimension names in both languages, for refusals and reports.
FIELD_LABELS = {
    "instances": ("instances", "instances"), "vcpu": ("vCPU", "vCPU"), "ram_mb": ("RAM (MB)", "RAM (Mo)"),
    "volume_gb": ("volume GB", "Go de volume"), "floating_ips": ("floating IPs", "IP flottantes"),
}


class QuotaRefused(Exception):
    """A quota change that would break the tree's carving; ``errors``: {field: [message]} with the numbers."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


# --- the tree --------------------------------------------------------------------------------------------------


def lineage(tenant: Tenant) -> list[Tenant]:
    """The tenant and its ancestors, the tenant first, the root last."""
    return [tenant, *reversed(tenancy.ancestors(tenant))]


def subtree_ids(tenant: Tenant) -> set[int]:
    """The tenant's id and all its descendants'."""
    return tenancy.subtree_ids(tenant.pk)


def children(tenant: Tenant) -> list[Tenant]:
    return list(Tenant.objects.filter(parent=tenant))


# --- usage -------------------------------------------------------------------------------------------------------


def zero() -> dict[str, int]:
    return dict.fromkeys(QUOTA_FIELDS, 0)


def _server_size(attrs: Mapping[str, Any], flavors: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """vCPU and RAM of a server: from the flavor embedded in the server (Nova ≥ 2.47) or the inventoried flavor."""
    flavor = attrs.get("flavor") or {}
    if isinstance(flavor, Mapping) and ("vcpus" in flavor or "ram" in flavor):
        return int(flavor.get("vcpus") or 0), int(flavor.get("ram") or 0)
    known = flavors.get(str(flavor.get("id") if isinstance(flavor, Mapping) else flavor)) or {}
    return int(known.get("vcpus") or 0), int(known.get("ram") or 0)


def inventory_usage(tenant_ids: Iterable[int], cloud_id: int | None = None) -> dict[str, int]:
    """What the inventory holds of these tenants (resources not gone), on one cloud or all."""
    rows = Resource.objects.filter(tenant_id__in=list(tenant_ids), gone_at__isnull=True,
                                   kind__in=("server", "volume", "floating_ip"))
    if cloud_id is not None:
        rows = rows.filter(cloud_id=cloud_id)
    usage = zero()
    servers = []
    for kind, cloud, attrs in rows.values_list("kind", "cloud_id", "attrs").iterator():
        if kind == "server":
            usage["instances"] += 1
            servers.append((cloud, attrs))
        elif kind == "volume":
            usage["volume_gb"] += int(attrs.get("size") or 0)
        else:
            usage["floating_ips"] += 1
    if servers:
        flavors = {(c, str(a.get("id"))): a for c, a in Resource.objects.filter(
            kind="flavor", cloud_id__in={c for c, _ in servers}, gone_at__isnull=True).values_list("cloud_id", "attrs")}
        for cloud, attrs in servers:
            per_cloud = {fid: a for (c, fid), a in flavors.items() if c == cloud}
            vcpu, ram = _server_size(attrs, per_cloud)
            usage["vcpu"] += vcpu
            usage["ram_mb"] += ram
    return usage


def in_flight_usage(tenant_ids: Iterable[int], cloud_slug: str | None = None,
                    exclude_request: int | None = None) -> dict[str, int]:
    usage = zero()
    rows = ServiceRequest.objects.filter(tenant_id__in=list(tenant_ids), status__in=ServiceRequest.IN_FLIGHT)
    if exclude_request is not None:
        rows = rows.exclude(pk=exclude_request)
    for demand in rows.values_list("demand", flat=True):
        if cloud_slug is not None and demand.get("cloud") != cloud_slug:
            continue
        for name in QUOTA_FIELDS:
            usage[name] += int(demand.get(name) or 0)
    return usage


def usage(tenant: Tenant, cloud: Any = None, *, exclude_request: int | None = None) -> dict[str, int]:
    """The subtree's usage, overall or on one cloud: inventory plus in-flight requests."""
    ids = subtree_ids(tenant)
    stored = inventory_usage(ids, cloud.pk if cloud is not None else None)
    flying = in_flight_usage(ids, cloud.slug if cloud is not None else None, exclude_request)
    return {name: stored[name] + flying[name] for name in QUOTA_FIELDS}


# --- the gate's check --------------------------------------------------------------------------------------------


def shortfalls(tenant: Tenant, demand: Mapping[str, Any], cloud: Any, *,
               exclude_request: int | None = None) -> list[dict[str, Any]]:
    """Every quota of every level from the tenant to the root that ``demand`` would exceed: asked, used, limit."""
    asked = {name: int(demand.get(name) or 0) for name in QUOTA_FIELDS}
    if not any(asked.values()):
        return []
    found = []
    for node in lineage(tenant):
        for quota in Quota.objects.filter(Q(cloud__isnull=True) | Q(cloud=cloud), tenant=node).select_related("cloud"):
            limits = quota.limits()
            if not any(limits[n] is not None and asked[n] for n in QUOTA_FIELDS):
                continue
            used = usage(node, quota.cloud, exclude_request=exclude_request)
            for name in QUOTA_FIELDS:
                limit = limits[name]
                if limit is not None and asked[name] and used[name] + asked[name] > limit:
                    found.append({"tenant": node.slug, "tenant_name": node.name,
                                  "cloud": quota.cloud.slug if quota.cloud_id else None, "resource": name,
                                  "asked": asked[name], "used": used[name], "limit": limit,
                                  "level": "self" if node.pk == tenant.pk else "ancestor"})
    return found


def describe(shortfall: Mapping[str, Any]) -> tuple[str, str]:
    """One shortfall as a sentence in English and in French."""
    en, fr = FIELD_LABELS[shortfall["resource"]]
    scope_en = f"on cloud {shortfall['cloud']}" if shortfall["cloud"] else "across all clouds"
    scope_fr = f"sur le cloud {shortfall['cloud']}" if shortfall["cloud"] else "sur l'ensemble des clouds"
    numbers = (shortfall["asked"], shortfall["used"], shortfall["limit"])
    return (
        f"Quota of {shortfall['tenant_name']} {scope_en} exceeded for {en}: asked {numbers[0]}, "
        f"used {numbers[1]}, limit {numbers[2]}.",
        f"Quota de {shortfall['tenant_name']} {scope_fr} dépassé pour les {fr} : demandé {numbers[0]}, "
        f"utilisé {numbers[1]}, limite {numbers[2]}.",
    )


# --- setting quotas ---------------------------------------------------------------------------------------------


def may_set(membership: Any, tenant: Tenant) -> bool:
    """Operators set any node's quotas; a tenant-admin its node's strict descendants'."""
    from souverain.core.roles import OPERATOR_ROLES, Role

    if membership is None:
        return False
    if membership.role in OPERATOR_ROLES:
        return True
    if membership.role != Role.TENANT_ADMIN or not membership.tenant_id:
        return False
    return tenant.pk != membership.tenant_id and membership.tenant_id in {t.pk for t in lineage(tenant)}


def _scope_quota(tenant: Tenant, cloud: Any) -> Quota | None:
    return Quota.objects.filter(tenant=tenant, cloud=cloud).first() if cloud is not None else \
        Quota.objects.filter(tenant=tenant, cloud__isnull=True).first()


def carving_problems(tenant: Tenant, cloud: Any, limits: Mapping[str, int | None]) -> dict[str, list[str]]:
    """Why these limits would break the carving: above the parent's room, or below the children's sum."""
    problems: dict[str, list[str]] = {}
    parent = tenant.parent if tenant.parent_id else None
    scope = _("cloud %(cloud)s") % {"cloud": cloud.slug} if cloud is not None else _("all clouds")
    if parent is not None:
        parent_quota = _scope_quota(parent, cloud)
        if parent_quota is not None:
            siblings = Quota.objects.filter(tenant__in=[c for c in children(parent) if c.pk != tenant.pk])
            siblings = siblings.filter(cloud=cloud) if cloud is not None else siblings.filter(cloud__isnull=True)
            for name in QUOTA_FIELDS:
                room, asked = getattr(parent_quota, name), limits.get(name)
                if room is None or asked is None:
                    continue
                carved = sum(getattr(q, name) or 0 for q in siblings)
                if carved + asked > room:
                    problems.setdefault(name, []).append(_(
                        "%(parent)s (%(scope)s) allows %(room)s %(field)s; its other children already have "
                        "%(carved)s, so at most %(left)s is left, not %(asked)s.") % {
                        "parent": parent.name, "scope": scope, "room": room, "field": name, "carved": carved,
                        "left": max(room - carved, 0), "asked": asked})
    kids = Quota.objects.filter(tenant__in=children(tenant))
    kids = kids.filter(cloud=cloud) if cloud is not None else kids.filter(cloud__isnull=True)
    for name in QUOTA_FIELDS:
        asked = limits.get(name)
        carved = sum(getattr(q, name) or 0 for q in kids)
        if asked is not None and carved > asked:
            problems.setdefault(name, []).append(_(
                "the children of %(tenant)s (%(scope)s) already have %(carved)s %(field)s, more than %(asked)s.") % {
                "tenant": tenant.name, "scope": scope, "carved": carved, "field": name, "asked": asked})
    return problems


def set_quota(tenant: Tenant, cloud: Any, limits: Mapping[str, int | None]) -> Quota:
    """Create or change one node's limits for one scope; QuotaRefused with the numbers when the carving breaks."""
    values = {name: limits.get(name) for name in QUOTA_FIELDS}
    with transaction.atomic():
        # The parent's row locked: two admins carving the same parent at once are serialised.
        list(Tenant.objects.select_for_update().filter(pk__in=[t.pk for t in lineage(tenant)]).order_by("pk"))
        problems = carving_problems(tenant, cloud, values)
        if problems:
            raise QuotaRefused(problems)
        quota = _scope_quota(tenant, cloud)
        if quota is None:
            quota = Quota(tenant=tenant, cloud=cloud)
        for name, value in values.items():
            setattr(quota, name, value)
        quota.save()
    return quota


# --- the report ------------------------------------------------------------------------------------------------


def report(quotas: Iterable[Quota]) -> list[dict[str, Any]]:
    """Each quota with its subtree's usage and what is over its limit - resources created outside Souverain
    included, which is how they are flagged."""
    rows = []
    for quota in quotas:
        used = usage(quota.tenant, quota.cloud)
        limits = quota.limits()
        over = [name for name in QUOTA_FIELDS if limits[name] is not None and used[name] > limits[name]]
        rows.append({"quota": quota, "usage": used, "over": over})
    return rows
