"""The ring: metres not degrees, split into the six neighbour sectors, a clean partition."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from geo.ring import MAX_RING_NM, METRES_PER_NM, ring_sectors, whole_ring
from geo.zones import builtin_fir
from geo.zoneset import load_zone_set

SECTORS = ["ring:SKED", "ring:TNCF", "ring:TJZS", "ring:TTZP", "ring:SYGC", "ring:SBAZ"]
GEOD = pyproj.Geod(ellps="WGS84")


def _geodesic_distance_to_boundary_m(points: np.ndarray, boundary) -> np.ndarray:
    """Shortest geodesic distance from each (lon, lat) point to ``boundary`` densified to ~1 km."""
    dense = shapely.get_coordinates(shapely.segmentize(boundary, 0.01))
    out = np.empty(len(points))
    for i, (x, y) in enumerate(points):
        _, _, d = GEOD.inv(np.full(len(dense), x), np.full(len(dense), y), dense[:, 0], dense[:, 1])
        out[i] = d.min()
    return out


def test_default_ring_has_the_six_neighbour_sectors_in_border_order(zone_set):
    assert [z.code for z in zone_set.ring] == SECTORS
    assert [z.neighbour for z in zone_set.ring] == [s.split(":")[1] for s in SECTORS]
    assert zone_set.codes == ("SVZM", *SECTORS, "outside", "unknown")


def test_sectors_partition_the_ring_without_gaps_or_overlaps(zone_set):
    fir = zone_set.fir.geometry
    sectors = [z.geometry for z in zone_set.ring]
    for i, a in enumerate(sectors):
        assert a.is_valid and not a.is_empty
        assert a.intersection(fir).area < 1e-9
        for b in sectors[i + 1 :]:
            assert a.intersection(b).area < 1e-9
    union = shapely.union_all(sectors)
    # The ring plus the FIR is one simply connected area: no gap between sectors.
    whole = shapely.union_all([union, fir])
    assert whole.geom_type == "Polygon"
    assert len(whole.interiors) == 0


@pytest.mark.parametrize("ring_nm", [30.0, 120.0, 250.0])
def test_ring_width_is_measured_on_the_ground(ring_nm):
    fir = builtin_fir().geometry
    zs = load_zone_set(ring_nm)
    outer = shapely.union_all([fir, *(z.geometry for z in zs.ring)]).exterior
    sample = shapely.get_coordinates(shapely.segmentize(outer, 0.05))[::15]
    assert len(sample) > 60
    d = _geodesic_distance_to_boundary_m(sample, fir.exterior)
    target = ring_nm * METRES_PER_NM
    assert np.abs(d / target - 1).max() < 0.01, (d.min(), d.max(), target)


def test_zero_width_means_no_ring():
    zs = load_zone_set(0.0)
    assert zs.ring == ()
    assert zs.codes == ("SVZM", "outside", "unknown")


@pytest.mark.parametrize("ring_nm", [-1.0, MAX_RING_NM + 1])
def test_ring_width_outside_the_supported_range_is_rejected(ring_nm):
    with pytest.raises(ValueError, match="ring width"):
        ring_sectors(builtin_fir().geometry, ring_nm)


def test_widest_supported_ring_still_has_six_valid_sectors():
    sectors = ring_sectors(builtin_fir().geometry, MAX_RING_NM)
    assert [z.code for z in sectors] == SECTORS
    assert all(z.geometry.is_valid for z in sectors)


def test_whole_ring_for_a_user_fir_is_one_zone():
    square = shapely.box(-10, -5, 10, 5)
    ring = whole_ring(square, 60.0)
    assert ring.code == "ring"
    assert ring.geometry.intersection(square).area < 1e-9
    # 60 NM = 111.1 km ≈ 1.0 degree of latitude
    assert shapely.bounds(ring.geometry)[3] == pytest.approx(5 + 111_120 / 110_580, abs=0.02)


def test_the_shipped_default_ring_is_the_computed_one():
    """The ring at the default width ships precomputed (scripts/build_zones.py), so polling never
    builds it; it must be the ring geo.ring builds, to the centimetre."""
    from geo.ring import ring_sectors
    from geo.zones import DEFAULT_RING_NM, builtin_fir, builtin_ring

    shipped = builtin_ring(DEFAULT_RING_NM)
    computed = ring_sectors(builtin_fir().geometry, DEFAULT_RING_NM)
    assert shipped is not None
    assert [z.code for z in shipped] == [z.code for z in computed]
    for a, b in zip(shipped, computed, strict=True):
        assert a.geometry.is_valid and a.neighbour == b.neighbour
        assert shapely.equals_exact(a.geometry, b.geometry, tolerance=0)  # both snapped to the same 1 cm grid


def test_a_computed_default_ring_has_the_shipped_fingerprint(zone_set, monkeypatch):
    """A store records the zones' fingerprint with every poll: whether the ring came from the file
    or was computed, the same zones must fingerprint the same (or stores would see two zone sets)."""
    import geo.zoneset as zs

    monkeypatch.setattr(zs, "builtin_ring", lambda ring_nm: None)  # force the computation
    zs.load_zone_set.cache_clear()
    try:
        computed = zs.load_zone_set()
        assert computed.fingerprint == zone_set.fingerprint
    finally:
        zs.load_zone_set.cache_clear()


def test_other_widths_are_computed(zone_set):
    from geo.zoneset import load_zone_set

    narrow = load_zone_set(60.0)
    assert [z.code for z in narrow.ring] == [z.code for z in zone_set.ring]
    assert all(n.geometry.area < w.geometry.area for n, w in zip(narrow.ring, zone_set.ring, strict=True))
