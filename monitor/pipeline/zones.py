"""Zones: the ``vzmon zones`` summary (with its map) of the zones the settings describe.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.bounds import BBox
from geo.zoneset import ZoneSet
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings

__all__ = ["ZonesSummary", "describe_zones"]


@dataclass(frozen=True)
class ZonesSummary:
    zone_set: ZoneSet
    polling_box: BBox
    warning: str | None
    map_path: Path | None


def describe_zones(settings: Settings, map_path: Path | None = None) -> ZonesSummary:
    """The zones, the polling box and its credit cost; draws the zones map when ``map_path`` is given."""
    zone_set = zone_set_for(settings)
    written = None
    if map_path is not None:
        from monitor.report.basemap import draw_zones_map  # matplotlib only when a map is asked for

        written = draw_zones_map(zone_set, map_path)
    return ZonesSummary(zone_set, zone_set.polling_box, zone_set.credit_step_warning(), written)
