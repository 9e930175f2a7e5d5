"""Benchmark: a report over 90 days, and over 365 days, of 60-second snapshots with ~260 aircraft
each (33.7 M and ~137 M positions).

Setup (not timed): each store is built once with synthetic flights on the demo's routes, scaled
up, written block by block in the store's own format (``store.encode_block``), then its closed
days compacted into the Parquet dataset beside it (``vzmon compact``), as weeks of ``collect``
leave a store; cached in ``benchmarks/.cache/report-<days>d-.../`` (0.35 GB of Parquet and a
1.4 GB SQLite file for 90 days, four times that for 365; delete a folder to rebuild it).

Timed:
- vzmon: ``pipeline.report`` for an event in the middle of the span with ``--from/--to`` spanning
  all of it: read the positions it needs, build flights, compare, draw the charts, write the
  report, in a fresh process as `vzmon report` runs; its time and its peak resident memory (with
  the private memory of the process it forks to draw half the charts, while that one lives).
- the baseline, in the same process: the straightforward path, which loads every position (all
  columns) into one pandas DataFrame, then groups it (hourly airborne counts per zone, flights
  by aircraft with a 30-minute gap rule). Over all 90 days it needs more memory than the machine
  has (an uncapped run was killed by the kernel at 24 GB), so the ratio is measured on the 10
  days around the event, where both paths fit; with ``--full-baseline`` it also runs over the 90
  days in a child process under an address-space cap and reports how far it got.
Targets (issue 13): 90 days in at most 10 s and 1 GB peak; 365 days in at most 40 s and 1.5 GB.
Each span's report runs ``--runs`` times (3 by default), each in its own fresh process: the machines
here are shared and the same code's 90-day report has taken 8.3 to 14.3 s within one hour, so the time
judged is the median of the runs and the memory judged is the highest peak of any run; every run's
figures are printed.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd
import pyarrow as pa

from benchmarks._common import machine
from geo.fence import fence_for
from geo.zoneset import load_zone_set
from monitor.pipeline.compact import compact_some
from monitor.pipeline.report import report
from monitor.report.charts.draw import private_bytes
from monitor.schema import POSITION_SCHEMA
from monitor.settings.load import load_settings
from monitor.settings.table import Settings
from monitor.sources.simulated.flights import CLIMB_RATIO, DESCENT_RATIO, end_point
from monitor.sources.simulated.scenario import DAYTIME, default_routes
from monitor.store.db import Store
from monitor.store.frames import read_positions
from monitor.store.migrations import BLOCK_FORMAT
from monitor.store.positions import encode_block

CACHE = Path(__file__).resolve().parent / ".cache"
_LIBC = ctypes.CDLL("libc.so.6")  # glibc (Linux), for malloc_trim
START = datetime(2025, 10, 1, tzinfo=UTC)
EVENT_ID = "bench-event"


class PeakRSS:
    """Peak resident memory of this process during a ``with`` block (Linux: VmHWM after a reset),
    or of this process and its children together if more: the report forks a helper to draw half
    the charts (``report.charts.draw``), which shares this process's pages, so what it adds is its
    private memory. While a child lives, this process's resident memory is sampled every 20 ms and
    the child's private memory every 100 ms (reading it walks the child's page tables; the helper
    also reports its own after each chart), and their two maxima are added, as if they came at
    once: an estimate on the high side, though a peak between two samples can be missed. A child
    that is exiting is not read (:func:`_live_private`)."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        _LIBC.malloc_trim(0)  # hand freed heap back to the OS so the next run's peak starts from live memory
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        self.base = self._read("VmRSS")
        self._mine_with_child = 0
        self._child_private = 0
        self._stop = threading.Event()
        self._runner = threading.get_native_id()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sampler.join()
        self.peak = self.own = self._read("VmHWM")
        self.with_helper(0)

    def with_helper(self, helper_bytes: int) -> None:
        """Count the helper's private memory as it reported it too (its maximum after each chart)."""
        self._child_private = max(self._child_private, helper_bytes)
        if self._child_private:  # without samples of this process (no children file): its peak
            self.peak = max(self.peak, (self._mine_with_child or self.peak) + self._child_private)

    def _sample(self) -> None:
        # the report forks from the thread that runs it, this one's starter: its children file alone
        # is read (one small read; globbing every thread's would take the GIL from the report's)
        children_of = Path(f"/proc/self/task/{self._runner}/children")
        tick = 0
        while not self._stop.wait(0.02):
            try:
                children = children_of.read_text().split()
            except OSError:  # a kernel without the file: the helper's own report is all there is
                return
            if not children:
                continue
            self._mine_with_child = max(self._mine_with_child, self._read("VmRSS"))
            tick += 1
            if tick % 5 == 1:
                self._child_private = max(self._child_private, sum(_live_private(int(c)) for c in children))

    @staticmethod
    def _read(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"{field} not in /proc/self/status")

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6

    @property
    def added_mb(self) -> float:
        return (self.peak - self.base) / 1e6

    def parts(self) -> str:
        """What the peak is made of: this process's own peak, and, when a helper ran, this
        process's most while it lived plus the helper's most (a peak that is far from the usual
        can then be told apart: this process's, or the helper's)."""
        own = f"this process {self.own / 1e6:,.0f} MB"
        if not self._child_private:
            return own
        return (
            f"{own}; while the chart helper ran, this process {self._mine_with_child / 1e6:,.0f} MB "
            f"+ the helper's own {self._child_private / 1e6:,.0f} MB"
        )


PF_EXITING = 0x4  # the kernel's flag of a task in its exit (include/linux/sched.h)


def _live_private(pid: int) -> int:
    """Child ``pid``'s private memory, or 0 if it was exiting by the time it was read. While an
    exiting process's memory is torn down, its smaps can count the pages it still shares with this
    process as its own: the helper read 490-690 MB private in about one 90-day report in fifteen,
    against 95-130 MB the rest of its life, each time just before it was gone (measured on Linux
    6.18, 2026-12-01). Its exit frees memory and adds none, so such a reading is no peak."""
    private = private_bytes(pid)
    try:  # read after the memory: a process exiting while it was read is still exiting, or gone
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return 0 if fields[0] in ("Z", "X") or int(fields[6]) & PF_EXITING else private


def _flights_for_day(day: datetime, scale: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("t0", "x0", "y0", "x1", "y1", "speed", "cruise", "oa", "da", "oe", "de", "airline")
    }
    for r_i, route in enumerate(default_routes()):
        for d in (0, 1):
            a, b = (route.origin, route.destination) if d == 0 else (route.destination, route.origin)
            pa_, pb_ = end_point(a), end_point(b)
            w = np.asarray(route.profile if route.profile else DAYTIME, dtype=float)
            n = rng.poisson(route.per_day * scale)
            t0 = day.timestamp() + rng.choice(24, size=n, p=w / w.sum()) * 3600.0 + rng.uniform(0, 3600, n)
            for key, value in (
                ("t0", t0),
                ("x0", pa_[0]),
                ("y0", pa_[1]),
                ("x1", pb_[0]),
                ("y1", pb_[1]),
                ("speed", route.speed_mps),
                ("cruise", route.cruise_m),
                ("oa", pa_[2]),
                ("da", pb_[2]),
                ("oe", pa_[3]),
                ("de", pb_[3]),
                ("airline", r_i),
            ):
                cols[key].append(np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy())
    return {k: np.concatenate(v) for k, v in cols.items()}


def build_store(
    path: Path, days: int, interval_s: int, scale: float, seed: int = 1, start: datetime = START, quiet: bool = False
) -> int:
    """Write ``days`` of synthetic snapshots from ``start`` into a new store at ``path``; returns positions written."""
    rng = np.random.default_rng(seed)
    zone_set = load_zone_set()
    fence = fence_for(zone_set)
    box = zone_set.polling_box
    codes = np.asarray(zone_set.codes, dtype=object)
    airlines = [r.airline for r in default_routes()]
    Store(path).close()  # schema and migrations
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # setup only: the product writes with FULL
    zone_set_id = 1
    conn.execute(
        "INSERT OR IGNORE INTO zone_sets VALUES (1, ?, ?, ?, 0)",
        (zone_set.fingerprint, zone_set.ring_nm, json.dumps(list(zone_set.codes))),
    )
    carry: dict[str, np.ndarray] | None = None
    total = 0
    sid = 0
    next_icao = 0x300000
    for day_i in range(days):
        day = start + timedelta(days=day_i)
        f = _flights_for_day(day, scale, rng)
        n = len(f["t0"])
        f["icao"] = np.arange(next_icao, next_icao + n)
        next_icao += n
        if carry is not None:
            f = {k: np.concatenate([carry[k], f[k]]) for k in f}
        length = np.hypot(
            (f["x1"] - f["x0"]) * 111_320 * np.cos(np.radians((f["y0"] + f["y1"]) / 2)), (f["y1"] - f["y0"]) * 110_574
        )
        takeoff = f["t0"] + np.where(f["oa"] > 0, 480.0, 0.0)
        land = takeoff + length / f["speed"]
        end = land + np.where(f["da"] > 0, 360.0, 0.0)
        grid0, grid1 = day.timestamp(), (day + timedelta(days=1)).timestamp()
        first = np.maximum(np.ceil((f["t0"] - grid0) / interval_s), 0).astype(np.int64)
        last = np.minimum(np.floor((end - grid0) / interval_s), (grid1 - grid0) / interval_s - 1).astype(np.int64)
        k = np.maximum(last - first + 1, 0)
        carry = {key: v[end >= grid1] for key, v in f.items()}
        fi = np.repeat(np.arange(len(k)), k)
        snap = first[fi] + (np.arange(fi.size) - np.repeat(np.cumsum(k) - k, k))
        t = grid0 + snap * interval_s
        dist = np.clip((t - takeoff[fi]) * f["speed"][fi], 0, length[fi])
        frac = np.where(length[fi] > 0, dist / length[fi], 0)
        lon = f["x0"][fi] + (f["x1"][fi] - f["x0"][fi]) * frac
        lat = f["y0"][fi] + (f["y1"][fi] - f["y0"][fi]) * frac
        up = np.where(f["oa"][fi] > 0, f["oe"][fi] + dist / CLIMB_RATIO, np.inf)
        down = np.where(f["da"][fi] > 0, f["de"][fi] + (length[fi] - dist) / DESCENT_RATIO, np.inf)
        alt = np.minimum(np.minimum(up, down), f["cruise"][fi])
        ground = (t < takeoff[fi]) | (t > land[fi])
        vr = np.where(
            ground,
            np.nan,
            np.where(
                (up < down) & (up < f["cruise"][fi]),
                f["speed"][fi] / CLIMB_RATIO,
                np.where(down < f["cruise"][fi], -f["speed"][fi] / DESCENT_RATIO, 0),
            ),
        )
        inside = (lon >= box.west) & (lon <= box.east) & (lat >= box.south) & (lat <= box.north)
        order = np.lexsort((fi[inside], snap[inside]))
        sel = np.flatnonzero(inside)[order]
        snap, fi, t = snap[sel], fi[sel], t[sel].astype(np.int64)
        lon, lat, alt, ground, vr = lon[sel], lat[sel], np.where(ground[sel], np.nan, alt[sel]), ground[sel], vr[sel]
        zone = fence.classify_index(lon, lat)
        icao = np.char.mod("%06x", f["icao"][fi].astype(np.int64)).astype(object)
        airline = np.asarray(airlines, dtype=object)[f["airline"][fi].astype(int)]
        callsign = (airline + (f["icao"][fi].astype(np.int64) % 9000 + 100).astype(str)).astype(object)
        table = pa.table({
            "icao24": pa.array(icao, pa.string()), "callsign": pa.array(callsign, pa.string()),
            "origin_country": pa.array(np.full(len(t), "Simulated", dtype=object), pa.string()),
            "time_position": pa.array(t - 1, pa.timestamp("s", tz="UTC")),
            "last_contact": pa.array(t, pa.timestamp("s", tz="UTC")),
            "longitude": lon.round(5), "latitude": lat.round(5), "baro_altitude_m": alt.round(1),
            "on_ground": ground, "velocity_mps": np.where(ground, 7.0, f["speed"][fi]).round(1),
            "true_track_deg": np.zeros(len(t)), "vertical_rate_mps": vr.round(2),
            "sensors": pa.nulls(len(t), pa.string()), "geo_altitude_m": (alt + 120).round(1),
            "squawk": pa.array(np.full(len(t), "2000", dtype=object), pa.string()),
            "spi": np.zeros(len(t), dtype=bool), "position_source": pa.array(np.zeros(len(t), np.int16)),
            "category": pa.array(np.full(len(t), 4, np.int16)), "stale": np.zeros(len(t), dtype=bool),
            "zone": pa.array(codes[zone], pa.string()),
        }, schema=POSITION_SCHEMA)  # fmt: skip
        per_day = int((grid1 - grid0) // interval_s)
        bounds = np.searchsorted(snap, np.arange(per_day + 1))
        snaps: list[tuple[object, ...]] = []
        blocks: list[tuple[object, ...]] = []
        counts: list[tuple[object, ...]] = []
        for s in range(per_day):
            sid += 1
            a, b = bounds[s], bounds[s + 1]
            api = int(grid0 + s * interval_s)
            snaps.append((sid, "opensky", api + 2, api, "ok", 200, 3, b - a, zone_set_id))
            if b > a:
                n_stored, blob = encode_block(table.slice(a, b - a))
                blocks.append((sid, n_stored, BLOCK_FORMAT, blob))
            z, g = zone[a:b], ground[a:b]
            air = np.bincount(z[~g], minlength=len(codes))
            gnd = np.bincount(z[g], minlength=len(codes))
            counts.extend((sid, str(codes[i]), int(air[i]), int(gnd[i]), 0) for i in range(len(codes)))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO snapshots (id, source, requested_at, api_time, status, http_status, "
            "credits_charged, n_states, zone_set_id) VALUES (?,?,?,?,?,?,?,?,?)",
            snaps,
        )
        conn.executemany("INSERT INTO position_blocks VALUES (?,?,?,?)", blocks)
        conn.executemany("INSERT INTO zone_counts VALUES (?,?,?,?,?)", counts)
        conn.execute(  # the hourly totals the store keeps beside the counts (store.snapshots.record_poll)
            "INSERT INTO zone_hours (source, hour, zone, n, airborne) SELECT s.source, s.api_time / 3600, z.zone, "
            "COUNT(*), SUM(z.airborne) FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id "
            "WHERE s.status = 'ok' AND s.api_time >= ? AND s.api_time < ? GROUP BY s.source, s.api_time / 3600, z.zone",
            (int(grid0), int(grid1)),
        )
        conn.execute("COMMIT")
        total += len(t)
        if not quiet:
            print(f"  built day {day_i + 1}/{days}: {len(t) / per_day:.0f} aircraft per snapshot", end="\r", flush=True)
    conn.close()
    if not quiet:
        print()
    return total


def straightforward(db: Path, start: datetime, end: datetime) -> tuple[int, int]:
    """Load every position into pandas, then group: hourly airborne per zone, flights per aircraft."""
    with Store(db) as store:
        df = read_positions(store, start, end)  # all columns
    air = df[~df["on_ground"].fillna(False).astype(bool)]
    hourly = air.groupby([air["time"].dt.floor("h"), air["zone"].astype(str)], observed=True).size()
    df = df.sort_values(["icao24", "time"])
    gap = df.groupby("icao24")["time"].diff() > pd.Timedelta(minutes=30)
    new_aircraft = df["icao24"] != df["icao24"].shift()
    flights = int((gap | new_aircraft).sum())
    return int(hourly.size), flights


class StageTimes:
    """A ``progress`` callback for ``pipeline.report`` that records how long each labelled stage took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, label: str, _total: int) -> Iterator[StageTimes]:
        t = time.perf_counter()
        try:
            yield self
        finally:
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - t

    def update(self, n: int = 1) -> None:
        return None

    def describe(self, total: float) -> str:
        parts = [f"{label} {s:.1f} s" for label, s in self.seconds.items()]
        return ", ".join([*parts, f"measures and comparisons {total - sum(self.seconds.values()):.1f} s"])


def _run_ours(
    settings: Settings, db: Path, start: datetime, end: datetime, out: Path
) -> tuple[float, PeakRSS, int, StageTimes]:
    stages = StageTimes()
    with PeakRSS() as mem:
        t = time.perf_counter()
        result = report(replace(settings), EVENT_ID, db=db, start=start, end=end, out_dir=out, progress=stages)
        seconds = time.perf_counter() - t
    mem.with_helper(result.helper_private_bytes)
    return seconds, mem, result.data.n_flights, stages


def _run_baseline(db: Path, start: datetime, end: datetime) -> tuple[float, PeakRSS, int]:
    with PeakRSS() as mem:
        t = time.perf_counter()
        _, flights = straightforward(db, start, end)
        seconds = time.perf_counter() - t
    return seconds, mem, flights


def _baseline_child(db: Path, start: datetime, end: datetime, limit_gb: float) -> str:
    """The straightforward path over the whole range in a child process capped at ``limit_gb`` of address space.

    Loading every position of 90 days into pandas needs more memory than this machine has (a first
    uncapped run was killed by the kernel at 24 GB), so the cap turns that into a clean MemoryError.
    """
    limit = int(limit_gb * 1e9)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    code = (
        "import sys, time\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from benchmarks.bench_report import straightforward\n"
        "t = time.perf_counter()\n"
        "try:\n"
        "    _, flights = straightforward(Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), "
        "datetime.fromisoformat(sys.argv[3]))\n"
        "except MemoryError:\n"
        "    print(f'out of memory after {time.perf_counter() - t:.0f} s'); raise SystemExit(3)\n"
        "print(f'{time.perf_counter() - t:.1f} s, {flights:,} flights')\n"
    )
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, str(db), start.isoformat(), end.isoformat()],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        check=False,
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if proc.returncode == 0:
        return f"{line}, peak RSS {peak_mb:,.0f} MB"
    if not line:  # killed without a Python-level MemoryError (e.g. an allocation in C++ aborting)
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        line = f"failed after {time.perf_counter() - t:.0f} s ({tail[0][:80]})"
    return f"{line}, under a {limit_gb:g} GB address-space cap (peak RSS {peak_mb:,.0f} MB)"


def cached_store(days: int, interval: int, scale: float) -> Path:
    """The benchmark's store of ``days`` days, built and compacted once (setup, not timed)."""
    folder = CACHE / f"report-{days}d-{interval}s-x{scale:g}"
    db = folder / "monitor.sqlite"
    ready = folder / ".ready"
    if ready.exists():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    flat = CACHE / f"{folder.name}.sqlite"  # a store cached before stores had their Parquet days
    if flat.exists() and not db.exists():
        flat.rename(db)
    if not db.exists():
        print(f"building {folder.name} (once; cached) ...")
        t = time.perf_counter()
        tmp = folder / "building.sqlite"
        tmp.unlink(missing_ok=True)
        build_store(tmp, days, interval, scale)
        tmp.rename(db)
        print(f"  built in {time.perf_counter() - t:.0f} s")
    print(f"compacting {folder.name}'s closed days into Parquet (once; cached) ...")
    t = time.perf_counter()
    with Store(db) as store:
        done = compact_some(store, datetime.now(UTC))
    print(
        f"  {done.days} days, {done.positions:,} positions, {done.bytes / 1e6:,.0f} MB of Parquet "
        f"({done.bytes / max(done.positions, 1):.1f} bytes a position) in {time.perf_counter() - t:.0f} s"
    )
    ready.touch()
    return db


def _settings(days: int) -> tuple[Settings, Path]:
    mid = START + timedelta(days=days / 2)
    events = CACHE / f"events-{days}d.toml"
    events.write_text(
        f'[[event]]\nid = "{EVENT_ID}"\ntime = {mid:%Y-%m-%dT%H:%M:%SZ}\nkind = "announcement"\n'
        'title = "benchmark event"\nsource = "https://example.org"\n',
        encoding="utf-8",
    )
    out = CACHE / "out"
    env = {"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(out), "VZMON_EVENTS_FILE": str(events)}
    return load_settings(env=env), out


def _describe(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        n_pos = conn.execute("SELECT SUM(n_positions) FROM position_blocks").fetchone()[0]
        n_snap = conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    parquet = sum(p.stat().st_size for p in (db.parent / "parquet").rglob("*.parquet"))
    return (
        f"{n_snap:,} snapshots, {n_pos:,} positions ({n_pos / n_snap:.0f} per snapshot); "
        f"{parquet / 1e9:.2f} GB of Parquet, SQLite {db.stat().st_size / 1e9:.2f} GB"
    )


TARGETS = {90: (10.0, 1000.0), 365: (40.0, 1500.0)}  # days: (seconds, peak MB)


class Fresh(TypedDict):
    seconds: float
    peak_mb: float
    peak_parts: str
    flights: int
    stages: str


def _run_fresh(days: int, db: Path) -> Fresh:
    """The report over the whole store in a new process (its peak memory its own, not what an
    earlier run in this process left in the allocators)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_report", "--one", str(days), str(db)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {days}-day report failed: {done.stderr.strip()[-2000:]}")
    result: Fresh = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _one(days: int, db: Path) -> int:
    settings, out = _settings(days)
    seconds, mem, flights, stages = _run_ours(
        settings, db, START, START + timedelta(days=days), out / f"report-{days}d"
    )
    stats: Fresh = {
        "seconds": seconds,
        "peak_mb": mem.peak_mb,
        "peak_parts": mem.parts(),
        "flights": flights,
        "stages": stages.describe(seconds),
    }
    print(json.dumps(stats))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, nargs="+", default=[90, 365], help="the spans to report over")
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--scale", type=float, default=12.5, help="multiplies every route's flights per day")
    parser.add_argument("--ratio-days", type=int, default=10, help="days both paths read for the ratio")
    parser.add_argument("--cap-gb", type=float, default=16.0, help="address-space cap of the full-range baseline")
    parser.add_argument("--skip-baseline", action="store_true", help="no in-process baseline (no ratio)")
    parser.add_argument("--full-baseline", action="store_true", help="also the baseline over the first span, capped")
    parser.add_argument("--runs", type=int, default=3, help="fresh reports per span (median time, top peak)")
    parser.add_argument("--one", nargs=2, metavar=("DAYS", "STORE"), help=argparse.SUPPRESS)  # _run_fresh's child
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs}: give 1 or more")
    if args.one:
        return _one(int(args.one[0]), Path(args.one[1]))
    CACHE.mkdir(exist_ok=True)
    stores = {days: cached_store(days, args.interval, args.scale) for days in args.days}
    print("bench_report: vzmon report vs the straightforward path (load every position into pandas, then group)")
    print(f"  machine          {machine()}")
    for i, (days, db) in enumerate(stores.items()):
        settings, out = _settings(days)
        end = START + timedelta(days=days)
        mid = START + timedelta(days=days / 2)
        print(f"  {days}-day store   {_describe(db)}")
        if i == 0 and not args.skip_baseline:
            half = timedelta(days=args.ratio_days / 2)
            r_start, r_end = mid - half, mid + half
            r_ours_s, r_mem, _, _ = _run_ours(settings, db, r_start, r_end, out / "report-ratio")
            r_base_s, r_base_mem, flights = _run_baseline(db, r_start, r_end)
            print(
                f"  same process, the {args.ratio_days} days around the event:\n"
                f"    vzmon report       {r_ours_s:6.1f} s   peak RSS {r_mem.peak_mb:6.0f} MB "
                f"(+{r_mem.added_mb:,.0f} MB)\n"
                f"    straightforward    {r_base_s:6.1f} s   peak RSS {r_base_mem.peak_mb:6.0f} MB "
                f"(+{r_base_mem.added_mb:,.0f} MB)   {flights:,} flights (gap rule only)\n"
                f"    ratio              {r_base_s / r_ours_s:.1f}x the speed, "
                f"{r_base_mem.added_mb / max(r_mem.added_mb, 1):.1f}x less added memory "
                "(the baseline draws no chart and writes no report)"
            )
        runs = [_run_fresh(days, db) for _ in range(args.runs)]
        if len({r["flights"] for r in runs}) > 1:  # the same store, the same report: never a different answer
            raise SystemExit(f"the {days}-day report's runs built different flights: {[r['flights'] for r in runs]}")
        ours_s = statistics.median(r["seconds"] for r in runs)
        worst = max(runs, key=lambda r: r["peak_mb"])
        peak_mb = worst["peak_mb"]
        typical = min(runs, key=lambda r: abs(r["seconds"] - ours_s))  # the run nearest the median
        several = f"median of {len(runs)} fresh processes, " if len(runs) > 1 else "a fresh process, "
        print(
            f"  vzmon report, {days} days      {ours_s:6.1f} s   peak RSS {peak_mb:6,.0f} MB   "
            f"{typical['flights']:,} flights, every chart, report ({several}as `vzmon report` runs)"
        )
        if len(runs) > 1:
            each = ", ".join(f"{r['seconds']:.1f} s {r['peak_mb']:,.0f} MB" for r in runs)
            print(f"    each run: {each} (the peak above is the highest)")
        nearest, highest = (" (the run nearest the median)", "the highest peak") if len(runs) > 1 else ("", "the peak")
        print(f"    where the time goes{nearest}: {typical['stages']}")
        print(f"    {highest}: {worst['peak_parts']}")
        if i == 0 and args.full_baseline:
            print(f"  straightforward, {days} days    {_baseline_child(db, START, end, args.cap_gb)}")
        if days in TARGETS:
            seconds, peak = TARGETS[days]
            met = ours_s <= seconds and peak_mb <= peak
            verdict = "met" if met else "NOT met"
            judged = f" (median time, highest peak of {len(runs)} runs)" if len(runs) > 1 else ""
            print(f"  target           {days} days in at most {seconds:g} s and {peak:,.0f} MB{judged}: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
