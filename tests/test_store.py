"""The SQLite store: migrations, one transaction per poll, duplicates stored once, gaps stay gaps."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from geo.fence import fence_for
from monitor.counts import count_by_zone
from monitor.errors import StoreError
from monitor.opensky import parse_states
from monitor.schema import POSITION_COLUMNS
from monitor.store import MIGRATIONS, PollRecord, Store

T0 = datetime(2025, 11, 29, 14, 0, tzinfo=UTC)


def _tagged(states_payload, zone_set):
    parsed = parse_states(states_payload)
    df = parsed.positions
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


def test_store_from_a_newer_vzmon_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', 0)")
    with pytest.raises(StoreError, match="newer than this vzmon"):
        Store(path)


def test_in_memory_store_works(states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    with Store(":memory:") as s:
        s.record_poll(_ok(), df, counts)
        assert len(s.read_positions()) == len(df)


def test_poll_with_data_stores_positions_and_counts_in_one_go(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    rec = store.record_poll(_ok(n_states=len(df)), df, counts, zone_set_id=store.zone_set_id(zone_set))
    assert rec.status == "ok"
    assert store.query("SELECT n_positions, format FROM position_blocks")[0][:] == (len(df), "arrow-batch+zstd/1")
    stored = {r["zone"]: (r["airborne"], r["on_ground"]) for r in store.counts_for(rec.snapshot_id)}
    assert set(stored) == set(zone_set.codes)
    assert stored["SVZM"] == (20, 2)  # 19 listed airborne + one with an empty origin country; 1 stale left out
    assert stored["ring:TNCF"] == (3, 1)


def test_every_state_vector_field_round_trips(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    rec = store.record_poll(_ok(), df, counts)
    back = store.read_positions()
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
        store.record_poll(_ok(api_time=t), df, counts)
    got = store.read_positions(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), columns=["icao24", "zone"])
    assert list(got.columns) == ["snapshot_id", "time", "icao24", "zone"]
    assert set(got["time"]) == {T0 + timedelta(minutes=1)}  # [start, end): the end is left out
    assert len(got) == len(df)
    assert store.read_positions(T0 + timedelta(hours=1)).empty
    with pytest.raises(ValueError, match="unknown position columns"):
        store.read_positions(columns=["altitude_ft"])


def test_same_api_time_collected_twice_is_stored_once(store, states_payload, zone_set):
    _, df, counts = _tagged(states_payload, zone_set)
    first = store.record_poll(_ok(), df, counts)
    second = store.record_poll(_ok(), df, counts)
    assert second.status == "duplicate" and second.duplicate_of == first.snapshot_id
    assert len(store.read_positions()) == len(df)
    assert store.query("SELECT COUNT(*) FROM position_blocks")[0][0] == 1
    assert store.query("SELECT COUNT(DISTINCT snapshot_id) FROM zone_counts")[0][0] == 1
    assert store.query("SELECT COUNT(*) FROM snapshots")[0][0] == 2  # both attempts are on record


def test_duplicate_icao24_in_one_reply_is_upserted(store, states_payload, zone_set):
    doc = dict(states_payload)
    row = list(doc["states"][0])
    moved = [*row[:6], 11.0, *row[7:]]
    doc = {"time": doc["time"], "states": [row, moved]}
    _, df, counts = _tagged(doc, zone_set)
    store.record_poll(_ok(), df, counts)
    assert store.read_positions()["latitude"].tolist() == [11.0]  # last one wins


def test_an_aircraft_listed_twice_is_counted_once_as_stored(store, states_payload, zone_set):
    from monitor.pipeline import ingest_reply

    doc = {"time": states_payload["time"], "states": [*states_payload["states"], states_payload["states"][0]]}
    _, _, counts = ingest_reply(store, zone_set, doc, _ok(), stale_after_s=15)
    stored = store.read_positions()
    assert len(stored) == len(states_payload["states"])
    airborne = stored[~stored["stale"] & ~stored["on_ground"].fillna(False).astype(bool)]
    by_zone = airborne["zone"].astype(str).value_counts()
    assert {c.zone: c.airborne for c in counts if c.airborne} == by_zone.to_dict()


@pytest.mark.parametrize("status", ["error", "rate_limited", "skipped"])
def test_failed_poll_is_a_gap_with_no_counts(store, status):
    rec = store.record_poll(PollRecord(source="opensky", requested_at=T0, status=status, error="boom"))
    assert store.counts_for(rec.snapshot_id) == []
    row = store.query("SELECT status, error, api_time FROM snapshots WHERE id = ?", (rec.snapshot_id,))[0]
    assert (row["status"], row["error"], row["api_time"]) == (status, "boom", None)


def test_rate_limited_until_reads_the_newest_window(store):
    store.record_poll(
        PollRecord(source="opensky", requested_at=T0, status="rate_limited", retry_at=T0 + timedelta(hours=6))
    )
    assert store.rate_limited_until("opensky", T0) == T0 + timedelta(hours=6)
    assert store.rate_limited_until("opensky", T0 + timedelta(hours=7)) is None


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="naive"):
        store.record_poll(PollRecord(source="opensky", requested_at=datetime(2025, 1, 1), status="error"))  # noqa: DTZ001


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
        store.record_poll(_ok(), df, bad_counts)
    assert store.query("SELECT COUNT(*) FROM snapshots")[0][0] == 0
    assert store.query("SELECT COUNT(*) FROM position_blocks")[0][0] == 0
