"""Alert rules: recent zone counts and poll outcomes in, :class:`Alert` objects out. Pure; no I/O;
numpy only (the check runs after every cron poll, which never loads pandas).

Place in the flow: after every poll (``collect``, ``watch``), ``pipeline.alerts`` reads the recent
counts (:class:`~monitor.alerts.baseline.ZoneSeries`), polls and alert history from the store and
calls :func:`evaluate`; new alerts go to the store's outbox, and ``alerts.deliver`` delivers them.

Rules (thresholds in :class:`AlertRules`, per zone where it makes sense):
- **drop**: a zone's airborne count stays below ``drop_fraction`` (50 %) of its baseline for
  ``consecutive`` (3) successful polls in a row, where the baseline expects at least
  ``min_expected`` aircraft. **zero**: no airborne aircraft in the FIR for ``zero_consecutive``
  polls where the baseline expects at least ``zero_min_expected``. One alert per episode.
- **recovery**: after a drop or zero, back at or above the threshold for ``consecutive`` polls,
  judged only where the baseline expects at least the rule's minimum (so the night's few
  aircraft never look like a recovery); once.
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
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor.alerts.baseline import Baseline, BaselineRules, ZoneSeries, baseline_at, utc
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
    "with_events",
]

KINDS = ("drop", "zero", "recovery", "outage", "outage_end", "test")


@dataclass(frozen=True)
class ZoneRule:
    drop_fraction: float = 0.5
    consecutive: int = 3
    min_expected: float = 5.0
    enabled: bool = True


@dataclass(frozen=True)
class AlertRules:
    zones: tuple[str, ...]  # zones watched, the FIR first
    default: ZoneRule = ZoneRule()
    per_zone: Mapping[str, ZoneRule] = field(default_factory=dict)
    zero_consecutive: int = 2
    zero_min_expected: float = 3.0
    outage_min: float = 30.0
    cooldown_min: float = 360.0
    baseline: BaselineRules = field(default_factory=BaselineRules)

    def rule(self, zone: str) -> ZoneRule:
        return self.per_zone.get(zone, self.default)

    @property
    def polls_judged(self) -> int:
        """How many recent successful polls a check looks at (the longest run any rule needs)."""
        return max([self.default.consecutive, self.zero_consecutive, *(r.consecutive for r in self.per_zone.values())])


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    zone: str | None
    poll_time: datetime
    line: str
    payload: dict[str, Any]
    observed: float | None = None
    expected: float | None = None


@dataclass(frozen=True)
class PastAlert:
    kind: str
    zone: str | None
    created_at: datetime


@dataclass(frozen=True)
class Poll:
    snapshot_id: int
    time: datetime
    status: str
    retry_at: datetime | None


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def episode_start(past: Sequence[PastAlert], zone: str) -> datetime | None:
    """When the drop (or zero) under way in ``zone`` was first alerted; None if none is."""
    ended = max((a.created_at for a in past if a.kind == "recovery" and a.zone == zone), default=None)
    starts = [
        a.created_at
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
            reason = f"OpenSky rate limit{until}"
        elif last_ok is None:
            reason = f"no successful poll yet, trying since {_iso(since)}"
        else:
            reason = f"no successful poll since {_iso(since)}"
        line = (
            f"vzmon is blind: {reason} ({(now - since).total_seconds() / 60:.0f} min without new data). "
            "This is a monitoring outage, not a traffic drop."
        )
        return Alert(f"outage:{int(since.timestamp())}", "outage", None, now, line, {
            "kind": "outage", "reason": reason, "last_successful_poll": _iso(last_ok) if last_ok else None,
            "poll_time": _iso(now), "rate_limited": rate_limited,
        })  # fmt: skip
    if on and latest.status == "ok":
        line = f"vzmon sees again: successful poll at {_iso(latest.time)} after an outage."
        return Alert(
            f"outage_end:{latest.snapshot_id}",
            "outage_end",
            None,
            latest.time,
            line,
            {"kind": "outage_end", "poll_time": _iso(latest.time)},
        )
    return None


def _traffic(
    zone: str,
    is_fir: bool,
    mine: ZoneSeries | None,
    history: _History,
    rules: AlertRules,
    coverage: float,
) -> Alert | None:
    rule = rules.rule(zone)
    if not rule.enabled or mine is None or len(mine) == 0:
        return None
    need = max(rule.consecutive, rules.zero_consecutive if is_fir else 0)
    recent = range(max(0, len(mine) - need), len(mine))
    episode = episode_start(history.past, zone)
    judged: list[tuple[float, Baseline | None]] = []
    for k in recent:
        t = utc(mine.time[k])
        judged.append((float(mine.airborne[k]), baseline_at(mine.before(t), t, rules.baseline, before=episode)))
    observed, base = judged[-1]
    if base is None:
        return None  # under 24 hours of history: never an alert, never a false alarm
    snapshot = int(mine.snapshot_id[-1])
    at = utc(mine.time[-1])
    below = [
        b is not None and b.expected >= rule.min_expected and o < rule.drop_fraction * b.expected for o, b in judged
    ][-rule.consecutive :]
    zeros = [b is not None and b.expected >= rules.zero_min_expected and o == 0 for o, b in judged][
        -rules.zero_consecutive :
    ]
    zero_on = history.active(["zero"], "recovery", zone)
    floor = rules.zero_min_expected if zero_on else rule.min_expected  # judge recovery where the alert was judged
    above = [b is not None and b.expected >= floor and o >= rule.drop_fraction * b.expected for o, b in judged][
        -rule.consecutive :
    ]
    dropped = episode is not None
    change = observed / base.expected - 1 if base.expected > 0 else None
    payload: dict[str, Any] = {
        "zone": zone, "observed": observed, "expected": round(base.expected, 2),
        "change": None if change is None else round(change, 4),
        "baseline": {"method": base.method, "window": [_iso(base.window[0]), _iso(base.window[1])],
                     "low_confidence": base.low_confidence, "samples": base.samples},
        "poll_time": _iso(at), "coverage": {"last_hour": round(coverage, 3)},
        "threshold": round(rule.drop_fraction * base.expected, 2), "consecutive_polls": rule.consecutive,
    }  # fmt: skip
    describe = (
        f"{zone}: {observed:.0f} aircraft airborne at {at:%H:%M} UTC, expected {base.expected:.0f} ({base.method})"
    )
    zero_now = len(zeros) == rules.zero_consecutive and all(zeros)
    if is_fir and zero_now and not zero_on and not history.cooling(["zero"], zone):
        line = f"{describe}: NO aircraft for {rules.zero_consecutive} polls in a row"
        return Alert(
            f"zero:{zone}:{snapshot}", "zero", zone, at, line, {"kind": "zero", **payload}, observed, base.expected
        )
    if len(below) == rule.consecutive and all(below) and not dropped and not history.cooling(["drop"], zone):
        pct = f"down {abs(change) * 100:.0f}%" if change is not None else "down"
        return Alert(
            f"drop:{zone}:{snapshot}",
            "drop",
            zone,
            at,
            f"{describe}: {pct}",
            {"kind": "drop", **payload},
            observed,
            base.expected,
        )
    if dropped and len(above) == rule.consecutive and all(above):
        line = (
            f"{describe}: recovered, at or above {rule.drop_fraction:.0%} of the baseline for {rule.consecutive} polls"
        )
        return Alert(
            f"recovery:{zone}:{snapshot}",
            "recovery",
            zone,
            at,
            line,
            {"kind": "recovery", **payload},
            observed,
            base.expected,
        )
    return None


def evaluate(
    now: datetime,
    counts: Mapping[str, ZoneSeries],
    polls: Sequence[Poll],
    history: Sequence[PastAlert],
    events: Sequence[Event],
    rules: AlertRules,
    coverage_last_hour: float,
    last_ok: datetime | None = None,
) -> list[Alert]:
    """New alerts at ``now``.

    ``counts``: per zone, the ok snapshots' airborne counts up to ``now``, covering at least
    ``alerts.baseline.count_spans`` for the polls judged. ``polls``: recent attempts in time
    order. ``history``: earlier alerts (at least the latest of each kind and zone).
    ``coverage_last_hour``: share of expected polls that succeeded. ``last_ok``: time of the last
    successful poll ever stored (None: there was none).
    """
    past = _History(history, now, timedelta(minutes=rules.cooldown_min))
    alerts = [a for a in [_outage(now, polls, last_ok, past, rules)] if a is not None]
    for i, zone in enumerate(rules.zones):
        alert = _traffic(zone, i == 0, counts.get(zone), past, rules, coverage_last_hour)
        if alert is not None:
            alerts.append(alert)
    return with_events(alerts, events, now)


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
