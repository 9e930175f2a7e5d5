"""Ingest: one reply -> dedupe -> fence -> counts -> store, the same path for every source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import SourceUnavailable
from monitor.ingest import check_reply_time, ingest
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import read_positions
from monitor.store.snapshots import PollRecord, counts_for

T0 = datetime(2025, 11, 29, 14, 0, tzinfo=UTC)


def _reply(doc: dict) -> Reply:
    parsed = parse_states(doc)
    return Reply("opensky", parsed.api_time, parsed.table, parsed.malformed_rows, http_status=200, credits_charged=3)


def _poll() -> PollRecord:
    return PollRecord(source="opensky", requested_at=T0 + timedelta(seconds=3), status="error")


def test_an_aircraft_listed_twice_is_counted_once_as_stored(store, states_payload, zone_set):
    doc = {"time": states_payload["time"], "states": [*states_payload["states"], states_payload["states"][0]]}
    done = ingest(store, zone_set, _reply(doc), _poll())
    stored = read_positions(store)
    assert len(stored) == len(states_payload["states"])
    airborne = stored[~stored["stale"] & ~stored["on_ground"].fillna(False).astype(bool)]
    by_zone = airborne["zone"].astype(str).value_counts()
    assert {c.zone: c.airborne for c in done.counts if c.airborne} == by_zone.to_dict()


def test_every_zone_gets_a_count_and_the_reply_fills_the_record(store, states_payload, zone_set):
    done = ingest(store, zone_set, _reply(states_payload), _poll())
    assert [c.zone for c in done.counts] == list(zone_set.codes)
    assert done.record.status == "ok" and done.record.credits_charged == 3 and done.record.http_status == 200
    assert done.recorded is not None and done.recorded.status == "ok"
    assert counts_for(store, done.recorded.snapshot_id) == list(done.counts)
    assert done.counts[0].zone == "SVZM" and (done.counts[0].airborne, done.counts[0].on_ground) == (20, 2)


def test_a_reply_with_no_aircraft_is_an_explicit_zero_not_a_gap(store, zone_set):
    done = ingest(store, zone_set, _reply({"time": int(T0.timestamp()), "states": None}), _poll())
    assert done.record.status == "empty"
    assert all(c.airborne == c.on_ground == c.stale == 0 for c in done.counts)
    assert len(counts_for(store, done.recorded.snapshot_id)) == len(zone_set.codes)


def test_a_dry_run_stores_nothing(store, states_payload, zone_set):
    done = ingest(None, zone_set, _reply(states_payload), _poll())
    assert done.recorded is None and done.counts
    assert store.scalar("SELECT COUNT(*) FROM snapshots") == 0


@pytest.mark.parametrize(("offset", "ok"), [(-3599, True), (299, True), (-3601, False), (301, False)])
def test_a_live_reply_must_be_of_now(offset, ok):
    now = T0
    if ok:
        check_reply_time(now + timedelta(seconds=offset), now)
    else:
        with pytest.raises(SourceUnavailable, match="machine's clock"):
            check_reply_time(now + timedelta(seconds=offset), now)
