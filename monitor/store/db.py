"""The SQLite store's file: opening it safely, versioned migrations and guarded transactions.

Place in the flow: every step that reads or writes the store holds one :class:`Store`. This
module owns the connection and the schema; the tables' queries live beside it (``snapshots``,
``positions``, ``outbox``, ``frames``, ``export``), as functions taking the store, so a command
imports only what it reads: ``status`` and ``alerts`` never load pyarrow or pandas.
``Store(":memory:")`` works for tests.

Durability: WAL journal with ``synchronous=FULL``; each poll is one transaction, so a process
killed at any moment (even SIGKILL) leaves every earlier poll intact and the file consistent.
Writers are serialised by the file lock the pipeline takes; readers never block. A full disk is
named as such (:meth:`Store.error`), and the rollback never hides the cause.

Tables (times are whole Unix seconds, UTC):
    schema_migrations  version, name, applied_at
    store_meta         which vzmon wrote each schema version (``schema_<v>_by``)
    block_formats      each position block format and the first vzmon that reads it
    zone_sets          the zones a poll was classified with (codes, ring width, fingerprint)
    snapshots          one row per poll attempt: status, API time, HTTP status, credits, timing,
                       retry-after, error text. A failed, rate-limited or skipped poll is a row
                       with no counts: a recorded gap, never a zero.
    position_blocks    one row per snapshot with data: every position of the reply, as one
                       compressed columnar block (``store.positions``)
    zone_counts        per snapshot and zone: airborne, on_ground, stale (ok and empty polls only)
    alerts, deliveries the alert outbox (``store.outbox``)
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from monitor import __version__
from monitor.errors import NotAStore, StoreError
from monitor.outputs import describe_os_error, free_bytes
from monitor.store.migrations import APPLICATION_ID, MIGRATIONS

if TYPE_CHECKING:
    from geo.zoneset import ZoneSet

__all__ = ["Store", "epoch_span", "from_epoch", "source_filter", "to_epoch"]

log = logging.getLogger(__name__)


def source_filter(sources: Sequence[str] | None, column: str = "s.source") -> tuple[str, list[object]]:
    """An ``AND column IN (...)`` clause and its parameters; every source when ``sources`` is None.
    A read that mixed sources would add up different networks' views of the same aircraft."""
    if sources is None:
        return "", []
    if not sources:
        return " AND 0", []
    return f" AND {column} IN ({', '.join('?' * len(sources))})", list(sources)


def to_epoch(t: datetime | None) -> int | None:
    """Whole Unix seconds of a tz-aware time (the store's time format); None stays None."""
    if t is None:
        return None
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: the store only takes tz-aware UTC times")
    return int(t.timestamp())


def epoch_span(start: datetime | None, end: datetime | None) -> tuple[int, int]:
    """``[start, end)`` in the store's Unix seconds, an open end as far as any stored time."""
    lo, hi = to_epoch(start), to_epoch(end)
    return -(2**62) if lo is None else lo, 2**62 if hi is None else hi


def from_epoch(s: int | float | None) -> datetime | None:
    """A tz-aware UTC time from Unix seconds; None stays None."""
    return None if s is None else datetime.fromtimestamp(s, UTC)


# A file with another application_id (store.migrations) is another application's; stores made
# before it was set have 0 and are recognised by their tables.
_OWN_TABLES = frozenset({"schema_migrations", "zone_sets", "snapshots", "position_blocks", "zone_counts"})
_SQLITE_IOERR, _SQLITE_FULL, _SQLITE_NOTADB = 10, 13, 26  # primary result codes


def _primary(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of ``exc`` (the low byte of the extended code)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


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
        self.redact = redact  # every error text is stored through this (``Settings.redact``)
        self._zone_set_ids: dict[str, int] = {}
        self._create = create
        self.read_only = False  # opened without write access (a read-only command on read-only media)
        try:
            if isinstance(self.path, Path):
                self._check_path(create)
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self.read_only = not create and not (
                    os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
                )
                mode = "rwc" if create else "ro" if self.read_only else "rw"
                if self.read_only and not os.access(self.path.parent, os.W_OK) and not self._has_wal():
                    # read-only media: SQLite cannot make the WAL index beside the store, and with no
                    # WAL file every committed poll is in the store itself, which nobody can change
                    mode += "&immutable=1"
                self._conn = sqlite3.connect(
                    f"{self.path.absolute().as_uri()}?mode={mode}", timeout=30.0, isolation_level=None, uri=True
                )
            else:
                self._conn = sqlite3.connect(":memory:", isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise StoreError(
                f"cannot open the store {self.path}: {why}; set VZMON_DB (or store.db) to a store you can read and "
                "write",
                path=self.path,
            ) from None
        try:
            self._identify()
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA busy_timeout = 30000")
            if isinstance(self.path, Path) and not self.read_only:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            if self.read_only:
                raise StoreError(
                    f"cannot read the store {self.path} without write access ({exc}): SQLite needs to write its "
                    f"index file ({self.path}-shm) beside a store in WAL mode; copy the store to a folder you can "
                    "write, or give this user write access",
                    path=self.path,
                ) from None
            raise self.error("open", exc) from None
        except BaseException:
            self._conn.close()
            raise

    def _has_wal(self) -> bool:
        wal = Path(f"{self.path}-wal")
        return wal.exists() and wal.stat().st_size > 0

    @classmethod
    def check(cls, path: Path) -> None:
        """Refuse a file at ``path`` that is not a vzmon store, changing nothing (not even a lock file
        beside it): callers check before they take the store's lock. No file there is fine."""
        if path.exists() and not path.is_dir():
            cls.open_existing(path).close()

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
        if app_id == APPLICATION_ID or (app_id == 0 and (not tables or tables >= _OWN_TABLES)):
            return
        shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
        owner = f" (application id {app_id:#x})" if app_id else ""
        holds = f" with tables {shown}" if tables else ""
        raise NotAStore(
            f"{self.path} is not a vzmon store: it is another application's SQLite file{owner}{holds}; nothing "
            "was changed: point VZMON_DB (store.db, --db) at a vzmon store, or at a new file",
            path=self.path,
        )

    def error(self, doing: str, exc: sqlite3.Error) -> StoreError:
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
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. SQLite may have rolled back already (a full disk does that): the
        rollback here only runs while a transaction is still open, so the real cause is reported.

        Inside another transaction (a backfilled day writes its snapshots in one) it is a savepoint
        of the outer one: its writes are undone alone on an error, and kept only if the outer one
        commits."""
        if self._conn.in_transaction:
            yield from self._savepoint()
            return
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
            raise self.error("write", exc) from None

    @contextmanager
    def one_moment(self) -> Iterator[None]:
        """Several reads that see the store as it was at one moment: what another process commits
        in between (a cron poll, a compaction) is seen by none of them. Inside a transaction, that
        one's. Keep it short: a long read holds back the WAL's checkpoints."""
        if self._conn.in_transaction:
            yield
            return
        try:
            self._conn.execute("BEGIN")  # the first read fixes the moment (WAL)
        except sqlite3.Error as exc:
            raise self.error("read", exc) from None
        try:
            yield
        finally:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("SAVEPOINT inner")
            try:
                yield self._conn
                self._conn.execute("RELEASE inner")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK TO inner")
                    self._conn.execute("RELEASE inner")
                raise
        except sqlite3.Error as exc:
            raise self.error("write", exc) from None

    def _migrate(self) -> None:
        if not self.read_only:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at INTEGER NOT NULL)"
            )
        done = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        newest = max(done, default=0)
        known = max(v for v, _, _ in MIGRATIONS)
        if newest > known:
            by = self.meta(f"schema_{newest}_by")
            raise NotAStore(
                f"the store {self.path} has schema version {newest}, written by "
                f"{f'vzmon {by}' if by else 'a newer vzmon'}; this is vzmon {__version__} (schema {known}): "
                f"upgrade vzmon{f' to {by} or later' if by else ''}",
                path=self.path,
            )
        if self.read_only and newest < known:
            raise NotAStore(
                f"the store {self.path} was written by an older vzmon and needs an upgrade this read-only access "
                "cannot make; run a command that writes it (vzmon collect) as a user who can write it",
                path=self.path,
            )
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction() as conn:
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

    def meta(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None

    # -- shared by the tables' modules

    def zone_set_id(self, zone_set: ZoneSet) -> int:
        """Id of ``zone_set`` in ``zone_sets``, inserted on first use."""
        fp = zone_set.fingerprint
        if fp in self._zone_set_ids:
            return self._zone_set_ids[fp]
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO zone_sets (fingerprint, ring_nm, codes, created_at) VALUES (?, ?, ?, ?)",
                (fp, zone_set.ring_nm, json.dumps(list(zone_set.codes)), to_epoch(datetime.now(UTC))),
            )
            (zid,) = conn.execute("SELECT id FROM zone_sets WHERE fingerprint = ?", (fp,)).fetchone()
        self._zone_set_ids[fp] = int(zid)
        return int(zid)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        cur = self._conn.cursor()
        cur.row_factory = sqlite3.Row
        try:
            return list(cur.execute(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A cursor over ``sql`` whose rows are fetched lazily (for reads of unbounded size)."""
        try:
            return self._conn.execute(sql, list(params))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the store {self.path}: {exc}", path=self.path) from None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of ``sql`` (None when there is no row)."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def integrity_check(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])

    def size_bytes(self) -> int:
        if not isinstance(self.path, Path):
            return 0
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
