"""The alert channels, by the name ``alerts.channels`` uses: one line per channel.

A new channel is one module in ``monitor/alerts/channels/`` with a notifier class and a
``from_settings(settings)`` factory, plus one line in :data:`CHANNELS` (and its name in
``settings.CHANNELS``, with any settings it needs). A channel's module is imported only when the
channel is configured (an SMTP library is no part of a poll that only logs its alerts).
"""

from __future__ import annotations

import importlib

from monitor.alerts.channels.base import Notifier
from monitor.errors import ConfigError
from monitor.settings.table import Settings

__all__ = ["CHANNELS", "notifiers_for"]

CHANNELS: dict[str, str] = {  # name -> module with from_settings(settings) -> Notifier
    "log": "monitor.alerts.channels.log",
    "jsonl": "monitor.alerts.channels.jsonl",
    "webhook": "monitor.alerts.channels.webhook",
    "email": "monitor.alerts.channels.email",
}


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """The configured channels' notifiers, by channel name. Raises ConfigError for an unknown one."""
    out: dict[str, Notifier] = {}
    for name in settings.alerts_channels:
        if name not in CHANNELS:
            raise ConfigError(
                f"alerts.channels names unknown channel {name!r}; use {', '.join(CHANNELS)}", key="alerts.channels"
            )
        notifier: Notifier = importlib.import_module(CHANNELS[name]).from_settings(settings)
        out[name] = notifier
    return out
