"""Where aircraft were seen at all, before and after: the footprint of the coverage, cell by cell.

A count is of aircraft visible to the source: where receivers see little, traffic counts little.
This map shows the cells of the FIR and its ring with at least one airborne position in each
window, so a reader can tell a change in traffic from a change in where it could be seen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geo.bounds import BBox
from geo.zoneset import ZoneSet
from monitor.analysis.before_after import Footprint
from monitor.analysis.hourly import DensityGrid
from monitor.report.basemap import base_axes, draw_zones
from monitor.report.charts.base import AFTER, BEFORE, Chart, save
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_coverage"]

BOTH = "#8c8c8c"


def chart_coverage(
    seen: Footprint, grid: DensityGrid, zone_set: ZoneSet, stem: Path, made_from: Provenance
) -> list[Path]:
    """One map: cells seen in both stretches, only before, only after (``grid``: the cells' edges)."""
    poll = zone_set.polling_box
    box = BBox(poll.west - 0.5, poll.south - 0.5, poll.east + 0.5, poll.north + 0.5)
    fig = Figure(figsize=(9.4, 9.4), layout="constrained")
    ax = fig.add_subplot()
    base_axes(ax, box, step_deg=4.0, scale_km=400)
    state = np.full(seen.seen_before.shape, np.nan)
    state[seen.seen_before & seen.seen_after] = 0
    state[seen.seen_before & ~seen.seen_after] = 1
    state[~seen.seen_before & seen.seen_after] = 2
    state[~seen.inside] = np.nan
    ax.pcolormesh(
        grid.lon_edges,
        grid.lat_edges,
        np.ma.masked_invalid(state),
        cmap=ListedColormap([BOTH, BEFORE, AFTER]),
        vmin=-0.5,
        vmax=2.5,
        alpha=0.85,
        zorder=5,
        shading="flat",
        rasterized=True,  # thousands of cells: one image in the SVG, not a path each
    )
    draw_zones(ax, zone_set, label=False, fill_alpha=0.0)
    before, after = seen.windows
    span = "{0.start:%d %b %H:%M} to {0.end:%d %b %H:%M} UTC".format
    ax.legend(
        handles=[
            Patch(color=BOTH, label=f"seen on both sides ({seen.kept} cells)"),
            Patch(color=BEFORE, label=f"only before: {span(before)} ({seen.lost})"),
            Patch(color=AFTER, label=f"only after: {span(after)} ({seen.gained})"),
        ],
        loc="lower left",
        fontsize=9,
        framealpha=0.92,
    ).set_zorder(20)
    cell = grid.lon_edges[1] - grid.lon_edges[0] if len(grid.lon_edges) > 1 else 0.25
    fig.suptitle("Where aircraft were seen at all, before and after", x=0.01, ha="left", fontsize=12, weight="bold")
    ax.set_title(
        f"{cell:g}° cells of the FIR and its ring with any airborne aircraft in the last and first "
        f"{before.days:.1f} days around the event:\n{seen.changed_share:.0%} of them seen on one side only. "
        f"Alternate hours differ by {seen.between:.0%} between the sides, {seen.within:.0%} within one (sampling).\n"
        "Counts are of aircraft the source could see.",
        fontsize=9,
        loc="left",
    )
    return save(fig, stem, made_from, note="Borders: Natural Earth")


CHART = Chart(
    "coverage",
    lambda _: "Where aircraft were seen at all",
    lambda c, stem: chart_coverage(c.footprint, c.density[0], c.zone_set, stem, c.made_from),
    cost=0.4,
)
