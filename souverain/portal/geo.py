"""The map projection shared by ``tools/build_world_map.py`` (which draws ``static/portal/world.svg`` once) and
the estate overview (which places datacenters and regions on it).

Equirectangular with its standard parallel at 45° N, so Europe is not stretched sideways: 10 map units per degree
of latitude, ``10 × cos 45°`` per degree of longitude, Greenwich in the middle, cropped to 84° N … 58° S
(Antarctica left out). Nothing here imports Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UNITS_PER_DEGREE = 10.0
STANDARD_PARALLEL = 45.0
X_SCALE = UNITS_PER_DEGREE * math.cos(math.radians(STANDARD_PARALLEL))
NORTH, SOUTH = 84.0, -58.0
WIDTH = round(360 * X_SCALE, 1)
HEIGHT = round((NORTH - SOUTH) * UNITS_PER_DEGREE, 1)


def project(lon: float, lat: float) -> tuple[float, float]:
    """Longitude/latitude in degrees → map units (x to the east, y to the south)."""
    return (lon + 180.0) * X_SCALE, (NORTH - lat) * UNITS_PER_DEGREE


def unproject(x: float, y: float) -> tuple[float, float]:
    """Map units → longitude/latitude in degrees."""
    return x / X_SCALE - 180.0, NORTH - y / UNITS_PER_DEGREE


@dataclass(frozen=True)
class View:
    """A rectangle of the map, in degrees; ``box`` is the SVG viewBox."""

    slug: str
    west: float
    south: float
    east: float
    north: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        x0, y0 = project(self.west, self.north)
        x1, y1 = project(self.east, self.south)
        return round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)

    def contains(self, x: float, y: float) -> bool:
        x0, y0, width, height = self.box
        return x0 <= x <= x0 + width and y0 <= y <= y0 + height


def fit(points: list[tuple[float, float]], slug: str = "estate", aspect: float = 1.6,
        min_height: float = 9.0) -> View:
    """The smallest view around ``points`` (longitude, latitude), with a margin, at least ``min_height`` degrees
    of latitude tall and ``aspect`` times as wide as tall on screen."""
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    margin = max(north - south, (east - west) * X_SCALE / UNITS_PER_DEGREE) * 0.12 + 1.0
    lon_margin = margin * UNITS_PER_DEGREE / X_SCALE
    west, east, south, north = west - lon_margin, east + lon_margin, south - margin, north + margin
    height = max(north - south, min_height)
    width_deg = (east - west) * X_SCALE / UNITS_PER_DEGREE  # in degrees of latitude, i.e. on-screen units / 10
    height = max(height, width_deg / aspect)
    width_deg = height * aspect
    centre_lon, centre_lat = (west + east) / 2, (south + north) / 2
    half_lon = width_deg * UNITS_PER_DEGREE / X_SCALE / 2
    south, north = max(centre_lat - height / 2, SOUTH), min(centre_lat + height / 2, NORTH)
    return View(slug, west=max(centre_lon - half_lon, -180.0), south=south, east=min(centre_lon + half_lon, 180.0),
                north=north)


EUROPE = View("europe", west=-12.0, south=35.0, east=32.0, north=61.5)
WORLD = View("world", west=-180.0, south=SOUTH, east=180.0, north=NORTH)
VIEWS = {view.slug: view for view in (EUROPE, WORLD)}
