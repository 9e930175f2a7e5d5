"""Compaction: closed days' position blocks into the store's Parquet dataset (``store.dataset``).

Part of ``monitor.pipeline``. A UTC day is closed an hour after it ends (``CLOSE_GRACE``: a poll
of 23:59 is stored a few seconds later, and the combined view's last slot a poll after that).
``collect`` and ``watch`` compact one closed day after their polls (:func:`compact_some`, a
fraction of a second; a day of several sources takes that many runs), ``backfill`` each day it
stores, and ``vzmon compact`` all of them at once (:func:`compact`), under the store's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.clock import utcnow
from monitor.pipeline.locking import store_lock
from monitor.settings.table import Settings
from monitor.store.compacted import pending_days, superseded
from monitor.store.db import Store

__all__ = ["CLOSE_GRACE", "CompactRun", "compact", "compact_after_polls", "compact_some", "compact_stored_day"]

log = logging.getLogger(__name__)

CLOSE_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class CompactRun:
    days: int  # (source, day) pairs moved into Parquet
    positions: int
    bytes: int  # of the Parquet files written
    left: int  # closed days still in blocks (a limited run)
    removed: int  # leftovers of crashed runs removed


def compact_some(
    store: Store,
    now: datetime,
    limit: int | None = None,
    progress: Callable[[str], object] | None = None,
    step: Callable[[str], object] = lambda _: None,
) -> CompactRun:
    """Compact up to ``limit`` (None: every) closed (source, day) still held in blocks, oldest first."""
    pending = pending_days(store, now - CLOSE_GRACE)  # SQL only: a cron run with nothing to do loads no more
    todo = pending if limit is None else pending[:limit]
    if not todo and superseded(store) is None:
        return CompactRun(0, 0, 0, len(pending), 0)
    from monitor.store.dataset import compact_day, finish_removal

    finish_removal(store)  # what a run that died after its commit left to remove
    days = positions = size = 0
    for source, day in todo:
        done = compact_day(store, source, day, step=step)
        if done is not None:
            days, positions, size = days + 1, positions + done.n_positions, size + done.bytes
            log.info("compacted %s's %s: %d positions, %.1f MB", source, day, done.n_positions, done.bytes / 1e6)
            if progress:
                progress(f"{source} {day}: {done.n_positions:,} positions, {done.bytes / 1e6:.1f} MB")
    return CompactRun(days, positions, size, len(pending) - len(todo), 0)


def compact_after_polls(store: Store, now: datetime) -> None:
    """One closed day, after a ``collect`` or ``watch`` poll: a failure is logged, never the poll's."""
    try:
        compact_some(store, now, limit=1)
    except Exception as exc:  # the poll and its alerts are done; compaction waits for the next run
        log.warning("compaction skipped (the positions stay in the store, nothing is lost): %s", exc)
        log.debug("compaction failed", exc_info=True)


def compact_stored_day(store: Store, source: str, day: date) -> None:
    """A day ``backfill`` just stored: a failure is logged (its blocks stay), never the day's."""
    from monitor.store.dataset import compact_day

    try:
        compact_day(store, source, day)
    except Exception as exc:  # the day is stored; only its move to Parquet waits
        log.warning("%s's %s stays in the store's blocks until `vzmon compact`: %s", source, day, exc)
        log.debug("compaction failed", exc_info=True)


def compact(
    settings: Settings, clock: Callable[[], datetime] = utcnow, progress: Callable[[str], object] | None = None
) -> CompactRun:
    """``vzmon compact``: every closed day into Parquet, and what crashed runs left behind removed."""
    from monitor.store.dataset import sweep

    with store_lock(settings), Store.open_existing(settings.store_db, redact=settings.redact) as store:
        removed = sweep(store)
        run = compact_some(store, clock(), progress=progress)
    return CompactRun(run.days, run.positions, run.bytes, run.left, removed)
