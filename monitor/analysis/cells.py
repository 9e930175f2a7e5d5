"""Airborne positions summed per map cell, a chunk at a time: what the density maps and the
footprint need of months of positions, without holding them.

Place in the flow: ``pipeline.report`` feeds each batch of positions it reads to a
:class:`CellSums` (and to ``analysis.buckets`` for the flights); ``analysis.before_after`` turns
the sums into density grids and the footprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.analysis.hourly import cell_index
from monitor.analysis.windows import Window

__all__ = ["MAP_CELL_DEG", "CellSums"]

MAP_CELL_DEG = 0.25


def _bounds(w: Window) -> tuple[int, int]:
    return int(w.start.timestamp()), int(w.end.timestamp())


class CellSums:
    """Airborne positions per cell of ``box`` (west, south, east, north; ``MAP_CELL_DEG`` cells):
    in each of ``windows``, and in each of ``split`` apart for even and odd UTC hours; and every
    position (airborne or not) inside ``count_in``."""

    def __init__(
        self,
        box: tuple[float, float, float, float],
        windows: Sequence[Window] = (),
        split: Sequence[Window] = (),
        count_in: Window | None = None,
    ) -> None:
        west, south, east, north = box
        self.lon_edges = np.arange(west, east + MAP_CELL_DEG, MAP_CELL_DEG)
        self.lat_edges = np.arange(south, north + MAP_CELL_DEG, MAP_CELL_DEG)
        shape = (len(self.lat_edges) - 1, len(self.lon_edges) - 1)
        self.windows, self.split, self.count_in = tuple(windows), tuple(split), count_in
        self._in = [np.zeros(shape) for _ in self.windows]
        self._halves = [(np.zeros(shape), np.zeros(shape)) for _ in self.split]
        self.counted = 0

    def add(
        self,
        t: npt.NDArray[np.int64],
        lon: npt.NDArray[np.floating[Any]],
        lat: npt.NDArray[np.floating[Any]],
        ground: npt.NDArray[np.bool_],
    ) -> None:
        """Add positions (Unix seconds, degrees, on the ground), in any order."""
        if self.count_in is not None and len(t):
            lo, hi = _bounds(self.count_in)
            self.counted += int(np.count_nonzero((t >= lo) & (t < hi)))
        lo_t, hi_t = (int(t.min()), int(t.max())) if len(t) else (0, -1)
        touched = [w for w in (*self.windows, *self.split) if _bounds(w)[1] > lo_t and _bounds(w)[0] <= hi_t]
        if not touched:
            return
        air = ~ground
        t = t[air]
        cell = cell_index(
            np.asarray(lon[air], dtype=np.float64),
            np.asarray(lat[air], dtype=np.float64),
            self.lon_edges,
            self.lat_edges,
        )  # each airborne position's cell, once for every window (-1: off the grid)
        shape = (len(self.lat_edges) - 1, len(self.lon_edges) - 1)
        size = shape[0] * shape[1]
        on_grid = cell >= 0
        lo_t, hi_t = (int(t.min()), int(t.max())) if len(t) else (0, -1)

        def within(w: Window) -> npt.NDArray[np.bool_]:
            lo, hi = _bounds(w)
            if lo <= lo_t and hi_t < hi:  # the usual case: a day's positions all inside the window
                return on_grid
            return on_grid & (t >= lo) & (t < hi)

        for w, grid in zip(self.windows, self._in, strict=True):
            if w in touched:
                grid += np.bincount(cell[within(w)], minlength=size).reshape(shape)
        if any(w in touched for w in self.split):
            odd = (t // 3600) & 1  # odd UTC hours
            for w, (even_grid, odd_grid) in zip(self.split, self._halves, strict=True):
                if w in touched:
                    pick = within(w)
                    both = np.bincount(cell[pick] * 2 + odd[pick], minlength=2 * size).reshape(*shape, 2)
                    even_grid += both[..., 0]
                    odd_grid += both[..., 1]

    def in_window(self, i: int) -> npt.NDArray[np.float64]:
        """Airborne positions per cell in ``windows[i]``."""
        return self._in[i]

    def halves(self, i: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Airborne positions per cell in ``split[i]``: in even UTC hours, in odd ones."""
        return self._halves[i]
