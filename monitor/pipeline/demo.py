"""Demo: simulated November 2025 traffic into its own store, through the real ingest path, then the
report on it. No account needed; everything is marked SIMULATED DATA.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). The simulated polls
(``sources.simulated``) are OpenSky replies in OpenSky's exact format: they go through the OpenSky
parser and ``ingest`` like real ones, recorded with source ``demo`` and ``simulated = 1``, into
``demo.db`` (never the real store, which the demo refuses to touch).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from monitor.clock import utcnow
from monitor.errors import ConfigError, NotAStore
from monitor.ingest import ingest
from monitor.pipeline.compact import compact_some
from monitor.pipeline.locking import store_lock
from monitor.pipeline.report import Progress, ReportResult, no_progress, report
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.simulated.flights import simulate_replies
from monitor.sources.simulated.reply import DEMO, simulated_reply
from monitor.sources.simulated.scenario import Scenario, november_2025
from monitor.store.dataset import remove_dataset
from monitor.store.db import Store
from monitor.store.snapshots import PollRecord, real_poll_count, record_poll

__all__ = ["DemoResult", "fill_simulated", "run_demo"]


def fill_simulated(
    settings: Settings, db: Path, scenario: Scenario, progress: Progress = no_progress, source: str = DEMO
) -> tuple[int, int, int]:
    """Feed every simulated poll of ``scenario`` through the real ingest path into the store ``db``.

    Polls are recorded with ``source`` (``demo``; tests name others) and ``simulated = 1``; a
    scenario gap is recorded as a failed poll. Returns (polls, failed polls, positions).
    """
    zone_set = zone_set_for(settings)
    box = zone_set.polling_box
    total = int((scenario.end - scenario.start).total_seconds() // scenario.interval_s)
    polls = gaps = positions = 0
    with Store(db) as store, progress("simulating polls", total) as bar:
        for poll in simulate_replies(dataclasses.replace(scenario, box=box)):
            requested = poll.time + timedelta(seconds=2)
            if poll.doc is None:
                error = f"simulated {poll.status.replace('_', ' ')}"
                record_poll(store, PollRecord(source, requested, poll.status, error=error, simulated=True))
                gaps += 1
            else:
                reply = simulated_reply(poll.doc, box, settings.opensky_stale_after_s)
                done = ingest(store, zone_set, reply, PollRecord(source, requested, "ok", simulated=True))
                positions += int(done.record.n_states or 0)
            polls += 1
            bar.update(1)
    return polls, gaps, positions


def _check_demo_store(db: Path) -> None:
    """Refuse to replace ``db`` unless it is a demo store: a vzmon store holding only simulated polls."""
    try:
        with Store.open_existing(db) as store:
            real = real_poll_count(store)
    except NotAStore as exc:
        raise ConfigError(
            f"demo.db ({db}) is not a demo store, so the demo will not replace it ({exc}); set VZMON_DEMO_DB to "
            "another file",
            key="demo.db",
        ) from None
    if real:
        raise ConfigError(
            f"demo.db ({db}) holds {real:,} real (not simulated) polls, so the demo will not replace it; set "
            "VZMON_DEMO_DB to another file",
            key="demo.db",
        )


@dataclass(frozen=True)
class DemoResult:
    db: Path
    polls: int
    gaps: int
    positions: int
    reports: tuple[ReportResult, ...]


def run_demo(
    settings: Settings,
    *,
    scenario: Scenario | None = None,
    interval_s: float = 600.0,
    overflight_drop: float = 0.7,
    events: Sequence[str] = ("trump-post-airspace-closed",),
    progress: Progress = no_progress,
    fresh: bool = True,
) -> DemoResult:
    """Simulate ``scenario`` into ``settings.demo_db`` and report on ``events``.

    The default scenario is November 2025 (``sources.simulated.scenario.november_2025``) polled every ``interval_s``,
    with ``overflight_drop`` of the overflights gone after the 29 Nov post.

    Every simulated poll goes through ``ingest`` like a real one, recorded with source ``demo``
    and ``simulated = 1``. ``fresh`` replaces an earlier demo store.
    """
    scenario = scenario or november_2025(interval_s=interval_s, overflight_factor=1.0 - overflight_drop)
    db = settings.demo_db
    if db.resolve() == settings.store_db.resolve():
        raise ConfigError(
            "demo.db is the same file as store.db; the demo never writes into the real store: "
            "set VZMON_DEMO_DB to another file",
            key="demo.db",
        )
    if fresh:
        store_id = None
        if db.exists():
            _check_demo_store(db)
            with Store.open_existing(db) as old:
                store_id = old.meta("store_id")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        remove_dataset(db, store_id)  # the old demo store's Parquet days (never another store's)
    with store_lock(dataclasses.replace(settings, store_db=db)):
        polls, gaps, positions = fill_simulated(settings, db, scenario, progress)
        with Store(db) as store:  # its days are past: into Parquet, as a store collect has run on for weeks
            compact_some(store, utcnow())
    out = settings.store_outputs_dir / "demo" / "reports"
    # the demo's store holds its one source, whatever collect.sources names
    reports = tuple(report(settings, e, db=db, out_dir=out / e, progress=progress, source=DEMO) for e in events)
    return DemoResult(db, polls, gaps, positions, reports)
