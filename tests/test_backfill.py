"""`vzmon backfill` from local archives: days built in the tests (tar, split parts, extracted
folders) from a known sky, stored whole or not at all, each count checked against the truth."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import shapely

from monitor.cli import main
from monitor.pipeline.backfill import SOURCE, backfill
from monitor.settings.load import load_settings
from monitor.store.archive import archive_aircraft, military_positions, stored_day
from monitor.store.db import Store
from monitor.store.positions import iter_positions
from tests.archive_builder import (
    Flight,
    corrupt_gzip,
    day_members,
    extract,
    member_span,
    midnight,
    not_gzip,
    tar_bytes,
    truth,
    write_parts,
)
from tests.conftest import shared_file
from tests.trace_writer import relay_real_trace

DAY = date(2025, 11, 29)
TAG = "v2025.11.29-planes-readsb-staging-0"

FLIGHTS = (
    Flight(0x0D0001, 10 * 3600, 13.5 * 3600, (8.0, -70.0), (8.0, -62.0), "AVA101"),  # across SVZM
    Flight(0x0D0002, 13 * 3600, 13 * 3600 + 2400, (10.6, -66.99), (10.1, -64.7), "VCV202", alt_ft=15_000,
           takeoff=True, landing=True),  # CCS -> BLA, with ground points
    Flight(0xAE0003, 9 * 3600, 15 * 3600, (13.0, -67.0), (13.5, -65.0), "RCH303", r="05-5140", t="C17",
           db_flags=1),  # military over the Caribbean
    Flight(0x0D0004, 20 * 3600, 22 * 3600, (6.0, -66.0), (7.0, -64.0), "NOREG4", r=None, t=None, db_flags=None,
           no_reg=True),
    Flight(0x0D0005, 5 * 3600, 6 * 3600, (9.0, -68.0), (9.5, -67.0), "MLAT55", mlat=True),
    Flight(0x0C0006, 0, 23 * 3600, (8.8, -79.6), (9.2, -79.4), "CMP606"),  # over Panama all day
)  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store" / "monitor.sqlite"
    monkeypatch.setenv("VZMON_DB", str(db))
    monkeypatch.setenv("VZMON_BACKFILL_WORKERS", "1")
    return db


def _fir_truth(zone_set, step_s: int = 60) -> list[int]:
    fir = zone_set.fir.geometry
    return truth(DAY, FLIGHTS, lambda lat, lon: bool(shapely.contains_xy(fir, lon, lat)), step_s)


def _fir_counts(db: Path, fir: str, day: date = DAY) -> list[int | None]:
    """Per grid minute of the day: the stored airborne count in the FIR, None for a gap."""
    with Store.open_existing(db) as s:
        rows = s.query(
            "SELECT s.requested_at AS t, s.status, z.airborne FROM snapshots s LEFT JOIN zone_counts z "
            "ON z.snapshot_id = s.id AND z.zone = ? WHERE s.source = ? AND s.requested_at >= ? AND s.requested_at < ? "
            "ORDER BY s.requested_at",
            (fir, SOURCE, int(midnight(day).timestamp()), int(midnight(day).timestamp()) + 86_400),
        )
    return [r["airborne"] if r["status"] == "ok" else None for r in rows]


def test_counts_per_snapshot_equal_the_truth_and_military_aircraft_are_kept_apart(tmp_path, env, zone_set, capsys):
    tar = tar_bytes(day_members(DAY, FLIGHTS))
    start, end = member_span(tar, "traces/01/trace_full_0d0001.json")
    parts = write_parts(tmp_path / "dl", TAG, tar, split_at=start + (end - start) // 2 | 1)  # inside a member, odd
    assert main(["backfill", "--archive", *map(str, parts)]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^{DAY} stored: {TAG}, 1,440 snapshots, 0 gaps", out, re.M), out
    assert f"{zone_set.fir.code} 5 aircraft" in out and "Panama 1 aircraft" in out, out
    assert "(1 military, 1 without a database entry)" in out
    counts = _fir_counts(env, zone_set.fir.code)
    assert counts == _fir_truth(zone_set)
    assert max(counts) >= 2  # the sky had traffic to count
    with Store.open_existing(env) as s:
        military = military_positions(s, SOURCE, midnight(DAY), midnight(DAY) + timedelta(days=1))
        aircraft = {
            a["icao24"]: a for a in archive_aircraft(s, SOURCE, midnight(DAY), midnight(DAY) + timedelta(days=1))
        }
        legs = s.query("SELECT * FROM archive_legs WHERE icao24 = '0d0002'")
        day = stored_day(s, SOURCE, DAY)
    assert len(military) == 6 * 60 + 1 and {m["icao24"] for m in military} == {"ae0003"}
    assert military[0]["typecode"] == "C17" and military[0]["registration"] == "05-5140"
    assert aircraft["ae0003"]["military"] == 1 and aircraft["0d0004"]["no_db"] == 1
    assert aircraft["0d0001"]["registration"] == "YV1234" and aircraft["0d0001"]["military"] == 0
    assert "4ca001" not in aircraft  # far away: never parsed past the prefilter
    assert len(legs) == 1 and legs[0]["takeoff_time"] is not None and legs[0]["landing_time"] is not None
    assert day is not None and day.health[zone_set.fir.code]["mlat"] == 61  # MLAT55's minutes over SVZM
    assert day.trace_dirs == 256 and day.heatmaps == 48 and day.bytes == len(tar)


def test_an_extracted_day_folder_reads_as_its_tar(tmp_path, env, zone_set):
    folder = extract(tmp_path / "2025" / "11" / "29", day_members(DAY, FLIGHTS))
    assert main(["backfill", "--archive", str(folder)]) == 0
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


def test_a_step_of_five_minutes_takes_every_tenth_slice(tmp_path, env, zone_set):
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    assert main(["backfill", "--archive", str(parts[0]), "--step", "300"]) == 0
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set, 300)


def test_a_rerun_skips_a_complete_day_and_force_replaces_it_without_duplicates(tmp_path, env, zone_set, capsys):
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    assert main(["backfill", "--archive", str(parts[0])]) == 0
    with Store.open_existing(env) as s:
        first = sum(t.num_rows for t in iter_positions(s, sources=[SOURCE]))
    folder = env.parent / "parquet" / "positions" / f"source={SOURCE}" / f"date={DAY}"
    assert [p.name for p in folder.iterdir()] == ["part-1.parquet"]  # a stored past day goes to Parquet at once
    assert main(["backfill", "--archive", str(parts[0])]) == 0
    assert "skipped: already stored" in capsys.readouterr().out
    assert main(["backfill", "--archive", str(parts[0]), "--force"]) == 0
    assert f"{DAY} replaced:" in capsys.readouterr().out
    assert [p.name for p in folder.iterdir()] == ["part-1.parquet"]  # the old day's file replaced, not added to
    with Store.open_existing(env) as s:
        assert s.scalar("SELECT COUNT(*) FROM position_blocks WHERE length(data) > 0") == 0
        assert sum(t.num_rows for t in iter_positions(s, sources=[SOURCE])) == first
        assert s.scalar("SELECT COUNT(*) FROM snapshots WHERE source = ?", (SOURCE,)) == 1440
        assert s.scalar("SELECT COUNT(*) FROM archive_aircraft") == 5
        hours = s.query("SELECT SUM(n) AS n FROM zone_hours WHERE source = ? AND zone = ?", (SOURCE, zone_set.fir.code))
    assert hours[0]["n"] == 1440
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


def test_a_day_missing_a_heatmap_is_stored_partial_with_its_gaps_and_read_again_by_the_next_run(
    tmp_path, env, zone_set, capsys
):
    parts = write_parts(tmp_path / "a", TAG, tar_bytes(day_members(DAY, FLIGHTS, skip_heatmaps=[21])))
    assert main(["backfill", "--archive", str(parts[0])]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert f"{DAY} partial: {TAG}, 1,410 snapshots, 30 gaps" in out
    assert re.search(rf"warning: {DAY} \({TAG}\).*heatmap/21\.bin\.ttf is missing from the day", out), out
    assert "backfill: 0 stored, 1 partial, 0 already there, 0 failed, of 1 days" in out
    errors = [line for line in captured.err.splitlines() if line.startswith("vzmon backfill")]
    assert errors == [
        f"vzmon backfill: error: {DAY} ({TAG}): 1 of its 48 heatmaps are missing: stored with its gaps; the next "
        "backfill reads the day again"
    ]
    counts = _fir_counts(env, zone_set.fir.code)
    expected = _fir_truth(zone_set)
    assert counts[630:660] == [None] * 30  # 10:30-11:00, while AVA101 was flying: a gap, not a zero
    assert counts[:630] == expected[:630] and counts[660:] == expected[660:]
    with Store.open_existing(env) as s:
        gap = s.query("SELECT error, box FROM snapshots WHERE source = ? AND status = 'error' LIMIT 1", (SOURCE,))[0]
        assert stored_day(s, SOURCE, DAY).status == "partial"
    assert "heatmap/21.bin.ttf is missing" in gap["error"] and TAG in gap["box"]
    # the next run reads the day again, and a whole release replaces the partial day
    whole = write_parts(tmp_path / "b", TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    assert main(["backfill", "--archive", str(whole[0])]) == 0
    assert f"{DAY} stored: {TAG}, 1,440 snapshots, 0 gaps" in capsys.readouterr().out
    assert _fir_counts(env, zone_set.fir.code) == expected


def test_a_day_missing_trace_folders_is_partial_its_military_split_cannot_be_trusted(tmp_path, env, capsys):
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(DAY, FLIGHTS, trace_dirs=122)))
    assert main(["backfill", "--archive", str(parts[0])]) == 1
    assert f"{DAY} ({TAG}): only 122 of its 256 traces/xx folders are there" in capsys.readouterr().err


def test_a_day_far_smaller_than_its_neighbours_is_partial(tmp_path, env, capsys):
    busy = [*FLIGHTS] + [
        Flight(0x0E0000 + k, k * 600, k * 600 + 3000, (5.0, -70.0), (5.5, -61.0), f"BSY{k}") for k in range(100)
    ]
    paths = []
    for k, day in enumerate((DAY - timedelta(days=2), DAY - timedelta(days=1))):
        paths += write_parts(
            tmp_path / str(k), f"v{day:%Y.%m.%d}-planes-readsb-prod-0", tar_bytes(day_members(day, busy))
        )
    paths += write_parts(tmp_path / "small", TAG, tar_bytes(day_members(DAY, FLIGHTS[:1])))
    assert main(["backfill", "--archive", *map(str, paths)]) == 1
    err = capsys.readouterr().err
    assert re.search(
        rf"{DAY} \({TAG}\): [\d,.]+ MB is far below its neighbours' [\d,.]+ MB \(median of 2 days\)", err
    ), err


def test_force_never_replaces_a_day_with_a_worse_read(tmp_path, env, zone_set, capsys):
    whole = write_parts(tmp_path / "a", TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    assert main(["backfill", "--archive", str(whole[0])]) == 0
    holed = write_parts(tmp_path / "b", TAG, tar_bytes(day_members(DAY, FLIGHTS, skip_heatmaps=range(40))))
    assert main(["backfill", "--archive", str(holed[0]), "--force"]) == 1
    captured = capsys.readouterr()
    assert f"{DAY} kept: {DAY} ({TAG}): 40 of its 48 heatmaps are missing: no better than the day stored before" in (
        captured.out
    )
    tar = tar_bytes(day_members(DAY, FLIGHTS))
    cut = write_parts(tmp_path / "c", TAG, tar[: len(tar) // 2])
    assert main(["backfill", "--archive", str(cut[0]), "--force"]) == 1
    assert f"(the day stored before, from {TAG}, is kept)" in capsys.readouterr().err
    with Store.open_existing(env) as s:
        assert stored_day(s, SOURCE, DAY).status == "complete"
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


def test_a_release_of_another_day_fails_it_no_snapshot_is_a_zero(tmp_path, env, capsys):
    other = DAY - timedelta(days=9)
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(other, FLIGHTS)))  # named 29 Nov, holds 20 Nov
    assert main(["backfill", "--archive", str(parts[0])]) == 1
    assert f"{DAY} ({TAG}): not one snapshot could be read from it" in capsys.readouterr().err
    with Store.open_existing(env) as s:
        assert stored_day(s, SOURCE, DAY).status == "failed"
        assert s.scalar("SELECT COUNT(*) FROM snapshots WHERE source = ?", (SOURCE,)) == 0


def test_a_full_disk_mid_day_stores_nothing_of_it_and_the_day_before_stays(tmp_path, small_disk, monkeypatch, capsys):
    db = small_disk / "monitor.sqlite"
    monkeypatch.setenv("VZMON_DB", str(db))
    monkeypatch.setenv("VZMON_BACKFILL_WORKERS", "1")
    good, before = _two_days(tmp_path)
    assert main(["backfill", "--archive", str(good[0])]) == 0
    small_disk.fill()
    day = write_parts(tmp_path / "b", TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    assert main(["backfill", "--archive", str(day[0])]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vzmon backfill")]
    assert len(err) == 1 and "no space left" in err[0], err
    (small_disk / "filler").unlink()
    with Store.open_existing(db) as s:
        assert s.integrity_check() == "ok"
        assert stored_day(s, SOURCE, before).status == "complete" and stored_day(s, SOURCE, DAY) is None
        day_start = int(midnight(DAY).timestamp())
        assert (
            s.scalar("SELECT COUNT(*) FROM snapshots WHERE source = ? AND requested_at >= ?", (SOURCE, day_start)) == 0
        )
        assert s.scalar("SELECT COUNT(*) FROM snapshots WHERE source = ?", (SOURCE,)) == 1440


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (corrupt_gzip, r"heatmap/07\.bin\.ttf: not a gzip stream"),
        (lambda data: not_gzip(b"\x00" * 64), r"heatmap/07\.bin\.ttf: no slice marker"),
    ],
    ids=["corrupt-gzip", "wrong-magic"],
)
def test_a_damaged_heatmap_is_a_gap_named_by_day_and_file_and_its_day_partial(
    tmp_path, env, zone_set, capsys, damage, why
):
    members = day_members(DAY, FLIGHTS)
    damaged = dict(members)
    members = day_members(DAY, FLIGHTS, replace={"heatmap/07.bin.ttf": damage(damaged["heatmap/07.bin.ttf"])})
    parts = write_parts(tmp_path, TAG, tar_bytes(members))
    assert main(["backfill", "--archive", str(parts[0])]) == 1
    captured = capsys.readouterr()
    assert re.search(rf"^  warning: {DAY} \({TAG}\): {why}", captured.out, re.M), captured.out
    assert f"{DAY} partial: {TAG}, 1,410 snapshots, 30 gaps" in captured.out
    assert f"{DAY} ({TAG}): 1 of its heatmaps cannot be read: stored with its gaps" in captured.err
    counts = _fir_counts(env, zone_set.fir.code)
    assert counts[210:240] == [None] * 30 and counts[:210] == _fir_truth(zone_set)[:210]


def test_a_corrupt_trace_is_a_warning_naming_the_day_and_file_and_the_aircraft_keeps_its_positions(
    tmp_path, env, zone_set, capsys
):
    name = "traces/01/trace_full_0d0001.json"
    good = dict(day_members(DAY, FLIGHTS))[name]
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(DAY, FLIGHTS, replace={name: corrupt_gzip(good)})))
    assert main(["backfill", "--archive", str(parts[0])]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^  warning: {DAY} \({TAG}.*\): {re.escape(name)}: ", out, re.M), out
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


def _two_days(tmp_path: Path) -> tuple[list[Path], date]:
    before = DAY - timedelta(days=1)
    good = write_parts(tmp_path / "a", "v2025.11.28-planes-readsb-prod-0", tar_bytes(day_members(before, FLIGHTS)))
    return good, before


def test_a_truncated_tar_fails_its_day_in_one_line_and_earlier_days_stay(tmp_path, env, zone_set, capsys):
    good, before = _two_days(tmp_path)
    tar = tar_bytes(day_members(DAY, FLIGHTS))
    cut = write_parts(tmp_path / "b", TAG, tar[: len(tar) // 2])
    assert main(["backfill", "--archive", *map(str, good + cut)]) == 1
    captured = capsys.readouterr()
    assert f"{before} stored:" in captured.out
    err = [line for line in captured.err.splitlines() if line.startswith("vzmon backfill")]
    assert len(err) == 1 and err[0].startswith(f"vzmon backfill: error: {DAY} ({TAG}): {cut[0]}"), err
    assert "truncated" in err[0] or "stops" in err[0]
    assert "Traceback" not in captured.err
    assert _fir_counts(env, zone_set.fir.code, before) == truth(
        before, FLIGHTS, lambda lat, lon: bool(shapely.contains_xy(zone_set.fir.geometry, lon, lat))
    )
    assert _fir_counts(env, zone_set.fir.code) == []
    with Store.open_existing(env) as s:
        failed = stored_day(s, SOURCE, DAY)
    assert failed is not None and failed.status == "failed" and str(cut[0]) in (failed.error or "")
    # a failed day is read again on the next run
    whole = write_parts(tmp_path / "c", TAG, tar)
    assert main(["backfill", "--archive", str(whole[0])]) == 0
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


def test_a_missing_part_fails_its_day_naming_the_part(tmp_path, env, capsys):
    good, _ = _two_days(tmp_path)
    tar = tar_bytes(day_members(DAY, FLIGHTS))
    aa, _ab = write_parts(tmp_path / "b", TAG, tar, split_at=len(tar) // 3)
    assert main(["backfill", "--archive", *map(str, good), str(aa)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vzmon backfill")]
    assert err == [f"vzmon backfill: error: {DAY} ({TAG}): {TAG}.tar.ab is missing beside {aa}: give every part"]


def test_a_path_that_is_not_an_archive_is_a_usage_error_and_nothing_is_stored(tmp_path, env, capsys):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    assert main(["backfill", "--archive", str(stray)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vzmon backfill")]
    assert len(err) == 1 and "not a day of adsb.lol's archive" in err[0] and str(stray) in err[0]
    assert not env.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["backfill"], "give the days to backfill"),
        (["backfill", "--to", "2025-11-29"], "--to needs --from"),
        (["backfill", "--from", "2025-11-29", "--to", "2025-11-20"], "is before --from"),
        (["backfill", "--from", "2025-11-29", "--step", "45"], "multiple of the archive's 30 s"),
        (["backfill", "--from", "2025-11-31"], "is not a UTC day"),
        (["backfill", "--from", "2025-11-29", "--workers", "0"], "--workers must be 1 to 64"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys, env):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_today_and_later_are_refused_the_archive_holds_past_days(env, capsys):
    today = datetime.now(UTC).date()
    assert main(["backfill", "--from", str(today + timedelta(days=1))]) == 2
    assert "whole past days only" in capsys.readouterr().err


def test_the_real_readsb_trace_relaid_into_a_day_gives_its_database_facts_and_legs(tmp_path, env):
    real = shared_file("data", "real", "traffic", "readsb", "trace_full_ac671b.json")
    relaid = relay_real_trace(real, DAY)
    import gzip
    import json

    doc = json.loads(relaid)
    lats = [p[1] for p in doc["trace"]]
    lons = [p[2] for p in doc["trace"]]
    # the real trace flies over the US: a box around it stands in for the zones
    members = day_members(DAY, FLIGHTS, extra=[("traces/1b/trace_full_ac671b.json", gzip.compress(relaid))])
    parts = write_parts(tmp_path, TAG, tar_bytes(members))
    from monitor.sources.archive.reader import read_day, tar_members

    with parts[0].open("rb") as f:
        read = read_day(tar_members([f], "test"), DAY, "test", 60, (min(lons), min(lats), max(lons), max(lats)))
    found = read.aircraft["ac671b"]
    assert (found.registration, found.typecode) == (doc.get("r"), doc.get("t"))
    assert found.legs and found.inside > 0


@pytest.mark.skipif(os.cpu_count() == 1, reason="needs two cores")
def test_two_workers_read_the_traces_as_one_does(tmp_path, env, zone_set, monkeypatch):
    monkeypatch.setenv("VZMON_BACKFILL_WORKERS", "2")
    parts = write_parts(tmp_path, TAG, tar_bytes(day_members(DAY, FLIGHTS)))
    results = backfill(load_settings(), None, None, archive=parts)
    assert [r.outcome for r in results] == ["stored"] and results[0].military == 1
    with Store.open_existing(env) as s:
        assert s.scalar("SELECT COUNT(*) FROM archive_aircraft") == 5
    assert _fir_counts(env, zone_set.fir.code) == _fir_truth(zone_set)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[control]\n", "is not valid TOML"),
        ('[[control]]\nname = "Panama"\nbox = [-77.0, 7.0, -83.0, 10.0]\n', "box must be [west, south, east, north]"),
        (
            '[[reference]]\ntime = 2025-11-30T09:00:00\nzone = "SVZM"\nvalue = 0\nwhat = "x"\nsource = "y"\n',
            "with a zone",
        ),
    ],
    ids=["not-toml", "west-east-swapped", "time-without-zone"],
)
def test_a_bad_checks_file_is_a_usage_error_naming_it(tmp_path, env, monkeypatch, capsys, text, message):
    checks = tmp_path / "checks.toml"
    checks.write_text(text, encoding="utf-8")
    monkeypatch.setenv("VZMON_CHECKS_FILE", str(checks))
    assert main(["backfill", "--archive", str(tmp_path)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vzmon backfill")]
    assert len(err) == 1 and message in err[0] and str(checks) in err[0], err
    assert not env.exists()
