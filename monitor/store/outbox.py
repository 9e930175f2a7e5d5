"""The alert outbox: every alert is written here, with one pending delivery per channel, before any
channel is tried; each attempt's outcome is recorded. SQLite only.

Place in the flow: ``pipeline.alerts`` adds what the rules raise (:func:`add_alert`) and
``alerts.deliver`` works through :func:`due_deliveries`, recording each attempt
(:func:`record_delivery`). Alert keys are unique, so re-running the rules adds nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from monitor.store.db import Store, to_epoch

__all__ = [
    "add_alert",
    "alert_history",
    "due_deliveries",
    "pending_deliveries",
    "recent_alerts",
    "record_delivery",
]


def add_alert(
    store: Store,
    key: str,
    kind: str,
    zone: str | None,
    created_at: datetime,
    poll_time: datetime | None,
    observed: float | None,
    expected: float | None,
    line: str,
    payload: dict[str, Any],
    channels: Sequence[str],
    source: str | None = None,
) -> int | None:
    """Record an alert and one pending delivery per channel, in one transaction.

    Returns the alert id, or None when an alert with this ``key`` exists already (never twice).
    """
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT OR IGNORE INTO alerts (key, kind, zone, created_at, poll_time, observed, expected, line, "
            "payload, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                kind,
                zone,
                to_epoch(created_at),
                to_epoch(poll_time),
                observed,
                expected,
                line,
                json.dumps(payload, ensure_ascii=False, sort_keys=True),
                source,
            ),
        )
        if cur.rowcount == 0:
            return None
        alert_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO deliveries (alert_id, channel, status, next_attempt_at) VALUES (?, ?, 'pending', ?)",
            [(alert_id, c, to_epoch(created_at)) for c in channels],
        )
    return alert_id


def due_deliveries(store: Store, now: datetime) -> list[sqlite3.Row]:
    """Pending deliveries whose next attempt is due, oldest alert first, with the alert's fields."""
    return store.query(
        "SELECT d.alert_id, d.channel, d.attempts, a.key, a.kind, a.zone, a.created_at, a.line, a.payload "
        "FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY a.id, d.channel",
        (to_epoch(now),),
    )


def record_delivery(
    store: Store,
    alert_id: int,
    channel: str,
    now: datetime,
    *,
    sent: bool,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """After an attempt: sent, or failed with the next try at ``retry_at`` (None: given up). The
    error text is stored through ``store.redact``."""
    with store.transaction() as conn:
        if sent:
            conn.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL "
                "WHERE alert_id = ? AND channel = ?",
                (to_epoch(now), alert_id, channel),
            )
        else:
            conn.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE alert_id = ? AND channel = ?",
                (
                    "pending" if retry_at else "failed",
                    None if error is None else store.redact(error),
                    to_epoch(retry_at or now),
                    alert_id,
                    channel,
                ),
            )


def alert_history(
    store: Store, sources: Sequence[str] | None = None, legacy: bool = False
) -> list[tuple[str, str | None, datetime, datetime | None]]:
    """The latest alert of each kind and zone judged on one of ``sources`` (None: any), however old:
    (kind, zone, created_at UTC, and when the window that established it began, for a drop or zero
    that says so). ``legacy``: alerts stored before alerts named their source count too.

    That is all the rules need (is an episode under way, since when, is a rule cooling down),
    and it stays small however long the store runs.
    """
    which = ""
    if sources is not None:
        which = f" WHERE (source IN ({', '.join('?' * len(sources))})" + (" OR source IS NULL)" if legacy else ")")
    rows = store.query(
        "SELECT kind, zone, MAX(created_at) AS created_at, json_extract(payload, '$.began') AS began "
        f"FROM alerts{which} GROUP BY kind, zone ORDER BY created_at",
        () if sources is None else tuple(sources),
    )  # SQLite takes the bare column (payload) from the row with the MAX
    return [
        (str(r["kind"]), r["zone"], datetime.fromtimestamp(r["created_at"], UTC), _parse_time(r["began"])) for r in rows
    ]


def _parse_time(text: object) -> datetime | None:
    """An ISO time with a Z as written in payloads; None for anything else (alerts before ``began``)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def recent_alerts(store: Store, limit: int = 20) -> list[sqlite3.Row]:
    """The newest alerts with their deliveries as 'channel:status' pairs."""
    return store.query(
        "SELECT a.id, a.key, a.kind, a.zone, a.created_at, a.line, "
        "GROUP_CONCAT(d.channel || ':' || d.status || CASE WHEN d.last_error IS NOT NULL "
        "THEN ' (' || d.attempts || ' tries: ' || d.last_error || ')' ELSE '' END, '; ') AS deliveries "
        "FROM alerts a LEFT JOIN deliveries d ON d.alert_id = a.id GROUP BY a.id ORDER BY a.id DESC LIMIT ?",
        (limit,),
    )


def pending_deliveries(store: Store) -> int:
    """How many deliveries are still pending (due now or waiting for a retry)."""
    return int(store.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"))
