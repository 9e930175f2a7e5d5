"""Where the traffic was: side-by-side density maps of airborne aircraft, before and after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from geo.bounds import BBox
from geo.zoneset import ZoneSet
from monitor.analysis.hourly import DensityGrid
from monitor.analysis.windows import Window
from monitor.report.basemap import base_axes, draw_zones
from monitor.report.charts.base import Chart, save
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_maps"]


def chart_maps(
    before: DensityGrid,
    after: DensityGrid,
    zone_set: ZoneSet,
    windows: tuple[Window, Window],
    stem: Path,
    made_from: Provenance,
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
                rasterized=True,  # thousands of cells: one image in the SVG, not a path each
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
    return save(fig, stem, made_from, note="Borders: Natural Earth")


CHART = Chart(
    "maps",
    lambda _: "Where the traffic was",
    lambda c, stem: chart_maps(c.density[0], c.density[1], c.zone_set, c.windows, stem, c.made_from),
    cost=1.0,
)
