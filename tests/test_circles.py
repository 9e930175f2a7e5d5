"""Circles for readsb-style APIs: every zone point inside some circle, proven two independent ways."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import shapely

from geo.circles import (
    EARTH_RADIUS_KM,
    MAX_RADIUS_NM,
    Circle,
    circle_polygon,
    cover_area,
    covering_circles,
    describe_circle,
    uncovered_area,
)

KM_PER_NM = 1.852
POLLING_BOX_CIRCLES = 12  # the polling box with the 120 NM ring, on a regular grid (history.md §C.3)


@pytest.fixture(scope="module")
def area(zone_set):
    return shapely.union_all([z.geometry for z in zone_set.zones])


@pytest.fixture(scope="module")
def circles(zone_set):
    return covering_circles(zone_set)


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km on the sphere of radius EARTH_RADIUS_KM (written here, not imported)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def dense_samples(geom, step_deg=0.05):
    """Points in and on ``geom``: every vertex, the boundary every ≤ 1.1 km, an interior grid of ``step_deg``."""
    boundary = shapely.get_coordinates(shapely.segmentize(geom.boundary, 0.01))
    west, south, east, north = geom.bounds
    gx, gy = np.meshgrid(np.arange(west, east, step_deg), np.arange(south, north, step_deg))
    inside = shapely.contains_xy(geom, gx, gy)
    return np.concatenate([boundary, np.column_stack([gx[inside], gy[inside]])])


def farthest_from_all_circles_km(points, circles):
    """For each (lon, lat) point, its distance to the nearest circle centre minus that circle's radius."""
    excess = np.full(len(points), np.inf)
    for c in circles:
        d = haversine_km(points[:, 0], points[:, 1], c.lon, c.lat) - c.radius_nm * KM_PER_NM
        excess = np.minimum(excess, d)
    return excess


def test_shipped_zones_minus_the_circles_is_empty(zone_set, area, circles):
    assert uncovered_area(area, circles).is_empty  # circles shrunk by 1 km
    for zone in zone_set.zones:
        assert uncovered_area(zone.geometry, circles).is_empty, zone.code


def test_every_sampled_point_of_every_zone_is_within_250_nm_of_a_centre(zone_set, circles):
    for zone in zone_set.zones:
        points = dense_samples(zone.geometry)
        excess = farthest_from_all_circles_km(points, circles)
        worst = int(np.argmax(excess))
        assert excess[worst] <= 0, f"{zone.code}: {points[worst]} is {excess[worst]:.2f} km outside every circle"


def test_cover_needs_fewer_circles_than_the_polling_box(circles):
    assert len(circles) < POLLING_BOX_CIRCLES
    # 7 found when written; MILP: 7 is optimal for centres on a 0.25° grid (6 suffice only at ~255 NM)
    assert len(circles) <= 7


def test_every_circle_has_the_requested_radius_within_the_api_limit(circles):
    assert circles and all(c.radius_nm == MAX_RADIUS_NM <= 250 for c in circles)


def test_cover_is_deterministic(zone_set, area, circles):
    assert cover_area(area) == cover_area(area) == circles == covering_circles(zone_set)
    assert list(circles) == sorted(circles, key=lambda c: (-c.lat, c.lon))


def test_removing_any_circle_leaves_a_zone_point_outside_every_other(area, circles):
    for i, removed in enumerate(circles):
        rest = circles[:i] + circles[i + 1 :]
        gap = uncovered_area(area, rest, shrink_km=0.0)
        assert not gap.is_empty, f"{describe_circle(removed)} is redundant"
        point = gap.representative_point()
        excess = farthest_from_all_circles_km(np.array([[point.x, point.y]]), rest)
        assert excess[0] > 0, f"without {describe_circle(removed)}, {point} is still covered"


def test_smaller_circles_still_cover_every_zone(zone_set, area, circles):
    small = cover_area(area, 150.0)
    assert all(c.radius_nm == 150.0 for c in small)
    assert len(small) > len(circles)
    assert uncovered_area(area, small).is_empty
    for zone in zone_set.zones:
        assert (farthest_from_all_circles_km(dense_samples(zone.geometry, 0.1), small) <= 0).all(), zone.code


def test_a_shifted_circle_leaves_a_gap(area, circles):
    first = circles[0]
    moved = (Circle(first.lat + 1.0, first.lon, first.radius_nm), *circles[1:])
    assert not uncovered_area(area, moved).is_empty


def test_circle_polygon_vertices_lie_at_the_radius_minus_the_shrink():
    circle = Circle(lat=8.15, lon=-68.8, radius_nm=250.0)
    xy = shapely.get_coordinates(circle_polygon(circle, shrink_km=1.0))
    d = haversine_km(xy[:, 0], xy[:, 1], circle.lon, circle.lat)
    assert np.allclose(d, 250 * KM_PER_NM - 1.0, atol=1e-6)
    assert len(xy) == 721  # 720 vertices, closed


@pytest.mark.parametrize(
    ("circle", "text"),
    [
        (Circle(lat=8.15, lon=-68.8, radius_nm=250.0), "8.15N 68.80W r250nm"),
        (Circle(lat=-1.5, lon=10.25, radius_nm=150.0), "1.50S 10.25E r150nm"),
    ],
)
def test_describe_circle_names_hemispheres_and_radius(circle, text):
    assert describe_circle(circle) == text


@pytest.mark.parametrize("radius_nm", [250.5, 50.0, math.nan])
def test_radius_outside_the_supported_range_is_refused(area, radius_nm):
    with pytest.raises(ValueError, match="radius"):
        cover_area(area, radius_nm)


def test_importing_circles_loads_no_heavy_library():
    code = (
        "import sys, geo.circles\n"
        "print(sorted({'pandas', 'geopandas', 'scipy', 'matplotlib', 'pyproj'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
