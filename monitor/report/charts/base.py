"""What every chart shares: the inputs of a report's charts, the credit line and the SIMULATED mark,
saving as PNG and SVG, UTC axes and event marks.

Place in the flow: ``pipeline.report`` gathers one :class:`ChartInputs` from the analysis and hands
it to each chart of ``report.charts.registry``; each chart module draws one figure with the
matplotlib object API (no pyplot state; the Agg backend is chosen in ``cli``) and returns the
files it wrote. Every chart has a title, units, times labelled UTC, the data credit and, for demo
data, a SIMULATED DATA mark.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from geo.zoneset import ZoneSet
from monitor.analysis.before_after import Footprint
from monitor.analysis.hourly import DensityGrid
from monitor.analysis.stats import Change
from monitor.analysis.windows import Window
from monitor.events import Event
from monitor.report.credits import Provenance, traffic_credit

__all__ = [
    "AFTER",
    "BEFORE",
    "Chart",
    "ChartInputs",
    "event_marks",
    "save",
    "utc_axis",
]

BEFORE, AFTER = "#4c72b0", "#dd8452"


@dataclass(frozen=True)
class ChartInputs:
    """Everything a report's charts draw from, computed once by ``pipeline.report``. Times UTC."""

    event: Event
    events: tuple[Event, ...]  # every event near the windows, for marks
    windows: tuple[Window, Window]
    zone_set: ZoneSet
    zones: tuple[str, ...]  # the zones measured, the FIR first
    hourly: pd.DataFrame  # aircraft airborne per hour and zone around the windows (NaN: gaps)
    changes: tuple[Change, ...]
    density: tuple[DensityGrid, DensityGrid]  # before, after
    footprint: Footprint  # where aircraft were seen at all in each window
    flights: tuple[pd.DataFrame, pd.DataFrame]  # the FIR's flights first seen in each window
    days_with_data: tuple[float, float]  # covered hours / 24, before and after
    made_from: Provenance  # the source read, and whether it was simulated
    per_source: pd.DataFrame = field(default_factory=pd.DataFrame)  # hourly airborne in the FIR, a column per source
    sources_made_from: Provenance = field(default_factory=Provenance)  # every source ``per_source`` draws
    # archive data only: military aircraft airborne per snapshot, hourly, in the FIR and the ring (NaN: gaps)
    military: pd.DataFrame | None = None

    @property
    def fir(self) -> str:
        return self.zones[0]


@dataclass(frozen=True)
class Chart:
    """One chart of the report: the file stem, its title, and the function that draws it."""

    stem: str
    title: Callable[[ChartInputs], str]
    draw: Callable[[ChartInputs, Path], list[Path]]
    shown: Callable[[ChartInputs], bool] = lambda _inputs: True  # whether this report has what it draws
    cost: float = 0.5  # seconds to draw a 90-day report's (measured): how ``report.charts.draw`` shares them out


def save(fig: Figure, stem: Path, made_from: Provenance, note: str = "") -> list[Path]:
    """Add the credit (and the SIMULATED mark), write ``stem``.png and .svg, release the figure."""
    simulated = made_from.simulated
    credit = f"Data: {traffic_credit(made_from)}" + (f". {note}" if note else "")
    width_in = fig.get_figwidth()
    lines = textwrap.wrap(credit, width=int(width_in * 14.5))  # ~14.5 characters an inch at 7.5 pt
    strip_in = 0.05 + 0.13 * len(lines)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):  # keep a strip at the bottom and top for the notes
        bottom = strip_in / fig.get_figheight()  # rect is (left, bottom, width, height)
        engine.set(rect=(0.0, bottom, 1.0, (0.98 if simulated else 1.0) - bottom))
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=7.5, color="#555555", ha="left", va="bottom")
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
        # The layout is solved once, for the PNG: it is in figure units and points, so the SVG's is
        # the same, and solving it again costs as much as drawing (a second or more per report).
        fig.set_layout_engine("none")
    fig.clear()
    return paths


def event_marks(ax: Axes, events: Sequence[Event], focus: Event, span: tuple[datetime, datetime]) -> None:
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


def utc_axis(ax: Axes) -> None:
    loc = mdates.AutoDateLocator(tz="UTC", maxticks=12)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc, tz="UTC"))
    ax.set_xlabel("time (UTC)")
