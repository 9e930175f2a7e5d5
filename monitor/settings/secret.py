"""Secrets: a string that never shows itself, and every form in which a configured secret may be
echoed back (so messages, logs and stored errors can be redacted).

Place in the flow: ``settings.load`` wraps secrets read from the environment in :class:`Secret`;
``Settings.redact`` removes them from text with :func:`redact`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from urllib.parse import quote, quote_plus, urlsplit

__all__ = ["MIN_SECRET_LEN", "MIN_TOKEN_SEGMENT", "REDACTED", "Secret", "redact", "redaction_forms"]

REDACTED = "<redacted>"
MIN_SECRET_LEN = 4  # shorter values would garble every message they were removed from
MIN_TOKEN_SEGMENT = 8  # a webhook path segment this long may be a token on its own (Slack's T.../B.../...)


class Secret:
    """A secret string whose repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _lower_escapes(text: str) -> str:
    """``text`` with its %XX escapes in lower-case hex (servers echo either)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def redaction_forms(
    secrets: Sequence[str | Secret | None],
    *,
    webhook_url: Secret | None = None,
    smtp: tuple[str | None, Secret | None] = (None, None),
    client: tuple[str | None, Secret | None] = (None, None),
) -> tuple[str, ...]:
    """Every secret in the forms a server or library may echo it: as is, URL-encoded, form-encoded,
    JSON-escaped, HTML-escaped, base64 (SMTP AUTH, HTTP Basic); longest first. ``webhook_url``:
    Slack, Discord and ntfy put the token in the path, so its path segments count too."""
    values = [s.reveal() if isinstance(s, Secret) else s for s in secrets if s]
    if webhook_url is not None:
        parts = urlsplit(webhook_url.reveal())
        segments = [seg for seg in parts.path.split("/") if len(seg) >= MIN_TOKEN_SEGMENT]
        values += [parts.path.strip("/"), parts.query, parts.password or "", *segments]
    import html  # only when a secret is configured

    forms: set[str] = set()
    for value in values:
        if len(value) < MIN_SECRET_LEN:
            continue
        raw = value.encode("utf-8")
        encoded = {quote(value, safe=""), quote_plus(value)}
        encoded |= {e.replace("~", "%7E") for e in encoded}  # older encoders escape ~ too
        encoded |= {_lower_escapes(e) for e in encoded}  # %2f as well as %2F
        forms.update({value, html.escape(value), *encoded})
        for js in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
            forms.update({js[1:-1], js[1:-1].replace("/", "\\/")})  # JSON may escape slashes
        forms.add(base64.b64encode(raw).decode("ascii"))
    user, password = smtp
    if password is not None and user:
        pair = b"\0" + user.encode("utf-8") + b"\0" + password.reveal().encode("utf-8")
        forms.add(base64.b64encode(pair).decode("ascii"))  # AUTH PLAIN
    client_id, client_secret = client
    if client_id and client_secret is not None:
        basic = f"{client_id}:{client_secret.reveal()}".encode()
        forms.add(base64.b64encode(basic).decode("ascii"))  # HTTP Basic
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LEN), key=len, reverse=True))


def redact(text: str, forms: Sequence[str]) -> str:
    """``text`` with each of ``forms`` replaced by ``<redacted>``."""
    for secret in forms:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
