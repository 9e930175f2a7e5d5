"""Backfill: past days from adsb.lol's archive into the store, each day whole or not at all.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). For each UTC day:
skip it if the store holds it complete (unless ``force``); find its release (or the local files
``--archive`` gave); stream its tar once (``sources.archive.reader``): the heatmaps become
snapshots every ``step`` seconds, the traces over the box give each aircraft's database facts and
legs; check the day (48 heatmaps, 256 trace folders, a size near its neighbours'), and if it fails,
read the day's other release (if none passes, the best read is stored as ``partial``, with its
gaps, and the next run reads the day again); then, under the store's lock, store it in one transaction
(``store.archive.write_day``): the civil aircraft as snapshots of source ``adsblol-archive`` (a
missing heatmap is a gap for its half hour, never a zero), the military ones (adsb.lol's
``dbFlags``) apart. A day no release of which can be read is recorded as failed, and the next
day goes on. Nothing here prints; ``progress`` hears of every step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from geo.zoneset import ZoneSet
from monitor.checks import load_checks
from monitor.clock import utcnow
from monitor.errors import ConfigError
from monitor.ingest import prepare_day
from monitor.pipeline.compact import compact_stored_day
from monitor.pipeline.locking import store_lock
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.archive.attempts import Attempt, local_attempt, read_attempts, remote_attempts, snapshots_in
from monitor.sources.archive.heatmap import Box
from monitor.sources.archive.local import LocalDay, local_days
from monitor.sources.archive.reader import TracePool
from monitor.sources.archive.tarstream import ArchiveError
from monitor.sources.registry import ARCHIVE
from monitor.store.archive import (
    ArchiveDay,
    neighbour_sizes,
    record_failed_day,
    stored_day,
    write_day,
)
from monitor.store.db import Store

if TYPE_CHECKING:
    import requests

__all__ = ["SOURCE", "BackfillProgress", "DayResult", "backfill", "days_between"]

log = logging.getLogger(__name__)

SOURCE = ARCHIVE
LOCK_WAIT_S = 120.0  # how long a finished day waits for a cron run's lock before giving up


@dataclass(frozen=True)
class DayResult:
    """What happened to one day: ``stored`` (``replaced`` under --force), ``skipped`` (already
    complete), ``partial`` (no release passed the day's checks: the best read is stored with its
    gaps, and the next run reads the day again), ``kept`` (a new read no better than the day stored
    before, which stays), ``failed`` (no release could be read; recorded), ``absent`` (not among the
    --archive paths). ``error`` says what went wrong for the last four."""

    day: date
    outcome: str
    record: ArchiveDay | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    military: int = 0  # military aircraft seen over the box
    no_db: int = 0  # aircraft whose traces had no database entry


class BackfillProgress(Protocol):
    def day_started(self, n: int, of: int, day: date, what: str, total_bytes: int | None) -> None: ...

    def advanced(self, read_bytes: int, members: int) -> None: ...

    def day_done(self, result: DayResult) -> None: ...


class _Silent:
    def day_started(self, n: int, of: int, day: date, what: str, total_bytes: int | None) -> None:
        return None

    def advanced(self, read_bytes: int, members: int) -> None:
        return None

    def day_done(self, result: DayResult) -> None:
        return None


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _areas(settings: Settings, zone_set: ZoneSet) -> tuple[Box, dict[str, Box]]:
    box = zone_set.polling_box
    edges: Box = (box.west, box.south, box.east, box.north)
    checks = load_checks(settings.checks_file)
    return edges, {"box": edges, **{c.name: c.box for c in checks.controls}}


def backfill(
    settings: Settings,
    first: date | None,
    last: date | None,
    *,
    archive: Sequence[Path] = (),
    step_s: int | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: BackfillProgress | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = utcnow,
) -> list[DayResult]:
    """Backfill the UTC days ``first`` to ``last`` (both included; with ``archive``, None means
    every day the paths hold) from adsb.lol's archive: the releases online, or the local files of
    ``archive``. Returns one :class:`DayResult` per day, in order.

    Raises ConfigError for a bad step, bad --archive paths or a bad checks file, StoreError for a
    store that cannot be written, LockHeld when a finished day waited too long for the lock."""
    step = step_s or settings.backfill_step_s
    if step % 30 or step <= 0:
        key = "--step" if step_s else "backfill.step_s"
        raise ConfigError(f"{key} must be a multiple of the archive's 30 s slices, got {step}", key=key)
    zone_set = zone_set_for(settings)
    box, areas = _areas(settings, zone_set)
    found: dict[date, LocalDay] = {}
    if archive:
        try:
            found = local_days(archive)
        except ArchiveError as exc:
            raise ConfigError(str(exc), key="--archive") from None
    if first is None or last is None:
        if not found:
            raise ConfigError("give the days to backfill: --from DAY --to DAY (or --archive PATH...)", key="--from")
        first, last = first or min(found), last or max(found)
    if last < first:
        raise ConfigError(f"--to {last} is before --from {first}", key="--to")
    today = clock().date()
    if last >= today:
        raise ConfigError(
            f"--to {last}: the archive holds whole past days only (today is {today} UTC); end at "
            f"{today - timedelta(days=1)}",
            key="--to",
        )
    if not archive:
        from monitor.sources.archive.release import FIRST_DAY

        if first < FIRST_DAY:
            raise ConfigError(
                f"--from {first}: adsb.lol's archive starts on {FIRST_DAY}; choose a later day", key="--from"
            )
    days = days_between(first, last)
    heard = progress or _Silent()
    with store_lock(settings, wait_s=LOCK_WAIT_S):  # before any download: `watch` holds it while it runs
        pass
    results: list[DayResult] = []
    n_workers = workers if workers is not None else settings.backfill_workers
    if n_workers == 0:
        import os

        n_workers = os.cpu_count() or 1
    own_session = None
    if not archive and session is None:
        import requests

        own_session = session = requests.Session()
    http = session
    listings: dict[int, str] = {}

    def attempts_for(day: date) -> tuple[list[Attempt], str] | None:
        """The ways to read ``day`` (with why there is none), or None: not among the local paths."""
        if archive or http is None:
            return ([local_attempt(found[day])], "") if day in found else None
        try:
            return remote_attempts(
                day, http, sleep, listings, settings.backfill_raw_url, settings.backfill_download_url
            ), ""
        except ArchiveError as exc:
            return [], str(exc)

    try:
        with Store(settings.store_db, redact=settings.redact) as store, TracePool(n_workers) as pool:
            for n, day in enumerate(days, 1):
                result = _one_day(settings, store, pool, zone_set, day, (n, len(days)), attempts_for, step, box,
                                  areas, force, heard, clock)  # fmt: skip
                heard.day_done(result)
                results.append(result)
    finally:
        if own_session is not None:
            own_session.close()
    return results


def _one_day(
    settings: Settings,
    store: Store,
    pool: TracePool,
    zone_set: ZoneSet,
    day: date,
    position: tuple[int, int],
    attempts_for: Callable[[date], tuple[list[Attempt], str] | None],
    step: int,
    box: Box,
    areas: dict[str, Box],
    force: bool,
    heard: BackfillProgress,
    clock: Callable[[], datetime],
) -> DayResult:
    """Skip, read and store, or record the failure of, one day."""
    started = time.monotonic()
    held = stored_day(store, SOURCE, day)
    complete = held is not None and held.status == "complete"
    if complete and not force:
        return DayResult(day, "skipped", held)
    ways = attempts_for(day)
    if ways is None:
        return DayResult(day, "absent", error=f"{day}: not among the --archive paths")
    attempts, why = ways
    n, of = position
    got, errors = read_attempts(
        attempts,
        day,
        neighbour_sizes(store, SOURCE, day),
        step,
        box,
        areas,
        pool,
        lambda tag, total: heard.day_started(n, of, day, tag, total),
        heard.advanced,
    )
    if got is not None and not snapshots_in(got.read):
        errors.append(f"{day} ({got.attempt.tag}): not one snapshot could be read from it")
        got = None
    if got is None:
        why = "; ".join(errors) or why
        failed = ArchiveDay(SOURCE, day, "failed", None, None, step, clock(), error=why)
        with store_lock(settings, wait_s=LOCK_WAIT_S):
            recorded = record_failed_day(store, failed)
        if not recorded and held is not None:
            why += f" (the day stored before, from {held.release}, is kept)"
        return DayResult(day, "failed", failed, error=why, seconds=time.monotonic() - started)
    status = "partial" if got.suspect else "complete"
    better = (
        held is None
        or held.status == "failed"
        or (held.status == "partial" and held.snapshots < snapshots_in(got.read))
    )
    if status == "partial" and not better:  # a suspect read never replaces a day at least as good
        kept = f"no better than the day stored before, from {held.release if held else '?'}, which is kept"
        return DayResult(
            day, "kept", held, error=f"{'; '.join(got.suspect)}: {kept}", seconds=time.monotonic() - started
        )
    warnings = [f"{e}; read {got.attempt.tag} instead" for e in errors] + got.suspect + got.warnings
    write, military, no_db = prepare_day(
        got.read, day, got.attempt.tag, got.attempt.location, zone_set, step, warnings, clock(), status
    )
    suspect, stored = list(got.suspect), write.day
    with store_lock(settings, wait_s=LOCK_WAIT_S):
        wrote = write_day(store, write, store.zone_set_id(zone_set), replace=force)
        del write, got  # the day as read is stored: let it go before its positions are read back
        if wrote:  # a past day is closed: into Parquet at once
            compact_stored_day(store, SOURCE, day)
    if not wrote:  # another backfill stored it meanwhile
        return DayResult(day, "skipped", stored_day(store, SOURCE, day))
    partial = "; ".join(suspect) + ": stored with its gaps; the next backfill reads the day again"
    return DayResult(
        day,
        "partial" if suspect else "replaced" if complete else "stored",
        stored,
        error=partial if suspect else None,
        warnings=tuple(warnings),
        seconds=time.monotonic() - started,
        military=military,
        no_db=no_db,
    )
