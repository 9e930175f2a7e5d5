"""Chart: aircraft airborne in the FIR as each source saw it, and the combined view, hour by hour.

Which network sees how much of Venezuela's sky changes the numbers: this panel shows every
source the store holds around the event, each at its own polling cadence (its hours without
enough successful polls are gaps), and the combined view when there is one. Its credit names
every source drawn.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from monitor.events import Event
from monitor.report.charts.base import Chart, event_marks, save, utc_axis
from monitor.report.credits import Provenance
from monitor.sources.registry import ARCHIVE, COMBINED, LABELS

__all__ = ["CHART", "chart_sources"]

_COLOURS = {"opensky": "#4c72b0", "adsblol": "#55a868", "adsbfi": "#c44e52", ARCHIVE: "#2ca02c", COMBINED: "#222222"}


def chart_sources(
    per_source: pd.DataFrame, fir: str, event: Event, events: tuple[Event, ...], stem: Path, made_from: Provenance
) -> list[Path]:
    """One line per source (columns of ``per_source``: hourly mean aircraft airborne in ``fir``,
    NaN in gaps), the combined view thicker."""
    fig = Figure(figsize=(12, 4.8), layout="constrained")
    ax = fig.subplots()
    for name in per_source.columns:
        combined = name == COMBINED
        label = LABELS.get(name, name) + (" (any source saw it)" if combined else "")
        ax.plot(
            per_source.index, per_source[name], lw=2.2 if combined else 1.2, color=_COLOURS.get(name, "#8172b3"),
            label=label, zorder=4 if combined else 3,
        )  # fmt: skip
    if len(per_source):
        span = (per_source.index.min().to_pydatetime(), per_source.index.max().to_pydatetime())
        event_marks(ax, events, event, span)
    ax.set_ylim(bottom=0)
    ax.grid(True, lw=0.3, alpha=0.6)
    utc_axis(ax)
    ax.set_ylabel(f"aircraft airborne in {fir}\n(hourly mean of snapshots)")
    if len(per_source.columns):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no source has data around the event", transform=ax.transAxes, ha="center", va="center")
    only = "" if len(per_source.columns) != 1 else " (one source only in this store)"
    ax.set_title(f"Aircraft airborne in {fir}, as each source saw it{only}", loc="left", weight="bold")
    fig.suptitle(
        "Each network has its own receivers: the gap between lines is what one network misses. Breaks are hours "
        "without enough successful polls of that source (gaps, not zeros).",
        fontsize=8, x=0.01, ha="left", color="#444444",
    )  # fmt: skip
    return save(fig, stem, made_from)


CHART = Chart(
    "sources",
    lambda c: f"Aircraft airborne in {c.fir}, per source",
    lambda c, stem: chart_sources(c.per_source, c.fir, c.event, c.events, stem, c.sources_made_from),
    cost=0.3,
)
