"""Placing datacenters and regions on the estate map.

A datacenter is placed at its city (``data/cities.yaml``), or at its country's centroid when the city is unknown
(then it is marked approximate). A region is placed at the mean position of its primary datacenters, and stays
there: a map that moved markers apart to keep them clickable would show Paris regions in the Channel. Regions
that overlap in the current view get a label beside their common place instead — one numbered, clickable chip
per region, coloured by level, on a short leader line — so every region stays clickable where it is. Marker sizes
are in map units, scaled to the view, so they keep the same size on screen in the Europe and the world views.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from . import geo

DATA_DIR = Path(__file__).resolve().parent / "data"
LEVEL_ORDER = {"immune": 0, "informational": 1, "exposed": 2}


def _norm(city: str) -> str:
    decomposed = unicodedata.normalize("NFKD", city)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in plain.casefold() if c.isalnum())


@cache
def _cities() -> dict[tuple[str, str], tuple[float, float]]:
    raw = yaml.safe_load((DATA_DIR / "cities.yaml").read_text(encoding="utf-8")) or {}
    return {
        (country.upper(), _norm(city)): (float(lon), float(lat))
        for country, cities in raw.items() for city, (lon, lat) in (cities or {}).items()
    }


@cache
def _centroids() -> dict[str, tuple[float, float]]:
    raw = json.loads((DATA_DIR / "country_centroids.json").read_text(encoding="utf-8"))
    return {code: (float(lon), float(lat)) for code, (lon, lat) in raw.items()}


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    approximate: bool


def locate(country: str, city: str) -> Location | None:
    """Where a site is: its city if known, else its country's centroid (approximate), else nowhere."""
    found = _cities().get((country.upper(), _norm(city))) if city else None
    if found:
        return Location(found[0], found[1], approximate=False)
    centre = _centroids().get(country.upper())
    return Location(centre[0], centre[1], approximate=True) if centre else None


def worst_level(levels: list[str]) -> str | None:
    known = [level for level in levels if level in LEVEL_ORDER]
    return max(known, key=LEVEL_ORDER.__getitem__) if known else None


@dataclass
class SiteInput:
    """A datacenter as the map needs it."""

    slug: str
    name: str
    country: str
    city: str
    level: str | None


@dataclass
class RegionInput:
    """A region as the map needs it: ``datacenters`` are (slug, "primary" | "backup")."""

    number: int
    key: str
    name: str
    url: str
    level: str
    datacenters: list[tuple[str, str]]


@dataclass
class SiteMarker:
    slug: str
    name: str
    level: str | None
    x: float
    y: float
    approximate: bool
    size: float

    @property
    def left(self) -> float:
        return round(self.x - self.size / 2, 2)

    @property
    def top(self) -> float:
        return round(self.y - self.size / 2, 2)


@dataclass
class Link:
    x1: float
    y1: float
    x2: float
    y2: float
    role: str  # primary | backup | leader


@dataclass
class RegionMarker:
    number: int
    key: str
    name: str
    url: str
    level: str
    x: float  # where it is drawn
    y: float
    anchor_x: float  # where it is
    anchor_y: float
    radius: float
    approximate: bool
    in_view: bool
    clustered: bool = False  # overlaps others: its number is on the cluster's label


@dataclass
class ClusterLabel:
    """Overlapping regions named beside their place: a chip per region (left to right), a leader line to it."""

    x: float  # the label's top-left corner
    y: float
    anchor_x: float  # the regions' common place
    anchor_y: float
    chip: float  # a chip's width and height
    regions: list[RegionMarker] = field(default_factory=list)

    @property
    def width(self) -> float:
        return round(self.chip * len(self.regions) + self.chip * 0.2 * (len(self.regions) + 1), 2)

    @property
    def height(self) -> float:
        return round(self.chip * 1.4, 2)

    @property
    def chips(self) -> list[dict[str, object]]:
        """Each chip: its region, its centre (x, y) and its top-left corner (left, top)."""
        gap = self.chip * 0.2
        result: list[dict[str, object]] = []
        for index, marker in enumerate(self.regions):
            x = self.x + gap + self.chip / 2 + index * (self.chip + gap)
            y = self.y + self.height / 2
            result.append({"region": marker, "x": round(x, 2), "y": round(y, 2), "left": round(x - self.chip / 2, 2),
                           "top": round(y - self.chip / 2, 2)})
        return result


@dataclass
class EstateMap:
    view: geo.View
    view_box: str
    width: float
    height: float
    sites: list[SiteMarker] = field(default_factory=list)
    regions: list[RegionMarker] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)  # region keys with no known location
    labels: list[ClusterLabel] = field(default_factory=list)  # overlapping regions, named beside their place
    font_size: float = 10.0

    @property
    def off_view(self) -> list[RegionMarker]:
        return [r for r in self.regions if not r.in_view]

    @property
    def in_view(self) -> list[RegionMarker]:
        return [r for r in self.regions if r.in_view]


def default_view(sites: list[SiteInput]) -> geo.View:
    """Fit the sites in Europe (or all of them when none is): far-away sites are listed under the map."""
    points = [(where.lon, where.lat) for site in sites if (where := locate(site.country, site.city))]
    european = [p for p in points if geo.EUROPE.contains(*geo.project(*p))]
    chosen = european or points
    return geo.fit(chosen) if chosen else geo.EUROPE


def build_map(view: geo.View, sites: list[SiteInput], regions: list[RegionInput]) -> EstateMap:
    x0, y0, width, height = view.box
    radius = width / 90
    result = EstateMap(view=view, view_box=f"{x0} {y0} {width} {height}", width=geo.WIDTH, height=geo.HEIGHT,
                       font_size=radius * 1.15)
    positions: dict[str, tuple[float, float, bool]] = {}
    for site in sites:
        where = locate(site.country, site.city)
        if where is None:
            continue
        x, y = geo.project(where.lon, where.lat)
        positions[site.slug] = (x, y, where.approximate)
        result.sites.append(SiteMarker(site.slug, site.name, site.level, round(x, 2), round(y, 2),
                                       where.approximate, round(radius * 0.9, 2)))
    placed: list[RegionMarker] = []
    for region in regions:
        primary = [positions[s] for s, role in region.datacenters if role == "primary" and s in positions]
        anchors = primary or [positions[s] for s, _ in region.datacenters if s in positions]
        if not anchors:
            result.unplaced.append(region.key)
            continue
        ax = sum(p[0] for p in anchors) / len(anchors)
        ay = sum(p[1] for p in anchors) / len(anchors)
        placed.append(RegionMarker(
            region.number, region.key, region.name, region.url, region.level, ax, ay, ax, ay, radius,
            approximate=all(p[2] for p in anchors), in_view=view.contains(ax, ay),
        ))
        for slug, role in region.datacenters:
            if slug in positions:
                sx, sy, _ = positions[slug]
                result.links.append(Link(round(ax, 2), round(ay, 2), round(sx, 2), round(sy, 2), role))
    for marker in placed:
        marker.x, marker.y = round(marker.x, 2), round(marker.y, 2)
        marker.anchor_x, marker.anchor_y = marker.x, marker.y
    for cluster in _clusters(placed, radius * 2.4):
        label = _label(cluster, radius)
        result.labels.append(label)
        result.links.append(Link(label.anchor_x, label.anchor_y, label.x, round(label.y + label.height / 2, 2),
                                 "leader"))
        for marker in cluster:
            marker.clustered = True
    result.regions = placed
    return result


def _clusters(markers: list[RegionMarker], distance: float) -> list[list[RegionMarker]]:
    """Greedy single-linkage grouping of markers closer than ``distance`` (few markers: quadratic is fine)."""
    clusters: list[list[RegionMarker]] = []
    for marker in markers:
        near = [c for c in clusters
                if any(math.dist((m.anchor_x, m.anchor_y), (marker.anchor_x, marker.anchor_y)) < distance for m in c)]
        merged = [marker]
        for cluster in near:
            clusters.remove(cluster)
            merged = cluster + merged
        clusters.append(merged)
    return [c for c in clusters if len(c) > 1]


def _label(cluster: list[RegionMarker], radius: float) -> ClusterLabel:
    """A label to the upper right of the cluster's centre, clear of its markers, chips in region order."""
    cx = sum(m.anchor_x for m in cluster) / len(cluster)
    cy = sum(m.anchor_y for m in cluster) / len(cluster)
    reach = max(math.dist((cx, cy), (m.anchor_x, m.anchor_y)) for m in cluster) + radius
    chip = radius * 1.7
    return ClusterLabel(x=round(cx + reach + radius * 1.5, 2), y=round(cy - reach - chip * 1.4, 2),
                        anchor_x=round(cx, 2), anchor_y=round(cy, 2), chip=round(chip, 2),
                        regions=sorted(cluster, key=lambda m: m.number))
