"""The baseline an alert judges counts against, and how a zone's counts vary around it. numpy only.

Place in the flow: ``pipeline.alerts`` reads a zone's recent counts (:class:`ZoneSeries`, the last
day or so of polls) and its hourly means (:class:`HourTable`, from the store's ``zone_hours``)
and ``alerts.rules`` asks here what each recent poll should have seen
(:func:`baseline_for`) and how much normal traffic varies (:func:`fit_noise`). Times are tz-aware
UTC in the API, whole Unix seconds (or hours) inside.

The baseline of a poll: the median, over the 4 weeks before, of the mean airborne count in the
same hour of the week (at least 3 of the 4 weeks with data). With less history: the same hour
yesterday, flagged low-confidence (the same hour keeps the daily cycle from raising false alarms
at night). With less than 24 hours of history: none at all. While a drop is under way the baseline
is taken from before it began (``before``), so a closure that lasts weeks never becomes its own
baseline.

The noise: how long an aircraft stays in the zone (from the last day's poll-to-poll changes) and
how much the day's level varies (from how each hour of the last 4 weeks differed from the other
weeks' same hour, less what the aircraft's comings and goings explain; taken at the upper 90 %
bound, since 4 weeks hold only 28 days). See ``alerts.detect``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from monitor.alerts.detect import DEFAULT_PHI, Noise, occupancy_tau, window_factor

__all__ = [
    "CLOCK_SKEW",
    "HISTORY",
    "RECENT",
    "Baseline",
    "BaselineRules",
    "HourTable",
    "ZoneSeries",
    "baseline_for",
    "hour_tables",
    "level_variation",
    "occupancy",
    "utc",
    "zone_series",
]

WEEK_H = 168
DAY_H = 24
CLOCK_SKEW = timedelta(minutes=10)  # the API's clock may run ahead of ours: read a little past "now"
RECENT = timedelta(hours=30)  # the polls a check reads: the longest window, the hours before it, a day for tau
HISTORY = timedelta(weeks=5)  # the hourly means a check reads before its reference time
PHI_FLOOR = 0.01  # the day's level is never taken to vary less than ±10 %
MIN_RESIDUALS = 100  # hours of history needed to fit the level's variation


@dataclass(frozen=True)
class BaselineRules:
    weeks: int = 4  # weeks of the same hour the median is taken over
    min_weeks: int = 3  # of which at least this many must have data


@dataclass(frozen=True)
class ZoneSeries:
    """One zone's airborne counts at successful snapshots, in time order (``time`` in Unix seconds)."""

    snapshot_id: npt.NDArray[np.int64]
    time: npt.NDArray[np.int64]
    airborne: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.time)

    def head(self, n: int) -> ZoneSeries:
        """The first ``n`` counts."""
        return ZoneSeries(self.snapshot_id[:n], self.time[:n], self.airborne[:n])

    def since(self, t: int) -> ZoneSeries:
        """The counts at or after Unix second ``t``."""
        i = int(np.searchsorted(self.time, t, side="left"))
        return ZoneSeries(self.snapshot_id[i:], self.time[i:], self.airborne[i:])


def zone_series(rows: Iterable[tuple[int, int, str, float]]) -> dict[str, ZoneSeries]:
    """Per zone, the counts of ``(snapshot_id, time_s, zone, airborne)`` rows, sorted by time (a
    snapshot read twice counts once)."""
    by_zone: dict[str, dict[int, tuple[int, float]]] = {}
    for sid, t, zone, airborne in rows:
        by_zone.setdefault(zone, {})[int(sid)] = (int(t), float(airborne))
    out = {}
    for zone, snaps in by_zone.items():
        ids = np.fromiter(snaps.keys(), dtype=np.int64, count=len(snaps))
        times = np.fromiter((v[0] for v in snaps.values()), dtype=np.int64, count=len(snaps))
        values = np.fromiter((v[1] for v in snaps.values()), dtype=np.float64, count=len(snaps))
        order = np.lexsort((ids, times))
        out[zone] = ZoneSeries(ids[order], times[order], values[order])
    return out


@dataclass(frozen=True)
class HourTable:
    """One zone's hourly means of successful polls: ``hour`` (Unix hours, sorted), ``mean`` and
    ``n`` (polls in the hour)."""

    hour: npt.NDArray[np.int64]
    mean: npt.NDArray[np.float64]
    n: npt.NDArray[np.int64]

    def at(self, hours: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """The means at ``hours`` (any shape), NaN where the hour had no successful poll."""
        if len(self.hour) == 0:
            return np.full(np.shape(hours), np.nan)
        idx = np.clip(np.searchsorted(self.hour, hours), 0, len(self.hour) - 1)
        return np.where(self.hour[idx] == hours, self.mean[idx], np.nan)

    @property
    def first_hour(self) -> int | None:
        return int(self.hour[0]) if len(self.hour) else None


def hour_tables(rows: Iterable[tuple[int, str, int, float]]) -> dict[str, HourTable]:
    """Per zone, the table of ``(hour, zone, polls, sum of airborne)`` rows (one row per hour and zone)."""
    listed = list(rows)
    if not listed:
        return {}
    hours, zones, polls, totals = zip(*listed, strict=True)
    hour = np.asarray(hours, dtype=np.int64)
    n = np.asarray(polls, dtype=np.int64)
    total = np.asarray(totals, dtype=np.float64)
    zone = np.asarray(zones, dtype=object)
    out = {}
    for code in dict.fromkeys(zones):
        mine = zone == code
        order = np.argsort(hour[mine], kind="stable")
        h, k = hour[mine][order], n[mine][order]
        out[str(code)] = HourTable(h, total[mine][order] / np.maximum(k, 1), k)
    return out


@dataclass(frozen=True)
class Baseline:
    """What each of a zone's recent polls should have seen, and how that was worked out."""

    expected: npt.NDArray[np.float64]  # per poll; NaN where there is no baseline
    method: str
    window: tuple[datetime, datetime]  # the hours the baseline of the latest poll was drawn from (UTC)
    low_confidence: bool
    samples: int


def _offset(hours: npt.NDArray[np.int64], step: int, before: int | None) -> npt.NDArray[np.int64]:
    """Per hour, the smallest n >= 1 with the hour ``n * step`` earlier wholly before Unix hour
    ``before`` (1 everywhere without it)."""
    if before is None:
        return np.ones_like(hours)
    return np.maximum(1, -(-(hours + 1 - before) // step))


def baseline_for(
    table: HourTable, times: npt.NDArray[np.int64], rules: BaselineRules, before: int | None = None
) -> Baseline | None:
    """The baseline at each of ``times`` (Unix seconds, sorted) from the zone's hourly means, or None
    when the latest has none. ``before``: the Unix second a drop under way began; only hours wholly
    before it are used."""
    if len(times) == 0:
        return None
    hours = times // 3600
    cut = None if before is None else before // 3600
    w0 = _offset(hours, WEEK_H, cut)
    weeks = np.arange(rules.weeks)
    stack = table.at(hours[None, :] - (w0[None, :] + weeks[:, None]) * WEEK_H)
    have = np.count_nonzero(~np.isnan(stack), axis=0)
    if have[-1] >= rules.min_weeks:
        median = _nanmedian(np.where(have >= rules.min_weeks, stack, np.nan))
        last = int(hours[-1])
        first_w, last_w = int(w0[-1]), int(w0[-1]) + rules.weeks - 1
        when = f"the {rules.weeks} weeks before the drop began" if first_w > 1 else f"last {rules.weeks} weeks"
        window = (utc((last - last_w * WEEK_H) * 3600), utc((last - first_w * WEEK_H + 1) * 3600))
        return Baseline(median, f"median, same hour, {when}", window, False, int(have[-1]))
    d0 = _offset(hours, DAY_H, cut)
    day = hours - d0 * DAY_H
    previous = table.at(day)
    first = table.first_hour
    # a full day of history before the hour: the same hour yesterday is a whole hour, not its tail
    previous = np.where((first is not None) & (day > (first if first is not None else 0)), previous, np.nan)
    if np.isnan(previous[-1]):
        return None
    when = "the same hour the day before the drop began" if d0[-1] > 1 else "same hour yesterday"
    window = (utc(int(day[-1]) * 3600), utc((int(day[-1]) + 1) * 3600))
    return Baseline(previous, f"{when} (low confidence: under 4 weeks of history)", window, True, 1)


def occupancy(recent: ZoneSeries) -> tuple[float, bool]:
    """How long an aircraft stays in the zone (the counts' correlation time, seconds), from its last
    day of polls; the default when they cannot tell. The bool says whether it came from the data."""
    day = recent.since(int(recent.time[-1]) - 86_400) if len(recent) else recent
    measured = occupancy_tau(day.time, day.airborne)
    return (measured, True) if measured is not None else (Noise().tau_s, False)


def level_variation(
    tables: Mapping[str, HourTable], taus: Mapping[str, float], reference: int, rules: BaselineRules
) -> tuple[float, bool]:
    """How much the day's level of traffic varies (``phi``: squared coefficient of variation), from
    the ``rules.weeks`` weeks of hourly means before Unix second ``reference`` of every zone in
    ``tables``, pooled (busy days are busy in every zone, and one zone's few aircraft tell little):
    each hour against the median of the other weeks' same hour, less what the aircraft's comings and
    goings explain (``taus``: each zone's correlation time). The bool says whether it came from data."""
    end = reference // 3600
    span = rules.weeks * WEEK_H
    hours = np.arange(end - span, end, dtype=np.int64)
    residuals, levels, poisson = [], [], []
    for zone, table in tables.items():
        block = table.at(hours).reshape(rules.weeks, WEEK_H)
        n = table.n[-WEEK_H:] if len(table.n) else np.array([12])
        per_hour = max(1, int(np.median(n)))
        tau = taus.get(zone, Noise().tau_s)
        # the hour's own comings and goings, for it and for the median of the other weeks it is judged by
        own = window_factor(per_hour, 3600 / per_hour, tau) * (1 + math.pi / (2 * (rules.weeks - 1)))
        for w in range(rules.weeks):
            others = np.delete(block, w, axis=0)
            enough = np.count_nonzero(~np.isnan(others), axis=0) >= max(2, rules.weeks - 2)
            expected = _nanmedian(np.where(enough, others, np.nan))
            use = ~np.isnan(block[w]) & ~np.isnan(expected) & (expected > 0.5)
            residuals.append(block[w][use] - expected[use])
            levels.append(expected[use])
            poisson.append(np.full(int(np.count_nonzero(use)), own))
    if not residuals:
        return DEFAULT_PHI, False
    r, e, q = np.concatenate(residuals), np.concatenate(levels), np.concatenate(poisson)
    if len(r) < MIN_RESIDUALS:
        return DEFAULT_PHI, False
    phi = DEFAULT_PHI
    for _ in range(3):  # drop hours that were no normal traffic (an earlier closure) and refit
        keep = np.abs(r) <= 4 * np.sqrt(q * e + phi * e * e)
        if np.count_nonzero(keep) < MIN_RESIDUALS:
            break
        rk, ek, qk = r[keep], e[keep], q[keep]
        phi = max(PHI_FLOOR, float(np.sum((rk * rk - qk * ek) * ek * ek) / np.sum(ek**4)))
    # the level varies by day, and a few weeks hold few days: take the upper 90 % bound of a variance
    # estimated from that many days (chi-square, normal approximation), not the estimate itself
    phi *= 1 + 1.28 * math.sqrt(2 / (rules.weeks * 7))
    return min(phi, 1.0), True


def _nanmedian(stack: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The median down each column of a few rows, ignoring NaN; NaN for a column of NaN. (numpy's
    nanmedian takes a masked-array path for small inputs that costs ~0.3 ms a call.)"""
    ordered = np.sort(stack, axis=0)  # NaN sort last
    valid = np.count_nonzero(~np.isnan(stack), axis=0)
    lo = np.clip((valid - 1) // 2, 0, None)
    hi = np.clip(valid // 2, 0, None)
    cols = np.arange(stack.shape[1])
    with np.errstate(invalid="ignore"):
        out: npt.NDArray[np.float64] = np.where(valid > 0, (ordered[lo, cols] + ordered[hi, cols]) / 2, np.nan)
    return out


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)
