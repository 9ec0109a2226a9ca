"""The estate as plain data, built from an estate file here or from the database by ``db_snapshot``, so that
exposure analysis and placement work the same with or without a database (``souverain place --estate FILE``).

A pure module: no Django, no ORM, not even imported inside a function — the database adapter lives on the
other side of the line, in ``estate/db_snapshot.py`` (``core/tests/test_layering.py`` keeps it so)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .ownership import Holding, OwnershipGraph


@dataclass(frozen=True)
class EntityData:
    id: str
    name: str
    country: str
    kind: str = "company"
    dpf_certified: bool = False
    dpf_since: dt.date | None = None
    dpf_until: dt.date | None = None

    def dpf_valid_on(self, day: dt.date) -> bool:
        if not self.dpf_certified:
            return False
        return (self.dpf_since is None or self.dpf_since <= day) and (self.dpf_until is None or day <= self.dpf_until)


@dataclass(frozen=True)
class DatacenterData:
    id: str
    name: str
    operator: str
    country: str
    city: str = ""
    tier: int | None = None


@dataclass(frozen=True)
class CertificationData:
    scheme: str
    version: str
    level: str
    scope: str
    valid_from: dt.date
    valid_until: dt.date | None
    evidence_url: str = ""
    region: str | None = None  # None: held by the whole cloud

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


@dataclass
class RegionData:
    id: str
    name: str
    datacenters: list[str] = field(default_factory=list)
    backup_datacenters: list[str] = field(default_factory=list)
    availability_zones: list[str] = field(default_factory=list)
    certifications: list[CertificationData] = field(default_factory=list)
    pk: int | None = None


@dataclass
class CloudData:
    id: str
    name: str
    kind: str
    operator: str
    clouds_yaml: str = ""
    endpoint: str = ""
    stack_distribution: str = ""
    stack_vendor: str | None = None
    vendor_access: str = "none"
    hardware_vendors: list[str] = field(default_factory=list)
    admin_staff_countries: list[str] = field(default_factory=list)
    support_staff_countries: list[str] = field(default_factory=list)
    key_custody: str = "provider"
    key_custody_country: str = ""
    certifications: list[CertificationData] = field(default_factory=list)
    regions: dict[str, RegionData] = field(default_factory=dict)
    pk: int | None = None
    #: Slugs of the tenants a private cloud is dedicated to; empty for a public cloud (every tenant).
    dedicated_to: list[str] = field(default_factory=list)


@dataclass
class EstateData:
    entities: dict[str, EntityData] = field(default_factory=dict)
    holdings: list[Holding] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)
    datacenters: dict[str, DatacenterData] = field(default_factory=dict)
    clouds: dict[str, CloudData] = field(default_factory=dict)

    def graph(self) -> OwnershipGraph:
        return OwnershipGraph(
            countries={k: e.country for k, e in self.entities.items()},
            names={k: e.name for k, e in self.entities.items()},
            holdings=list(self.holdings),
            parents=dict(self.parents),
            non_controlling=frozenset(k for k, e in self.entities.items() if e.kind == "public_float"),
        )

    def regions(self) -> list[tuple[CloudData, RegionData]]:
        return [(cloud, region) for cloud in self.clouds.values() for region in cloud.regions.values()]

    def find_region(self, key: str) -> tuple[CloudData, RegionData]:
        """``cloud/region`` or a bare region id when it is unique."""
        if "/" in key:
            cloud_id, region_id = key.split("/", 1)
            cloud = self.clouds.get(cloud_id)
            if cloud and region_id in cloud.regions:
                return cloud, cloud.regions[region_id]
            raise KeyError(key)
        matches = [(c, r) for c, r in self.regions() if r.id == key]
        if len(matches) != 1:
            raise KeyError(key)
        return matches[0]


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _cert(entry: dict[str, Any], region: str | None) -> CertificationData:
    return CertificationData(
        scheme=entry["scheme"], version=str(entry.get("version") or ""), level=str(entry.get("level") or ""),
        scope=entry.get("scope") or "", valid_from=_date(entry["valid_from"]),  # type: ignore[arg-type]
        valid_until=_date(entry.get("valid_until")), evidence_url=entry.get("evidence_url") or "", region=region,
    )


def from_document(doc: dict[str, Any]) -> EstateData:
    """Build from a *validated* estate file document (see estate/estatefile.py)."""
    estate = EstateData()
    for entry in doc.get("entities") or []:
        dpf = entry.get("dpf") or {}
        estate.entities[entry["id"]] = EntityData(
            id=entry["id"], name=entry["name"], country=entry["country"], kind=entry.get("kind", "company"),
            dpf_certified=bool(dpf.get("certified")), dpf_since=_date(dpf.get("since")),
            dpf_until=_date(dpf.get("until")),
        )
        for share in entry.get("shareholders") or []:
            estate.holdings.append(Holding(entry["id"], share["holder"], float(share["capital"]),
                                           float(share.get("voting", share["capital"]))))
        if entry.get("parent"):
            estate.parents[entry["id"]] = entry["parent"]
    for entry in doc.get("datacenters") or []:
        estate.datacenters[entry["id"]] = DatacenterData(
            id=entry["id"], name=entry["name"], operator=entry["operator"], country=entry["country"],
            city=entry.get("city") or "", tier=entry.get("tier"),
        )
    for entry in doc.get("clouds") or []:
        stack = entry.get("stack") or {}
        custody = entry.get("key_custody") or {}
        cloud = CloudData(
            id=entry["id"], name=entry["name"], kind=entry["kind"], operator=entry["operator"],
            clouds_yaml=entry.get("clouds_yaml") or "", endpoint=entry.get("endpoint") or "",
            stack_distribution=stack.get("distribution") or "", stack_vendor=stack.get("vendor"),
            vendor_access=stack.get("vendor_access") or "none",
            hardware_vendors=list(entry.get("hardware_vendors") or []),
            admin_staff_countries=list(entry.get("admin_staff_countries") or []),
            support_staff_countries=list(entry.get("support_staff_countries") or []),
            key_custody=custody.get("holder") or "provider", key_custody_country=custody.get("country") or "",
            certifications=[_cert(c, None) for c in entry.get("certifications") or []],
            dedicated_to=sorted(entry.get("dedicated_to") or []),
        )
        for region in entry.get("regions") or []:
            cloud.regions[region["id"]] = RegionData(
                id=region["id"], name=region.get("name") or region["id"],
                datacenters=list(region.get("datacenters") or []),
                backup_datacenters=list(region.get("backup_datacenters") or []),
                availability_zones=list(region.get("availability_zones") or []),
                certifications=[_cert(c, region["id"]) for c in region.get("certifications") or []],
            )
        estate.clouds[cloud.id] = cloud
    return estate

