"""The before/after comparison of one event's two windows: every measure, its change and interval,
the coverage, and what the charts draw. Pure; no I/O.

Place in the flow: ``pipeline.report`` reads the windows' polls, counts and positions from the
store, builds flights (``analysis.flights``) and hands them here; the result goes to the verdict
(``analysis.verdict``), the charts and the report files (``report``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.fence import fence_for
from geo.zoneset import ZoneSet
from monitor.analysis.cadence import infer_interval_s
from monitor.analysis.cells import MAP_CELL_DEG, CellSums
from monitor.analysis.flights import FLIGHT_CLASSES
from monitor.analysis.hourly import (
    DensityGrid,
    daily_unique_aircraft,
    hourly_airborne,
    hourly_coverage,
    hourly_flights,
)
from monitor.analysis.stats import AnalysisRules, Change, compare, compare_daily, holm
from monitor.analysis.tracks import Tracks
from monitor.analysis.weekly import compare_weeks
from monitor.analysis.windows import Window

__all__ = [
    "FOOTPRINT_WARNING",
    "MAP_CELL_DEG",
    "BeforeAfter",
    "Footprint",
    "cadence_in",
    "cell_sums_for",
    "compare_windows",
    "context_series",
    "densities",
    "density_in",
    "equal_stretches",
    "fir_flights_in",
    "footprint",
    "footprint_of",
    "in_family",
    "with_family_adjustment",
]


@dataclass(frozen=True)
class BeforeAfter:
    """Every measure compared between the two windows, and what it rests on."""

    changes: tuple[Change, ...]
    coverage: tuple[float, float]  # mean share of expected polls that succeeded, before and after
    hours_with_data: tuple[float, float]  # hours at or above the coverage threshold
    unclassed: tuple[float, float]  # share of FIR flights of unknown class, before and after


def cadence_in(polls: pd.DataFrame, window: Window) -> float:
    """The polling cadence inside ``window`` (falls back to all polls read when the window has few)."""
    t = polls["time"]
    inside = t[(t >= pd.Timestamp(window.start)) & (t < pd.Timestamp(window.end))]
    return infer_interval_s((inside if len(inside) >= 3 else t).to_numpy(dtype="datetime64[s]"))


def _unclassed_share(table: pd.DataFrame, coverage: pd.Series, fir: str, rules: AnalysisRules) -> float:
    """Share of the FIR's flights, in the window's covered hours, whose class is unknown."""
    covered = coverage.reindex(table.index).fillna(0.0) >= rules.min_coverage
    total = float(table.loc[covered, fir].sum())
    return float(table.loc[covered, f"{fir}:unknown"].sum()) / total if total > 0 else 0.0


def compare_windows(
    windows: tuple[Window, Window],
    polls: pd.DataFrame,
    counts: pd.DataFrame,
    flights: pd.DataFrame,
    entries: pd.DataFrame,
    zones: list[str],
    fir: str,
    intervals: tuple[float, float],
    rules: AnalysisRules,
) -> BeforeAfter:
    """Aircraft airborne and flights per zone, flights per class in the FIR and the FIR's unique
    aircraft per day, each compared between ``windows`` (see ``analysis.stats`` for the method)."""
    cov = [hourly_coverage(polls, w, i) for w, i in zip(windows, intervals, strict=True)]
    air = [hourly_airborne(counts, w, zones) for w in windows]
    fl = [hourly_flights(entries, flights, w, zones, fir) for w in windows]
    uniq = [daily_unique_aircraft(entries, w, zones, c, rules.min_coverage) for w, c in zip(windows, cov, strict=True)]

    def sides(tables: list[pd.DataFrame], column: str, **what: Any) -> Change:
        if rules.baseline_weeks:
            end = pd.Timestamp(windows[0].end)
            return compare_weeks(tables[0][column], tables[1][column], cov[0], cov[1], rules=rules, baseline_end=end,
                                 **what)  # fmt: skip
        return compare(tables[0][column], tables[1][column], cov[0], cov[1], rules=rules, **what)

    per_day: dict[str, Any] = {"unit": "flights per day", "scale": 24.0}
    changes: list[Change] = [
        *(sides(air, z, measure="airborne", zone=z, unit="aircraft airborne") for z in zones),
        *(sides(fl, z, measure="flights", zone=z, **per_day) for z in zones),
        *(sides(fl, f"{fir}:{n}", measure="flights", zone=fir, flight_class=n, **per_day) for n in FLIGHT_CLASSES),
        compare_daily(
            uniq[0].get(fir, pd.Series(dtype=float)),
            uniq[1].get(fir, pd.Series(dtype=float)),
            measure="unique_aircraft",
            zone=fir,
            unit="aircraft per day",
            rules=rules,
        ),
    ]
    changes = with_family_adjustment(changes, fir)
    coverage = tuple(float(c.mean()) if len(c) else 0.0 for c in cov)
    hours = tuple(float((c >= rules.min_coverage).sum()) for c in cov)
    unclassed = tuple(_unclassed_share(f, c, fir, rules) for f, c in zip(fl, cov, strict=True))
    return BeforeAfter(
        changes=tuple(changes),
        coverage=(coverage[0], coverage[1]),
        hours_with_data=(hours[0], hours[1]),
        unclassed=(unclassed[0], unclassed[1]),
    )


def in_family(c: Change, fir: str) -> bool:
    """Whether the verdict reports ``c`` (and so holds it to the family's error): aircraft airborne
    in the FIR and in each ring sector, and the FIR's flights per class."""
    airborne = c.measure == "airborne" and (c.zone == fir or c.zone.startswith("ring"))
    return airborne or (c.measure == "flights" and c.zone == fir and c.flight_class is not None)


def with_family_adjustment(changes: list[Change], fir: str) -> list[Change]:
    """``changes`` with Holm-adjusted p-values on the verdict's family (see ``analysis.verdict``);
    the other measures keep only their own p."""
    members = [i for i, c in enumerate(changes) if in_family(c, fir) and c.p_value is not None]
    adjusted = holm([changes[i].p_value or 0.0 for i in members])
    out = list(changes)
    for i, p in zip(members, adjusted, strict=True):
        out[i] = replace(out[i], adjusted_p=p)
    return out


def context_series(
    counts: pd.DataFrame,
    polls: pd.DataFrame,
    context: Window,
    split: pd.Timestamp,
    zones: list[str],
    intervals: tuple[float, float],
    min_coverage: float,
) -> pd.DataFrame:
    """Hourly aircraft airborne per zone over ``context``, blank where coverage is below
    ``min_coverage`` (each side of ``split`` judged at its own polling cadence)."""
    series = hourly_airborne(counts, context, zones)
    coverage = pd.concat([
        hourly_coverage(polls, Window("context", context.start, split), intervals[0]),
        hourly_coverage(polls, Window("context", split, context.end), intervals[1]),
    ])  # fmt: skip
    series[coverage < min_coverage] = float("nan")
    return series


def fir_flights_in(flights: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Flights with an airborne position in the FIR that were first seen inside ``window``."""
    if not len(flights):
        return flights
    first = pd.to_datetime(flights["first_time"], utc=True)
    inside = (first >= pd.Timestamp(window.start)) & (first < pd.Timestamp(window.end))
    return flights[inside & flights["in_fir"].astype(bool)]


@dataclass(frozen=True)
class Footprint:
    """Where aircraft were seen, before and after: cells of the FIR and its ring (of the density
    grids) with at least one airborne position in each of two equally long stretches (a longer
    one would see more cells from its length alone).

    Sparse cells flip between any two samples, so the change is judged against sampling: each
    stretch's positions are split into alternate hours (even and odd UTC hours, half the data
    each); ``within`` is the share of cells seen in only one half of the same side, ``between`` the
    share seen on only one side when like halves are compared (even with even, odd with odd)."""

    windows: tuple[Window, Window]  # the equal stretches compared: the end of before, the start of after
    seen_before: npt.NDArray[np.bool_]  # [lat, lon] of the grid
    seen_after: npt.NDArray[np.bool_]
    inside: npt.NDArray[np.bool_]  # the cells whose centre lies in the FIR or its ring
    within: float = 0.0
    between: float = 0.0

    @property
    def lost(self) -> int:
        """Cells seen before and not after."""
        return int(np.count_nonzero(self.seen_before & ~self.seen_after & self.inside))

    @property
    def gained(self) -> int:
        return int(np.count_nonzero(~self.seen_before & self.seen_after & self.inside))

    @property
    def kept(self) -> int:
        return int(np.count_nonzero(self.seen_before & self.seen_after & self.inside))

    @property
    def seen(self) -> int:
        """Cells seen in either window."""
        return self.lost + self.gained + self.kept

    @property
    def changed_share(self) -> float:
        """Share of the cells seen in either window that were seen in only one."""
        return (self.lost + self.gained) / self.seen if self.seen else 0.0

    @property
    def excess(self) -> float:
        """How much more the footprint changed between the sides than within each: the change
        that sampling does not explain."""
        return self.between - self.within


FOOTPRINT_WARNING = 0.10  # the verdict warns when the footprint changed this much more than sampling explains


def _one_side_only(a: npt.NDArray[np.bool_], b: npt.NDArray[np.bool_], inside: npt.NDArray[np.bool_]) -> float:
    either = np.count_nonzero((a | b) & inside)
    return float(np.count_nonzero((a ^ b) & inside)) / either if either else 0.0


def equal_stretches(windows: tuple[Window, Window]) -> tuple[Window, Window]:
    """The last stretch of before and the first of after, each as long as the shorter window."""
    before, after = windows
    span = min(before.end - before.start, after.end - after.start)
    return Window(before.label, before.end - span, before.end), Window(after.label, after.start, after.start + span)


def cell_sums_for(windows: tuple[Window, Window], zone_set: ZoneSet, span: Window | None = None) -> CellSums:
    """The :class:`CellSums` the report's maps need: the windows' densities, the footprint's halves."""
    box = zone_set.polling_box
    return CellSums((box.west, box.south, box.east, box.north), windows, equal_stretches(windows), span)


def _grid(counts: npt.NDArray[np.float64], sums: CellSums, snapshots: int) -> DensityGrid:
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, counts / max(snapshots, 1), np.nan)
    return DensityGrid(mean, sums.lon_edges, sums.lat_edges, snapshots)


def _ok_polls(polls: pd.DataFrame, window: Window) -> int:
    t = polls["time"]
    return int(((polls["status"] == "ok") & (t >= pd.Timestamp(window.start)) & (t < pd.Timestamp(window.end))).sum())


def densities(sums: CellSums, polls: pd.DataFrame) -> tuple[DensityGrid, ...]:
    """Mean airborne aircraft per map cell at a successful snapshot inside each of ``sums.windows``."""
    return tuple(_grid(sums.in_window(i), sums, _ok_polls(polls, w)) for i, w in enumerate(sums.windows))


def footprint_of(sums: CellSums, polls: pd.DataFrame, zone_set: ZoneSet) -> tuple[Footprint, DensityGrid]:
    """The footprints of ``sums.split`` (:func:`equal_stretches`) over the cells of the FIR and its
    ring, and the grid they are drawn on."""
    equal = (sums.split[0], sums.split[1])
    (b_even, b_odd), (a_even, a_odd) = sums.halves(0), sums.halves(1)
    grid_b = _grid(b_even + b_odd, sums, _ok_polls(polls, equal[0]))
    xc = (sums.lon_edges[:-1] + sums.lon_edges[1:]) / 2
    yc = (sums.lat_edges[:-1] + sums.lat_edges[1:]) / 2
    lon, lat = np.meshgrid(xc, yc)
    codes = fence_for(zone_set).classify(lon.ravel(), lat.ravel()).reshape(lon.shape)
    watched = {z.code for z in zone_set.zones if z.kind in ("fir", "ring")}
    inside = np.isin(codes, list(watched))
    be, bo, ae, ao = b_even > 0, b_odd > 0, a_even > 0, a_odd > 0
    within = (_one_side_only(be, bo, inside) + _one_side_only(ae, ao, inside)) / 2
    between = (_one_side_only(be, ae, inside) + _one_side_only(bo, ao, inside)) / 2
    seen = Footprint(equal, (b_even + b_odd) > 0, (a_even + a_odd) > 0, inside, within, between)
    return seen, grid_b


def _summed(tracks: Tracks, sums: CellSums) -> CellSums:
    sums.add(tracks.t, tracks.lon, tracks.lat, tracks.ground)
    return sums


def footprint(
    tracks: Tracks, polls: pd.DataFrame, windows: tuple[Window, Window], zone_set: ZoneSet
) -> tuple[Footprint, DensityGrid]:
    """:func:`footprint_of` the positions of ``tracks`` (all in memory: tests, short spans)."""
    return footprint_of(_summed(tracks, cell_sums_for(windows, zone_set)), polls, zone_set)


def density_in(
    tracks: Tracks, polls: pd.DataFrame, window: Window, box: tuple[float, float, float, float]
) -> DensityGrid:
    """Mean airborne aircraft per map cell of ``box`` at a successful snapshot inside ``window``."""
    return densities(_summed(tracks, CellSums(box, [window])), polls)[0]


def positions_between(tracks: Tracks, window: Window) -> int:
    """Positions of ``tracks`` inside ``window``."""
    lo, hi = int(window.start.timestamp()), int(window.end.timestamp())
    return int(np.count_nonzero((tracks.t >= lo) & (tracks.t < hi)))
