"""The exceptions the monitor raises, and the exit code each one maps to in ``monitor.cli``.

Every step raises from this tree; only ``cli`` turns them into exit codes and one-line messages.
Messages name the fix: the setting, environment variable, file or flag to change.

    MonitorError                      exit 1 unless a subclass says otherwise
    ├── ConfigError                   exit 2   bad settings, events or zone files, bad arguments
    ├── SourceError                   exit 75  the data source failed; cron retries next tick
    │   ├── AuthError                 exit 2   credentials rejected (a retry cannot help)
    │   ├── RateLimited               exit 75  429, or still inside a recorded retry-after
    │   └── SourceUnavailable         exit 75  connection refused/timeout, 5xx, unreadable reply
    ├── StoreError                    exit 1   the SQLite store cannot be opened or written
    ├── LockHeld                      exit 73  another vzmon run holds the store's lock
    └── DeliveryError                 exit 1   an alert channel failed (recorded, retried later)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

__all__ = [
    "AuthError",
    "ConfigError",
    "DeliveryError",
    "LockHeld",
    "MonitorError",
    "NotAStore",
    "OutputError",
    "RateLimited",
    "SourceError",
    "SourceUnavailable",
    "StoreError",
]


class MonitorError(Exception):
    """Base of every error the monitor raises on purpose."""


class ConfigError(MonitorError):
    """A setting, file or argument is wrong. ``key`` names the setting or file when known."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class SourceError(MonitorError):
    """The ADS-B source did not give a usable answer. ``charged``: credits the attempt still cost
    (an answer that came but could not be read)."""

    def __init__(self, message: str, url: str | None = None, status: int | None = None, charged: int = 0) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.charged = charged


class AuthError(SourceError):
    """The source rejected the credentials (after one token refresh)."""


class RateLimited(SourceError):
    """The account's credits are exhausted until ``retry_at`` (UTC)."""

    def __init__(
        self, message: str, retry_after_s: float, retry_at: datetime, url: str | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after_s = retry_after_s
        self.retry_at = retry_at


class SourceUnavailable(SourceError):
    """Network failure, timeout, 5xx or a reply that is not the expected JSON."""


class StoreError(MonitorError):
    """The store at ``path`` cannot be opened, migrated or written."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = path


class NotAStore(StoreError):
    """There is no store at ``path``, or the file there is not a vzmon store this version can read."""


class OutputError(MonitorError):
    """An output file or folder at ``path`` cannot be written (no space, read-only, no permission)."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = path


class LockHeld(MonitorError):
    """Another run holds the lock file ``path``; this run did nothing."""

    def __init__(self, message: str, path: Path | str) -> None:
        super().__init__(message)
        self.path = path


class DeliveryError(MonitorError):
    """An alert channel failed to deliver."""

    def __init__(self, message: str, channel: str) -> None:
        super().__init__(message)
        self.channel = channel
