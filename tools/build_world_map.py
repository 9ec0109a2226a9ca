#!/usr/bin/env python3
"""Draw the portal's world map once, from Natural Earth (through the npm package ``world-atlas``).

    python tools/build_world_map.py                       # downloads world-atlas with `npm pack` into a temp dir
    python tools/build_world_map.py --atlas path/to/countries-50m.json

Writes ``souverain/portal/static/portal/world.svg`` (the base map) and
``souverain/portal/data/country_centroids.json`` (longitude, latitude of each country's main
landmass centroid: the fallback position of a site
whose city is not in ``souverain/portal/data/cities.yaml``). Both are committed: running the project never needs
npm. The projection is ``souverain/portal/geo.py``'s, shared with the portal that places markers on the map.

Natural Earth is public domain; world-atlas (its TopoJSON redistribution) is ISC-licensed, © Michael Bostock.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from souverain.portal import geo  # noqa: E402

ATLAS_PACKAGE = "world-atlas@2.0.2"
SVG_OUT = ROOT / "souverain" / "portal" / "static" / "portal" / "world.svg"
CENTROIDS_OUT = ROOT / "souverain" / "portal" / "data" / "country_centroids.json"
TOLERANCE = 0.35  # map units (1 unit = 0.1° of latitude): Douglas-Peucker tolerance per arc
MIN_RING_AREA = 2.0  # square map units: smaller islands are dropped
LEFT_OUT = {"010"}  # Antarctica (outside the cropped map)
NO_NUMERIC_CODE = {"Kosovo": "XK"}  # user-assigned ISO code, no numeric one in the atlas

Point = tuple[float, float]


def fetch_atlas() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="world-atlas-"))
    subprocess.run(["npm", "pack", ATLAS_PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    archive = next(workdir.glob("world-atlas-*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package" / "countries-50m.json"


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """TopoJSON arcs are quantized and delta-encoded: undo both, then project."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            lon, lat = x * sx + tx, y * sy + ty
            points.append(geo.project(lon, max(min(lat, geo.NORTH), geo.SOUTH)))
        arcs.append(simplify(points, TOLERANCE))
    return arcs


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker; the two ends stay, so arcs shared by two countries still meet."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        norm = (dx * dx + dy * dy) ** 0.5
        worst, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if norm == 0:
                distance = ((px - x0) ** 2 + (py - y0) ** 2) ** 0.5
            else:
                distance = abs(dy * px - dx * py + x1 * y0 - y1 * x0) / norm
            if distance > worst:
                worst, index = distance, i
        if worst > tolerance:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [p for p, k in zip(points, keep, strict=True) if k]


def ring(arcs: list[list[Point]], indices: list[int]) -> list[Point]:
    points: list[Point] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc[1:] if points else arc)
    return points


def split_at_antimeridian(points: list[Point]) -> list[list[Point]]:
    """A ring that crosses 180° (Chukotka, Fiji) becomes one ring per side, each closed along the edge."""
    jumps = [i for i in range(1, len(points)) if abs(points[i][0] - points[i - 1][0]) > geo.WIDTH / 2]
    if not jumps:
        return [points]
    rotated = points[jumps[0]:] + points[1:jumps[0]]  # drop the duplicated closing point
    pieces: list[list[Point]] = [[rotated[0]]]
    for prev, point in zip(rotated, rotated[1:], strict=False):
        if abs(point[0] - prev[0]) > geo.WIDTH / 2:
            pieces.append([])
        pieces[-1].append(point)
    sides: dict[bool, list[Point]] = {}
    for piece in pieces:
        sides.setdefault(piece[0][0] > geo.WIDTH / 2, []).extend(piece)
    return [side + side[:1] for side in sides.values() if len(side) >= 3]


def area(points: list[Point]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True))


def centroid(points: list[Point]) -> Point:
    a = area(points)
    if a == 0:
        return points[0]
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (6 * a), cy / (6 * a)


def polygons(geometry: dict[str, Any], arcs: list[list[Point]]) -> list[list[list[Point]]]:
    parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry.get("arcs", [])
    result = []
    for part in parts:
        rings = [piece for r in part for piece in split_at_antimeridian(ring(arcs, r))]
        if rings and abs(area(rings[0])) >= MIN_RING_AREA:
            result.append([r for r in rings if len(r) >= 4 and abs(area(r)) >= MIN_RING_AREA / 4])
    return result


def _num(tenths: int) -> str:
    text = f"{tenths / 10:.1f}".rstrip("0").rstrip(".")
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def path_data(rings: list[list[Point]]) -> str:
    """Relative SVG path commands on a 0.1-unit grid (small and exact: deltas of rounded points)."""
    out = []
    for points in rings:
        grid = [(round(x * 10), round(y * 10)) for x, y in points]
        deduped = [grid[0], *(p for prev, p in zip(grid, grid[1:], strict=False) if p != prev)]
        (x, y), rest = deduped[0], deduped[1:]
        steps = []
        for px, py in rest:
            steps.append(f"{_num(px - x)} {_num(py - y)}".replace(" -", "-"))
            x, y = px, py
        out.append(f"M{_num(deduped[0][0])} {_num(deduped[0][1])}l" + " ".join(steps).replace(" -", "-") + "z")
    return "".join(out)


def graticule() -> str:
    lines = []
    for lon in range(-180, 181, 15):
        x, _ = geo.project(lon, 0)
        lines.append(f"M{x:.1f} 0V{geo.HEIGHT}")
    for lat in range(-45, 84, 15):
        _, y = geo.project(0, lat)
        lines.append(f"M0 {y:.1f}H{geo.WIDTH}")
    return "".join(lines)


def iso_alpha2(numeric: str) -> str | None:
    import pycountry

    found = pycountry.countries.get(numeric=numeric)
    return found.alpha_2 if found else None


def build(atlas: Path) -> tuple[str, dict[str, list[float]]]:
    topology = json.loads(atlas.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    paths, centroids = [], {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("id") in LEFT_OUT or "arcs" not in geometry:
            continue
        parts = polygons(geometry, arcs)
        if not parts:
            continue
        name = geometry.get("properties", {}).get("name", "")
        code = iso_alpha2(geometry["id"]) if geometry.get("id") else NO_NUMERIC_CODE.get(name)
        label = f' data-iso="{code}"' if code else ""
        data = path_data([r for part in parts for r in part])
        paths.append(f'<path{label} vector-effect="non-scaling-stroke" d="{data}"><title>{name}</title></path>')
        if code:
            largest = max((part[0] for part in parts), key=lambda r: abs(area(r)))
            lon, lat = geo.unproject(*centroid(largest))
            centroids[code] = [round(lon, 2), round(lat, 2)]
    # The portal draws these with <use href="world.svg#countries">: styles come from the page (fill and stroke
    # are inherited from the <use>), and non-scaling strokes stay one pixel wide at any zoom. The outer groups
    # only give the file a look of its own when opened directly.
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {geo.WIDTH} {geo.HEIGHT}"'
        f' width="{geo.WIDTH}" height="{geo.HEIGHT}">\n'
        "<!-- Natural Earth 1:50m admin-0 countries (public domain), via world-atlas 2.0.2 (ISC).\n"
        "     Drawn by tools/build_world_map.py; projection: souverain/portal/geo.py. Do not edit by hand. -->\n"
        '<g fill="none" stroke="#cdd8e4">'
        f'<path id="graticule" vector-effect="non-scaling-stroke" d="{graticule()}"/></g>\n'
        '<g fill="#dfe5ec" stroke="#fff"><g id="countries">\n' + "\n".join(paths) + "\n</g></g>\n</svg>\n"
    )
    return svg, dict(sorted(centroids.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atlas", type=Path, help="countries-50m.json from world-atlas (default: npm pack)")
    args = parser.parse_args()
    atlas = args.atlas or fetch_atlas()
    svg, centroids = build(atlas)
    SVG_OUT.parent.mkdir(parents=True, exist_ok=True)
    SVG_OUT.write_text(svg, encoding="utf-8")
    CENTROIDS_OUT.parent.mkdir(parents=True, exist_ok=True)
    lines = [f'  "{code}": [{lon}, {lat}]' for code, (lon, lat) in centroids.items()]
    CENTROIDS_OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"{SVG_OUT.relative_to(ROOT)}: {len(svg) // 1024} KiB; {CENTROIDS_OUT.relative_to(ROOT)}: "
          f"{len(centroids)} countries")


if __name__ == "__main__":
    main()
