"""Evidence packs: what an auditor needs to prove, months later, where a tenant's data lived on a date and under
which rules — as one signed, reproducible ZIP (the container and its offline check: ``evidence_pack.py``).

Scope: a tenant (with its subtree in the organisation tree), a set of resources, or a region; and a date. In
scope are the inventoried resources alive at the end of that date (UTC): seen by then, not gone by then.

What the JSON says (``evidence.json``), for each region holding resources in scope: the cloud, the operator's
control chain and the ownership test's explanation lines, the primary and backup datacenters, every law that
reaches it by channel with its explanation chain (``estate.exposure.region_profile``: the same analysis as the
portal), the certificates valid on the date with their evidence URL (their source). For each resource: its
region and datacenters, its workload (the tenant's defaults, its tags and labels, as the compliance pass sees
it), the decision of the active policy set for its region on the date with every reason (deny and warn, in
both languages), and its violations' history as known at the end of the date (first seen; resolved, or still
open then). Then the policy set version and packs, the knowledge base's versions, and the signed audit
checkpoint covering the date: the first one signed after the date's end, else the last one (``covers_date``
says which).

Reproducible: the same database state, date and language give the same bytes. Nothing depends on the time of
the build — no "generated at", no random id; lists are sorted by stable keys; times are UTC ISO strings; the
PDF's metadata dates are the pack's date (``evidence_pdf.py``); the ZIP is fixed (``evidence_pack.py``).
The signing key is the audit trail's Ed25519 key (``keys.py``), so one published public key checks both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet

from souverain.core.roles import Role
from souverain.estate import db_snapshot
from souverain.estate.exposure import region_profile
from souverain.inventory.kinds import DATA_KINDS, KINDS
from souverain.inventory.models import Resource
from souverain.policy import placement
from souverain.policy import services as policy_services
from souverain.policy.compliance import foreign_private_cloud, workload_of
from souverain.policy.models import Violation
from souverain.sovereignty.services import current_knowledge_base

from . import chain, evidence_pack, keys
from .models import AuditCheckpoint

LANGUAGES = ("fr", "en")
#: Who may have a pack (the API's and the portal link's rule): operators, auditors and tenant admins; tenant-scoped
#: ones only of their own subtree (api/evidence.py).
READERS = frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_OPS, Role.AUDITOR, Role.TENANT_ADMIN})
_LABELS_AT = {info.name: info.labels_at for info in KINDS}


class ScopeError(ValueError):
    """A pack asked for with a bad scope: ``field`` names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _utc(value: dt.datetime | None) -> str | None:
    return chain.format_time(value) if value is not None else None


def _end_of(on: dt.date) -> dt.datetime:
    return dt.datetime.combine(on + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _labels(resource: Resource) -> dict[str, Any]:
    place = _LABELS_AT.get(resource.kind)
    if place is None:
        return {}
    source = resource.attrs if place == "" else (resource.attrs or {}).get(place)
    if not isinstance(source, dict):
        return {}
    return {key: value for key, value in source.items() if str(key).startswith("souverain:")}


def scoped_resources(*, tenant: Any = None, resources: list[int] | None = None, region: Any = None,
                     on: dt.date) -> QuerySet:
    from souverain.tenancy.services import subtree_query

    end = _end_of(on)
    queryset = Resource.objects.filter(first_seen__lt=end).filter(Q(gone_at__isnull=True) | Q(gone_at__gte=end))
    if tenant is not None:
        queryset = queryset.filter(tenant__in=subtree_query(tenant))
    if resources is not None:
        queryset = queryset.filter(pk__in=resources)
    if region is not None:
        queryset = queryset.filter(region=region)
    return queryset.select_related("cloud", "region", "tenant").order_by("cloud__slug", "region__slug", "kind",
                                                                          "external_id", "pk")


def _region_section(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": profile["id"], "name": profile["name"], "cloud": profile["cloud"], "level": profile["level"],
        "operator": profile["operator"], "ownership": profile["ownership"],
        "ownership_lines": profile["ownership_lines"],
        "datacenters": {
            "primary": [d for d in profile["data_locations"] if d["role"] == "primary"],
            "backup": [d for d in profile["data_locations"] if d["role"] == "backup"],
        },
        "laws": [
            {"law": law["law"], "name": law["name"], "country": law["country"], "citation": law["citation"],
             "source": law["source"], "strength": law["strength"],
             "channels": [{"channel": p["channel"], "strength": p["strength"], "explanation": p["explanation"],
                           "chain": p["chain"], "inference": p["inference"]} for p in law["paths"]]}
            for law in profile["laws"] if law["exposed"]
        ],
        "certificates": [
            {key: cert[key] for key in ("scheme", "version", "level", "scope", "valid_from", "valid_until",
                                        "held_by", "evidence_url")}
            for cert in profile["certifications"] if cert["valid"]
        ],
    }


def _violations(resource_ids: list[int], on: dt.date) -> dict[int, list[dict[str, Any]]]:
    end = _end_of(on)
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    found = (Violation.objects.filter(resource_id__in=resource_ids, first_seen__lt=end)
             .order_by("resource_id", "first_seen", "rule", "pk"))
    for violation in found:
        resolved = violation.resolved_at if violation.resolved_at is not None and violation.resolved_at < end else None
        history[violation.resource_id].append({
            "rule": violation.rule, "severity": violation.severity, "message": violation.message,
            "first_seen": _utc(violation.first_seen), "resolved_at": _utc(resolved),
            "open_on_date": resolved is None,
        })
    return history


def _checkpoint(on: dt.date) -> dict[str, Any] | None:
    end = _end_of(on)
    covering = AuditCheckpoint.objects.filter(time__gte=end).order_by("number").first()
    latest = covering or AuditCheckpoint.objects.order_by("-number").first()
    if latest is None:
        return None
    return {**{name: getattr(latest, name) for name in chain.CHECKPOINT_FIELDS if name != "time"},
            "time": _utc(latest.time), "signature": latest.signature, "hash": latest.hash,
            "covers_date": covering is not None}


def collect(*, tenant: Any = None, resources: list[int] | None = None, region: Any = None,
            on: dt.date) -> dict[str, Any]:
    """The facts of a pack, as plain JSON-ready data (see the module's note)."""
    if tenant is None and resources is None and region is None:
        raise ScopeError("tenant", "give a tenant, resources or a region")
    found = list(scoped_resources(tenant=tenant, resources=resources, region=region, on=on))
    kb = current_knowledge_base()
    estate = db_snapshot.from_database()
    engine = policy_services.current_engine()
    context = policy_services.current_context(on)
    cases = {case.key: case for case in context.cases}
    layers: dict[int | None, dict[str, Any]] = {}

    regions: dict[str, dict[str, Any]] = {}
    region_keys = sorted({(r.cloud.slug, r.region.slug) for r in found})
    if region is not None:
        region_keys = sorted({*region_keys, (region.cloud.slug, region.slug)})
    for cloud_slug, region_slug in region_keys:
        profile = region_profile(estate, cloud_slug, region_slug, kb, on)
        regions[profile["id"]] = _region_section(profile)

    history = _violations([r.pk for r in found], on)
    entries = []
    for resource in found:
        key = f"{resource.cloud.slug}/{resource.region.slug}"
        if resource.tenant_id not in layers:
            layers[resource.tenant_id] = (policy_services.tenant_layer(resource.tenant)
                                          if resource.tenant is not None else {})
        decision: dict[str, Any] | None = None
        workload = None
        if resource.kind in DATA_KINDS and key in cases:
            workload = workload_of(layers[resource.tenant_id], resource.tags, _labels(resource))
            [(_, deny, warn)] = placement.decide_all(workload, [cases[key]], context, on, engine)
            deny = [*deny, *foreign_private_cloud(cases[key], workload.get("tenant"))]
            decision = {
                "allowed": not deny,
                "deny": [placement._reason(d) for d in sorted(deny, key=lambda d: (d.get("rule", ""),
                                                                                    d.get("message", "")))],
                "warn": [placement._reason(w) for w in sorted(warn, key=lambda w: (w.get("rule", ""),
                                                                                    w.get("message", "")))],
            }
        section = regions.get(key, {})
        entries.append({
            "id": resource.pk, "kind": resource.kind, "name": resource.name, "external_id": resource.external_id,
            "tenant": resource.tenant.slug if resource.tenant else None, "cloud": resource.cloud.slug,
            "region": key, "first_seen": _utc(resource.first_seen),
            "datacenters": {role: [d["datacenter"] for d in dcs]
                            for role, dcs in (section.get("datacenters") or {}).items()},
            "workload": {k: workload[k] for k in ("data_classes", "requirements") if k in workload}
            if workload else None,
            "decision": decision,
            "violations": history.get(resource.pk, []),
        })

    if tenant is not None:
        scope: dict[str, Any] = {"tenant": {"slug": tenant.slug, "name": tenant.name, "category": tenant.category}}
    elif region is not None:
        scope = {"region": f"{region.cloud.slug}/{region.slug}"}
    else:
        scope = {"resources": sorted(resources or [])}
    return {
        "format": evidence_pack.FORMAT,
        "date": on.isoformat(),
        "scope": scope,
        "policy_set": {"version": engine.policy_set.version,
                       "packs": sorted((engine.packs_config.get("packs") or {}).keys())},
        "knowledge_base": {"versions": dict(sorted(kb.versions.items()))},
        "regions": [regions[k] for k in sorted(regions)],
        "resources": entries,
        "audit_checkpoint": _checkpoint(on),
    }


def build_pack(*, tenant: Any = None, resources: list[int] | None = None, region: Any = None,
               on: dt.date, language: str = "fr") -> bytes:
    """The signed ZIP: ``evidence.json``, ``report.pdf`` in ``language``, the manifest and its signature."""
    from . import evidence_pdf

    if language not in LANGUAGES:
        raise ScopeError("lang", f"'{language}' is not one of {', '.join(LANGUAGES)}")
    facts = collect(tenant=tenant, resources=resources, region=region, on=on)
    facts["language"] = language
    document = evidence_pack.canonical_json(json.loads(json.dumps(facts, default=str)))
    pdf = evidence_pdf.render(facts, language)
    return evidence_pack.write_pack({"evidence.json": document, "report.pdf": pdf}, on, keys.signing_key())
