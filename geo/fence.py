"""Classify positions into zones, vectorised: lon/lat arrays in, zone codes out.

Place in the flow: ``monitor.pipeline`` parses a snapshot, calls :func:`tag_positions` (or
:meth:`Fence.classify`), and stores the zone of every position with it.

Method. A :class:`Fence` resolves a regular lon/lat grid over the zones' bounding box once, the
first time it classifies many positions at once (fewer, as in one poll, are tested exactly, which
is cheaper than building the grid). A cell that no zone boundary touches lies wholly in one zone (or in none), so every
position in it gets that cell's code by two array lookups. Positions in cells that a boundary
crosses (about 3 % of the area at the default resolution) are decided exactly, zone by zone in
priority order, with prepared geometries and ``shapely.intersects_xy`` after a bounding-box test.
The grid only ever routes positions; the answer is the exact point-in-polygon answer.

Semantics: zones are closed sets and the first zone in priority order wins, so a position
exactly on the FIR border is inside the FIR. NaN (or infinite) longitude or latitude gives ``unknown``; a
position in no zone gives ``outside``. Coordinates are WGS 84 degrees (EPSG:4326).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.bounds import BBox
from geo.zoneset import ZoneSet

if TYPE_CHECKING:  # pandas is loaded only by the two helpers that return pandas (polling never does)
    import pandas as pd

__all__ = ["DEFAULT_CELL_DEG", "GRID_FROM", "Fence", "fence_for", "tag_positions"]

DEFAULT_CELL_DEG = 0.05
GRID_FROM = 2_000  # positions in one call from which the grid is built (and then always used)
_MIXED = -1  # grid value of a cell that some zone boundary touches
_EPS = 1e-9  # cells within this many degrees of a boundary count as touched


class Fence:
    """A zone classifier for one :class:`ZoneSet`. Build once, reuse for every snapshot.

    ``codes`` lists every code :meth:`classify_index` can return an index into: the zones in
    priority order, then ``outside``, then ``unknown``.
    """

    def __init__(self, zone_set: ZoneSet, cell_deg: float = DEFAULT_CELL_DEG) -> None:
        if not cell_deg > 0:
            raise ValueError(f"cell size must be positive, got {cell_deg}")
        self.zone_set = zone_set
        self.codes: tuple[str, ...] = zone_set.codes
        self.outside_index = len(zone_set.zones)
        self.unknown_index = self.outside_index + 1
        self._geoms = [z.geometry for z in zone_set.zones]
        for geom in self._geoms:
            shapely.prepare(geom)
        self._boxes = np.array([shapely.bounds(g) for g in self._geoms])
        box = zone_set.bbox
        self.cell_deg = cell_deg
        self._x0, self._y0 = box.west, box.south
        self._nx = max(1, math.ceil((box.east - box.west) / cell_deg))
        self._ny = max(1, math.ceil((box.north - box.south) / cell_deg))
        self._grid: npt.NDArray[np.int16] | None = None

    @property
    def grid(self) -> npt.NDArray[np.int16]:
        """The resolved grid (zone index per cell, ``_MIXED`` where a boundary crosses), built on
        first use: a poll of a few hundred aircraft is classified exactly without it."""
        if self._grid is None:
            self._grid = self._resolve_grid()
        return self._grid

    @property
    def grid_box(self) -> BBox:
        return BBox(self._x0, self._y0, self._x0 + self._nx * self.cell_deg, self._y0 + self._ny * self.cell_deg)

    @property
    def mixed_share(self) -> float:
        """Share of grid cells that a zone boundary touches (their positions are decided exactly)."""
        return float(np.mean(self.grid == _MIXED))

    def _resolve_grid(self) -> npt.NDArray[np.int16]:
        grid = np.full((self._ny, self._nx), _MIXED, dtype=np.int16)
        touched = self._touched_cells()
        # An untouched cell lies wholly in one zone or in none: its centre tells which.
        iy, ix = np.nonzero(~touched)
        grid[iy, ix] = self._exact(self._x0 + (ix + 0.5) * self.cell_deg, self._y0 + (iy + 0.5) * self.cell_deg)
        return grid

    def _touched_cells(self) -> npt.NDArray[np.bool_]:
        """Cells that some zone boundary touches (conservatively: a few untouched ones may be marked)."""
        touched = np.zeros((self._ny, self._nx), dtype=bool)
        # Segments no longer than half a cell, so each segment's bbox spans at most 2 x 2 cells.
        lines = shapely.get_parts(shapely.segmentize(shapely.boundary(np.array(self._geoms)), self.cell_deg / 2))
        xy, line_of = shapely.get_coordinates(lines, return_index=True)
        same = line_of[1:] == line_of[:-1]
        a, b = xy[:-1][same], xy[1:][same]
        ix0 = self._cell(np.minimum(a[:, 0], b[:, 0]) - _EPS, self._x0, self._nx)
        ix1 = self._cell(np.maximum(a[:, 0], b[:, 0]) + _EPS, self._x0, self._nx)
        iy0 = self._cell(np.minimum(a[:, 1], b[:, 1]) - _EPS, self._y0, self._ny)
        iy1 = self._cell(np.maximum(a[:, 1], b[:, 1]) + _EPS, self._y0, self._ny)
        for dx in range(int((ix1 - ix0).max(initial=0)) + 1):
            for dy in range(int((iy1 - iy0).max(initial=0)) + 1):
                ok = (ix0 + dx <= ix1) & (iy0 + dy <= iy1)
                touched[(iy0 + dy)[ok], (ix0 + dx)[ok]] = True
        return touched

    def _cell(self, v: npt.NDArray[np.float64], origin: float, n: int) -> npt.NDArray[np.intp]:
        return np.clip(np.floor((v - origin) / self.cell_deg), 0, n - 1).astype(np.intp)

    def _exact(self, lon: npt.NDArray[np.floating[Any]], lat: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.int16]:
        """Exact zone index for finite positions: first zone (priority order) whose closed set holds it."""
        out = np.full(lon.shape, self.outside_index, dtype=np.int16)
        todo = np.ones(lon.shape, dtype=bool)
        for i, geom in enumerate(self._geoms):
            west, south, east, north = self._boxes[i]
            cand = todo & (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
            idx = np.flatnonzero(cand)
            if idx.size == 0:
                continue
            hit = shapely.intersects_xy(geom, lon[idx], lat[idx])
            out[idx[hit]] = i
            todo[idx[hit]] = False
        return out

    def classify_index(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int16]:
        """Zone index (into :attr:`codes`) for each position. Arrays of equal shape, degrees."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"lon and lat differ in shape: {x.shape} vs {y.shape}")
        x, y = x.ravel(), y.ravel()
        finite = np.isfinite(x) & np.isfinite(y)
        if x.size < GRID_FROM and self._grid is None:  # few positions: exact tests beat building the grid
            out = np.full(x.shape, self.unknown_index, dtype=np.int16)
            out[finite] = self._exact(x[finite], y[finite])
            return out.reshape(np.shape(np.asarray(lon)))
        out = np.full(x.shape, self.outside_index, dtype=np.int16)
        fx = (x - self._x0) / self.cell_deg
        fy = (y - self._y0) / self.cell_deg
        inside = (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)  # False for NaN
        ix = fx[inside].astype(np.intp)
        iy = fy[inside].astype(np.intp)
        cell = self.grid[iy, ix]
        out[inside] = cell
        mixed = np.flatnonzero(inside)[cell == _MIXED]
        if mixed.size:
            out[mixed] = self._exact(x[mixed], y[mixed])
        # On the grid's far edges (x or y exactly at the box's east or north edge).
        edge = ~inside & finite
        if edge.any():
            e = np.flatnonzero(edge)
            out[e] = self._exact(x[e], y[e])
        out[~finite] = self.unknown_index  # NaN or inf: no usable position
        return out.reshape(np.shape(np.asarray(lon)))

    def classify(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Zone code for each position: a zone code, ``outside`` or ``unknown``."""
        return np.asarray(self.codes, dtype=object)[self.classify_index(lon, lat)]

    def categorical(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> pd.Categorical[str]:
        """Zone codes as a pandas Categorical whose categories are :attr:`codes`, in order."""
        import pandas as pd

        return pd.Categorical.from_codes(self.classify_index(lon, lat).ravel(), categories=pd.Index(self.codes))


@functools.cache
def fence_for(zone_set: ZoneSet) -> Fence:
    """The process-wide :class:`Fence` for ``zone_set`` (built on first use, then reused)."""
    return Fence(zone_set)


def tag_positions(
    df: pd.DataFrame, zone_set: ZoneSet, lon: str = "longitude", lat: str = "latitude", column: str = "zone"
) -> pd.DataFrame:
    """A copy of ``df`` with a categorical ``column`` of zone codes for its lon/lat columns."""
    out = df.copy()
    out[column] = fence_for(zone_set).categorical(df[lon].to_numpy(dtype=float), df[lat].to_numpy(dtype=float))
    return out
