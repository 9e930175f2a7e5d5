"""The sources vzmon can poll, by the name stored with each poll: one line per source.

A new source is one module (or package) in ``monitor/sources/`` with a factory ``(settings, clock,
sleep, should_stop)`` returning a :class:`~monitor.sources.base.Source` (``from_settings`` unless
the entry names another: ``"module:factory"``), plus one line in :data:`SOURCES`. A source's module
is imported only when it is polled.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.clock import utcnow
from monitor.settings.table import Settings

if TYPE_CHECKING:  # names and credits are read by commands that never load pyarrow (status)
    from monitor.sources.base import Source

__all__ = ["ARCHIVE", "COMBINED", "CREDITS", "LABELS", "SOURCES", "source_for"]

SOURCES: dict[str, str] = {  # name -> "module[:factory]", the factory (default from_settings) -> Source
    "opensky": "monitor.sources.opensky.source",
    "adsblol": "monitor.sources.readsb.source:adsblol",
    "adsbfi": "monitor.sources.readsb.source:adsbfi",
}


# The combined view of several sources (``monitor.combine``) is stored as this source name; never polled.
COMBINED = "combined"
# Days read from adsb.lol's archive (``vzmon backfill``) are stored as this source; never polled.
ARCHIVE = "adsblol-archive"

LABELS: dict[str, str] = {  # as messages name them
    "opensky": "OpenSky",
    "adsblol": "adsb.lol",
    "adsbfi": "adsb.fi",
    COMBINED: "the combined view",
    ARCHIVE: "adsb.lol's archive",
    "demo": "vzmon demo (simulated)",  # the demo's store: never polled
}
# How each wants to be credited: OpenSky asks to be cited; adsb.lol publishes under the ODbL 1.0,
# which asks for attribution on everything made from the data; adsb.fi asks for a link.
CREDITS: dict[str, str] = {
    "opensky": "The OpenSky Network (https://opensky-network.org)",
    "adsblol": "adsb.lol (https://adsb.lol), under the ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/)",
    "adsbfi": "adsb.fi (https://adsb.fi)",
    # the notice ODbL 4.3 asks of a Produced Work, as adsb.lol's README gives it (history.md §A.7)
    ARCHIVE: "Contains information from adsb.lol globe_history (https://github.com/adsblol), which is made "
    "available here under the Open Database License (ODbL) (https://opendatacommons.org/licenses/odbl/1-0/)",
}


def source_for(
    settings: Settings,
    name: str = "opensky",
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> Source:
    """The source ``name`` as the settings describe it (URLs, credentials, timeouts, retries)."""
    module, _, factory = SOURCES[name].partition(":")
    source: Source = getattr(importlib.import_module(module), factory or "from_settings")(
        settings, clock, sleep, should_stop
    )
    return source
