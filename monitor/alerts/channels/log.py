"""The ``log`` channel: the alert line on stderr, at WARNING (what cron mails to its owner)."""

from __future__ import annotations

import logging

from monitor.alerts.channels.base import Message
from monitor.settings.table import Settings

__all__ = ["LogNotifier", "from_settings"]

log = logging.getLogger(__name__)


class LogNotifier:
    """Writes the alert line to the log (stderr) at WARNING."""

    name = "log"

    def send(self, message: Message) -> None:
        log.warning("ALERT %s", message.line)


def from_settings(settings: Settings) -> LogNotifier:
    return LogNotifier()
