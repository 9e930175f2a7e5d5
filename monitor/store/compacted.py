"""The store's record of its compacted days, in SQL only: which Parquet file holds each closed
day, which days still wait in blocks, which replaced file is still to remove.

Place in the flow: ``store.dataset`` writes and reads the files; this is what a cron ``collect``
asks after its poll (is there a closed day to compact?) without loading pyarrow's compute and
Parquet modules, and what ``store.positions`` asks before a read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.errors import StoreError
from monitor.store.db import Store, epoch_span, source_filter, to_epoch
from monitor.store.migrations import HELD_BLOCKS

__all__ = [
    "DAY_S",
    "SUPERSEDED",
    "CompactedDay",
    "absolute",
    "compacted_days",
    "dataset_root",
    "day_epoch",
    "day_of",
    "pending_days",
    "relative",
    "superseded",
]

DAY_S = 86_400
SUPERSEDED = "compaction_superseded"  # store_meta: a file a compaction replaced, still to remove


def dataset_root(store: Store) -> Path:
    """The folder of the store's Parquet dataset: ``parquet/`` beside the store file."""
    if not isinstance(store.path, Path):
        raise StoreError("an in-memory store has no Parquet dataset", path=None)
    return store.path.parent / "parquet"


def relative(store: Store, path: Path) -> str:
    return path.relative_to(dataset_root(store).parent).as_posix()


def absolute(store: Store, file: str) -> Path:
    return dataset_root(store).parent / file


@dataclass(frozen=True)
class CompactedDay:
    source: str
    day: date
    path: Path
    n_snapshots: int
    n_positions: int
    bytes: int


def day_of(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def day_epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def compacted_days(
    store: Store, start: datetime | None = None, end: datetime | None = None, sources: Sequence[str] | None = None
) -> list[CompactedDay]:
    """The compacted days of ``sources`` (None: all) that overlap ``[start, end)``, oldest first."""
    lo, hi = epoch_span(start, end)
    lo = lo - DAY_S + 1 if start is not None else lo  # a day starting before start still overlaps
    sql = "SELECT source, day, file, n_snapshots, n_positions, bytes FROM compacted_days WHERE day >= ? AND day < ?"
    params: list[object] = [lo, hi]
    if sources is not None:
        sql += f" AND source IN ({', '.join('?' * len(sources))})"
        params += list(sources)
    return [
        CompactedDay(r[0], day_of(r[1]), absolute(store, r[2]), int(r[3]), int(r[4]), int(r[5]))
        for r in store.execute(sql + " ORDER BY day, source", params)
    ]


def pending_days(store: Store, before: datetime, sources: Sequence[str] | None = None) -> list[tuple[str, date]]:
    """(source, day) of every UTC day ending at or before ``before`` that still has position blocks."""
    if sources is not None and not sources:
        return []  # no source: no held block (and no plan for HELD_BLOCKS' forced index)
    which, params = source_filter(sources)
    cutoff = (to_epoch(before) or 0) // DAY_S * DAY_S
    rows = store.execute(  # from the partial index of the blocks still held (the open days'), not every snapshot
        f"SELECT DISTINCT s.source, s.api_time / 86400 FROM {HELD_BLOCKS} AND s.api_time < ?{which} ORDER BY 2, 1",
        [cutoff, *params],
    )
    return [(str(r[0]), day_of(int(r[1]) * DAY_S)) for r in rows]


def superseded(store: Store) -> str | None:
    """The file (relative to the store's folder) a compaction replaced and has not removed yet."""
    value: Any = store.meta(SUPERSEDED)
    return None if value is None else str(value)
