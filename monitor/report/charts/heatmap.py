"""Aircraft airborne in the FIR by hour of day (columns, UTC) and date (rows); grey where no data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from monitor.events import Event
from monitor.report.charts.base import Chart, save
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_heatmap"]


def chart_heatmap(
    series: pd.Series, fir_code: str, stem: Path, made_from: Provenance, events: Sequence[Event]
) -> list[Path]:
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
    mesh = ax.pcolormesh(  # one image in the SVG, not a path per hour (a year: 8,800)
        np.arange(25), np.arange(len(grid) + 1), data, cmap="magma", shading="flat", rasterized=True
    )
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
    return save(fig, stem, made_from)


CHART = Chart(
    "heatmap",
    lambda c: f"{c.fir} by date and hour",
    lambda c, stem: chart_heatmap(c.hourly[c.fir], c.fir, stem, c.made_from, c.events),
    cost=0.6,
)
