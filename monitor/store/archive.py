"""Backfilled archive days: each day whole or not at all, with what it says of the aircraft.

Place in the flow: ``pipeline.backfill`` reads a day of adsb.lol's archive, makes its snapshots
(``ingest.prepare``) and hands everything here: :func:`write_day` stores the day's snapshots, its
aircraft, legs and military positions and its ``archive_days`` row in ONE transaction, so a day a
kill or a full disk interrupts leaves nothing of itself behind, and a day in the store is
complete. ``--force`` replaces a stored day in that same transaction (the old one stays until the
new one is whole). A day that could not be read is recorded as failed (its error, nothing else),
never over a complete one. SQLite only, like the rest of ``store``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.counts import ZoneCount
from monitor.store.db import Store, to_epoch
from monitor.store.snapshots import PollRecord, record_poll

__all__ = [
    "AircraftRow",
    "ArchiveDay",
    "DayWrite",
    "LegRow",
    "MilitaryRow",
    "archive_aircraft",
    "day_start",
    "legs_between",
    "military_positions",
    "neighbour_sizes",
    "record_failed_day",
    "stored_day",
    "stored_days",
    "write_day",
]

DAY_S = 86_400


def day_start(day: date) -> int:
    """The day's 00:00 UTC in epoch seconds (how ``archive_days.day`` keys a day)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class ArchiveDay:
    """One day as ``archive_days`` records it. ``health``: per area (``box``, the FIR's code, each
    control area) the aircraft seen that day, their positions and how many of those were MLAT."""

    source: str
    day: date
    status: str  # complete | partial (stored, but it failed the day's checks) | failed (nothing stored)
    release: str | None
    location: str | None  # where the day was read from: the release's URLs or the local paths
    step_s: int
    stored_at: datetime
    bytes: int = 0
    members: int = 0
    heatmaps: int = 0
    trace_dirs: int = 0
    traces: int = 0
    traces_kept: int = 0
    snapshots: int = 0
    gaps: int = 0
    health: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class AircraftRow:
    icao24: str
    registration: str | None
    typecode: str | None
    description: str | None
    db_flags: int | None
    military: bool
    no_db: bool


@dataclass(frozen=True)
class LegRow:
    icao24: str
    leg: int
    start: datetime
    end: datetime
    callsign: str | None
    takeoff: tuple[datetime, float, float] | None  # (time, lon, lat)
    landing: tuple[datetime, float, float] | None


@dataclass(frozen=True)
class MilitaryRow:
    time: datetime
    icao24: str
    zone: str
    lon: float
    lat: float
    baro_altitude_m: float | None
    on_ground: bool
    callsign: str | None


@dataclass(frozen=True)
class DayWrite:
    """Everything a day adds to the store. ``snapshots``: per grid time the poll record, its encoded
    position block and its counts (``ingest.prepare``), gaps included (record only)."""

    day: ArchiveDay
    snapshots: Sequence[tuple[PollRecord, tuple[int, bytes] | None, Sequence[ZoneCount]]]
    aircraft: Sequence[AircraftRow] = ()
    legs: Sequence[LegRow] = ()
    military: Sequence[MilitaryRow] = ()


_DAY_COLUMNS = (
    "source, day, status, release, location, step_s, zone_set_id, stored_at, bytes, members, heatmaps, trace_dirs, "
    "traces, traces_kept, snapshots, gaps, health, warnings, error"
)


def _day_row(d: ArchiveDay, zone_set_id: int | None) -> tuple[Any, ...]:
    return (
        d.source,
        day_start(d.day),
        d.status,
        d.release,
        d.location,
        d.step_s,
        zone_set_id,
        to_epoch(d.stored_at),
        d.bytes,
        d.members,
        d.heatmaps,
        d.trace_dirs,
        d.traces,
        d.traces_kept,
        d.snapshots,
        d.gaps,
        json.dumps(d.health, sort_keys=True),
        json.dumps(list(d.warnings)),
        d.error,
    )


def _from_row(row: Any) -> ArchiveDay:
    return ArchiveDay(
        source=row["source"],
        day=datetime.fromtimestamp(row["day"], UTC).date(),
        status=row["status"],
        release=row["release"],
        location=row["location"],
        step_s=int(row["step_s"]),
        stored_at=datetime.fromtimestamp(row["stored_at"], UTC),
        bytes=int(row["bytes"]),
        members=int(row["members"]),
        heatmaps=int(row["heatmaps"]),
        trace_dirs=int(row["trace_dirs"]),
        traces=int(row["traces"]),
        traces_kept=int(row["traces_kept"]),
        snapshots=int(row["snapshots"]),
        gaps=int(row["gaps"]),
        health=json.loads(row["health"]) if row["health"] else {},
        warnings=tuple(json.loads(row["warnings"])) if row["warnings"] else (),
        error=row["error"],
    )


def stored_day(store: Store, source: str, day: date) -> ArchiveDay | None:
    """The record of ``day`` from ``source`` (complete or failed), or None if it was never read."""
    rows = store.query(
        f"SELECT {_DAY_COLUMNS} FROM archive_days WHERE source = ? AND day = ?", (source, day_start(day))
    )
    return _from_row(rows[0]) if rows else None


def stored_days(store: Store, source: str, first: date, last: date) -> list[ArchiveDay]:
    """The recorded days of ``source`` from ``first`` to ``last`` (both included), in order."""
    rows = store.query(
        f"SELECT {_DAY_COLUMNS} FROM archive_days WHERE source = ? AND day >= ? AND day <= ? ORDER BY day",
        (source, day_start(first), day_start(last)),
    )
    return [_from_row(r) for r in rows]


def neighbour_sizes(store: Store, source: str, day: date, within_days: int = 7) -> list[int]:
    """The sizes in bytes of the complete days within ``within_days`` of ``day`` (itself excluded)."""
    rows = store.query(
        "SELECT bytes FROM archive_days WHERE source = ? AND status = 'complete' AND day != ? AND day BETWEEN ? AND ?",
        (
            source,
            day_start(day),
            day_start(day - timedelta(days=within_days)),
            day_start(day + timedelta(days=within_days)),
        ),
    )
    return [int(r[0]) for r in rows if r[0]]


def _delete_day(conn: Any, source: str, start: int) -> None:
    """Everything stored of one day of ``source`` (inside the caller's transaction)."""
    end = start + DAY_S
    ids = "SELECT id FROM snapshots WHERE source = ? AND requested_at >= ? AND requested_at < ?"
    for table in ("zone_counts", "position_blocks"):
        conn.execute(f"DELETE FROM {table} WHERE snapshot_id IN ({ids})", (source, start, end))
    conn.execute(
        "DELETE FROM snapshots WHERE source = ? AND requested_at >= ? AND requested_at < ?", (source, start, end)
    )
    conn.execute(
        "DELETE FROM zone_hours WHERE source = ? AND hour >= ? AND hour < ?", (source, start // 3600, end // 3600)
    )
    for table in ("archive_aircraft", "archive_legs"):
        conn.execute(f"DELETE FROM {table} WHERE source = ? AND day = ?", (source, start))
    conn.execute("DELETE FROM archive_military WHERE source = ? AND time >= ? AND time < ?", (source, start, end))
    conn.execute("DELETE FROM archive_days WHERE source = ? AND day = ?", (source, start))
    # the day's Parquet file, if it was compacted, no longer counts; the next compaction replaces it
    conn.execute("DELETE FROM compacted_days WHERE source = ? AND day = ?", (source, start))


def write_day(store: Store, write: DayWrite, zone_set_id: int | None, *, replace: bool = False) -> bool:
    """Store one day (complete or partial) in one transaction. A day already complete is kept as
    it is and False returned, unless ``replace`` (``--force``) and the new day is complete too: then
    it is deleted and written anew in the same transaction. A partial or failed record of the day
    is replaced."""
    d = write.day
    start = day_start(d.day)
    with store.transaction() as conn:
        held = conn.execute(
            "SELECT status FROM archive_days WHERE source = ? AND day = ?", (d.source, start)
        ).fetchone()
        if held is not None and held[0] == "complete" and not (replace and d.status == "complete"):
            return False
        _delete_day(conn, d.source, start)
        for record, block, counts in write.snapshots:
            record_poll(store, record, block, counts, zone_set_id=zone_set_id)
        conn.executemany(
            "INSERT INTO archive_aircraft (source, day, icao24, registration, typecode, description, db_flags, "
            "military, no_db) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (d.source, start, a.icao24, a.registration, a.typecode, a.description, a.db_flags, a.military, a.no_db)
                for a in write.aircraft
            ],
        )
        conn.executemany(
            "INSERT INTO archive_legs (source, day, icao24, leg, start, end, callsign, takeoff_time, takeoff_lon, "
            "takeoff_lat, landing_time, landing_lon, landing_lat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    d.source, start, g.icao24, g.leg, to_epoch(g.start), to_epoch(g.end), g.callsign,
                    *(_point(g.takeoff)), *(_point(g.landing)),
                )
                for g in write.legs
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO archive_military (source, time, icao24, zone, lon, lat, baro_altitude_m, on_ground, callsign) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (d.source, to_epoch(m.time), m.icao24, m.zone, m.lon, m.lat, m.baro_altitude_m, m.on_ground, m.callsign)
                for m in write.military
            ],
        )
        conn.execute(
            f"INSERT INTO archive_days ({_DAY_COLUMNS}) VALUES ({', '.join('?' * 19)})", _day_row(d, zone_set_id)
        )
    return True


def _point(p: tuple[datetime, float, float] | None) -> tuple[int | None, float | None, float | None]:
    return (None, None, None) if p is None else (to_epoch(p[0]), p[1], p[2])


def record_failed_day(store: Store, day: ArchiveDay) -> bool:
    """Record that ``day`` could not be read (``day.error``); a stored day (complete or partial) is
    never replaced by a failure (False is returned)."""
    start = day_start(day.day)
    with store.transaction() as conn:
        held = conn.execute(
            "SELECT status FROM archive_days WHERE source = ? AND day = ?", (day.source, start)
        ).fetchone()
        if held is not None and held[0] in ("complete", "partial"):
            return False
        conn.execute("DELETE FROM archive_days WHERE source = ? AND day = ?", (day.source, start))
        conn.execute(f"INSERT INTO archive_days ({_DAY_COLUMNS}) VALUES ({', '.join('?' * 19)})", _day_row(day, None))
    return True


def archive_aircraft(store: Store, source: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """What the traces of the days in ``[start, end)`` say of each aircraft, one row per aircraft and day."""
    rows = store.query(
        "SELECT day, icao24, registration, typecode, description, db_flags, military, no_db FROM archive_aircraft "
        "WHERE source = ? AND day >= ? AND day < ? ORDER BY day, icao24",
        (source, int(start.timestamp()) // DAY_S * DAY_S, to_epoch(end)),
    )
    return [dict(r) for r in rows]


def military_positions(store: Store, source: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The military aircraft's positions in ``[start, end)`` (epoch-second ``time``), with the
    registration and type their day's trace gave."""
    rows = store.query(
        "SELECT m.time, m.icao24, m.zone, m.lon, m.lat, m.baro_altitude_m, m.on_ground, m.callsign, "
        "a.registration, a.typecode, a.description FROM archive_military m LEFT JOIN archive_aircraft a "
        "ON a.source = m.source AND a.icao24 = m.icao24 AND a.day = m.time / 86400 * 86400 "
        "WHERE m.source = ? AND m.time >= ? AND m.time < ? ORDER BY m.time, m.icao24",
        (source, to_epoch(start), to_epoch(end)),
    )
    return [dict(r) for r in rows]


def legs_between(store: Store, source: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The legs (take-off and landing places, epoch-second times) of the days in ``[start, end)``
    whose span meets it."""
    rows = store.query(
        "SELECT icao24, leg, start, end, callsign, takeoff_time, takeoff_lon, takeoff_lat, landing_time, landing_lon, "
        "landing_lat FROM archive_legs WHERE source = ? AND end >= ? AND start < ? ORDER BY icao24, start",
        (source, to_epoch(start), to_epoch(end)),
    )
    return [dict(r) for r in rows]
