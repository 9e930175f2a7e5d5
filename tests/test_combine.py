"""The combined view: an aircraft counts at grid time t when any source saw it in (t - step, t],
placed by its freshest position; a slot a source missed is a gap, never fewer aircraft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from monitor.combine import COMBINED, combine_pending, freshest_per_aircraft
from monitor.ingest import ingest
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import read_positions
from monitor.store.snapshots import PollRecord, counts_for, poll_rows, record_poll

T0 = datetime(2025, 11, 29, 14, 2, 30, tzinfo=UTC)  # a slot end on the 5-minute grid (monitor.grid)
STEP = 300
INSIDE = (-66.0, 8.0)  # lon, lat well inside SVZM
INSIDE_2 = (-65.0, 7.0)
SPAN = (T0 - timedelta(days=1), T0 + timedelta(days=5))


def _state(icao: str, t: datetime, lonlat: tuple[float, float], on_ground: bool = False) -> list:
    epoch = int(t.timestamp())
    return [icao, "TEST1  ", "Venezuela", epoch, epoch, lonlat[0], lonlat[1], 10000.0, on_ground, 230.0, 90.0,
            0.0, None, 10100.0, "1000", False, 0, 0]  # fmt: skip


def _poll(store, zone_set, source: str, t: datetime, states: list[list]) -> None:
    parsed = parse_states({"time": int(t.timestamp()), "states": states})
    reply = Reply(source, parsed.api_time, parsed.table)
    ingest(store, zone_set, reply, PollRecord(source, t + timedelta(seconds=2), "error"))


def _fail(store, source: str, t: datetime) -> None:
    record_poll(store, PollRecord(source, t, "error", error="HTTP 503"))


def _combined(store):
    return [(t, status) for _, t, status, _ in poll_rows(store, *SPAN, [COMBINED])]


def _airborne(store, zone: str = "SVZM") -> list[int]:
    ids = [sid for sid, _, status, _ in poll_rows(store, *SPAN, [COMBINED])
           if status == "ok"]  # fmt: skip
    return [next(c.airborne for c in counts_for(store, sid) if c.zone == zone) for sid in ids]


def test_any_source_seeing_an_aircraft_in_the_slot_counts_it_once_at_its_freshest_position(store, zone_set):
    _poll(store, zone_set, "opensky", T0 - timedelta(minutes=4), [
        _state("aaaaaa", T0 - timedelta(minutes=4), INSIDE), _state("bbbbbb", T0 - timedelta(minutes=4), INSIDE),
    ])  # fmt: skip
    _poll(store, zone_set, "adsblol", T0 - timedelta(minutes=2), [
        _state("bbbbbb", T0 - timedelta(minutes=2), INSIDE_2), _state("cccccc", T0 - timedelta(minutes=2), INSIDE),
    ])  # fmt: skip
    # both have polled past the slot: it is final
    _fail(store, "opensky", T0 + timedelta(minutes=1))
    _fail(store, "adsblol", T0 + timedelta(minutes=1))
    done = combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(minutes=2))
    assert (done.slots, done.gaps) == (1, 0)
    assert _combined(store) == [(T0, "ok")]
    assert _airborne(store) == [3]
    placed = read_positions(store, sources=[COMBINED]).set_index("icao24")
    assert sorted(placed.index) == ["aaaaaa", "bbbbbb", "cccccc"]
    assert (placed.loc["bbbbbb", "longitude"], placed.loc["bbbbbb", "latitude"]) == INSIDE_2  # the fresher one
    assert set(placed["time"]) == {T0}
    assert store.scalar("SELECT box FROM snapshots WHERE source = ?", (COMBINED,)) == "adsblol+opensky"


def test_a_slot_a_source_missed_is_a_gap_naming_it_never_fewer_aircraft(store, zone_set):
    _poll(store, zone_set, "opensky", T0 - timedelta(minutes=4), [_state("aaaaaa", T0 - timedelta(minutes=4), INSIDE)])
    _fail(store, "adsblol", T0 - timedelta(minutes=3))
    _fail(store, "opensky", T0 + timedelta(minutes=1))
    _fail(store, "adsblol", T0 + timedelta(minutes=1))
    done = combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(minutes=2))
    assert (done.slots, done.gaps) == (0, 1)
    assert _combined(store) == [(T0, "error")]
    error = store.scalar("SELECT error FROM snapshots WHERE source = ?", (COMBINED,))
    assert "no successful poll of adsblol (error)" in error and "not fewer aircraft" in error
    assert store.scalar("SELECT COUNT(*) FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id "
                        "WHERE s.source = ?", (COMBINED,)) == 0  # fmt: skip


def test_a_slot_is_combined_only_once_every_source_has_polled_past_it_and_only_once(store, zone_set):
    _poll(store, zone_set, "opensky", T0 - timedelta(minutes=4), [_state("aaaaaa", T0 - timedelta(minutes=4), INSIDE)])
    _poll(store, zone_set, "adsblol", T0 - timedelta(minutes=3), [_state("bbbbbb", T0 - timedelta(minutes=3), INSIDE)])
    _fail(store, "opensky", T0 + timedelta(minutes=1))
    # adsblol has not polled past T0: its next poll may still hold the slot's aircraft
    assert combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(minutes=2)).slots == 0
    assert _combined(store) == []
    _poll(store, zone_set, "adsblol", T0 + timedelta(minutes=1), [_state("bbbbbb", T0 + timedelta(minutes=1), INSIDE)])
    assert combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(minutes=2)).slots == 1
    assert combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(minutes=9)).slots == 0
    assert _combined(store) == [(T0, "ok")]
    assert _airborne(store) == [2]


def test_slots_with_no_attempt_are_skipped_and_a_long_catch_up_is_spread_over_runs(store, zone_set):
    for day in (0, 3):  # three days without any poll between
        for k in range(3):
            t = T0 + timedelta(days=day, minutes=5 * k + 1)
            for source in ("opensky", "adsbfi"):
                _poll(store, zone_set, source, t, [_state("aaaaaa", t, INSIDE)])
    now = T0 + timedelta(days=4)
    first = combine_pending(store, zone_set, ["opensky", "adsbfi"], STEP, now, max_slots=4)
    assert first.slots == 3 and first.until is not None and first.until < T0 + timedelta(hours=1)
    second = combine_pending(store, zone_set, ["opensky", "adsbfi"], STEP, now, max_slots=4)
    assert second.slots == 2  # the last slot is not final: no source has polled past it
    assert [t for t, _ in _combined(store)] == [
        T0 + timedelta(days=d, minutes=5 * k) for d in (0, 3) for k in (1, 2, 3) if (d, k) != (3, 3)
    ]
    assert _airborne(store) == [1] * 5


def test_the_combined_view_needs_every_source_to_have_polled(store, zone_set):
    _poll(store, zone_set, "opensky", T0 - timedelta(minutes=4), [_state("aaaaaa", T0 - timedelta(minutes=4), INSIDE)])
    _fail(store, "opensky", T0 + timedelta(minutes=1))
    assert combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, T0 + timedelta(hours=1)).slots == 0
    assert _combined(store) == []


def _positions(rows: list[tuple[str, bool, int | None, int | None]]) -> pa.Table:
    ts = pa.timestamp("s", tz="UTC")
    return pa.table({
        "icao24": pa.array([r[0] for r in rows]), "stale": pa.array([r[1] for r in rows]),
        "time_position": pa.array([r[2] for r in rows], ts), "last_contact": pa.array([r[3] for r in rows], ts),
        "n": pa.array(range(len(rows))),
    })  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "kept"),
    [
        ([("a", True, 200, 200), ("a", False, 100, 100)], 1),  # fresh before stale, however new
        ([("a", False, 100, 300), ("a", False, 200, 200)], 1),  # the newest position, not the newest message
        ([("a", False, None, 300), ("a", False, 100, 100)], 1),  # no position time sorts last
        ([("a", False, 100, 100), ("a", False, 100, 200)], 1),  # a tie on position: the newest message
    ],
)
def test_the_freshest_row_per_aircraft_is_kept(rows, kept):
    picked = freshest_per_aircraft(_positions(rows))
    assert picked.num_rows == 1 and picked["n"].to_pylist() == [kept]


def test_freshest_keeps_one_row_per_aircraft():
    picked = freshest_per_aircraft(_positions([("b", False, 1, 1), ("a", False, 1, 1), ("b", False, 2, 2)]))
    assert picked["icao24"].to_pylist() == ["a", "b"] and picked["n"].to_pylist() == [1, 2]


def test_a_cron_run_whose_reply_comes_late_stays_in_its_slot(store, zone_set):
    """Cron runs at :00 and :05; OpenSky's time is rounded down to 10 s, and a retried poll answers
    seconds later: every run must still land in its own slot (a slot edge on the tick made one gap
    and one slot with two polls)."""
    tick0 = datetime(2025, 11, 29, 14, 0, tzinfo=UTC)
    for k, late_s in enumerate((0, 0, 12, 0, 70)):
        tick = tick0 + timedelta(minutes=5 * k)
        t = tick + timedelta(seconds=late_s)
        rounded, later = t - timedelta(seconds=t.second % 10), t + timedelta(seconds=30)
        _poll(store, zone_set, "opensky", rounded, [_state(f"a{k:05d}", rounded, INSIDE)])
        _poll(store, zone_set, "adsblol", later, [_state(f"b{k:05d}", later, INSIDE)])
    end = tick0 + timedelta(minutes=25)
    _fail(store, "opensky", end)
    _fail(store, "adsblol", end)
    done = combine_pending(store, zone_set, ["opensky", "adsblol"], STEP, end + timedelta(minutes=1))
    assert (done.slots, done.gaps) == (5, 0)
    assert _airborne(store) == [2] * 5


def test_a_changed_step_never_combines_a_poll_twice(store, zone_set):
    for k in range(12):  # an hour of polls every 5 minutes, one new aircraft each
        t = T0 + timedelta(minutes=5 * k - 3)
        _poll(store, zone_set, "opensky", t, [_state(f"a{k:05d}", t, INSIDE)])
        _poll(store, zone_set, "adsbfi", t + timedelta(seconds=20), [_state(f"b{k:05d}", t, INSIDE)])
        if k == 6:  # the last 5-minute slot stored ends inside a 15-minute one
            combine_pending(store, zone_set, ["opensky", "adsbfi"], STEP, t + timedelta(minutes=1))
    end = T0 + timedelta(minutes=70)  # past the last 15-minute slot
    _fail(store, "opensky", end)
    _fail(store, "adsbfi", end)
    combine_pending(store, zone_set, ["opensky", "adsbfi"], 900, end + timedelta(minutes=1))  # the step raised
    placed = read_positions(store, sources=[COMBINED])
    assert len(placed) == placed["icao24"].nunique() == 24  # each poll's aircraft in exactly one slot
    ends = [t for t, _ in _combined(store)]
    assert ends == sorted(set(ends))


def test_a_long_catch_up_after_a_step_change_ends_each_run_on_a_slot_end(store, zone_set):
    """After 300 -> 600 s, a run limited to a few slots must stop at a slot end of the new grid:
    stopping inside a slot combined it from part of its polls, and the next run skipped the rest."""
    for k in range(3):
        t = T0 + timedelta(minutes=5 * k - 1)
        _poll(store, zone_set, "opensky", t, [_state(f"a{k:05d}", t, INSIDE)])
        _poll(store, zone_set, "adsbfi", t + timedelta(seconds=20), [_state(f"b{k:05d}", t, INSIDE)])
    combine_pending(store, zone_set, ["opensky", "adsbfi"], STEP, T0 + timedelta(minutes=9))
    for k in range(3, 40):
        t = T0 + timedelta(minutes=5 * k - 1)
        _poll(store, zone_set, "opensky", t, [_state(f"a{k:05d}", t, INSIDE)])
        _poll(store, zone_set, "adsbfi", t + timedelta(seconds=20), [_state(f"b{k:05d}", t, INSIDE)])
    now = T0 + timedelta(hours=4)
    _fail(store, "opensky", now)
    _fail(store, "adsbfi", now)
    while combine_pending(store, zone_set, ["opensky", "adsbfi"], 600, now, max_slots=3).until is not None:
        pass
    placed = read_positions(store, sources=[COMBINED])
    assert len(placed) == placed["icao24"].nunique() == 80  # every poll's aircraft, each in one slot
    assert _combined(store) == [(t, "ok") for t, _ in _combined(store)]  # and no slot a false gap
