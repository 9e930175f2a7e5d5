"""Ingest: one source's reply -> dedupe -> fence -> counts -> store. ONE path for every source.

Place in the flow: ``pipeline.collect`` (live polls) and ``pipeline.demo`` (simulated ones) hand
each :class:`~monitor.sources.base.Reply` here; nothing downstream knows which source it came
from. An aircraft listed twice in one reply keeps its last row; every position gets one zone code
(``geo.fence``); the counts per zone (fresh airborne, fresh on the ground, stale) and the
positions (one compressed block) are stored with the poll in one transaction.

Counting rules: a position counts when it is fresh (``stale`` False); ``on_ground`` True counts
as on the ground, False as airborne (a position whose ``on_ground`` is unknown was flagged stale
by its source). Every zone code appears, with zeros where nothing was seen, so a successful poll
with no aircraft in a zone is an explicit 0 (failed polls get no counts at all).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from geo.fence import fence_for
from geo.zoneset import ZoneSet
from monitor.compute import call, from_numpy
from monitor.counts import ZoneCount
from monitor.errors import SourceUnavailable
from monitor.schema import POSITION_SCHEMA
from monitor.sources.base import Reply
from monitor.store.db import Store
from monitor.store.positions import encode_block, last_row_per_aircraft
from monitor.store.snapshots import PollRecord, RecordedPoll, record_poll

__all__ = ["MAX_CLOCK_AHEAD", "MAX_REPLY_AGE", "Ingested", "check_reply_time", "count_zone_index", "ingest"]

MAX_CLOCK_AHEAD = timedelta(minutes=5)  # a reply time further ahead of our clock is broken
MAX_REPLY_AGE = timedelta(hours=1)  # a live reply older than this is not current data (OpenSky keeps an hour)


@dataclass(frozen=True)
class Ingested:
    """What ingest did with one reply: the record as stored (``recorded`` None for a dry run), the
    poll's full record and the counts per zone (FIR first)."""

    recorded: RecordedPoll | None
    record: PollRecord
    counts: tuple[ZoneCount, ...]


def count_zone_index(
    zone_index: npt.NDArray[np.integer[Any]],
    stale: npt.NDArray[np.bool_],
    on_ground: npt.NDArray[np.bool_],
    codes: Sequence[str],
) -> tuple[ZoneCount, ...]:
    """One :class:`ZoneCount` per code from per-position arrays; ``zone_index`` indexes ``codes`` (as
    ``geo.fence.Fence.classify_index`` returns it)."""
    n = len(codes)
    airborne = np.bincount(zone_index[~stale & ~on_ground], minlength=n)
    ground = np.bincount(zone_index[~stale & on_ground], minlength=n)
    stale_n = np.bincount(zone_index[stale], minlength=n)
    return tuple(ZoneCount(code, int(airborne[i]), int(ground[i]), int(stale_n[i])) for i, code in enumerate(codes))


def check_reply_time(api_time: datetime, now: datetime) -> None:
    """Refuse a live reply whose time cannot be now: more than ``MAX_CLOCK_AHEAD`` ahead of this
    machine's clock, or older than ``MAX_REPLY_AGE``. Stored, such a reply would make ``status``
    report fresh data and keep the outage alert quiet. Raises SourceUnavailable (a recorded gap)."""
    ahead = (api_time - now).total_seconds()
    if ahead > MAX_CLOCK_AHEAD.total_seconds():
        raise SourceUnavailable(
            f"reply time {api_time:%Y-%m-%dT%H:%M:%SZ} is {ahead:,.0f} s ahead of this machine's clock "
            f"({now:%Y-%m-%dT%H:%M:%SZ}): a broken reply, recorded as a gap (if this machine's clock is wrong, set "
            "it right: timedatectl)"
        )
    if -ahead > MAX_REPLY_AGE.total_seconds():
        raise SourceUnavailable(
            f"reply time {api_time:%Y-%m-%dT%H:%M:%SZ} is {-ahead:,.0f} s older than this machine's clock "
            f"({now:%Y-%m-%dT%H:%M:%SZ}): not current data, recorded as a gap (if this machine's clock is wrong, "
            "set it right: timedatectl)"
        )


def ingest(
    store: Store | None, zone_set: ZoneSet, reply: Reply, poll: PollRecord, now: datetime | None = None
) -> Ingested:
    """Dedupe, classify, count and store ``reply``; ``poll`` carries the attempt's own metadata
    (source, request time, box, simulated), the reply fills in the rest. With ``store`` None (dry
    run) nothing is written. ``now`` (live polls) checks the reply's time against this machine's
    clock (:func:`check_reply_time`)."""
    if now is not None:
        check_reply_time(reply.api_time, now)
    table = last_row_per_aircraft(reply.positions)
    zone_index = fence_for(zone_set).classify_index(table["longitude"].to_numpy(), table["latitude"].to_numpy())
    counts = count_zone_index(
        zone_index,
        table["stale"].to_numpy(),
        call("coalesce", table["on_ground"], False).to_numpy(),
        zone_set.codes,
    )
    zones = call("take", pa.array(zone_set.codes, pa.string()), from_numpy(zone_index, pa.int16()))
    positions = table.append_column(POSITION_SCHEMA.field("zone"), zones)
    record = dataclasses.replace(
        poll,
        status="ok" if len(positions) else "empty",
        api_time=reply.api_time,
        http_status=reply.http_status,
        credits_charged=reply.credits_charged,
        credits_remaining=reply.credits_remaining,
        n_states=len(positions) + reply.malformed,
        n_malformed=reply.malformed,
        duration_ms=round(reply.duration_s * 1000),
        attempts=reply.attempts,
        authenticated=reply.authenticated,
    )
    if store is None:
        return Ingested(None, record, counts)
    block = encode_block(positions, unique=True) if len(positions) else None
    recorded = record_poll(store, record, block, counts, zone_set_id=store.zone_set_id(zone_set))
    return Ingested(recorded, record, counts)
