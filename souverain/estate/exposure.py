"""Exposure analysis: which foreign laws can reach a region's data, through which channel, and why.

Four channels (see docs/sovereignty-model.md): legal control (the operator's control chain), data location
(primary and backup sites), access (admin and support staff, the stack vendor's remote access, the
facility operator's physical access), supply chain (vendors without access). Which channel a law reaches
through, and how strongly, is knowledge-base data (``souverain/kb/laws.yaml``), not code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from souverain.sovereignty.kb import KnowledgeBase, LawInfo

from .ownership import ownership_test
from .snapshot import CloudData, EstateData, RegionData

ACCESS_LEVELS_WITH_ACCESS = {"remote_support", "operations"}


@dataclass(frozen=True)
class Path:
    """One way a law reaches the region: a channel, the countries it passes, and a readable chain."""

    channel: str
    country: str
    chain: list[str]
    facts: dict[str, Any]


def _entity_label(estate: EstateData, entity_id: str) -> str:
    entity = estate.entities.get(entity_id)
    return f"{entity.name} ({entity.country})" if entity else entity_id


def _paths(estate: EstateData, cloud: CloudData, region: RegionData, kb: KnowledgeBase) -> list[Path]:
    head = f"Region {cloud.id}/{region.id}"
    paths: list[Path] = []
    graph = estate.graph()
    chain = graph.control_chain(cloud.operator)
    links = [f"cloud {cloud.name} operated by {_entity_label(estate, chain[0][0])}"]
    for index, (entity_id, relation) in enumerate(chain):
        if index > 0:
            links.append(f"{relation} by {_entity_label(estate, entity_id)}")
        entity = estate.entities.get(entity_id)
        if entity is None:
            continue
        paths.append(Path("legal_control", entity.country, [head, *links],
                          {"entity": entity_id, "country": entity.country, "depth": index}))
    for role, ids in (("primary", region.datacenters), ("backup", region.backup_datacenters)):
        for dc_id in ids:
            dc = estate.datacenters.get(dc_id)
            if dc is None:
                continue
            where = f"{dc.name} ({dc.city + ', ' if dc.city else ''}{dc.country})"
            label = "stores its data in" if role == "primary" else "backs up its data to"
            paths.append(Path("data_location", dc.country, [f"{head} {label} {where}"],
                              {"datacenter": dc.id, "country": dc.country, "role": role}))
            operator = estate.entities.get(dc.operator)
            if operator is not None and operator.id != cloud.operator:
                paths.append(Path(
                    "access", operator.country,
                    [f"{head} {label} {where}", f"facility operated by {_entity_label(estate, operator.id)},"
                     " with physical access to the equipment"],
                    {"datacenter": dc.id, "facility_operator": operator.id, "country": operator.country},
                ))
    for kind, countries in (("admin", cloud.admin_staff_countries), ("support", cloud.support_staff_countries)):
        for country in countries:
            paths.append(Path("access", country, [f"{head} is {'administered' if kind == 'admin' else 'supported'}"
                                                  f" by {kind} staff in {kb.country_name(country)} ({country})"],
                              {"staff": kind, "country": country}))
    if cloud.stack_vendor and cloud.stack_vendor in estate.entities:
        vendor = estate.entities[cloud.stack_vendor]
        access = cloud.vendor_access in ACCESS_LEVELS_WITH_ACCESS
        what = f"stack vendor {_entity_label(estate, vendor.id)} ({cloud.stack_distribution or 'stack'})"
        detail = f"has {cloud.vendor_access.replace('_', ' ')} access" if access else (
            f"supplies the software ({cloud.vendor_access.replace('_', ' ')})")
        paths.append(Path("access" if access else "supply_chain", vendor.country,
                          [f"{head} ← cloud {cloud.name} runs on {what}", detail],
                          {"vendor": vendor.id, "country": vendor.country, "vendor_access": cloud.vendor_access}))
    for vendor_id in cloud.hardware_vendors:
        vendor = estate.entities.get(vendor_id)
        if vendor is not None:
            paths.append(Path("supply_chain", vendor.country,
                              [f"{head} ← cloud {cloud.name} uses hardware from {_entity_label(estate, vendor.id)}"],
                              {"hardware_vendor": vendor.id, "country": vendor.country}))
    return paths


def _join(chain: list[str], law: LawInfo) -> str:
    return " ← ".join(chain) + f" → {law.name}"


def region_profile(estate: EstateData, cloud_id: str, region_id: str, kb: KnowledgeBase,
                   on: dt.date | None = None) -> dict[str, Any]:
    """The region's full sovereignty profile on a date: the ``region`` part of a policy input document,
    plus a per-law verdict (``laws``) that says why each known law does or does not reach the region."""
    on = on or dt.date.today()
    cloud = estate.clouds[cloud_id]
    region = cloud.regions[region_id]
    graph = estate.graph()
    operator = estate.entities[cloud.operator]
    chain = graph.control_chain(cloud.operator)
    test = ownership_test(graph, cloud.operator, kb.eu_countries)
    paths = _paths(estate, cloud, region, kb)

    exposure: list[dict[str, Any]] = []
    laws: list[dict[str, Any]] = []
    for law in kb.laws:
        hits = []
        for path in paths:
            strength = law.strength(path.channel)
            if path.country != law.country or strength is None:
                continue
            hits.append({
                "law": law.slug, "law_name": law.name, "country": law.country, "channel": path.channel,
                "strength": strength, "explanation": _join(path.chain, law), "facts": path.facts,
                "inference": bool(law.channels[path.channel].get("inference", False)),
            })
        exposure.extend(hits)
        laws.append({
            "law": law.slug, "name": law.name, "country": law.country, "citation": law.citation,
            "source": law.source, "exposed": bool(hits),
            "strength": _strongest(hits), "paths": hits,
            "why_not": None if hits else _why_not(law, kb),
        })

    data_locations = []
    for role, ids in (("primary", region.datacenters), ("backup", region.backup_datacenters)):
        for dc_id in ids:
            dc = estate.datacenters[dc_id]
            op = estate.entities.get(dc.operator)
            data_locations.append({
                "datacenter": dc.id, "name": dc.name, "city": dc.city, "country": dc.country, "role": role,
                "operator": {"id": dc.operator, "name": op.name if op else dc.operator,
                             "country": op.country if op else ""},
            })
    vendor = estate.entities.get(cloud.stack_vendor) if cloud.stack_vendor else None
    certifications = []
    for cert in [*cloud.certifications, *region.certifications]:
        certifications.append({
            "scheme": cert.scheme, "version": cert.version, "level": cert.level or None, "scope": cert.scope,
            "valid_from": cert.valid_from.isoformat(),
            "valid_until": cert.valid_until.isoformat() if cert.valid_until else None,
            "valid": cert.valid_on(on),
            "days_to_expiry": (cert.valid_until - on).days if cert.valid_until else None,
            "held_by": "region" if cert.region else "cloud", "evidence_url": cert.evidence_url,
        })
    return {
        "id": f"{cloud.id}/{region.id}",
        "name": region.name,
        "date": on.isoformat(),
        "cloud": {"id": cloud.id, "name": cloud.name, "kind": cloud.kind},
        "operator": {
            "id": operator.id, "name": operator.name, "country": operator.country, "eu": kb.is_eu(operator.country),
            "dpf_certified": operator.dpf_valid_on(on),
            "chain": [
                {"id": eid, "name": estate.entities[eid].name, "country": estate.entities[eid].country,
                 "eu": kb.is_eu(estate.entities[eid].country), "relation": relation}
                for eid, relation in chain
            ],
        },
        "ownership": test.as_dict(),
        "data_locations": data_locations,
        "data_countries": sorted({d["country"] for d in data_locations}),
        "admin_staff_countries": sorted(cloud.admin_staff_countries),
        "support_staff_countries": sorted(cloud.support_staff_countries),
        "vendor": (
            {"id": vendor.id, "name": vendor.name, "country": vendor.country, "access": cloud.vendor_access,
             "distribution": cloud.stack_distribution}
            if vendor else None
        ),
        "hardware_vendors": [
            {"id": v, "name": estate.entities[v].name, "country": estate.entities[v].country}
            for v in cloud.hardware_vendors if v in estate.entities
        ],
        "key_custody": {"holder": cloud.key_custody, "country": cloud.key_custody_country or None},
        "certifications": certifications,
        "exposure": exposure,
        "laws": laws,
        "level": sovereignty_level(exposure, kb),
    }


def _strongest(hits: list[dict[str, Any]]) -> str | None:
    if any(h["strength"] == "compelled" for h in hits):
        return "compelled"
    return "informational" if hits else None


def sovereignty_level(exposure: list[dict[str, Any]], kb: KnowledgeBase) -> str:
    """A one-word summary for maps and lists: immune / informational / exposed."""
    foreign = [e for e in exposure if not kb.is_eu(e["country"])]
    if any(e["strength"] == "compelled" for e in foreign):
        return "exposed"
    return "informational" if foreign else "immune"


_CHANNEL_WORDS = {
    "legal_control": "no entity in the operator's control chain is domiciled in {c}",
    "data_location": "no primary or backup site is in {c}",
    "access": "no staff, vendor or facility operator has access from {c}",
    "supply_chain": "no vendor is domiciled in {c}",
}


def _why_not(law: LawInfo, kb: KnowledgeBase) -> str:
    country = kb.country_name(law.country)
    reasons = [_CHANNEL_WORDS[channel].format(c=country) for channel in law.channels if channel in _CHANNEL_WORDS]
    channels = ", ".join(law.channels) or "no channel"
    return f"{law.name} reaches data only through {channels}: " + "; ".join(reasons) + "."
