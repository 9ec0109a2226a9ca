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

from .ownership import Line, OwnershipGraph, ownership_test
from .snapshot import CloudData, EstateData, RegionData

ACCESS_LEVELS_WITH_ACCESS = {"remote_support", "operations"}


@dataclass(frozen=True)
class Path:
    """One way a law reaches the region: a channel, the countries it passes, and a readable chain whose links are
    translatable lines (``ownership.Line``: the English text is ``str(link)``)."""

    channel: str
    country: str
    chain: list[Line]
    facts: dict[str, Any]


def _entity(estate: EstateData, entity_id: str, template: str, **params: Any) -> Line:
    """``template`` followed by the entity and its country: "operated by Nimbus EMEA Limited (IE)"."""
    entity = estate.entities.get(entity_id)
    if entity is None:
        return Line(template + " {entity}", {**params, "entity": entity_id})
    return Line(template + " {entity} ({entity_country})",
                {**params, "entity": entity.name, "entity_country": entity.country})


def _chain_paths(estate: EstateData, graph: OwnershipGraph, entity_id: str, channel: str, links: list[Line],
                 facts: dict[str, Any]) -> list[Path]:
    """One path per entity of ``entity_id``'s control chain: a subsidiary carries its parents' laws."""
    paths = []
    links = list(links)
    countries_seen: set[str] = set()
    previous = entity_id
    for index, (eid, _relation) in enumerate(graph.control_chain(entity_id)):
        if index > 0:
            relation = graph.relation(previous, eid)
            links.append(_entity(estate, eid, relation.template + " by", **relation.params))
            previous = eid
        entity = estate.entities.get(eid)
        # A parent in a country already met on this chain adds no new law, only noise.
        if entity is not None and entity.country not in countries_seen:
            countries_seen.add(entity.country)
            paths.append(Path(channel, entity.country, list(links),
                              {**facts, "entity": eid, "country": entity.country, "depth": index}))
    return paths


def _paths(estate: EstateData, cloud: CloudData, region: RegionData, kb: KnowledgeBase) -> list[Path]:
    region_id = f"{cloud.id}/{region.id}"
    head = Line("Region {region}", {"region": region_id})
    graph = estate.graph()
    operator_link = _entity(estate, cloud.operator, "cloud {cloud} operated by", cloud=cloud.name)
    paths = _chain_paths(estate, graph, cloud.operator, "legal_control", [head, operator_link], {})
    for role, ids in (("primary", region.datacenters), ("backup", region.backup_datacenters)):
        for dc_id in ids:
            dc = estate.datacenters.get(dc_id)
            if dc is None:
                continue
            verb = "stores its data in" if role == "primary" else "backs up its data to"
            where = " ({city}, {country})" if dc.city else " ({country})"
            stored = Line("Region {region} " + verb + " {datacenter}" + where,
                          {"region": region_id, "datacenter": dc.name, "city": dc.city, "country": dc.country})
            facts = {"datacenter": dc.id, "role": role}
            paths.append(Path("data_location", dc.country, [stored], {**facts, "country": dc.country}))
            if dc.operator in estate.entities and dc.operator != cloud.operator:
                facility = _entity(estate, dc.operator, "facility operated by")
                facility = Line(facility.template + ", with physical access to the equipment", facility.params)
                paths.extend(_chain_paths(estate, graph, dc.operator, "access", [stored, facility],
                                          {**facts, "facility_operator": dc.operator}))
    for kind, countries in (("admin", cloud.admin_staff_countries), ("support", cloud.support_staff_countries)):
        template = ("Region {region} is administered by admin staff in {country_text}" if kind == "admin"
                    else "Region {region} is supported by support staff in {country_text}")
        for country in countries:
            staff = Line(template, {"region": region_id, "country": country,
                                    "country_text": f"{kb.country_name(country)} ({country})"})
            paths.append(Path("access", country, [staff], {"staff": kind, "country": country}))
    if cloud.stack_vendor and cloud.stack_vendor in estate.entities:
        has_access = cloud.vendor_access in ACCESS_LEVELS_WITH_ACCESS
        runs_on = _entity(estate, cloud.stack_vendor, "cloud {cloud} runs on stack vendor", cloud=cloud.name)
        runs_on = (Line(runs_on.template + " ({distribution})", {**runs_on.params,
                                                                   "distribution": cloud.stack_distribution})
                   if cloud.stack_distribution else Line(runs_on.template + " (stack)", runs_on.params))
        access = {"vendor_access": cloud.vendor_access, "access_text": cloud.vendor_access.replace("_", " ")}
        detail = (Line("has {access_text} access", access) if has_access
                  else Line("supplies the software ({access_text})", access))
        paths.extend(_chain_paths(estate, graph, cloud.stack_vendor, "access" if has_access else "supply_chain",
                                  [head, runs_on, detail],
                                  {"vendor": cloud.stack_vendor, "vendor_access": cloud.vendor_access}))
    for vendor_id in cloud.hardware_vendors:
        if vendor_id in estate.entities:
            paths.extend(_chain_paths(
                estate, graph, vendor_id, "supply_chain",
                [head, _entity(estate, vendor_id, "cloud {cloud} uses hardware from", cloud=cloud.name)],
                {"hardware_vendor": vendor_id}))
    return paths


def _join(chain: list[Line], law: LawInfo) -> str:
    return " ← ".join(str(link) for link in chain) + f" → {law.name}"


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
                "chain": [link.as_dict() for link in path.chain],
                "inference": bool(law.channels[path.channel].get("inference", False)),
            })
        exposure.extend(hits)
        laws.append({
            "law": law.slug, "name": law.name, "country": law.country, "citation": law.citation,
            "source": law.source, "exposed": bool(hits),
            "strength": _strongest(hits), "paths": hits,
            "why_not": None if hits else _why_not(law, kb),
            "channels": [channel for channel in law.channels if channel in _CHANNEL_WORDS],
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
                 "eu": kb.is_eu(estate.entities[eid].country), "relation": relation,
                 "dpf_certified": estate.entities[eid].dpf_valid_on(on)}
                for eid, relation in chain
            ],
        },
        "ownership": test.as_dict(),
        # The same explanation as message ids and parameters, for readers of other languages (ownership.Line).
        "ownership_lines": [line.as_dict() for line in test.lines],
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


_CHANNEL_NAMES = {"legal_control": "legal control", "data_location": "data location", "access": "access",
                  "supply_chain": "supply chain"}


def _why_not(law: LawInfo, kb: KnowledgeBase) -> str:
    country = kb.country_name(law.country)
    reasons = [_CHANNEL_WORDS[channel].format(c=country) for channel in law.channels if channel in _CHANNEL_WORDS]
    # Words, not the channels' codes: this sentence is shown to people (the portal says it in their language).
    channels = ", ".join(_CHANNEL_NAMES.get(channel, channel) for channel in law.channels) or "no channel"
    return f"{law.name} reaches data only through {channels}: " + "; ".join(reasons) + "."
