"""The baseline an alert judges a count against, and the spans of counts it needs. numpy only.

Place in the flow: ``alerts.rules`` asks :func:`baseline_at` what a zone's airborne count should be
at a poll; ``pipeline.alerts`` reads only the spans :func:`count_spans` names from the store, so a
poll's check stays fast on a store that has run for months. Times are tz-aware UTC in the API and
whole Unix seconds inside :class:`ZoneSeries`.

The baseline: the median, over the previous 4 weeks, of the mean airborne count in the same hour
of the week (at least 3 of the 4 weeks with data). With less history: the same hour yesterday,
flagged low-confidence; using the same hour keeps the daily cycle from raising false alarms at
night. With less than 24 hours of history: none at all. While a drop is under way the baseline is
taken from before it began (``before``), so a closure that lasts weeks never becomes its own
baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

__all__ = [
    "CLOCK_SKEW",
    "Baseline",
    "BaselineRules",
    "ZoneSeries",
    "baseline_at",
    "count_spans",
    "floor_hour",
    "utc",
    "zone_series",
]

WEEK = timedelta(days=7)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=10)  # the API's clock may run ahead of ours: read a little past "now"


@dataclass(frozen=True)
class BaselineRules:
    weeks: int = 4  # weeks of the same hour the median is taken over
    min_weeks: int = 3  # of which at least this many must have data


@dataclass(frozen=True)
class Baseline:
    expected: float
    method: str
    window: tuple[datetime, datetime]  # the span the baseline was drawn from (UTC)
    low_confidence: bool
    samples: int


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

    def before(self, t: datetime) -> ZoneSeries:
        """The counts strictly before ``t``."""
        return self.head(int(np.searchsorted(self.time, int(t.timestamp()), side="left")))

    def hour_mean(self, start: datetime) -> float | None:
        """The mean count in ``[start, start + 1 h)``, None without a snapshot there."""
        s = int(start.timestamp())
        lo, hi = np.searchsorted(self.time, [s, s + 3600], side="left")
        return float(self.airborne[lo:hi].mean()) if hi > lo else None


def zone_series(rows: Iterable[tuple[int, int, str, float]]) -> dict[str, ZoneSeries]:
    """Per zone, the counts of ``(snapshot_id, time_s, zone, airborne)`` rows, sorted by time (a
    snapshot read twice, from overlapping spans, counts once)."""
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


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _first_offset(slot: datetime, step: timedelta, before: datetime | None) -> int:
    """The smallest n >= 1 with the hour ``slot - n * step`` wholly before ``before`` (1 without it)."""
    if before is None or slot + HOUR - step <= before:
        return 1
    return max(1, math.ceil((slot + HOUR - before) / step))


def baseline_at(
    series: ZoneSeries, at: datetime, rules: BaselineRules, before: datetime | None = None
) -> Baseline | None:
    """The expected airborne count at ``at`` from a zone's earlier successful snapshots, or None.

    ``series``: the zone's counts before ``at``. ``before``: the start of a drop under way; only
    hours wholly before it are used.
    """
    slot = floor_hour(at)
    w0 = _first_offset(slot, WEEK, before)
    weeks = range(w0, w0 + rules.weeks)
    weekly = [m for w in weeks if (m := series.hour_mean(slot - w * WEEK)) is not None]
    if len(weekly) >= rules.min_weeks:
        when = f"the {rules.weeks} weeks before the drop began" if w0 > 1 else f"last {rules.weeks} weeks"
        return Baseline(
            float(np.median(weekly)),
            f"median, same hour, {when}",
            (slot - weeks[-1] * WEEK, slot - weeks[0] * WEEK + HOUR),
            False,
            len(weekly),
        )
    d0 = _first_offset(slot, DAY, before)
    day_slot = slot - d0 * DAY
    if len(series) and series.time[0] <= int((day_slot + (at - slot)).timestamp()):
        previous = series.hour_mean(day_slot)
        if previous is not None:
            when = "the same hour the day before the drop began" if d0 > 1 else "same hour yesterday"
            return Baseline(
                previous,
                f"{when} (low confidence: under 4 weeks of history)",
                (day_slot, day_slot + HOUR),
                True,
                1,
            )
    return None


def count_spans(
    first: datetime, now: datetime, rules: BaselineRules, before: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """The spans of zone counts the rules need to judge the polls from ``first`` to ``now``.

    The polls themselves, and the hours their baselines draw on: the same hours 1 to ``weeks``
    weeks earlier and 24 hours earlier, and, when a drop is under way since ``before``, the same
    hours in the weeks and on the day before it began. Reading only these (a few thousand rows)
    instead of weeks of counts keeps a poll's alert check fast on a store that has run for months.
    """
    lo, hi = floor_hour(first), floor_hour(now) + HOUR
    spans = [(first, now + CLOCK_SKEW)]
    starts = {1} if before is None else {1, _first_offset(lo, WEEK, before), _first_offset(hi - HOUR, WEEK, before)}
    weeks = sorted({w for w0 in starts for w in range(w0, w0 + rules.weeks)})
    spans += [(lo - w * WEEK, hi - w * WEEK) for w in weeks]
    days = {1} if before is None else {1, _first_offset(lo, DAY, before), _first_offset(hi - HOUR, DAY, before)}
    spans += [(lo - d * DAY, hi - d * DAY) for d in sorted(days)]
    return spans


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)
