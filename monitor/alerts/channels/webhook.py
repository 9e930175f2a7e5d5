"""The ``webhook`` channel: a POST of vzmon's JSON, or the payload Slack, Discord or ntfy expect.

The URL comes only from ``VZMON_WEBHOOK_URL`` (it often embeds a token); ``Settings.redact``
removes it, path and query included, from every log line and stored error.
"""

from __future__ import annotations

from typing import Any

import requests

from monitor.alerts.channels.base import URGENT, Message
from monitor.errors import ConfigError, DeliveryError
from monitor.settings.secret import Secret
from monitor.settings.table import Settings

__all__ = ["WebhookNotifier", "from_settings"]


class WebhookNotifier:
    """POSTs the alert: vzmon's JSON, or the payload Slack, Discord or ntfy expect."""

    name = "webhook"

    def __init__(
        self, url: Secret, fmt: str = "json", timeout_s: float = 10.0, session: requests.Session | None = None
    ) -> None:
        self._url = url  # its path and query are redacted from logs by ``Settings.redact``
        self.fmt = fmt
        self.timeout_s = timeout_s
        self._session = session or requests.Session()

    def request(self, message: Message) -> dict[str, Any]:
        """The keyword arguments of the POST (for tests and dry runs); headers carry the idempotency key."""
        headers = {"Idempotency-Key": message.key, "User-Agent": "vzmon"}
        if self.fmt == "slack":
            return {"json": {"text": f"*{message.title}*\n{message.line}"}, "headers": headers}
        if self.fmt == "discord":
            return {"json": {"content": f"**{message.title}**\n{message.line}"[:2000]}, "headers": headers}
        if self.fmt == "ntfy":
            headers.update(
                {
                    "Title": message.title,
                    "Priority": "high" if message.kind in URGENT else "default",
                    "Tags": "airplane",
                }
            )
            return {"data": message.line.encode("utf-8"), "headers": headers}
        return {"json": message.document(), "headers": headers}

    def send(self, message: Message) -> None:
        try:
            response = self._session.post(self._url.reveal(), timeout=self.timeout_s, **self.request(message))
        except requests.RequestException as exc:
            raise DeliveryError(
                f"webhook unreachable ({exc.__class__.__name__}); check VZMON_WEBHOOK_URL", channel=self.name
            ) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"webhook answered HTTP {response.status_code}", channel=self.name)


def from_settings(settings: Settings) -> WebhookNotifier:
    if settings.alerts_webhook_url is None:
        raise ConfigError("alerts.channels has webhook but VZMON_WEBHOOK_URL is not set", key="VZMON_WEBHOOK_URL")
    return WebhookNotifier(settings.alerts_webhook_url, settings.alerts_webhook_format, settings.alerts_timeout_s)
