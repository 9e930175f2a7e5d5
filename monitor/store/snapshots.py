"""Snapshots: one row per poll attempt, with its zone counts and position block, and the questions
``status`` and ``collect`` ask of them. SQLite only (no pyarrow, no pandas): ``status`` starts fast.

Place in the flow: ``ingest`` records every poll attempt with :func:`record_poll`, in one
transaction (the snapshot row, its position block as bytes already encoded by
``store.positions``, its counts). A failed, rate-limited or skipped poll is a row with no counts:
a recorded gap, never a zero. A poll whose source and API time are already stored is recorded with
status ``duplicate`` and nothing else.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from monitor.counts import SNAPSHOT_STATUSES, ZoneCount
from monitor.store.db import Store, from_epoch, source_filter, to_epoch
from monitor.store.migrations import BLOCK_FORMAT

__all__ = [
    "PollRecord",
    "RecordedPoll",
    "SourceHealth",
    "combined_parts",
    "count_rows",
    "counts_for",
    "first_hour",
    "hour_rows",
    "latest_credits",
    "latest_snapshot",
    "poll_rows",
    "rate_limited_until",
    "real_poll_count",
    "record_poll",
    "snapshot_totals",
    "source_health",
    "sources_between",
    "status_counts",
    "zone_order",
]


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


def record_poll(
    store: Store,
    poll: PollRecord,
    block: tuple[int, bytes] | None = None,
    counts: Sequence[ZoneCount] = (),
    zone_set_id: int | None = None,
) -> RecordedPoll:
    """Store one poll attempt, its position block (``(rows, bytes)`` from
    ``store.positions.encode_block``) and its zone counts, in one transaction. The error text is
    stored through ``store.redact``."""
    row = asdict(poll)
    for key in ("requested_at", "api_time", "retry_at"):
        row[key] = to_epoch(row[key])
    if row["error"] is not None:
        row["error"] = store.redact(row["error"])
    row["zone_set_id"] = zone_set_id
    with store.transaction() as conn:
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
            if block is not None:
                conn.execute(
                    "INSERT INTO position_blocks (snapshot_id, n_positions, format, data) VALUES (?, ?, ?, ?)",
                    (snapshot_id, block[0], BLOCK_FORMAT, block[1]),
                )
            conn.executemany(
                "INSERT INTO zone_counts (snapshot_id, zone, airborne, on_ground, stale) VALUES (?, ?, ?, ?, ?)",
                [(snapshot_id, c.zone, int(c.airborne), int(c.on_ground), int(c.stale)) for c in counts],
            )
            if row["status"] == "ok" and row["api_time"] is not None:
                hour = int(row["api_time"]) // 3600
                conn.executemany(
                    "INSERT INTO zone_hours (source, hour, zone, n, airborne) VALUES (?, ?, ?, 1, ?) "
                    "ON CONFLICT (source, hour, zone) DO UPDATE SET n = n + 1, airborne = airborne + excluded.airborne",
                    [(poll.source, hour, c.zone, int(c.airborne)) for c in counts],
                )
    return RecordedPoll(snapshot_id, row["status"], duplicate_of)


def rate_limited_until(store: Store, source: str, now: datetime, authenticated: bool | None = None) -> datetime | None:
    """End of the newest recorded retry-after window for ``source`` if it is still ahead of ``now``.

    ``authenticated``: only windows recorded with (True) or without (False) credentials count;
    OpenSky keeps separate credit budgets, so an anonymous 429 does not block an API client.
    """
    auth = "" if authenticated is None else " AND authenticated = ?"
    retry_at = from_epoch(
        store.scalar(
            "SELECT MAX(retry_at) FROM snapshots WHERE source = ? AND status IN ('rate_limited', 'skipped')" + auth,
            (source,) if authenticated is None else (source, int(authenticated)),
        )
    )
    return retry_at if retry_at is not None and retry_at > now else None


def latest_snapshot(
    store: Store, statuses: Sequence[str] = ("ok", "empty"), sources: Sequence[str] | None = None
) -> sqlite3.Row | None:
    """The newest poll attempt (by request time) of ``sources`` (None: any) with one of ``statuses``."""
    marks = ", ".join("?" * len(statuses))
    which, params = source_filter(sources, "source")
    rows = store.query(
        f"SELECT * FROM snapshots WHERE status IN ({marks}){which} ORDER BY requested_at DESC, id DESC LIMIT 1",
        [*statuses, *params],
    )
    return rows[0] if rows else None


@dataclass(frozen=True)
class SourceHealth:
    """How one source is doing: its last data, its last attempt, and a recorded 429's window still
    ahead (what ``status`` and ``sources`` show for each source)."""

    last_ok: datetime | None  # API time of the newest successful poll (ok, or an explicit empty)
    last_attempt: datetime | None  # request time of the newest attempt of any outcome
    last_status: str | None
    last_error: str | None  # as stored (redacted when written)
    cooldown_until: datetime | None


def source_health(store: Store, source: str, now: datetime, authenticated: bool | None = None) -> SourceHealth:
    """``source``'s :class:`SourceHealth` at ``now``; ``authenticated`` as for :func:`rate_limited_until`."""
    ok = latest_snapshot(store, ("ok", "empty"), [source])
    last = latest_snapshot(store, SNAPSHOT_STATUSES, [source])
    return SourceHealth(
        last_ok=from_epoch(ok["api_time"]) if ok is not None else None,
        last_attempt=from_epoch(last["requested_at"]) if last is not None else None,
        last_status=str(last["status"]) if last is not None else None,
        last_error=last["error"] if last is not None else None,
        cooldown_until=rate_limited_until(store, source, now, authenticated=authenticated),
    )


def counts_for(store: Store, snapshot_id: int) -> list[ZoneCount]:
    """The zone counts of one snapshot, in the order the zones were classified (FIR first)."""
    rows = store.query("SELECT zone, airborne, on_ground, stale FROM zone_counts WHERE snapshot_id = ?", (snapshot_id,))
    order = {code: i for i, code in enumerate(zone_order(store, snapshot_id))}
    counts = [ZoneCount(r["zone"], r["airborne"], r["on_ground"], r["stale"]) for r in rows]
    return sorted(counts, key=lambda c: (order.get(c.zone, len(order)), c.zone))


def zone_order(store: Store, snapshot_id: int) -> list[str]:
    """The zone codes, in priority order, that ``snapshot_id`` was classified with (``zone_sets``)."""
    codes = store.scalar(
        "SELECT z.codes FROM snapshots s JOIN zone_sets z ON z.id = s.zone_set_id WHERE s.id = ?", (snapshot_id,)
    )
    try:
        return [str(c) for c in json.loads(codes)] if codes else []
    except (ValueError, TypeError):  # not a JSON list: order by name instead
        return []


def latest_credits(store: Store) -> tuple[int, datetime] | None:
    """The newest credits-left value any reply reported, and when."""
    rows = store.query(
        "SELECT credits_remaining, requested_at FROM snapshots WHERE credits_remaining IS NOT NULL "
        "ORDER BY requested_at DESC, id DESC LIMIT 1"
    )
    if not rows:
        return None
    return int(rows[0]["credits_remaining"]), datetime.fromtimestamp(rows[0]["requested_at"], UTC)


def snapshot_totals(store: Store) -> dict[str, int]:
    """Rows in the store: ``snapshots`` and ``snapshots_<status>`` for each status seen, ``positions``
    (of which ``positions_in_parquet``, in ``days_in_parquet`` source-days moved to Parquet)."""
    by_status = {
        r["status"]: int(r["n"]) for r in store.query("SELECT status, COUNT(*) AS n FROM snapshots GROUP BY status")
    }
    rows = {f"snapshots_{k}": v for k, v in sorted(by_status.items())}
    rows["snapshots"] = sum(by_status.values())
    rows["positions"] = int(store.scalar("SELECT COALESCE(SUM(n_positions), 0) FROM position_blocks"))
    parquet = store.query("SELECT COUNT(*) AS days, COALESCE(SUM(n_positions), 0) AS n FROM compacted_days")[0]
    rows["positions_in_parquet"] = int(parquet["n"])  # of the positions above: those of closed days
    rows["days_in_parquet"] = int(parquet["days"])
    return rows


def poll_rows(
    store: Store, start: datetime, end: datetime, sources: Sequence[str] | None = None
) -> list[tuple[int, datetime, str, datetime | None]]:
    """Poll attempts of ``sources`` (None: all) in ``[start, end)`` in time order: (snapshot id, API
    time else request time, status, retry-after time), UTC."""
    which, params = source_filter(sources, "source")
    rows = store.query(
        "SELECT id, COALESCE(api_time, requested_at) AS t, status, retry_at FROM snapshots "
        f"WHERE COALESCE(api_time, requested_at) >= ? AND COALESCE(api_time, requested_at) < ?{which} ORDER BY t, id",
        (to_epoch(start), to_epoch(end), *params),
    )
    return [
        (int(r["id"]), datetime.fromtimestamp(r["t"], UTC), str(r["status"]), from_epoch(r["retry_at"])) for r in rows
    ]


def count_rows(
    store: Store, start: datetime, end: datetime, source: str | None = None
) -> list[tuple[int, int, str, int]]:
    """Airborne counts of ``ok`` snapshots (of ``source``, or any) with API time in ``[start, end)``:
    (snapshot id, API time in Unix seconds, zone, airborne), in time order."""
    which = "" if source is None else " AND s.source = ?"
    return [
        (int(r[0]), int(r[1]), str(r[2]), int(r[3]))
        for r in store.query(
            "SELECT s.id, s.api_time, z.zone, z.airborne FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id "
            f"WHERE s.status = 'ok' AND s.api_time >= ? AND s.api_time < ?{which} ORDER BY s.api_time",
            (to_epoch(start), to_epoch(end), *(() if source is None else (source,))),
        )
    ]


def sources_between(store: Store, start: datetime, end: datetime) -> list[str]:
    """The sources with a successful poll whose API time lies in ``[start, end)``, by name.

    The store's few sources are walked on the index of (source, api_time) of ok and empty polls,
    and each asked whether it has one in the range: a millisecond, where a scan of the range's
    polls took 60 ms for 90 days and 240 ms for a year (a report asks four times)."""
    rows = store.query(
        """WITH RECURSIVE s(source) AS (
             SELECT MIN(source) FROM snapshots WHERE status IN ('ok', 'empty')
             UNION ALL
             SELECT (SELECT MIN(source) FROM snapshots WHERE status IN ('ok', 'empty') AND source > s.source)
             FROM s WHERE s.source IS NOT NULL)
           SELECT source FROM s WHERE source IS NOT NULL AND EXISTS (
             SELECT 1 FROM snapshots AS x WHERE x.status IN ('ok', 'empty') AND x.status = 'ok'
             AND x.source = s.source AND x.api_time >= ? AND x.api_time < ?)
           ORDER BY source""",
        (to_epoch(start), to_epoch(end)),
    )
    return [str(r["source"]) for r in rows]


def combined_parts(store: Store, start: datetime, end: datetime) -> tuple[str, ...]:
    """The sources the combined view's successful slots in ``[start, end)`` join (``snapshots.box``
    of source ``combined``, e.g. ``adsblol+opensky``), by name."""
    rows = store.query(
        "SELECT DISTINCT box FROM snapshots WHERE source = 'combined' AND status = 'ok' AND api_time >= ? "
        "AND api_time < ?",
        (to_epoch(start), to_epoch(end)),
    )
    return tuple(sorted({part for r in rows for part in str(r["box"] or "").split("+") if part}))


def status_counts(store: Store, source: str, start: datetime, end: datetime) -> dict[str, int]:
    """How many poll attempts of ``source`` requested in ``[start, end)`` ended in each status."""
    rows = store.query(
        "SELECT status, COUNT(*) AS n FROM snapshots WHERE source = ? AND requested_at >= ? AND requested_at < ? "
        "GROUP BY status ORDER BY status",
        (source, to_epoch(start), to_epoch(end)),
    )
    return {str(r["status"]): int(r["n"]) for r in rows}


def real_poll_count(store: Store) -> int:
    """How many poll attempts the store holds that were not simulated (a demo store has none)."""
    return int(store.scalar("SELECT COUNT(*) FROM snapshots WHERE simulated = 0"))


def first_hour(store: Store, source: str) -> datetime | None:
    """The first UTC hour with a successful poll of ``source`` (``zone_hours``), or None."""
    hour = store.scalar("SELECT MIN(hour) FROM zone_hours WHERE source = ?", (source,))
    return None if hour is None else datetime.fromtimestamp(int(hour) * 3600, UTC)


def hour_rows(store: Store, source: str, start: datetime, end: datetime) -> list[tuple[int, str, int, float]]:
    """Hourly totals of ``source``'s successful polls for the UTC hours starting in ``[start, end)``:
    (hour as Unix seconds // 3600, zone, polls, sum of airborne counts), as SQLite gives them
    (weeks of hours for every zone are thousands of rows: converting each would cost more than
    reading them)."""
    lo, hi = to_epoch(start), to_epoch(end)
    assert lo is not None and hi is not None
    rows: list[tuple[int, str, int, float]] = store.execute(
        "SELECT hour, zone, n, airborne FROM zone_hours WHERE source = ? AND hour >= ? AND hour < ? ORDER BY hour",
        (source, lo // 3600, -(-hi // 3600)),
    ).fetchall()
    return rows
