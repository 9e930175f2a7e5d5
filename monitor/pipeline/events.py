"""Events: the announcements and incidents reports compare around (``vzmon events``).

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``); the file format and
its checks are ``monitor.events``.
"""

from __future__ import annotations

from monitor.events import Event, load_events
from monitor.settings.table import Settings

__all__ = ["list_events"]


def list_events(settings: Settings) -> list[Event]:
    """The events of ``events.file``, in time order (UTC). Raises ConfigError for a bad file."""
    return load_events(settings.events_file)
