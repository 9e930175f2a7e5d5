"""Alerting: after each poll, evaluate the rules, write new alerts to the outbox, deliver what is due.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). The order is what
makes delivery trustworthy: every alert is written to the store's outbox (with one pending
delivery per channel) before any channel is tried; each attempt's outcome is recorded; a failed
delivery is retried on later runs with exponential backoff until ``alerts.max_attempts``. All of
this happens under the store's lock, so overlapping runs never deliver the same alert twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from geo.zoneset import ZoneSet
from monitor.alerts import CLOCK_SKEW, AlertRules, PastAlert, Poll, ZoneRule, count_spans, episode_start, evaluate
from monitor.analysis import infer_interval_s
from monitor.errors import ConfigError, DeliveryError
from monitor.events import Event, load_events
from monitor.notify import Message, Notifier, notifiers_for
from monitor.pipeline.locking import store_lock
from monitor.settings import Settings
from monitor.store import Store, from_epoch

__all__ = ["AlertListing", "AlertRun", "alert_rules", "deliver_due", "list_alerts", "run_alerts", "send_test"]

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class AlertRun:
    new: tuple[str, ...]  # lines of the alerts raised by this run
    delivered: int
    failed: int


def alert_rules(settings: Settings, zone_set: ZoneSet) -> AlertRules:
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
        cooldown_min=settings.alerts_cooldown_min,
    )  # fmt: skip


def _times(series: pd.Series) -> list[datetime | None]:
    """tz-aware UTC datetimes of a datetime column; None for NaT."""
    seconds = series.to_numpy(dtype="datetime64[s]")
    return [None if np.isnat(x) else datetime.fromtimestamp(int(x.astype(np.int64)), UTC) for x in seconds]


def _events(settings: Settings) -> list[Event]:
    try:
        return load_events(settings.events_file)
    except ConfigError as exc:  # a bad events file must not stop alerts; it only loses their context
        log.warning("alerts: events not quoted: %s", exc)
        return []


def _backoff(settings: Settings, attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=settings.alerts_retry_base_s * 2 ** max(attempts - 1, 0)))


def deliver_due(
    settings: Settings,
    store: Store,
    now: datetime,
    notifiers: Mapping[str, Notifier] | None = None,
    dry_run: bool = False,
) -> tuple[int, int, list[str]]:
    """Try every due delivery once. Returns (delivered, failed, lines); a dry run only lists them.

    A channel that fails is not tried again in this run (its other due deliveries wait for the
    next run, their attempts uncounted), so a dead server costs one timeout per run, not one per
    alert. Any exception a channel raises counts as a failed attempt: it never stops the others.
    """
    notifiers = notifiers if notifiers is not None else notifiers_for(settings)
    delivered = failed = 0
    lines: list[str] = []
    broken: set[str] = set()
    for row in store.due_deliveries(now):
        channel = row["channel"]
        if channel in broken:
            continue
        lines.append(f"{channel}: {row['line']}")
        if dry_run:
            continue
        notifier = notifiers.get(channel)
        message = Message(
            row["key"],
            row["kind"],
            row["zone"],
            from_epoch(row["created_at"]) or now,
            row["line"],
            json.loads(row["payload"]),
        )
        try:
            if notifier is None:
                raise DeliveryError(f"channel {channel} is no longer configured (alerts.channels)", channel=channel)
            notifier.send(message)
        except Exception as exc:  # one channel's failure, whatever it is, must not stop the rest
            error = str(exc) if isinstance(exc, DeliveryError) else f"{exc.__class__.__name__}: {exc}"
            log.debug("alert delivery via %s raised", channel, exc_info=True)
            attempts = int(row["attempts"]) + 1
            retry = now + _backoff(settings, attempts) if attempts < settings.alerts_max_attempts else None
            store.record_delivery(row["alert_id"], channel, now, sent=False, error=error, retry_at=retry)
            failed += 1
            broken.add(channel)
            log.warning(
                "alert delivery via %s failed (attempt %d%s): %s",
                channel,
                attempts,
                f", next at {retry:%H:%M:%SZ}" if retry else ", giving up",
                error,
            )
            continue
        store.record_delivery(row["alert_id"], channel, now, sent=True)
        delivered += 1
    return delivered, failed, lines


def run_alerts(settings: Settings, store: Store, zone_set: ZoneSet, now: datetime) -> AlertRun:
    """Evaluate the rules at ``now`` on the store's recent data, record new alerts, deliver what is due."""
    rules = alert_rules(settings, zone_set)
    frame = store.poll_frame(now - timedelta(days=2), now + CLOCK_SKEW)
    polls = [
        Poll(int(sid), t or now, str(status), retry)
        for sid, t, status, retry in zip(
            frame["snapshot_id"].tolist(), _times(frame["time"]), frame["status"].tolist(),
            _times(frame["retry_at"]), strict=True,
        )
    ]  # fmt: skip
    past = store.alert_history()
    history = [
        PastAlert(str(kind), zone if isinstance(zone, str) else None, t or now)
        for kind, zone, t in zip(past["kind"].tolist(), past["zone"].tolist(), _times(past["created_at"]), strict=True)
    ]
    ok_times = _times(frame.loc[frame["status"] == "ok", "time"].tail(rules.polls_judged))
    if ok_times and ok_times[0] is not None:
        episode = min(filter(None, (episode_start(history, z) for z in rules.zones)), default=None)
        parts = [store.count_frame(a, b) for a, b in count_spans(ok_times[0], now, rules, before=episode)]
        counts = pd.concat(parts, ignore_index=True).drop_duplicates(["snapshot_id", "zone"]).sort_values("time")
    else:  # no successful poll in two days: only the outage rule has anything to judge
        counts = store.count_frame(now, now)
    last = store.latest_snapshot(("ok",))
    last_ok = from_epoch(last["api_time"]) if last is not None else None
    last_hour = frame[frame["time"] >= pd.Timestamp(now - timedelta(hours=1))]
    interval = settings.report_interval_s or infer_interval_s(frame["time"])
    coverage = min(1.0, float((last_hour["status"] == "ok").sum()) / max(3600.0 / interval, 1.0))
    alerts = evaluate(now, counts, polls, history, _events(settings), rules, coverage, last_ok=last_ok)
    channels = tuple(settings.alerts_channels)
    new = []
    for a in alerts:
        if (
            store.add_alert(
                a.key, a.kind, a.zone, now, a.poll_time, a.observed, a.expected, a.line, a.payload, channels
            )
            is not None
        ):
            new.append(a.line)
    delivered, failed, _ = deliver_due(settings, store, now)
    return AlertRun(tuple(new), delivered, failed)


def send_test(settings: Settings, now: datetime, dry_run: bool = False) -> dict[str, str]:
    """Send a test message to every configured channel directly (not through the outbox).

    Returns channel -> "sent", "would send" or the error text.
    """
    message = Message(
        f"test:{int(now.timestamp())}",
        "test",
        None,
        now,
        f"vzmon test alert at {now:%Y-%m-%d %H:%M:%S} UTC: this channel works.",
        {"test": True},
    )
    results: dict[str, str] = {}
    for name, notifier in notifiers_for(settings).items():
        if dry_run:
            results[name] = "would send"
            continue
        try:
            notifier.send(message)
            results[name] = "sent"
        except DeliveryError as exc:
            results[name] = f"FAILED: {exc}"
        except Exception as exc:  # report every channel, whatever one of them raises
            log.debug("test message via %s raised", name, exc_info=True)
            results[name] = f"FAILED: {exc.__class__.__name__}: {exc}"
    return results


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
            rows = store.recent_alerts(limit)
    else:  # listing only reads (WAL): it works while `watch` holds the lock
        with Store.open_existing(settings.store_db, redact=settings.redact) as store:
            if send:
                _, _, attempted = deliver_due(settings, store, now, dry_run=True)
            rows = store.recent_alerts(limit)
    listing = [
        AlertListing(from_epoch(r["created_at"]) or now, r["kind"], r["zone"], r["line"], r["deliveries"] or "")
        for r in rows
    ]
    return listing, attempted
