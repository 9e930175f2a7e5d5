"""Who sees what: the aircraft each source saw in an area, and how far the sources' views overlap.

Place in the flow: ``pipeline.sources`` (``vzmon sources``) and ``pipeline.report`` (the overlap
table) read each source's positions over a window (:func:`seen_in`) and compare the sets
(:func:`overlap`). numpy and pyarrow only: ``vzmon sources`` never loads pandas.

An aircraft counts as seen in an area when a source had a fresh position of it there (stale ones
are kept in the store but are not sightings). Areas: the FIR, and the ring (every ``ring:``
sector together).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

import numpy as np
import pyarrow as pa

from monitor.grid import slot_ends, slots_ending_in

__all__ = [
    "AREAS_RING",
    "SIGHTING_COLUMNS",
    "Overlap",
    "Sightings",
    "WindowOverlap",
    "overlap",
    "seen_in",
    "slot_coverage",
]

AREAS_RING = "ring"  # every ring sector together
SIGHTING_COLUMNS = ("icao24", "zone", "stale", "time_position")  # what :func:`seen_in` reads


@dataclass(frozen=True)
class Sightings:
    """One source's aircraft (``icao24``) per area, and its positions' ages (s) at their snapshot time."""

    aircraft: dict[str, frozenset[str]]
    position_age_s: np.ndarray


def seen_in(tables: Iterable[pa.Table], fir: str) -> Sightings:
    """The aircraft of ``tables`` (from ``store.positions.iter_positions`` with ``icao24``, ``zone``,
    ``stale`` and ``time_position``) with a fresh position in the FIR and in the ring."""
    fir_hex: set[str] = set()
    ring_hex: set[str] = set()
    ages: list[np.ndarray] = []
    for table in tables:
        if table.num_rows == 0:
            continue
        zone = np.asarray(table["zone"].to_numpy(zero_copy_only=False)).astype(str)
        fresh = ~table["stale"].to_numpy(zero_copy_only=False).astype(bool)
        icao = np.asarray(table["icao24"].to_numpy(zero_copy_only=False)).astype(str)
        fir_hex.update(np.unique(icao[fresh & (zone == fir)]).tolist())
        ring_hex.update(np.unique(icao[fresh & np.char.startswith(zone, "ring:")]).tolist())
        at = np.asarray(table["time"].to_numpy(zero_copy_only=False)).astype("datetime64[s]")
        pos = np.asarray(table["time_position"].to_numpy(zero_copy_only=False)).astype("datetime64[s]")
        known = ~np.isnat(pos)
        ages.append((at[known] - pos[known]).astype(np.int64).astype(float))
    return Sightings(
        {fir: frozenset(fir_hex), AREAS_RING: frozenset(ring_hex)},
        np.concatenate(ages) if ages else np.empty(0),
    )


@dataclass(frozen=True)
class Overlap:
    """How the sources' sets of aircraft in one area overlap."""

    area: str
    seen: dict[str, int]  # per source: aircraft it saw
    union: int  # aircraft any source saw
    by_all: int  # aircraft every source saw
    only: dict[str, int]  # per source: aircraft no other source saw
    jaccard: dict[tuple[str, str], float | None]  # per pair: |A & B| / |A | B| (None: neither saw any)

    @property
    def share_by_all(self) -> float | None:
        return self.by_all / self.union if self.union else None


def overlap(area: str, sets: Mapping[str, frozenset[str]]) -> Overlap:
    """Compare the aircraft ``sets`` of several sources (name -> icao24 set) in ``area``."""
    names = sorted(sets)
    union: frozenset[str] = frozenset().union(*sets.values()) if sets else frozenset()
    by_all = frozenset.intersection(*sets.values()) if sets else frozenset()
    only = {n: len(sets[n] - frozenset().union(*(sets[m] for m in names if m != n))) for n in names}
    jaccard = {
        (a, b): (len(sets[a] & sets[b]) / len(sets[a] | sets[b])) if sets[a] | sets[b] else None
        for a, b in combinations(names, 2)
    }
    return Overlap(area, {n: len(sets[n]) for n in names}, len(union), len(by_all), only, jaccard)


def slot_coverage(times: Sequence[datetime], start: datetime, end: datetime, step_s: int) -> float | None:
    """Share of the grid slots (``monitor.grid``) ending in ``(start, end]`` that hold one of
    ``times`` (a source's successful polls): its coverage of the grid."""
    first, last = slots_ending_in(int(start.timestamp()), int(end.timestamp()), step_s)
    n = (last - first) // step_s + 1
    if n <= 0:
        return None
    slots = np.unique(slot_ends(np.array([int(t.timestamp()) for t in times], dtype=np.int64), step_s))
    return float(np.count_nonzero((slots >= first) & (slots <= last)) / n)


@dataclass(frozen=True)
class WindowOverlap:
    """The overlap of the sources in one report window and area, with each source's grid coverage
    of the window (a source that polled less saw less)."""

    window: str
    overlap: Overlap
    coverage: dict[str, float | None]
