"""Classification: known places land in the right zone; NaN is unknown; borders count as inside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.fence import Fence, fence_for, tag_positions
from geo.zones import OUTSIDE, UNKNOWN

# (name, lat, lon, expected zone) with the default 120 NM ring.
KNOWN = [
    ("Caracas SVMI", 10.6031, -66.9906, "SVZM"),
    ("Maracaibo SVMC", 10.5582, -71.7279, "SVZM"),
    ("Margarita SVMG", 10.9126, -63.9666, "SVZM"),
    ("Santa Elena de Uairén SVSE", 4.5549, -61.1500, "SVZM"),
    ("open sea north of Margarita", 14.0, -66.0, "SVZM"),
    ("Curaçao TNCC", 12.1889, -68.9598, "ring:TNCF"),
    ("Aruba TNCA", 12.5014, -70.0152, "ring:TNCF"),
    ("Piarco TTPP", 10.5954, -61.3372, "ring:TTZP"),
    ("sea east of the 6-7 segment", 13.5, -64.0, "ring:TTZP"),
    ("sea north of the 5-6 segment", 15.5, -66.0, "ring:TJZS"),
    ("further north", 16.5, -66.0, "ring:TJZS"),
    ("Isla de Aves (Venezuelan, outside the FIR)", 15.67, -63.62, "ring:TJZS"),
    ("Cúcuta SKCC", 7.9275, -72.5115, "ring:SKED"),
    ("Puerto Carreño SKPC", 6.1847, -67.4932, "ring:SKED"),
    ("Bogotá SKBO", 4.7016, -74.1469, OUTSIDE),
    ("Manaus SBEG", -3.0386, -60.0497, OUTSIDE),
]


@pytest.mark.parametrize(("name", "lat", "lon", "expected"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_place_is_in_its_zone(fence, name, lat, lon, expected):
    assert fence.classify([lon], [lat])[0] == expected


def test_known_places_classified_in_one_vectorised_call(fence):
    lats = np.array([k[1] for k in KNOWN])
    lons = np.array([k[2] for k in KNOWN])
    assert list(fence.classify(lons, lats)) == [k[3] for k in KNOWN]


def test_nan_position_is_unknown_never_outside(fence):
    codes = fence.classify([np.nan, -66.99, np.nan, np.inf], [10.6, np.nan, np.nan, 10.0])
    assert list(codes[:3]) == [UNKNOWN, UNKNOWN, UNKNOWN]
    assert codes[3] == UNKNOWN  # an infinite coordinate is no usable position either


def test_position_on_fir_border_counts_as_inside(fence, zone_set):
    fir = zone_set.fir.geometry
    # Every vertex of the FIR and the midpoint of every edge lie exactly on its boundary.
    xy = shapely.get_coordinates(fir.exterior)
    mids = (xy[:-1] + xy[1:]) / 2
    on_edge = mids[shapely.intersects_xy(fir.boundary, mids[:, 0], mids[:, 1])]
    pts = np.vstack([xy, on_edge])
    assert len(pts) > 1000
    codes = fence.classify(pts[:, 0], pts[:, 1])
    assert set(codes) == {"SVZM"}


def test_grid_answer_equals_exact_answer_everywhere(fence, zone_set):
    box = zone_set.polling_box
    rng = np.random.default_rng(7)
    x = rng.uniform(box.west - 1, box.east + 1, 200_000)
    y = rng.uniform(box.south - 1, box.north + 1, 200_000)
    fast = fence.classify_index(x, y)
    exact = fence._exact(x, y)
    assert np.array_equal(fast, exact)
    # and both agree with a plain shapely test, zone by zone, for points inside one zone
    for i, zone in enumerate(zone_set.zones):
        inside = shapely.contains_xy(zone.geometry, x, y)
        assert np.all(fast[inside] <= i), zone.code  # inside this zone or an earlier (higher-priority) one


def test_positions_on_grid_edges_and_far_corner_are_exact(zone_set):
    fence = Fence(zone_set, cell_deg=0.5)
    grid = fence.grid_box
    xs = np.array([grid.west, grid.east, grid.west + 0.5 * 3, grid.east])
    ys = np.array([grid.south, grid.north, grid.south + 0.5 * 7, grid.south])
    assert np.array_equal(fence.classify_index(xs, ys), fence._exact(xs, ys))


def test_cell_size_does_not_change_answers(zone_set):
    rng = np.random.default_rng(3)
    box = zone_set.polling_box
    x = rng.uniform(box.west, box.east, 50_000)
    y = rng.uniform(box.south, box.north, 50_000)
    a = Fence(zone_set, cell_deg=0.01).classify_index(x, y)
    b = Fence(zone_set, cell_deg=0.37).classify_index(x, y)
    assert np.array_equal(a, b)


def test_fence_is_built_once_per_zone_set(zone_set):
    assert fence_for(zone_set) is fence_for(zone_set)


def test_bad_cell_size_is_rejected(zone_set):
    with pytest.raises(ValueError, match="cell size"):
        Fence(zone_set, cell_deg=0)


def test_mismatched_array_shapes_are_rejected(fence):
    with pytest.raises(ValueError, match="differ in shape"):
        fence.classify_index([1.0, 2.0], [1.0])


def test_tag_positions_adds_categorical_zone_column(zone_set):
    df = pd.DataFrame({"longitude": [-66.9906, -68.9598, np.nan], "latitude": [10.6031, 12.1889, 10.0]})
    out = tag_positions(df, zone_set)
    assert list(out["zone"]) == ["SVZM", "ring:TNCF", UNKNOWN]
    assert list(out["zone"].cat.categories) == list(zone_set.codes)
    assert "zone" not in df.columns  # input left alone


def test_two_dimensional_input_keeps_its_shape(fence):
    lon = np.array([[-66.99, -68.96], [np.nan, -74.15]])
    lat = np.array([[10.60, 12.19], [1.0, 4.70]])
    assert fence.classify(lon, lat).tolist() == [["SVZM", "ring:TNCF"], [UNKNOWN, OUTSIDE]]
