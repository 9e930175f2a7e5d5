"""Charts for before/after reports: one function per chart, each writes PNG and SVG and closes it.

Place in the flow: ``pipeline.report`` passes analysis results (hourly series, changes, flights,
positions) here; ``report`` embeds the files. matplotlib object API only (no pyplot state); the
Agg backend is chosen in ``cli``. Every chart has a title, units, times labelled UTC, the data
credit "The OpenSky Network" and, for demo data, a SIMULATED DATA mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch

from geo.bounds import BBox
from geo.zoneset import ZoneSet
from monitor.airlines import airline_name
from monitor.analysis import Change, Window
from monitor.events import Event
from monitor.maps import FIR_COLOUR, RING_COLOURS, base_axes, draw_zones

__all__ = [
    "CREDIT",
    "DensityGrid",
    "chart_airlines",
    "chart_changes",
    "chart_heatmap",
    "chart_maps",
    "chart_timeseries",
]

CREDIT = "Data: The OpenSky Network (opensky-network.org)"
SIMULATED_CREDIT = "Data: simulated by vzmon demo, in the format of The OpenSky Network (opensky-network.org)"
BEFORE, AFTER = "#4c72b0", "#dd8452"


def _save(fig: Figure, stem: Path, simulated: bool, note: str = "") -> list[Path]:
    """Add the credit (and the SIMULATED mark), write ``stem``.png and .svg, release the figure."""
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):  # keep a strip at the bottom and top for the notes
        engine.set(rect=(0.0, 0.03, 1.0, 0.95 if simulated else 0.97))
    credit = (SIMULATED_CREDIT if simulated else CREDIT) + (f". {note}" if note else "")
    fig.text(0.01, 0.005, credit, fontsize=7.5, color="#555555", ha="left", va="bottom")
    if simulated:
        fig.text(
            0.5,
            0.5,
            "SIMULATED DATA",
            fontsize=54,
            color="#d62728",
            alpha=0.16,
            ha="center",
            va="center",
            rotation=22,
            weight="bold",
            zorder=100,
        )
        fig.text(
            0.99,
            0.005,
            "SIMULATED DATA: not real traffic",
            fontsize=8,
            color="#d62728",
            ha="right",
            va="bottom",
            weight="bold",
        )
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        with rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable and editable
            fig.savefig(path, dpi=130, metadata={"Creator": "vzmon"} if suffix == ".png" else None)
        paths.append(path)
    fig.clear()
    return paths


def _event_marks(ax: Axes, events: Sequence[Event], focus: Event, span: tuple[datetime, datetime]) -> None:
    lo, hi = span
    for e in events:
        if e.end < lo or e.start > hi:
            continue
        main = e.id == focus.id
        if e.window:
            ax.axvspan(
                mdates.date2num(e.window[0]),
                mdates.date2num(e.window[1]),
                color="#d62728" if main else "#999999",
                alpha=0.18 if main else 0.1,
                lw=0,
                zorder=1,
            )
        ax.axvline(
            mdates.date2num(e.time),
            color="#d62728" if main else "#777777",
            lw=1.6 if main else 0.7,
            ls="-" if main else "--",
            zorder=2,
        )
        ax.annotate(
            e.id,
            (mdates.date2num(e.time), 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=6.5 if not main else 8,
            ha="right",
            va="top",
            color="#d62728" if main else "#555555",
            xytext=(-2, -2),
            textcoords="offset points",
            weight="bold" if main else "normal",
        )


def _utc_axis(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(tz="UTC", maxticks=12)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, tz="UTC"))
    ax.set_xlabel("time (UTC)")


def chart_timeseries(
    hourly: pd.DataFrame,
    zones: Sequence[str],
    event: Event,
    events: Sequence[Event],
    windows: tuple[Window, Window],
    stem: Path,
    simulated: bool,
) -> list[Path]:
    """Aircraft airborne (hourly means): the FIR and the whole ring on top, each ring sector below.

    Hours without enough successful polls are NaN, so lines break there: gaps, not zeros.
    """
    fir = zones[0]
    ring = [z for z in zones[1:] if z.startswith("ring") and z in hourly.columns]
    fig = Figure(figsize=(12, 8), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.4, 1])
    top.plot(hourly.index, hourly[fir], lw=1.8, color=FIR_COLOUR, label=f"{fir} (the FIR)", zorder=3)
    if ring:
        total = hourly[ring].sum(axis=1, min_count=len(ring))
        top.plot(hourly.index, total, lw=1.3, color="#2a6f97", label="ring, all sectors", zorder=3)
    for zone in ring:
        bottom.plot(hourly.index, hourly[zone], lw=1.1, color=RING_COLOURS.get(zone), label=zone, zorder=3)
    span = (
        (hourly.index.min().to_pydatetime(), hourly.index.max().to_pydatetime())
        if len(hourly)
        else (windows[0].start, windows[1].end)
    )
    for ax in (top, bottom):
        for w, colour in zip(windows, (BEFORE, AFTER), strict=True):
            if w.end > w.start:
                ax.axvspan(
                    mdates.date2num(w.start), mdates.date2num(w.end), ymin=0, ymax=0.03, color=colour, alpha=0.9, lw=0
                )
        ax.set_ylim(bottom=0)
        ax.grid(True, lw=0.3, alpha=0.6)
    _event_marks(top, events, event, span)
    _event_marks(bottom, [event], event, span)
    _utc_axis(bottom)
    top.set_ylabel("aircraft airborne\n(hourly mean of snapshots)")
    bottom.set_ylabel("aircraft airborne, per ring sector")
    handles, _ = top.get_legend_handles_labels()
    handles += [Patch(color=BEFORE, label="before window"), Patch(color=AFTER, label="after window")]
    top.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    top.set_title(f"Aircraft airborne over and around Venezuela, around {event.id}", loc="left", weight="bold")
    fig.suptitle(
        "Breaks in the lines are hours without enough successful polls (gaps, not zeros). Shaded: uncertainty "
        "windows of the events' times.",
        fontsize=8, x=0.01, ha="left", color="#444444",
    )  # fmt: skip
    return _save(fig, stem, simulated)


def chart_changes(changes: Sequence[Change], fir_code: str, stem: Path, simulated: bool) -> list[Path]:
    """Before/after bars with 95 % intervals: airborne per zone, and flights per day per class in the FIR."""
    fig = Figure(figsize=(12, 5.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    panels = (
        (
            left,
            [c for c in changes if c.measure == "airborne"],
            "mean aircraft airborne (matched hours)",
            "Aircraft airborne, per zone",
        ),
        (
            right,
            [c for c in changes if c.measure == "flights" and c.zone == fir_code and c.flight_class],
            "flights per day (matched hours)",
            f"Flights in {fir_code}, per class",
        ),
    )
    for ax, items, ylabel, title in panels:
        x = np.arange(len(items))
        before = np.array([c.before for c in items], dtype=float)
        after = np.array([c.after for c in items], dtype=float)
        ax.bar(x - 0.2, before, 0.4, color=BEFORE, label="before")
        ax.bar(x + 0.2, after, 0.4, color=AFTER, label="after")
        for i, c in enumerate(items):
            if c.status == "ok" and c.ci_low is not None and c.ci_high is not None:
                lo, hi = c.before * (1 + c.ci_low), c.before * (1 + c.ci_high)
                ax.errorbar(
                    i + 0.2,
                    c.after,
                    yerr=[[max(0.0, c.after - lo)], [max(0.0, hi - c.after)]],
                    color="k",
                    capsize=3,
                    lw=1,
                )
                ax.annotate(
                    f"{c.change:+.0%}",
                    (i + 0.2, max(c.after, hi)),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
            else:
                ax.annotate(
                    "n/a",
                    (i, max(c.before, c.after) if c.before == c.before else 0),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color="#777777",
                )
        ax.set_xticks(x, [c.flight_class or c.zone for c in items], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=10, weight="bold")
        ax.grid(True, axis="y", lw=0.3, alpha=0.6)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(
        "Before vs after (error bars: 95% interval, days as the units of noise; times UTC)",
        x=0.01,
        ha="left",
        fontsize=11,
        weight="bold",
    )
    return _save(fig, stem, simulated)


@dataclass(frozen=True)
class DensityGrid:
    """Mean aircraft per lon/lat cell at a snapshot (NaN: none seen); edges in degrees."""

    grid: np.ndarray[Any, np.dtype[np.float64]]
    lon_edges: np.ndarray[Any, np.dtype[np.float64]]
    lat_edges: np.ndarray[Any, np.dtype[np.float64]]
    snapshots: int


def chart_maps(
    before: DensityGrid,
    after: DensityGrid,
    zone_set: ZoneSet,
    windows: tuple[Window, Window],
    stem: Path,
    simulated: bool,
) -> list[Path]:
    """Side-by-side maps of where aircraft were airborne before and after, on one colour scale.

    Each cell shows the mean number of aircraft in it at a successful snapshot of the window.
    """
    poll = zone_set.polling_box
    box = BBox(poll.west - 0.5, poll.south - 0.5, poll.east + 0.5, poll.north + 0.5)
    fig = Figure(figsize=(14, 7.4), layout="constrained")
    axes = fig.subplots(1, 2)
    norm = LogNorm(vmin=1e-3, vmax=1.0)
    image = None
    for ax, g, w in zip(axes, (before, after), windows, strict=True):
        base_axes(ax, box, step_deg=4.0, scale_km=400)
        if g.snapshots and np.isfinite(g.grid).any():
            image = ax.pcolormesh(
                g.lon_edges,
                g.lat_edges,
                np.ma.masked_invalid(g.grid),
                norm=norm,
                cmap="viridis",
                zorder=5,
                shading="flat",
            )
        draw_zones(ax, zone_set, label=False, fill_alpha=0.0)
        ax.set_title(
            f"{w.label}: {w.start:%Y-%m-%d %H:%M} – {w.end:%Y-%m-%d %H:%M} UTC ({g.snapshots:,} snapshots)",
            fontsize=10,
            loc="left",
        )
    if image is not None:
        bar = fig.colorbar(image, ax=axes, shrink=0.7, pad=0.01)
        bar.set_label("aircraft airborne in the cell, on average")
    fig.suptitle(
        "Where the traffic was: airborne aircraft per 0.25° cell, before and after",
        x=0.01,
        ha="left",
        fontsize=12,
        weight="bold",
    )
    return _save(fig, stem, simulated, note="Borders: Natural Earth")


def chart_heatmap(series: pd.Series, fir_code: str, stem: Path, simulated: bool, events: Sequence[Event]) -> list[Path]:
    """Aircraft airborne in the FIR by hour of day (columns, UTC) and date (rows); grey = no data."""
    if len(series):
        frame = series.to_frame("v")
        index = pd.DatetimeIndex(frame.index)
        frame["date"] = index.floor("D")
        frame["hour"] = index.hour
        grid = frame.pivot_table(index="date", columns="hour", values="v", aggfunc="mean", dropna=False)
        grid = grid.reindex(columns=range(24))
    else:
        grid = pd.DataFrame(columns=range(24), dtype=float)
    height = max(4.0, min(14.0, 1.5 + 0.18 * len(grid)))
    fig = Figure(figsize=(11, height), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#d9d9d9")
    data = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    mesh = ax.pcolormesh(np.arange(25), np.arange(len(grid) + 1), data, cmap="magma", shading="flat")
    ax.set_xticks(np.arange(0, 24, 2) + 0.5, [f"{h:02d}" for h in range(0, 24, 2)])
    step = max(1, len(grid) // 30)
    ax.set_yticks(
        np.arange(0, len(grid), step) + 0.5, [d.strftime("%a %Y-%m-%d") for d in grid.index[::step]], fontsize=7
    )
    ax.invert_yaxis()
    ax.set_xlabel("hour of day (UTC; Caracas is UTC-4)")
    dates = [pd.Timestamp(d) for d in grid.index]
    for e in events:
        t = pd.Timestamp(e.time).floor("D")
        if t in dates:
            row = dates.index(t)
            ax.plot(
                [e.time.hour + e.time.minute / 60],
                [row + 0.5],
                marker="D",
                color="#1f77b4",
                ms=6,
                markeredgecolor="white",
            )
    fig.colorbar(mesh, ax=ax, label=f"aircraft airborne in {fir_code} (hourly mean)", shrink=0.8)
    ax.set_title(
        f"Aircraft airborne in {fir_code} by date and hour (grey: no data; ◆ events)", loc="left", weight="bold"
    )
    return _save(fig, stem, simulated)


def chart_airlines(
    flights_before: pd.DataFrame,
    flights_after: pd.DataFrame,
    days: tuple[float, float],
    fir_code: str,
    stem: Path,
    simulated: bool,
    top: int = 14,
) -> list[Path]:
    """Flights per day in the FIR by airline, before and after (top airlines by either side)."""

    def per_day(df: pd.DataFrame, d: float) -> pd.Series:
        named = df["airline"].fillna("(no airline callsign)")
        return named.value_counts() / max(d, 1e-9)

    b, a = per_day(flights_before, days[0]), per_day(flights_after, days[1])
    table = pd.concat({"before": b, "after": a}, axis=1).fillna(0.0)
    table = table.loc[table.max(axis=1).sort_values(ascending=False).index[:top]].iloc[::-1]
    fig = Figure(figsize=(11, max(4.0, 1.2 + 0.38 * len(table))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(table))
    ax.barh(y + 0.2, table["before"], 0.4, color=BEFORE, label=f"before ({days[0]:.1f} days with data)")
    ax.barh(y - 0.2, table["after"], 0.4, color=AFTER, label=f"after ({days[1]:.1f} days with data)")
    labels = [f"{code} {airline_name(code)}" if not code.startswith("(") else code for code in table.index]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("flights per day in the FIR")
    ax.grid(True, axis="x", lw=0.3, alpha=0.6)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(f"Airline mix in {fir_code}: flights per day by ICAO designator", loc="left", weight="bold")
    return _save(fig, stem, simulated, note="Airline from the callsign's ICAO designator")
