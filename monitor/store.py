"""The SQLite store: versioned migrations, one transaction per poll, status queries.

Place in the flow: ``pipeline`` hands each poll attempt (and, when it brought data, its tagged
positions and zone counts) to :meth:`Store.record_poll`; ``status``, ``analysis`` and ``alerts``
read from here. ``Store(":memory:")`` works for tests.

Durability: WAL journal with ``synchronous=FULL``; each poll is one transaction, so a process
killed at any moment (even SIGKILL) leaves every earlier poll intact and the file consistent.
Writers are serialised by the file lock the pipeline takes; readers never block.

Tables (times are whole Unix seconds, UTC):
    schema_migrations  version, name, applied_at
    zone_sets          the zones a poll was classified with (codes, ring width, fingerprint)
    snapshots          one row per poll attempt: status, API time, HTTP status, credits, timing,
                       retry-after, error text. A failed, rate-limited or skipped poll is a row
                       with no counts: a recorded gap, never a zero.
    position_blocks    one row per snapshot with data: every position of the reply (each
                       state-vector field, stale flag, zone), as one compressed columnar block
    zone_counts        per snapshot and zone: airborne, on_ground, stale (ok and empty polls only)

Why positions are blocks and not one SQL row each: a poll is written and read as a whole. A
block is ~3x smaller on disk (about 42 MB instead of 120 MB per million positions, measured by
``benchmarks/bench_ingest.py``), cheaper to write (SQLite costs ~3.5 us per 21-column row from
Python, 35 ms for a 10,000-state reply, against ~3 ms for the block), and months of positions
load into pandas in seconds. A block is an Arrow IPC record batch compressed with zstd (see
:func:`encode_block`), key ``snapshot_id``; within a block each ``icao24`` appears once (the last
row of the reply wins).
:meth:`Store.read_positions` returns them as a DataFrame; ``vzmon export`` writes CSV/Parquet.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.zoneset import ZoneSet
from monitor import __version__
from monitor.errors import NotAStore, StoreError
from monitor.outputs import describe_os_error, free_bytes
from monitor.schema import POSITION_SCHEMA, SNAPSHOT_STATUSES, positions_frame

__all__ = [
    "BLOCK_FORMAT",
    "MIGRATIONS",
    "POSITION_SCHEMA",
    "PollRecord",
    "RecordedPoll",
    "Store",
    "decode_block",
    "encode_block",
    "from_epoch",
    "last_row_per_aircraft",
    "to_epoch",
]

log = logging.getLogger(__name__)


def to_epoch(t: datetime | None) -> int | None:
    if t is None:
        return None
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: the store only takes tz-aware UTC times")
    return int(t.timestamp())


def from_epoch(s: int | float | None) -> datetime | None:
    return None if s is None else datetime.fromtimestamp(s, UTC)


BLOCK_FORMAT = "arrow-batch+zstd/1"  # see encode_block
# SQLite's application_id header field (PRAGMA application_id): "VZMN". A file with another id is
# another application's; stores made before it was set have 0 and are recognised by their tables.
APPLICATION_ID = 0x565A4D4E
_OWN_TABLES = frozenset({"schema_migrations", "zone_sets", "snapshots", "position_blocks", "zone_counts"})
_SQLITE_IOERR, _SQLITE_FULL, _SQLITE_NOTADB = 10, 13, 26  # primary result codes


def _primary(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (the low byte of the extended code)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


_ZSTD = pa.Codec("zstd", compression_level=2)  # level 3 is 25 % slower for 1 % less space
_STATUS_LIST = ", ".join(f"'{s}'" for s in SNAPSHOT_STATUSES)

# (version, name, SQL). Append only: a released migration is never edited.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "snapshots, positions, zone counts",
        f"""
CREATE TABLE zone_sets (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    ring_nm REAL NOT NULL,
    codes TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    api_time INTEGER,
    status TEXT NOT NULL CHECK (status IN ({_STATUS_LIST})),
    http_status INTEGER,
    credits_charged INTEGER NOT NULL DEFAULT 0,
    credits_remaining INTEGER,
    n_states INTEGER,
    n_malformed INTEGER,
    duration_ms INTEGER,
    attempts INTEGER,
    authenticated INTEGER,
    retry_at INTEGER,
    box TEXT,
    zone_set_id INTEGER REFERENCES zone_sets(id),
    duplicate_of INTEGER REFERENCES snapshots(id),
    simulated INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE UNIQUE INDEX snapshots_one_per_api_time ON snapshots(source, api_time) WHERE status IN ('ok', 'empty');
CREATE INDEX snapshots_by_requested_at ON snapshots(requested_at);
CREATE INDEX snapshots_by_api_time ON snapshots(api_time);
CREATE TABLE position_blocks (
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id),
    n_positions INTEGER NOT NULL,
    format TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE zone_counts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    zone TEXT NOT NULL,
    airborne INTEGER NOT NULL,
    on_ground INTEGER NOT NULL,
    stale INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, zone)
) WITHOUT ROWID;
""",
    ),
    (
        2,
        "alerts outbox and deliveries",
        """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('drop', 'zero', 'recovery', 'outage', 'outage_end', 'test')),
    zone TEXT,
    created_at INTEGER NOT NULL,
    poll_time INTEGER,
    observed REAL,
    expected REAL,
    line TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX alerts_by_created_at ON alerts(created_at);
CREATE TABLE deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    PRIMARY KEY (alert_id, channel)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
""",
    ),
    (
        3,
        "store identity, block formats and the vzmon that wrote each schema version",
        f"""
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE block_formats (
    format TEXT PRIMARY KEY,
    since_version TEXT NOT NULL
);
INSERT INTO block_formats (format, since_version) VALUES ('{BLOCK_FORMAT}', '0.1.0');
PRAGMA application_id = {APPLICATION_ID}
""",
    ),
)


@dataclass(frozen=True)
class PollRecord:
    """What one poll attempt did. Times are tz-aware UTC."""

    source: str
    requested_at: datetime
    status: str
    api_time: datetime | None = None
    http_status: int | None = None
    credits_charged: int = 0
    credits_remaining: int | None = None
    n_states: int | None = None
    n_malformed: int | None = None
    duration_ms: int | None = None
    attempts: int | None = None
    authenticated: bool | None = None
    retry_at: datetime | None = None
    box: str | None = None
    error: str | None = None
    simulated: bool = False

    def __post_init__(self) -> None:
        if self.status not in SNAPSHOT_STATUSES:
            raise ValueError(f"unknown snapshot status {self.status!r}")


@dataclass(frozen=True)
class RecordedPoll:
    snapshot_id: int
    status: str  # the status stored: 'duplicate' when the API time was already stored
    duplicate_of: int | None


def last_row_per_aircraft(table: pa.Table) -> pa.Table:
    """One row per ``icao24``: an aircraft listed twice in one reply keeps its last row (callers
    dedupe before counting, so counts match what is stored)."""
    if len(pc.unique(table["icao24"])) == table.num_rows:
        return table
    icao = np.asarray(table["icao24"].to_numpy(zero_copy_only=False))[::-1]
    _, first_from_end = np.unique(icao, return_index=True)
    keep = np.sort(len(icao) - 1 - first_from_end)
    log.warning("reply lists %d aircraft more than once; their last rows are kept", table.num_rows - len(keep))
    return table.take(pa.array(keep))


def encode_block(positions: pa.Table | pd.DataFrame, unique: bool = False) -> tuple[int, bytes]:
    """One snapshot's positions as a block: (rows stored, bytes).

    ``positions`` has the columns of ``schema.POSITION_SCHEMA``. The block is the Arrow IPC message
    of one record batch with that schema (the schema itself lives in code, named by
    ``BLOCK_FORMAT``), compressed whole with zstd and prefixed by its uncompressed length (8 bytes,
    little-endian). Whole-message compression keeps the small blocks of a typical poll (a few
    hundred aircraft) small. An ``icao24`` seen twice keeps its last row (``unique``: the caller
    already made sure each appears once, as ``pipeline.ingest_reply`` does, so the check is skipped).
    """
    if isinstance(positions, pd.DataFrame):
        positions = pa.Table.from_pandas(positions, schema=POSITION_SCHEMA, preserve_index=False)
    table = positions.select(POSITION_SCHEMA.names).cast(POSITION_SCHEMA)
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


def _with_snapshot(table: pa.Table, snapshot_id: int, api_time: int) -> pa.Table:
    n = table.num_rows
    table = table.add_column(0, "time", pa.array(np.full(n, api_time, dtype=np.int64), pa.timestamp("s", tz="UTC")))
    return table.add_column(0, "snapshot_id", pa.array(np.full(n, snapshot_id, dtype=np.int64)))


class Store:
    """The SQLite store at ``path`` (``":memory:"`` for a private in-memory store).

    ``Store(path)`` creates the store (and its folder) if it does not exist; read-only commands use
    :meth:`open_existing`, which never creates anything. Before anything is changed, the file is
    checked to be a vzmon store this version can read; then pending migrations are applied.

    Raises :class:`NotAStore` (no store at ``path`` for :meth:`open_existing`; another
    application's SQLite file; not SQLite at all; a store written by a newer vzmon) and
    :class:`StoreError` (cannot be opened or written), each naming the path and the fix.
    """

    def __init__(self, path: str | Path, *, create: bool = True, redact: Callable[[str], str] = str) -> None:
        self.path = path if path == ":memory:" else Path(path)
        self._redact = redact  # every error text is stored through this (``Settings.redact``)
        self._zone_set_ids: dict[str, int] = {}
        self._formats_checked: set[str] = {BLOCK_FORMAT}
        self._create = create
        if isinstance(self.path, Path):
            self._check_path(create)
        try:
            if isinstance(self.path, Path):
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                mode = "rwc" if create else "rw"
                self._conn = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?mode={mode}", timeout=30.0, isolation_level=None, uri=True
                )
            else:
                self._conn = sqlite3.connect(":memory:", isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the store {self.path}: {exc}; set VZMON_DB (or store.db) to a writable file",
                path=self.path,
            ) from None
        try:
            self._identify()
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if isinstance(self.path, Path):
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            raise self._error("open", exc) from None
        except BaseException:
            self._conn.close()
            raise

    @classmethod
    def open_existing(cls, path: str | Path, redact: Callable[[str], str] = str) -> Store:
        """The store at ``path``, never creating one: for commands that only read."""
        return cls(path, create=False, redact=redact)

    def _check_path(self, create: bool) -> None:
        path = self.path
        if not isinstance(path, Path):
            return
        if path.is_dir():
            raise NotAStore(
                f"{path} is a folder, not a store; set VZMON_DB (store.db, --db) to a file such as "
                f"{path / 'monitor.sqlite'}",
                path=path,
            )
        if not create and not path.exists():
            raise NotAStore(
                f"no store at {path}; `vzmon collect` creates one there, or point VZMON_DB (store.db, --db) "
                "at an existing store",
                path=path,
            )

    def _identify(self) -> None:
        """Refuse, before changing anything, a file that is not a vzmon store (read-only checks)."""
        try:
            app_id = int(self._conn.execute("PRAGMA application_id").fetchone()[0])
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            if _primary(exc) != _SQLITE_NOTADB:
                raise
            raise NotAStore(
                f"{self.path} is not an SQLite database ({exc}); nothing was changed: point VZMON_DB (store.db, "
                "--db) at a vzmon store, or at a new file",
                path=self.path,
            ) from None
        if not tables and not self._create:
            raise NotAStore(
                f"{self.path} is an empty database, not a vzmon store yet; `vzmon collect` makes it one, or point "
                "VZMON_DB (store.db, --db) at an existing store",
                path=self.path,
            )
        if app_id == APPLICATION_ID or not tables or (app_id == 0 and tables >= _OWN_TABLES):
            return
        shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
        owner = f" (application id {app_id:#x})" if app_id else ""
        raise NotAStore(
            f"{self.path} is not a vzmon store: it is another application's SQLite file{owner} with tables "
            f"{shown}; nothing was changed: point VZMON_DB (store.db, --db) at a vzmon store, or at a new file",
            path=self.path,
        )

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        """The one-line error for a failed SQLite call: the disk is full, or what SQLite said."""
        where = self.path if isinstance(self.path, Path) else Path(".")
        free = free_bytes(where)
        # SQLite says FULL when a write came up short, and only "disk I/O error" when the disk was
        # full as it grew the WAL index (-shm): then the free space tells
        if _primary(exc) == _SQLITE_FULL or (_primary(exc) == _SQLITE_IOERR and free is not None and free < 2**20):
            message = describe_os_error(
                OSError(28, "No space left on device"), where, "set VZMON_DB (store.db) to a store on another disk"
            )
            return StoreError(f"cannot {doing} the store: {message}; nothing stored before was lost", path=self.path)
        return StoreError(f"cannot {doing} the store {self.path}: {exc}", path=self.path)

    # -- lifecycle

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. SQLite may have rolled back already (a full disk does that): the
        rollback here only runs while a transaction is still open, so the real cause is reported."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error("write", exc) from None

    def _migrate(self) -> None:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL)"
        )
        done = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        newest = max(done, default=0)
        known = max(v for v, _, _ in MIGRATIONS)
        if newest > known:
            by = self._meta(f"schema_{newest}_by")
            raise NotAStore(
                f"the store {self.path} has schema version {newest}, written by "
                f"{f'vzmon {by}' if by else 'a newer vzmon'}; this is vzmon {__version__} (schema {known}): "
                f"upgrade vzmon{f' to {by} or later' if by else ''}",
                path=self.path,
            )
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self._transaction() as conn:
                for statement in sql.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, to_epoch(datetime.now(UTC))),
                )
                conn.execute(f"PRAGMA user_version = {int(version)}")
                if version >= 3:
                    conn.execute(
                        "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)",
                        (f"schema_{version}_by", __version__),
                    )
            log.info("store %s: applied migration %d (%s)", self.path, version, name)

    def _meta(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    def _check_format(self, fmt: str, snapshot_id: int) -> None:
        """Refuse a position block in a format this vzmon cannot decode, naming the vzmon that can."""
        if fmt in self._formats_checked:
            return
        row = self.query("SELECT since_version FROM block_formats WHERE format = ?", (fmt,))
        since = row[0][0] if row else None
        raise NotAStore(
            f"the store {self.path} holds positions in format {fmt!r} (snapshot {snapshot_id}), which this vzmon "
            f"{__version__} cannot read; "
            + (f"vzmon {since} or later reads it: upgrade vzmon" if since else "a newer vzmon wrote it: upgrade vzmon"),
            path=self.path,
        )

    # -- writing

    def zone_set_id(self, zone_set: ZoneSet) -> int:
        """Id of ``zone_set`` in ``zone_sets``, inserted on first use."""
        fp = zone_set.fingerprint
        if fp in self._zone_set_ids:
            return self._zone_set_ids[fp]
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO zone_sets (fingerprint, ring_nm, codes, created_at) VALUES (?, ?, ?, ?)",
                (fp, zone_set.ring_nm, json.dumps(list(zone_set.codes)), to_epoch(datetime.now(UTC))),
            )
            (zid,) = conn.execute("SELECT id FROM zone_sets WHERE fingerprint = ?", (fp,)).fetchone()
        self._zone_set_ids[fp] = int(zid)
        return int(zid)

    def record_poll(
        self,
        poll: PollRecord,
        positions: pa.Table | pd.DataFrame | None = None,
        counts: pd.DataFrame | None = None,
        zone_set_id: int | None = None,
        unique: bool = False,
    ) -> RecordedPoll:
        """Store one poll attempt, and its positions and zone counts, in one transaction.

        ``positions`` has the columns of ``schema.POSITION_SCHEMA``; ``counts`` has columns ``zone``,
        ``airborne``, ``on_ground``, ``stale``. A poll whose source and API time are already stored
        is recorded with status ``duplicate`` and nothing else. An ``icao24`` that appears twice
        in one reply is stored once, with its last row (upsert on icao24 and snapshot time).
        """
        row = asdict(poll)
        for key in ("requested_at", "api_time", "retry_at"):
            row[key] = to_epoch(row[key])
        if row["error"] is not None:
            row["error"] = self._redact(row["error"])
        row["zone_set_id"] = zone_set_id
        with self._transaction() as conn:
            duplicate_of = None
            if poll.status in ("ok", "empty") and poll.api_time is not None:
                hit = conn.execute(
                    "SELECT id FROM snapshots WHERE source = ? AND api_time = ? AND status IN ('ok', 'empty')",
                    (poll.source, row["api_time"]),
                ).fetchone()
                if hit:
                    duplicate_of = int(hit[0])
                    row["status"] = "duplicate"
            row["duplicate_of"] = duplicate_of
            names = list(row)
            cur = conn.execute(
                f"INSERT INTO snapshots ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )
            snapshot_id = int(cur.lastrowid or 0)
            if duplicate_of is None and row["status"] in ("ok", "empty"):
                if positions is not None and len(positions):
                    n, block = encode_block(positions, unique=unique)
                    conn.execute(
                        "INSERT INTO position_blocks (snapshot_id, n_positions, format, data) VALUES (?, ?, ?, ?)",
                        (snapshot_id, n, BLOCK_FORMAT, block),
                    )
                if counts is not None and len(counts):
                    conn.executemany(
                        "INSERT INTO zone_counts (snapshot_id, zone, airborne, on_ground, stale) "
                        "VALUES (?, ?, ?, ?, ?)",
                        zip(
                            [snapshot_id] * len(counts),
                            counts["zone"].astype(str).tolist(),
                            counts["airborne"].astype(int).tolist(),
                            counts["on_ground"].astype(int).tolist(),
                            counts["stale"].astype(int).tolist(),
                            strict=True,
                        ),
                    )
        return RecordedPoll(snapshot_id, row["status"], duplicate_of)

    # -- reading

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        cur = self._conn.cursor()
        cur.row_factory = sqlite3.Row
        try:
            return list(cur.execute(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None

    def read_frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        try:
            return pd.read_sql_query(sql, self._conn, params=list(params))
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None

    def iter_frames(self, sql: str, params: Sequence[Any] = (), chunk_rows: int = 100_000) -> Iterator[pd.DataFrame]:
        """The rows of ``sql`` as DataFrames of up to ``chunk_rows`` rows (bounded memory); at least one,
        empty with the query's columns when there are no rows."""
        try:
            cur = self._conn.execute(sql, list(params))
            columns = [d[0] for d in cur.description]
            first = True
            while rows := cur.fetchmany(chunk_rows):
                first = False
                yield pd.DataFrame.from_records(rows, columns=columns)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None
        if first:
            yield pd.DataFrame(columns=columns)

    def iter_positions(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        columns: Sequence[str] | None = None,
        statuses: Sequence[str] = ("ok",),
        batch_blocks: int = 2048,
        progress: Callable[[int], object] | None = None,
    ) -> Iterator[pa.Table]:
        """Positions of snapshots whose API time is in ``[start, end)``, oldest first, as Arrow tables
        of up to ``batch_blocks`` snapshots each (bounded memory for months of data).

        Columns: ``snapshot_id``, ``time`` (the snapshot's API time, UTC), then ``columns`` (default:
        all of ``schema.POSITION_SCHEMA``). ``progress(n)`` is called after each batch of n blocks.
        """
        wanted = list(columns) if columns is not None else POSITION_SCHEMA.names
        unknown = set(wanted) - set(POSITION_SCHEMA.names)
        if unknown:
            raise ValueError(f"unknown position columns: {sorted(unknown)}")
        batch: list[pa.Table] = []
        for sid, t, fmt, data in self._block_rows(start, end, statuses):
            self._check_format(fmt, sid)
            batch.append(_with_snapshot(decode_block(data).select(wanted), sid, t))
            if len(batch) >= batch_blocks:
                yield pa.concat_tables(batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            yield pa.concat_tables(batch)
            if progress:
                progress(len(batch))

    def count_blocks(self, start: datetime | None = None, end: datetime | None = None) -> int:
        """How many position blocks (snapshots with data) lie in ``[start, end)``."""
        rows = self.query(
            "SELECT COUNT(*) FROM snapshots s JOIN position_blocks b ON b.snapshot_id = s.id "
            "WHERE s.api_time >= ? AND s.api_time < ?",
            (to_epoch(start) if start else -(2**62), to_epoch(end) if end else 2**62),
        )
        return int(rows[0][0])

    def read_positions(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        columns: Sequence[str] | None = None,
        statuses: Sequence[str] = ("ok",),
    ) -> pd.DataFrame:
        """The positions of :meth:`iter_positions` as one DataFrame (schema dtypes, ``zone`` categorical)."""
        wanted = list(columns) if columns is not None else POSITION_SCHEMA.names
        tables = list(self.iter_positions(start, end, wanted, statuses))
        if not tables:
            tables = [
                pa.schema(
                    [
                        pa.field("snapshot_id", pa.int64()),
                        pa.field("time", pa.timestamp("s", tz="UTC")),
                        *(POSITION_SCHEMA.field(n) for n in wanted),
                    ]
                ).empty_table()
            ]
        return positions_frame(pa.concat_tables(tables))

    def _block_rows(self, start: datetime | None, end: datetime | None, statuses: Sequence[str]) -> sqlite3.Cursor:
        """Cursor over (snapshot id, API time, block format, block) in time order; rows are fetched lazily."""
        sql = (
            "SELECT s.id, s.api_time, b.format, b.data FROM snapshots s JOIN position_blocks b ON b.snapshot_id = s.id "
            f"WHERE s.status IN ({', '.join('?' * len(statuses))})"
        )
        params: list[Any] = list(statuses)
        if start is not None:
            sql += " AND s.api_time >= ?"
            params.append(to_epoch(start))
        if end is not None:
            sql += " AND s.api_time < ?"
            params.append(to_epoch(end))
        try:
            return self._conn.execute(sql + " ORDER BY s.api_time, s.id", params)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None

    def poll_frame(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Poll attempts in ``[start, end)``: ``snapshot_id``, ``time`` (API time, else request time;
        UTC), ``status``, ``simulated``, ``retry_at``."""
        df = self.read_frame(
            "SELECT id AS snapshot_id, COALESCE(api_time, requested_at) AS time, status, simulated, retry_at "
            "FROM snapshots "
            "WHERE COALESCE(api_time, requested_at) >= ? AND COALESCE(api_time, requested_at) < ? ORDER BY time",
            (to_epoch(start), to_epoch(end)),
        )
        df["time"] = pd.to_datetime(df["time"], unit="s", utc=True).astype("datetime64[s, UTC]")
        df["retry_at"] = pd.to_datetime(df["retry_at"], unit="s", utc=True)
        df["simulated"] = df["simulated"].astype(bool)
        return df

    def count_frame(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Zone counts of ``ok`` snapshots with API time in ``[start, end)``: ``snapshot_id``, ``time``
        (UTC), ``zone``, ``airborne``, ``on_ground``, ``stale``."""
        df = self.read_frame(
            "SELECT s.id AS snapshot_id, s.api_time AS time, z.zone, z.airborne, z.on_ground, z.stale "
            "FROM zone_counts z "
            "JOIN snapshots s ON s.id = z.snapshot_id WHERE s.status = 'ok' AND s.api_time >= ? AND s.api_time < ? "
            "ORDER BY s.api_time",
            (to_epoch(start), to_epoch(end)),
        )
        df["time"] = pd.to_datetime(df["time"], unit="s", utc=True).astype("datetime64[s, UTC]")
        return df

    # -- alerts outbox

    def add_alert(
        self,
        key: str,
        kind: str,
        zone: str | None,
        created_at: datetime,
        poll_time: datetime | None,
        observed: float | None,
        expected: float | None,
        line: str,
        payload: dict[str, Any],
        channels: Sequence[str],
    ) -> int | None:
        """Record an alert and one pending delivery per channel, in one transaction.

        Returns the alert id, or None when an alert with this ``key`` exists already (never twice).
        """
        with self._transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO alerts (key, kind, zone, created_at, poll_time, observed, expected, line, "
                "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    kind,
                    zone,
                    to_epoch(created_at),
                    to_epoch(poll_time),
                    observed,
                    expected,
                    line,
                    json.dumps(payload, ensure_ascii=False, sort_keys=True),
                ),
            )
            if cur.rowcount == 0:
                return None
            alert_id = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO deliveries (alert_id, channel, status, next_attempt_at) VALUES (?, ?, 'pending', ?)",
                [(alert_id, c, to_epoch(created_at)) for c in channels],
            )
        return alert_id

    def due_deliveries(self, now: datetime) -> list[sqlite3.Row]:
        """Pending deliveries whose next attempt is due, oldest alert first, with the alert's fields."""
        return self.query(
            "SELECT d.alert_id, d.channel, d.attempts, a.key, a.kind, a.zone, a.created_at, a.line, a.payload "
            "FROM deliveries d JOIN alerts a ON a.id = d.alert_id "
            "WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY a.id, d.channel",
            (to_epoch(now),),
        )

    def record_delivery(
        self,
        alert_id: int,
        channel: str,
        now: datetime,
        *,
        sent: bool,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        """After an attempt: sent, or failed with the next try at ``retry_at`` (None: given up)."""
        with self._transaction() as conn:
            if sent:
                conn.execute(
                    "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL "
                    "WHERE alert_id = ? AND channel = ?",
                    (to_epoch(now), alert_id, channel),
                )
            else:
                conn.execute(
                    "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                    "WHERE alert_id = ? AND channel = ?",
                    (
                        "pending" if retry_at else "failed",
                        None if error is None else self._redact(error),
                        to_epoch(retry_at or now),
                        alert_id,
                        channel,
                    ),
                )

    def alert_history(self) -> pd.DataFrame:
        """The latest alert of each kind and zone, however old: ``kind``, ``zone``, ``created_at`` (UTC).

        That is all the rules need (is an episode under way, since when, is a rule cooling down),
        and it stays small however long the store runs.
        """
        df = self.read_frame(
            "SELECT kind, zone, MAX(created_at) AS created_at FROM alerts GROUP BY kind, zone ORDER BY created_at"
        )
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df

    def recent_alerts(self, limit: int = 20) -> list[sqlite3.Row]:
        """The newest alerts with their deliveries as 'channel:status' pairs."""
        return self.query(
            "SELECT a.id, a.key, a.kind, a.zone, a.created_at, a.line, "
            "GROUP_CONCAT(d.channel || ':' || d.status || CASE WHEN d.last_error IS NOT NULL "
            "THEN ' (' || d.attempts || ' tries: ' || d.last_error || ')' ELSE '' END, '; ') AS deliveries "
            "FROM alerts a LEFT JOIN deliveries d ON d.alert_id = a.id GROUP BY a.id ORDER BY a.id DESC LIMIT ?",
            (limit,),
        )

    def rate_limited_until(self, source: str, now: datetime, authenticated: bool | None = None) -> datetime | None:
        """End of the newest recorded retry-after window for ``source`` if it is still ahead of ``now``.

        ``authenticated``: only windows recorded with (True) or without (False) credentials count;
        OpenSky keeps separate credit budgets, so an anonymous 429 does not block an API client.
        """
        auth = "" if authenticated is None else " AND authenticated = ?"
        rows = self.query(
            "SELECT MAX(retry_at) AS t FROM snapshots WHERE source = ? AND status IN ('rate_limited', 'skipped')"
            + auth,
            (source,) if authenticated is None else (source, int(authenticated)),
        )
        retry_at = from_epoch(rows[0]["t"]) if rows and rows[0]["t"] is not None else None
        return retry_at if retry_at is not None and retry_at > now else None

    def latest_snapshot(self, statuses: Sequence[str] = ("ok", "empty")) -> sqlite3.Row | None:
        marks = ", ".join("?" * len(statuses))
        rows = self.query(
            f"SELECT * FROM snapshots WHERE status IN ({marks}) ORDER BY requested_at DESC, id DESC LIMIT 1",
            list(statuses),
        )
        return rows[0] if rows else None

    def counts_for(self, snapshot_id: int) -> list[sqlite3.Row]:
        return self.query(
            "SELECT zone, airborne, on_ground, stale FROM zone_counts WHERE snapshot_id = ? ORDER BY zone",
            (snapshot_id,),
        )

    def integrity_check(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])

    def size_bytes(self) -> int:
        if not isinstance(self.path, Path):
            return 0
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
