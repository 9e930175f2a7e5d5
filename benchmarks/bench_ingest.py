"""Benchmark: ingest one 10,000-state /states/all reply (decode, parse, classify, store).

Baseline, run in the same process on the same bytes: the straightforward path, a Python object per
row, a shapely point-in-polygon test per row, and one INSERT per row (in one transaction, so the
difference is not just commits). Targets (issue 3): at most 100 ms per 10,000 states and at least
5x the baseline. Also prints the store's size per million positions.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Point

from benchmarks._common import machine, max_rss_mb, traced_peak_mb
from geo.zoneset import load_zone_set
from monitor.ingest import ingest
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import decode_json, parse_states
from monitor.store.db import Store
from monitor.store.snapshots import PollRecord

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "data" / "opensky_states_region.json"


def make_reply(n: int, t: int, seed: int = 1) -> bytes:
    """``n`` state vectors (18 fields, real value shapes from the test fixture) spread over the polling box."""
    base = [r for r in json.loads(FIXTURE.read_text())["states"] if r[5] is not None]
    box = load_zone_set().polling_box
    rng = np.random.default_rng(seed)
    lons = rng.uniform(box.west, box.east, n).round(4)
    lats = rng.uniform(box.south, box.north, n).round(4)
    states = []
    for i in range(n):
        row = list(base[i % len(base)])
        row[0] = f"{0x200000 + i:06x}"
        row[3], row[4] = t - (i % 5), t - (i % 3)
        row[5], row[6] = float(lons[i]), float(lats[i])
        states.append(row)
    return json.dumps({"time": t, "states": states}).encode()


def ours(store: Store, body: bytes) -> None:
    doc = decode_json(body)  # what OpenSkyClient does with the reply body
    parsed = parse_states(doc, stale_after_s=15)  # what OpenSkySource does with it
    reply = Reply("opensky", parsed.api_time, parsed.table, parsed.malformed_rows, http_status=200)
    poll = PollRecord(source="opensky", requested_at=datetime.now(UTC), status="ok")
    ingest(store, load_zone_set(), reply, poll)


@dataclass
class StateVector:
    icao24: str
    callsign: str | None
    origin_country: str
    time_position: int | None
    last_contact: int | None
    longitude: float | None
    latitude: float | None
    baro_altitude: float | None
    on_ground: bool | None
    velocity: float | None
    true_track: float | None
    vertical_rate: float | None
    sensors: Any
    geo_altitude: float | None
    squawk: str | None
    spi: bool | None
    position_source: int | None
    category: int | None = None


NAIVE_DDL = """CREATE TABLE IF NOT EXISTS positions (snapshot INTEGER, icao24 TEXT, callsign TEXT, origin_country TEXT,
time_position INTEGER, last_contact INTEGER, longitude REAL, latitude REAL, baro_altitude REAL, on_ground INTEGER,
velocity REAL, true_track REAL, vertical_rate REAL, sensors TEXT, geo_altitude REAL, squawk TEXT, spi INTEGER,
position_source INTEGER, category INTEGER, stale INTEGER, zone TEXT, PRIMARY KEY (snapshot, icao24))"""


def naive(conn: sqlite3.Connection, body: bytes) -> None:
    zones = load_zone_set().zones
    doc = json.loads(body)
    t = doc["time"]
    with conn:
        for row in doc["states"] or []:
            sv = StateVector(*row[:18])
            if sv.callsign:
                sv.callsign = sv.callsign.strip()
            zone = "unknown"
            if sv.longitude is not None and sv.latitude is not None:
                p = Point(sv.longitude, sv.latitude)
                zone = next((z.code for z in zones if z.geometry.intersects(p)), "outside")
            stale = sv.time_position is None or t - sv.time_position > 15
            conn.execute(
                "INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    t,
                    sv.icao24,
                    sv.callsign,
                    sv.origin_country,
                    sv.time_position,
                    sv.last_contact,
                    sv.longitude,
                    sv.latitude,
                    sv.baro_altitude,
                    sv.on_ground,
                    sv.velocity,
                    sv.true_track,
                    sv.vertical_rate,
                    json.dumps(sv.sensors) if sv.sensors else None,
                    sv.geo_altitude,
                    sv.squawk,
                    sv.spi,
                    sv.position_source,
                    sv.category,
                    stale,
                    zone,
                ),
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--size-positions", type=int, default=1_000_000, help="positions stored to measure size")
    parser.add_argument("--size-per-snapshot", type=int, default=250, help="aircraft per reply when measuring size")
    args = parser.parse_args(argv)
    t0 = 1_764_424_800
    bodies = [make_reply(args.states, t0 + 10 * i, seed=i) for i in range(args.repeat + 1)]
    load_zone_set()  # zones are built once per process, before any poll

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "ours.sqlite")
        ours(store, make_reply(100, t0 - 10))  # warm-up: first zone-set insert, fence build
        conn = sqlite3.connect(Path(tmp) / "naive.sqlite")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(NAIVE_DDL)
        ours_times, naive_times = [], []
        for body in bodies[: args.repeat]:  # interleaved, so machine noise hits both alike
            t = time.perf_counter()
            ours(store, body)
            ours_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            naive(conn, body)
            naive_times.append(time.perf_counter() - t)
        ours_mb = traced_peak_mb(lambda: ours(store, bodies[args.repeat]))
        naive_mb = traced_peak_mb(lambda: naive(conn, bodies[args.repeat]))
        conn.close()
        # bytes per million positions: a fresh store filled with realistic replies (~250 aircraft each)
        size_store = Store(Path(tmp) / "size.sqlite")
        n_snapshots = max(1, args.size_positions // args.size_per_snapshot)
        for i in range(n_snapshots):
            ours(size_store, make_reply(args.size_per_snapshot, t0 + 100_000 + 60 * i, seed=1000 + i))
        size_store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        n_pos = size_store.scalar("SELECT SUM(n_positions) FROM position_blocks")
        size = (Path(tmp) / "size.sqlite").stat().st_size
        size_store.close()
        store.close()

    ms, base_ms = statistics.median(ours_times) * 1e3, statistics.median(naive_times) * 1e3
    print("bench_ingest: one /states/all reply -> decode, parse, classify, store (one transaction)")
    print(f"  machine          {machine()}")
    print(f"  reply            {args.states:,} states, {len(bodies[0]) / 1e6:.1f} MB of JSON, spread over the box")
    print(
        f"  vzmon ingest     {ms:7.1f} ms median of {len(ours_times)}  (min {min(ours_times) * 1e3:.1f})  "
        f"peak heap {ours_mb:6.1f} MB"
    )
    print(
        f"  straightforward  {base_ms:7.1f} ms median of {len(naive_times)}  (object, prepared shapely test and "
        f"INSERT per row)  peak heap {naive_mb:6.1f} MB"
    )
    print(f"  ratio            {base_ms / ms:.1f}x faster than the straightforward path")
    print(
        f"  store size       {size / n_pos:.1f} bytes per position = {size / n_pos:.1f} MB per million positions "
        f"({n_pos:,} positions in {n_snapshots:,} snapshots of {args.size_per_snapshot}, with snapshots and "
        "zone counts)"
    )
    print(f"  max RSS          {max_rss_mb():.0f} MB (whole process)")
    met = ms <= 100 * args.states / 10_000 and base_ms / ms >= 5
    print(f"  targets          <= 100 ms per 10,000 states and >= 5x: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
