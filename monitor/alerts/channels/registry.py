"""The alert channels, by the name ``alerts.channels`` uses: one line per channel.

A new channel is one module in ``monitor/alerts/channels/`` with a notifier class and a
``from_settings(settings)`` factory, plus one line in :data:`CHANNELS` (and its name in
``settings.CHANNELS``, with any settings it needs).
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.alerts.channels import email, jsonl, log, webhook
from monitor.alerts.channels.base import Notifier
from monitor.errors import ConfigError
from monitor.settings import Settings

__all__ = ["CHANNELS", "notifiers_for"]

CHANNELS: dict[str, Callable[[Settings], Notifier]] = {
    "log": log.from_settings,
    "jsonl": jsonl.from_settings,
    "webhook": webhook.from_settings,
    "email": email.from_settings,
}


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """The configured channels' notifiers, by channel name. Raises ConfigError for an unknown one."""
    out: dict[str, Notifier] = {}
    for name in settings.alerts_channels:
        if name not in CHANNELS:
            raise ConfigError(
                f"alerts.channels names unknown channel {name!r}; use {', '.join(CHANNELS)}", key="alerts.channels"
            )
        out[name] = CHANNELS[name](settings)
    return out
