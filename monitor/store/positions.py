"""Position blocks: one snapshot's positions as one compressed Arrow record batch, and reading them.

Place in the flow: ``ingest`` encodes each reply's tagged positions (:func:`encode_block`) and
``store.snapshots.record_poll`` stores the block with its snapshot; ``report`` and ``export`` read
them back in time order, in batches (:func:`iter_positions`), with bounded memory.

Why blocks and not one SQL row per position: a poll is written and read as a whole. A block is
~3x smaller on disk (about 42 MB instead of 120 MB per million positions, measured by
``benchmarks/bench_ingest.py``), cheaper to write (SQLite costs ~3.5 us per 21-column row from
Python, 35 ms for a 10,000-state reply, against ~3 ms for the block), and months of positions load
in seconds. A block is the Arrow IPC message of one record batch in ``schema.POSITION_SCHEMA``
(the schema lives in code, named by ``BLOCK_FORMAT``), compressed whole with zstd and prefixed by
its uncompressed length (8 bytes, little-endian). Within a block each ``icao24`` appears once
(the last row of the reply wins). A block in a format this vzmon does not know is refused, naming
the vzmon that reads it (``block_formats`` table).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from monitor.compute import call
from monitor.errors import NotAStore, StoreError
from monitor.schema import POSITION_SCHEMA
from monitor.store.db import Store, epoch_span, source_filter
from monitor.store.migrations import BLOCK_FORMAT, COMPACTED_FORMAT, HELD_BLOCKS

if TYPE_CHECKING:
    from concurrent.futures import Future

    from monitor.store.compacted import CompactedDay

__all__ = [
    "BLOCK_FORMAT",
    "block_rows",
    "block_totals",
    "check_format",
    "decode_block",
    "decoded_blocks",
    "encode_block",
    "iter_positions",
    "last_row_per_aircraft",
    "positions_schema",
    "with_snapshot_columns",
]

log = logging.getLogger(__name__)
DAY_S = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

_ZSTD = pa.Codec("zstd", compression_level=2)  # level 3 is 25 % slower for 1 % less space


def last_row_per_aircraft(table: pa.Table) -> pa.Table:
    """One row per ``icao24``: an aircraft listed twice in one reply keeps its last row (callers
    dedupe before counting, so counts match what is stored)."""
    if len(call("unique", table["icao24"])) == table.num_rows:
        return table
    icao = np.asarray(table["icao24"].to_numpy(zero_copy_only=False))[::-1]
    _, first_from_end = np.unique(icao, return_index=True)
    keep = np.sort(len(icao) - 1 - first_from_end)
    log.warning("reply lists %d aircraft more than once; their last rows are kept", table.num_rows - len(keep))
    return table.take(pa.array(keep))


def encode_block(positions: pa.Table, unique: bool = False) -> tuple[int, bytes]:
    """One snapshot's positions (columns of ``schema.POSITION_SCHEMA``) as a block: (rows, bytes).

    Whole-message compression keeps the small blocks of a typical poll (a few hundred aircraft)
    small. An ``icao24`` seen twice keeps its last row (``unique``: the caller already made sure
    each appears once, as ``ingest`` does, so the check is skipped). Raises ValueError for no rows.
    """
    table = positions.select(POSITION_SCHEMA.names)
    if not table.schema.equals(POSITION_SCHEMA):  # a cast loads pyarrow.compute: only when needed
        table = table.cast(POSITION_SCHEMA)
    if not unique:
        table = last_row_per_aircraft(table)
    if table.num_rows == 0:
        raise ValueError("a position block needs at least one position")
    raw = table.combine_chunks().to_batches()[0].serialize()
    return table.num_rows, len(raw).to_bytes(8, "little") + _ZSTD.compress(raw).to_pybytes()


def decode_block(data: bytes) -> pa.Table:
    """The positions of one block written by :func:`encode_block` (format ``BLOCK_FORMAT``)."""
    size = int.from_bytes(data[:8], "little")
    raw = _ZSTD.decompress(data[8:], decompressed_size=size)
    return pa.Table.from_batches([pa.ipc.read_record_batch(raw, POSITION_SCHEMA)])


def with_snapshot_columns(table: pa.Table, snapshot_id: int, api_time: int) -> pa.Table:
    """``table`` with ``snapshot_id`` and ``time`` (the snapshot's API time, UTC) in front."""
    n = table.num_rows
    table = table.add_column(0, "time", pa.array(np.full(n, api_time, dtype=np.int64), pa.timestamp("s", tz="UTC")))
    return table.add_column(0, "snapshot_id", pa.array(np.full(n, snapshot_id, dtype=np.int64)))


def check_format(store: Store, fmt: str, snapshot_id: int) -> None:
    """Refuse a position block in a format this vzmon cannot decode, naming the vzmon that can."""
    if fmt == BLOCK_FORMAT:
        return
    from monitor import __version__

    since = store.scalar("SELECT since_version FROM block_formats WHERE format = ?", (fmt,))
    raise NotAStore(
        f"the store {store.path} holds positions in format {fmt!r} (snapshot {snapshot_id}), which this vzmon "
        f"{__version__} cannot read; "
        + (f"vzmon {since} or later reads it: upgrade vzmon" if since else "a newer vzmon wrote it: upgrade vzmon"),
        path=store.path,
    )


def block_rows(
    store: Store,
    start: datetime | None,
    end: datetime | None,
    statuses: Sequence[str],
    sources: Sequence[str] | None = None,
) -> Iterator[tuple[int, int, str, bytes]]:
    """(snapshot id, API time, block format, block) of the blocks still held (not compacted), in
    time order; rows are fetched lazily."""
    if sources is not None and not sources:
        return iter(())  # (no source: nothing, and no plan for HELD_BLOCKS' forced index)
    which, of_sources = source_filter(sources)
    lo, hi = epoch_span(start, end)
    # The held blocks' first and last times, from their partial index (the open day's blocks, in
    # a compacted store): the rows' query then walks those days' snapshots, not the whole span's
    # (a scan of 130,000 rows for 90 compacted days, 0.1-0.4 s, measured).
    first, last = store.execute(
        f"SELECT MIN(s.api_time), MAX(s.api_time) FROM {HELD_BLOCKS} AND s.api_time >= ? AND s.api_time < ?{which}",
        (lo, hi, *of_sources),
    ).fetchone()
    if first is None:
        return iter(())
    sql = (
        "SELECT s.id, s.api_time, b.format, b.data FROM snapshots s JOIN position_blocks b ON b.snapshot_id = s.id "
        f"WHERE s.status IN ({', '.join('?' * len(statuses))}){which} AND b.format != ? "
        "AND s.api_time >= ? AND s.api_time <= ?"
    )
    params: list[object] = [*statuses, *of_sources, COMPACTED_FORMAT, int(first), int(last)]
    return iter(store.execute(sql + " ORDER BY s.api_time, s.id", params))


def iter_positions(
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: Sequence[str] | None = None,
    statuses: Sequence[str] = ("ok",),
    batch_blocks: int = 2048,
    progress: Callable[[int], object] | None = None,
    sources: Sequence[str] | None = None,
    time_order: bool = True,
    dictionaries: Sequence[str] = (),
) -> Iterator[pa.Table]:
    """Positions of ``sources``' (None: all) snapshots whose API time is in ``[start, end)``, a day
    at a time, oldest day first, as Arrow tables (bounded memory for months). The one way to read
    positions: closed days from the Parquet dataset (``store.dataset``), the rest from the blocks.

    Columns: ``snapshot_id``, ``time`` (the snapshot's API time, UTC), then ``columns`` (default:
    all of ``schema.POSITION_SCHEMA``). ``time_order``: rows in time order (by ``time``, then
    ``snapshot_id``); without it a compacted day comes in the file's order (by aircraft, then
    time), which is all that readers grouping by aircraft need, and cheaper. Either way, each
    aircraft's rows come in time order. String columns named in ``dictionaries`` come as Arrow
    dictionaries (as Parquet holds them: cheaper to read and to group by). ``progress(n)`` is
    called after each table with the number of snapshots it covered.
    """
    from concurrent.futures import ThreadPoolExecutor  # here, not at the top: a cron poll never reads positions

    import pyarrow.compute as pc

    from monitor.store.compacted import compacted_days
    from monitor.store.dataset import read_day_file, successor

    wanted = list(columns) if columns is not None else POSITION_SCHEMA.names
    unknown = set(wanted) - set(POSITION_SCHEMA.names)
    if unknown:
        raise ValueError(f"unknown position columns: {sorted(unknown)}")
    as_dict = [n for n in dictionaries if n in wanted]
    if tuple(statuses) != ("ok",):
        raise ValueError(f"positions are stored for ok snapshots only, not {list(statuses)}")
    # The blocks' query runs first, then the files are listed: a compaction that commits between
    # the two leaves its day in both (its blocks, as the query saw them, are dropped below by
    # snapshot), never in neither.
    blocks = groupby(block_rows(store, start, end, statuses, sources), key=lambda row: int(row[1]) // DAY_S)
    block_day, group = next(blocks, (None, None))
    files: dict[int, list[CompactedDay]] = {}
    if isinstance(store.path, Path):  # an in-memory store holds no files
        for held in compacted_days(store, start, end, sources):
            files.setdefault(held.day.toordinal() - _EPOCH_ORDINAL, []).append(held)
    file_days = sorted(files)
    # the next compacted day is read in a thread while the caller works on this one (Parquet reads
    # let go of the GIL); SQLite, which must stay on this thread, is read here
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vzmon-parquet") if len(file_days) > 1 else None
    reads: dict[int, Future[list[pa.Table]]] = {}

    def fetch(day: int) -> list[pa.Table]:
        return [read_day_file(held, wanted, start, end, as_dict) for held in files[day]]

    def fetched(day: int) -> list[pa.Table]:
        """The day's files, read; a file replaced since this read began (a compaction merged late
        polls in and removed it) is read from its successor, the partition's newest part: this
        read's view of the store still names the old one, and the late polls it also sees in the
        blocks are dropped by snapshot."""
        try:
            return reads.pop(day).result() if day in reads else fetch(day)
        except StoreError:
            if all(held.path.exists() for held in files[day]):
                raise
            files[day] = [held if held.path.exists() else successor(held) for held in files[day]]
            return fetch(day)

    def read_ahead(day: int) -> None:
        after = bisect_right(file_days, day)
        if pool is not None and after < len(file_days) and file_days[after] not in reads:
            reads[file_days[after]] = pool.submit(fetch, file_days[after])

    try:
        next_file = 0
        while next_file < len(file_days) or block_day is not None:  # the days of files and of blocks, in order
            day = min([*file_days[next_file : next_file + 1], *([block_day] if block_day is not None else [])])
            tables: list[pa.Table] = []
            n_snapshots = 0
            if next_file < len(file_days) and file_days[next_file] == day:
                next_file += 1
                read_ahead(day)
                tables = fetched(day)
                n_snapshots = sum(held.n_snapshots for held in files[day])
            if block_day == day and group is not None:
                in_files = pa.chunked_array([t["snapshot_id"] for t in tables], pa.int64()).unique() if tables else None
                for chunk in decoded_blocks(store, group, wanted, batch_blocks, as_dict):
                    if in_files is not None:  # late polls of a compacted day; none the files already hold
                        chunk = chunk.filter(pc.invert(pc.is_in(chunk["snapshot_id"], value_set=in_files)))
                        tables.append(chunk)
                        continue
                    yield chunk  # a day held in blocks alone: its chunks as they come, already in time order
                    if progress:
                        progress(_snapshots_in(chunk))
                block_day, group = next(blocks, (None, None))
            if not tables:
                continue
            table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
            by_aircraft = not time_order and "icao24" in wanted
            if time_order or len(tables) > 1:  # several sources, or a file and later blocks, on one day
                # sorted on plain values: Arrow sorts no dictionary column (icao24 may be one here)
                by = {n: _plain(table[n]) for n in (["icao24"] if by_aircraft else []) + ["time", "snapshot_id"]}
                table = table.take(pc.sort_indices(pa.table(by), [(n, "ascending") for n in by]))
            yield table
            if progress:  # a whole day's file: its count is known; a part of one, or with late blocks: counted
                whole = len(tables) == len(files[day]) and (start is None or _day_start(day) >= start)
                whole = whole and (end is None or _day_start(day + 1) <= end)
                progress(n_snapshots if whole else _snapshots_in(table))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column with its dictionary decoded (a sort key)."""
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _day_start(day: int) -> datetime:
    return datetime.fromtimestamp(day * DAY_S, UTC)


def _snapshots_in(table: pa.Table) -> int:
    return int(call("count_distinct", table["snapshot_id"]).as_py()) if table.num_rows else 0


def decoded_blocks(
    store: Store,
    rows: Iterator[tuple[int, int, str, bytes]],
    wanted: list[str],
    batch_blocks: int,
    dictionaries: Sequence[str] = (),
) -> Iterator[pa.Table]:
    """Blocks decoded to tables of up to ``batch_blocks`` snapshots each (``dictionaries``: those
    string columns dictionary-encoded, as :func:`iter_positions` promised)."""

    def done(batch: list[pa.Table]) -> pa.Table:
        table = pa.concat_tables(batch)
        for name in dictionaries:
            i = table.schema.get_field_index(name)
            encoded = call("dictionary_encode", table[name].combine_chunks())
            table = table.set_column(i, pa.field(name, encoded.type, table.schema.field(i).nullable), encoded)
        return table

    batch: list[pa.Table] = []
    for sid, t, fmt, data in rows:
        check_format(store, fmt, sid)
        batch.append(with_snapshot_columns(decode_block(data).select(wanted), sid, t))
        if len(batch) >= batch_blocks:
            yield done(batch)
            batch = []
    if batch:
        yield done(batch)


def block_totals(
    store: Store, start: datetime | None = None, end: datetime | None = None, sources: Sequence[str] | None = None
) -> tuple[int, int]:
    """How many snapshots with positions ``sources``' (None: all) snapshots in ``[start, end)`` are,
    and how many positions they hold, in blocks or in compacted days: :func:`iter_positions`'
    progress total (in snapshots), and what a read of them brings.

    A compacted day wholly inside the span counts from its ``compacted_days`` row (what the read
    counts it as), the rest from the blocks' rows (each keeps its count): the blocks still held
    (a partial index: the open day's), and those of the compacted days cut by the span's ends. Not
    a scan of every snapshot's row (0.3 s for 90 days, 0.7 s for a year, measured)."""
    from monitor.store.compacted import compacted_days, day_epoch

    if sources is not None and not sources:
        return 0, 0  # (no source: nothing, and no plan for HELD_BLOCKS' forced index)
    with store.one_moment():  # a compaction committing between these reads would count a day twice or never
        lo, hi = epoch_span(start, end)
        which, params = source_filter(sources)
        snapshots = positions = 0
        cut: list[tuple[str, int, int]] = []  # (source, from, to) of the compacted days the span's ends cut
        for day in compacted_days(store, start, end, sources):
            first = day_epoch(day.day)
            if lo <= first and first + DAY_S <= hi:
                snapshots, positions = snapshots + day.n_snapshots, positions + day.n_positions
            else:
                cut.append((day.source, max(lo, first), min(hi, first + DAY_S)))
        held = store.query(
            f"SELECT COUNT(*), COALESCE(SUM(b.n_positions), 0) FROM {HELD_BLOCKS} "
            f"AND s.api_time >= ? AND s.api_time < ?{which}",
            (lo, hi, *params),
        )
        parts = [tuple(held[0])]
        for source, a, b in cut:
            parts.append(
                tuple(
                    store.query(
                        "SELECT COUNT(*), COALESCE(SUM(b.n_positions), 0) FROM snapshots s "
                        "JOIN position_blocks b ON b.snapshot_id = s.id "
                        "WHERE s.api_time >= ? AND s.api_time < ? AND s.source = ? AND b.format = ?",
                        (a, b, source, COMPACTED_FORMAT),
                    )[0]
                )
            )
    return snapshots + sum(int(p[0]) for p in parts), positions + sum(int(p[1]) for p in parts)


def positions_schema(columns: Sequence[str] | None = None) -> pa.Schema:
    """The schema :func:`iter_positions` yields for ``columns`` (default all)."""
    wanted = list(columns) if columns is not None else POSITION_SCHEMA.names
    return pa.schema(
        [
            pa.field("snapshot_id", pa.int64()),
            pa.field("time", pa.timestamp("s", tz="UTC")),
            *(POSITION_SCHEMA.field(n) for n in wanted),
        ]
    )
