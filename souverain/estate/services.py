"""Applying an estate file to the database (atomic, idempotent) and reading exposure from it."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from souverain.sovereignty.kb import KnowledgeBase
from souverain.sovereignty.services import current_knowledge_base

from . import db_snapshot, estatefile
from .cloudkinds import validate_cloud_kind
from .exposure import region_profile
from .models import AvailabilityZone, Certification, Cloud, Datacenter, LegalEntity, Region, Shareholding
from .ownership import Holding, OwnershipGraph
from .signals import estate_applied


@dataclass
class ApplyReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, kind: str) -> None:
        target = getattr(self, bucket)
        target[kind] = target.get(kind, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "removed": self.removed,
                "unchanged": self.unchanged}


class CredentialsMissing(ValueError):
    pass


def _upsert(report: ApplyReport, kind: str, model: Any, lookup: dict[str, Any], values: dict[str, Any]) -> Any:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        report.count("created", kind)
        return obj
    changed = False
    for name, value in values.items():
        current = getattr(obj, name)
        if name.endswith("_id") or not hasattr(current, "pk"):
            if _differs(current, value):
                setattr(obj, name, value)
                changed = True
        elif current != value:
            setattr(obj, name, value)
            changed = True
    if changed:
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        report.count("updated", kind)
    else:
        report.count("unchanged", kind)
    return obj


def _differs(current: Any, value: Any) -> bool:
    if current is None or value is None:
        return current != value
    try:
        return float(current) != float(value)
    except (TypeError, ValueError):
        return str(current) != str(value)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def apply_document(doc: dict[str, Any], *, prune: bool = False) -> ApplyReport:
    """Make the database match a validated estate document. One transaction: on any error nothing changes."""
    report = ApplyReport()
    with transaction.atomic():
        entities: dict[str, LegalEntity] = {}
        for entry in doc.get("entities") or []:
            dpf = entry.get("dpf") or {}
            entities[entry["id"]] = _upsert(report, "entity", LegalEntity, {"slug": entry["id"]}, {
                "name": entry["name"], "country": entry["country"], "kind": entry.get("kind", "company"),
                "dpf_certified": bool(dpf.get("certified")), "dpf_since": _date(dpf.get("since")),
                "dpf_until": _date(dpf.get("until")),
            })
        for entry in doc.get("entities") or []:
            entity = entities[entry["id"]]
            parent = entities[entry["parent"]] if entry.get("parent") else None
            if entity.parent_id != (parent.pk if parent else None):
                entity.parent = parent
                entity.save()
            wanted = set()
            for share in entry.get("shareholders") or []:
                holder = entities[share["holder"]]
                wanted.add(holder.pk)
                _upsert(report, "shareholding", Shareholding, {"owned": entity, "holder": holder}, {
                    "capital": share["capital"], "voting": share.get("voting", share["capital"]),
                })
            for stale in Shareholding.objects.filter(owned=entity).exclude(holder__in=wanted):
                stale.delete()
                report.count("removed", "shareholding")

        datacenters: dict[str, Datacenter] = {}
        for entry in doc.get("datacenters") or []:
            datacenters[entry["id"]] = _upsert(report, "datacenter", Datacenter, {"slug": entry["id"]}, {
                "name": entry["name"], "operator": entities[entry["operator"]], "country": entry["country"],
                "city": entry.get("city") or "", "tier": entry.get("tier"),
            })

        seen_clouds = set()
        for entry in doc.get("clouds") or []:
            cloud = _apply_cloud(report, entry, entities, datacenters)
            seen_clouds.add(cloud.pk)

        if prune:
            for model, kind, keep in (
                (Cloud, "cloud", seen_clouds),
                (Datacenter, "datacenter", {d.pk for d in datacenters.values()}),
                (LegalEntity, "entity", {e.pk for e in entities.values()}),
            ):
                for obj in model.objects.exclude(pk__in=keep):
                    obj.delete()
                    report.count("removed", kind)
        # The file was checked on its own; with the entities already stored (not pruned) it must still be acyclic.
        ownership_graph().check_acyclic()
        if report.created or report.updated or report.removed:
            transaction.on_commit(lambda: estate_applied.send_robust(sender=Cloud, report=report))
    return report


def _apply_cloud(report: ApplyReport, entry: dict[str, Any], entities: dict[str, LegalEntity],
                 datacenters: dict[str, Datacenter]) -> Cloud:
    stack = entry.get("stack") or {}
    custody = entry.get("key_custody") or {}
    try:
        validate_cloud_kind(entry["kind"])
    except ValidationError as exc:
        raise ValueError(f"cloud {entry['id']!r}: {' '.join(exc.messages)}") from None
    cloud = _upsert(report, "cloud", Cloud, {"slug": entry["id"]}, {
        "name": entry["name"], "kind": entry["kind"], "clouds_yaml_entry": entry.get("clouds_yaml") or "",
        "endpoint": entry.get("endpoint") or "", "operator": entities[entry["operator"]],
        "stack_distribution": stack.get("distribution") or "",
        "stack_vendor": entities[stack["vendor"]] if stack.get("vendor") else None,
        "vendor_access": stack.get("vendor_access") or "none",
        "admin_staff_countries": list(entry.get("admin_staff_countries") or []),
        "support_staff_countries": list(entry.get("support_staff_countries") or []),
        "key_custody": custody.get("holder") or "provider", "key_custody_country": custody.get("country") or "",
    })
    credentials = entry.get("credentials")
    if credentials:
        secret_var = credentials.get("password_env")
        secret = os.environ.get(secret_var or "", "")
        # The secret comes from the environment at apply time; without it, keep what is already stored.
        if secret:
            wanted = {"username": credentials.get("username", ""), "password": secret}
            if cloud.get_credentials() != wanted:
                cloud.set_credentials(wanted)
                cloud.save()
    hardware = {entities[v].pk for v in entry.get("hardware_vendors") or []}
    if set(cloud.hardware_vendors.values_list("pk", flat=True)) != hardware:
        cloud.hardware_vendors.set(hardware)
    _apply_dedication(cloud, entry.get("dedicated_to") or [])
    _sync_certifications(report, cloud, None, entry.get("certifications") or [])
    seen_regions = set()
    for region_entry in entry.get("regions") or []:
        region = _upsert(report, "region", Region, {"cloud": cloud, "slug": region_entry["id"]},
                         {"name": region_entry.get("name") or region_entry["id"]})
        seen_regions.add(region.pk)
        for relation in ("datacenters", "backup_datacenters"):
            wanted = {datacenters[d].pk for d in region_entry.get(relation) or []}
            manager = getattr(region, relation)
            if set(manager.values_list("pk", flat=True)) != wanted:
                manager.set(wanted)
        zones = set(region_entry.get("availability_zones") or [])
        for zone in zones:
            _upsert(report, "availability_zone", AvailabilityZone, {"region": region, "name": zone}, {})
        for stale in region.availability_zones.exclude(name__in=zones):
            stale.delete()
            report.count("removed", "availability_zone")
        _sync_certifications(report, cloud, region, region_entry.get("certifications") or [])
    for stale in cloud.regions.exclude(pk__in=seen_regions):
        stale.delete()
        report.count("removed", "region")
    return cloud


def _apply_dedication(cloud: Cloud, slugs: list[str]) -> None:
    """A private cloud's tenants (none: public). Unknown slugs are refused, naming the cloud: the whole apply
    is rolled back (apply_file reports them with their line before anything is written)."""
    from souverain.tenancy.models import Tenant

    tenants = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    missing = sorted(set(slugs) - set(tenants))
    if missing:
        raise ValueError(f"cloud '{cloud.slug}': dedicated_to names unknown tenant(s) {', '.join(missing)}")
    if set(cloud.dedicated_to.values_list("pk", flat=True)) != set(tenants.values()):
        cloud.dedicated_to.set(tenants.values())


def _sync_certifications(report: ApplyReport, cloud: Cloud, region: Region | None,
                         entries: list[dict[str, Any]]) -> None:
    keep = set()
    for entry in entries:
        cert = _upsert(report, "certification", Certification, {
            "cloud": cloud, "region": region, "scheme": entry["scheme"], "version": str(entry.get("version") or ""),
            "level": str(entry.get("level") or ""), "valid_from": _date(entry["valid_from"]),
        }, {
            "scope": entry.get("scope") or "", "valid_until": _date(entry.get("valid_until")),
            "evidence_url": entry.get("evidence_url") or "",
        })
        keep.add(cert.pk)
    for stale in Certification.objects.filter(cloud=cloud, region=region).exclude(pk__in=keep):
        stale.delete()
        report.count("removed", "certification")


def ownership_graph() -> OwnershipGraph:
    """Who holds and who controls whom, by entity slug, as stored: two queries, whatever the estate's size."""
    holdings = [Holding(owned, holder, float(capital), float(voting)) for owned, holder, capital, voting
                in Shareholding.objects.values_list("owned__slug", "holder__slug", "capital", "voting")]
    parents = dict(LegalEntity.objects.filter(parent__isnull=False).values_list("slug", "parent__slug"))
    return OwnershipGraph(countries={}, names={}, holdings=holdings, parents=parents)


def cycle_with_parent(entity: LegalEntity, parent: LegalEntity | None) -> list[str] | None:
    """The ownership cycle that giving ``entity`` this parent would close (slugs, from the entity back to it)."""
    if parent is None:
        return None
    graph = ownership_graph()
    graph.parents[entity.slug] = parent.slug
    return graph.find_cycle_through(entity.slug)


def apply_file(path: str | Path, *, prune: bool = False) -> ApplyReport:
    from souverain.tenancy.models import Tenant

    kb = current_knowledge_base()
    doc = estatefile.load(path, kb, tenants=Tenant.objects.values_list("slug", flat=True))
    return apply_document(doc, prune=prune)


def exposure_for_region(region: Region, on: dt.date | None = None, kb: KnowledgeBase | None = None) -> dict[str, Any]:
    estate = db_snapshot.from_database()
    return region_profile(estate, region.cloud.slug, region.slug, kb or current_knowledge_base(), on)
