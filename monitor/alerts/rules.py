"""Alert rules: recent zone counts and poll outcomes in, :class:`Alert` objects out. Pure; no I/O;
numpy only (the check runs after every cron poll, which never loads pandas).

Place in the flow: after every poll (``collect``, ``watch``), ``pipeline.alerts`` reads the recent
counts (:class:`~monitor.alerts.baseline.ZoneSeries`), polls and alert history from the store and
calls :func:`evaluate`; new alerts go to the store's outbox, and ``alerts.deliver`` delivers them.

Rules (thresholds in :class:`AlertRules`, per zone where it makes sense):
- **drop**: a window of a zone's recent polls (15 minutes to 6 hours, at least ``consecutive``
  polls) where the baseline expects at least ``min_expected`` aircraft saw at most
  ``drop_fraction`` (50 %) of them, and that is less likely under normal traffic than its share of
  the false-alarm budget (``budget_per_30d`` false alarms per zone per 30 days): a statistical test
  whose method is named in the alert (``alerts.detect``). Few aircraft at night need a longer
  window to be sure, many by day a short one. Or a run of ``consecutive`` such polls (on a day
  busier than the baseline, at most half of the day's level) that began with a fall no aircraft
  coming and going explains (the survivors of the poll before, ``alerts.step``). **zero**: the
  FIR's last ``zero_consecutive`` or more polls saw no aircraft where the baseline expects at least
  ``zero_min_expected``, judged the same way. One alert per episode.
- **recovery**: after a drop or zero, a window after the drop began, from its first poll back above
  ``drop_fraction`` of the pre-drop baseline, consistent with traffic back at ``recovery_fraction``
  (80 %) of it, and very unlikely had traffic stayed down: at ``drop_fraction`` of the baseline,
  or at the level it had in the six hours before the window (each test with its own budget of
  false recoveries, ``alerts.detect``): sustained evidence of return, so one busy poll in a
  closure is not a recovery, while a deep closure's end can be seen within the hour. The level test
  counts only for a window above the drop line on the line's own test (``alerts.detect``): a
  partial reopening rises too. One per episode.
- **outage**: no successful poll for ``outage_min`` minutes (counted from the last successful
  poll ever stored, or from the first attempt on a fresh store), or the account is rate-limited.
  Never reported as a traffic drop; **outage_end** when data flows again. No cooldown: the
  ``outage_min`` wait already keeps a flapping network to one alert per outage.
- **baseline**: ``alerts.baseline``. With less than 24 hours of history: no drop or zero alert at
  all. While a drop is under way the baseline is taken from before it began, so a closure that
  lasts weeks never becomes its own baseline and never "recovers" by the median sinking to it.
- **cooldown**: per rule and zone: after a drop (or zero) alert, no new drop (or zero) alert for
  ``cooldown_min`` minutes, so a flapping count is one alert, not many. A zero while a drop is
  under way is still reported: it is worse news.

Alert keys are deterministic (kind, zone, triggering snapshot or episode), so evaluating the same
poll twice never makes a second alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.alerts.baseline import (
    HourTable,
    ZoneSeries,
    baseline_for,
    level_variation,
    occupancy,
    utc,
)
from monitor.alerts.detect import (
    DROP_TESTS,
    Evidence,
    Noise,
    drop_evidence,
    lower_tail,
    recovery_evidence,
    window_factor,
)
from monitor.alerts.detect import alpha as alpha_for
from monitor.alerts.model import KINDS, Alert, AlertRules, PastAlert, Poll, ZoneRule
from monitor.alerts.step import step_evidence
from monitor.events import Event

__all__ = [
    "KINDS",
    "Alert",
    "AlertRules",
    "PastAlert",
    "Poll",
    "ZoneRule",
    "episode_start",
    "evaluate",
    "outage_alert",
    "with_events",
]


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def episode_start(past: Sequence[PastAlert], zone: str) -> datetime | None:
    """When the drop (or zero) under way in ``zone`` began (the start of the window that established
    it, else when it was alerted); None if none is under way."""
    ended = max((a.created_at for a in past if a.kind == "recovery" and a.zone == zone), default=None)
    starts = [
        a.began or a.created_at
        for a in past
        if a.kind in ("drop", "zero") and a.zone == zone and (ended is None or a.created_at > ended)
    ]
    return min(starts, default=None)


class _History:
    """The latest alert of each kind and zone (all the rules need), with the questions they ask of it."""

    def __init__(self, past: Sequence[PastAlert], now: datetime, cooldown: timedelta) -> None:
        self.past = sorted(past, key=lambda a: a.created_at)
        self.now = now
        self.cooldown = cooldown

    def last(self, kinds: Sequence[str], zone: str | None) -> PastAlert | None:
        return next((a for a in reversed(self.past) if a.kind in kinds and a.zone == zone), None)

    def active(self, start_kinds: Sequence[str], end_kind: str, zone: str | None) -> bool:
        began, ended = self.last(start_kinds, zone), self.last([end_kind], zone)
        return began is not None and (ended is None or ended.created_at < began.created_at)

    def cooling(self, kinds: Sequence[str], zone: str | None) -> bool:
        prev = self.last(kinds, zone)
        return prev is not None and self.now - prev.created_at < self.cooldown


def _outage(
    now: datetime,
    polls: Sequence[Poll],
    last_ok: datetime | None,
    history: _History,
    rules: AlertRules,
) -> Alert | None:
    if not polls:
        return None
    latest = polls[-1]
    rate_limited = latest.status in ("rate_limited", "skipped")
    since = last_ok or polls[0].time  # a fresh store: blind only once it has tried for outage_min
    blind = now - since > timedelta(minutes=rules.outage_min)
    on = history.active(["outage"], "outage_end", None)
    if (rate_limited or blind) and not on:
        if rate_limited:
            until = f" until {_iso(latest.retry_at)}" if latest.retry_at else ""
            reason = f"{rules.source_label} rate limit{until}"
        elif last_ok is None:
            reason = f"no successful poll yet, trying since {_iso(since)}"
        else:
            reason = f"no successful poll since {_iso(since)}"
        blind_to = f"vzmon is blind to {rules.source_label}" if rules.several else "vzmon is blind"
        line = (
            f"{blind_to}: {reason} ({(now - since).total_seconds() / 60:.0f} min without new data). "
            "This is a monitoring outage, not a traffic drop."
        )
        return Alert(f"outage:{rules.source}:{int(since.timestamp())}", "outage", None, now, line, {
            "kind": "outage", "reason": reason, "last_successful_poll": _iso(last_ok) if last_ok else None,
            "poll_time": _iso(now), "rate_limited": rate_limited, "source": rules.source,
        })  # fmt: skip
    if on and latest.status == "ok":
        line = f"vzmon sees again: successful poll of {rules.source_label} at {_iso(latest.time)} after an outage."
        return Alert(
            f"outage_end:{latest.snapshot_id}",
            "outage_end",
            None,
            latest.time,
            line,
            {"kind": "outage_end", "poll_time": _iso(latest.time), "source": rules.source},
        )
    return None


def _method(evidence: Evidence, noise: Noise) -> dict[str, Any]:
    """The test behind an alert, as its payload states it."""
    test, step = "negative binomial (gamma-Poisson) tail, mid-p; alerts.detect", {}
    if evidence.step is not None:  # the step test (alerts.step): the fall, and its own tail
        fall = evidence.step
        test = "binomial survivors of the poll before, mid-p; alerts.step"
        step = {"step": {**fall._asdict(), "survival_per_poll": round(fall.survival_per_poll, 3),
                         "day_level": round(fall.day_level, 3)}}  # fmt: skip
    return {
        "test": test,
        "compared": evidence.test,
        "window": [_iso(utc(evidence.start)), _iso(utc(evidence.end))],
        "polls": evidence.polls,
        "mean_observed": round(evidence.observed, 2),
        "mean_expected": round(evidence.expected, 2),
        "p": float(f"{evidence.p:.3g}"),
        "alpha": float(f"{evidence.alpha:.3g}"),
        "occupancy_tau_min": round(noise.tau_s / 60, 1),
        "tau_from_data": noise.tau_from_data,
        "level_cv": round(noise.phi**0.5, 3),
        "level_cv_from_data": noise.phi_from_data,
        **step,
    }


def _zero_run(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    noise: Noise,
    rules: AlertRules,
    low_confidence: bool,
) -> Evidence | None:
    """The trailing run of polls with no aircraft, when it is long and unlikely enough for a zero alert."""
    nonzero = np.flatnonzero(counts != 0)
    lo = int(nonzero[-1]) + 1 if len(nonzero) else 0
    n = len(counts) - lo
    if n < rules.zero_consecutive:
        return None
    due = float(expected[lo:].mean())
    if due < rules.zero_min_expected:
        return None
    step = float(np.median(np.diff(times))) if len(times) > 1 else 300.0
    q = window_factor(n, step, noise.tau_s)
    phi = noise.phi * (2.0 if low_confidence else 1.0)
    p = lower_tail(0.0, due / q, 1.0 / phi, 1.0 / phi)
    span = max(int(times[-1] - times[lo]), int(step))
    limit = alpha_for(rules.budget_per_30d, span, noise.tau_s, DROP_TESTS)
    return Evidence(int(times[lo]), int(times[-1]), n, 0.0, due, p, limit, "baseline") if p < limit else None


def _traffic(
    zone: str,
    is_fir: bool,
    mine: ZoneSeries | None,
    table: HourTable | None,
    noise: Noise,
    history: _History,
    rules: AlertRules,
    coverage: float,
) -> Alert | None:
    rule = rules.rule(zone)
    if not rule.enabled or mine is None or len(mine) == 0 or table is None:
        return None
    episode = episode_start(history.past, zone)
    began = int(episode.timestamp()) if episode is not None else None
    base = baseline_for(table, mine.time, rules.baseline, before=began)
    if base is None:
        return None  # under 24 hours of history: never an alert, never a false alarm
    known = ~np.isnan(base.expected)
    times, counts, expected = mine.time[known], mine.airborne[known], base.expected[known]
    if len(times) == 0 or times[-1] != mine.time[-1]:
        return None
    snapshot = int(mine.snapshot_id[-1])
    at = utc(int(times[-1]))
    observed, due = float(counts[-1]), float(expected[-1])
    zero_on = history.active(["zero"], "recovery", zone)
    dropped = episode is not None

    def alert(kind: str, evidence: Evidence, line: str) -> Alert:
        change = evidence.observed / evidence.expected - 1 if evidence.expected > 0 else None
        payload: dict[str, Any] = {
            "kind": kind, "zone": zone, "observed": observed, "expected": round(due, 2),
            "change": None if change is None else round(change, 4),
            "baseline": {"method": base.method, "window": [_iso(base.window[0]), _iso(base.window[1])],
                         "low_confidence": base.low_confidence, "samples": base.samples},
            "method": _method(evidence, noise), "began": _iso(utc(evidence.start)),
            "poll_time": _iso(at), "coverage": {"last_hour": round(coverage, 3)},
            "threshold": round(rule.drop_fraction * due, 2), "consecutive_polls": rule.consecutive,
            "source": rules.source,
        }  # fmt: skip
        return Alert(f"{kind}:{zone}:{snapshot}", kind, zone, at, line, payload, observed, due)

    seen = f" ({rules.view})" if rules.view else ""
    describe = f"{zone}{seen}: {observed:.0f} aircraft airborne at {at:%H:%M} UTC, expected {due:.0f} ({base.method})"
    if is_fir and not zero_on and not history.cooling(["zero"], zone):
        zero = _zero_run(times, counts, expected, noise, rules, base.low_confidence)
        if zero is not None:
            line = f"{describe}: NO aircraft for {zero.polls} polls in a row ({_evidence_text(zero)})"
            return alert("zero", zero, line)
    ended = history.last(["recovery"], zone)
    fresh = times > int(ended.created_at.timestamp()) if ended is not None else np.ones(len(times), dtype=bool)
    if not dropped and not history.cooling(["drop"], zone) and np.any(fresh):
        # a new drop is judged on the polls since the last episode ended, never on the closure itself
        drop = drop_evidence(
            times[fresh], counts[fresh], expected[fresh], noise, drop_fraction=rule.drop_fraction,
            min_polls=rule.consecutive, min_expected=rule.min_expected, budget_per_30d=rules.budget_per_30d,
            low_confidence=base.low_confidence,
        ) or step_evidence(
            times[fresh], counts[fresh], expected[fresh], noise, drop_fraction=rule.drop_fraction,
            min_polls=rule.consecutive, min_expected=rule.min_expected, budget_per_30d=rules.budget_per_30d,
        )  # fmt: skip
        if drop is not None:
            pct = f"down {(1 - drop.observed / drop.expected) * 100:.0f}%"
            return alert("drop", drop, f"{describe}: {pct} ({_evidence_text(drop)})")
    if dropped and began is not None:
        back = recovery_evidence(
            times, counts, expected, noise, began=began, drop_fraction=rule.drop_fraction,
            recovery_fraction=rules.recovery_fraction, min_polls=rule.consecutive,
        )  # fmt: skip
        if back is not None:
            line = (
                f"{describe}: recovered, {back.observed / back.expected:.0%} of the baseline over the last "
                f"{_span(back)} ({back.polls} polls), above {rules.recovery_fraction:.0%}"
            )
            return alert("recovery", back, line)
    return None


def _span(e: Evidence) -> str:
    minutes = max(1, round(e.window_s / 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.0f} h"


def _evidence_text(e: Evidence) -> str:
    fell = ""
    if e.step is not None:
        f = e.step
        busy = f", on a day at {f.day_level:.0%} of the baseline" if f.day_level > 1 else ""
        fell = (
            f"from {f.poll_before} to {f.first_low_poll} aircraft in one poll, "
            f"where {f.survival_per_poll:.0%} stay a poll{busy}; "
        )
    return (
        f"{fell}mean {e.observed:.1f} against {e.expected:.1f} over {_span(e)}, {e.polls} polls; "
        f"p = {e.p:.1g} {'vs ' + e.test if e.test != 'baseline' else ''}".rstrip()
    )


def evaluate(
    now: datetime,
    counts: Mapping[str, ZoneSeries],
    hours: Mapping[str, HourTable],
    polls: Sequence[Poll],
    history: Sequence[PastAlert],
    events: Sequence[Event],
    rules: AlertRules,
    coverage_last_hour: float,
    last_ok: datetime | None = None,
    judge_outage: bool = True,
) -> list[Alert]:
    """New alerts at ``now``.

    ``counts``: per zone, the ok snapshots' airborne counts up to ``now``, covering at least
    ``alerts.baseline.RECENT``. ``hours``: per zone, the hourly means of ``alerts.baseline.HISTORY``
    before the reference time (now, or when a drop under way began) and up to now. ``polls``:
    recent attempts in time order. ``history``: earlier alerts (at least the latest of each kind
    and zone).
    ``coverage_last_hour``: share of expected polls that succeeded. ``last_ok``: time of the last
    successful poll ever stored (None: there was none). ``judge_outage`` False: traffic only (the
    combined view is no source to be blind to; each source's outage is judged by
    :func:`outage_alert`).
    """
    past = _History(history, now, timedelta(minutes=rules.cooldown_min))
    outage = _outage(now, polls, last_ok, past, rules) if judge_outage else None
    alerts = [a for a in [outage] if a is not None]
    taus = {z: occupancy(series) for z, series in counts.items() if z in rules.zones and len(series)}
    starts = [e for e in (episode_start(past.past, z) for z in rules.zones) if e is not None]
    reference = int(min([now, *starts]).timestamp())
    watched = {z: t for z, t in hours.items() if z in rules.zones}
    phi, phi_from_data = level_variation(watched, {z: t for z, (t, _) in taus.items()}, reference, rules.baseline)
    for i, zone in enumerate(rules.zones):
        tau, tau_from_data = taus.get(zone, (Noise().tau_s, False))
        noise = Noise(tau, phi, tau_from_data, phi_from_data)
        alert = _traffic(zone, i == 0, counts.get(zone), hours.get(zone), noise, past, rules, coverage_last_hour)
        if alert is not None:
            alerts.append(alert)
    return with_events(alerts, events, now)


def outage_alert(
    now: datetime, polls: Sequence[Poll], history: Sequence[PastAlert], rules: AlertRules, last_ok: datetime | None
) -> Alert | None:
    """The outage (or outage-end) alert of one source at ``now``, if any: ``polls`` and ``history``
    are that source's own (``rules.source``)."""
    return _outage(now, polls, last_ok, _History(history, now, timedelta(minutes=rules.cooldown_min)), rules)


TRAFFIC_KINDS = ("drop", "zero", "recovery")


def with_events(alerts: Sequence[Alert], events: Sequence[Event], now: datetime) -> list[Alert]:
    """``alerts`` with the events of the 48 hours before ``now`` quoted: in every payload
    (``events_last_48h``) and at the end of a traffic alert's line. The events are context, not
    part of the decision, so a poll that raises nothing never needs to read them."""
    recent = [e.id for e in events if now - timedelta(hours=48) <= e.time <= now]
    context = f" (events in the last 48 h: {', '.join(recent)})" if recent else ""
    return [
        replace(
            a,
            line=a.line + (context if a.kind in TRAFFIC_KINDS else ""),
            payload={**a.payload, "events_last_48h": recent},
        )
        for a in alerts
    ]
