"""Map placement: cities, the country fallback, overlapping regions labelled in place, views, the base map."""

from __future__ import annotations

import math
import re
from pathlib import Path

from souverain.portal import geo, maps

STATIC = Path(__file__).resolve().parents[1] / "static" / "portal"


def test_projection_round_trips_and_keeps_the_map_frame() -> None:
    for lon, lat in [(2.35, 48.86), (-74.0, 40.7), (103.8, 1.35), (-180, geo.SOUTH), (180, geo.NORTH)]:
        x, y = geo.project(lon, lat)
        assert 0 <= x <= geo.WIDTH + 0.1 and 0 <= y <= geo.HEIGHT + 0.1
        back = geo.unproject(x, y)
        assert math.isclose(back[0], lon, abs_tol=1e-9) and math.isclose(back[1], lat, abs_tol=1e-9)


def test_locate_by_city_ignoring_case_accents_and_hyphens() -> None:
    paris = maps.locate("FR", "paris")
    assert paris is not None and not paris.approximate and round(paris.lat) == 49
    assert maps.locate("FR", "Ivry sur Seine") == maps.locate("fr", "Ivry-sur-Seine")
    assert maps.locate("DE", "Nurnberg") == maps.locate("DE", "Nürnberg")
    assert maps.locate("NO", "Oslo") is not None  # "NO" must not be read as YAML false


def test_unknown_city_falls_back_to_the_country_and_unknown_country_to_nothing() -> None:
    somewhere = maps.locate("FR", "Trifouilly-les-Oies")
    assert somewhere is not None and somewhere.approximate
    assert 42 < somewhere.lat < 51 and -5 < somewhere.lon < 8  # metropolitan France, not French Guiana
    assert maps.locate("ZZ", "Nowhere") is None


def _region(number: int, key: str, sites: list[tuple[str, str]], level: str = "immune") -> maps.RegionInput:
    return maps.RegionInput(number, key, key, f"/regions/{number}/", level, sites)


def test_overlapping_regions_stay_at_their_place_and_are_named_on_a_label() -> None:
    sites = [maps.SiteInput("a", "A", "FR", "Paris", "immune"), maps.SiteInput("b", "B", "FR", "Clichy", "exposed"),
             maps.SiteInput("c", "C", "NL", "Amsterdam", None)]
    regions = [_region(2, "y/two", [("b", "primary"), ("c", "backup")]), _region(1, "x/one", [("a", "primary")]),
               _region(3, "z/three", [("c", "primary")])]
    drawn = maps.build_map(geo.EUROPE, sites, regions)
    places = [maps.locate(c, city) for c, city in [("FR", "Paris"), ("FR", "Clichy"), ("NL", "Amsterdam")]]
    paris, clichy, amsterdam = (geo.project(p.lon, p.lat) for p in places if p)
    by_key = {r.key: r for r in drawn.regions}
    # Every marker where its datacenter is, to the hundredth of a map unit.
    assert (by_key["x/one"].x, by_key["x/one"].y) == (round(paris[0], 2), round(paris[1], 2))
    assert (by_key["y/two"].x, by_key["y/two"].y) == (round(clichy[0], 2), round(clichy[1], 2))
    assert (by_key["z/three"].x, by_key["z/three"].y) == (round(amsterdam[0], 2), round(amsterdam[1], 2))
    # Paris and Clichy overlap: one label names both, in number order, beside them and clear of the markers.
    [label] = drawn.labels
    assert [r.key for r in label.regions] == ["x/one", "y/two"]
    assert by_key["x/one"].clustered and by_key["y/two"].clustered and not by_key["z/three"].clustered
    assert label.x > max(by_key["x/one"].x, by_key["y/two"].x) + by_key["x/one"].radius
    chips = label.chips
    assert [c["region"].number for c in chips] == [1, 2] and chips[0]["x"] < chips[1]["x"]
    assert [link.role for link in drawn.links].count("leader") == 1
    assert all(r.in_view for r in drawn.regions) and not drawn.unplaced


def test_regions_outside_the_view_and_without_a_place_are_reported() -> None:
    sites = [maps.SiteInput("sg", "SG", "SG", "Singapore", "exposed"), maps.SiteInput("fr", "FR", "FR", "Lyon", None)]
    regions = [_region(1, "x/sg", [("sg", "primary")]), _region(2, "x/lyon", [("fr", "primary")]),
               _region(3, "x/none", [])]
    drawn = maps.build_map(geo.EUROPE, sites, regions)
    assert [r.key for r in drawn.off_view] == ["x/sg"]
    assert drawn.unplaced == ["x/none"]
    # The default view fits the European sites and leaves Singapore out; the world view has it.
    assert not maps.default_view(sites).contains(*geo.project(103.82, 1.35))
    assert maps.build_map(geo.WORLD, sites, regions).off_view == []


def test_worst_level() -> None:
    assert maps.worst_level(["immune", "exposed", "informational"]) == "exposed"
    assert maps.worst_level([]) is None


def test_the_drawn_map_has_its_countries_and_is_small() -> None:
    svg = (STATIC / "world.svg").read_text(encoding="utf-8")
    assert 'id="countries"' in svg and 'id="graticule"' in svg
    assert len(re.findall(r'data-iso="(FR|DE|NL|SG|US)"', svg)) == 5
    assert len(svg) < 300_000
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from the internet
