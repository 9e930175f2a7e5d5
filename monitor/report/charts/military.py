"""Chart: military aircraft airborne in the FIR and the ring, hour by hour (archive data only).

The counts of the report are of civil traffic; adsb.lol's database flags military aircraft, and
their activity off Venezuela is part of the story, so they get this chart of their own. Drawn
only for reports on adsb.lol's archive, the one source that carries the flag.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from monitor.events import Event
from monitor.report.charts.base import Chart, ChartInputs, event_marks, save, utc_axis
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_military"]


def chart_military(
    hourly: pd.DataFrame, fir: str, event: Event, events: tuple[Event, ...], stem: Path, made_from: Provenance
) -> list[Path]:
    """Two lines: the FIR and the ring (``hourly``: columns ``fir`` and ``ring``, NaN in gaps)."""
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax = fig.subplots()
    for column, colour, label in ((fir, "#8c564b", f"in {fir}"), ("ring", "#7f7f7f", "in the ring around it")):
        if column in hourly:
            ax.plot(hourly.index, hourly[column], lw=1.4, color=colour, label=label)
    if len(hourly):
        span = (hourly.index.min().to_pydatetime(), hourly.index.max().to_pydatetime())
        event_marks(ax, events, event, span)
    if not len(hourly) or not hourly.notna().any().any():
        ax.text(0.5, 0.5, "no archive snapshot around the event", transform=ax.transAxes, ha="center", va="center")
    ax.set_ylim(bottom=0)
    ax.grid(True, lw=0.3, alpha=0.6)
    utc_axis(ax)
    ax.set_ylabel("military aircraft airborne\n(hourly mean of snapshots)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_title(f"Military aircraft airborne in and around {fir} (kept out of every count)", loc="left", weight="bold")
    fig.suptitle(
        "Military by adsb.lol's aircraft database (dbFlags); aircraft that do not broadcast ADS-B or MLAT-"
        "trackable signals are not seen at all. Breaks are hours without snapshots (gaps, not zeros).",
        fontsize=8, x=0.01, ha="left", color="#444444",
    )  # fmt: skip
    return save(fig, stem, made_from)


def _shown(c: ChartInputs) -> bool:
    return c.military is not None


CHART = Chart(
    "military",
    lambda c: f"Military aircraft airborne in and around {c.fir}",
    lambda c, stem: chart_military(
        c.military if c.military is not None else pd.DataFrame(), c.fir, c.event, c.events, stem, c.made_from
    ),
    _shown,
)
