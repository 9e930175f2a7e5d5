"""Alerts: after each poll, evaluate the rules, write new alerts to the outbox, deliver what is due;
and ``vzmon alerts`` (list, send, test).

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). The order is what
makes delivery trustworthy: every alert is written to the store's outbox (with one pending
delivery per channel) before any channel is tried (``alerts.deliver``). All of this happens under
the store's lock, so overlapping runs never deliver the same alert twice. numpy and SQLite only:
the check runs after every cron poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from monitor.alerts.baseline import CLOCK_SKEW, HISTORY, RECENT, BaselineRules, hour_tables, zone_series
from monitor.alerts.deliver import deliver_due
from monitor.alerts.rules import (
    Alert,
    AlertRules,
    PastAlert,
    Poll,
    ZoneRule,
    episode_start,
    evaluate,
    outage_alert,
    with_events,
)
from monitor.analysis.cadence import infer_interval_s
from monitor.errors import ConfigError
from monitor.events import Event, load_events
from monitor.pipeline.locking import store_lock
from monitor.settings.table import Settings
from monitor.sources.registry import COMBINED, LABELS
from monitor.store.db import Store, from_epoch
from monitor.store.outbox import add_alert, alert_history, recent_alerts
from monitor.store.snapshots import count_rows, first_hour, hour_rows, latest_snapshot, poll_rows

if TYPE_CHECKING:
    from geo.zoneset import ZoneSet

__all__ = ["AlertListing", "AlertRun", "alert_rules", "list_alerts", "run_alerts", "view_judged"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRun:
    new: tuple[str, ...]  # lines of the alerts raised by this run
    delivered: int
    failed: int


def view_judged(settings: Settings, store: Store | None = None, now: datetime | None = None) -> str:
    """The view the drop, zero and recovery rules judge: the combined view when ``collect.sources``
    names several sources, else the one source. Given the store, the combined view only once it has
    the baseline's weeks of history (``alerts.baseline.BaselineRules.min_weeks``); until then the
    first configured source, whose history a newly added source does not reset."""
    if len(settings.collect_sources) < 2:
        return settings.collect_sources[0]
    if store is not None and now is not None:
        first = first_hour(store, COMBINED)
        ready = now - timedelta(weeks=BaselineRules().min_weeks)
        if first is None or first > ready:
            return settings.collect_sources[0]
    return COMBINED


def _view_label(settings: Settings, judged: str) -> str | None:
    """How traffic alerts name the view when several sources are configured (None: one source)."""
    if len(settings.collect_sources) < 2:
        return None
    if judged != COMBINED:
        weeks = BaselineRules().min_weeks
        return f"{LABELS.get(judged, judged)}; the combined view has less than {weeks} weeks of history yet"
    return "combined view of " + ", ".join(LABELS.get(s, s) for s in settings.collect_sources)


def alert_rules(settings: Settings, zone_set: ZoneSet, source: str | None = None, view: bool = False) -> AlertRules:
    """The rules the settings describe for these zones, judging ``source`` (default: the view the
    settings name, :func:`view_judged`); ``view``: the traffic rules' view, named in their lines.
    Raises ConfigError for an unknown zone."""
    zones = settings.alerts_zones or tuple(z.code for z in zone_set.zones if z.kind in ("fir", "ring"))
    default = ZoneRule(settings.alerts_drop_fraction, settings.alerts_consecutive, settings.alerts_min_expected)
    unknown = set(settings.alerts_zone_rules) - set(zone_set.codes)
    if unknown:
        raise ConfigError(
            f"alerts.zone_rules names unknown zone(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(zone_set.codes[:-2])}",
            key="alerts.zone_rules",
        )
    per_zone = {zone: ZoneRule(**{**default.__dict__, **rules}) for zone, rules in settings.alerts_zone_rules.items()}
    fir = zone_set.fir.code
    ordered = (fir, *(z for z in zones if z != fir))
    judged = source or view_judged(settings)
    return AlertRules(
        zones=ordered, default=default, per_zone=per_zone, zero_consecutive=settings.alerts_zero_consecutive,
        zero_min_expected=settings.alerts_zero_min_expected, outage_min=settings.alerts_outage_min,
        cooldown_min=settings.alerts_cooldown_min, budget_per_30d=settings.alerts_false_alarms_per_30d,
        recovery_fraction=settings.alerts_recovery_fraction, source_label=LABELS.get(judged, judged), source=judged,
        view=_view_label(settings, judged) if (view or source is None) else None,
        several=len(settings.collect_sources) > 1,
    )  # fmt: skip


def _events(settings: Settings) -> list[Event]:
    try:
        return load_events(settings.events_file)
    except ConfigError as exc:  # a bad events file must not stop alerts; it only loses their context
        log.warning("alerts: events not quoted: %s", exc)
        return []


def _polls(store: Store, source: str, now: datetime) -> list[Poll]:
    return [
        Poll(sid, t, status, retry)
        for sid, t, status, retry in poll_rows(store, now - timedelta(days=2), now + CLOCK_SKEW, [source])
    ]


def _history(settings: Settings, store: Store, source: str, traffic: bool = False) -> list[PastAlert]:
    """``source``'s alerts; those stored before alerts named their source are the first configured
    source's (the one earlier vzmons judged). ``traffic``: the traffic rules' history, which follows
    the drop under way across the views they judge (the first source until the combined view is
    ready, then the combined view), so a switch never alerts one drop twice or loses its recovery."""
    first = settings.collect_sources[0]
    views = [first, COMBINED] if traffic and len(settings.collect_sources) > 1 else [source]
    rows = alert_history(store, views, legacy=first in views)
    return [PastAlert(kind, zone, t, began) for kind, zone, t, began in rows]


def _last_ok(store: Store, source: str) -> datetime | None:
    last = latest_snapshot(store, ("ok",), [source])
    return from_epoch(last["api_time"]) if last is not None else None


def _traffic_alerts(settings: Settings, store: Store, rules: AlertRules, now: datetime, outage: bool) -> list[Alert]:
    """The rules on the view ``rules.source`` judges (with its outage too when ``outage``)."""
    source = rules.source
    polls = _polls(store, source, now)
    history = _history(settings, store, source, traffic=True)
    rows = count_rows(store, now - RECENT, now + CLOCK_SKEW, source)
    counts = zone_series(rows)  # no successful poll in 30 hours: only the outage rule has anything to judge
    episodes = [e for e in (episode_start(history, z) for z in rules.zones) if e is not None]
    reference = min([now, *episodes])
    hours = hour_tables(hour_rows(store, source, reference - HISTORY - timedelta(days=1), now + CLOCK_SKEW))
    times = np.array([int(p.time.timestamp()) for p in polls], dtype=np.int64)
    interval = settings.report_interval_s or infer_interval_s(times)
    last_hour = sum(1 for p in polls if p.status == "ok" and p.time >= now - timedelta(hours=1))
    coverage = min(1.0, last_hour / max(3600.0 / interval, 1.0))
    return evaluate(
        now, counts, hours, polls, history, (), rules, coverage, last_ok=_last_ok(store, source), judge_outage=outage
    )


def run_alerts(settings: Settings, store: Store, zone_set: ZoneSet, now: datetime) -> AlertRun:
    """Evaluate the rules at ``now`` on the store's recent data, record new alerts, deliver what is
    due. Drops, zeros and recoveries are judged on the view the settings name (:func:`view_judged`);
    outages on each configured source."""
    several = len(settings.collect_sources) > 1
    rules = alert_rules(settings, zone_set, view_judged(settings, store, now), view=True)
    judged: list[tuple[AlertRules, Alert]] = []
    judged += [(rules, a) for a in _traffic_alerts(settings, store, rules, now, outage=not several)]
    for source in settings.collect_sources if several else ():
        mine = alert_rules(settings, zone_set, source)
        history = _history(settings, store, source)
        outage = outage_alert(now, _polls(store, source, now), history, mine, _last_ok(store, source))
        if outage is not None:
            judged.append((mine, outage))
    if judged:  # the events are only their context: read only when there is an alert to quote them in
        quoted = with_events([a for _, a in judged], _events(settings), now)
        judged = [(r, a) for (r, _), a in zip(judged, quoted, strict=True)]
    channels = tuple(settings.alerts_channels)
    new = []
    for r, a in judged:
        added = add_alert(
            store, a.key, a.kind, a.zone, now, a.poll_time, a.observed, a.expected, a.line, a.payload, channels,
            source=r.source,
        )  # fmt: skip
        if added is not None:
            new.append(a.line)
    delivered, failed, _ = deliver_due(settings, store, now)
    return AlertRun(tuple(new), delivered, failed)


@dataclass(frozen=True)
class AlertListing:
    created_at: datetime
    kind: str
    zone: str | None
    line: str
    deliveries: str


def list_alerts(
    settings: Settings, limit: int = 20, send: bool = False, dry_run: bool = False, now: datetime | None = None
) -> tuple[list[AlertListing], list[str]]:
    """Recent alerts with their delivery state; with ``send``, first try the due deliveries
    (under the store's lock; a dry run only lists what would be sent, without the lock)."""
    now = now or datetime.now(UTC)
    attempted: list[str] = []
    if send and not dry_run:  # sending writes the outbox: one writer at a time
        # the store first: a missing store is refused before the lock file could create its folder
        with Store.open_existing(settings.store_db, redact=settings.redact) as store, store_lock(settings):
            _, _, attempted = deliver_due(settings, store, now)
            rows = recent_alerts(store, limit)
    else:  # listing only reads (WAL): it works while `watch` holds the lock
        with Store.open_existing(settings.store_db, redact=settings.redact) as store:
            if send:
                _, _, attempted = deliver_due(settings, store, now, dry_run=True)
            rows = recent_alerts(store, limit)
    listing = [
        AlertListing(from_epoch(r["created_at"]) or now, r["kind"], r["zone"], r["line"], r["deliveries"] or "")
        for r in rows
    ]
    return listing, attempted
