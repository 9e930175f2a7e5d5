"""Status: is vzmon alive? The last data and its age, counts, credits, rate-limit state, store size.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Reads the store
only (it never creates one, and works while ``watch`` holds the lock); SQLite only, so ``vzmon
status`` starts in a blink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import utcnow
from monitor.counts import SNAPSHOT_STATUSES, ZoneCount
from monitor.settings.table import Settings
from monitor.sources.opensky import NAME as OPENSKY
from monitor.sources.registry import COMBINED
from monitor.store.db import Store, from_epoch
from monitor.store.outbox import pending_deliveries, recent_alerts
from monitor.store.snapshots import counts_for, latest_credits, latest_snapshot, snapshot_totals, source_health

__all__ = ["SourceStatus", "StatusReport", "status"]


@dataclass(frozen=True)
class SourceStatus:
    """One configured source: its last data, its last attempt, and a 429 cooldown still ahead."""

    source: str
    last_ok_time: datetime | None
    last_ok_age_s: float | None
    last_poll_time: datetime | None
    last_poll_status: str | None
    last_poll_error: str | None
    rate_limited_until: datetime | None


@dataclass(frozen=True)
class StatusReport:
    now: datetime
    store_path: str
    store_bytes: int
    rows: dict[str, int]
    last_ok_time: datetime | None
    last_ok_age_s: float | None
    last_poll_time: datetime | None
    last_poll_status: str | None
    last_poll_error: str | None
    counts: tuple[ZoneCount, ...]
    credits_remaining: int | None
    credits_seen_at: datetime | None
    rate_limited_until: datetime | None
    next_poll_allowed: datetime
    integrity: str | None
    last_alert: str | None = None
    last_alert_time: datetime | None = None
    pending_deliveries: int = 0
    view: str = OPENSKY  # what "last data" and the counts are of: the one source, or the combined view
    sources: tuple[SourceStatus, ...] = ()  # each configured source, when there are several


def _source_status(store: Store, settings: Settings, name: str, now: datetime) -> SourceStatus:
    auth = settings.authenticated if name == OPENSKY else None  # OpenSky keeps a budget per credential
    health = source_health(store, name, now, authenticated=auth)
    return SourceStatus(
        source=name,
        last_ok_time=health.last_ok,
        last_ok_age_s=(now - health.last_ok).total_seconds() if health.last_ok else None,
        last_poll_time=health.last_attempt,
        last_poll_status=health.last_status,
        last_poll_error=settings.redact(health.last_error) if health.last_error else None,
        rate_limited_until=health.cooldown_until,
    )


def status(settings: Settings, *, check: bool = False, clock: Callable[[], datetime] = utcnow) -> StatusReport:
    """Health of the store and the sources: last data of the view the settings name (the combined
    view when several sources are configured) and its counts, each source's last poll, credits,
    rate-limit state."""
    now = clock()
    configured = settings.collect_sources
    view = COMBINED if len(configured) > 1 else configured[0]
    with Store.open_existing(settings.store_db, redact=settings.redact) as store:
        several = len(configured) > 1  # else whatever the store holds (a demo store's source is "demo")
        last_ok = latest_snapshot(store, sources=[view] if several else None)
        last_any = latest_snapshot(store, SNAPSHOT_STATUSES, configured if several else None)
        counts = tuple(counts_for(store, int(last_ok["id"]))) if last_ok is not None else ()
        credits = latest_credits(store)
        each = tuple(_source_status(store, settings, name, now) for name in configured)
        blocked = max((s.rate_limited_until for s in each if s.rate_limited_until), default=None)
        recent = recent_alerts(store, 1)
        last_ok_time = from_epoch(last_ok["api_time"]) if last_ok is not None else None
        return StatusReport(
            now=now,
            store_path=str(settings.store_db),
            store_bytes=store.size_bytes(),
            rows=snapshot_totals(store),
            last_ok_time=last_ok_time,
            last_ok_age_s=(now - last_ok_time).total_seconds() if last_ok_time else None,
            last_poll_time=from_epoch(last_any["requested_at"]) if last_any is not None else None,
            last_poll_status=last_any["status"] if last_any is not None else None,
            last_poll_error=settings.redact(last_any["error"]) if last_any is not None and last_any["error"] else None,
            counts=counts,
            credits_remaining=credits[0] if credits else None,
            credits_seen_at=credits[1] if credits else None,
            rate_limited_until=blocked,
            next_poll_allowed=blocked or now,
            integrity=store.integrity_check() if check else None,
            last_alert=recent[0]["line"] if recent else None,
            last_alert_time=from_epoch(recent[0]["created_at"]) if recent else None,
            pending_deliveries=pending_deliveries(store),
            view=view,
            sources=each if len(configured) > 1 else (),
        )
