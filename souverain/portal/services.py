"""What the portal's pages show, assembled from each domain app's services (views stay thin).

The estate pages read the estate once per request as plain data (``estate.db_snapshot.from_database``) and run the
same exposure analysis the API runs (``estate.exposure.region_profile``) for every region they show, so the map,
the cloud page and the region page state the same facts as ``/api/regions/<id>/exposure/``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.urls import reverse

from souverain.estate import db_snapshot, snapshot
from souverain.estate.exposure import region_profile
from souverain.estate.models import Certification, Cloud, Datacenter, LegalEntity, Region
from souverain.inventory.models import Resource
from souverain.policy.models import Violation
from souverain.sovereignty.kb import KnowledgeBase
from souverain.sovereignty.services import current_knowledge_base
from souverain.tenancy.permissions import CLOUD_PART_ACCESS, Access, scope_queryset, sees_dedicated

from . import geo, graphs, maps, wording

EXPIRING_DAYS = 90
# As the compliance API: everyone reads violations, tenant users their tenant's only.
VIOLATION_ACCESS = Access(tenant_lookup="tenant")
CHANNELS = ("legal_control", "data_location", "access", "supply_chain")


def certificate_state(valid: bool, days_to_expiry: int | None, valid_from: str | dt.date, on: dt.date) -> str:
    """valid | expiring (≤ 90 days left) | expired | pending (not valid yet)."""
    start = dt.date.fromisoformat(valid_from) if isinstance(valid_from, str) else valid_from
    if start > on:
        return "pending"
    if not valid:
        return "expired"
    if days_to_expiry is not None and days_to_expiry <= EXPIRING_DAYS:
        return "expiring"
    return "valid"


@dataclass
class EstateContext:
    """The estate read once, and each region's profile on a date (keyed by region pk)."""

    estate: snapshot.EstateData
    kb: KnowledgeBase
    on: dt.date
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)


def estate_context(on: dt.date, only_cloud: str | None = None, only_region: int | None = None) -> EstateContext:
    estate = db_snapshot.from_database()
    kb = current_knowledge_base()
    context = EstateContext(estate, kb, on)
    for cloud, region in estate.regions():
        if only_cloud is not None and cloud.id != only_cloud:
            continue
        if only_region is not None and region.pk != only_region:
            continue
        context.profiles[region.pk or 0] = region_profile(estate, cloud.id, region.id, kb, on)
    return context


# --- counts from the inventory and compliance apps (scoped to the user's tenant) -------------------------------

def resource_counts(user: Any) -> dict[int, int]:
    """Present resources per cloud pk."""
    queryset = scope_queryset(Resource.objects.filter(gone_at__isnull=True), user, Access(tenant_lookup="tenant"))
    return dict(queryset.values_list("cloud").annotate(n=Count("pk")).values_list("cloud", "n"))


def violation_counts(user: Any) -> dict[int, int]:
    """Open violations per cloud pk."""
    queryset = scope_queryset(open_violations(), user, VIOLATION_ACCESS)
    return dict(queryset.values_list("region__cloud").annotate(n=Count("pk")).values_list("region__cloud", "n"))


def open_violations() -> QuerySet:
    return Violation.objects.filter(resolved_at__isnull=True)


# --- estate overview ---------------------------------------------------------------------------------------------

def estate_overview(user: Any, on: dt.date, view_slug: str = "") -> dict[str, Any]:
    context = estate_context(on)
    resources = resource_counts(user)
    violations = violation_counts(user)
    clouds, regions_in, levels = [], [], Counter()
    dc_levels: dict[str, list[str]] = {}
    number = 0
    hidden = [c for c in context.estate.clouds.values() if not sees_dedicated(user, c.dedicated_to)]
    for cloud in sorted(context.estate.clouds.values(), key=lambda c: c.name.casefold()):
        if cloud in hidden:  # another customer's private cloud
            continue
        rows = []
        for region in sorted(cloud.regions.values(), key=lambda r: r.id):
            number += 1
            profile = context.profiles[region.pk or 0]
            levels[profile["level"]] += 1
            url = reverse("portal:region", args=[region.pk])
            rows.append({"number": number, "pk": region.pk, "key": profile["id"], "name": region.name,
                         "level": profile["level"], "url": url,
                         "data_countries": profile["data_countries"],
                         "ownership_passed": profile["ownership"]["passed"],
                         "exposed_laws": [law for law in profile["laws"] if law["exposed"]]})
            datacenters = [(d, "primary") for d in region.datacenters] + [
                (d, "backup") for d in region.backup_datacenters]
            regions_in.append(maps.RegionInput(number, profile["id"], region.name, url, profile["level"],
                                               datacenters))
            for slug, _ in datacenters:
                dc_levels.setdefault(slug, []).append(profile["level"])
        operator = context.estate.entities.get(cloud.operator)
        clouds.append({
            "slug": cloud.id, "name": cloud.name, "kind": cloud.kind, "pk": cloud.pk,
            "operator": operator.name if operator else cloud.operator,
            "operator_country": operator.country if operator else "",
            "regions": rows, "level": maps.worst_level([r["level"] for r in rows]),
            "resources": resources.get(cloud.pk or 0, 0), "violations": violations.get(cloud.pk or 0, 0),
        })
    # The sites of hidden private clouds go with them, unless a visible region uses them too.
    hidden_sites = {d for c in hidden for r in c.regions.values() for d in [*r.datacenters, *r.backup_datacenters]}
    sites = [maps.SiteInput(dc.id, dc.name, dc.country, dc.city, maps.worst_level(dc_levels.get(dc.id, [])))
             for dc in context.estate.datacenters.values() if dc.id in dc_levels or dc.id not in hidden_sites]
    map_data = None
    if regions_in or sites:
        view = geo.VIEWS.get(view_slug) or maps.default_view(sites)
        map_data = maps.build_map(view, sites, regions_in)
    return {
        "on": on, "clouds": clouds, "map": map_data, "levels": {k: levels.get(k, 0) for k in maps.LEVEL_ORDER},
        "region_count": number, "datacenter_count": len(sites),
        "resources_total": sum(resources.values()), "violations_total": sum(violations.values()),
    }


# --- cloud and region pages --------------------------------------------------------------------------------------

def _certificates(items: list[dict[str, Any]], kb: KnowledgeBase, on: dt.date) -> list[dict[str, Any]]:
    result = []
    for item in items:
        scheme = kb.schemes.get(item["scheme"], {})
        result.append({**item, "scheme_name": scheme.get("name") or item["scheme"],
                       "state": certificate_state(item["valid"], item["days_to_expiry"], item["valid_from"], on)})
    order = {"expired": 0, "expiring": 1, "pending": 2, "valid": 3}
    return sorted(result, key=lambda c: (order[c["state"]], c["scheme"]))


def _chain_steps(explanation: str) -> list[str]:
    """``a ← b ← c → Law`` as its steps, for display as a chain of boxes."""
    head, _, law = explanation.rpartition(" → ")
    steps = [step for step in head.split(" ← ") if step] if head else [explanation]
    return [*steps, law] if head else steps


def exposure_by_channel(profile: dict[str, Any]) -> list[dict[str, Any]]:
    channels = []
    for channel in CHANNELS:
        hits = [{**hit, "steps": wording.chain_steps(hit) if "chain" in hit else _chain_steps(hit["explanation"]),
                 "law_title": wording.law_name(hit["law"], hit["law_name"])}
                for hit in profile["exposure"] if hit["channel"] == channel]
        hits.sort(key=lambda h: (h["strength"] != "compelled", h["law_name"]))
        channels.append({"channel": channel, "hits": hits,
                         "compelled": any(h["strength"] == "compelled" for h in hits)})
    return channels


def _ownership_explanation(profile: dict[str, Any] | None) -> list[str]:
    """The §19.6 test's explanation in the reader's language (its English lines when no translatable form)."""
    if profile is None:
        return []
    if "ownership_lines" in profile:
        return [wording.render_line(line) for line in profile["ownership_lines"]]
    return list(profile["ownership"]["explanation"])


def _titled(laws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**law, "title": wording.law_name(law["law"], law["name"])} for law in laws]


def region_page(region: Region, on: dt.date) -> dict[str, Any]:
    context = estate_context(on, only_region=region.pk)
    profile = context.profiles[region.pk]
    chain = [link["id"] for link in profile["operator"]["chain"]]
    graph = graphs.ownership_graph(context.estate, profile["operator"]["id"], context.kb.eu_countries, chain)
    return {
        "profile": profile,
        "on": on,
        "graph": graph,
        "certificates": _certificates(profile["certifications"], context.kb, on),
        "channels": exposure_by_channel(profile),
        "laws_exposed": [law for law in profile["laws"] if law["exposed"]],
        "laws_clear": [{**law, "title": wording.law_name(law["law"], law["name"]), "why_not": wording.why_not(law)}
                       for law in profile["laws"] if not law["exposed"]],
        "ownership_explanation": _ownership_explanation(profile),
        "eu": context.kb.eu_countries,
    }


def cloud_page(cloud: Cloud, on: dt.date, user: Any) -> dict[str, Any]:
    context = estate_context(on, only_cloud=cloud.slug)
    data = context.estate.clouds[cloud.slug]
    regions = []
    for region in sorted(data.regions.values(), key=lambda r: r.id):
        profile = context.profiles[region.pk or 0]
        regions.append({"pk": region.pk, "key": profile["id"], "name": region.name, "level": profile["level"],
                        "data_countries": profile["data_countries"],
                        "certificates": _certificates(
                            [c for c in profile["certifications"] if c["held_by"] == "region"], context.kb, on),
                        "exposed_laws": _titled([law for law in profile["laws"] if law["exposed"]])})
    first = next(iter(context.profiles.values()), None)
    operator = context.estate.entities[data.operator]
    chain = [link["id"] for link in first["operator"]["chain"]] if first else [data.operator]
    cloud_certs = [
        {"scheme": c.scheme, "version": c.version, "level": c.level or None, "scope": c.scope,
         "valid_from": c.valid_from.isoformat(), "valid_until": c.valid_until.isoformat() if c.valid_until else None,
         "valid": c.valid_on(on), "days_to_expiry": (c.valid_until - on).days if c.valid_until else None,
         "held_by": "cloud", "evidence_url": c.evidence_url}
        for c in data.certifications
    ]
    vendor = context.estate.entities.get(data.stack_vendor) if data.stack_vendor else None
    resources = resource_counts(user)
    violations = violation_counts(user)
    return {
        "on": on,
        "data": data,
        "operator": operator,
        "operator_eu": context.kb.is_eu(operator.country),
        "ownership": first["ownership"] if first else None,
        "ownership_explanation": _ownership_explanation(first),
        "graph": graphs.ownership_graph(context.estate, data.operator, context.kb.eu_countries, chain),
        "vendor": vendor,
        "hardware_vendors": [context.estate.entities[v] for v in data.hardware_vendors if v in context.estate.entities],
        "certificates": _certificates(cloud_certs, context.kb, on),
        "regions": regions,
        "level": maps.worst_level([r["level"] for r in regions]),
        "resources": resources.get(cloud.pk, 0),
        "violations": violations.get(cloud.pk, 0),
    }


def certificate_alerts(on: dt.date, user: Any = None) -> list[Certification]:
    """Certificates expired or expiring within 90 days, for the overview's alert box (of the clouds the user
    may see, when a user is given)."""
    soon = on + dt.timedelta(days=EXPIRING_DAYS)
    certificates = Certification.objects.select_related("cloud", "region__cloud")
    if user is not None:
        certificates = scope_queryset(certificates, user, CLOUD_PART_ACCESS)
    return list(certificates.filter(valid_until__isnull=False, valid_until__lte=soon, valid_from__lte=on)
                .order_by("valid_until"))


# --- inventory ---------------------------------------------------------------------------------------------------

HISTORY_LIMIT = 100


def resource_page(resource: Any, user: Any) -> dict[str, Any]:
    """A resource's history (newest first), the freshness of its part of the inventory, and its compliance."""
    from souverain.inventory.models import SyncState

    changes = list(resource.changes.order_by("-time", "-id")[: HISTORY_LIMIT + 1])
    return {
        "changes": changes[:HISTORY_LIMIT],
        "more_changes": len(changes) > HISTORY_LIMIT,
        "sync_state": SyncState.objects.filter(region_id=resource.region_id, kind=resource.kind).first(),
        # Already scoped: the user may see this resource, and its violations are its own.
        "violations": list(open_violations().filter(resource=resource).order_by("severity", "rule")),
        "resolved": Violation.objects.filter(resource=resource, resolved_at__isnull=False).order_by(
            "-resolved_at")[:10],
    }


# --- placement -----------------------------------------------------------------------------------------------------

def simulate_placement(workload: dict[str, Any], on: dt.date) -> dict[str, Any]:
    """``policy.services.place`` plus what the page links to: each region's pk and sovereignty level."""
    from souverain.policy import services as policy

    result = policy.place(workload, on)
    regions = {f"{c}/{r}": pk for c, r, pk in Region.objects.values_list("cloud__slug", "slug", "pk")}
    for entry in [*result["allowed"], *result["denied"]]:
        entry["pk"] = regions.get(entry["region"])
    # Reasons name entities and datacenters by id; the page names them as the estate does.
    names = dict(LegalEntity.objects.values_list("slug", "name"))
    names.update(Datacenter.objects.values_list("slug", "name"))
    for entry in result["denied"]:
        entry["groups"] = wording.group_reasons(entry["reasons"], names)
    for entry in result["allowed"]:
        entry["warning_groups"] = wording.group_reasons(entry.get("warnings") or [], names)
    result["shared"] = wording.shared_reasons(result["denied"])
    return result


# --- compliance ----------------------------------------------------------------------------------------------------

def builtin_packs() -> dict[str, dict[str, Any]]:
    """The built-in packs: title, source, when they apply, settings, Rego and tests, by pack name."""
    from souverain.policy.engine import builtin_modules, load_packs_config

    sources = {m.name: m.source for m in builtin_modules(tests=True)}
    packs = {}
    for name, pack in (load_packs_config().get("packs") or {}).items():
        packs[name] = {
            "name": name, "title": pack.get("title") or name, "source": pack.get("source") or "",
            "applies_when": pack.get("applies_when") or {}, "settings": pack.get("settings") or {},
            "rego": sources.get(f"{name}.rego", ""), "tests": sources.get(f"{name}_test.rego", ""),
        }
    return packs


def compliance_overview(user: Any) -> dict[str, Any]:
    """Open violations counted by severity, tenant and rule (the user's tenant only for tenant users), the last
    compliance pass, the built-in packs and the operators' policies."""
    from souverain.policy.models import CompliancePass, OperatorPolicy

    queryset = scope_queryset(open_violations(), user, VIOLATION_ACCESS)
    order = {"critical": 0, "high": 1, "medium": 2}
    by_severity = sorted(queryset.values("severity").annotate(n=Count("pk")).order_by(),
                         key=lambda row: order.get(row["severity"], 9))
    summary = {
        "total": sum(row["n"] for row in by_severity),
        "by_severity": by_severity,
        "by_tenant": list(queryset.values("tenant__slug", "tenant__name").annotate(n=Count("pk"))
                          .order_by("-n", "tenant__name")[:20]),
        "by_rule": list(queryset.values("rule").annotate(n=Count("pk")).order_by("-n", "rule")[:20]),
    }
    return {
        "violations": summary,
        "last_pass": CompliancePass.objects.filter(finished__isnull=False).first(),
        "packs": list(builtin_packs().values()),
        "policies": list(OperatorPolicy.objects.select_related("active_version").order_by("name")),
    }


def rule_page(name: str, user: Any) -> dict[str, Any] | None:
    """A built-in pack (``hds``) or an operator's policy (``acme`` or ``custom.acme``); None when neither."""
    from souverain.policy.models import OperatorPolicy

    pack = builtin_packs().get(name)
    policy_name = name.removeprefix("custom.")
    policy = None
    if pack is None or name.startswith("custom."):
        policy = OperatorPolicy.objects.select_related("active_version").filter(name=policy_name).first()
    if pack is None and policy is None:
        return None
    versions = list(policy.versions.select_related("uploaded_by").order_by("-number")[:20]) if policy else []
    prefix = f"custom.{policy_name}." if policy else f"{name}."
    queryset = scope_queryset(open_violations(), user, VIOLATION_ACCESS).filter(rule__startswith=prefix)
    return {"name": name, "pack": pack, "policy": policy, "versions": versions,
            "violations": list(queryset.select_related("resource").defer("resource__attrs", "denial__reason")[:100]),
            "violation_count": queryset.count()}


def error_excerpts(errors: list[dict[str, Any]], source: str, tests: str) -> list[dict[str, Any]]:
    """Each upload error with the line it points at (from the module or its tests), for display."""
    result = []
    for error in errors:
        text = tests if str(error.get("module") or "").endswith("_test.rego") else source
        lines = text.splitlines()
        line = error.get("line")
        excerpt = lines[line - 1] if isinstance(line, int) and 0 < line <= len(lines) else None
        result.append({**error, "excerpt": excerpt})
    return result


# --- sync status -------------------------------------------------------------------------------------------------

ACTIVE_JOBS = ("queued", "running")


def running_jobs() -> list[Any]:
    from souverain.inventory.services import JOB_KIND
    from souverain.jobs.models import Job

    jobs = list(Job.objects.filter(kind=JOB_KIND, status__in=ACTIVE_JOBS).order_by("created", "id")[:20])
    for job in jobs:
        job.parts = [
            {"key": key, "done": part.get("done", 0), "total": len(part.get("kinds") or {}),
             "running": sorted(k for k, s in (part.get("kinds") or {}).items() if s == "running"),
             **{k: part.get(k, 0) for k in ("created", "updated", "gone", "failed_kinds")}}
            for key, part in sorted((job.detail or {}).items())
        ]
    return jobs


def _group_stale(states: list[Any]) -> list[dict[str, Any]]:
    """Stale parts of one cloud grouped by region and error: one line per cause, with the kinds it hit."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for state in states:
        group = groups.setdefault((state.region.slug, state.error), {
            "region": state.region.slug, "error": state.error, "kinds": [], "last_success": None})
        group["kinds"].append(state.get_kind_display())
        if state.last_success and (group["last_success"] is None or state.last_success < group["last_success"]):
            group["last_success"] = state.last_success
    return list(groups.values())


def sync_status() -> dict[str, Any]:
    """Per cloud: how fresh each region is, which parts are stale and why; running and recent sync jobs."""
    from souverain.inventory.models import SyncState
    from souverain.inventory.services import JOB_KIND, syncable_clouds
    from souverain.jobs.models import Job

    syncable = {c.pk for c in syncable_clouds()}
    clouds: dict[int, dict[str, Any]] = {}
    for cloud in Cloud.objects.order_by("name"):
        clouds[cloud.pk] = {"cloud": cloud, "syncable": cloud.pk in syncable, "last_success": None,
                            "oldest_success": None, "counts": Counter(), "stale": [], "resources": 0}
    for state in SyncState.objects.select_related("region").order_by("region__slug", "kind"):
        entry = clouds.get(state.cloud_id)
        if entry is None:
            continue
        entry["counts"][state.status] += 1
        entry["resources"] += state.resource_count
        if state.status == SyncState.Status.STALE:
            entry["stale"].append(state)
        if state.last_success and state.status == SyncState.Status.OK:
            entry["last_success"] = max(filter(None, [entry["last_success"], state.last_success]))
            entry["oldest_success"] = min(filter(None, [entry["oldest_success"], state.last_success]))
    for entry in clouds.values():
        entry["counts"] = sorted(entry["counts"].items())  # templates read a Counter's "items" as a key
        entry["stale"] = _group_stale(entry["stale"])
    recent = list(Job.objects.filter(kind=JOB_KIND).exclude(status__in=ACTIVE_JOBS).order_by("-created", "-id")[:10])
    return {"clouds": list(clouds.values()), "running": running_jobs(), "recent": recent,
            "any_syncable": bool(syncable)}
