"""adsb.fi as a source: the registry's entry (``sources.registry.SOURCES["adsbfi"]``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from monitor.settings.table import Settings
from monitor.sources.readsb.client import ADSBFI
from monitor.sources.readsb.source import ReadsbSource, build

__all__ = ["from_settings"]


def from_settings(
    settings: Settings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> ReadsbSource:
    """adsb.fi as the settings describe it."""
    return build(ADSBFI, settings, clock, sleep, should_stop)
