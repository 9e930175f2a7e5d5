"""Ingest: one source's reply -> dedupe -> fence -> counts -> store. ONE path for every source.

Place in the flow: ``pipeline.collect`` (live polls) and ``pipeline.demo`` (simulated ones) hand
each :class:`~monitor.sources.base.Reply` here; nothing downstream knows which source it came
from. An aircraft listed twice in one reply keeps its last row; every position gets one zone code
(``geo.fence``); the counts per zone (fresh airborne, fresh on the ground, stale) and the
positions (one compressed block) are stored with the poll in one transaction.

A day of adsb.lol's archive comes as many snapshots at once (:func:`prepare_day`): each goes
through :func:`prepare` as a reply does, and the backfill stores the day in one transaction.

Counting rules: a position counts when it is fresh (``stale`` False); ``on_ground`` True counts
as on the ground, False as airborne (a position whose ``on_ground`` is unknown was flagged stale
by its source). Every zone code appears, with zeros where nothing was seen, so a successful poll
with no aircraft in a zone is an explicit 0 (failed polls get no counts at all).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from monitor.sources.registry import ARCHIVE
from monitor.store.archive import AircraftRow, ArchiveDay, DayWrite, LegRow, MilitaryRow
from monitor.store.db import Store
from monitor.store.positions import encode_block, last_row_per_aircraft
from monitor.store.snapshots import PollRecord, RecordedPoll, record_poll

if TYPE_CHECKING:  # a cron poll never loads the archive's readers
    from monitor.sources.archive.reader import DayRead
    from monitor.sources.archive.traces import GroundPoint

__all__ = [
    "MAX_CLOCK_AHEAD",
    "MAX_REPLY_AGE",
    "Ingested",
    "Prepared",
    "check_reply_time",
    "count_zone_index",
    "ingest",
    "prepare",
    "prepare_day",
]

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


@dataclass(frozen=True)
class Prepared:
    """One reply made ready to store: its record, its encoded position block and its counts, and
    the positions the block holds (deduplicated, with their zones)."""

    record: PollRecord
    block: tuple[int, bytes] | None
    counts: tuple[ZoneCount, ...]
    positions: pa.Table


def prepare(zone_set: ZoneSet, reply: Reply, poll: PollRecord, now: datetime | None = None) -> Prepared:
    """Dedupe, classify and count ``reply``, and encode its positions, without storing anything
    (the backfill stores a day's snapshots together, in one transaction). ``poll`` and ``now`` as
    for :func:`ingest`."""
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
    positions = _with_zones(table, zone_index, zone_set)
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
    block = encode_block(positions, unique=True) if len(positions) else None
    return Prepared(record, block, counts, positions)


def _with_zones(table: pa.Table, zone_index: npt.NDArray[np.integer[Any]], zone_set: ZoneSet) -> pa.Table:
    """``table`` with its ``zone`` column (``zone_index`` indexes ``zone_set.codes``)."""
    zones = call("take", pa.array(zone_set.codes, pa.string()), from_numpy(zone_index, pa.int16()))
    return table.append_column(POSITION_SCHEMA.field("zone"), zones)


def ingest(
    store: Store | None, zone_set: ZoneSet, reply: Reply, poll: PollRecord, now: datetime | None = None
) -> Ingested:
    """Dedupe, classify, count and store ``reply``; ``poll`` carries the attempt's own metadata
    (source, request time, box, simulated), the reply fills in the rest. With ``store`` None (dry
    run) nothing is written. ``now`` (live polls) checks the reply's time against this machine's
    clock (:func:`check_reply_time`)."""
    done = prepare(zone_set, reply, poll, now)
    if store is None:
        return Ingested(None, done.record, done.counts)
    recorded = record_poll(store, done.record, done.block, done.counts, zone_set_id=store.zone_set_id(zone_set))
    return Ingested(recorded, done.record, done.counts)


def prepare_day(
    read: DayRead,
    day: date,
    release: str,
    location: str,
    zone_set: ZoneSet,
    step_s: int,
    warnings: Sequence[str],
    now: datetime,
    status: str = "complete",
) -> tuple[DayWrite, int, int]:
    """A day read from adsb.lol's archive (``sources.archive.reader``) as the store keeps it
    (``store.archive.write_day``), with the number of military aircraft and of aircraft without a
    database entry seen over the box. Each snapshot goes through :func:`prepare` as any reply does,
    its civil aircraft only: military ones (``dbFlags``) are kept apart, fenced; a snapshot without
    data is a gap with its reason. ``release`` and ``location`` say where the day came from;
    ``status`` is ``partial`` for a day that failed its checks."""
    import pyarrow.compute as pc  # ~40 ms a cron poll need not pay (see monitor.compute)

    fence = fence_for(zone_set)
    fir = zone_set.fir.code
    military = {hex_ for hex_, a in read.aircraft.items() if a.military}
    military_array = pa.array(sorted(military), pa.string())
    snapshots: list[tuple[PollRecord, tuple[int, bytes] | None, Sequence[ZoneCount]]] = []
    military_rows = []
    fir_seen: set[str] = set()
    fir_positions = fir_mlat = 0

    def over_fir(zoned: pa.Table) -> None:  # the FIR's health figures: every aircraft, civil or military
        nonlocal fir_positions, fir_mlat
        here = zoned.filter(pc.equal(zoned["zone"], fir))
        fir_seen.update(here["icao24"].to_pylist())
        fir_positions += here.num_rows
        fir_mlat += int(pc.sum(pc.equal(here["position_source"], 2)).as_py() or 0)

    for snap in read.snapshots:
        desc = f"adsb.lol globe_history {release}, heatmap/{snap.time.hour * 2 + snap.time.minute // 30:02d}.bin.ttf"
        if snap.positions is None:
            gap = PollRecord(ARCHIVE, requested_at=snap.time, status="error", box=desc, error=snap.gap)
            snapshots.append((gap, None, ()))
            continue
        is_military = pc.is_in(snap.positions["icao24"], value_set=military_array)
        rows = snap.positions.filter(is_military)
        if rows.num_rows:  # fenced here, and kept out of the snapshot
            zoned = _with_zones(rows, fence.classify_index(rows["longitude"].to_numpy(), rows["latitude"].to_numpy()),
                                zone_set)  # fmt: skip
            over_fir(zoned)
            military_rows += [
                MilitaryRow(snap.time, r["icao24"], r["zone"], r["longitude"], r["latitude"], r["baro_altitude_m"],
                            bool(r["on_ground"]), r["callsign"])
                for r in zoned.to_pylist()
            ]  # fmt: skip
        civil = snap.positions.filter(pc.invert(is_military))
        done = prepare(zone_set, Reply(ARCHIVE, snap.time, civil), PollRecord(ARCHIVE, snap.time, "ok", box=desc))
        over_fir(done.positions)
        # the network saw the world at that time (else the snapshot is a gap): none over the box is a true 0
        snapshots.append((dataclasses.replace(done.record, status="ok"), done.block, done.counts))
    health: dict[str, dict[str, int]] = {}
    for name in ("box", fir, *sorted({a for s in read.snapshots for a in s.areas} - {"box"})):
        if name == fir:
            health[fir] = {"aircraft": len(fir_seen), "positions": fir_positions, "mlat": fir_mlat}
            continue
        sights = [s.areas[name] for s in read.snapshots if name in s.areas]
        seen = np.unique(np.concatenate([s.aircraft for s in sights])) if sights else np.array([])
        health[name] = {
            "aircraft": len(seen),
            "positions": sum(len(s.aircraft) for s in sights),
            "mlat": sum(s.mlat for s in sights),
        }
    aircraft = [
        AircraftRow(a.icao24, a.registration, a.typecode, a.description, a.db_flags, a.military, a.no_db)
        for a in read.aircraft.values()
    ]
    legs = [
        LegRow(a.icao24, k, leg.start, leg.end, leg.callsign, _place(leg.takeoff), _place(leg.landing))
        for a in read.aircraft.values()
        for k, leg in enumerate(a.legs)
    ]
    gaps = sum(1 for s in read.snapshots if s.positions is None)
    record = ArchiveDay(
        source=ARCHIVE,
        day=day,
        status=status,
        release=release,
        location=location,
        step_s=step_s,
        stored_at=now,
        bytes=read.bytes,
        members=read.members,
        heatmaps=read.heatmaps,
        trace_dirs=read.trace_dirs,
        traces=read.traces,
        traces_kept=len(read.aircraft),
        snapshots=len(read.snapshots) - gaps,
        gaps=gaps,
        health=health,
        warnings=tuple(warnings),
    )
    no_db = sum(1 for a in read.aircraft.values() if a.no_db)
    return DayWrite(record, snapshots, aircraft, legs, military_rows), len(military), no_db


def _place(point: GroundPoint | None) -> tuple[datetime, float, float] | None:
    return None if point is None else (point.time, point.lon, point.lat)
