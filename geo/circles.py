"""Circles for readsb-style APIs: the fewest "within R NM of (lat, lon)" queries that cover the zones.

Place in the flow: adsb.lol and adsb.fi answer "aircraft within R nautical miles of a point"
(R ≤ 250 NM). ``vzmon collect`` asks :func:`covering_circles` which circles to poll for a
:class:`~geo.zoneset.ZoneSet` and stores them with each poll, as :func:`describe_circle` writes them.
``geo`` imports nothing from ``monitor``; this module needs only numpy and shapely (no pyproj).

Distances are great-circle distances on a sphere of radius 6371.0088 km (the IUGG mean radius):
``cos d = u·v`` for unit vectors u, v; circle polygons come from the direct (destination point)
formula. Coordinates are WGS 84 degrees; geometries are shapely lon/lat (x = lon, y = lat).

Method (:func:`cover_area`). Target points sample the area: its boundary densified to
:data:`_BOUNDARY_STEP_DEG` (every vertex kept) and an interior grid. Candidate centres lie on a
:data:`_CANDIDATE_STEP_DEG` grid over the area's bounds grown by the radius. A greedy set cover
picks circles of the *working* radius (the requested one minus :data:`COVER_MARGIN_NM`); a
weighted local search then looks for a cover with one circle fewer, and again, until it fails.
The cover is then proven exactly: the area minus the circles, built as geodesic polygons of the
requested radius shrunk by :data:`VERIFY_SHRINK_KM`, must be empty. If it is not (a small gap
between samples), the gap's vertices become targets and the search repairs the cover. Last,
every circle the others make redundant (exactly, not on samples) is dropped.

Why the margin: each boundary point lies ≤ 2.3 km from a sample, so a sample covered at 248 NM
(459.3 km) puts the boundary inside the 250 NM circle shrunk by 1 km (462.0 km) by construction;
interior gaps are rare and the exact check finds them. Why the shrink: the proof then holds for
a server that measures distance a little differently (on the WGS 84 ellipsoid, east-west
distances at these latitudes are up to ~0.15 %, 0.7 km, longer than on the sphere; north-south
ones are shorter). Centres lie on a 0.5° grid, so :func:`describe_circle`'s 0.01° text is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.zoneset import ZoneSet

__all__ = [
    "EARTH_RADIUS_KM",
    "MAX_RADIUS_NM",
    "MIN_RADIUS_NM",
    "Circle",
    "circle_polygon",
    "cover_area",
    "covering_circles",
    "describe_circle",
    "uncovered_area",
]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius: the sphere distances are measured on
KM_PER_NM = 1.852
MAX_RADIUS_NM = 250.0  # the largest radius readsb-style APIs (adsb.lol, adsb.fi) accept
MIN_RADIUS_NM = 100.0  # smaller circles need finer grids than these (~10 MB) and many more requests
COVER_MARGIN_NM = 2.0  # targets are covered with the radius minus this (see the module docstring)
VERIFY_SHRINK_KM = 1.0  # the proof uses polygons this much smaller than the requested circle
CIRCLE_VERTICES = 720  # vertices of a circle polygon: ~4 km edges, which sag ~4 m inside the circle
_INTERIOR_STEP_DEG = 0.5  # at most; an eighth of the radius for small circles (gaps: see the repair)
_BOUNDARY_STEP_DEG = 0.04  # ≤ 4.5 km between boundary samples: each boundary point is ≤ 2.3 km from one
_CANDIDATE_STEP_DEG = 0.5
_SEARCH_STEPS = 40  # moves (or reweightings) tried before giving up on one circle fewer
_MOVE_CELLS = 6  # a move shifts a centre by at most this many grid steps in lat and in lon
_REPAIR_ROUNDS = 10
_CHUNK = 512  # targets per matrix product (keeps the temporary small)
_SPARE = 1024  # room for targets the repair adds before the arrays grow

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Circle:
    """A query area: every point within ``radius_nm`` nautical miles (great circle) of (lat, lon) degrees."""

    lat: float
    lon: float
    radius_nm: float


def describe_circle(circle: Circle) -> str:
    """One line for humans, e.g. ``"8.15N 68.80W r250nm"`` (centre to 0.01°, radius in NM)."""
    ns = "N" if circle.lat >= 0 else "S"
    ew = "E" if circle.lon >= 0 else "W"
    return f"{abs(circle.lat):.2f}{ns} {abs(circle.lon):.2f}{ew} r{circle.radius_nm:g}nm"


def _unit_vectors(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """(n, 3) unit vectors of points given in degrees."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def circle_polygon(circle: Circle, shrink_km: float = 0.0, vertices: int = CIRCLE_VERTICES) -> Polygon:
    """The circle as a lon/lat polygon: ``vertices`` points at the great-circle distance
    ``radius_nm`` minus ``shrink_km`` from the centre (on the sphere of :data:`EARTH_RADIUS_KM`)."""
    delta = (circle.radius_nm * KM_PER_NM - shrink_km) / EARTH_RADIUS_KM
    phi, lam = math.radians(circle.lat), math.radians(circle.lon)
    theta = np.linspace(0.0, 2 * math.pi, vertices, endpoint=False)
    sin_phi2 = math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(sin_phi2)
    lam2 = lam + np.arctan2(np.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * sin_phi2)
    return Polygon(np.column_stack([np.degrees(lam2), np.degrees(phi2)]))


def uncovered_area(
    area: Polygon | MultiPolygon, circles: Sequence[Circle], shrink_km: float = VERIFY_SHRINK_KM
) -> BaseGeometry:
    """The part of ``area`` outside every circle, each shrunk by ``shrink_km`` (empty when covered)."""
    covered = shapely.union_all([circle_polygon(c, shrink_km) for c in circles])
    return shapely.difference(area, covered)


def _steps(low: float, high: float, step: float) -> FloatArray:
    """Multiples of ``step`` degrees in [low, high], rounded to 1e-6 degree so they print cleanly."""
    return np.round(np.arange(math.ceil(low / step), math.floor(high / step) + 1) * step, 6)


def _targets(area: Polygon | MultiPolygon, interior_step: float) -> FloatArray:
    """(n, 2) lon/lat samples of ``area``: its boundary densified (every vertex kept), then an interior grid."""
    boundary = shapely.get_coordinates(shapely.segmentize(area.boundary, _BOUNDARY_STEP_DEG))
    west, south, east, north = area.bounds
    gx, gy = np.meshgrid(_steps(west, east, interior_step), _steps(south, north, interior_step))
    inside = shapely.contains_xy(area, gx, gy)
    return np.concatenate([boundary, np.column_stack([gx[inside], gy[inside]])])


class _Cover:
    """Which candidate centre covers which target, for one working radius.

    Candidates form a lon/lat grid of ``shape`` (rows south to north, columns west to east), numbered
    row by row. ``near[t, c]`` says whether candidate c covers target t; ``covers`` is its transpose.
    Both are kept because each is read along its rows. They are allocated once with room for
    :data:`_SPARE` more targets (the repair's): allocating ~10 MB arrays costs more than filling them.
    """

    def __init__(self, lons: FloatArray, lats: FloatArray, targets: FloatArray, radius_km: float) -> None:
        gx, gy = np.meshgrid(lons, lats)
        self.centres = np.column_stack([gx.ravel(), gy.ravel()])
        rows, cols = gx.shape
        self.shape = (rows, cols)
        self.cos_radius = np.float32(math.cos(radius_km / EARTH_RADIUS_KM))  # float32: ~5 m at 250 NM
        self.xyz = _unit_vectors(self.centres[:, 0], self.centres[:, 1]).astype(np.float32).T.copy()
        self.points = np.zeros((0, 2))
        self._near = np.zeros((len(targets) + _SPARE, len(self.centres)), dtype=bool)
        self._covers = np.zeros((len(self.centres), len(targets) + _SPARE), dtype=bool)
        self.add_targets(targets)

    @property
    def near(self) -> NDArray[np.bool_]:
        return self._near[: len(self.points)]

    @property
    def covers(self) -> NDArray[np.bool_]:
        return self._covers[:, : len(self.points)]

    def add_targets(self, targets: FloatArray) -> None:
        start, stop = len(self.points), len(self.points) + len(targets)
        if stop > len(self._near):  # rare: repairs that add many targets
            room = stop + _SPARE - start
            self._near = np.concatenate([self.near, np.zeros((room, len(self.centres)), dtype=bool)])
            self._covers = np.concatenate([self.covers, np.zeros((len(self.centres), room), dtype=bool)], axis=1)
        xyz = _unit_vectors(targets[:, 0], targets[:, 1]).astype(np.float32)
        dots = np.empty((_CHUNK, len(self.centres)), dtype=np.float32)
        for i in range(start, stop, _CHUNK):
            part = xyz[i - start : i - start + _CHUNK]
            np.matmul(part, self.xyz, out=dots[: len(part)])
            np.greater_equal(dots[: len(part)], self.cos_radius, out=self._near[i : i + len(part)])
        if not self._near[start:stop].any(axis=1).all():
            raise ValueError("some zone point is farther than the radius from every candidate centre")
        self._covers[:, start:stop] = self._near[start:stop].T
        self.points = np.concatenate([self.points, targets])
        self.sizes = np.count_nonzero(self.covers, axis=1)  # targets each candidate covers

    def counts(self, chosen: list[int]) -> NDArray[np.intp]:
        """How many of the ``chosen`` circles cover each target."""
        counts: NDArray[np.intp] = np.count_nonzero(self.covers[chosen], axis=0)
        return counts

    def greedy(self, start: tuple[int, ...] = ()) -> list[int]:
        """``start``, then each time the candidate covering the most targets left, until all are covered."""
        gains = self.sizes.copy()
        left = np.ones(len(self.points), dtype=bool)
        chosen: list[int] = []
        while left.any():
            best = start[len(chosen)] if len(chosen) < len(start) else int(np.argmax(gains))
            chosen.append(best)
            newly = np.flatnonzero(left & self.covers[best])
            gains -= np.count_nonzero(self.near[newly], axis=0)
            left[newly] = False
        return chosen

    def search(self, chosen: list[int]) -> list[int] | None:
        """Move circles until ``chosen`` covers every target, or None after :data:`_SEARCH_STEPS` steps.

        A weighted local search: each step takes the heaviest uncovered target and makes the move
        (one circle to a candidate within :data:`_MOVE_CELLS` grid cells that covers that target)
        that gains the most weight, even a negative gain; the circle moved last stays put. Targets
        left uncovered then weigh one more, so the search climbs out of local optima.
        """
        chosen = list(chosen)
        count = self.counts(chosen)
        weight = np.ones(len(self.points), dtype=np.float32)
        last = -1
        for _ in range(_SEARCH_STEPS):
            uncovered = count == 0
            if not uncovered.any():
                return chosen
            t = int(np.argmax(np.where(uncovered, weight, 0.0)))
            moves = {i: self._best_move(c, t, count, weight, _MOVE_CELLS) for i, c in enumerate(chosen) if i != last}
            found = {i: m for i, m in moves.items() if m is not None}
            if not found:  # no circle reaches t by a local move: the nearest one jumps
                i = int(np.argmin(np.abs(self.centres[chosen] - self.points[t]).sum(axis=1)))
                found = {i: self._best_move(chosen[i], t, count, weight, max(self.shape)) or (0.0, chosen[i])}
            i = max(found, key=lambda i: found[i][0])  # the first of equal gains
            j = found[i][1]
            weight[uncovered] += 1
            count += self.covers[j]
            count -= self.covers[chosen[i]]
            chosen[i], last = j, i
        return chosen if count.all() else None

    def _best_move(
        self, c: int, t: int, count: NDArray[np.intp], weight: NDArray[np.float32], cells: int
    ) -> tuple[float, int] | None:
        """(gain, new candidate) of the best move of circle ``c`` within ``cells`` grid cells to a
        candidate covering target ``t``; None when no such candidate is that near."""
        cols = self.shape[1]
        r, k = divmod(c, cols)
        r0, k0 = max(0, r - cells), max(0, k - cells)
        grid = self.near.reshape(len(self.points), *self.shape)[:, r0 : r + cells + 1, k0 : k + cells + 1]
        reach = grid[t].ravel()
        if not reach.any():
            return None
        need = np.flatnonzero(count == self.covers[c])  # covered by c alone, or by none
        block = grid[need]
        scores = weight[need] @ block.reshape(len(need), -1).astype(np.float32)
        scores[~reach] = -np.inf
        j = int(np.argmax(scores))
        width = block.shape[2]
        return float(scores[j] - weight[need][self.covers[c, need]].sum()), (r0 + j // width) * cols + k0 + j % width

    def drop_redundant(self, chosen: list[int]) -> list[int]:
        """``chosen`` without the circles the others make redundant, tried in order."""
        chosen = list(chosen)
        for c in list(chosen):
            rest = [x for x in chosen if x != c]
            if rest and self.counts(rest).all():
                chosen = rest
        return chosen

    def fewest(self) -> list[int]:
        """Greedy cover, then covers with one circle fewer as long as the search finds them, each
        search starting from the first circles of the greedy order (the best start we know)."""
        order = self.greedy()
        chosen = self.drop_redundant(order)
        while len(chosen) > 1:
            fewer = self.search(order[: len(chosen) - 1])
            if fewer is None:
                break
            chosen = self.drop_redundant(fewer)
        return chosen


_CACHE: dict[tuple[str, float], tuple[Circle, ...]] = {}


def covering_circles(zone_set: ZoneSet, radius_nm: float = MAX_RADIUS_NM) -> tuple[Circle, ...]:
    """:func:`cover_area` for the union of every zone of ``zone_set``, cached per process and zone set."""
    key = (zone_set.fingerprint, float(radius_nm))
    if key not in _CACHE:
        area = shapely.union_all([z.geometry for z in zone_set.zones])
        if not isinstance(area, Polygon | MultiPolygon):
            raise TypeError(f"the zones' union is a {area.geom_type}, expected an area")
        _CACHE[key] = cover_area(area, radius_nm)
    return _CACHE[key]


def cover_area(area: Polygon | MultiPolygon, radius_nm: float = MAX_RADIUS_NM) -> tuple[Circle, ...]:
    """The fewest circles of ``radius_nm`` found that cover ``area`` (lon/lat, EPSG:4326), proven exactly.

    Circles come sorted north to south, then west to east; the same area gives the same circles.
    Raises ``ValueError`` for a radius outside [MIN_RADIUS_NM, MAX_RADIUS_NM] (or NaN), and
    ``RuntimeError`` if the exact check keeps failing after :data:`_REPAIR_ROUNDS` repairs.
    """
    if not MIN_RADIUS_NM <= radius_nm <= MAX_RADIUS_NM:  # NaN fails too
        raise ValueError(f"radius {radius_nm!r} NM is outside [{MIN_RADIUS_NM:g}, {MAX_RADIUS_NM:g}]")
    working_km = (radius_nm - COVER_MARGIN_NM) * KM_PER_NM
    pad = working_km / (EARTH_RADIUS_KM * math.radians(1.0))  # the working radius in degrees of latitude
    west, south, east, north = area.bounds
    lons = _steps(west - pad, east + pad, _CANDIDATE_STEP_DEG)
    lats = _steps(max(-89.0, south - pad), min(89.0, north + pad), _CANDIDATE_STEP_DEG)
    cover = _Cover(lons, lats, _targets(area, min(_INTERIOR_STEP_DEG, pad / 8)), working_km)
    chosen = cover.fewest()
    for _ in range(_REPAIR_ROUNDS):
        circles = [
            Circle(lat=float(cover.centres[c, 1]), lon=float(cover.centres[c, 0]), radius_nm=radius_nm) for c in chosen
        ]
        gap = uncovered_area(area, circles)
        if gap.is_empty:
            for circle in list(circles):  # the exact version of drop_redundant
                rest = [c for c in circles if c is not circle]
                if rest and uncovered_area(area, rest).is_empty:
                    circles = rest
            return tuple(sorted(circles, key=lambda c: (-c.lat, c.lon)))
        # the gap's vertices become targets: move the circles to cover them, else add circles
        cover.add_targets(shapely.get_coordinates(shapely.segmentize(gap, _BOUNDARY_STEP_DEG)))
        chosen = cover.search(chosen) or cover.greedy(start=tuple(chosen))
    raise RuntimeError(f"no proven cover with {radius_nm:g} NM circles after {_REPAIR_ROUNDS} repairs")
