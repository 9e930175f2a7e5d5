"""The SQLite store: migrations, one transaction per poll, duplicates stored once, gaps stay gaps."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from geo.fence import fence_for
from monitor.counts import SNAPSHOT_STATUSES
from monitor.errors import NotAStore, StoreError
from monitor.schema import POSITION_COLUMNS
from monitor.sources.opensky.parse import parse_states
from monitor.store.db import Store
from monitor.store.frames import poll_frame, positions_frame, read_positions
from monitor.store.migrations import MIGRATIONS
from monitor.store.snapshots import PollRecord, counts_for, rate_limited_until
from tests.storekit import count_by_zone, record

T0 = datetime(2025, 11, 29, 14, 0, tzinfo=UTC)


def _tagged(states_payload, zone_set):
    parsed = parse_states(states_payload)
    df = positions_frame(parsed.table)
    df["zone"] = fence_for(zone_set).categorical(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    return parsed, df, count_by_zone(df, zone_set.codes)


def _ok(api_time=T0, **kw) -> PollRecord:
    return PollRecord(
        source="opensky", requested_at=api_time + timedelta(seconds=3), status="ok", api_time=api_time, **kw
    )


def test_new_store_records_its_migrations_and_uses_wal(store):
    rows = store.query("SELECT version, name FROM schema_migrations")
    assert [r["version"] for r in rows] == [v for v, _, _ in MIGRATIONS]
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert store.query("PRAGMA user_version")[0][0] == MIGRATIONS[-1][0]


def test_reopening_applies_no_migration_twice(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with Store(path) as s:
        assert len(s.query("SELECT * FROM schema_migrations")) == len(MIGRATIONS)


def test_store_from_a_newer_vzmon_is_refused_naming_the_vzmon_that_wrote_it(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(NotAStore, match="schema version 999, written by a newer vzmon"):
        Store(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO store_meta VALUES ('schema_999_by', '7.1.0')")
    with pytest.raises(NotAStore, match=r"written by vzmon 7\.1\.0.*upgrade vzmon to 7\.1\.0 or later"):
        Store(path)


def _snapshot_of(path: Path) -> tuple[bytes, list[str]]:
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


def test_another_applications_sqlite_file_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "notes.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.close()
    before = _snapshot_of(path)
    for opener in (Store, Store.open_existing):
        with pytest.raises(NotAStore, match=r"not a vzmon store.*tables notes; nothing was changed"):
            opener(path)
    assert _snapshot_of(path) == before  # no table added, not switched to WAL, no -wal/-shm files
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "monitor.sqlite"
    path.write_text("my thesis, chapter 1\n" * 100, encoding="utf-8")
    before = _snapshot_of(path)
    with pytest.raises(NotAStore, match="is not an SQLite database"):
        Store(path)
    assert _snapshot_of(path) == before


def test_opening_an_existing_store_never_creates_one(tmp_path):
    path = tmp_path / "typo" / "monitor.sqlite"
    with pytest.raises(NotAStore, match=r"no store at .*`vzmon collect` creates one"):
        Store.open_existing(path)
    assert not path.parent.exists()


def test_a_new_store_is_marked_as_vzmon_s(store):
    from monitor.store.migrations import APPLICATION_ID

    assert store.query("PRAGMA application_id")[0][0] == APPLICATION_ID


def test_a_store_made_before_the_mark_still_opens(tmp_path, states_payload, zone_set):
    """Stores made by the first release have no application id and no migration 3: they open and upgrade."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at INTEGER NOT NULL)"
        )
        for version, name, sql in MIGRATIONS[:2]:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    conn.close()
    _, df, counts = _tagged(states_payload, zone_set)
    with Store(path) as s:
        record(s, _ok(), df, counts)
        assert len(
            read_positions(
                s,
            )
        ) == len(df)
        assert [r[0] for r in s.query("SELECT version FROM schema_migrations")] == [v for v, _, _ in MIGRATIONS]


@pytest.mark.parametrize(("known", "expected"), [(True, r"vzmon 9\.9\.0 or later reads it"), (False, "a newer vzmon")])
def test_positions_in_an_unknown_block_format_are_refused_naming_who_reads_them(
    store, states_payload, zone_set, known, expected
):
    _, df, counts = _tagged(states_payload, zone_set)
    record(store, _ok(), df, counts)
    store.query("UPDATE position_blocks SET format = 'parquet+zstd/9'")
    if known:
        store.query("INSERT INTO block_formats VALUES ('parquet+zstd/9', '9.9.0')")
    with pytest.raises(NotAStore, match=rf"format 'parquet\+zstd/9' \(snapshot 1\).*{expected}"):
        read_positions(
            store,
        )


def test_a_full_disk_is_named_and_nothing_stored_is_lost(small_disk, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    path = small_disk / "monitor.sqlite"
    with Store(path) as s:
        for i in range(3):
            record(s, _ok(T0 + timedelta(minutes=i)), df, counts)
        filler = small_disk.fill()
        with pytest.raises(StoreError) as info:
            for i in range(3, 200):  # the WAL may have room for a poll or two before the disk is full
                record(s, _ok(T0 + timedelta(minutes=i)), df, counts)
        stored = i
    message = str(info.value)
    assert f"no space left on the disk holding {path}" in message and "VZMON_DB" in message
    assert "rollback" not in message and "\n" not in message
    filler.unlink()
    with Store(path) as s:
        assert s.integrity_check() == "ok"
        assert s.query("SELECT COUNT(*) FROM snapshots")[0][0] == stored
        assert len(
            read_positions(
                s,
            )
        ) == stored * len(df)


def test_in_memory_store_works(states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    with Store(":memory:") as s:
        record(s, _ok(), df, counts)
        assert len(
            read_positions(
                s,
            )
        ) == len(df)


def test_poll_with_data_stores_positions_and_counts_in_one_go(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    rec = record(store, _ok(n_states=len(df)), df, counts, zone_set_id=store.zone_set_id(zone_set))
    assert rec.status == "ok"
    assert store.query("SELECT n_positions, format FROM position_blocks")[0][:] == (len(df), "arrow-batch+zstd/1")
    stored = {c.zone: (c.airborne, c.on_ground) for c in counts_for(store, rec.snapshot_id)}
    assert set(stored) == set(zone_set.codes)
    assert stored["SVZM"] == (20, 2)  # 19 listed airborne + one with an empty origin country; 1 stale left out
    assert stored["ring:TNCF"] == (3, 1)


def test_every_state_vector_field_round_trips(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    rec = record(store, _ok(), df, counts)
    back = read_positions(
        store,
    )
    assert list(back.columns) == ["snapshot_id", "time", *(c.name for c in POSITION_COLUMNS)]
    assert (back["snapshot_id"] == rec.snapshot_id).all() and (back["time"] == T0).all()
    pd.testing.assert_frame_equal(
        back.drop(columns=["snapshot_id", "time"]).astype({"zone": str}),
        df.astype({"zone": str}),
        check_dtype=True,
    )
    row = back.set_index("icao24").loc["0d80a1"]
    assert row["callsign"] == "VCV2210" and row["squawk"] == "2341" and row["zone"] == "SVZM"
    nopos = back.set_index("icao24").loc["0d8150"]
    assert nopos["zone"] == "unknown" and pd.isna(nopos["latitude"])


def test_read_positions_selects_columns_and_a_half_open_time_window(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    for minutes in (0, 1, 2):
        t = T0 + timedelta(minutes=minutes)
        record(store, _ok(api_time=t), df, counts)
    got = read_positions(store, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), columns=["icao24", "zone"])
    assert list(got.columns) == ["snapshot_id", "time", "icao24", "zone"]
    assert set(got["time"]) == {T0 + timedelta(minutes=1)}  # [start, end): the end is left out
    assert len(got) == len(df)
    assert read_positions(store, T0 + timedelta(hours=1)).empty
    with pytest.raises(ValueError, match="unknown position columns"):
        read_positions(store, columns=["altitude_ft"])


def test_same_api_time_collected_twice_is_stored_once(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    first = record(store, _ok(), df, counts)
    second = record(store, _ok(), df, counts)
    assert second.status == "duplicate" and second.duplicate_of == first.snapshot_id
    assert len(
        read_positions(
            store,
        )
    ) == len(df)
    assert store.query("SELECT COUNT(*) FROM position_blocks")[0][0] == 1
    assert store.query("SELECT COUNT(DISTINCT snapshot_id) FROM zone_counts")[0][0] == 1
    assert store.query("SELECT COUNT(*) FROM snapshots")[0][0] == 2  # both attempts are on record


def test_duplicate_icao24_in_one_reply_is_upserted(store, states_payload, zone_set):
    doc = dict(states_payload)
    row = list(doc["states"][0])
    moved = [*row[:6], 11.0, *row[7:]]
    doc = {"time": doc["time"], "states": [row, moved]}
    _, df, counts = _tagged(doc, zone_set)
    record(store, _ok(), df, counts)
    assert read_positions(
        store,
    )["latitude"].tolist() == [11.0]  # last one wins


@pytest.mark.parametrize("status", ["error", "rate_limited", "skipped"])
def test_failed_poll_is_a_gap_with_no_counts(store, status):
    rec = record(store, PollRecord(source="opensky", requested_at=T0, status=status, error="boom"))
    assert counts_for(store, rec.snapshot_id) == []
    row = store.query("SELECT status, error, api_time FROM snapshots WHERE id = ?", (rec.snapshot_id,))[0]
    assert (row["status"], row["error"], row["api_time"]) == (status, "boom", None)


def test_rate_limited_until_reads_the_newest_window(store):
    record(
        store, PollRecord(source="opensky", requested_at=T0, status="rate_limited", retry_at=T0 + timedelta(hours=6))
    )
    assert rate_limited_until(store, "opensky", T0) == T0 + timedelta(hours=6)
    assert rate_limited_until(store, "opensky", T0 + timedelta(hours=7)) is None


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="naive"):
        record(store, PollRecord(source="opensky", requested_at=datetime(2025, 1, 1), status="error"))  # noqa: DTZ001


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown snapshot status"):
        PollRecord(source="opensky", requested_at=T0, status="zero")


def test_unwritable_store_path_is_a_store_error_naming_the_setting(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError) as info:
        Store(blocker / "monitor.sqlite")
    assert "VZMON_DB" in str(info.value) and str(blocker) in str(info.value)


def test_zone_set_is_recorded_once(store, zone_set):
    a = store.zone_set_id(zone_set)
    b = store.zone_set_id(zone_set)
    assert a == b
    assert store.query("SELECT COUNT(*) FROM zone_sets")[0][0] == 1


def test_failed_write_rolls_back_the_whole_poll(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    bad_counts = pd.concat([counts, counts.iloc[:1]])  # a zone twice: the primary key fails after positions went in
    with pytest.raises(StoreError, match="UNIQUE constraint failed"):
        record(store, _ok(), df, bad_counts)
    assert store.query("SELECT COUNT(*) FROM snapshots")[0][0] == 0
    assert store.query("SELECT COUNT(*) FROM position_blocks")[0][0] == 0


def test_another_applications_empty_database_is_refused(tmp_path):
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA application_id = 1234")
    conn.close()
    before = _snapshot_of(path)
    with pytest.raises(NotAStore, match=r"another application's SQLite file \(application id 0x4d2\)"):
        Store(path)
    assert _snapshot_of(path) == before


def test_a_store_on_read_only_media_is_read_without_writing(tmp_path, states_payload, zone_set):
    from tests.conftest import _mount_tmpfs

    media = tmp_path / "media"
    if not _mount_tmpfs(media, "size=8m"):
        pytest.skip("mounting a tmpfs needs root")
    try:
        _, df, counts = _tagged(states_payload, zone_set)
        with Store(media / "m.sqlite") as s:
            record(s, _ok(), df, counts)
        subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
        with Store.open_existing(media / "m.sqlite") as s:
            assert s.read_only and len(read_positions(s)) == len(df)
        assert sorted(p.name for p in media.iterdir()) == ["m.sqlite"]
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


def _hour_totals(s: Store) -> dict[tuple[str, int, str], tuple[int, float]]:
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in s.query("SELECT source, hour, zone, n, airborne FROM zone_hours")}


def test_hourly_totals_follow_every_successful_poll_and_nothing_else(store, states_payload, zone_set):
    """zone_hours (what the alert baselines read) holds, per source, hour and zone, the number of
    ok polls and the sum of their airborne counts: gaps, empty polls and duplicates add nothing."""
    from monitor.store.snapshots import hour_rows

    _, df, counts = _tagged(states_payload, zone_set)
    svzm = int(counts.set_index("zone").loc["SVZM", "airborne"])
    record(store, _ok(T0), df, counts)
    record(store, _ok(T0 + timedelta(minutes=10)), df, counts)
    record(store, _ok(T0 + timedelta(minutes=10)), df, counts)  # the same API time: a duplicate
    record(store, PollRecord("opensky", T0 + timedelta(minutes=20), "error"))
    record(store, PollRecord("opensky", T0 + timedelta(minutes=30), "empty", api_time=T0 + timedelta(minutes=30)))
    record(store, _ok(T0 + timedelta(hours=1)), df, counts)
    other = PollRecord("other", T0 + timedelta(hours=1), "ok", api_time=T0 + timedelta(hours=1, minutes=5))
    record(store, other, df, counts)
    totals = _hour_totals(store)
    hour = int(T0.timestamp()) // 3600
    assert totals[("opensky", hour, "SVZM")] == (2, 2.0 * svzm)
    assert totals[("opensky", hour + 1, "SVZM")] == (1, 1.0 * svzm)
    assert totals[("other", hour + 1, "SVZM")] == (1, 1.0 * svzm)
    rows = hour_rows(store, "opensky", T0, T0 + timedelta(hours=2))
    assert {(h, z) for h, z, _, _ in rows} == {(hour, z) for z in zone_set.codes} | {
        (hour + 1, z) for z in zone_set.codes
    }


def test_migration_4_backfills_the_hourly_totals_of_an_older_store(tmp_path, states_payload, zone_set):
    """A store made before zone_hours gets it filled from the counts it already holds, on opening."""
    path = tmp_path / "v3.sqlite"
    _, df, counts = _tagged(states_payload, zone_set)
    with Store(path) as s:
        for minutes in (0, 10, 20, 70):
            record(s, _ok(T0 + timedelta(minutes=minutes)), df, counts)
        expected = _hour_totals(s)
        s.execute("DROP TABLE zone_hours")
        s.execute("DELETE FROM schema_migrations WHERE version = 4")
    with Store(path) as s:
        assert _hour_totals(s) == expected
        assert len(expected) == 2 * len(zone_set.codes)


def test_the_utc_views_show_times_as_iso_8601_for_sqlite3_and_datasette(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    rec = record(store, _ok(n_states=len(df)), df, counts, zone_set_id=store.zone_set_id(zone_set))
    path = store.path
    with sqlite3.connect(path) as plain:  # what a sqlite3 user sees, without vzmon
        snap = plain.execute("SELECT id, requested_at_utc, api_time_utc, status FROM snapshots_utc").fetchone()
        svzm = plain.execute("SELECT time_utc, airborne FROM zone_counts_utc WHERE zone = 'SVZM'").fetchone()
    api = store.scalar("SELECT api_time FROM snapshots WHERE id = ?", (rec.snapshot_id,))
    assert snap[0] == rec.snapshot_id and snap[3] == "ok"
    assert snap[2] == datetime.fromtimestamp(api, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert svzm == (snap[2], 20)


def test_a_transaction_inside_another_is_a_savepoint_undone_alone_and_kept_only_with_the_outer(store):
    with store.transaction() as conn:
        conn.execute("INSERT INTO store_meta (key, value) VALUES ('outer', '1')")
        with pytest.raises(StoreError), store.transaction() as inner:
            inner.execute("INSERT INTO store_meta (key, value) VALUES ('inner', '1')")
            inner.execute("INSERT INTO store_meta (key, value) VALUES ('outer', 'twice')")  # fails: undoes 'inner'
        with store.transaction() as inner:
            inner.execute("INSERT INTO store_meta (key, value) VALUES ('kept', '1')")
    assert {r[0] for r in store.query("SELECT key FROM store_meta WHERE key IN ('outer', 'inner', 'kept')")} == {
        "outer",
        "kept",
    }
    with pytest.raises(RuntimeError), store.transaction() as conn:
        with store.transaction() as inner:
            inner.execute("INSERT INTO store_meta (key, value) VALUES ('lost', '1')")
        raise RuntimeError("the outer transaction fails after its savepoint was released")
    assert store.scalar("SELECT COUNT(*) FROM store_meta WHERE key = 'lost'") == 0


def test_sources_between_names_the_sources_with_an_ok_poll_in_the_range(store):
    """One walk of the sources on the index, then a look into the range for each: the same answer
    as scanning the range's polls."""
    from monitor.store.snapshots import sources_between

    hour = timedelta(hours=1)
    record(store, _ok(T0))  # opensky: ok inside
    record(store, PollRecord("adsblol", T0 + hour, "ok", api_time=T0 + hour))  # ok inside
    record(store, PollRecord("adsbfi", T0 + hour, "empty", api_time=T0 + hour))  # nothing seen: no ok poll
    record(store, PollRecord("adsbfi", T0 - 2 * hour, "ok", api_time=T0 - 2 * hour))  # ok before the range
    record(store, PollRecord("archive", T0 + hour, "error", error="HTTP 503"))  # failed
    record(store, PollRecord("combined", T0 + 3 * hour, "ok", api_time=T0 + 3 * hour))  # ok at the range's end
    assert sources_between(store, T0, T0 + 3 * hour) == ["adsblol", "opensky"]
    assert sources_between(store, T0 - 2 * hour, T0 + 4 * hour) == ["adsbfi", "adsblol", "combined", "opensky"]
    assert sources_between(store, T0 + 4 * hour, T0 + 5 * hour) == []


def test_poll_frame_is_every_poll_of_the_sources_in_time_order(store):
    """``poll_frame`` packs each poll in one number: its frame is the rows a plain query reads."""
    t0 = datetime(2025, 11, 20, tzinfo=UTC)
    statuses = ["ok", "error", "empty", "rate_limited", "skipped", "ok", "error", "ok"]
    for i, status in enumerate(statuses):
        at = t0 + timedelta(minutes=10 * (len(statuses) - i))  # stored newest first
        api = at - timedelta(seconds=3) if status in ("ok", "empty") else None  # failures keep the request time
        record(store, PollRecord("opensky", at, status, api_time=api, simulated=i % 3 == 0))
        record(store, PollRecord("adsblol", at + timedelta(seconds=1), "ok", api_time=at))
    again = t0 + timedelta(minutes=29, seconds=57)  # the API time of the ok poll at 30 min, served again
    assert record(store, PollRecord("opensky", t0 + timedelta(minutes=31), "ok", api_time=again)).status == "duplicate"
    start, end = t0 + timedelta(minutes=15), t0 + timedelta(minutes=75)
    got = poll_frame(store, start, end, ["opensky"])
    rows = store.query(
        "SELECT COALESCE(api_time, requested_at) AS t, status, simulated FROM snapshots "
        "WHERE source = 'opensky' AND COALESCE(api_time, requested_at) >= ? AND COALESCE(api_time, requested_at) < ? "
        "ORDER BY t",
        (int(start.timestamp()), int(end.timestamp())),
    )
    rows.sort(key=lambda r: (r["t"], SNAPSHOT_STATUSES.index(r["status"])))  # polls of one second: by status
    assert len(rows) == len(got) == 7  # a duplicate API time is a poll too
    assert [int(t.timestamp()) for t in got["time"]] == [r["t"] for r in rows]
    assert list(got["status"]) == [r["status"] for r in rows]
    assert list(got["simulated"]) == [bool(r["simulated"]) for r in rows]
    assert str(got["time"].dtype) == "datetime64[s, UTC]" and got["time"].is_monotonic_increasing
    assert len(poll_frame(store, start, end)) == 7 + 6  # every source
    empty = poll_frame(store, end + timedelta(days=1), end + timedelta(days=2))
    assert empty.empty and list(empty.columns) == ["time", "status", "simulated"]
    assert poll_frame(store, start, end, []).empty  # no source: no poll


def test_poll_frame_refuses_a_status_it_cannot_name(store, monkeypatch):
    """A status this vzmon does not know would pack to NULL and drop out of the frame unseen."""
    import monitor.store.frames as frames

    t0 = datetime(2025, 11, 20, tzinfo=UTC)
    record(store, PollRecord("opensky", t0, "ok", api_time=t0))
    record(store, PollRecord("opensky", t0 + timedelta(minutes=1), "error"))
    monkeypatch.setattr(frames, "SNAPSHOT_STATUSES", ("ok", "empty", "duplicate", "rate_limited", "skipped"))
    monkeypatch.setattr(frames, "_STATUS_SLOTS", 5)
    with pytest.raises(StoreError, match=r"a status this vzmon does not know \(1 of 2 read\): upgrade vzmon"):
        poll_frame(store, t0, t0 + timedelta(hours=1))
