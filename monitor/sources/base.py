"""The contract every source keeps: :class:`Source` fetches, and returns one :class:`Reply`.

Place in the flow: ``pipeline`` asks a source for the positions over the zones (OpenSky asks for
their polling box, the readsb services for the circles that cover them); the reply goes
to ``ingest`` unchanged, whichever source it came from. A reply carries its time, what it cost and
the positions as an Arrow table in ``schema.POSITION_SCHEMA`` (without ``zone``, which ``ingest``
adds): SI units, UTC times, WGS 84 degrees. A source raises ``SourceError`` subclasses only
(``AuthError``, ``RateLimited``, ``SourceUnavailable``), with ``charged`` set when a reply that
could not be read still cost credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import pyarrow as pa

from geo.zoneset import ZoneSet

__all__ = ["ClosesOnExit", "Reply", "Source"]


@dataclass(frozen=True)
class Reply:
    """One answer of a source. ``positions``: ``schema.POSITION_SCHEMA`` without ``zone``;
    ``api_time``: the time the positions are of (tz-aware UTC); ``malformed``: rows skipped."""

    source: str
    api_time: datetime
    positions: pa.Table
    malformed: int = 0
    http_status: int | None = None
    credits_charged: int = 0
    credits_remaining: int | None = None
    duration_s: float = 0.0
    attempts: int = 1
    authenticated: bool | None = None


class ClosesOnExit:
    """``with`` support for a source or client: leaving the block calls ``close()``."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Source(Protocol):
    """Something that answers "which aircraft are over these zones now?". Use it as a context manager."""

    name: str  # as stored in ``snapshots.source``

    @property
    def authenticated(self) -> bool:
        """Whether calls use credentials (rate limits are kept per credit budget)."""
        ...

    def describe(self, zone_set: ZoneSet) -> str:
        """What a fetch over ``zone_set`` asks the source for, as stored with each poll (``snapshots.box``)."""
        ...

    def fetch(self, zone_set: ZoneSet) -> Reply:
        """The positions over ``zone_set`` now (at least; ``ingest`` fences them). Raises ``SourceError`` subclasses."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
