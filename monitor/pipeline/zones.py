"""Zones: the zones the settings describe, and the ``vzmon zones`` summary (with its map).

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Every command that
classifies positions or orders zones asks :func:`zone_set_for`; the zone files are read once per
process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geo.bounds import BBox
from geo.zones import ZoneFileError, ZoneSource
from geo.zoneset import ZoneSet, load_zone_set
from monitor.errors import ConfigError
from monitor.settings import Settings

__all__ = ["ZonesSummary", "describe_zones", "zone_set_for"]


def zone_set_for(settings: Settings) -> ZoneSet:
    """The zones the settings describe (built once per process). Raises ConfigError for bad files."""
    fir = None
    if settings.zones_fir_file is not None:
        fir = ZoneSource(settings.zones_fir_file, settings.zones_fir_property, (settings.zones_fir_value,))
    extra: tuple[ZoneSource, ...] = ()
    if settings.zones_extra_file is not None:
        extra = (ZoneSource(settings.zones_extra_file, settings.zones_extra_property, settings.zones_extra_values),)
    try:
        return load_zone_set(settings.zones_ring_nm, fir, extra)
    except ZoneFileError as exc:
        raise ConfigError(str(exc), key=str(exc.path)) from None


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
        from monitor.report.maps import draw_zones_map  # matplotlib only when a map is asked for

        written = draw_zones_map(zone_set, map_path)
    return ZonesSummary(zone_set, zone_set.polling_box, zone_set.credit_step_warning(), written)
