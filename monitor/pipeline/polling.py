"""Polling: one cron tick (fetch, fence, count, store), the watch loop, status and the credit plan.

Part of ``monitor.pipeline``, the only place where steps are wired together (the flow is drawn
in ``monitor/pipeline/__init__.py``). Functions take the frozen Settings plus plain arguments and
the seams (clock, sleep, client) and return result objects; none prints or exits. A source failure
is recorded in the store first (a gap, never a zero) and then returned for ``cli`` to map to an
exit code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from geo.bounds import BBox
from geo.fence import fence_for
from geo.zones import ZoneFileError, ZoneSource
from geo.zoneset import ZoneSet, load_zone_set
from monitor.counts import count_zone_index
from monitor.errors import AuthError, ConfigError, MonitorError, RateLimited, SourceError, SourceUnavailable
from monitor.opensky import SOURCE, OpenSkyClient, parse_states, utcnow
from monitor.pipeline.alerting import AlertRun, run_alerts
from monitor.pipeline.locking import store_lock
from monitor.settings import Settings
from monitor.store import PollRecord, RecordedPoll, Store, from_epoch, last_row_per_aircraft

__all__ = [
    "ACCOUNT_CREDITS",
    "PlanReport",
    "PollResult",
    "StatusReport",
    "ZonesSummary",
    "collect_once",
    "describe_zones",
    "ingest_reply",
    "plan",
    "poll_interval",
    "status",
    "store_lock",
    "watch",
    "zone_set_for",
]

log = logging.getLogger(__name__)

# Daily /states credits per account tier (OpenSky REST docs) and the API's time resolution.
ACCOUNT_CREDITS = {"anonymous": 400, "standard": 4000, "feeder": 8000}
RESOLUTION_S = {"anonymous": 10.0, "authenticated": 5.0}

Clock = Callable[[], datetime]
MAX_CLOCK_AHEAD = timedelta(minutes=5)  # a reply time further ahead of our clock is broken
MAX_REPLY_AGE = timedelta(hours=1)  # a live reply older than this is not current data


# ------------------------------------------------------------------------------------------ zones


def zone_set_for(settings: Settings) -> ZoneSet:
    """The zones the settings describe (built once per process). Raises ConfigError for bad files."""
    fir = None
    if settings.zones_fir_file is not None:
        fir = ZoneSource(settings.zones_fir_file, settings.zones_fir_property, (settings.zones_fir_value,))
    extra: tuple[ZoneSource, ...] = ()
    if settings.zones_extra_file is not None:
        extra = (ZoneSource(settings.zones_extra_file, settings.zones_extra_property, settings.zones_extra_values),)
    try:
        return load_zone_set(settings.zones_ring_nm, fir, extra)
    except ZoneFileError as exc:
        raise ConfigError(str(exc), key=str(exc.path)) from None


@dataclass(frozen=True)
class ZonesSummary:
    zone_set: ZoneSet
    polling_box: BBox
    warning: str | None
    map_path: Path | None


def describe_zones(settings: Settings, map_path: Path | None = None) -> ZonesSummary:
    """The zones, the polling box and its credit cost; draws the zones map when ``map_path`` is given."""
    zone_set = zone_set_for(settings)
    written = None
    if map_path is not None:
        from monitor.maps import draw_zones_map  # matplotlib only when a map is asked for

        written = draw_zones_map(zone_set, map_path)
    return ZonesSummary(zone_set, zone_set.polling_box, zone_set.credit_step_warning(), written)


# --------------------------------------------------------------------------------------- collect


@dataclass(frozen=True)
class ZoneCount:
    zone: str
    airborne: int
    on_ground: int
    stale: int


def _iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


@dataclass(frozen=True)
class PollResult:
    """One poll attempt as stored, plus the failure (if any) for the CLI's exit code."""

    requested_at: datetime
    status: str
    snapshot_id: int | None
    api_time: datetime | None = None
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested_at": _iso(self.requested_at),
            "api_time": _iso(self.api_time),
            "status": self.status,
            "snapshot_id": self.snapshot_id,
            "states": self.n_states,
            "zones": {
                c.zone: {"airborne": c.airborne, "on_ground": c.on_ground, "stale": c.stale} for c in self.counts
            },
            "credits_charged": self.credits_charged,
            "credits_remaining": self.credits_remaining,
            "retry_at": _iso(self.retry_at),
            "duplicate_of": self.duplicate_of,
            "error": self.error,
            "dry_run": self.dry_run,
            "alerts": list(self.alerts),
        }

    def line(self) -> str:
        """One human line: UTC time, status, SVZM airborne/on ground, ring sectors, credits left."""
        when = (self.api_time or self.requested_at).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [when, self.status]
        if self.counts:
            fir = self.counts[0]
            parts.append(f"{fir.zone} {fir.airborne} airborne/{fir.on_ground} on ground")
            parts.extend(f"{c.zone} {c.airborne}/{c.on_ground}" for c in self.counts[1:] if c.zone != "unknown")
        elif self.status == "duplicate":
            parts.append(f"same API time as snapshot {self.duplicate_of}; nothing new stored")
        else:
            parts.append("no data (a gap, not a zero)")
        if self.retry_at:
            parts.append(f"next poll allowed {self.retry_at:%Y-%m-%dT%H:%M:%SZ}")
        parts.append(f"credits left {self.credits_remaining if self.credits_remaining is not None else '?'}")
        if self.dry_run:
            parts.append("(dry run: nothing stored)")
        if self.alerts:
            parts.append(f"{len(self.alerts)} new alert{'s' if len(self.alerts) > 1 else ''}")
        return " · ".join(parts)


def client_for(
    settings: Settings,
    clock: Clock = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> OpenSkyClient:
    creds = None
    if settings.opensky_client_id and settings.opensky_client_secret:
        creds = (settings.opensky_client_id, settings.opensky_client_secret)
    return OpenSkyClient(
        settings.opensky_api_url,
        settings.opensky_token_url,
        creds,
        timeout=(settings.opensky_connect_timeout_s, settings.opensky_read_timeout_s),
        retries=settings.opensky_retries,
        backoff_s=settings.opensky_backoff_s,
        max_poll_s=settings.opensky_max_poll_s,
        clock=clock,
        sleep=sleep,
        should_stop=should_stop,
    )


def _counts_tuple(counts: Any) -> tuple[ZoneCount, ...]:
    return tuple(
        ZoneCount(str(z), int(a), int(g), int(s))
        for z, a, g, s in zip(counts["zone"], counts["airborne"], counts["on_ground"], counts["stale"], strict=True)
    )


def check_reply_time(api_time: datetime, now: datetime) -> None:
    """Refuse a live reply whose time cannot be now: more than ``MAX_CLOCK_AHEAD`` ahead of this
    machine's clock, or older than ``MAX_REPLY_AGE`` (OpenSky keeps one hour of states). Stored,
    such a reply would make ``status`` report fresh data and keep the outage alert quiet."""
    ahead = (api_time - now).total_seconds()
    if ahead > MAX_CLOCK_AHEAD.total_seconds():
        raise SourceUnavailable(
            f"reply time {api_time:%Y-%m-%dT%H:%M:%SZ} is {ahead:,.0f} s ahead of this machine's clock "
            f"({now:%Y-%m-%dT%H:%M:%SZ}): a broken reply, recorded as a gap (if this machine's clock is wrong, set "
            "it right: timedatectl)"
        )
    if -ahead > MAX_REPLY_AGE.total_seconds():
        raise SourceUnavailable(
            f"reply time {api_time:%Y-%m-%dT%H:%M:%SZ} is {-ahead:,.0f} s older than this machine's clock "
            f"({now:%Y-%m-%dT%H:%M:%SZ}): not current data, recorded as a gap (if this machine's clock is wrong, "
            "set it right: timedatectl)"
        )


def ingest_reply(
    store: Store | None,
    zone_set: ZoneSet,
    doc: Any,
    poll: PollRecord,
    stale_after_s: int,
    now: datetime | None = None,
) -> tuple[RecordedPoll | None, PollRecord, tuple[ZoneCount, ...]]:
    """Parse, classify, count and store one decoded ``/states/all`` reply (real or simulated).

    ``poll`` carries the attempt's metadata; its status and API time are filled in here. With
    ``store`` None (dry run) nothing is written. ``now`` (live polls) checks the reply's time
    against this machine's clock (:func:`check_reply_time`). Raises SourceUnavailable for an
    unusable reply.
    """
    try:
        parsed = parse_states(doc, stale_after_s)
    except SourceError:
        raise
    except Exception as exc:  # a reply shaped in a way nobody foresaw is a gap, never a crash of `watch`
        raise SourceUnavailable(f"OpenSky reply could not be read ({exc.__class__.__name__}: {exc})") from exc
    if now is not None:
        check_reply_time(parsed.api_time, now)
    table = last_row_per_aircraft(parsed.table)
    zone_index = fence_for(zone_set).classify_index(table["longitude"].to_numpy(), table["latitude"].to_numpy())
    counts = count_zone_index(
        zone_index,
        table["stale"].to_numpy(),
        pc.fill_null(table["on_ground"], False).to_numpy(),
        zone_set.codes,
    )
    positions = table.append_column("zone", pc.take(pa.array(zone_set.codes, pa.string()), pa.array(zone_index)))
    status = "ok" if len(positions) else "empty"
    record = PollRecord(
        **{
            **poll.__dict__,
            "status": status,
            "api_time": parsed.api_time,
            "n_states": len(positions) + parsed.malformed_rows,
            "n_malformed": parsed.malformed_rows,
        }
    )
    if store is None:
        return None, record, _counts_tuple(counts)
    recorded = store.record_poll(record, positions, counts, zone_set_id=store.zone_set_id(zone_set), unique=True)
    return recorded, record, _counts_tuple(counts)


def _poll(
    settings: Settings, zone_set: ZoneSet, client: OpenSkyClient, store: Store, clock: Clock, write: bool = True
) -> PollResult:
    """One attempt: honour a recorded retry-after, fetch, ingest; record failures as gaps.

    With ``write`` False (dry run) the retry-after window is still honoured but nothing is stored.
    """
    now = clock()
    box = zone_set.polling_box
    box_json = json.dumps(box.opensky_params())
    base = PollRecord(source=SOURCE, requested_at=now, status="error", box=box_json, authenticated=client.authenticated)
    sink = store if write else None
    blocked_until = store.rate_limited_until(SOURCE, now, authenticated=client.authenticated)
    if blocked_until is not None:
        msg = (
            f"rate-limited until {blocked_until:%Y-%m-%dT%H:%M:%SZ} (recorded by an earlier poll); "
            "skipped without calling OpenSky"
        )
        skipped = PollRecord(**{**base.__dict__, "status": "skipped", "retry_at": blocked_until, "error": msg})
        recorded = sink.record_poll(skipped) if sink is not None else None
        wait = (blocked_until - now).total_seconds()
        return PollResult(
            now,
            "skipped",
            recorded.snapshot_id if recorded else None,
            retry_at=blocked_until,
            error=msg,
            failure=RateLimited(msg, wait, blocked_until),
        )
    record: PollRecord | None = None
    try:
        reply = client.fetch_states(box)
        record = PollRecord(
            **{
                **base.__dict__,
                "http_status": reply.http_status,
                "credits_charged": box.credits,
                "credits_remaining": reply.credits_remaining,
                "duration_ms": round(reply.duration_s * 1000),
                "attempts": reply.attempts,
                "authenticated": reply.authenticated,
            }
        )
        recorded, record, counts = ingest_reply(
            sink, zone_set, reply.doc, record, settings.opensky_stale_after_s, now=clock()
        )
    except SourceError as exc:
        status = "rate_limited" if isinstance(exc, RateLimited) else "error"
        retry_at = exc.retry_at if isinstance(exc, RateLimited) else None
        got = record or base  # a reply that came but could not be read still cost its credits
        failed = PollRecord(
            **{
                **got.__dict__,
                "status": status,
                "http_status": exc.status or got.http_status,
                "retry_at": retry_at,
                "error": str(exc),
            }
        )
        # A dry run stores nothing, except a rate limit it ran into: later runs must honour it.
        keep = sink if sink is not None else (store if isinstance(exc, RateLimited) else None)
        saved = keep.record_poll(failed) if keep is not None else None
        log.warning("poll failed (%s): %s", status, exc)
        return PollResult(
            now,
            status,
            saved.snapshot_id if saved else None,
            retry_at=retry_at,
            error=settings.redact(str(exc)),
            failure=exc,
        )
    return PollResult(
        requested_at=now,
        status=recorded.status if recorded else record.status,
        snapshot_id=recorded.snapshot_id if recorded else None,
        api_time=record.api_time,
        counts=counts if (recorded is None or recorded.status != "duplicate") else (),
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


def _with_alerts(settings: Settings, store: Store, zone_set: ZoneSet, result: PollResult, clock: Clock) -> PollResult:
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
    client: OpenSkyClient | None = None,
) -> PollResult:
    """One poll for cron: lock, check the retry-after window, fetch, classify, store.

    Raises LockHeld if another run holds the store; StoreError if the store is unusable. Source
    failures are recorded and returned in ``PollResult.failure``.
    """
    zone_set = zone_set_for(settings)
    with store_lock(settings), Store(settings.store_db, redact=settings.redact) as store:
        with client or client_for(settings, clock, sleep) as c:
            result = _poll(settings, zone_set, c, store, clock, write=not dry_run)
        return _with_alerts(settings, store, zone_set, result, clock)


# ----------------------------------------------------------------------------------------- watch


def poll_interval(settings: Settings, credits_per_poll: int) -> float:
    """Seconds between polls that the daily credit budget sustains, never below the API's resolution."""
    budget = settings.opensky_daily_credits or ACCOUNT_CREDITS[settings.account_type]
    if not settings.authenticated:  # anonymous calls draw on the anonymous budget, whatever is configured
        budget = min(budget, ACCOUNT_CREDITS["anonymous"])
    polls = max(1, math.floor(budget * settings.opensky_budget_share / credits_per_poll))
    floor = RESOLUTION_S["authenticated" if settings.authenticated else "anonymous"]
    return max(floor, 86_400 / polls)


def resolution_floor(settings: Settings) -> float:
    return RESOLUTION_S["authenticated" if settings.authenticated else "anonymous"]


def watch(
    settings: Settings,
    on_poll: Callable[[PollResult], None],
    *,
    stop: threading.Event | None = None,
    max_polls: int | None = None,
    clock: Clock = utcnow,
    sleep: Callable[[float], None] | None = None,
    wait: Callable[[float], bool] | None = None,
    client: OpenSkyClient | None = None,
) -> int:
    """Poll until ``stop`` is set (or ``max_polls`` polls). Returns the number of polls made.

    The interval is ``watch.interval_s`` or, when 0, :func:`poll_interval`. A rate-limited poll
    waits until the recorded retry time. ``wait(seconds)`` sleeps and returns True when told to
    stop (default: ``stop.wait``). A poll in progress always finishes and is stored.
    """
    stop = stop or threading.Event()
    wait = wait or stop.wait
    zone_set = zone_set_for(settings)
    floor = resolution_floor(settings)
    interval = settings.watch_interval_s or poll_interval(settings, zone_set.polling_box.credits)
    if interval < floor:
        raise ConfigError(
            f"watch interval {interval:g} s is below OpenSky's {floor:g} s resolution for this account; "
            f"use --interval {floor:g} or more",
            key="watch.interval_s",
        )
    log.info(
        "watch: polling every %.0f s (%s account, %d credits per poll)",
        interval,
        settings.account_type,
        zone_set.polling_box.credits,
    )
    polls = 0
    # retries sleep through `wait` unless told otherwise, so SIGTERM cuts a backoff short (the poll
    # is then a recorded gap)
    waiter = wait

    def interruptible(seconds: float) -> None:
        waiter(seconds)

    retry_sleep = sleep or interruptible
    own_client = client or client_for(settings, clock, retry_sleep, stop.is_set)
    with store_lock(settings), Store(settings.store_db, redact=settings.redact) as store, own_client as c:
        while not stop.is_set():
            started = clock()
            result = _with_alerts(settings, store, zone_set, _poll(settings, zone_set, c, store, clock), clock)
            polls += 1
            on_poll(result)
            if isinstance(result.failure, AuthError):
                raise result.failure
            if max_polls is not None and polls >= max_polls:
                break
            due = started + timedelta(seconds=interval)
            if result.retry_at is not None and result.retry_at > due:
                log.warning("watch: rate-limited; next poll at %s", result.retry_at.isoformat())
                due = result.retry_at
            if wait(max(0.0, (due - clock()).total_seconds())):
                break
    return polls


# ------------------------------------------------------------------------------------ status, plan


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


def status(settings: Settings, *, check: bool = False, clock: Clock = utcnow) -> StatusReport:
    """Health of the store and the source: last data, its age, counts, credits, rate-limit state."""
    now = clock()
    with Store.open_existing(settings.store_db, redact=settings.redact) as store:
        by_status = {
            r["status"]: int(r["n"]) for r in store.query("SELECT status, COUNT(*) AS n FROM snapshots GROUP BY status")
        }
        rows = {f"snapshots_{k}": v for k, v in sorted(by_status.items())}
        rows["snapshots"] = sum(by_status.values())
        rows["positions"] = int(store.query("SELECT COALESCE(SUM(n_positions), 0) FROM position_blocks")[0][0])
        last_ok = store.latest_snapshot()
        last_any = store.latest_snapshot(("ok", "empty", "duplicate", "rate_limited", "skipped", "error"))
        counts: tuple[ZoneCount, ...] = ()
        if last_ok is not None:
            order = {code: i for i, code in enumerate(zone_set_for(settings).codes)}
            raw = sorted(store.counts_for(int(last_ok["id"])), key=lambda r: order.get(r["zone"], len(order)))
            counts = tuple(ZoneCount(r["zone"], r["airborne"], r["on_ground"], r["stale"]) for r in raw)
        credit_rows = store.query(
            "SELECT credits_remaining, requested_at FROM snapshots WHERE credits_remaining IS NOT NULL "
            "ORDER BY requested_at DESC, id DESC LIMIT 1"
        )
        blocked = store.rate_limited_until(SOURCE, now, authenticated=settings.authenticated)
        recent = store.recent_alerts(1)
        last_ok_time = from_epoch(last_ok["api_time"]) if last_ok is not None else None
        return StatusReport(
            now=now,
            store_path=str(settings.store_db),
            store_bytes=store.size_bytes(),
            rows=rows,
            last_ok_time=last_ok_time,
            last_ok_age_s=(now - last_ok_time).total_seconds() if last_ok_time else None,
            last_poll_time=from_epoch(last_any["requested_at"]) if last_any is not None else None,
            last_poll_status=last_any["status"] if last_any is not None else None,
            last_poll_error=settings.redact(last_any["error"]) if last_any is not None and last_any["error"] else None,
            counts=counts,
            credits_remaining=credit_rows[0]["credits_remaining"] if credit_rows else None,
            credits_seen_at=from_epoch(credit_rows[0]["requested_at"]) if credit_rows else None,
            rate_limited_until=blocked,
            next_poll_allowed=blocked or now,
            integrity=store.integrity_check() if check else None,
            last_alert=recent[0]["line"] if recent else None,
            last_alert_time=from_epoch(recent[0]["created_at"]) if recent else None,
            pending_deliveries=int(store.query("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")[0][0]),
        )


@dataclass(frozen=True)
class PlanRow:
    account: str
    daily_credits: int
    polls_per_day: int
    min_interval_s: float | None  # None: the budget cannot afford one poll a day


@dataclass(frozen=True)
class PlanReport:
    box: BBox
    credits_per_poll: int
    rows: tuple[PlanRow, ...]
    account_in_force: str
    interval_in_force_s: float
    warning: str | None


def plan(settings: Settings) -> PlanReport:
    """Credit cost of one poll and the sustainable cadence for each account type."""
    zone_set = zone_set_for(settings)
    box = zone_set.polling_box
    cost = box.credits
    rows = []
    tiers = dict(ACCOUNT_CREDITS)
    if settings.opensky_daily_credits:
        tiers["configured"] = settings.opensky_daily_credits
    for account, credits in tiers.items():
        floor = RESOLUTION_S["anonymous" if account == "anonymous" else "authenticated"]
        polls = math.floor(credits * settings.opensky_budget_share / cost)
        interval = max(floor, 86_400 / polls) if polls else None
        rows.append(PlanRow(account, credits, polls, interval))
    in_force = settings.watch_interval_s or poll_interval(settings, cost)
    warnings = [w for w in (zone_set.credit_step_warning(),) if w]
    if settings.opensky_account not in ("auto", "anonymous") and not settings.authenticated:
        warnings.append(
            f"opensky.account is {settings.opensky_account} but no API client credentials are set: calls are "
            "anonymous and draw on the anonymous 400 credits a day; set OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET"
        )
    if settings.opensky_daily_credits and settings.opensky_daily_credits < cost:
        warnings.append(
            f"opensky.daily_credits ({settings.opensky_daily_credits}) is less than one poll costs ({cost}); "
            "watch will still poll once a day"
        )
    warning = "; ".join(warnings) or None
    return PlanReport(box, cost, tuple(rows), settings.account_type, in_force, warning)
