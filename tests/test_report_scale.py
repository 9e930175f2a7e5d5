"""The report at scale gives what it gave in memory: flights built a bucket of aircraft at a time
(spilled to disk) are the flights built at once, the map sums taken a day at a time are those of
all positions at once, and hourly means from the store's hourly totals are those of its snapshots."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.airports import airport_table
from monitor.analysis.before_after import cell_sums_for, densities, density_in, footprint, footprint_of
from monitor.analysis.buckets import POSITIONS_PER_BUCKET, AircraftBuckets, buckets_for
from monitor.analysis.flights import build_flights
from monitor.analysis.hourly import cell_counts, hourly_airborne
from monitor.analysis.tracks import Tracks
from monitor.analysis.windows import Window
from monitor.store.db import Store
from monitor.store.frames import count_frame, hourly_count_frame, poll_frame
from monitor.store.positions import iter_positions

START = datetime(2025, 11, 10, tzinfo=UTC)
END = START + timedelta(days=6)
BEFORE = Window("before", START + timedelta(hours=6), START + timedelta(days=3))
AFTER = Window("after", START + timedelta(days=3), END - timedelta(hours=6))


def _read(store: Store, **kwargs) -> list:
    return list(
        iter_positions(store, START, END, Tracks.COLUMNS, time_order=False, dictionaries=Tracks.DICTIONARIES, **kwargs)
    )


@pytest.mark.parametrize("n", [2, 5])
def test_flights_by_buckets_are_the_flights_built_at_once(filled_store: Path, zone_set, tmp_path: Path, n: int):
    zones = [z.code for z in zone_set.zones]
    airports = airport_table(zone_set)
    with Store.open_existing(filled_store) as store:
        tables = _read(store)
        ok = poll_frame(store, START, END)
    ok_times = ok.loc[ok["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    whole, whole_entries = build_flights(Tracks.from_tables(tables, zones), airports, "SVZM", ok_times=ok_times)
    folder = tmp_path / "spill"
    folder.mkdir()
    buckets = AircraftBuckets(zones, n, folder, write_rows=5_000)  # written several times as the days come
    for table in tables:
        buckets.place(buckets.codes.compact(table))
    assert len(list(folder.iterdir())) == n  # spilled: one file per bucket
    flights, entries = build_flights(buckets.loaders(), airports, "SVZM", ok_times=ok_times)
    assert not list(folder.iterdir())  # each bucket's file is deleted once read
    assert len(whole) > 1000 and whole["flight_class"].notna().sum() > 100
    pd.testing.assert_frame_equal(flights, whole)
    pd.testing.assert_frame_equal(entries, whole_entries)


def test_one_bucket_spills_nothing():
    buckets = AircraftBuckets(["SVZM"], 1)
    assert len(next(buckets.loaders())()) == 0
    with pytest.raises(ValueError, match="folder"):
        AircraftBuckets(["SVZM"], 2)
    assert buckets_for(0) == 1 and buckets_for(POSITIONS_PER_BUCKET + 1) == 2


def test_map_sums_a_day_at_a_time_are_those_of_all_positions(filled_store: Path, zone_set):
    zones = [z.code for z in zone_set.zones]
    box = zone_set.polling_box
    edges = (box.west, box.south, box.east, box.north)
    with Store.open_existing(filled_store) as store:
        tables = _read(store)
        polls = poll_frame(store, START, END)
    tracks = Tracks.from_tables(tables, zones)
    sums = cell_sums_for((BEFORE, AFTER), zone_set, Window("both", BEFORE.start, AFTER.end))
    buckets = AircraftBuckets(zones, 1)
    for table in tables:
        rows = buckets.place(buckets.codes.compact(table))
        sums.add(rows["t"], rows["lon"], rows["lat"], rows["ground"])
    for got, want in zip(
        densities(sums, polls), (density_in(tracks, polls, w, edges) for w in (BEFORE, AFTER)), strict=True
    ):
        assert np.array_equal(got.grid, want.grid, equal_nan=True) and got.snapshots == want.snapshots > 0
    (seen, grid), (seen_all, grid_all) = (
        footprint_of(sums, polls, zone_set),
        footprint(tracks, polls, (BEFORE, AFTER), zone_set),
    )
    assert np.array_equal(grid.grid, grid_all.grid, equal_nan=True)
    assert (seen.within, seen.between, seen.lost, seen.gained) == (
        seen_all.within,
        seen_all.between,
        seen_all.lost,
        seen_all.gained,
    )
    lo, hi = int(BEFORE.start.timestamp()), int(AFTER.end.timestamp())
    assert sums.counted == int(((tracks.t >= lo) & (tracks.t < hi)).sum()) > 0


def test_hourly_means_from_the_hourly_totals_are_those_of_the_snapshots(filled_store: Path, zone_set):
    zones = [z.code for z in zone_set.zones]
    window = Window("w", START + timedelta(minutes=30), END - timedelta(minutes=20))  # cut hours at both ends
    with Store.open_existing(filled_store) as store:
        per_snapshot = hourly_airborne(count_frame(store, START, END, ["opensky"]), window, zones)
        per_hour = hourly_airborne(hourly_count_frame(store, START, END, "opensky"), window, zones)
    assert per_snapshot.notna().sum().sum() > 900
    pd.testing.assert_frame_equal(per_hour, per_snapshot, check_exact=False, rtol=1e-12)


def test_cells_by_arithmetic_are_histogram2d_s_cells():
    rng = np.random.default_rng(1)
    for cell in (0.25, 0.5, 0.1):
        xe, ye = np.arange(-80, -55 + cell, cell), np.arange(-2, 20 + cell, cell)
        # points anywhere, some off the grid, many exactly on edges (the last edge is closed)
        lon = np.round(np.r_[rng.uniform(-82, -53, 50_000), xe, np.full(5, -55.0)], 2)
        lat = np.round(np.r_[rng.uniform(-4, 22, 50_000), np.full(len(xe), 3.0), ye[:5]], 2)
        want, _, _ = np.histogram2d(lat, lon, bins=(ye, xe))
        assert np.array_equal(cell_counts(lon, lat, xe, ye), want)


def test_a_report_reads_the_same_before_and_after_its_days_are_compacted(tmp_path: Path):
    """Parquet days come by aircraft, blocks by time: flights, their numbers and the entry times
    spread over a feed outage by those numbers must not depend on it."""
    import shutil

    from benchmarks.bench_report import build_store
    from monitor.pipeline.compact import compact_some
    from monitor.pipeline.report import report
    from monitor.settings.load import load_settings

    start = datetime(2025, 11, 20, tzinfo=UTC)
    blocks = tmp_path / "blocks" / "monitor.sqlite"
    blocks.parent.mkdir()
    build_store(blocks, days=4, interval_s=300, scale=3.0, start=start, quiet=True)
    hole = (
        int((start + timedelta(days=2, hours=3)).timestamp()),
        int((start + timedelta(days=2, hours=6)).timestamp()),
    )
    with Store(blocks) as store, store.transaction() as conn:  # a 3-hour feed outage: failed polls, no data
        conn.execute(
            "DELETE FROM zone_counts WHERE snapshot_id IN (SELECT id FROM snapshots WHERE api_time BETWEEN ? AND ?)",
            hole,
        )
        conn.execute(
            "DELETE FROM position_blocks WHERE snapshot_id IN "
            "(SELECT id FROM snapshots WHERE api_time BETWEEN ? AND ?)",
            hole,
        )
        conn.execute("DELETE FROM zone_hours")
        conn.execute("UPDATE snapshots SET status = 'error' WHERE api_time BETWEEN ? AND ?", hole)
        conn.execute(
            "INSERT INTO zone_hours (source, hour, zone, n, airborne) SELECT s.source, s.api_time / 3600, z.zone, "
            "COUNT(*), SUM(z.airborne) FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id "
            "WHERE s.status = 'ok' GROUP BY 1, 2, 3"
        )
    parquet = tmp_path / "parquet" / "monitor.sqlite"
    parquet.parent.mkdir()
    shutil.copy(blocks, parquet)
    with Store(parquet) as store:
        assert compact_some(store, start + timedelta(days=10)).days == 4
    events = tmp_path / "events.toml"
    events.write_text(
        '[[event]]\nid = "e"\ntime = 2025-11-22T01:00:00Z\nkind = "announcement"\ntitle = "t"\n'
        'source = "https://example.org"\n',
        encoding="utf-8",
    )
    settings = load_settings(
        env={"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(tmp_path / "out"), "VZMON_EVENTS_FILE": str(events)}
    )
    span = {"start": start + timedelta(hours=1), "end": start + timedelta(days=4) - timedelta(hours=1)}
    got = [
        report(settings, "e", db=db, out_dir=tmp_path / "out" / name, **span)
        for name, db in (("a", blocks), ("b", parquet))
    ]
    assert got[0].data.n_flights == got[1].data.n_flights > 100
    metrics = [(tmp_path / "out" / name / "metrics.csv").read_text(encoding="utf-8") for name in ("a", "b")]
    assert metrics[0] == metrics[1]


def test_the_bucket_folder_of_a_killed_report_is_removed_by_the_next(tmp_path: Path):
    import fcntl

    from monitor.pipeline.report_parts import scratch

    out = tmp_path / "reports" / "event"
    killed = tmp_path / "reports" / ".vzmon-report-killed"
    killed.mkdir(parents=True)
    (killed / ".in-use").write_text("")  # its lock, free: the report that held it is gone
    (killed / "bucket-0.arrows").write_bytes(b"x" * 1000)
    running = tmp_path / "reports" / ".vzmon-report-running"
    running.mkdir()
    with open(running / ".in-use", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a report running now
        with scratch(out) as folder:
            assert Path(folder).parent == out.parent and Path(folder).is_dir()
            assert not killed.exists() and running.exists()
        assert not Path(folder).exists()


@pytest.mark.parametrize("where", ["compacting a day", "a bucket's flights"])
def test_an_error_on_a_worker_thread_is_the_report_s_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
):
    """The report's threads (days made compact, buckets' flights) hand their errors to the report:
    raised, not lost or hung on, with the buckets' folder removed and no partial report written."""
    import monitor.analysis.flights as flights_module
    import monitor.pipeline.report as report_module
    from monitor.analysis.tracks import Codes
    from monitor.pipeline.report import report
    from monitor.settings.load import load_settings
    from tests.storekit import three_day_report_store

    start = datetime(2025, 11, 20, tzinfo=UTC)
    db, events = three_day_report_store(tmp_path, start)
    out = tmp_path / "reports"
    settings = load_settings(
        env={"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(out), "VZMON_EVENTS_FILE": str(events)}
    )
    monkeypatch.setattr(report_module, "buckets_for", lambda _n: 3)  # spilled, several buckets
    calls = {"n": 0}

    def failing(real):  # the real step, failing on its second call
        def step(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError(f"broken while {where}")
            return real(*args, **kwargs)

        return step

    if where == "compacting a day":
        monkeypatch.setattr(Codes, "compact", failing(Codes.compact))
    else:
        monkeypatch.setattr(flights_module, "_flights_of", failing(flights_module._flights_of))
    span = {"start": start + timedelta(hours=7), "end": start + timedelta(days=3) - timedelta(hours=7)}
    with pytest.raises(RuntimeError, match=f"broken while {where}"):
        report(settings, "e", db=db, out_dir=out / "e", **span)
    assert calls["n"] >= 2
    assert not out.exists() or not list(out.iterdir())  # no bucket folder, no partial report
