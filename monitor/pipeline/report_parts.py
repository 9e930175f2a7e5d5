"""The report's side readings: who saw what (several networks), each network's FIR series, what
adsb.lol's archive adds, and a scratch folder for the flights' buckets.

Part of ``monitor.pipeline``: ``pipeline.report`` calls these with its open store.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from monitor.analysis.archive import cross_checks, military_hourly, military_rows
from monitor.analysis.before_after import cadence_in, context_series
from monitor.analysis.overlap import AREAS_RING, SIGHTING_COLUMNS, WindowOverlap, overlap, seen_in, slot_coverage
from monitor.analysis.windows import Window
from monitor.checks import load_checks
from monitor.report.build import ArchivePart
from monitor.settings.table import Settings
from monitor.sources.registry import ARCHIVE, COMBINED
from monitor.store.archive import archive_aircraft, legs_between, military_positions, stored_days
from monitor.store.db import Store
from monitor.store.frames import count_frame, poll_frame
from monitor.store.positions import iter_positions
from monitor.store.snapshots import poll_rows, sources_between

__all__ = ["archive_legs", "archive_part", "per_source", "scratch", "who_saw"]


@contextmanager
def scratch(out: Path) -> Iterator[str]:
    """A private folder for the flights' buckets: beside the report's folder (the outputs' disk),
    else the system's temporary folder; removed afterwards. Each holds a lock while in use, so the
    folders of reports that were killed (which nothing else removes) are removed here."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(out.parent)
        tmp = tempfile.TemporaryDirectory(prefix=".vzmon-report-", dir=out.parent)
    except OSError:
        tmp = tempfile.TemporaryDirectory(prefix="vzmon-report-")
    with tmp as folder, open(Path(folder) / _IN_USE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield folder


_IN_USE = ".in-use"


def _remove_abandoned(parent: Path) -> None:
    """Remove the bucket folders of reports no longer running (their lock is free)."""
    for folder in parent.glob(".vzmon-report-*"):
        try:
            with open(folder / _IN_USE) as held:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a report running now
        except OSError:  # no lock file: killed before it took its lock, or another report's, just made
            if time.time() - folder.stat().st_mtime < 3600:
                continue
        shutil.rmtree(folder, ignore_errors=True)


def who_saw(
    store: Store, windows: tuple[Window, Window], networks: tuple[str, ...], fir: str, step_s: int
) -> tuple[WindowOverlap, ...]:
    """Per window and area (the FIR, the ring): how the networks' aircraft overlap, with each
    network's grid coverage of the window. Empty with fewer than two networks."""
    if len(networks) < 2:
        return ()
    rows = []
    for w in windows:
        seen = {n: seen_in(iter_positions(store, w.start, w.end, SIGHTING_COLUMNS, sources=[n]), fir) for n in networks}
        coverage = {
            n: slot_coverage([t for _, t, st, _ in poll_rows(store, w.start, w.end, [n]) if st in ("ok", "empty")],
                             w.start, w.end, step_s)
            for n in networks
        }  # fmt: skip
        for area in (fir, AREAS_RING):
            rows.append(WindowOverlap(w.label, overlap(area, {n: s.aircraft[area] for n, s in seen.items()}), coverage))
    return tuple(rows)


def per_source(
    store: Store,
    settings: Settings,
    context: Window,
    split: pd.Timestamp,
    fir: str,
    networks: tuple[str, ...],
    min_coverage: float,
    read: dict[tuple[str, ...], tuple[pd.DataFrame, pd.DataFrame]],
) -> pd.DataFrame:
    """Hourly aircraft airborne in the FIR over ``context``, a column per network and one for the
    combined view when the store holds it there; each source judged at its own cadence (gaps NaN).
    ``read``: (polls, counts) of ``context`` already read, by source list."""
    present = sources_between(store, context.start, context.end)
    columns = {}
    for name in (*networks, *((COMBINED,) if COMBINED in present else ())):
        polls, counts = read.get((name,)) or (
            poll_frame(store, context.start, context.end, [name]),
            count_frame(store, context.start, context.end, [name]),
        )
        interval = settings.report_interval_s or cadence_in(polls, context)
        columns[name] = context_series(counts, polls, context, split, [fir], (interval, interval), min_coverage)[fir]
    return pd.DataFrame(columns)


def archive_part(
    store: Store,
    settings: Settings,
    context: Window,
    windows: tuple[Window, Window],
    counts: pd.DataFrame,
    polls: pd.DataFrame,
    fir: str,
    step_s: float,
) -> ArchivePart:
    """What a report on adsb.lol's archive adds: the military aircraft (series and table), the
    aircraft without a database entry, the published values at instants of the context, and the
    health of each day read."""
    military = pd.DataFrame(
        military_positions(store, ARCHIVE, context.start, context.end),
        columns=["time", "icao24", "zone", "lon", "lat", "baro_altitude_m", "on_ground", "callsign", "registration",
                 "typecode", "description"],
    )  # fmt: skip
    military["time"] = pd.to_datetime(military["time"], unit="s", utc=True)
    ok_times = polls.loc[polls["status"] == "ok", "time"]
    span_start, span_end = windows[0].start, max(w.end for w in windows)
    aircraft = pd.DataFrame(
        archive_aircraft(store, ARCHIVE, span_start, span_end), columns=["day", "icao24", "military", "no_db"]
    )
    days = stored_days(store, ARCHIVE, context.start.date(), (context.end - timedelta(seconds=1)).date())
    return ArchivePart(
        hourly=military_hourly(military, ok_times, context.start, context.end, fir),
        military=tuple(military_rows(military, ok_times, windows, fir)),
        cross_checks=tuple(
            cross_checks(
                load_checks(settings.checks_file).references, counts, military, context.start, context.end, step_s
            )
        ),
        days=tuple(days),
        aircraft=int(aircraft["icao24"].nunique()),
        military_aircraft=int(aircraft.loc[aircraft["military"] == 1, "icao24"].nunique()),
        no_db=int(aircraft.loc[aircraft["no_db"] == 1, "icao24"].nunique()),
    )


def archive_legs(path: Path, start: datetime, end: datetime) -> pd.DataFrame:
    """The archive's legs over ``[start, end)`` with UTC times (``analysis.archive.with_legs``)."""
    with Store.open_existing(path) as store:
        legs = pd.DataFrame(
            legs_between(store, ARCHIVE, start, end),
            columns=[
                "icao24",
                "takeoff_time",
                "takeoff_lon",
                "takeoff_lat",
                "landing_time",
                "landing_lon",
                "landing_lat",
            ],
        )
    for column in ("takeoff_time", "landing_time"):
        legs[column] = pd.to_datetime(legs[column], unit="s", utc=True)
    return legs
