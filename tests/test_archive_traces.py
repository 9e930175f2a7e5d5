"""adsb.lol's day traces: the prefilter never misses a point inside the box, a far-away trace costs no
JSON parse, and a trace that touches the box comes back with its database facts, legs, take-offs,
landings and callsigns; from traces the tests' own writer lays out as readsb does, and from the real
``ac671b`` trace re-laid into a history day."""

from __future__ import annotations

import gzip
import json
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from monitor.sources.archive.traces import POINTS_SCHEMA, AircraftDay, TraceError, prefilter, read_trace
from tests.conftest import SHARED
from tests.trace_writer import Point, member_name, relay_real_trace, trace_json, trace_member

DAY = date(2025, 11, 29)
MIDNIGHT = datetime(2025, 11, 29, tzinfo=UTC)
SVZM = (-75.4, -1.4, -57.8, 17.7)  # the FIR with its ring
EUROPE = (-10.0, 35.0, 30.0, 70.0)
REAL = SHARED / "data" / "real" / "traffic" / "readsb" / "trace_full_ac671b.json"
SVMI = (-66.991, 10.601)  # (lon, lat): Caracas Maiquetía
SVMC = (-71.728, 10.558)  # Maracaibo


def _read(icao: str, points: list[Point], box=SVZM, **head) -> AircraftDay | None:
    name, data = trace_member(icao, points, DAY, **head)
    return read_trace(data, name, DAY, box)


def _ground(t: float, at: tuple[float, float], n: int, callsign: str | None = None, step: float = 60.0) -> list[Point]:
    return [Point(t + k * step, at[1], at[0], "ground", gs=10.0, callsign=callsign) for k in range(n)]


def _air(t: float, a: tuple[float, float], b: tuple[float, float], n: int, callsign: str | None = None) -> list[Point]:
    return [
        Point(t + k * 300.0, a[1] + (b[1] - a[1]) * (k + 1) / (n + 1), a[0] + (b[0] - a[0]) * (k + 1) / (n + 1),
              2_000 + 3_000 * min(k, n - 1 - k), callsign=callsign)
        for k in range(n)
    ]  # fmt: skip


# --- the prefilter ------------------------------------------------------------------------------------

BOXES = [
    SVZM,
    (-3.5, -2.25, 4.75, 1.5),  # across 0 degrees latitude and longitude
    (-60.0, -10.0, -50.0, 0.0),  # whole-degree edges, north edge on the equator
    (0.0, 0.0, 0.4, 0.3),  # inside one degree, south-west corner at 0, 0
    (-0.6, -0.9, -0.1, -0.2),  # inside "-0"
    (170.0, 80.0, 180.0, 90.0),  # at the world's edges
]


def _values(low: float, high: float) -> list[float]:
    """A grid over [low - 3, high + 3] with the edges, a micro-degree either side of them, and the values
    around zero that print as "-0.x" and "-0.000000"."""
    grid = np.arange(math.floor(low) - 3, math.ceil(high) + 3, 0.125).tolist()
    edges = [v + d for v in (low, high) for d in (-1e-6, 0.0, 1e-6)]
    return [*grid, *edges, -0.0, -0.5, -1e-6, 0.0, 1e-6, -0.999999, 0.999999]


@pytest.mark.parametrize("box", BOXES, ids=str)
def test_the_prefilter_matches_every_point_inside_the_box_and_none_a_degree_away(box):
    west, south, east, north = box
    pattern = prefilter(box)
    missed, far = [], []
    for lat in _values(south, north):
        for lon in _values(west, east):
            line = f"\n[12345.67,{lat:f},{lon:f},35000,450.0".encode()
            shown_lat, shown_lon = float(f"{lat:f}"), float(f"{lon:f}")  # what readsb prints and a reader parses
            hit = pattern.search(line) is not None
            if west <= shown_lon <= east and south <= shown_lat <= north and not hit:
                missed.append(line)
            beyond = max(south - shown_lat, shown_lat - north, west - shown_lon, shown_lon - east)
            if hit and beyond >= 1.0:
                far.append(line)
    assert not missed, f"{len(missed)} points inside {box} not matched, e.g. {missed[:3]}"
    assert not far, f"{len(far)} points a degree or more outside {box} matched, e.g. {far[:3]}"


def test_the_prefilter_reads_negative_zero_as_zero_and_as_inside_a_box_across_the_equator():
    across = prefilter((-1.0, -0.5, 1.0, 0.5))
    for lat, lon in (("-0.000000", "-0.000000"), ("-0.500000", "0.999999"), ("0.500000", "-1.000000")):
        assert across.search(f"\n[0.00,{lat},{lon},1000".encode())
    north_of = prefilter((-1.0, 0.5, 1.0, 2.0))
    assert not north_of.search(b"\n[0.00,-0.500000,0.000000,1000")  # -0.5 is not north of 0.5
    assert not north_of.search(b"\n[0.00,-1.000000,0.000000,1000")


def test_the_prefilter_is_built_from_the_box_not_for_venezuela():
    madrid = b"\n[100.00,40.472000,-3.561000,2000"
    caracas = b"\n[100.00,10.601000,-66.991000,2000"
    assert prefilter(EUROPE).search(madrid) and not prefilter(EUROPE).search(caracas)
    assert prefilter(SVZM).search(caracas) and not prefilter(SVZM).search(madrid)


def test_a_box_that_is_not_west_south_east_north_is_refused():
    with pytest.raises(ValueError, match="west <= east"):
        prefilter((-57.8, -1.4, -75.4, 17.7))


# --- the cheap path -----------------------------------------------------------------------------------


def test_a_far_away_trace_is_none_without_parsing_its_json():
    """The member's JSON is broken after its last point: parsing it would raise. Over Venezuela it is
    None, so it was never parsed; with a box over its points the same bytes raise."""
    madrid = [Point(36_000 + 30 * k, 40.47 + 0.01 * k, -3.56, 2_000 + 500 * k) for k in range(40)]
    text = trace_json("3443c5", madrid, DAY, r="EC-MXV", t="A320")
    broken = gzip.compress(text.removesuffix(b" }\n") + b"<< cut", mtime=0)
    assert read_trace(broken, member_name("3443c5"), DAY, SVZM) is None
    with pytest.raises(TraceError, match=r"traces/c5/trace_full_3443c5\.json: not whole JSON"):
        read_trace(broken, member_name("3443c5"), DAY, EUROPE)


def test_a_trace_near_the_box_but_outside_it_is_parsed_and_still_none():
    near = [Point(1_000.0, 17.9, -66.0, 35_000)]  # 0.2 degrees north of the box: passes the prefilter
    assert prefilter(SVZM).search(trace_json("0d0001", near, DAY))
    assert _read("0d0001", near) is None


# --- the real trace -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> tuple[dict, bytes]:
    if not REAL.is_file():
        pytest.skip(f"{REAL} not present (../shared is optional)")
    return json.loads(REAL.read_bytes()), gzip.compress(relay_real_trace(REAL, DAY), mtime=0)


def test_the_real_trace_relaid_into_a_day_keeps_its_database_facts_and_every_point(real):
    doc, data = real
    found = read_trace(data, member_name("ac671b"), DAY, (-118.0, 16.0, -87.0, 48.0))
    assert found is not None
    assert (found.icao24, found.registration, found.typecode, found.description) == (
        doc["icao"], doc["r"], doc["t"], doc["desc"],
    )  # fmt: skip
    assert (found.db_flags, found.military, found.no_db) == (doc["dbFlags"], False, False)
    assert (found.points.num_rows, found.inside, found.dropped) == (len(doc["trace"]), len(doc["trace"]), 0)
    assert found.points.schema.equals(POINTS_SCHEMA)
    first = doc["trace"][0][0]
    expected_ms = [round((p[0] - first + 600.0) * 1000) for p in doc["trace"]]
    got = [(t - MIDNIGHT) // timedelta(milliseconds=1) for t in found.points.column("time").to_pylist()]
    assert got == expected_ms
    assert found.points.column("on_ground").to_pylist() == [p[3] == "ground" for p in doc["trace"]]
    assert found.points.column("baro_altitude_m")[0].as_py() == pytest.approx(32_000 * 0.3048)


def test_the_real_trace_has_its_four_legs_with_the_take_offs_and_landings_it_saw(real):
    """The trace (read off the file): cruise from Belize, landing at Minneapolis (row 723); a leg
    marker on the ground (770), take-off (888 is the first airborne point), out of coverage; a leg
    marker in the air near Spokane (1332), landing at Minneapolis (1749); a leg marker on the ground
    (1806), take-off (1970), landing at Denver (2492)."""
    doc, data = real
    found = read_trace(data, member_name("ac671b"), DAY, (-118.0, 16.0, -87.0, 48.0))
    assert found is not None
    legs = found.legs
    assert [leg.rows for leg in legs] == [range(0, 770), range(770, 1332), range(1332, 1806), range(1806, 2500)]
    assert [leg.takeoff and leg.takeoff.row for leg in legs] == [None, 887, None, 1969]
    assert [leg.landing and leg.landing.row for leg in legs] == [723, None, 1749, 2492]
    assert [leg.callsign for leg in legs] == ["DAL1812", "DAL2418", "DAL1615", "DAL2927"]
    trace = doc["trace"]
    for leg in legs:
        for ground in (leg.takeoff, leg.landing):
            if ground is not None:
                p = trace[ground.row]
                assert p[3] == "ground" and (ground.lat, ground.lon) == (p[1], p[2])
                assert ground.time == MIDNIGHT + timedelta(seconds=round(p[0] - trace[0][0] + 600.0, 2))
    assert legs[0].start == MIDNIGHT + timedelta(seconds=600)
    assert legs[3].landing is not None and round(legs[3].landing.lat, 1) == 39.9  # Denver


def test_the_real_trace_over_venezuela_is_none(real):
    _, data = real
    assert read_trace(data, member_name("ac671b"), DAY, SVZM) is None  # starts at 16.8 N, but 88 W


def test_a_trace_in_another_layout_is_parsed_not_skipped_and_its_points_outside_the_day_dropped():
    """The file as served live: points indented, ``timestamp`` = its first point (2025-02-04 21:13:42
    UTC). Nothing starts a line with "[", so the prefilter cannot judge it: it is parsed."""
    if not REAL.is_file():
        pytest.skip(f"{REAL} not present (../shared is optional)")
    doc = json.loads(REAL.read_bytes())
    day = date(2025, 2, 4)
    found = read_trace(REAL.read_bytes(), REAL.name, day, (-118.0, 16.0, -87.0, 48.0))
    assert found is not None
    seconds_left = 86_400 - (doc["timestamp"] % 86_400)
    in_day = sum(1 for p in doc["trace"] if p[0] < seconds_left)
    assert (found.points.num_rows, found.dropped) == (in_day, len(doc["trace"]) - in_day)
    assert found.points.column("time").to_pylist()[-1] < datetime(2025, 2, 5, tzinfo=UTC)


# --- synthetic traces ---------------------------------------------------------------------------------


def test_a_military_aircraft_is_flagged_by_db_flags_bit_one():
    pts = _air(36_000, SVMI, SVMC, 4)
    found = _read("0d0abc", pts, r="FAV0001", t="C130", db_flags=1, desc="LOCKHEED C-130 HERCULES")
    assert found is not None
    assert (found.registration, found.typecode, found.description) == ("FAV0001", "C130", "LOCKHEED C-130 HERCULES")
    assert (found.db_flags, found.military, found.no_db) == (1, True, False)
    ladd = _read("a00001", pts, r="N1", t="GLF5", db_flags=8)  # LADD only: not military
    assert ladd is not None and (ladd.db_flags, ladd.military) == (8, False)


def test_an_aircraft_without_database_facts_is_no_db():
    pts = _air(36_000, SVMI, SVMC, 4)
    marked = _read("0d0abd", pts, no_reg=True)
    bare = _read("0d0abe", pts)  # readsb without a database writes none of the keys
    reg_only = _read("0d0abf", pts, r="YV3000")  # readsb then writes dbFlags 0
    assert marked is not None and bare is not None and reg_only is not None
    assert (marked.no_db, marked.registration, marked.db_flags, marked.military) == (True, None, None, False)
    assert (bare.no_db, bare.db_flags) == (True, None)
    assert (reg_only.no_db, reg_only.registration, reg_only.db_flags) == (False, "YV3000", 0)


def test_a_non_icao_address_keeps_its_tilde():
    name, data = trace_member("~0d0abc", _air(36_000, SVMI, SVMC, 4), DAY)
    found = read_trace(data, name, DAY, SVZM)
    assert name == "traces/bc/trace_full_~0d0abc.json" and found is not None and found.icao24 == "~0d0abc"


def _two_legs() -> list[Point]:
    """Maiquetía to Maracaibo and back; readsb's leg marker in the middle of the time on the ground."""
    out = _ground(21_600, SVMI, 5, "VCV100")  # rows 0-4
    out += _air(21_900, SVMI, SVMC, 10, "VCV100")  # 5-14
    at_svmc = _ground(24_900, SVMC, 5, "VCV100")  # 15-19; the marker on row 17, the new callsign from it
    at_svmc[2:] = [
        Point(p.t, p.lat, p.lon, p.alt, p.gs, new_leg=k == 0, callsign="VCV101") for k, p in enumerate(at_svmc[2:])
    ]
    out += at_svmc
    out += _air(25_200, SVMC, SVMI, 10, "VCV101")  # 20-29
    return out + _ground(28_200, SVMI, 4, "VCV101")  # 30-33


def test_a_flight_out_and_back_is_two_legs_each_with_its_take_off_landing_and_callsign():
    pts = _two_legs()
    found = _read("0d0101", pts, r="YV3001", t="B735")
    assert found is not None
    first, second = found.legs
    assert (first.rows, second.rows) == (range(0, 17), range(17, 34))
    assert first.takeoff is not None and first.landing is not None
    assert second.takeoff is not None and second.landing is not None
    assert (first.takeoff.row, first.landing.row, second.takeoff.row, second.landing.row) == (4, 15, 19, 30)
    assert (first.takeoff.lon, first.takeoff.lat) == pytest.approx(SVMI)
    assert (first.landing.lon, first.landing.lat) == pytest.approx(SVMC)
    assert first.takeoff.time == MIDNIGHT + timedelta(seconds=pts[4].t)
    assert second.landing.time == MIDNIGHT + timedelta(seconds=pts[30].t)
    assert (first.start, first.end) == (MIDNIGHT + timedelta(seconds=pts[0].t), MIDNIGHT + timedelta(seconds=pts[16].t))
    assert (first.callsign, second.callsign) == ("VCV100", "VCV101")
    assert found.points.column("leg").to_pylist() == [0] * 17 + [1] * 17


def test_callsigns_are_forward_filled_from_every_fourth_point_within_a_leg():
    """Details (and so callsigns) are written on rows 0, 4, 8, ...: the rows between take the last one;
    a new leg (row 17) starts without one until its first details (row 20)."""
    found = _read("0d0101", _two_legs())
    assert found is not None
    assert found.points.column("callsign").to_pylist() == ["VCV100"] * 17 + [None] * 3 + ["VCV101"] * 14


def test_take_off_and_landing_skip_unknown_altitudes_and_ignore_a_stray_ground_point():
    alts: list[int | str | None] = ["ground", None, 3_000, 9_000, "ground", 9_000, None, "ground", "ground"]
    pts = [Point(40_000 + 60 * k, 10.0 + 0.01 * k, -66.0, a) for k, a in enumerate(alts)]
    found = _read("0d0102", pts)
    assert found is not None
    (leg,) = found.legs
    assert leg.takeoff is not None and leg.landing is not None and (leg.takeoff.row, leg.landing.row) == (0, 7)
    assert found.points.column("on_ground").to_pylist() == [True, None, False, False, True, False, None, True, True]


def test_a_leg_that_starts_and_ends_in_the_air_has_no_take_off_or_landing():
    found = _read("0d0103", _air(1_000, SVMI, SVMC, 6, "VCV200"))
    assert found is not None
    (leg,) = found.legs
    assert (leg.takeoff, leg.landing, leg.callsign) == (None, None, "VCV200")


def test_a_leg_marker_on_the_first_airborne_point_takes_the_take_off_from_the_ground_point_before_it():
    pts = [*_air(1_000, SVMC, SVMI, 3), *_ground(2_000, SVMI, 2)]  # rows 0-2 air, 3-4 ground
    pts.append(Point(3_000, SVMI[1] + 0.05, SVMI[0], 1_500, new_leg=True))  # row 5
    pts.append(Point(3_060, SVMI[1] + 0.10, SVMI[0], 4_000))
    found = _read("0d0104", pts)
    assert found is not None
    first, second = found.legs
    assert (first.rows, second.rows) == (range(0, 5), range(5, 7))
    assert first.takeoff is None and first.landing is not None and first.landing.row == 3
    assert second.takeoff is not None and second.takeoff.row == 4 and second.landing is None


def test_points_outside_the_day_are_dropped_and_counted():
    ts = [-30.0, 0.0, 3_600.0, 86_399.99, 86_400.0, 86_400.5]
    found = _read("0d0105", [Point(t, 10.0, -66.0, 30_000) for t in ts])
    assert found is not None and found.dropped == 3
    times = found.points.column("time").to_pylist()
    assert times == [MIDNIGHT, MIDNIGHT + timedelta(hours=1), MIDNIGHT + timedelta(seconds=86_399.99)]
    outside_only = _read("0d0106", [Point(-30.0, 10.0, -66.0, 30_000), Point(100.0, 40.0, -3.0, 30_000)])
    assert outside_only is None  # its only point over Venezuela is the day before


def test_altitudes_are_metres_and_a_geometric_one_is_not_a_baro_altitude():
    pts = [Point(100.0, 10.0, -66.0, 10_000), Point(160.0, 10.1, -66.0, 11_000, geometric=True)]
    found = _read("0d0107", pts)
    assert found is not None
    assert found.points.column("baro_altitude_m").to_pylist() == [pytest.approx(3_048.0), None]
    assert found.points.column("on_ground").to_pylist() == [False, False]


def test_a_point_on_the_box_edge_is_inside():
    west, south, east, north = SVZM
    for lon, lat in ((west, south), (east, north), (west, north), (east, south)):
        assert _read("0d0108", [Point(100.0, lat, lon, 30_000)]) is not None


# --- damaged members ----------------------------------------------------------------------------------


def test_a_damaged_member_is_a_trace_error_naming_it():
    name, data = trace_member("0d0109", _air(1_000, SVMI, SVMC, 6), DAY)
    bad_crc = data[:-8] + bytes(8)
    cases = {
        "cut short": data[: len(data) // 2],
        "not a gzip stream": bad_crc,
        "bytes follow the gzip stream": data + b"\x00junk",
        "neither gzip nor JSON": b"PK\x03\x04 a zip",
    }
    for reason, damaged in cases.items():
        with pytest.raises(TraceError, match=rf"^traces/09/trace_full_0d0109\.json: .*{reason}"):
            read_trace(damaged, name, DAY, SVZM)


def test_json_that_is_not_a_readsb_trace_is_a_trace_error_naming_it():
    line = b"\n[0.00,10.000000,-66.000000,1000"  # passes the prefilter
    for body, reason in (
        (b'{"icao":"0d0110","timestamp": 1.0,"trace":{}' + line + b"}", "not whole JSON"),
        (b'{"icao":"zz","timestamp": 1.0,"trace":[ ' + line + b"] ]}", "not six hex digits"),
        (b'{"icao":"0d0110","timestamp": 1764374400,"trace":[ ' + line[:-5] + b',"x",null,null,0] ]}', "not feet"),
        (b'{"icao":"0d0110","timestamp": 1764374400,"trace":[ \n[0.00,10.000000,-66.000000] ]}', "point 0"),
    ):
        with pytest.raises(TraceError, match=rf"^t\.json: .*{reason}"):
            read_trace(gzip.compress(body), "t.json", DAY, SVZM)
