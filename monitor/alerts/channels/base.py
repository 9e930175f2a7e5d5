"""What every alert channel is given and promises: a :class:`Message`, and a :class:`Notifier` that
sends it or raises ``DeliveryError``, never blocking longer than its timeout.

Place in the flow: ``alerts.deliver`` takes each due delivery from the store's outbox, builds the
Message and hands it to the channel's notifier (``alerts.channels.registry``). Receivers can drop
duplicates: every message carries the alert's stable key (webhook header ``Idempotency-Key`` and
payload ``key``; email ``Message-ID: <key@vzmon>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = ["URGENT", "Message", "Notifier"]

URGENT = frozenset({"drop", "zero", "outage"})  # kinds a channel may flag as high priority


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
