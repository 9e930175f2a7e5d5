"""The clock: now, in UTC, timezone-aware. The one seam tests replace (with a fake clock) to run
days of polls in a second.

Place in the flow: shared vocabulary; ``pipeline`` commands default to :func:`utcnow` and pass it
down (sources use it for token lifetimes and retry-after times).
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
