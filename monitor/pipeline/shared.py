"""What the commands share: the zones the settings describe, and which source (or the combined
view) a command reads.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Every command that
classifies positions or orders zones asks :func:`zone_set_for`; the zone files are read once per
process.
"""

from __future__ import annotations

import logging
from datetime import datetime

from geo.zones import ZoneFileError, ZoneSource
from geo.zoneset import ZoneSet, load_zone_set
from monitor.errors import ConfigError
from monitor.settings.table import Settings
from monitor.sources.registry import COMBINED
from monitor.store.db import Store
from monitor.store.snapshots import sources_between

__all__ = ["view_for", "zone_set_for"]

log = logging.getLogger(__name__)


def view_for(settings: Settings, store: Store, start: datetime, end: datetime, asked: str | None) -> list[str]:
    """The source a command reads over ``[start, end)``: the one ``asked`` (``--source``, or
    ``combined``); else the combined view when ``collect.sources`` names several (or, where the
    range has no combined view, the one source it holds), else the one configured (or the only one
    the range holds). Two networks' counts of the same sky are never added up: a range holding
    several, none of them configured, raises ConfigError naming them.
    Empty (read nothing) when the range holds no data."""
    present = sources_between(store, start, end)
    span = f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
    networks = [s for s in present if s != COMBINED]
    configured = settings.collect_sources
    if asked is None and len(configured) > 1:
        if COMBINED not in present and len(networks) == 1:  # e.g. before a second source was added
            log.info("no combined view %s: reading %s, the one source there", span, networks[0])
            return networks
        asked = COMBINED
    if asked == COMBINED and COMBINED not in present:
        held = f"it holds {', '.join(networks)}" if networks else "it holds no successful poll there"
        raise ConfigError(
            f"the store has no combined view {span} ({held}): `vzmon collect` builds it when collect.sources names "
            "several sources (a week of past polls per run); or choose one source with --source",
            key="--source",
        )
    if asked is not None:
        if asked not in present:
            held = f"it holds {', '.join(present)}" if present else "it holds no successful poll there"
            raise ConfigError(f"the store has no polls of source {asked!r} {span} ({held})", key="--source")
        return [asked]
    if len(networks) > 1:
        if configured[0] in networks:
            return [configured[0]]
        raise ConfigError(
            f"the store holds polls of {', '.join(networks)} {span}: choose one with --source "
            "(their counts are never added up)",
            key="--source",
        )
    return networks


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
