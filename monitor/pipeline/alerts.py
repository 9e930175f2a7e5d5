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

from monitor.alerts.baseline import CLOCK_SKEW, HISTORY, RECENT, hour_tables, zone_series
from monitor.alerts.deliver import deliver_due
from monitor.alerts.rules import AlertRules, PastAlert, Poll, ZoneRule, episode_start, evaluate, with_events
from monitor.analysis.cadence import infer_interval_s
from monitor.errors import ConfigError
from monitor.events import Event, load_events
from monitor.pipeline.locking import store_lock
from monitor.settings.table import Settings
from monitor.sources.registry import LABELS
from monitor.store.db import Store, from_epoch
from monitor.store.outbox import add_alert, alert_history, recent_alerts
from monitor.store.snapshots import count_rows, hour_rows, latest_snapshot, poll_rows

if TYPE_CHECKING:
    from geo.zoneset import ZoneSet

__all__ = ["AlertListing", "AlertRun", "alert_rules", "list_alerts", "run_alerts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertRun:
    new: tuple[str, ...]  # lines of the alerts raised by this run
    delivered: int
    failed: int


def alert_rules(settings: Settings, zone_set: ZoneSet) -> AlertRules:
    """The rules the settings describe for these zones. Raises ConfigError for an unknown zone."""
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
    return AlertRules(
        zones=ordered, default=default, per_zone=per_zone, zero_consecutive=settings.alerts_zero_consecutive,
        zero_min_expected=settings.alerts_zero_min_expected, outage_min=settings.alerts_outage_min,
        cooldown_min=settings.alerts_cooldown_min, budget_per_30d=settings.alerts_false_alarms_per_30d,
        recovery_fraction=settings.alerts_recovery_fraction,
        source_label=LABELS.get(settings.collect_sources[0], settings.collect_sources[0]),
    )  # fmt: skip


def _events(settings: Settings) -> list[Event]:
    try:
        return load_events(settings.events_file)
    except ConfigError as exc:  # a bad events file must not stop alerts; it only loses their context
        log.warning("alerts: events not quoted: %s", exc)
        return []


def run_alerts(settings: Settings, store: Store, zone_set: ZoneSet, now: datetime) -> AlertRun:
    """Evaluate the rules at ``now`` on the store's recent data, record new alerts, deliver what is due."""
    rules = alert_rules(settings, zone_set)
    source = settings.collect_sources[0]  # the first source polled (the combined view comes later)
    polls = [
        Poll(sid, t, status, retry)
        for sid, t, status, retry in poll_rows(store, now - timedelta(days=2), now + CLOCK_SKEW, [source])
    ]
    history = [PastAlert(kind, zone, t, began) for kind, zone, t, began in alert_history(store)]
    rows = count_rows(store, now - RECENT, now + CLOCK_SKEW, source)
    counts = zone_series(rows)  # no successful poll in 30 hours: only the outage rule has anything to judge
    episodes = [e for e in (episode_start(history, z) for z in rules.zones) if e is not None]
    reference = min([now, *episodes])
    hours = hour_tables(hour_rows(store, source, reference - HISTORY - timedelta(days=1), now + CLOCK_SKEW))
    last = latest_snapshot(store, ("ok",), [source])
    last_ok = from_epoch(last["api_time"]) if last is not None else None
    times = np.array([int(p.time.timestamp()) for p in polls], dtype=np.int64)
    interval = settings.report_interval_s or infer_interval_s(times)
    last_hour = sum(1 for p in polls if p.status == "ok" and p.time >= now - timedelta(hours=1))
    coverage = min(1.0, last_hour / max(3600.0 / interval, 1.0))
    alerts = evaluate(now, counts, hours, polls, history, (), rules, coverage, last_ok=last_ok)
    if alerts:  # the events are only their context: read only when there is an alert to quote them in
        alerts = with_events(alerts, _events(settings), now)
    channels = tuple(settings.alerts_channels)
    new = []
    for a in alerts:
        added = add_alert(
            store, a.key, a.kind, a.zone, now, a.poll_time, a.observed, a.expected, a.line, a.payload, channels
        )
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
