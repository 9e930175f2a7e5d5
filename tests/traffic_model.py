"""Airborne counts per zone as a feed would report them, for replaying the alert rules: written apart
from ``monitor.sources.simulated`` (which flies routes for the demo) and from the rules it tests.

The model: aircraft enter each zone as a Poisson stream whose rate follows a daily cycle (trough
at 07 UTC, 03:00 in Caracas), a weekly cycle and a day-to-day volume factor (lognormal,
coefficient of variation ``cv``, shared in part between zones, changing at local midnight, 04 UTC);
each stays a gamma-distributed time (shape 2) with the zone's mean. The count at a poll is the
number of aircraft present. A closure hides each aircraft with probability ``1 - keep`` while it
lasts (so the count drops at once to ``keep`` of normal and comes back at once), or, ``gradual``,
only each aircraft that would enter while it lasts (the aircraft inside finish their stay and
entries resume after it, so the count falls and comes back over the zone's dwell time, as when a
closure stops entries); outages are
spans with no successful poll. Zone sizes follow SVZM and its ring: 5-12 aircraft at the night
trough in the FIR, ~34 at the afternoon peak.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["ZONES", "Replay", "ZoneTraffic", "simulate"]


@dataclass(frozen=True)
class ZoneTraffic:
    trough: float  # mean airborne at the daily trough
    peak: float  # ... at the peak
    dwell_min: float  # mean time an aircraft stays in the zone


ZONES: dict[str, ZoneTraffic] = {
    "SVZM": ZoneTraffic(7.0, 34.0, 55.0),
    "ring:SKED": ZoneTraffic(3.0, 12.0, 25.0),
    "ring:TNCF": ZoneTraffic(2.0, 8.0, 25.0),
    "ring:TJZS": ZoneTraffic(1.5, 6.0, 25.0),
    "ring:TTZP": ZoneTraffic(2.0, 9.0, 25.0),
    "ring:SYGC": ZoneTraffic(0.8, 3.5, 25.0),
    "ring:SBAZ": ZoneTraffic(1.5, 6.0, 25.0),
}
WEEKDAY = np.array([1.0, 1.0, 1.02, 1.05, 1.08, 0.85, 0.92])  # Monday first
TROUGH_HOUR = 7.0
DAY_START_H = 4  # the day's volume changes at local midnight (UTC-4)


@dataclass(frozen=True)
class Replay:
    """Poll times (Unix seconds, successful polls only), each zone's count at them, and the mean
    count the model expected there without the closure (the truth the counts scatter around)."""

    times: npt.NDArray[np.int64]
    counts: dict[str, npt.NDArray[np.float64]]
    means: dict[str, npt.NDArray[np.float64]]
    closure: tuple[int, int] | None
    outages: tuple[tuple[int, int], ...] = field(default=())


def _mean(t: npt.NDArray[np.int64], z: ZoneTraffic) -> npt.NDArray[np.float64]:
    h = (t % 86_400) / 3600.0
    phase = 0.5 - 0.5 * np.cos(2 * np.pi * (h - TROUGH_HOUR) / 24)
    weekday = WEEKDAY[((t // 86_400) + 3) % 7]  # 1970-01-01 was a Thursday
    mean: npt.NDArray[np.float64] = (z.trough + (z.peak - z.trough) * phase**1.3) * weekday
    return mean


def simulate(
    start: int,
    days: int,
    cadence_s: int = 300,
    *,
    seed: int = 0,
    zones: dict[str, ZoneTraffic] | None = None,
    closure: tuple[int, int] | None = None,
    keep: float = 0.3,
    cv: float = 0.2,
    shared: float = 0.75,
    outages: tuple[tuple[int, int], ...] = (),
    gradual: bool = False,
) -> Replay:
    """Counts at polls every ``cadence_s`` from ``start`` for ``days`` days (see the module docstring)."""
    rng = np.random.default_rng(seed)
    zones = zones or ZONES
    sd = np.sqrt(np.log(1 + cv**2))
    n_days = days + 2
    common = rng.normal(0, sd * np.sqrt(shared), n_days)
    polls = np.arange(start, start + days * 86_400, cadence_s, dtype=np.int64)
    down = np.zeros(len(polls), dtype=bool)
    for a, b in outages:
        down |= (polls >= a) & (polls < b)
    polls = polls[~down]
    counts, means = {}, {}
    for zone, z in zones.items():
        own = rng.normal(0, sd * np.sqrt(1 - shared), n_days)
        factor = np.exp(common + own - sd**2 / 2)
        minutes = np.arange(start - 6 * 3600, start + days * 86_400, 60, dtype=np.int64)
        day = np.clip((minutes - start - DAY_START_H * 3600) // 86_400 + 1, 0, n_days - 1)
        rate = _mean(minutes, z) * factor[day] / z.dwell_min  # arrivals per minute
        n = rng.poisson(rate)
        arrive = np.repeat(minutes, n) + rng.integers(0, 60, int(n.sum()))
        leave = arrive + rng.gamma(2.0, z.dwell_min * 60 / 2.0, arrive.size)
        if closure is not None:
            c0, c1 = closure
            hidden = (rng.random(arrive.size) > keep) & (arrive < c1) & (leave > c0)
            if gradual:  # only aircraft that would enter during it, never seen: those inside finish
                # their stay, and after it entries resume, so the count falls and rises over the stay
                hidden &= arrive >= c0
                arrive, leave = arrive[~hidden], leave[~hidden]
            else:
                came, went = arrive[hidden], leave[hidden]
                arrive = np.concatenate([arrive[~hidden], came[came < c0], np.maximum(came[went > c1], c1)])
                leave = np.concatenate([leave[~hidden], np.minimum(went[came < c0], c0), went[went > c1]])
        arrive.sort()
        leave.sort()
        present = np.searchsorted(arrive, polls, side="right") - np.searchsorted(leave, polls, side="right")
        counts[zone] = present.astype(np.float64)
        poll_day = np.clip((polls - start - DAY_START_H * 3600) // 86_400 + 1, 0, n_days - 1)
        means[zone] = _mean(polls, z) * factor[poll_day]
    return Replay(polls, counts, means, closure, outages)
