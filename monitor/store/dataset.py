"""Closed days' positions as a Hive-partitioned Parquet dataset beside the store, and compacting them.

Place in the flow: each poll stores its positions as one block in SQLite (``store.positions``):
one transaction per poll, cheap to write. Once a UTC day is closed, :func:`compact_day` moves that
day's blocks of one source into one Parquet file, which every other tool reads as it is:

    <store folder>/parquet/positions/source=<source>/date=YYYY-MM-DD/part-<n>.parquet

Each file holds ``snapshot_id``, ``time`` (the snapshot's API time, UTC) and every column of
``schema.POSITION_SCHEMA`` (``zone`` included), zstd-compressed, in one large row group, sorted by
``icao24`` then ``time`` so that one aircraft's rows are together and in time order. ``source``
and ``date`` are the partition columns, taken from the path (Spark, DuckDB and pyarrow read them
from there; a file that also held them would clash in Spark).

Which file holds a day is the store's to say (``compacted_days``), never the folder's: a day's
positions are the file its row names plus any blocks of that day still in SQLite (a poll stored
after the day was compacted). Compacting writes the new file aside, fsyncs it, renames it into
place (a new ``<n>``, never over the file the row names), and then, in one SQLite transaction,
points the row at it and empties the blocks it holds (each block's row stays, with its count and
no data, saying that its positions are in the day's file); a file it replaced is named in
``store_meta`` in the same transaction and removed right after, or by the next run.

A crash at any moment leaves either the blocks or the file counted, never both and never neither,
for vzmon. What a crash can leave behind (a hidden temporary file, a file no row names) is removed
by the next compaction of that day, the next run (a replaced file) and :func:`sweep`; until then a
tool reading the folder directly may see that day twice. Compacting is idempotent: a day with no
blocks left is not touched.

The dataset's folder belongs to one store: a marker file (``parquet/_vzmon_store``) names the
store's id, and a second store in the same folder is refused rather than mixed in.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monitor.compute import sorted_unique
from monitor.errors import StoreError
from monitor.outputs import describe_os_error
from monitor.schema import POSITION_SCHEMA
from monitor.sources.registry import COMBINED, CREDITS
from monitor.store.compacted import (
    SUPERSEDED,
    CompactedDay,
    absolute,
    dataset_root,
    day_epoch,
    relative,
)
from monitor.store.db import Store, to_epoch
from monitor.store.migrations import COMPACTED_FORMAT
from monitor.store.snapshots import combined_parts

__all__ = [
    "DATASET_FORMAT",
    "FILE_SCHEMA",
    "compact_day",
    "credit_for",
    "finish_removal",
    "partition",
    "read_day_file",
    "remove_dataset",
    "successor",
    "sweep",
]

DATASET_FORMAT = COMPACTED_FORMAT
FILE_SCHEMA = pa.schema(
    [
        pa.field("snapshot_id", pa.int64()),
        pa.field("time", pa.timestamp("s", tz="UTC")),
        *POSITION_SCHEMA,
    ]
)
_PART = re.compile(r"part-(\d+)\.parquet$")
_MARKER = "_vzmon_store"
ROW_GROUP_ROWS = 1 << 21  # one row group per day for a region's day (about 0.4 M positions a day at 60 s)


def partition(store: Store, source: str, day: date) -> Path:
    """The Hive partition folder of one source's day."""
    return dataset_root(store) / "positions" / f"source={source}" / f"date={day:%Y-%m-%d}"


def successor(held: CompactedDay) -> CompactedDay:
    """The newest part of ``held``'s partition (``held`` itself when it is still the newest)."""
    parts = [(int(m.group(1)), p) for p in held.path.parent.glob("part-*.parquet") if (m := _PART.match(p.name))]
    return dataclasses.replace(held, path=max(parts)[1]) if parts else held


def read_day_file(
    day: CompactedDay,
    columns: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
    dictionaries: Sequence[str] = (),
) -> pa.Table:
    """``columns`` (plus ``snapshot_id`` and ``time``) of one compacted day's rows in ``[start, end)``,
    in the file's order (by aircraft, then time); the string columns named in ``dictionaries`` as
    Arrow dictionaries, as the file holds them (half the reading time)."""
    try:
        table = pq.ParquetFile(day.path, read_dictionary=list(dictionaries)).read(
            columns=["snapshot_id", "time", *columns], use_threads=True
        )
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(
            f"cannot read {day.path}, the Parquet file of {day.source}'s {day.day}: {exc}; restore it from a backup "
            "of the store's folder (the store names it in compacted_days)",
            path=day.path,
        ) from None
    # Parquet keeps times in milliseconds at least: back to the schema's whole seconds
    table = table.cast(
        pa.schema(
            [
                f if f.name in dictionaries else FILE_SCHEMA.field(f.name)
                for f in (table.schema.field(n) for n in table.column_names)
            ]
        )
    )
    day_start = datetime(day.day.year, day.day.month, day.day.day, tzinfo=UTC)
    cut_lo = start is not None and start > day_start
    cut_hi = end is not None and end < day_start + timedelta(days=1)
    if cut_lo or cut_hi:
        t = table["time"]
        keep = pc.and_(
            pc.greater_equal(t, pa.scalar(start, t.type)) if cut_lo else pa.scalar(True),
            pc.less(t, pa.scalar(end, t.type)) if cut_hi else pa.scalar(True),
        )
        table = table.filter(keep)
    return table


def _claim(store: Store) -> Path:
    """The dataset folder, made and marked as this store's; another store's folder is refused."""
    root = dataset_root(store)
    name = Path(store.path).name
    store_id = store.meta("store_id")
    if store_id is None:
        store_id = uuid.uuid4().hex
        with store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO store_meta (key, value) VALUES ('store_id', ?)", (store_id,))
        store_id = store.meta("store_id") or store_id
    marker = root / _MARKER
    held = _owner(root)
    if held is not None and held != (store_id, name):
        keep = f"move {root} away to keep those days (DuckDB reads them as they are), or delete it"
        if held[1] == name:
            why = f"an earlier store at {store.path} wrote them, replaced since: {keep}"
        elif not (root.parent / held[1]).exists():
            why = f"its store {held[1]} is gone: {keep}"
        else:
            why = f"they are {held[1]}'s: give each store its own folder (move {name} into one)"
        raise StoreError(f"{root} holds another store's Parquet positions; {why}", path=root)
    if held is None:
        root.mkdir(parents=True, exist_ok=True)
        _write_atomic(marker, f"{store_id} {name}\n".encode())
        _fsync_dir(root.parent)
    return root


def _owner(root: Path) -> tuple[str, str] | None:
    """The (store id, store file name) the dataset folder's marker names; None without a marker."""
    marker = root / _MARKER
    if not marker.exists():
        return None
    try:
        words = marker.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        words = []
    return (words[0], words[1]) if len(words) >= 2 else ("?", "?")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _write_parquet(path: Path, table: pa.Table) -> int:
    """``table`` as ``path``, atomically: a hidden temporary file, fsynced, then renamed. Returns bytes."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        size = _write_file(tmp, table)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write {path}: {describe_os_error(exc, path.parent, 'free space there, or move the store')}; "
            "the day's positions stay in the store",
            path=path,
        ) from None
    return size


def credit_for(store: Store, source: str, start: datetime, end: datetime) -> str:
    """Whom a source's positions of ``[start, end)`` come from, as every output of them must say:
    the network's credit line (its licence with it), the networks a combined view joins there, or
    that they were simulated."""
    if source == COMBINED:
        parts = combined_parts(store, start, end)
        return "combined view of " + "; ".join(CREDITS.get(p, p) for p in parts)
    simulated = store.scalar(  # the range's snapshots (by the API-time index), not all of the source's
        "SELECT MAX(simulated) FROM snapshots WHERE source = ? AND api_time >= ? AND api_time < ?",
        (source, to_epoch(start), to_epoch(end)),
    )
    if simulated:
        return "simulated by vzmon demo: not real traffic"
    return CREDITS.get(source, source)


def _write_file(tmp: Path, table: pa.Table) -> int:
    with open(tmp, "wb") as f:
        pq.write_table(
            table,
            f,
            row_group_size=ROW_GROUP_ROWS,
            compression="zstd",
            compression_level=3,
            use_dictionary=["icao24", "callsign", "origin_country", "squawk", "sensors", "zone"],
            write_statistics=["snapshot_id", "time", "icao24"],
        )
        f.flush()
        os.fsync(f.fileno())
    return tmp.stat().st_size


def _day_blocks(store: Store, source: str, day: date) -> tuple[list[int], list[pa.Table]]:
    """The snapshot ids and decoded positions of ``source``'s blocks still held for ``day``."""
    from monitor.store.positions import block_rows, decoded_blocks

    start = datetime.combine(day, datetime.min.time(), UTC)
    rows = block_rows(store, start, start + timedelta(days=1), ("ok",), [source])
    tables = list(decoded_blocks(store, rows, POSITION_SCHEMA.names, 2048))
    ids = [int(i) for t in tables for i in sorted_unique(t["snapshot_id"].to_numpy())]  # each block has a row
    return ids, tables


def _orphans(folder: Path, keep: str | None) -> Iterator[Path]:
    """Files compaction left in ``folder`` that no row names: temporary files and superseded parts."""
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if (p.name.startswith(".part-") and p.name.endswith(".tmp")) or (_PART.match(p.name) and p.name != keep):
            yield p


def compact_day(
    store: Store, source: str, day: date, step: Callable[[str], object] = lambda _: None
) -> CompactedDay | None:
    """Move ``source``'s blocks of UTC ``day`` into the day's Parquet file (merged with the file
    already there); None when the day has no blocks. The caller holds the store's lock.

    ``step(name)`` is called after each durable step (``written``, ``committed``, ``cleaned``): a
    seam for the crash tests.
    """
    root = _claim(store)
    lo = day_epoch(day)
    row = store.execute("SELECT file FROM compacted_days WHERE source = ? AND day = ?", (source, lo)).fetchone()
    old = absolute(store, row[0]) if row else None
    ids, tables = _day_blocks(store, source, day)
    folder = partition(store, source, day)
    if not ids:
        for p in _orphans(folder, old.name if old else None):
            p.unlink(missing_ok=True)
        return None
    if old is not None:
        held = read_day_file(CompactedDay(source, day, old, 0, 0, 0), POSITION_SCHEMA.names)
        tables.insert(0, held.cast(FILE_SCHEMA))
    table = pa.concat_tables(tables).cast(FILE_SCHEMA)
    del tables
    order = pc.sort_indices(table, [("icao24", "ascending"), ("time", "ascending"), ("snapshot_id", "ascending")])
    table = table.take(order)
    generation = int(m.group(1)) + 1 if old is not None and (m := _PART.match(old.name)) else 1
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for made in (folder.parent, folder.parent.parent):  # the new folders' names, durable too
            _fsync_dir(made)
    for p in _orphans(folder, old.name if old else None):  # a crashed run's leftovers
        p.unlink(missing_ok=True)
    path = folder / f"part-{generation}.parquet"
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    said = credit_for(store, source, day_start, day_start + timedelta(days=1))
    credit = {b"vzmon.source": source.encode(), b"vzmon.data_credit": said.encode()}
    size = _write_parquet(path, table.replace_schema_metadata({**(table.schema.metadata or {}), **credit}))
    step("written")
    n_snapshots = len(sorted_unique(table["snapshot_id"].to_numpy()))
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO compacted_days (source, day, file, format, n_snapshots, n_positions, bytes, "
            "compacted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (source, lo, relative(store, path), DATASET_FORMAT, n_snapshots, table.num_rows, size, int(time.time())),
        )
        conn.executemany(  # the data goes; the row stays, saying where the positions went
            "UPDATE position_blocks SET format = ?, data = X'' WHERE snapshot_id = ?",
            [(COMPACTED_FORMAT, i) for i in ids],
        )
        if old is not None and old != path:  # to remove next, even if this run dies before it does
            conn.execute(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (SUPERSEDED, relative(store, old))
            )
    step("committed")
    finish_removal(store)
    step("cleaned")
    del root
    return CompactedDay(source, day, path, n_snapshots, table.num_rows, size)


def finish_removal(store: Store) -> None:
    """Remove the file a compaction superseded, if the store says one is left (the run that
    superseded it may have died before it could): until then, a tool reading the folder directly
    sees that day twice. vzmon never does: it reads the file the store names."""
    left = store.meta(SUPERSEDED)
    if left is None:
        return
    path = absolute(store, left)
    if path not in {absolute(store, r[0]) for r in store.execute("SELECT file FROM compacted_days")}:
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            _fsync_dir(path.parent)
    with store.transaction() as conn:
        conn.execute("DELETE FROM store_meta WHERE key = ?", (SUPERSEDED,))


def remove_dataset(store_path: Path, store_id: str | None) -> None:
    """Delete the Parquet dataset beside ``store_path`` when its marker names that store: by its id
    (``store_id``, read from the store before it was deleted), or by its name when the store is
    already gone. For ``vzmon demo``, which makes its store anew; another store's days are never
    touched."""
    root = store_path.parent / "parquet"
    held = _owner(root)
    if held is None or held[1] != store_path.name:
        return
    if held[0] == store_id or (store_id is None and not store_path.exists()):
        shutil.rmtree(root / "positions", ignore_errors=True)
        (root / _MARKER).unlink(missing_ok=True)


def sweep(store: Store) -> int:
    """Remove what crashed compactions left in the dataset (files no row names); returns how many."""
    if not (dataset_root(store) / "positions").is_dir():
        return 0
    root = _claim(store) / "positions"  # never another store's folder
    named = {(f := absolute(store, r[0])).parent: f.name for r in store.execute("SELECT file FROM compacted_days")}
    removed = 0
    for folder in root.glob("source=*/date=*"):
        for p in list(_orphans(folder, named.get(folder))):
            p.unlink(missing_ok=True)
            removed += 1
    return removed
