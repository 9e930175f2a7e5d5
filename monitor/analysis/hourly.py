"""Hourly and daily measures per zone: poll coverage, aircraft airborne, flights, unique aircraft.

Place in the flow: ``pipeline.report`` (and ``export hourly``) call these on the polls, counts and
flights read for a window; ``analysis.stats`` compares them across windows. Hours are the whole
UTC hours inside a window. Coverage is the share of expected polls that succeeded (``ok``) at the
window's cadence; failed, rate-limited, skipped and empty polls are gaps: an hour below the
minimum coverage has no value (never a zero, never interpolated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitor.analysis.flights import FLIGHT_CLASSES, UNKNOWN
from monitor.analysis.windows import Window
from monitor.compute import sorted_unique

__all__ = [
    "DensityGrid",
    "cell_counts",
    "cell_index",
    "daily_unique_aircraft",
    "hourly_airborne",
    "hourly_coverage",
    "hourly_flights",
]

HOUR = pd.Timedelta(hours=1)


def _hours(window: Window) -> pd.DatetimeIndex:
    """The whole UTC hours inside ``window`` (a partial hour at an edge, e.g. after an event window
    ending at 14:20, would count 40 minutes of flights as an hour's)."""
    first, last = pd.Timestamp(window.start).ceil("h"), pd.Timestamp(window.end).floor("h")
    return pd.date_range(first, last, freq="h", inclusive="left", tz="UTC")


def hourly_coverage(polls: pd.DataFrame, window: Window, interval_s: float) -> pd.Series:
    """Share of expected polls that succeeded, per hour of ``window`` (index: hour start, UTC).

    ``polls``: columns ``time`` (UTC) and ``status``; one row per attempt.
    """
    hours = _hours(window)
    if len(hours) == 0:
        return pd.Series(dtype=float)
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    inside = polls[(polls["time"] >= start) & (polls["time"] < end) & (polls["status"] == "ok")]
    ok = inside.groupby(inside["time"].dt.floor("h")).size().reindex(hours, fill_value=0)
    seconds = np.array([(min(h + HOUR, end) - max(h, start)).total_seconds() for h in hours], dtype=float)
    expected = np.maximum(seconds / interval_s, 1e-9)
    return pd.Series(np.clip(ok.to_numpy() / expected, 0.0, 1.0), index=hours, name="coverage")


def hourly_airborne(counts: pd.DataFrame, window: Window, zones: Sequence[str]) -> pd.DataFrame:
    """Mean aircraft airborne per hour and zone over the hour's successful snapshots.

    ``counts``: columns ``time``, ``zone``, ``airborne`` for ok snapshots. Hours without a snapshot
    are NaN (gaps).
    """
    hours = _hours(window)
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    c = counts[(counts["time"] >= start) & (counts["time"] < end) & counts["zone"].isin(list(zones))]
    if c.empty:
        return pd.DataFrame(index=hours, columns=list(zones), dtype=float)
    table = c.pivot_table(
        index=c["time"].dt.floor("h"), columns="zone", values="airborne", aggfunc="mean", observed=True
    )
    return table.reindex(index=hours, columns=list(zones)).astype(float)


def _codes_in(values: pd.Series, names: list[str]) -> npt.NDArray[np.int64]:
    """Each value's index in ``names``; -1 for a value not there or missing."""
    column = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    lut = np.append(pd.Index(names).get_indexer(column.cat.categories), -1)  # code -1 (missing) -> -1
    return lut[column.cat.codes.to_numpy()].astype(np.int64)


def hourly_flights(
    entries: pd.DataFrame, flights: pd.DataFrame, window: Window, zones: Sequence[str], fir_code: str
) -> pd.DataFrame:
    """Flights first seen airborne in each zone per hour; for the FIR also per flight class.

    Columns: each zone, then ``<fir>:<class>`` for each class, then ``<fir>:unknown``. Values are
    counts (0 where none; coverage decides later which hours count). Class counts are scaled up by
    the hour's share of classed flights (unknown: an end in a polling hole), NaN where that share
    is under half.
    """
    hours = _hours(window)
    n_hours = len(hours)
    zone_list = list(zones)
    if n_hours and len(entries):
        # numbers, not pandas groupings: a 90-day report has a million entries
        t = entries["time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
        hour = (t - int(hours[0].timestamp())) // 3600
        inside = (hour >= 0) & (hour < n_hours)
        zone = _codes_in(entries["zone"], zone_list)
        pick = inside & (zone >= 0)
        by_zone = np.bincount(hour[pick] * len(zone_list) + zone[pick], minlength=n_hours * len(zone_list)).reshape(
            n_hours, len(zone_list)
        )
        fir = pick & (zone == zone_list.index(fir_code)) if fir_code in zone_list else np.zeros(len(t), bool)
        number = pd.Index(flights["flight"].to_numpy())
        at = number.get_indexer(entries["flight"].to_numpy()[fir])
        cls = _codes_in(flights["flight_class"], [*FLIGHT_CLASSES, UNKNOWN])[np.clip(at, 0, None)]
        cls[at < 0] = -1
        known = cls >= 0
        n_classes = len(FLIGHT_CLASSES) + 1
        by_class = np.bincount(hour[fir][known] * n_classes + cls[known], minlength=n_hours * n_classes).reshape(
            n_hours, n_classes
        )
    else:
        by_zone = np.zeros((n_hours, len(zone_list)), dtype=np.int64)
        by_class = np.zeros((n_hours, len(FLIGHT_CLASSES) + 1), dtype=np.int64)
    table = pd.DataFrame(by_zone, index=hours, columns=pd.Index(zone_list, name="zone"))

    def column(name: str) -> npt.NDArray[np.float64]:
        return by_class[:, [*FLIGHT_CLASSES, UNKNOWN].index(name)].astype(float)

    # Flights whose class is unknown (an end in a polling hole) are shared out like the hour's
    # classed flights; an hour with under half its flights classed is a gap for the classes.
    counts = {name: column(name) for name in FLIGHT_CLASSES}
    classed = sum(counts.values(), np.zeros(len(hours)))
    unknown = column(UNKNOWN)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(classed + unknown > 0, classed / (classed + unknown), 1.0)
    for name in FLIGHT_CLASSES:
        table[f"{fir_code}:{name}"] = np.where(share >= 0.5, counts[name] / np.maximum(share, 1e-9), np.nan)
    table[f"{fir_code}:{UNKNOWN}"] = unknown
    return table.astype(float)


def daily_unique_aircraft(
    entries: pd.DataFrame, window: Window, zones: Sequence[str], coverage: pd.Series, min_coverage: float = 0.5
) -> pd.DataFrame:
    """Distinct aircraft seen airborne per UTC day and zone, for whole days inside ``window`` whose
    every hour has at least ``min_coverage``; other days are NaN (gaps).

    ``entries`` (from ``flights.build_flights``): each flight's first and last airborne time in a
    zone; an aircraft counts on every day its presence there spans.
    """
    start, end = pd.Timestamp(window.start), pd.Timestamp(window.end)
    first_day, last_day = start.ceil("D"), end.floor("D")
    days = pd.date_range(first_day, last_day, freq="D", inclusive="left", tz="UTC")
    table = pd.DataFrame(0.0, index=days, columns=list(zones))
    if len(days) and len(entries):
        # numbers, not strings or pandas groupings: a year's report has millions of entries
        d0 = entries["time"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]").astype(np.int64)
        d1 = entries["last_time"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]").astype(np.int64)
        lo = np.int64(first_day.to_datetime64().astype("datetime64[D]").astype(np.int64))
        hi = np.int64(last_day.to_datetime64().astype("datetime64[D]").astype(np.int64))
        zone_codes = _codes_in(entries["zone"], list(zones)).astype(np.int64)
        near = (d1 >= lo) & (d0 < hi) & (zone_codes >= 0)  # the entries this window's days see
        d0, d1 = np.maximum(d0[near], lo), np.minimum(d1[near], hi - 1)
        span = d1 - d0 + 1
        day = np.repeat(d0 - lo, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
        aircraft = entries["aircraft"].to_numpy(dtype=np.int64)[near]
        slot = day * len(zones) + np.repeat(zone_codes[near], span)  # (day, zone) as one number
        seen = sorted_unique((slot << 32) | np.repeat(aircraft, span))  # each aircraft once a day and zone
        values = np.bincount(seen >> 32, minlength=len(days) * len(zones)).astype(float)
        table = pd.DataFrame(values.reshape(len(days), len(zones)), index=days, columns=list(zones))
    hours = coverage.reindex(pd.date_range(first_day, last_day, freq="h", inclusive="left", tz="UTC"))
    covered = (hours.fillna(0.0) >= min_coverage).groupby(pd.DatetimeIndex(hours.index).floor("D")).all()
    table.loc[~covered.reindex(days, fill_value=False).to_numpy()] = np.nan
    return table


@dataclass(frozen=True)
class DensityGrid:
    """Mean aircraft per lon/lat cell at a snapshot (NaN: none seen); edges in degrees."""

    grid: npt.NDArray[np.float64]
    lon_edges: npt.NDArray[np.float64]
    lat_edges: npt.NDArray[np.float64]
    snapshots: int


def _cells(v: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The cell of each value (all within the edges) along one axis of a regular grid, the last
    edge closed. Arithmetic, except for values within a rounding error of an edge: those are
    settled against the edges themselves, as ``np.histogram2d`` would."""
    n = len(edges) - 1
    f = (v - edges[0]) / (edges[1] - edges[0])
    i = f.astype(np.int64)
    frac = f - i
    near = (frac < 1e-6) | (frac > 1 - 1e-6)
    if near.any():
        i[near] = np.searchsorted(edges, v[near], side="right") - 1
    out: npt.NDArray[np.int64] = np.minimum(i, n - 1)
    return out


def cell_index(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], xe: npt.NDArray[np.float64], ye: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Each point's cell in the regular grid with edges ``xe`` x ``ye``, as a flat index (row:
    latitude), -1 off the grid; the cells ``np.histogram2d`` puts them in (the last edge closed),
    by arithmetic, ten times faster."""
    nx, ny = len(xe) - 1, len(ye) - 1
    out = np.full(len(lon), -1, dtype=np.int64)
    if nx < 1 or ny < 1:
        return out
    inside = (lon >= xe[0]) & (lon <= xe[-1]) & (lat >= ye[0]) & (lat <= ye[-1])
    out[inside] = _cells(lat[inside], ye) * nx + _cells(lon[inside], xe)
    return out


def cell_counts(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], xe: npt.NDArray[np.float64], ye: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Points per cell of the regular grid with edges ``xe`` x ``ye`` (rows: latitude), as
    ``np.histogram2d`` counts them."""
    nx, ny = len(xe) - 1, len(ye) - 1
    cell = cell_index(lon, lat, xe, ye)
    return (
        np.bincount(cell[cell >= 0], minlength=max(nx, 0) * max(ny, 0))
        .reshape(max(ny, 0), max(nx, 0))
        .astype(np.float64)
    )
