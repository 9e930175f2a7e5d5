"""The outcome of one poll attempt, as the store keeps it: its status, and its counts per zone.

Place in the flow: shared vocabulary, with no dependencies, so ``status`` and ``alerts`` read it
without loading pyarrow. ``ingest`` makes one :class:`ZoneCount` per zone code for every
successful poll (zeros included: an explicit 0, not a gap); a failed poll has a status and no
counts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SNAPSHOT_STATUSES", "ZoneCount"]

# Poll attempt outcomes recorded in the snapshots table.
#   ok            data stored            empty      OpenSky answered with no states (stored, flagged)
#   duplicate     same API time as an earlier snapshot (nothing new stored)
#   rate_limited  429, credits exhausted skipped    not sent: inside a recorded retry-after window
#   error         network, timeout, 5xx, bad reply, auth failure
SNAPSHOT_STATUSES: tuple[str, ...] = ("ok", "empty", "duplicate", "rate_limited", "skipped", "error")


@dataclass(frozen=True)
class ZoneCount:
    """Aircraft in one zone at one snapshot: fresh airborne, fresh on the ground, and stale (kept,
    not counted as either). A successful poll has a count for every zone code, zeros included."""

    zone: str
    airborne: int
    on_ground: int
    stale: int
