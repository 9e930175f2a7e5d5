"""The ``email`` channel: SMTP with STARTTLS, implicit TLS or neither, logging in when a user is set.

The password comes only from ``VZMON_SMTP_PASSWORD``; each message's ``Message-ID`` is the alert's
key, so a receiver can drop a repeat.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from monitor.alerts.channels.base import Message
from monitor.errors import DeliveryError
from monitor.settings.secret import Secret
from monitor.settings.table import Settings
from monitor.sources.registry import CREDITS

__all__ = ["EmailNotifier", "from_settings"]


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
        self.credit = CREDITS["opensky"]  # who the counts judged came from (from_settings names it)

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = f"[vzmon] {message.title}: {message.line[:120]}"
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = f"<{message.key.replace(':', '.')}@vzmon>" if message.key else make_msgid("vzmon")
        mail["X-Vzmon-Alert-Key"] = message.key
        body = message.line + "\n\n" + json.dumps(message.document(), indent=2, ensure_ascii=False) + "\n"
        mail.set_content(body + f"\n-- \nvzmon, the Venezuela airspace monitor. Data: {self.credit}.\n")
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


def from_settings(settings: Settings) -> EmailNotifier:
    notifier = EmailNotifier(
        settings.alerts_smtp_host, settings.alerts_smtp_port, settings.alerts_smtp_security,
        settings.alerts_email_from, settings.alerts_email_to, settings.alerts_smtp_user,
        settings.alerts_smtp_password, settings.alerts_timeout_s, settings.alerts_smtp_ca_file,
    )  # fmt: skip
    # alerts judge the configured sources (each one's outage; their combined view's traffic when several)
    notifier.credit = "; ".join(CREDITS.get(s, s) for s in settings.collect_sources)
    return notifier
