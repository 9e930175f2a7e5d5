"""Report: the before/after report of one event, from the store to the files a journalist publishes.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). :func:`report` reads
the two windows' polls, counts and positions from the store, builds flights, compares the windows
(``analysis``), draws every chart of ``report.charts.registry`` and writes the report files
(``report.build``), all into a folder built aside and swapped in whole (``monitor.outputs``).
Nothing here prints; progress goes through the ``progress`` callback.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from geo.airports import airport_table
from geo.zoneset import ZoneSet
from monitor.analysis.cadence import infer_interval_s
from monitor.analysis.flights import FLIGHT_CLASSES, Tracks, build_flights
from monitor.analysis.hourly import (
    daily_unique_aircraft,
    density_grid,
    hourly_airborne,
    hourly_coverage,
    hourly_flights,
)
from monitor.analysis.stats import AnalysisRules, Change, compare, compare_daily
from monitor.analysis.verdict import verdict
from monitor.analysis.windows import Window, plan_windows
from monitor.errors import ConfigError
from monitor.events import find_event, load_events
from monitor.outputs import Layout, check_folder, staged_folder
from monitor.pipeline.zones import zone_set_for
from monitor.report.build import REPORT_FILES, ReportData, write_report
from monitor.report.charts.base import ChartInputs, DensityGrid
from monitor.report.charts.registry import CHARTS
from monitor.settings import Settings
from monitor.store.db import Store
from monitor.store.frames import count_frame, poll_frame
from monitor.store.positions import count_blocks, iter_positions

__all__ = ["REPORT_LAYOUT", "Progress", "ReportResult", "no_progress", "report"]

log = logging.getLogger(__name__)


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...


Progress = Callable[[str, int], AbstractContextManager[Bar]]


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None


def no_progress(_label: str, _total: int) -> AbstractContextManager[Bar]:
    return nullcontext(_NoBar())


_REPORT_NAMES = REPORT_FILES | {f"{chart.stem}.{ext}" for chart in CHARTS for ext in ("png", "svg")}


def _signed_report(folder: Path) -> bool:
    """A report folder written before folders were marked: its report.md says vzmon generated it."""
    try:
        head = (folder / "report.md").read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith("# Air traffic before and after") and " by vzmon from " in head


REPORT_LAYOUT = Layout(
    kind="before/after report",
    holds=lambda entry: entry.is_file() and entry.name in _REPORT_NAMES,
    signed=_signed_report,
)


@dataclass(frozen=True)
class ReportResult:
    out_dir: Path
    files: dict[str, Path]
    charts: dict[str, list[Path]]
    data: ReportData

    @property
    def headline(self) -> list[str]:
        fir = self.data.changes[0].zone if self.data.changes else "SVZM"
        lines = [self.data.verdict]
        for c in self.data.changes:
            if c.zone == fir and c.measure in ("airborne", "flights"):
                label = f"{c.measure} {c.flight_class or ''}".strip()
                lines.append(f"  {label:<22} {c.before:8.1f} -> {c.after:8.1f} {c.unit:<24} {c.percent()}")
        return lines


def _rules(settings: Settings) -> AnalysisRules:
    return AnalysisRules(
        window_days=settings.report_window_days,
        min_coverage=settings.report_min_coverage,
        min_days=settings.report_min_days,
    )


def report(
    settings: Settings,
    event_id: str,
    *,
    db: Path | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    days: float | None = None,
    out_dir: Path | None = None,
    progress: Progress = no_progress,
    now: datetime | None = None,
) -> ReportResult:
    """Compare traffic before and after ``event_id`` and write the report; see ``analysis`` for the method."""
    rules = _rules(settings)
    events = load_events(settings.events_file)
    event = find_event(events, event_id)
    windows = plan_windows(event, events, days or rules.window_days, start, end)
    before, after = windows
    if start is not None and start >= event.start:
        raise ConfigError(
            f"--from {start:%Y-%m-%dT%H:%MZ} must be before the event ({event.start:%Y-%m-%dT%H:%MZ})", key="--from"
        )
    if end is not None and end <= event.end:
        raise ConfigError(
            f"--to {end:%Y-%m-%dT%H:%MZ} must be after the event ({event.end:%Y-%m-%dT%H:%MZ})", key="--to"
        )
    zone_set = zone_set_for(settings)
    fir = zone_set.fir.code
    zones = [z.code for z in zone_set.zones]
    path = db or settings.store_db
    out = out_dir or settings.reports_dir / event.id
    check_folder(out, REPORT_LAYOUT, "--out")  # refuse before the work, not after it
    span_start, span_end = before.start, max(after.end, before.end)
    # Positions from FLIGHT_LEAD before and after the windows: an aircraft already airborne when
    # the before window opens is known from before it (not a flight starting in the window's first
    # hour, nor classed from a mid-air first position), and one still airborne when the after
    # window closes is followed to its landing.
    read_start, read_end = span_start - FLIGHT_LEAD, span_end + FLIGHT_LEAD
    with Store.open_existing(path) as store:
        polls = poll_frame(store, span_start - timedelta(days=1), span_end + timedelta(days=1))
        counts = count_frame(store, span_start, span_end)
        n_blocks = count_blocks(store, read_start, read_end)
        with progress("reading positions", n_blocks) as bar:
            tracks = Tracks.from_tables(
                iter_positions(store, read_start, read_end, Tracks.COLUMNS, progress=bar.update), zones
            )
    intervals = tuple(settings.report_interval_s or _cadence(polls, w) for w in windows)
    simulated = bool(polls["simulated"].any()) if len(polls) else False
    ok_times = polls.loc[polls["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    with progress("building flights", 1) as bar:
        flights, entries = build_flights(tracks, airport_table(zone_set), fir, ok_times=ok_times)
        bar.update(1)

    cov = [hourly_coverage(polls, w, i) for w, i in zip(windows, intervals, strict=True)]
    air = [hourly_airborne(counts, w, zones) for w in windows]
    fl = [hourly_flights(entries, flights, w, zones, fir) for w in windows]
    uniq = [daily_unique_aircraft(entries, w, zones, c, rules.min_coverage) for w, c in zip(windows, cov, strict=True)]

    def sides(tables: list[pd.DataFrame], column: str, **what: Any) -> Change:
        return compare(tables[0][column], tables[1][column], cov[0], cov[1], rules=rules, **what)

    per_day: dict[str, Any] = {"unit": "flights per day", "scale": 24.0}
    first = zones[0]  # the FIR
    changes: list[Change] = [
        *(sides(air, z, measure="airborne", zone=z, unit="aircraft airborne") for z in zones),
        *(sides(fl, z, measure="flights", zone=z, **per_day) for z in zones),
        *(sides(fl, f"{fir}:{n}", measure="flights", zone=fir, flight_class=n, **per_day) for n in FLIGHT_CLASSES),
        compare_daily(
            uniq[0].get(first, pd.Series(dtype=float)),
            uniq[1].get(first, pd.Series(dtype=float)),
            measure="unique_aircraft",
            zone=first,
            unit="aircraft per day",
            rules=rules,
        ),
    ]
    coverage = tuple(float(c.mean()) if len(c) else 0.0 for c in cov)
    text = verdict(event, windows, (coverage[0], coverage[1]), changes, fir)

    lo, hi = int(span_start.timestamp()), int(span_end.timestamp())
    n_positions = int(((tracks.t >= lo) & (tracks.t < hi)).sum())
    n_flights = (
        int((pd.to_datetime(flights["last_time"], utc=True) >= pd.Timestamp(span_start)).sum()) if len(flights) else 0
    )
    context_start = span_start - timedelta(days=2)
    context_end = span_end + timedelta(days=2)
    context = Window("context", context_start, context_end)
    with Store.open_existing(path) as store:
        all_counts = count_frame(store, context_start, context_end)
        all_polls = poll_frame(store, context_start, context_end)
    series = hourly_airborne(all_counts, context, zones)
    split = event.start.replace(minute=0, second=0, microsecond=0)  # each side at its own cadence
    series_cov = pd.concat([
        hourly_coverage(all_polls, Window("context", context_start, split), intervals[0]),
        hourly_coverage(all_polls, Window("context", split, context_end), intervals[1]),
    ])  # fmt: skip
    series[series_cov < rules.min_coverage] = float("nan")
    hours = tuple(float((c >= rules.min_coverage).sum()) for c in cov)
    inputs = ChartInputs(
        event=event,
        events=tuple(e for e in events if context_start <= e.time < context_end or e.id == event.id),
        windows=windows,
        zone_set=zone_set,
        zones=tuple(zones),
        hourly=series,
        changes=tuple(changes),
        density=(_density(tracks, polls, before, zone_set), _density(tracks, polls, after, zone_set)),
        flights=(_flights_in(flights, before), _flights_in(flights, after)),
        days_with_data=(max(hours[0] / 24, 1e-9), max(hours[1] / 24, 1e-9)),
        simulated=simulated,
    )
    with staged_folder(out, REPORT_LAYOUT, "--out") as stage:
        charts: dict[str, list[Path]] = {}
        with progress("drawing charts", len(CHARTS)) as bar:
            for chart in CHARTS:
                charts[chart.title(inputs)] = chart.draw(inputs, stage / chart.stem)
                bar.update(1)
        data = ReportData(
            event=event,
            windows=windows,
            coverage=(coverage[0], coverage[1]),
            changes=tuple(changes),
            verdict=text,
            charts=charts,
            simulated=simulated,
            store=str(path),
            generated_at=now or datetime.now(UTC),
            interval_s=(intervals[0], intervals[1]),
            n_positions=n_positions,
            n_flights=n_flights,
            rules=rules,
            zone_fingerprint=zone_set.fingerprint,
            fir=fir,
            unclassed=(_unclassed_share(fl[0], cov[0], fir, rules), _unclassed_share(fl[1], cov[1], fir, rules)),
        )
        files = write_report(data, stage)
    # the staged folder is now ``out``: name the files where they are
    files = {k: out / v.name for k, v in files.items()}
    charts = {title: [out / p.name for p in paths] for title, paths in charts.items()}
    data = dataclasses.replace(data, charts=charts)
    log.info("report %s written to %s (%d positions, %d flights)", event.id, out, n_positions, n_flights)
    return ReportResult(out, files, charts, data)


def _unclassed_share(table: pd.DataFrame, coverage: pd.Series, fir: str, rules: AnalysisRules) -> float:
    """Share of the FIR's flights, in the window's covered hours, whose class is unknown."""
    covered = coverage.reindex(table.index).fillna(0.0) >= rules.min_coverage
    total = float(table.loc[covered, fir].sum())
    return float(table.loc[covered, f"{fir}:unknown"].sum()) / total if total > 0 else 0.0


def _cadence(polls: pd.DataFrame, window: Window) -> float:
    """The polling cadence inside ``window`` (falls back to all polls read when the window has few)."""
    t = polls["time"]
    inside = t[(t >= pd.Timestamp(window.start)) & (t < pd.Timestamp(window.end))]
    return infer_interval_s((inside if len(inside) >= 3 else t).to_numpy(dtype="datetime64[s]"))


def _flights_in(flights: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Flights with an airborne position in the FIR that were first seen inside ``window``."""
    if not len(flights):
        return flights
    first = pd.to_datetime(flights["first_time"], utc=True)
    inside = (first >= pd.Timestamp(window.start)) & (first < pd.Timestamp(window.end))
    return flights[inside & flights["in_fir"].astype(bool)]


MAP_CELL_DEG = 0.25
FLIGHT_LEAD = timedelta(hours=6)  # positions read before the first window (see report())


def _density(tracks: Tracks, polls: pd.DataFrame, window: Window, zone_set: ZoneSet) -> DensityGrid:
    """Mean airborne aircraft per map cell at a successful snapshot inside ``window``."""
    lo, hi = int(window.start.timestamp()), int(window.end.timestamp())
    mask = (tracks.t >= lo) & (tracks.t < hi) & ~tracks.ground
    t = polls["time"]
    ok = int(((polls["status"] == "ok") & (t >= pd.Timestamp(window.start)) & (t < pd.Timestamp(window.end))).sum())
    b = zone_set.polling_box
    grid, xe, ye = density_grid(
        tracks.lon[mask], tracks.lat[mask], (b.west, b.south, b.east, b.north), MAP_CELL_DEG, ok
    )
    return DensityGrid(grid, xe, ye, ok)
