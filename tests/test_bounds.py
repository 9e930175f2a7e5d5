"""Boxes and OpenSky credits."""

from __future__ import annotations

import pytest

from geo.bounds import BBox, credit_cost
from geo.zoneset import load_zone_set


@pytest.mark.parametrize(
    ("area", "credits"), [(0, 1), (25, 1), (25.01, 2), (100, 2), (100.5, 3), (400, 3), (400.1, 4), (64800, 4)]
)
def test_credit_cost_follows_opensky_area_steps(area, credits):
    assert credit_cost(area) == credits


def test_opensky_params_are_in_lamin_lomin_lamax_lomax_order():
    params = BBox(west=-75.0, south=-1.0, east=-58.0, north=17.0).opensky_params()
    assert list(params.items()) == [("lamin", -1.0), ("lomin", -75.0), ("lamax", 17.0), ("lomax", -58.0)]


def test_box_rejects_swapped_or_out_of_range_edges():
    with pytest.raises(ValueError):
        BBox(west=10.0, south=0.0, east=5.0, north=1.0)
    with pytest.raises(ValueError):
        BBox(west=0.0, south=-95.0, east=5.0, north=1.0)


def test_rounded_out_covers_the_box():
    b = BBox(-75.4131, -1.3589, -57.8002, 17.6906).rounded_out(2)
    assert (b.west, b.south, b.east, b.north) == (-75.42, -1.36, -57.8, 17.7)


def test_default_polling_box_covers_fir_and_ring_for_three_credits(zone_set):
    box = zone_set.polling_box
    for zone in zone_set.zones:
        zb = zone.bbox
        assert box.west <= zb.west and box.south <= zb.south and box.east >= zb.east and box.north >= zb.north
    assert 300 < box.area_sq_deg < 400
    assert box.credits == 3
    assert zone_set.credit_step_warning() is None


def test_wide_ring_that_crosses_a_credit_step_warns():
    zs = load_zone_set(250.0)
    assert zs.polling_box.credits == 4
    warning = zs.credit_step_warning()
    assert warning is not None
    assert "4 credits instead of 3" in warning
    assert "zones.ring_nm" in warning


def test_box_union_and_contains():
    u = BBox.union([BBox(0, 0, 1, 1), BBox(-1, 0.5, 0.5, 2)])
    assert u == BBox(-1, 0, 1, 2)
    assert u.contains(0.0, 1.5) and not u.contains(2.0, 0.0)
    with pytest.raises(ValueError):
        BBox.union([])
