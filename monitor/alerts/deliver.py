"""Delivering alerts from the outbox: each due delivery tried once per run, its outcome recorded.

Place in the flow: after the rules run (``pipeline.alerts``), :func:`deliver_due` works through the
store's outbox (``store.outbox``). Every alert was written there, with one pending delivery per
channel, before any channel is tried; a failed delivery is retried on later runs with exponential
backoff (``alerts.retry_base_s``, doubling, at most 6 h) until ``alerts.max_attempts``. The caller
holds the store's lock, so overlapping runs never deliver the same alert twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from monitor.alerts.channels.base import Message, Notifier
from monitor.alerts.channels.registry import notifiers_for
from monitor.errors import DeliveryError
from monitor.settings.table import Settings
from monitor.store.db import Store, from_epoch
from monitor.store.outbox import due_deliveries, record_delivery

__all__ = ["MAX_BACKOFF", "deliver_due", "send_test"]

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


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
    for row in due_deliveries(store, now):
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
            record_delivery(store, row["alert_id"], channel, now, sent=False, error=error, retry_at=retry)
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
        record_delivery(store, row["alert_id"], channel, now, sent=True)
        delivered += 1
    return delivered, failed, lines


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
