"""Unseen stretches: whether an aircraft flew on across one, and when a flight first seen right
after a feed outage entered its zone.

Place in the flow: ``analysis.flights`` asks :func:`went_on` before it cuts a flight where the
aircraft went unseen, and :func:`entry_times` for each flight's entry into each zone; it measures
unseen time on the :class:`PollClock` of the successful polls. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.compute import sorted_unique

__all__ = ["PollClock", "Positions", "distance_m", "entry_times", "observed_clock", "went_on"]

_EARTH_M = 6_371_008.8


def distance_m(
    lon0: npt.NDArray[np.floating[Any]],
    lat0: npt.NDArray[np.floating[Any]],
    lon1: npt.NDArray[np.floating[Any]],
    lat1: npt.NDArray[np.floating[Any]],
) -> npt.NDArray[np.float64]:
    """Great-circle distance (haversine, metres) between WGS 84 points."""
    p0, p1 = np.radians(lat0.astype(np.float64)), np.radians(lat1.astype(np.float64))
    dl = np.radians(lon1.astype(np.float64) - lon0.astype(np.float64))
    a = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * np.cos(p1) * np.sin(dl / 2) ** 2
    out: npt.NDArray[np.float64] = 2 * _EARTH_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


@dataclass(frozen=True)
class Positions:
    """The arrays a flight is cut from (``analysis.flights``), sorted by aircraft, then time."""

    aircraft: npt.NDArray[np.integer[Any]]
    t: npt.NDArray[np.int64]
    callsign: npt.NDArray[np.integer[Any]]
    ground: npt.NDArray[np.bool_]
    lon: npt.NDArray[np.float32]
    lat: npt.NDArray[np.float32]


def went_on(
    p: Positions,
    at: npt.NDArray[np.intp],
    callsign_before: npt.NDArray[np.integer[Any]],
    *,
    max_s: float,
    tolerance: float,
    cruise_mps: tuple[float, float],
) -> npt.NDArray[np.bool_]:
    """Whether the aircraft plainly flew on across the unseen stretch between positions ``at`` and
    ``at + 1`` (same aircraft): airborne on both sides, the callsign last received before the
    stretch (``callsign_before``) received again at its end,
    the stretch at most ``max_s`` long, and the straight-line speed across it within
    ``tolerance`` of the aircraft's own speed just before and just after (measured
    between neighbouring positions), or in the cruise band when that is unknown. A landing and a
    new take-off inside the stretch makes the speed across it far too low; a new leg gets a new
    callsign."""
    n = len(p.t)
    a, b = at, at + 1
    dt = (p.t[b] - p.t[a]).astype(np.float64)
    ok = (p.aircraft[a] == p.aircraft[b]) & ~p.ground[a] & ~p.ground[b] & (dt > 0) & (dt <= max_s)
    ok &= (callsign_before >= 0) & (p.callsign[b] == callsign_before)
    speed = distance_m(p.lon[a], p.lat[a], p.lon[b], p.lat[b]) / np.maximum(dt, 1.0)

    def own(i: npt.NDArray[np.intp], j: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """Speed between positions i and j where both are the same aircraft's, airborne, and close in time."""
        i, j = np.clip(i, 0, n - 1), np.clip(j, 0, n - 1)
        step = (p.t[j] - p.t[i]).astype(np.float64)
        usable = (p.aircraft[i] == p.aircraft[j]) & ~p.ground[i] & ~p.ground[j] & (step > 0) & (step <= 1200)
        v = distance_m(p.lon[i], p.lat[i], p.lon[j], p.lat[j]) / np.maximum(step, 1.0)
        return np.where(usable, v, np.nan)

    before, after = own(a - 1, a), own(b, b + 1)
    known = ~np.isnan(before) | ~np.isnan(after)
    ref = np.where(np.isnan(before), after, np.where(np.isnan(after), before, (before + after) / 2))
    tol = tolerance
    lo, hi = cruise_mps
    fits = np.where(
        known, np.abs(speed / np.where(known & (ref > 0), ref, 1.0) - 1) <= tol, (speed >= lo) & (speed <= hi)
    )
    out: npt.NDArray[np.bool_] = ok & fits & (speed >= lo * (1 - tol))
    return out


GOLDEN = 0.6180339887498949  # the golden ratio's fraction: evenly spread fractions


def entry_times(
    first_seen: npt.NDArray[np.int64],
    flight: npt.NDArray[Any],
    exempt: npt.NDArray[np.bool_],
    ok_times: npt.NDArray[np.int64] | None,
    after_hole: npt.NDArray[np.bool_] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """When each flight entered each zone: first seen there, unless that was the first poll after
    a hole in the polling (a feed outage: ``after_hole``, with ``ok_times`` the sorted times of
    the successful polls) and the flight did not just take off from an airport (``exempt``): then
    it entered at an unknown moment between the last poll before the hole and the first one
    after. Such entries are spread evenly over that stretch (each flight at its own fraction of
    it, a low-discrepancy sequence), so each hour of an outage gets its share instead of the first
    hour after the outage getting them all. Returns the times and whether each was estimated so."""
    if ok_times is None or after_hole is None or len(ok_times) < 2 or not len(first_seen):
        return first_seen, np.zeros(len(first_seen), dtype=bool)
    i = np.searchsorted(ok_times, first_seen)
    prev_ok = ok_times[np.clip(i - 1, 0, None)]
    unseen = after_hole & (i > 0) & ~exempt
    frac = (flight.astype(np.float64) * GOLDEN) % 1.0
    offset = np.maximum(np.ceil(frac * (first_seen - prev_ok)), 1).astype(np.int64)
    entered: npt.NDArray[np.int64] = np.where(unseen, prev_ok + offset, first_seen)
    return entered, unseen


@dataclass(frozen=True)
class PollClock:
    """The successful polls of a span: their sorted ``times`` (epoch s), the ``seconds`` of working
    polling at each, and the usual ``cadence`` (median spacing)."""

    times: npt.NDArray[np.int64]
    seconds: npt.NDArray[np.float64]
    cadence: float

    def elapsed(self, t0: npt.NDArray[np.int64], t1: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Seconds of working polling between poll times ``t0`` and ``t1``."""
        last = len(self.times) - 1
        i0 = np.clip(np.searchsorted(self.times, t0), 0, last)
        i1 = np.clip(np.searchsorted(self.times, t1), 0, last)
        out: npt.NDArray[np.float64] = self.seconds[i1] - self.seconds[i0]
        return out

    def hole(self, at: npt.NDArray[np.int64], before: bool) -> npt.NDArray[np.bool_]:
        """Whether the successful poll just before (or after) each time in ``at`` is missing: spaced
        more than 1.5 cadences away, or beyond the data."""
        out: npt.NDArray[np.bool_]
        if len(self.times) < 2:
            out = np.ones(len(at), dtype=bool)
        elif before:
            i = np.searchsorted(self.times, at)
            out = (i == 0) | (at - self.times[np.clip(i - 1, 0, None)] > 1.5 * self.cadence)
        else:
            j = np.searchsorted(self.times, at, side="right")
            nxt = self.times[np.clip(j, 0, len(self.times) - 1)]
            out = (j >= len(self.times)) | (nxt - at > 1.5 * self.cadence)
        return out


def observed_clock(ok_times: npt.NDArray[np.int64]) -> PollClock:
    """The :class:`PollClock` of the successful polls at ``ok_times``.

    Each spacing between successful polls counts up to twice the median spacing, so a feed
    outage adds at most that much however long it lasted.
    """
    times = sorted_unique(np.asarray(ok_times, dtype=np.int64))
    if len(times) < 2:
        return PollClock(times, np.zeros(len(times)), 0.0)
    d = np.diff(times).astype(np.float64)
    cadence = float(np.median(d))
    return PollClock(times, np.r_[0.0, np.cumsum(np.minimum(d, max(2.0 * cadence, 1.0)))], cadence)
