"""Aircraft airborne per hour: the FIR and the whole ring on top, each ring sector below, events marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from monitor.analysis.windows import Window
from monitor.events import Event
from monitor.report.basemap import FIR_COLOUR, RING_COLOURS
from monitor.report.charts.base import AFTER, BEFORE, Chart, event_marks, save, utc_axis
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_timeseries"]


def chart_timeseries(
    hourly: pd.DataFrame,
    zones: Sequence[str],
    event: Event,
    events: Sequence[Event],
    windows: tuple[Window, Window],
    stem: Path,
    made_from: Provenance,
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
    event_marks(top, events, event, span)
    event_marks(bottom, [event], event, span)
    utc_axis(bottom)
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
    return save(fig, stem, made_from)


CHART = Chart(
    "timeseries",
    lambda _: "Aircraft airborne per zone",
    lambda c, stem: chart_timeseries(c.hourly, c.zones, c.event, c.events, c.windows, stem, c.made_from),
    cost=1.0,
)
