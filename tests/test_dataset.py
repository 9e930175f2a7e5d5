"""The Parquet dataset of closed days: compaction, one read function over Parquet and blocks, and
crash safety (a real SIGKILL at each step and at random moments)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from benchmarks.bench_report import build_store
from monitor.cli import main
from monitor.errors import StoreError
from monitor.pipeline.compact import compact_some
from monitor.schema import POSITION_SCHEMA
from monitor.store.compacted import compacted_days, pending_days
from monitor.store.dataset import FILE_SCHEMA, compact_day, sweep
from monitor.store.db import Store
from monitor.store.positions import block_totals, iter_positions
from monitor.store.snapshots import PollRecord, snapshot_totals
from tests.storekit import record

START = datetime(2025, 11, 20, tzinfo=UTC)
DAYS = 3
NOW = START + timedelta(days=DAYS, hours=2)  # every built day closed


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Three days of 10-minute snapshots (~60 aircraft each), in blocks only."""
    path = tmp_path_factory.mktemp("built") / "monitor.sqlite"
    build_store(path, days=DAYS, interval_s=600, scale=3.0, start=START, quiet=True)
    return path


@pytest.fixture
def store_path(built: Path, tmp_path: Path) -> Path:
    path = tmp_path / "outputs" / "monitor.sqlite"
    path.parent.mkdir()
    shutil.copy(built, path)
    return path


def _all(store: Store, *args, **kwargs) -> pa.Table:
    tables = list(iter_positions(store, *args, **kwargs))
    return pa.concat_tables(tables) if tables else pa.table({})


def _canonical(table: pa.Table) -> pa.Table:
    return table.sort_by([("snapshot_id", "ascending"), ("icao24", "ascending")])


def _one_position(store: Store, icao24: str) -> pa.Table:
    """A stored position, as a new aircraft's."""
    row = next(iter_positions(store, columns=POSITION_SCHEMA.names)).select(POSITION_SCHEMA.names).slice(0, 1)
    return row.set_column(POSITION_SCHEMA.get_field_index("icao24"), "icao24", pa.array([icao24]))


def _assert_same(a: pa.Table, b: pa.Table) -> None:
    """Equal tables, NaN equal to NaN (``Table.equals`` says NaN != NaN) and a null never equal to a NaN."""
    assert a.schema == b.schema and a.num_rows == b.num_rows
    for name in a.column_names:
        x, y = a[name].combine_chunks(), b[name].combine_chunks()
        assert x.is_null().equals(y.is_null()), name
        if pa.types.is_floating(x.type):
            assert np.array_equal(x.to_numpy(zero_copy_only=False), y.to_numpy(zero_copy_only=False), equal_nan=True)
        else:
            assert x.to_pylist() == y.to_pylist(), name


def test_compacted_days_read_exactly_as_the_blocks_did(store_path: Path):
    with Store(store_path) as store:
        before = _canonical(_all(store))
        part = _all(store, START + timedelta(hours=20), START + timedelta(days=1, hours=5), ["icao24", "zone"])
        blocks = block_totals(store)  # snapshots and positions, in blocks or in compacted days
        run = compact_some(store, NOW)
        assert run.days == DAYS and run.positions == before.num_rows and run.left == 0
        assert store.scalar("SELECT COUNT(*) FROM position_blocks WHERE length(data) > 0") == 0
        after = _all(store)
        assert after.schema == before.schema
        _assert_same(_canonical(after), before)
        # time order kept across files (the default), and a window inside days cut exactly
        times = after["time"].cast(pa.int64()).to_numpy()
        assert (times[1:] >= times[:-1]).all()
        part_after = _all(store, START + timedelta(hours=20), START + timedelta(days=1, hours=5), ["icao24", "zone"])
        _assert_same(_canonical(part_after), _canonical(part))
        assert block_totals(store) == blocks
        totals = snapshot_totals(store)
        assert totals["positions"] == totals["positions_in_parquet"] == before.num_rows
        assert totals["days_in_parquet"] == DAYS


def test_without_time_order_each_aircraft_still_comes_in_time_order(store_path: Path):
    with Store(store_path) as store:
        compact_some(store, NOW)
        tables = list(iter_positions(store, columns=["icao24"], time_order=False))
        assert len(tables) == DAYS
        whole = pa.concat_tables(tables).to_pandas()
        assert whole.groupby("icao24")["time"].apply(lambda t: t.is_monotonic_increasing).all()


def test_the_files_are_a_hive_dataset_other_tools_read(store_path: Path):
    with Store(store_path) as store:
        expected = _all(store).num_rows
        compact_some(store, NOW)
    root = store_path.parent / "parquet" / "positions"
    files = sorted(root.glob("source=*/date=*/*.parquet"))
    assert [f.relative_to(root).as_posix() for f in files] == [
        f"source=opensky/date={START.date() + timedelta(days=i)}/part-1.parquet" for i in range(DAYS)
    ]
    dataset = ds.dataset(root, format="parquet", partitioning="hive")
    assert dataset.count_rows() == expected
    assert {"source", "date", "snapshot_id", "time", "zone", "icao24"} <= set(dataset.schema.names)
    credit = pq.read_schema(files[0]).metadata[b"vzmon.data_credit"].decode()
    assert credit.startswith("The OpenSky Network")  # whom the data comes from, in every file
    meta = pq.ParquetFile(files[0])
    assert meta.schema_arrow.names == FILE_SCHEMA.names and meta.metadata.num_row_groups == 1
    assert meta.schema_arrow.field("time").type == pa.timestamp("ms", tz="UTC")  # Parquet's coarsest unit
    assert meta.metadata.row_group(0).column(0).compression == "ZSTD"
    day = meta.read(columns=["icao24", "time"]).to_pandas()
    assert day["icao24"].is_monotonic_increasing
    assert day.groupby("icao24")["time"].apply(lambda t: t.is_monotonic_increasing).all()
    # bytes a position: the point of the layout
    per_position = sum(f.stat().st_size for f in files) / expected
    assert per_position < 30, per_position


def test_compaction_is_idempotent_and_takes_late_polls(store_path: Path, zone_set):
    with Store(store_path) as store:
        compact_some(store, NOW)
        first = compacted_days(store)
        assert compact_some(store, NOW).days == 0
        assert compacted_days(store) == first
        total = _all(store).num_rows
        # a poll of a compacted day stored afterwards (a late write): read once, then compacted in
        late = _one_position(store, "abcdef")
        t = START + timedelta(hours=3, seconds=7)
        record(store, PollRecord("opensky", t, "ok", api_time=t), late)
        assert _all(store).num_rows == total + 1
        assert pending_days(store, NOW) == [("opensky", START.date())]
        assert compact_some(store, NOW).days == 1
        assert _all(store).num_rows == total + 1
        held = compacted_days(store, sources=["opensky"])[0]
        assert held.path.name == "part-2.parquet" and held.n_positions == first[0].n_positions + 1
    assert sorted(p.name for p in held.path.parent.iterdir()) == ["part-2.parquet"]


def _scanned_totals(store: Store, start: datetime, end: datetime) -> tuple[int, int]:
    """``block_totals`` the slow way: every snapshot's block row in the span (each keeps its count)."""
    row = store.query(
        "SELECT COUNT(*), COALESCE(SUM(b.n_positions), 0) FROM snapshots s JOIN position_blocks b "
        "ON b.snapshot_id = s.id WHERE s.api_time >= ? AND s.api_time < ?",
        (int(start.timestamp()), int(end.timestamp())),
    )[0]
    return int(row[0]), int(row[1])


def test_block_totals_count_files_blocks_and_cut_days_as_a_scan_does(store_path: Path):
    with Store(store_path) as store:
        compact_some(store, START + timedelta(days=2, hours=2))  # two days in files, the last one open
        late = _one_position(store, "abcdef")
        t = START + timedelta(hours=3, seconds=7)
        record(store, PollRecord("opensky", t, "ok", api_time=t), late)  # a late poll of a compacted day
        assert [d for _, d in pending_days(store, NOW)] == [START.date(), (START + timedelta(days=2)).date()]
        assert pending_days(store, NOW, []) == []
        spans = [
            (START - timedelta(days=1), START + timedelta(days=4)),  # everything
            (START + timedelta(hours=2), START + timedelta(days=1, hours=21, minutes=5)),  # both files cut
            (START + timedelta(hours=3), START + timedelta(hours=4)),  # inside one day, with its late poll
            (START + timedelta(days=1), START + timedelta(days=2, hours=6)),  # a whole file and the open day
            (START + timedelta(days=3), START + timedelta(days=4)),  # nothing
        ]
        for a, b in spans:
            assert block_totals(store, a, b) == _scanned_totals(store, a, b), (a, b)
            assert block_totals(store, a, b, ["adsblol"]) == block_totals(store, a, b, []) == (0, 0)
            assert not list(iter_positions(store, a, b, ["icao24"], sources=[]))  # no source: nothing
            # the read's progress adds up to the same total, and brings the positions counted
            counted: list[int] = []
            read = sum(t.num_rows for t in iter_positions(store, a, b, ["icao24"], progress=counted.append))
            assert (sum(counted), read) == block_totals(store, a, b), (a, b)


def test_block_totals_see_one_moment_while_another_process_compacts(store_path: Path, monkeypatch):
    """A compaction committing between block_totals' reads (a cron collect compacts after its poll)
    must not leave a day counted in neither its file nor its blocks."""
    a, b = START + timedelta(hours=2), START + timedelta(days=3)
    with Store(store_path) as store, Store(store_path) as other:
        expected = block_totals(store, a, b)  # every day still in blocks
        real_query, raced = store.query, []

        def racing(sql: str, params=()):  # the other process compacts just before the blocks are read
            if "INDEXED BY" in sql and not raced:
                raced.append(compact_some(other, NOW).days)
            return real_query(sql, params)

        monkeypatch.setattr(store, "query", racing)
        assert block_totals(store, a, b) == expected and raced == [DAYS]
        monkeypatch.undo()
        assert block_totals(store, a, b) == expected  # and read again, from the files


def test_an_open_day_stays_in_blocks(store_path: Path):
    with Store(store_path) as store:
        last_day = START + timedelta(days=DAYS - 1)
        run = compact_some(store, last_day + timedelta(days=1, minutes=30))  # within the hour's grace
        assert run.days == DAYS - 1
        assert [(s, d) for s, d in pending_days(store, NOW)] == [("opensky", last_day.date())]


def test_a_folder_of_another_store_is_refused(store_path: Path):
    other = store_path.with_name("other.sqlite")
    shutil.copy(store_path, other)
    with Store(store_path) as store:
        compact_some(store, NOW)
    with Store(other) as store, pytest.raises(StoreError, match="another store's Parquet positions"):
        compact_day(store, "opensky", START.date())
    with Store(other) as store, pytest.raises(StoreError, match="another store's Parquet positions"):
        sweep(store)
    assert len(list((store_path.parent / "parquet").rglob("*.parquet"))) == DAYS  # nothing touched


def test_a_damaged_file_is_one_line_naming_it(store_path: Path):
    with Store(store_path) as store:
        compact_some(store, NOW)
        held = compacted_days(store)[0]
        held.path.write_bytes(b"not parquet")
        with pytest.raises(StoreError, match=r"cannot read .*part-1\.parquet.*restore it"):
            _all(store)


def test_vzmon_compact_command(store_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_DB", str(store_path))
    assert main(["compact"]) == 0
    out = capsys.readouterr().out
    assert f"compacted {DAYS} day(s)" in out and "bytes a position" in out
    assert main(["compact"]) == 0
    assert "nothing to compact" in capsys.readouterr().out
    main(["status"])
    assert f"days_in_parquet {DAYS}" in capsys.readouterr().out


# -- crash safety: a real SIGKILL, then every position counted exactly once

_CHILD = """
import os, signal, sys
from datetime import datetime
from monitor.store.db import Store
from monitor.pipeline.compact import compact_some

at = sys.argv[3]
def step(name):
    print(name, flush=True)
    if name == at:
        os.kill(os.getpid(), signal.SIGKILL)
print("started", flush=True)
with Store(sys.argv[1]) as store:
    compact_some(store, datetime.fromisoformat(sys.argv[2]), step=step)
print("done", flush=True)
"""


def _positions_once(path: Path, expected: list[tuple[int, str]]) -> None:
    with Store(path) as store:
        got = _all(store, columns=["icao24"])
    pairs = sorted(zip(got["snapshot_id"].to_pylist(), got["icao24"].to_pylist(), strict=True))
    assert pairs == expected  # every position exactly once: none lost, none twice


def _expected(path: Path) -> list[tuple[int, str]]:
    with Store(path) as store:
        got = _all(store, columns=["icao24"])
    return sorted(zip(got["snapshot_id"].to_pylist(), got["icao24"].to_pylist(), strict=True))


def _child(path: Path, at: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), NOW.isoformat(), at],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def _finish_and_check(path: Path, expected: list[tuple[int, str]]) -> None:
    _positions_once(path, expected)
    with Store(path) as store:
        sweep(store)
        compact_some(store, NOW)
        assert store.scalar("SELECT COUNT(*) FROM position_blocks WHERE length(data) > 0") == 0
    _positions_once(path, expected)
    # what other tools see: the files the store names, and nothing else
    root = path.parent / "parquet" / "positions"
    assert ds.dataset(root, format="parquet", partitioning="hive").count_rows() == len(expected)
    assert not list(root.rglob(".*.tmp"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("at", ["written", "committed", "cleaned"])
def test_sigkill_after_each_step_counts_every_position_once(store_path: Path, at: str):
    expected = _expected(store_path)
    with Store(store_path) as store:  # a first day compacted, so the run also rewrites (late block below)
        compact_day(store, "opensky", START.date())
        t = START + timedelta(hours=1, seconds=3)
        late = _one_position(store, "c0ffee")
        sid = record(store, PollRecord("opensky", t, "ok", api_time=t), late).snapshot_id
    expected = sorted([*expected, (sid, "c0ffee")])
    proc = _child(store_path, at)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL and out.splitlines()[-1] == at
    _finish_and_check(store_path, expected)


def test_sigkill_at_random_moments_counts_every_position_once(store_path: Path):
    expected = _expected(store_path)
    rng = random.Random(13)
    for _ in range(6):
        proc = _child(store_path, "never")
        assert proc.stdout is not None and proc.stdout.readline().strip() == "started"
        # kill somewhere in the run: after 0 to 6 of its steps, plus a random moment within the next one
        for _ in range(rng.randrange(0, 7)):
            if not proc.stdout.readline():
                break
        os.kill(proc.pid, signal.SIGKILL)  # or, if it finished already, nothing happens
        proc.wait(timeout=60)
        proc.stdout.close()
        _positions_once(store_path, expected)
    _finish_and_check(store_path, expected)


def test_day_keys_are_utc_days():
    from monitor.store.compacted import day_epoch, day_of

    assert day_of(day_epoch(date(2025, 11, 29))) == date(2025, 11, 29)
    assert day_epoch(date(1970, 1, 2)) == 86_400


def test_each_collect_compacts_one_closed_day_after_its_poll(built: Path, opensky_env: Path):
    opensky_env.parent.mkdir(parents=True)
    shutil.copy(built, opensky_env)
    with Store(opensky_env) as store:
        expected = _all(store, end=NOW).num_rows
    for n in range(1, DAYS + 2):
        assert main(["collect"]) in (0, 75)
        with Store(opensky_env) as store:
            assert len(compacted_days(store)) == min(n, DAYS)
            assert _all(store, end=NOW).num_rows == expected
            assert store.scalar("SELECT COUNT(*) FROM snapshots WHERE api_time > ?", (int(NOW.timestamp()),)) == n


def test_a_file_a_compaction_replaced_is_removed_by_the_next_run_if_the_first_died(store_path: Path):
    """A SIGKILL after the commit, before the replaced file went: the next collect's compaction
    removes it, so tools reading the folder see the day once again."""
    with Store(store_path) as store:
        compact_day(store, "opensky", START.date())
        t = START + timedelta(hours=2, seconds=9)
        record(store, PollRecord("opensky", t, "ok", api_time=t), _one_position(store, "beef01"))
    proc = _child(store_path, "committed")
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    folder = store_path.parent / "parquet" / "positions" / "source=opensky" / f"date={START.date()}"
    assert sorted(p.name for p in folder.iterdir()) == ["part-1.parquet", "part-2.parquet"]  # the day twice, on disk
    with Store(store_path) as store:
        compact_some(store, NOW)  # what collect does after its poll
    assert sorted(p.name for p in folder.iterdir()) == ["part-2.parquet"]


def test_a_compacted_day_with_late_polls_reads_as_the_report_reads(store_path: Path):
    """Dictionaries and no time order (the report's read) on a day held in a file and in blocks."""
    from monitor.analysis.tracks import Tracks

    with Store(store_path) as store:
        compact_some(store, NOW)
        late = _one_position(store, "abc123")
        for minutes in (5, 65):  # the same aircraft twice, later than rows of the file
            t = START + timedelta(minutes=minutes, seconds=1)
            record(store, PollRecord("opensky", t, "ok", api_time=t), late)
        tables = list(
            iter_positions(store, columns=list(Tracks.COLUMNS), time_order=False, dictionaries=Tracks.DICTIONARIES)
        )
        assert sum(t.num_rows for t in tables) == _all(store).num_rows
    whole = pa.concat_tables([t.cast(tables[0].schema) for t in tables]).to_pandas()
    assert whole.groupby("icao24", observed=True)["time"].apply(lambda t: t.is_monotonic_increasing).all()
    assert (whole["icao24"] == "abc123").sum() == 2


def test_positions_are_read_for_ok_snapshots_only(store_path: Path):
    with Store(store_path) as store, pytest.raises(ValueError, match="ok snapshots only"):
        next(iter_positions(store, statuses=("error",)))


def test_a_copy_of_a_store_beside_it_is_refused_and_touches_nothing(store_path: Path):
    with Store(store_path) as store:
        compact_some(store, NOW)
    copy = store_path.with_name("monitor.bak.sqlite")  # the same store id: a backup kept beside it
    shutil.copy(store_path, copy)
    with Store(copy) as store, pytest.raises(StoreError, match=r"they are monitor\.sqlite.s"):
        sweep(store)
    assert len(list((store_path.parent / "parquet").rglob("*.parquet"))) == DAYS


def test_a_folder_whose_store_is_gone_is_refused_with_what_to_do(store_path: Path):
    with Store(store_path) as store:
        compact_some(store, NOW)
    store_path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    with Store(store_path.with_name("new.sqlite")) as other, pytest.raises(StoreError, match="is gone: move"):
        compact_day(other, "opensky", START.date())
    with Store(store_path) as fresh, pytest.raises(StoreError, match=r"an earlier store at .* wrote them.*move"):
        compact_day(fresh, "opensky", START.date())
    assert len(list((store_path.parent / "parquet").rglob("*.parquet"))) == DAYS


def test_the_demo_removes_only_its_own_days(store_path: Path):
    from monitor.store.dataset import remove_dataset

    with Store(store_path) as store:
        compact_some(store, NOW)
        own_id = store.meta("store_id")
    demo_beside = store_path.with_name("demo.sqlite")  # a demo store set in the real store's folder
    remove_dataset(demo_beside, None)
    remove_dataset(demo_beside, own_id)
    assert len(list((store_path.parent / "parquet").rglob("*.parquet"))) == DAYS  # never another store's
    remove_dataset(store_path, "another id")
    assert len(list((store_path.parent / "parquet").rglob("*.parquet"))) == DAYS
    remove_dataset(store_path, own_id)  # its own, named by its id
    assert not list((store_path.parent / "parquet").rglob("*.parquet"))


def test_a_read_running_while_another_process_compacts_counts_every_position_once(store_path: Path):
    """A report reads for minutes while collect compacts: days moved, and a file replaced (and
    removed) under the reader, are each read once."""
    day2 = START + timedelta(days=1)
    with Store(store_path) as store:
        compact_day(store, "opensky", day2.date())  # day 2 in a file the reader will list
        t = day2 + timedelta(hours=4, seconds=5)
        late = _one_position(store, "fade01")
        record(store, PollRecord("opensky", t, "ok", api_time=t), late)  # a late poll of day 2
        expected = sorted(
            (sid, icao)
            for table in iter_positions(store, columns=["icao24"])
            for sid, icao in zip(table["snapshot_id"].to_pylist(), table["icao24"].to_pylist(), strict=True)
        )
    with Store(store_path) as reader, Store(store_path) as writer:
        tables = iter_positions(reader, columns=["icao24"])
        got = [next(tables)]  # day 1 read: the reader holds its list of files and its blocks' query
        compact_some(writer, NOW)  # meanwhile: day 1 and 3 moved, day 2 merged into part-2, part-1 removed
        assert not (
            store_path.parent / "parquet" / "positions" / "source=opensky" / f"date={day2.date()}" / "part-1.parquet"
        ).exists()
        got += list(tables)
    pairs = sorted(
        (sid, icao)
        for table in got
        for sid, icao in zip(table["snapshot_id"].to_pylist(), table["icao24"].to_pylist(), strict=True)
    )
    assert pairs == expected and len(pairs) > 1000
