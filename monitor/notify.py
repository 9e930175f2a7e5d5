"""Alert delivery: a :class:`Notifier` per channel (log, JSONL file, webhook, email over SMTP).

Place in the flow: last step. ``pipeline.alerting`` takes each due delivery from the store's
outbox, hands the alert to the channel's notifier and records the outcome; this module only
sends. Each ``send`` raises :class:`DeliveryError` on failure and never blocks longer than the
configured timeout, so one broken channel cannot hold up the others or the collection.

Receivers can drop duplicates: every message carries the alert's stable key (webhook header
``Idempotency-Key`` and payload ``key``; email ``Message-ID: <key@vzmon>``). The outbox marks a
delivery sent right after the channel accepted it, so a run killed in between is the only way a
message can go out twice.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import requests

from monitor.errors import DeliveryError
from monitor.settings import Secret, Settings

__all__ = [
    "EmailNotifier",
    "JsonlNotifier",
    "LogNotifier",
    "Message",
    "Notifier",
    "WebhookNotifier",
    "notifiers_for",
]

log = logging.getLogger(__name__)
_URGENT = {"drop", "zero", "outage"}


@dataclass(frozen=True)
class Message:
    """What a channel sends: the alert's key, kind, zone, one human line and the structured payload."""

    key: str
    kind: str
    zone: str | None
    created_at: datetime
    line: str
    payload: dict[str, Any]

    @property
    def title(self) -> str:
        what = {
            "drop": "traffic drop",
            "zero": "no traffic",
            "recovery": "traffic recovered",
            "outage": "monitor outage",
            "outage_end": "monitor back",
            "test": "test",
        }.get(self.kind, self.kind)
        return f"vzmon: {what}" + (f" in {self.zone}" if self.zone else "")

    def document(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "zone": self.zone,
            "title": self.title,
            "text": self.line,
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **self.payload,
        }


class Notifier(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise DeliveryError."""


class LogNotifier:
    """Writes the alert line to the log (stderr) at WARNING."""

    name = "log"

    def send(self, message: Message) -> None:
        log.warning("ALERT %s", message.line)


class JsonlNotifier:
    """Appends one JSON object per alert to a file (created with its folder if needed)."""

    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(message.document(), ensure_ascii=False, sort_keys=True) + "\n")
        except OSError as exc:
            raise DeliveryError(
                f"cannot append to {self.path}: {exc.strerror}; fix alerts.jsonl_file", channel=self.name
            ) from None


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
                    "Priority": "high" if message.kind in _URGENT else "default",
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


class EmailNotifier:
    """Sends the alert by SMTP with STARTTLS, implicit TLS or neither, logging in when a user is set."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        recipients: tuple[str, ...],
        user: str = "",
        password: Secret | None = None,
        timeout_s: float = 10.0,
        ca_file: Path | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipients = sender, recipients
        self.user, self._password = user, password
        self.timeout_s = timeout_s
        self.ca_file = ca_file

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = f"[vzmon] {message.title}: {message.line[:120]}"
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = f"<{message.key.replace(':', '.')}@vzmon>" if message.key else make_msgid("vzmon")
        mail["X-Vzmon-Alert-Key"] = message.key
        body = message.line + "\n\n" + json.dumps(message.document(), indent=2, ensure_ascii=False) + "\n"
        mail.set_content(body + "\n-- \nvzmon, the Venezuela airspace monitor. Data: The OpenSky Network.\n")
        return mail

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=str(self.ca_file))
        return context

    def send(self, message: Message) -> None:
        mail = self.build(message)
        try:
            if self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout_s, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._context())
                if self.user:
                    smtp.login(self.user, self._password.reveal() if self._password else "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError:
            raise DeliveryError(
                f"SMTP server {self.host} refused the login of {self.user!r}; check "
                "alerts.smtp_user and VZMON_SMTP_PASSWORD",
                channel=self.name,
            ) from None
        except UnicodeEncodeError:
            raise DeliveryError(
                "SMTP login needs an ASCII user and password (smtplib cannot send others); check "
                "alerts.smtp_user and VZMON_SMTP_PASSWORD",
                channel=self.name,
            ) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} failed ({exc.__class__.__name__}: {exc})", channel=self.name
            ) from None


def notifiers_for(settings: Settings) -> dict[str, Notifier]:
    """The configured channels' notifiers, by channel name."""
    out: dict[str, Notifier] = {}
    for channel in settings.alerts_channels:
        if channel == "log":
            out[channel] = LogNotifier()
        elif channel == "jsonl":
            out[channel] = JsonlNotifier(settings.alerts_jsonl_file)
        elif channel == "webhook" and settings.alerts_webhook_url is not None:
            out[channel] = WebhookNotifier(
                settings.alerts_webhook_url, settings.alerts_webhook_format, settings.alerts_timeout_s
            )
        elif channel == "email":
            out[channel] = EmailNotifier(
                settings.alerts_smtp_host, settings.alerts_smtp_port, settings.alerts_smtp_security,
                settings.alerts_email_from, settings.alerts_email_to, settings.alerts_smtp_user,
                settings.alerts_smtp_password, settings.alerts_timeout_s, settings.alerts_smtp_ca_file,
            )  # fmt: skip
    return out
