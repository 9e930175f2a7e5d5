"""The combined view: every source's positions on one fixed time grid, stored as the source ``combined``.

Place in the flow: ``pipeline.collect`` calls :func:`combine_pending` after it has polled every
configured source (when there are several); each grid slot becomes one snapshot of the source
``combined``, stored through ``ingest`` like any poll, so report, alerts, status and export read
it as they read any source.

The rule: an aircraft counts at grid time ``t`` when a successful poll of any source with its API
time in ``(t - step, t]`` listed it, placed by its freshest position (fresh before stale, then the
newest ``time_position``, then the newest ``last_contact``). A slot where any of the view's
sources had no successful poll is stored as a gap (status ``error``, the missing sources named),
never as fewer aircraft; a slot with no poll attempt of any source is not stored (as a cron tick
that never ran). Each run adds only final slots: those that every source has polled past. A store
with weeks of several sources' polls catches up :data:`MAX_SLOTS_PER_RUN` slots per run, oldest
first, so one cron run stays short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from geo.zoneset import ZoneSet
from monitor.compute import call, from_numpy
from monitor.grid import slot_end, slot_ends
from monitor.ingest import ingest
from monitor.schema import POSITION_SCHEMA
from monitor.sources.base import Reply
from monitor.sources.registry import COMBINED
from monitor.store.db import Store
from monitor.store.positions import iter_positions, positions_schema
from monitor.store.snapshots import PollRecord, record_poll

__all__ = ["COMBINED", "MAX_SLOTS_PER_RUN", "Combined", "combine_pending", "freshest_per_aircraft", "view_name"]

MAX_SLOTS_PER_RUN = 2016  # a week of 5-minute slots
_CHUNK_SLOTS = 288  # slots read and combined at a time
# A poll's API time is at most this far after its request time (ingest refuses a reply more than 5
# minutes ahead of the clock): a bound on requested_at lets SQLite use its index instead of a scan.
_REQUEST_LEAD_S = 3600


@dataclass(frozen=True)
class Combined:
    """What one :func:`combine_pending` call stored: slots with data, slots stored as gaps, and the
    newest slot end (None when nothing was final)."""

    slots: int
    gaps: int
    until: datetime | None


def view_name(sources: Sequence[str]) -> str:
    """How a combined snapshot names the sources it requires (``snapshots.box``): ``adsbfi+opensky``."""
    return "+".join(sorted(sources))


def freshest_per_aircraft(table: pa.Table) -> pa.Table:
    """One row per ``icao24``: a fresh position before a stale one, then the newest
    ``time_position``, then the newest ``last_contact`` (nulls last). Row order follows ``icao24``."""
    if table.num_rows == 0:
        return table

    def newest_first(name: str) -> npt.NDArray[np.int64]:  # nulls (no time) sort last
        values = _epochs(table[name])
        newest: npt.NDArray[np.int64] = np.where(values == _NO_TIME, np.iinfo(np.int64).max, -values)
        return newest

    icao_all = np.asarray(table["icao24"].to_numpy(zero_copy_only=False)).astype(str)
    stale = table["stale"].to_numpy(zero_copy_only=False).astype(bool)
    order = np.lexsort((newest_first("last_contact"), newest_first("time_position"), stale, icao_all))
    ordered = call("take", table, from_numpy(order.astype(np.int64), pa.int64()))
    icao = np.asarray(ordered["icao24"].to_numpy(zero_copy_only=False))
    first = np.ones(len(icao), dtype=bool)
    first[1:] = icao[1:] != icao[:-1]
    return call("filter", ordered, from_numpy(first, pa.bool_()))


_COLUMNS = [c for c in POSITION_SCHEMA.names if c != "zone"]  # what a source's reply holds
_NO_POSITIONS = pa.Table.from_batches([], positions_schema(_COLUMNS))  # Schema.empty_table() loads pandas
_NO_TIME = np.iinfo(np.int64).min  # NaT as int64


def _epochs(values: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Timestamps as whole Unix seconds, ``_NO_TIME`` for nulls (without loading pyarrow.compute)."""
    as_int: npt.NDArray[np.int64] = (
        np.asarray(values.to_numpy(zero_copy_only=False)).astype("datetime64[s]").astype(np.int64)
    )
    return as_int


def combine_pending(
    store: Store,
    zone_set: ZoneSet,
    sources: Sequence[str],
    step_s: int,
    now: datetime,
    max_slots: int = MAX_SLOTS_PER_RUN,
) -> Combined:
    """Store the final slots of the combined view of ``sources`` not stored yet (see the module's
    rule). Returns what was stored."""
    sources = sorted(set(sources))
    marks = ", ".join("?" * len(sources))
    last = store.scalar("SELECT MAX(api_time) FROM snapshots WHERE source = ?", (COMBINED,))
    attempt_time = "COALESCE(api_time, requested_at)"
    if last is None:  # start where every source has been tried: earlier slots would all be gaps
        starts = store.query(
            f"SELECT source, MIN({attempt_time}) AS t FROM snapshots WHERE source IN ({marks}) GROUP BY source",
            sources,
        )
        if len(starts) < len(sources):
            return Combined(0, 0, None)
        after = max(int(r["t"]) for r in starts) - 1
    else:
        after = int(last)
    # the first slot with an attempt (a machine switched off for a month skips its empty slots)
    nxt = store.scalar(
        f"SELECT MIN({attempt_time}) FROM snapshots WHERE requested_at > ? AND source IN ({marks}) "
        f"AND {attempt_time} > ?",
        (after - _REQUEST_LEAD_S, *sources, after),
    )
    if nxt is None:
        return Combined(0, 0, None)
    lo = slot_end(int(nxt), step_s) - step_s
    if last is not None:  # never before a stored slot: a changed step moves the grid
        lo = max(lo, int(last))
    # final: every source has polled past the slot's end (and the slot has ended)
    heads = [store.scalar("SELECT MAX(requested_at) FROM snapshots WHERE source = ?", (s,)) for s in sources]
    if any(h is None for h in heads):
        return Combined(0, 0, None)
    final = min(min(int(h) for h in heads), int(now.timestamp()))
    # the last slot ending before ``final``, and no further than ``max_slots`` (a slot end: none is cut)
    hi = min(slot_end(lo + max_slots * step_s + 1, step_s) - step_s, slot_end(final, step_s) - step_s)
    if hi <= lo:
        return Combined(0, 0, None)

    stored = gaps = 0
    # a day of slots at a time (memory stays bounded), cut at slot ends so no slot is split
    first = slot_end(lo + 1, step_s) - step_s
    cuts = [lo, *range(first + _CHUNK_SLOTS * step_s, hi, _CHUNK_SLOTS * step_s), hi]
    for a, b in pairwise(cuts):
        done = _combine_slots(store, zone_set, sources, step_s, a, b, now)
        stored, gaps = stored + done.slots, gaps + done.gaps
    return Combined(stored, gaps, datetime.fromtimestamp(hi, UTC))


def _combine_slots(
    store: Store, zone_set: ZoneSet, sources: list[str], step_s: int, lo: int, hi: int, now: datetime
) -> Combined:
    """Store the slots ending in ``(lo, hi]`` that hold a poll attempt of any of ``sources``."""
    marks = ", ".join("?" * len(sources))
    attempt_time = "COALESCE(api_time, requested_at)"
    seen: dict[int, dict[str, list[str]]] = {}
    simulated: dict[int, bool] = {}
    for r in store.query(
        f"SELECT source, status, simulated, {attempt_time} AS t FROM snapshots "
        f"WHERE requested_at > ? AND source IN ({marks}) AND {attempt_time} > ? AND {attempt_time} <= ?",
        (lo - _REQUEST_LEAD_S, *sources, lo, hi),
    ):
        slot = slot_end(int(r["t"]), step_s)
        seen.setdefault(slot, {}).setdefault(r["source"], []).append(r["status"])
        simulated[slot] = simulated.get(slot, False) or bool(r["simulated"])

    tables = list(
        iter_positions(
            store,
            datetime.fromtimestamp(lo + 1, UTC),
            datetime.fromtimestamp(hi + 1, UTC),
            columns=_COLUMNS,
            sources=sources,
        )
    )
    positions = pa.concat_tables(tables) if tables else _NO_POSITIONS
    slot_of = slot_ends(_epochs(positions["time"]), step_s)
    positions = positions.drop_columns(["snapshot_id", "time"])

    box = view_name(sources)
    stored = gaps = 0
    for slot in sorted(seen):
        polled = seen[slot]
        t = datetime.fromtimestamp(slot, UTC)
        requested = now
        missing = [s for s in sources if not set(polled.get(s, ())) & {"ok", "empty"}]
        if missing:
            what = "; ".join(
                f"{s} ({', '.join(sorted(set(polled[s])))})" if s in polled else f"{s} (no attempt)" for s in missing
            )
            record_poll(
                store,
                PollRecord(
                    source=COMBINED,
                    requested_at=requested,
                    status="error",
                    api_time=t,
                    box=box,
                    error=f"no successful poll of {what} in the slot ending {t:%Y-%m-%dT%H:%M}Z: a gap of the "
                    "combined view, not fewer aircraft",
                    simulated=simulated[slot],
                ),
            )
            gaps += 1
            continue
        lo_row, hi_row = np.searchsorted(slot_of, [slot, slot + 1])  # positions come in time order
        rows = positions.slice(int(lo_row), int(hi_row - lo_row))
        reply = Reply(source=COMBINED, api_time=t, positions=freshest_per_aircraft(rows))
        ingest(store, zone_set, reply, PollRecord(COMBINED, requested, "ok", box=box, simulated=simulated[slot]))
        stored += 1
    return Combined(stored, gaps, None)
