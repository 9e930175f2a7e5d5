"""Events: announcements and incidents to compare traffic around, loaded from ``config/events.toml``.

Place in the flow: ``analysis`` anchors before/after windows on an :class:`Event`; ``alerts``
quotes the events of the last 48 hours; ``vzmon events`` lists them. Times may carry any UTC
offset in the file (Caracas is UTC-04:00) and are converted to UTC on load; a time without a zone
is refused, as is an unknown kind or a duplicate id. Errors are :class:`ConfigError` naming the
file and the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.tomlfile import read_toml

__all__ = ["EARLIEST", "KINDS", "LATEST", "Event", "events_between", "find_event", "load_events"]

KINDS = ("notam", "announcement", "airline", "military", "reopening")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # times outside [EARLIEST, LATEST) are typos, not events
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_FIELDS = {"id", "time", "window", "kind", "title", "source", "anchor"}


@dataclass(frozen=True)
class Event:
    """One event. Times are tz-aware UTC; ``window`` is the uncertainty window (start, end)."""

    id: str
    time: datetime
    kind: str
    title: str
    source: str
    window: tuple[datetime, datetime] | None = None
    anchor: bool = True

    @property
    def estimated(self) -> bool:
        return self.window is not None

    @property
    def start(self) -> datetime:
        """Start of the excluded span: the window's start, or the time itself."""
        return self.window[0] if self.window else self.time

    @property
    def end(self) -> datetime:
        return self.window[1] if self.window else self.time


def _utc(value: Any, where: str, what: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"{where}: {what} {value!r} is not an ISO 8601 time", key=where) from None
    if not isinstance(value, datetime):
        raise ConfigError(f"{where}: {what} must be a date-time with a time zone, got {value!r}", key=where)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigError(
            f"{where}: {what} {value.isoformat()} has no time zone; write it as UTC with Z "
            "(2025-11-29T14:00:00Z) or with an offset (2025-11-29T10:00:00-04:00)",
            key=where,
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = EARLIEST - timedelta(days=1)
    if not EARLIEST <= utc < LATEST:
        raise ConfigError(
            f"{where}: {what} {value.isoformat()} is outside {EARLIEST:%Y}–{LATEST.year - 1}; fix the date",
            key=where,
        )
    return utc


def _event(raw: Any, index: int, path: Path) -> Event:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [[event]] number {index + 1} is not a table", key=str(path))
    eid = raw.get("id")
    where = f"{path}: event {eid!r}" if isinstance(eid, str) and eid else f"{path}: [[event]] number {index + 1}"
    if not isinstance(eid, str) or not eid.strip():
        raise ConfigError(f"{where}: needs an id", key=where)
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_FIELDS))}", key=where
        )
    for name in ("time", "kind", "title", "source"):
        if name not in raw:
            raise ConfigError(f"{where}: missing {name}", key=where)
    kind = raw["kind"]
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}", key=where)
    source = raw["source"]
    if not isinstance(source, str) or not source.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: source must be an http(s) URL", key=where)
    time = _utc(raw["time"], where, "time")
    window = None
    if "window" in raw:
        w = raw["window"]
        if not isinstance(w, list) or len(w) != 2:
            raise ConfigError(f"{where}: window must be [start, end]", key=where)
        start, end = _utc(w[0], where, "window start"), _utc(w[1], where, "window end")
        if not start <= time <= end:
            raise ConfigError(
                f"{where}: window {start:%Y-%m-%dT%H:%MZ}..{end:%Y-%m-%dT%H:%MZ} must contain the time "
                f"{time:%Y-%m-%dT%H:%MZ}",
                key=where,
            )
        window = (start, end)
    anchor = raw.get("anchor", True)
    if not isinstance(anchor, bool):
        raise ConfigError(f"{where}: anchor must be true or false", key=where)
    return Event(
        id=eid.strip(), time=time, kind=kind, title=str(raw["title"]), source=source, window=window, anchor=anchor
    )


def load_events(path: Path) -> list[Event]:
    """Events of ``path`` sorted by time. Raises ConfigError naming the file and the bad entry."""
    doc = read_toml(path, "events file", "events.file", "VZMON_EVENTS_FILE")
    unknown = sorted(set(doc) - {"event"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; each event is an [[event]] table "
            "(singular, double brackets)",
            key=unknown[0],
        )
    raws = doc.get("event", [])
    if not isinstance(raws, list):
        raise ConfigError(f"{path}: events must be [[event]] tables", key=str(path))
    events = [_event(raw, i, path) for i, raw in enumerate(raws)]
    seen: set[str] = set()
    for e in events:
        if e.id in seen:
            raise ConfigError(f"{path}: event id {e.id!r} is used twice; ids must be unique", key=e.id)
        seen.add(e.id)
    return sorted(events, key=lambda e: (e.time, e.id))


def find_event(events: Sequence[Event], event_id: str) -> Event:
    for e in events:
        if e.id == event_id:
            return e
    close = [e.id for e in events if event_id.split("-")[0] in e.id][:5]
    hint = f"; did you mean {', '.join(close)}?" if close else "; `vzmon events` lists them"
    raise ConfigError(f"no event {event_id!r} in the events file{hint}", key="--event")


def events_between(events: Sequence[Event], start: datetime, end: datetime) -> list[Event]:
    """Events whose time or window overlaps ``[start, end)``."""
    return [e for e in events if e.start < end and e.end >= start]
