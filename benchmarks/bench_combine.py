"""Benchmark: the combined view of three sources (``monitor.combine``), as a cron run pays for it.

A store holds a week of three sources polled every 5 minutes over one sky of aircraft, each
source seeing its own share of them (with overlap). Measured:
- one cron run's combine: the one new slot after each source's new poll (what every `vzmon
  collect` adds with several sources);
- the catch-up: a week of slots in one run (a store that collected several sources before
  combining, or after an upgrade).
Baseline, run in the same process on the same replies: ingesting the three polls of one slot
(what the cron run pays anyway). Target: one slot's combine costs at most the three ingests it
follows (ratio >= 1).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks._common import machine, max_rss_mb, traced_peak_mb
from geo.zoneset import load_zone_set
from monitor.combine import combine_pending
from monitor.ingest import ingest
from monitor.schema import POSITION_SCHEMA
from monitor.sources.base import Reply
from monitor.store.db import Store
from monitor.store.snapshots import PollRecord

SOURCES = ("opensky", "adsblol", "adsbfi")
SHARE = {"opensky": 0.6, "adsblol": 0.8, "adsbfi": 0.7}  # of the sky each network sees
STEP = 300
T0 = datetime(2025, 11, 1, tzinfo=UTC)


def reply(source: str, t: datetime, n_sky: int, rng: np.random.Generator) -> Reply:
    """One poll of ``source`` at ``t``: its share of a sky of ``n_sky`` aircraft over the polling box."""
    box = load_zone_set().polling_box
    seen = np.flatnonzero(rng.random(n_sky) < SHARE[source])
    n = len(seen)
    epoch = int(t.timestamp())
    lag = rng.integers(0, 20, n)
    columns = {
        "icao24": pa.array([f"{0x0D0000 + i:06x}" for i in seen]),
        "callsign": pa.array([f"TST{i:04d}" for i in seen]),
        "origin_country": pa.array(["Venezuela"] * n),
        "time_position": pa.array(epoch - lag, pa.timestamp("s", tz="UTC")),
        "last_contact": pa.array(epoch - lag // 2, pa.timestamp("s", tz="UTC")),
        "longitude": pa.array(rng.uniform(box.west, box.east, n)),
        "latitude": pa.array(rng.uniform(box.south, box.north, n)),
        "baro_altitude_m": pa.array(rng.uniform(0, 12_000, n)),
        "on_ground": pa.array(rng.random(n) < 0.1),
        "velocity_mps": pa.array(rng.uniform(0, 250, n)),
        "true_track_deg": pa.array(rng.uniform(0, 360, n)),
        "vertical_rate_mps": pa.array(rng.normal(0, 3, n)),
        "sensors": pa.array([None] * n, pa.string()),
        "geo_altitude_m": pa.array(rng.uniform(0, 12_000, n)),
        "squawk": pa.array(["1000"] * n),
        "spi": pa.array([False] * n),
        "position_source": pa.array([0] * n, pa.int16()),
        "category": pa.array([4] * n, pa.int16()),
        "stale": pa.array(lag > 15),
    }
    schema = pa.schema([f for f in POSITION_SCHEMA if f.name != "zone"])
    return Reply(source, t, pa.table(columns, schema=schema))


def poll(store: Store, r: Reply) -> None:
    ingest(store, load_zone_set(), r, PollRecord(r.source, r.api_time + timedelta(seconds=5), "ok"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=7.0, help="days of three sources' polls to catch up")
    parser.add_argument("--sky", type=int, default=500, help="aircraft in the sky at a time")
    parser.add_argument("--runs", type=int, default=30, help="cron runs timed")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(7)
    zone_set = load_zone_set()
    slots = int(args.days * 86_400 // STEP)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "three.sqlite")
        for k in range(slots):
            t = T0 + timedelta(seconds=STEP * k + 30)
            for i, source in enumerate(SOURCES):
                poll(store, reply(source, t + timedelta(seconds=40 * i), args.sky, rng))
        n_positions = int(store.scalar("SELECT SUM(n_positions) FROM position_blocks"))
        last = T0 + timedelta(seconds=STEP * slots + 30)
        for i, source in enumerate(SOURCES):  # every source polls past the last slot
            poll(store, reply(source, last + timedelta(seconds=40 * i), args.sky, rng))
        now = last + timedelta(minutes=2)
        started = time.perf_counter()
        caught = combine_pending(store, zone_set, SOURCES, STEP, now, max_slots=slots + 1)
        catch_up_s = time.perf_counter() - started

        run_s, ingest_s = [], []
        for k in range(args.runs):  # one cron run each: three polls, then the one new slot
            t = last + timedelta(seconds=STEP * (k + 1))
            replies = [reply(s, t + timedelta(seconds=40 * i), args.sky, rng) for i, s in enumerate(SOURCES)]
            started = time.perf_counter()
            for r in replies:
                poll(store, r)
            ingest_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            done = combine_pending(store, zone_set, SOURCES, STEP, t + timedelta(minutes=2))
            run_s.append(time.perf_counter() - started)
            assert done.slots == 1, done
        t = last + timedelta(seconds=STEP * (args.runs + 1))
        for i, s in enumerate(SOURCES):
            poll(store, reply(s, t + timedelta(seconds=40 * i), args.sky, rng))
        peak = traced_peak_mb(lambda: combine_pending(store, zone_set, SOURCES, STEP, t + timedelta(minutes=2)))
        store.close()

    combine_ms, ingest_ms = statistics.median(run_s) * 1e3, statistics.median(ingest_s) * 1e3
    print("bench_combine: the combined view of three sources on a 5-minute grid")
    print(f"  machine          {machine()}")
    print(
        f"  store            {args.days:g} days of 3 sources every 5 min: {n_positions:,} positions, sky of {args.sky}"
    )
    per_slot_ms = catch_up_s / max(caught.slots, 1) * 1e3
    print(f"  catch-up         {caught.slots:,} slots in {catch_up_s:.1f} s ({per_slot_ms:.1f} ms a slot)")
    print(
        f"  one cron run     {combine_ms:6.1f} ms median of {len(run_s)} to add its one slot  "
        f"peak Python heap {peak:.1f} MB (Arrow's buffers are not traced)"
    )
    print(f"  baseline         {ingest_ms:6.1f} ms median to ingest the slot's three polls (paid anyway)")
    print(f"  ratio            {ingest_ms / combine_ms:.1f}x: the three ingests cost that many times the combine")
    print(f"  max RSS          {max_rss_mb():.0f} MB (whole process)")
    print(f"  target           combine <= the three ingests: {'met' if combine_ms <= ingest_ms else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
