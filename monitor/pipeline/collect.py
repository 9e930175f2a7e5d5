"""Collect: one cron tick. Lock, honour a recorded retry-after, fetch, ingest, store, run the alerts.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). :func:`poll_once` is
one attempt of one source (``watch`` repeats it); a source failure is recorded in the store first
(a gap, never a zero) and then returned in ``PollResult.failure`` for ``cli`` to map to an exit
code. Nothing here prints or exits.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from geo.zoneset import ZoneSet
from monitor.clock import utcnow
from monitor.combine import combine_pending
from monitor.counts import ZoneCount
from monitor.errors import MonitorError, RateLimited, SourceError
from monitor.ingest import ingest
from monitor.pipeline.alerts import AlertRun, run_alerts
from monitor.pipeline.compact import compact_after_polls
from monitor.pipeline.locking import store_lock
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.base import Source
from monitor.sources.registry import source_for
from monitor.store.db import Store
from monitor.store.snapshots import PollRecord, rate_limited_until, record_poll

__all__ = ["Clock", "PollResult", "collect_once", "poll_once", "with_alerts"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PollResult:
    """One poll attempt as stored, plus the failure (if any) for the CLI's exit code."""

    requested_at: datetime
    status: str
    snapshot_id: int | None
    api_time: datetime | None = None
    source: str = "opensky"
    counts: tuple[ZoneCount, ...] = ()
    n_states: int | None = None
    credits_charged: int = 0
    credits_remaining: int | None = None
    retry_at: datetime | None = None
    duplicate_of: int | None = None
    error: str | None = None
    failure: SourceError | None = field(default=None, repr=False, compare=False)
    dry_run: bool = False
    alerts: tuple[str, ...] = ()  # lines of the alerts this poll raised
    alert_error: MonitorError | None = field(default=None, repr=False, compare=False)


def poll_once(
    settings: Settings, zone_set: ZoneSet, source: Source, store: Store, clock: Clock, write: bool = True
) -> PollResult:
    """One attempt: honour a recorded retry-after, fetch, ingest; record failures as gaps.

    With ``write`` False (dry run) the retry-after window is still honoured but nothing is stored.
    """
    now = clock()
    base = PollRecord(
        source=source.name,
        requested_at=now,
        status="error",
        box=source.describe(zone_set),
        authenticated=source.authenticated,
    )
    sink = store if write else None
    blocked_until = rate_limited_until(store, source.name, now, authenticated=source.authenticated)
    if blocked_until is not None:
        msg = (
            f"rate-limited until {blocked_until:%Y-%m-%dT%H:%M:%SZ} (recorded by an earlier poll); "
            f"skipped without calling {source.name}"
        )
        skipped = dataclasses.replace(base, status="skipped", retry_at=blocked_until, error=msg)
        recorded = record_poll(sink, skipped) if sink is not None else None
        wait = (blocked_until - now).total_seconds()
        return PollResult(
            now,
            "skipped",
            recorded.snapshot_id if recorded else None,
            source=source.name,
            retry_at=blocked_until,
            error=msg,
            failure=RateLimited(msg, wait, blocked_until),
        )
    reply = None
    try:
        reply = source.fetch(zone_set)
        done = ingest(sink, zone_set, reply, base, now=clock())
    except SourceError as exc:
        status = "rate_limited" if isinstance(exc, RateLimited) else "error"
        retry_at = exc.retry_at if isinstance(exc, RateLimited) else None
        got = base
        if reply is not None:  # the answer came, and cost its credits, but could not be used
            got = dataclasses.replace(
                base,
                http_status=reply.http_status,
                credits_charged=reply.credits_charged,
                credits_remaining=reply.credits_remaining,
                duration_ms=round(reply.duration_s * 1000),
                attempts=reply.attempts,
                authenticated=reply.authenticated,
            )
        failed = dataclasses.replace(
            got,
            status=status,
            http_status=exc.status or got.http_status,
            credits_charged=max(got.credits_charged, exc.charged),
            retry_at=retry_at,
            error=str(exc),
        )
        # A dry run stores nothing, except a rate limit it ran into: later runs must honour it.
        keep = sink if sink is not None else (store if isinstance(exc, RateLimited) else None)
        saved = record_poll(keep, failed) if keep is not None else None
        log.warning("poll failed (%s): %s", status, exc)
        return PollResult(
            now,
            status,
            saved.snapshot_id if saved else None,
            source=source.name,
            retry_at=retry_at,
            error=settings.redact(str(exc)),
            failure=exc,
        )
    recorded, record = done.recorded, done.record
    return PollResult(
        requested_at=now,
        status=recorded.status if recorded else record.status,
        snapshot_id=recorded.snapshot_id if recorded else None,
        api_time=record.api_time,
        source=source.name,
        counts=done.counts if (recorded is None or recorded.status != "duplicate") else (),
        n_states=record.n_states,
        credits_charged=record.credits_charged,
        credits_remaining=record.credits_remaining,
        duplicate_of=recorded.duplicate_of if recorded else None,
        dry_run=not write,
    )


def _log_summary(result: PollResult, run: AlertRun | None) -> None:
    """The one INFO line each tick ends with: fetched, per zone, stored, alerts sent."""
    sent = f"; alerts: {len(run.new)} new, {run.delivered} delivered, {run.failed} failed" if run else ""
    if result.failure is not None:
        log.info("poll %s: no data, recorded as a gap (snapshot %s)%s", result.status, result.snapshot_id, sent)
        return
    zones = ", ".join(f"{c.zone} {c.airborne}+{c.on_ground}" for c in result.counts if c.zone != "unknown")
    log.info(
        "poll %s: %s states; airborne+on ground %s; snapshot %s; credits left %s%s",
        result.status,
        result.n_states,
        zones or "not counted (duplicate)",
        result.snapshot_id,
        result.credits_remaining,
        sent,
    )


def with_alerts(settings: Settings, store: Store, zone_set: ZoneSet, result: PollResult, clock: Clock) -> PollResult:
    """Run the alert rules after a stored poll; an alerting failure is reported, the poll stays stored."""
    run = None
    error: MonitorError | None = None
    if settings.alerts_enabled and not result.dry_run:
        try:
            run = run_alerts(settings, store, zone_set, clock())
        except MonitorError as exc:
            error = exc
            log.error("alerts: %s", exc)
        except Exception as exc:  # alerting must never cost the poll or stop `watch`
            log.debug("alerts raised", exc_info=True)
            error = MonitorError(
                f"alerts failed unexpectedly ({exc.__class__.__name__}: {exc}); the poll is stored; "
                "rerun with --debug for the traceback"
            )
            log.error("alerts: %s", error)
    _log_summary(result, run)
    return dataclasses.replace(result, alerts=run.new if run else (), alert_error=error)


def collect_once(
    settings: Settings,
    *,
    dry_run: bool = False,
    clock: Clock = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    source: Source | None = None,
) -> list[PollResult]:
    """One poll of each configured source (``collect.sources``, or just ``source``), in order,
    under one lock: check each one's retry-after window, fetch, classify, store. With several
    sources, then the combined view's final slots (``monitor.combine``). Then the alert rules, once
    (the first result carries the alerts).

    Raises LockHeld if another run holds the store; StoreError if the store is unusable. Source
    failures are recorded and returned in each ``PollResult.failure``: one source failing or
    rate-limited never stops the next.
    """
    zone_set = zone_set_for(settings)
    results: list[PollResult] = []
    with store_lock(settings), Store(settings.store_db, redact=settings.redact) as store:
        if source is not None:
            with source as src:
                results.append(poll_once(settings, zone_set, src, store, clock, write=not dry_run))
        else:
            for name in settings.collect_sources:
                with source_for(settings, name, clock=clock, sleep=sleep) as src:
                    results.append(poll_once(settings, zone_set, src, store, clock, write=not dry_run))
        if source is None and not dry_run and len(settings.collect_sources) > 1:
            done = combine_pending(store, zone_set, settings.collect_sources, settings.collect_combined_step_s, clock())
            if done.until is not None:
                log.info("combined view: %d slots, %d gaps, up to %s", done.slots, done.gaps, f"{done.until:%H:%M}Z")
        results[0] = with_alerts(settings, store, zone_set, results[0], clock)
        if not dry_run:
            compact_after_polls(store, clock())  # last: nothing it meets holds back the poll or its alerts
    return results
