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
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from geo.airports import airport_table
from monitor.analysis.archive import with_legs
from monitor.analysis.before_after import (
    cadence_in,
    cell_sums_for,
    compare_windows,
    context_series,
    densities,
    fir_flights_in,
    footprint_of,
)
from monitor.analysis.buckets import AircraftBuckets, buckets_for
from monitor.analysis.flights import FlightRules, build_flights
from monitor.analysis.stats import AnalysisRules
from monitor.analysis.tracks import Tracks
from monitor.analysis.verdict import verdict
from monitor.analysis.windows import Window, plan_windows
from monitor.compute import release_free_memory, unmap_large_frees
from monitor.errors import ConfigError
from monitor.events import find_event, load_events
from monitor.outputs import Layout, check_folder, staged_folder
from monitor.pipeline.report_parts import archive_legs, archive_part, per_source, scratch, who_saw
from monitor.pipeline.shared import view_for, zone_set_for
from monitor.report.build import REPORT_FILES, ReportData, write_report
from monitor.report.charts.base import ChartInputs
from monitor.report.charts.draw import draw_charts
from monitor.report.charts.registry import CHARTS
from monitor.report.credits import Provenance, seen_by
from monitor.settings.table import Settings
from monitor.sources.registry import ARCHIVE, COMBINED
from monitor.store.db import Store
from monitor.store.frames import count_frame, hourly_count_frame, poll_frame
from monitor.store.positions import block_totals, iter_positions
from monitor.store.snapshots import combined_parts, sources_between

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
    helper_private_bytes: int = 0  # memory the chart-drawing helper process used of its own (0: none)

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
        baseline_weeks=settings.report_baseline_weeks,
    )


def report(
    settings: Settings,
    event_id: str,
    *,
    db: Path | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    days: float | None = None,
    baseline_weeks: int | None = None,
    source: str | None = None,
    out_dir: Path | None = None,
    progress: Progress = no_progress,
    now: datetime | None = None,
) -> ReportResult:
    """Compare traffic before and after ``event_id`` and write the report; see ``analysis`` for the method."""
    rules = _rules(settings)
    if baseline_weeks is not None:
        rules = dataclasses.replace(rules, baseline_weeks=baseline_weeks)
    events = load_events(settings.events_file)
    event = find_event(events, event_id)
    if rules.baseline_weeks:
        key = "--baseline-weeks" if baseline_weeks is not None else "report.baseline_weeks"
        if not 2 <= rules.baseline_weeks <= 52:
            raise ConfigError(f"{key} must be 0 (off) or 2 to 52: a week-to-week interval needs 2 weeks", key=key)
        if start is not None:
            off = "" if baseline_weeks is not None else " (--baseline-weeks 0 turns the setting off)"
            raise ConfigError(f"--from and {key} both set the before window: give one{off}", key="--from")
        start = event.start - timedelta(weeks=rules.baseline_weeks)
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
    unmap_large_frees()  # months of positions pass through big temporary arrays: hand them back when freed
    with Store.open_existing(path) as store:
        chosen = view_for(settings, store, span_start, span_end, source)  # one view, never two added up
        # the charts draw the context (2 days either side): credit every network drawn there
        parts = combined_parts(store, *_context(span_start, span_end)) if chosen == [COMBINED] else ()
        # the context's polls and counts, read once: the windows' are a slice of them
        context = Window("context", *_context(span_start, span_end))
        all_polls = poll_frame(store, context.start, context.end, chosen)
        # hourly means from the hourly totals kept beside the counts; the archive's cross-checks
        # look at single snapshots, so that view reads them all
        all_counts = (
            hourly_count_frame(store, context.start, context.end, chosen[0])
            if len(chosen) == 1 and chosen != [ARCHIVE]
            else count_frame(store, context.start, context.end, chosen)
        )
        polls = _between(all_polls, span_start - timedelta(days=1), span_end + timedelta(days=1))
        counts = _between(all_counts, span_start, span_end)
        n_blocks, n_stored = block_totals(store, read_start, read_end, chosen)  # progress total, positions
        span = Window("both", span_start, span_end)
        sums = cell_sums_for(windows, zone_set, span)  # the maps' cells, summed as the days come
        with ExitStack() as spill:
            n_buckets = buckets_for(n_stored)
            folder = Path(spill.enter_context(scratch(out))) if n_buckets > 1 else None
            buckets = AircraftBuckets(zones, n_buckets, folder)  # flights a bucket of aircraft at a time
            # A pipeline of threads (Arrow and numpy let go of the GIL): while the next day's file is
            # read (iter_positions' thread), this day is made compact (its own thread, in order: the
            # codes grow as the days come), the day before is split into the buckets here, and the
            # one before that summed into the maps' cells. A day or two in hand at each step.
            compact = spill.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="vzmon-compact"))
            cells = spill.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="vzmon-cells"))
            compacting: Future[dict[str, np.ndarray]] | None = None
            summing: Future[None] | None = None

            def place(part: Future[dict[str, np.ndarray]]) -> Future[None]:
                rows = buckets.place(part.result())  # an error of the compaction is raised here
                if summing is not None:
                    summing.result()  # (and the summing's)
                return cells.submit(sums.add, rows["t"], rows["lon"], rows["lat"], rows["ground"])

            with progress("reading positions", n_blocks) as bar:
                for table in iter_positions(
                    store,
                    read_start,
                    read_end,
                    Tracks.COLUMNS,
                    progress=bar.update,
                    sources=chosen,
                    time_order=False,  # flights need each aircraft's rows in time order, no more
                    dictionaries=Tracks.DICTIONARIES,
                ):
                    made = compact.submit(buckets.codes.compact, table)
                    del table
                    if compacting is not None:
                        summing = place(compacting)
                    compacting = made
                if compacting is not None:
                    summing = place(compacting)
                if summing is not None:
                    summing.result()
            release_free_memory()  # the days' arrays, before the buckets' flights are made
            intervals = tuple(settings.report_interval_s or cadence_in(polls, w) for w in windows)
            simulated = bool(polls["simulated"].any()) if len(polls) else False
            ok_times = polls.loc[polls["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
            flight_rules = FlightRules()
            with progress("building flights", 1) as bar:
                airports = airport_table(zone_set)
                flights, entries = build_flights(buckets.loaders(), airports, fir, flight_rules, ok_times=ok_times)
                if chosen == [ARCHIVE]:  # the traces saw take-offs and landings the heatmaps' slices may miss
                    legs = archive_legs(path, read_start, read_end)
                    flights = with_legs(flights, legs, airports, flight_rules.airport_radius_km)
                bar.update(1)
    release_free_memory()  # what the join freed (the buckets' flights, a column at a time), before the measures
    compared = compare_windows(
        windows, polls, counts, flights, entries, zones, fir, (intervals[0], intervals[1]), rules
    )
    density_before, density_after = densities(sums, polls)
    seen, _ = footprint_of(sums, polls, zone_set)
    made_from = Provenance(chosen[0] if chosen else "opensky", simulated, parts)
    with Store.open_existing(path) as store:
        networks = tuple(s for s in sources_between(store, span_start, span_end) if s != COMBINED)
        seen_by_network = who_saw(store, windows, networks, fir, settings.collect_combined_step_s)
        drawn = tuple(s for s in sources_between(store, *_context(span_start, span_end)) if s != COMBINED)
    # every network the report shows (the view's, and the others' in the per-source chart and overlap table)
    shown = tuple(sorted(set(drawn) | set(networks) | set(made_from.networks)))
    credited = made_from if shown == made_from.networks else Provenance(COMBINED, simulated, shown)
    sources = seen_by(made_from)
    text = verdict(event, windows, compared.coverage, list(compared.changes), fir, sources, seen)

    n_positions = sums.counted
    n_flights = (
        int((pd.to_datetime(flights["last_time"], utc=True) >= pd.Timestamp(span_start)).sum()) if len(flights) else 0
    )
    split = pd.Timestamp(event.start.replace(minute=0, second=0, microsecond=0))  # each side at its own cadence
    with Store.open_existing(path) as store:
        read = {tuple(chosen): (all_polls, all_counts)}
        per_network = per_source(store, settings, context, split, fir, drawn, rules.min_coverage, read)
    series = context_series(
        all_counts, all_polls, context, split, zones, (intervals[0], intervals[1]), rules.min_coverage
    )
    archive = None
    if chosen == [ARCHIVE]:  # adsb.lol's archive: military aircraft apart, database facts, cross-checks
        with Store.open_existing(path) as store:
            archive = archive_part(store, settings, context, windows, all_counts, all_polls, fir, max(intervals))
    hours = compared.hours_with_data
    inputs = ChartInputs(
        event=event,
        events=tuple(e for e in events if context.start <= e.time < context.end or e.id == event.id),
        windows=windows,
        zone_set=zone_set,
        zones=tuple(zones),
        hourly=series,
        changes=compared.changes,
        density=(density_before, density_after),
        footprint=seen,
        flights=(fir_flights_in(flights, before), fir_flights_in(flights, after)),
        days_with_data=(max(hours[0] / 24, 1e-9), max(hours[1] / 24, 1e-9)),
        made_from=made_from,
        per_source=per_network,
        sources_made_from=credited,
        military=archive.hourly if archive else None,
    )
    with staged_folder(out, REPORT_LAYOUT, "--out") as stage:
        to_draw = [chart for chart in CHARTS if chart.shown(inputs)]
        with progress("drawing charts", len(to_draw)) as bar:
            pictures = draw_charts(to_draw, inputs, stage, bar.update)  # on two cores where there are two
        charts = pictures.charts
        data = ReportData(
            event=event,
            windows=windows,
            coverage=compared.coverage,
            changes=compared.changes,
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
            fir_name=zone_set.fir.name,
            sources=sources,
            made_from=made_from,
            credited=credited,
            who_saw=seen_by_network,
            flight_rules=flight_rules,
            unclassed=compared.unclassed,
            archive=archive,
        )
        files = write_report(data, stage)
    # the staged folder is now ``out``: name the files where they are
    files = {k: out / v.name for k, v in files.items()}
    charts = {title: [out / p.name for p in paths] for title, paths in charts.items()}
    data = dataclasses.replace(data, charts=charts)
    log.info("report %s written to %s (%d positions, %d flights)", event.id, out, n_positions, n_flights)
    return ReportResult(out, files, charts, data, pictures.helper_private_bytes)


FLIGHT_LEAD = timedelta(hours=6)  # positions read before the first window (see report())
CONTEXT = timedelta(days=2)  # the charts draw this much either side of the windows


def _between(frame: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """The rows of a time-ordered frame with ``time`` in ``[start, end)``."""
    t = frame["time"]
    return frame.iloc[t.searchsorted(pd.Timestamp(start)) : t.searchsorted(pd.Timestamp(end))].reset_index(drop=True)


def _context(span_start: datetime, span_end: datetime) -> tuple[datetime, datetime]:
    """The stretch the charts draw: the windows and ``CONTEXT`` either side."""
    return span_start - CONTEXT, span_end + CONTEXT
