"""What the commands share: the zones the settings describe.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Every command that
classifies positions or orders zones asks :func:`zone_set_for`; the zone files are read once per
process.
"""

from __future__ import annotations

from geo.zones import ZoneFileError, ZoneSource
from geo.zoneset import ZoneSet, load_zone_set
from monitor.errors import ConfigError
from monitor.settings.table import Settings

__all__ = ["zone_set_for"]


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
