"""The ``jsonl`` channel: one JSON object per alert, appended to ``alerts.jsonl_file``."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.alerts.channels.base import Message
from monitor.errors import DeliveryError
from monitor.settings.table import Settings

__all__ = ["JsonlNotifier", "from_settings"]


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


def from_settings(settings: Settings) -> JsonlNotifier:
    return JsonlNotifier(settings.alerts_jsonl_file)
