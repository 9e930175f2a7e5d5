"""The basemap: the zones over the countries, fit to publish; drawn alone by ``vzmon zones --map`` and
under the report's density maps (``report.charts.maps``).

Place in the flow: ``vzmon zones --map`` draws :func:`draw_zones_map`; the report's before/after
maps reuse :func:`base_axes` and :func:`draw_zones`. Maps are plate carrée (lon/lat) with the
aspect set for the map's mid-latitude, a labelled graticule and a scale bar; all coordinates are
WGS 84. Figures use matplotlib's object API and are closed once written.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.patheffects as pe
import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter

from geo.airports import MAP_AIRPORTS, airport
from geo.basemap import countries
from geo.bounds import BBox
from geo.zoneset import ZoneSet
from monitor import __version__
from monitor.errors import ConfigError
from monitor.outputs import atomic_file
from monitor.report.credits import BORDERS

__all__ = ["MAP_FORMATS", "base_axes", "draw_zones", "draw_zones_map", "save_figure"]

FIR_COLOUR = "#c0392b"
RING_COLOURS = {
    "ring:SKED": "#e9c46a",
    "ring:TNCF": "#8ecae6",
    "ring:TJZS": "#b8a9e0",
    "ring:TTZP": "#90d3a5",
    "ring:SYGC": "#f4a582",
    "ring:SBAZ": "#c7d67a",
    "ring": "#cccccc",
}
_EXTRA_COLOURS = ("#a6cee3", "#fb9a99", "#fdbf6f", "#cab2d6", "#b2df8a")
_OCEAN = "#e6eff6"
_LAND = "#f4f1ea"
_HALO = [pe.withStroke(linewidth=2.5, foreground="white")]


def _deg_label(axis: str) -> FuncFormatter:
    def fmt(v: float, _pos: int) -> str:
        hemi = ("E" if v > 0 else "W" if v < 0 else "") if axis == "x" else ("N" if v > 0 else "S" if v < 0 else "")
        return f"{abs(v):g}°{hemi}"

    return FuncFormatter(fmt)


def base_axes(ax: Axes, box: BBox, step_deg: float = 2.0, scale_km: int = 200) -> None:
    """Ocean, Natural Earth countries, a labelled graticule and a scale bar on ``ax`` for ``box``."""
    mid_lat = (box.south + box.north) / 2
    ax.set_facecolor(_OCEAN)
    land = countries(box)
    land.plot(ax=ax, color=_LAND, edgecolor="#9a9a9a", linewidth=0.5, zorder=1)
    ax.set_xlim(box.west, box.east)
    ax.set_ylim(box.south, box.north)
    ax.set_aspect(1 / math.cos(math.radians(mid_lat)))
    xs = np.arange(math.ceil(box.west / step_deg) * step_deg, box.east + 1e-9, step_deg)
    ys = np.arange(math.ceil(box.south / step_deg) * step_deg, box.north + 1e-9, step_deg)
    ax.xaxis.set_major_locator(FixedLocator(list(xs)))
    ax.yaxis.set_major_locator(FixedLocator(list(ys)))
    ax.xaxis.set_major_formatter(_deg_label("x"))
    ax.yaxis.set_major_formatter(_deg_label("y"))
    ax.tick_params(labelsize=8, length=0)
    ax.grid(True, color="#b8c4cf", linewidth=0.4, linestyle=":", zorder=0)
    # Scale bar in the bottom-left corner, its length measured at its own latitude.
    y = box.south + 0.015 * (box.north - box.south)
    x0 = box.west + 0.015 * (box.east - box.west)
    km_per_deg = 111.32 * math.cos(math.radians(y))
    dx = scale_km / km_per_deg
    ax.add_patch(Rectangle((x0, y), dx, 0.012 * (box.north - box.south), color="black", zorder=6))
    ax.text(
        x0 + dx / 2,
        y + 0.02 * (box.north - box.south),
        f"{scale_km} km",
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=6,
        path_effects=_HALO,
    )


def draw_zones(ax: Axes, zone_set: ZoneSet, label: bool = True, fill_alpha: float = 0.35) -> list[Patch]:
    """Draw the FIR, ring sectors and extra zones; return legend handles."""
    import geopandas as gpd

    handles: list[Patch] = []
    extra_i = 0
    for zone in reversed(zone_set.zones):  # FIR drawn last, on top
        if zone.kind == "fir":
            colour, alpha, edge, lw = FIR_COLOUR, fill_alpha * 0.6, FIR_COLOUR, 1.8
        elif zone.kind == "ring":
            colour, alpha, edge, lw = RING_COLOURS.get(zone.code, "#cccccc"), fill_alpha, "#555555", 0.6
        else:
            colour = _EXTRA_COLOURS[extra_i % len(_EXTRA_COLOURS)]
            extra_i += 1
            alpha, edge, lw = fill_alpha, "#333333", 0.8
        gdf = gpd.GeoSeries([zone.geometry], crs="EPSG:4326")
        gdf.plot(ax=ax, color=colour, alpha=alpha, zorder=2)
        gdf.boundary.plot(ax=ax, color=edge, linewidth=lw, zorder=3)
        handles.append(Patch(facecolor=colour, alpha=min(1.0, alpha + 0.2), edgecolor=edge, label=zone.code))
        if label:
            p = zone.geometry.representative_point()
            ax.text(
                p.x,
                p.y,
                zone.code,
                ha="center",
                va="center",
                zorder=7,
                path_effects=_HALO,
                fontsize=11 if zone.kind == "fir" else 8,
                weight="bold",
                color=FIR_COLOUR if zone.kind == "fir" else "black",
            )
    handles.reverse()
    ax.set_xlabel("")  # geopandas labels the axes in CRS terms; the graticule labels say it better
    ax.set_ylabel("")
    return handles


def _draw_airports(ax: Axes, box: BBox) -> None:
    for code in MAP_AIRPORTS:
        a = airport(code)
        if not box.contains(a.lon, a.lat):
            continue
        ax.plot(a.lon, a.lat, marker="o", markersize=3.5, color="black", zorder=8)
        ax.annotate(
            code, (a.lon, a.lat), xytext=(3, 3), textcoords="offset points", fontsize=7, zorder=8, path_effects=_HALO
        )


MAP_FORMATS = ("png", "svg", "pdf")


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` (format from the suffix: .png at 150 dpi, .svg, .pdf) atomically and release it.

    Raises ConfigError for another suffix, OutputError when the file cannot be written.
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in MAP_FORMATS:
        raise ConfigError(f"cannot draw a map as {path.name}: use a .png, .svg or .pdf path", key="--map")
    mark = {"png": "Software", "svg": "Creator", "pdf": "Creator"}[fmt]
    try:
        with (
            atomic_file(path, fix="choose another path with --map", replaceable=_drawn_by_vzmon) as tmp,
            rc_context({"svg.fonttype": "none"}),  # SVG text stays text: searchable and editable
        ):
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight", metadata={mark: _CREATOR})
    finally:
        fig.clear()
    return path


_CREATOR = f"vzmon {__version__}, the Venezuela airspace monitor (matplotlib)"


def _drawn_by_vzmon(path: Path) -> bool:
    """Whether an existing map file carries vzmon's mark (so replacing it loses nothing of the user's)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
            fh.seek(max(0, path.stat().st_size - (1 << 16)))
            tail = fh.read()
    except OSError:
        return False
    return b"vzmon" in head or b"vzmon" in tail


def draw_zones_map(zone_set: ZoneSet, path: Path) -> Path:
    """Map of the FIR, its ring sectors, the polling box and the main airports. Returns ``path``."""
    poll = zone_set.polling_box
    margin = 1.0
    box = BBox(poll.west - margin, max(-90.0, poll.south - margin), poll.east + margin, min(90.0, poll.north + margin))
    fig = Figure(figsize=(12, 9.6), layout="constrained")
    ax = fig.add_subplot()
    base_axes(ax, box)
    handles = draw_zones(ax, zone_set)
    ax.add_patch(
        Rectangle(
            (poll.west, poll.south),
            poll.east - poll.west,
            poll.north - poll.south,
            fill=False,
            linestyle="--",
            linewidth=0.9,
            edgecolor="#34495e",
            zorder=4,
        )
    )
    handles.append(
        Patch(
            fill=False,
            linestyle="--",
            edgecolor="#34495e",
            label=f"OpenSky polling box ({poll.area_sq_deg:.0f} sq°, {poll.credits} credits/poll)",
        )
    )
    _draw_airports(ax, box)
    fir = zone_set.fir
    ax.set_title(
        f"{fir.name} ({fir.code}) and the {zone_set.ring_nm:g} NM ring around it",
        fontsize=13,
        loc="left",
        weight="bold",
    )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=9,
        frameon=False,
        title="zones",
        title_fontsize=9,
        alignment="left",
    )
    ax.annotate(
        "Ring sectors are named after the FIR across that part of the\nSVZM border; they do not mean membership "
        "of that FIR.\n\nFIR: published maritime corner points and\nNatural Earth land borders (vzmon geo/data)."
        f"\nBorders: {BORDERS}.\nAirports: airportsdata (MIT).\nWGS 84 longitude/latitude.",
        xy=(1.01, 0.0),
        xycoords="axes fraction",
        ha="left",
        va="bottom",
        fontsize=8,
        color="#444444",
    )
    return save_figure(fig, path)
