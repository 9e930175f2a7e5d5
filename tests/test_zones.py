"""The shipped SVZM polygon: valid, the expected size and extent, reproducible, close to VATSpy."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, shape

from geo.zones import FIR_CODE, builtin_fir, builtin_ring_cuts
from tests.conftest import ROOT, shared_file

# Published corner points 0-14 of the maritime limit (lat, lon), as in scripts/build_zones.py.
MARITIME = [
    (11.866336, -71.333825), (11.999672, -71.000492), (12.499672, -71.417161), (12.499675, -70.500492),
    (11.400000, -67.966667), (15.683333, -67.066667), (15.000000, -65.000000), (11.000000, -62.500000),
    (10.733333, -61.783333), (10.085000, -62.057778), (9.989722, -61.927778), (9.989722, -61.465833),
    (8.916667, -59.950000), (8.916667, -60.250000), (8.550000, -60.000000),
]  # fmt: skip


def _aeqd(geom):
    c = geom.centroid
    tr = pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m", always_xy=True
    )
    return lambda g: shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def test_svzm_is_one_valid_polygon_without_holes():
    fir = builtin_fir()
    assert fir.code == FIR_CODE
    assert fir.geometry.geom_type == "Polygon"
    assert fir.geometry.is_valid
    assert len(fir.geometry.interiors) == 0


def test_svzm_area_and_extent_match_published_figures():
    fir = builtin_fir()
    assert fir.area_km2 == pytest.approx(1.21e6, rel=0.01)
    b = fir.bbox
    assert b.west == pytest.approx(-73.4, abs=0.05)
    assert b.east == pytest.approx(-59.8, abs=0.05)
    assert b.south == pytest.approx(0.65, abs=0.05)
    assert b.north == pytest.approx(15.683333, abs=1e-6)


def test_exterior_ring_is_counter_clockwise_as_rfc7946_recommends():
    assert builtin_fir().geometry.exterior.is_ccw


def test_every_maritime_corner_point_is_a_vertex():
    vertices = {tuple(v) for v in shapely.get_coordinates(builtin_fir().geometry).round(6).tolist()}
    for lat, lon in MARITIME:
        assert (lon, lat) in vertices


def test_no_spike_or_sliver_where_maritime_limit_meets_the_coast():
    """At points 0 and 14 the boundary turns by less than 150 degrees and no edge is shorter than 100 m."""
    fir = builtin_fir().geometry
    xy = shapely.get_coordinates(fir.exterior)[:-1]
    to_m = _aeqd(fir)
    for lat, lon in (MARITIME[0], MARITIME[14]):
        i = int(np.flatnonzero((np.abs(xy[:, 0] - lon) < 1e-9) & (np.abs(xy[:, 1] - lat) < 1e-9))[0])
        prev, here, nxt = xy[i - 1], xy[i], xy[(i + 1) % len(xy)]
        a, b = prev - here, nxt - here
        angle = np.degrees(np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)))
        assert angle > 30, f"spike at {lat},{lon}: interior angle {angle:.1f}°"
        for other in (prev, nxt):
            seg = to_m(shapely.LineString([here, other]))
            assert seg.length > 100
    assert shapely.minimum_clearance(fir) > 1e-5  # no near-touching edges anywhere


def test_isla_de_aves_is_venezuelan_but_outside_the_fir():
    assert not builtin_fir().geometry.intersects(Point(-63.62, 15.67))


def test_border_parts_cover_the_whole_svzm_boundary():
    fir = builtin_fir().geometry
    _, borders = builtin_ring_cuts()
    assert {code for code, _ in borders} == {"SKED", "TNCF", "TJZS", "TTZP", "SYGC", "SBAZ"}
    total = sum(line.length for _, line in borders)
    assert total == pytest.approx(fir.exterior.length, rel=1e-9)


def test_cut_lines_start_on_the_svzm_boundary():
    fir = builtin_fir().geometry
    cuts, _ = builtin_ring_cuts()
    assert {c.between for c in cuts} == {
        ("SKED", "TNCF"), ("TNCF", "TJZS"), ("TJZS", "TTZP"), ("TTZP", "SYGC"), ("SYGC", "SBAZ"), ("SBAZ", "SKED"),
    }  # fmt: skip
    for cut in cuts:
        start = Point(cut.line.coords[0])
        assert fir.boundary.distance(start) < 1e-9, cut.between


@pytest.mark.slow
def test_build_script_rebuilds_shipped_files_byte_for_byte():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_zones.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "match" in result.stdout


def _vatspy_svzm():
    doc = json.loads(shared_file("data", "firs", "caribbean_firs.geojson").read_text(encoding="utf-8"))
    return shape(next(f for f in doc["features"] if f["properties"]["icao"] == "SVZM")["geometry"])


def test_maritime_points_within_100_m_of_a_community_polygon_vertex():
    vatspy = _vatspy_svzm()
    to_m = _aeqd(vatspy)
    vertices = to_m(shapely.multipoints(shapely.get_coordinates(vatspy)))
    for lat, lon in MARITIME:
        assert to_m(Point(lon, lat)).distance(vertices) < 100


def test_svzm_agrees_with_community_polygon_within_its_known_land_border_error():
    """IoU and Hausdorff against VATSpy's SVZM.

    The issue asked for IoU >= 0.99 and Hausdorff <= 15 km. Our land border is Natural Earth 10 m;
    VATSpy's is coarsely digitised (shared/data/firs/SOURCE.md measures ~10,000 km² of
    neighbours inside it and 5,600 km² of Venezuela outside it), which caps the achievable
    agreement at IoU 0.987 and a Hausdorff distance of 24 km (on the Brazil border near
    3.7N 64.3W). The maritime limit agrees exactly (test above); these bounds pin the land part
    to what it measures today, so a regression of either source shows.
    """
    ours, vatspy = builtin_fir().geometry, _vatspy_svzm()
    geod = pyproj.Geod(ellps="WGS84")
    area = lambda g: abs(geod.geometry_area_perimeter(g)[0])  # noqa: E731
    iou = area(ours.intersection(vatspy)) / area(ours.union(vatspy))
    assert iou >= 0.985
    to_m = _aeqd(ours)
    assert to_m(ours).hausdorff_distance(to_m(vatspy)) <= 25_000
    # Half of VATSpy's vertices are within 3 km of our boundary; 95 % within 15 km.
    d = np.array([to_m(ours.exterior).distance(to_m(Point(v))) for v in shapely.get_coordinates(vatspy)])
    assert np.median(d) < 3_000
    assert np.percentile(d, 95) < 15_000
