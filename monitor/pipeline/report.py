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
from typing import Protocol

import numpy as np
import pandas as pd

from geo.airports import airport_table
from monitor.analysis.archive import cross_checks, military_hourly, military_rows, with_legs
from monitor.analysis.before_after import (
    cadence_in,
    compare_windows,
    context_series,
    density_in,
    fir_flights_in,
    footprint,
    positions_between,
)
from monitor.analysis.flights import FlightRules, build_flights
from monitor.analysis.overlap import AREAS_RING, SIGHTING_COLUMNS, WindowOverlap, overlap, seen_in, slot_coverage
from monitor.analysis.stats import AnalysisRules
from monitor.analysis.tracks import Tracks
from monitor.analysis.verdict import verdict
from monitor.analysis.windows import Window, plan_windows
from monitor.checks import load_checks
from monitor.errors import ConfigError
from monitor.events import find_event, load_events
from monitor.outputs import Layout, check_folder, staged_folder
from monitor.pipeline.shared import view_for, zone_set_for
from monitor.report.build import REPORT_FILES, ArchivePart, ReportData, write_report
from monitor.report.charts.base import ChartInputs
from monitor.report.charts.registry import CHARTS
from monitor.report.credits import Provenance, seen_by
from monitor.settings.table import Settings
from monitor.sources.registry import ARCHIVE, COMBINED
from monitor.store.archive import archive_aircraft, legs_between, military_positions, stored_days
from monitor.store.db import Store
from monitor.store.frames import count_frame, poll_frame
from monitor.store.positions import count_blocks, iter_positions
from monitor.store.snapshots import combined_parts, poll_rows, sources_between

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
    with Store.open_existing(path) as store:
        chosen = view_for(settings, store, span_start, span_end, source)  # one view, never two added up
        # the charts draw the context (2 days either side): credit every network drawn there
        parts = combined_parts(store, *_context(span_start, span_end)) if chosen == [COMBINED] else ()
        polls = poll_frame(store, span_start - timedelta(days=1), span_end + timedelta(days=1), chosen)
        counts = count_frame(store, span_start, span_end, chosen)
        n_blocks = count_blocks(store, read_start, read_end, chosen)
        with progress("reading positions", n_blocks) as bar:
            positions = iter_positions(store, read_start, read_end, Tracks.COLUMNS, progress=bar.update, sources=chosen)
            tracks = Tracks.from_tables(positions, zones)
    intervals = tuple(settings.report_interval_s or cadence_in(polls, w) for w in windows)
    simulated = bool(polls["simulated"].any()) if len(polls) else False
    ok_times = polls.loc[polls["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    flight_rules = FlightRules()
    with progress("building flights", 1) as bar:
        airports = airport_table(zone_set)
        flights, entries = build_flights(tracks, airports, fir, flight_rules, ok_times=ok_times)
        if chosen == [ARCHIVE]:  # the traces saw take-offs and landings the heatmaps' slices may miss
            flights = with_legs(flights, _legs(path, read_start, read_end), airports, flight_rules.airport_radius_km)
        bar.update(1)
    compared = compare_windows(
        windows, polls, counts, flights, entries, zones, fir, (intervals[0], intervals[1]), rules
    )
    box = zone_set.polling_box
    edges = (box.west, box.south, box.east, box.north)
    density = (density_in(tracks, polls, before, edges), density_in(tracks, polls, after, edges))
    seen, _ = footprint(tracks, polls, windows, zone_set)
    made_from = Provenance(chosen[0] if chosen else "opensky", simulated, parts)
    with Store.open_existing(path) as store:
        networks = tuple(s for s in sources_between(store, span_start, span_end) if s != COMBINED)
        who_saw = _who_saw(store, windows, networks, fir, settings.collect_combined_step_s)
        drawn = tuple(s for s in sources_between(store, *_context(span_start, span_end)) if s != COMBINED)
    # every network the report shows (the view's, and the others' in the per-source chart and overlap table)
    shown = tuple(sorted(set(drawn) | set(networks) | set(made_from.networks)))
    credited = made_from if shown == made_from.networks else Provenance(COMBINED, simulated, shown)
    sources = seen_by(made_from)
    text = verdict(event, windows, compared.coverage, list(compared.changes), fir, sources, seen)

    span = Window("both", span_start, span_end)
    n_positions = positions_between(tracks, span)
    n_flights = (
        int((pd.to_datetime(flights["last_time"], utc=True) >= pd.Timestamp(span_start)).sum()) if len(flights) else 0
    )
    context = Window("context", *_context(span_start, span_end))
    split = pd.Timestamp(event.start.replace(minute=0, second=0, microsecond=0))  # each side at its own cadence
    with Store.open_existing(path) as store:
        all_counts = count_frame(store, context.start, context.end, chosen)
        all_polls = poll_frame(store, context.start, context.end, chosen)
        per_source = _per_source(store, settings, context, split, fir, drawn, rules.min_coverage)
    series = context_series(
        all_counts, all_polls, context, split, zones, (intervals[0], intervals[1]), rules.min_coverage
    )
    archive = None
    if chosen == [ARCHIVE]:  # adsb.lol's archive: military aircraft apart, database facts, cross-checks
        with Store.open_existing(path) as store:
            archive = _archive_part(store, settings, context, windows, all_counts, all_polls, fir, max(intervals))
    hours = compared.hours_with_data
    inputs = ChartInputs(
        event=event,
        events=tuple(e for e in events if context.start <= e.time < context.end or e.id == event.id),
        windows=windows,
        zone_set=zone_set,
        zones=tuple(zones),
        hourly=series,
        changes=compared.changes,
        density=density,
        footprint=seen,
        flights=(fir_flights_in(flights, before), fir_flights_in(flights, after)),
        days_with_data=(max(hours[0] / 24, 1e-9), max(hours[1] / 24, 1e-9)),
        made_from=made_from,
        per_source=per_source,
        sources_made_from=credited,
        military=archive.hourly if archive else None,
    )
    with staged_folder(out, REPORT_LAYOUT, "--out") as stage:
        charts: dict[str, list[Path]] = {}
        drawn_charts = [chart for chart in CHARTS if chart.shown(inputs)]
        with progress("drawing charts", len(drawn_charts)) as bar:
            for chart in drawn_charts:
                charts[chart.title(inputs)] = chart.draw(inputs, stage / chart.stem)
                bar.update(1)
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
            who_saw=who_saw,
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
    return ReportResult(out, files, charts, data)


FLIGHT_LEAD = timedelta(hours=6)  # positions read before the first window (see report())
CONTEXT = timedelta(days=2)  # the charts draw this much either side of the windows


def _context(span_start: datetime, span_end: datetime) -> tuple[datetime, datetime]:
    """The stretch the charts draw: the windows and ``CONTEXT`` either side."""
    return span_start - CONTEXT, span_end + CONTEXT


def _who_saw(
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


def _per_source(
    store: Store,
    settings: Settings,
    context: Window,
    split: pd.Timestamp,
    fir: str,
    networks: tuple[str, ...],
    min_coverage: float,
) -> pd.DataFrame:
    """Hourly aircraft airborne in the FIR over ``context``, a column per network and one for the
    combined view when the store holds it there; each source judged at its own cadence (gaps NaN)."""
    present = sources_between(store, context.start, context.end)
    columns = {}
    for name in (*networks, *((COMBINED,) if COMBINED in present else ())):
        polls = poll_frame(store, context.start, context.end, [name])
        interval = settings.report_interval_s or cadence_in(polls, context)
        counts = count_frame(store, context.start, context.end, [name])
        columns[name] = context_series(counts, polls, context, split, [fir], (interval, interval), min_coverage)[fir]
    return pd.DataFrame(columns)


def _archive_part(
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


def _legs(path: Path, start: datetime, end: datetime) -> pd.DataFrame:
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
