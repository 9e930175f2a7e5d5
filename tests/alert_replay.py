"""Replay a feed's counts through the alert rules, poll by poll, as ``run_alerts`` would see them (the
last ``RECENT`` of counts, the hourly means up to the poll, the alerts raised so far), and score
them: false drop and zero alerts, detection delay, false recoveries, recovery delay, check time.

Used by ``tests/test_alert_replay.py`` at a size CI affords and ``benchmarks/bench_alerts.py`` at
full size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from monitor.alerts.baseline import RECENT, HourTable, ZoneSeries, baseline_for
from monitor.alerts.rules import AlertRules, PastAlert, evaluate
from tests.traffic_model import Replay

__all__ = ["Score", "replay"]


@dataclass(frozen=True)
class Score:
    """One zone's alerts over a replay."""

    zone: str
    normal_days: float
    false_alarms: int  # drop or zero alerts outside the closure
    detection_min: float | None  # from the closure's start to its first drop or zero alert
    false_recoveries: int  # recovery alerts while the closure lasts
    recovery_min: float | None  # from traffic's return (its true mean back at 80 % of the baseline after
    # the closure) to the first recovery alert after the closure ended: negative when the alert came
    # first (the closure ended into a quiet day); None if none came (or traffic never returned)
    returned_min: float | None = None  # from the closure's end to that return

    @property
    def false_per_30d(self) -> float:
        return self.false_alarms * 30 / self.normal_days if self.normal_days else 0.0


def _table(times: np.ndarray, counts: np.ndarray) -> HourTable:
    hours = times // 3600
    unique, first = np.unique(hours, return_index=True)
    n = np.diff(np.append(first, len(hours)))
    total = np.add.reduceat(counts, first)
    return HourTable(unique.astype(np.int64), total / n, n.astype(np.int64))


def replay(
    rep: Replay, rules: AlertRules, evaluate_from: int
) -> tuple[dict[str, Score], list[float], list[tuple[str, str | None, int, dict[str, Any]]]]:
    """Every poll from ``evaluate_from`` judged in order. Returns the scores per zone, the check
    time of each poll (seconds, all zones) and the alerts raised (kind, zone, time, payload)."""
    ids = np.arange(len(rep.times), dtype=np.int64)
    series = {z: ZoneSeries(ids, rep.times, c) for z, c in rep.counts.items()}
    tables = {z: _table(rep.times, c) for z, c in rep.counts.items()}
    history: list[PastAlert] = []
    raised: list[tuple[str, str | None, int, dict[str, Any]]] = []
    timings: list[float] = []
    recent = int(RECENT.total_seconds())
    first = int(np.searchsorted(rep.times, evaluate_from))
    for i in range(first, len(rep.times)):
        t = int(rep.times[i])
        lo = int(np.searchsorted(rep.times, t - recent))
        counts = {
            z: ZoneSeries(s.snapshot_id[lo : i + 1], s.time[lo : i + 1], s.airborne[lo : i + 1])
            for z, s in series.items()
        }
        hours = {}
        for z, tab in tables.items():
            k = int(np.searchsorted(tab.hour, t // 3600, side="right"))
            hours[z] = HourTable(tab.hour[:k], tab.mean[:k], tab.n[:k])
        now = datetime.fromtimestamp(t, UTC)
        started = time.perf_counter()
        alerts = evaluate(now, counts, hours, [], history, [], rules, 1.0, last_ok=now)
        timings.append(time.perf_counter() - started)
        for a in alerts:
            began = a.payload.get("began")
            history.append(
                PastAlert(
                    a.kind,
                    a.zone,
                    now,
                    datetime.strptime(began, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if began else None,
                )
            )
            raised.append((a.kind, a.zone, t, a.payload))
    normal_s = float(rep.times[-1] - rep.times[first])
    if rep.closure is not None:
        normal_s -= rep.closure[1] - rep.closure[0]
    scores = {}
    for zone in rep.counts:
        mine = [(k, t) for k, z, t, _ in raised if z == zone]
        inside = (lambda t: rep.closure[0] <= t < rep.closure[1]) if rep.closure else (lambda t: False)
        false = [t for k, t in mine if k in ("drop", "zero") and not inside(t)]
        hits = [t for k, t in mine if k in ("drop", "zero") and inside(t)]
        fake_back = [t for k, t in mine if k == "recovery" and inside(t)]
        returned = _return(rep, zone, tables[zone], rules)
        back = [t for k, t in mine if k == "recovery" and rep.closure is not None and t >= rep.closure[1]]
        scores[zone] = Score(
            zone=zone,
            normal_days=normal_s / 86_400,
            false_alarms=len(false),
            detection_min=(hits[0] - rep.closure[0]) / 60 if hits and rep.closure else None,
            false_recoveries=len(fake_back),
            recovery_min=(back[0] - returned) / 60 if back and returned is not None else None,
            returned_min=(returned - rep.closure[1]) / 60 if returned is not None and rep.closure else None,
        )
    return scores, timings, raised


RETURNED = 0.8  # traffic is back when its true mean is at 80 % of the pre-closure baseline ...
SUSTAINED_S = 3600  # ... and stays there for an hour


def _return(rep: Replay, zone: str, table: HourTable, rules: AlertRules) -> int | None:
    """When traffic came back after the closure: the first poll from which the true mean stays at
    least ``RETURNED`` of the pre-closure baseline for ``SUSTAINED_S`` (a quiet day after a closure,
    hovering around that share, may never get there: then no recovery is owed)."""
    if rep.closure is None:
        return None
    after = rep.times >= rep.closure[1]
    times = rep.times[after]
    base = baseline_for(table, times, rules.baseline, before=rep.closure[0])
    if base is None:
        return None
    above = rep.means[zone][after] >= RETURNED * base.expected
    for k in np.flatnonzero(above):
        until = int(np.searchsorted(times, times[k] + SUSTAINED_S, side="right"))
        if above[k:until].all() and times[until - 1] - times[k] >= SUSTAINED_S - 600:
            return int(times[k])
    return None
