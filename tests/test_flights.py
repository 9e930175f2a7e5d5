"""Flights: segmentation (gaps, callsigns, landings) and classes from airports and the altitude profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geo.airports import AirportTable, airport_table
from monitor.analysis.airlines import airline_of
from monitor.analysis.flights import FlightRules, build_flights
from monitor.analysis.tracks import Tracks

T0 = datetime(2025, 11, 20, 12, tzinfo=UTC)
SVMI = (-66.9906, 10.6031)
SVMG = (-63.9666, 10.9126)


def positions(rows, fence) -> pd.DataFrame:
    """rows: (minute, icao24, callsign, lon, lat, alt_m or None, on_ground, vertical_rate)."""
    df = pd.DataFrame(
        rows,
        columns=[
            "minute",
            "icao24",
            "callsign",
            "longitude",
            "latitude",
            "baro_altitude_m",
            "on_ground",
            "vertical_rate_mps",
        ],
    )
    df["time"] = [T0 + timedelta(minutes=m) for m in df.pop("minute")]
    df["time"] = pd.to_datetime(df["time"], utc=True)
    df["geo_altitude_m"] = df["baro_altitude_m"]
    df["stale"] = False
    df["callsign"] = df["callsign"].astype("string")
    df["on_ground"] = df["on_ground"].astype("boolean")
    df["baro_altitude_m"] = df["baro_altitude_m"].astype(float)
    df["geo_altitude_m"] = df["geo_altitude_m"].astype(float)
    df["vertical_rate_mps"] = df["vertical_rate_mps"].astype(float)
    df["zone"] = fence.categorical(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    return df


def line(icao, callsign, start_min, a, b, n, alt, ground=False, vr=0.0, step=5):
    return [
        (start_min + i * step, icao, callsign, a[0] + (b[0] - a[0]) * i / max(n - 1, 1),
         a[1] + (b[1] - a[1]) * i / max(n - 1, 1), None if ground else alt, ground, vr)
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def airports(zone_set):
    return airport_table(zone_set)


def test_domestic_flight_from_ground_to_ground(fence, airports):
    rows = [
        (0, "aaa001", "VCV100", *SVMI, None, True, None),
        *line("aaa001", "VCV100", 5, (-66.7, 10.65), (-64.3, 10.88), 6, 9000.0),
        (40, "aaa001", "VCV100", *SVMG, None, True, None),
    ]
    flights, entries = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    (f,) = flights.itertuples()
    assert (f.start_airport, f.end_airport, f.flight_class) == ("SVMI", "SVMG", "domestic")
    assert f.callsign == "VCV100" and f.airline == "VCV"
    assert set(entries["zone"].astype(str)) == {"SVZM"}


def test_overflight_departure_and_arrival(fence, airports):
    over = line("bbb001", "TAM8064", 0, (-70.0, 16.5), (-62.0, 2.0), 20, 11000.0)  # through SVZM at cruise
    dep = [
        (0, "bbb002", "CMP221", *SVMI, None, True, None),
        *line("bbb002", "CMP221", 10, (-67.8, 10.5), (-75.0, 9.6), 8, 10000.0, vr=0.0),
    ]
    arr = [
        *line("bbb003", "IBE6500", 0, (-59.0, 14.0), (-66.0, 10.9), 8, 10000.0),
        (45, "bbb003", "IBE6500", -66.8, 10.65, 900.0, False, -6.0),
    ]
    flights, _ = build_flights(Tracks.from_frame(positions(over + dep + arr, fence)), airports, "SVZM")
    by = flights.set_index("callsign")["flight_class"].to_dict()
    assert by == {"TAM8064": "overflight", "CMP221": "departure", "IBE6500": "arrival"}


def test_altitude_profile_places_an_end_sparse_polls_missed(fence, airports):
    """Last seen descending at 4,000 m 78 km north of Caracas: an arrival. Flying level there: not."""
    desc = [
        *line("ccc001", "CMP220", 0, (-70.0, 12.0), (-67.0, 11.35), 6, 10000.0),
        (35, "ccc001", "CMP220", -66.99, 11.3, 4000.0, False, -9.0),
    ]
    level = [
        *line("ccc002", "RUC700", 0, (-70.0, 12.0), (-67.0, 11.35), 6, 4000.0),
        (35, "ccc002", "RUC700", -66.99, 11.3, 4000.0, False, 0.0),
    ]
    flights, _ = build_flights(Tracks.from_frame(positions(desc + level, fence)), airports, "SVZM")
    by = flights.set_index("callsign")
    assert by.loc["CMP220", "end_airport"] == "SVMI" and by.loc["CMP220", "flight_class"] == "arrival"
    assert pd.isna(by.loc["RUC700", "end_airport"]) and by.loc["RUC700", "flight_class"] == "overflight"


def test_an_approach_last_heard_nearer_another_airport_ends_where_it_was_heading(fence, airports):
    """Puerto Ayacucho (SVPA) from the north, last heard descending through 2,800 m 7 km from Puerto
    Carreño (SKPC, Colombia) and 59 km short of SVPA: both fit the height, the track points at SVPA."""
    rows = [
        (0, "kkk001", "VCV300", *SVMI, None, True, None),
        *line("kkk001", "VCV300", 10, (-66.9, 10.0), (-67.56, 7.0), 8, 9000.0, step=5),
        (50, "kkk001", "VCV300", -67.56, 6.6, 5000.0, False, -8.0),
        (55, "kkk001", "VCV300", -67.56, 6.15, 2800.0, False, -8.0),
    ]
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    (f,) = flights.itertuples()
    assert (f.start_airport, f.end_airport, f.flight_class) == ("SVMI", "SVPA", "domestic")


@pytest.mark.parametrize("past_km", [0.0, 0.5, 1.5])
def test_a_low_end_just_past_an_airport_stays_there_whatever_lies_ahead(fence, airports, past_km):
    """San Antonio del Táchira (SVSA) and Cúcuta (SKCC, Colombia) are 12.5 km apart. An arrival last
    heard 150 m above SVSA, just past it on the line to SKCC, landed at SVSA: SKCC is ahead but
    farther than 150 m of height reaches."""
    ix = {c: i for i, c in enumerate(airports.icao)}
    sa = np.array([airports.lon[ix["SVSA"]], airports.lat[ix["SVSA"]]])
    cc = np.array([airports.lon[ix["SKCC"]], airports.lat[ix["SKCC"]]])
    u = (cc - sa) / np.linalg.norm(cc - sa)
    elev = float(airports.elevation_m[ix["SVSA"]])
    rows = [
        (0, "lll001", "VCV500", *SVMI, None, True, None),
        *line("lll001", "VCV500", 10, (-67.5, 9.5), (-71.0, 8.2), 6, 9000.0, step=8),
        (60, "lll001", "VCV500", *(sa - u * 0.03), elev + 300, False, -4.0),
        (61, "lll001", "VCV500", *(sa + u * past_km / 111.0), elev + 150, False, -4.0),
    ]
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    assert flights[["end_airport", "flight_class"]].values.tolist() == [["SVSA", "domestic"]]


def test_without_airports_every_end_is_at_none(fence, airports):
    empty = AirportTable(*(np.zeros(0, dtype=a.dtype) for a in (airports.icao, airports.lon, airports.lat,
                                                                airports.elevation_m, airports.in_fir)))  # fmt: skip
    rows = line("mmm001", "TAM8064", 0, (-70.0, 16.5), (-62.0, 2.0), 20, 11000.0)
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), empty, "SVZM")
    assert flights[["start_airport", "end_airport", "flight_class"]].values.tolist() == [[None, None, "overflight"]]


def test_gap_over_30_minutes_starts_a_new_flight(fence, airports):
    """Unseen for 31 minutes and reappearing where its speed (about 300 m/s) does not take it: a new flight."""
    rows = line("ddd001", "AAL930", 0, (-66.0, 14.0), (-65.0, 9.0), 4, 11000.0, step=10)
    rows += line("ddd001", "AAL930", 31 + 30, (-64.0, 6.0), (-63.0, 3.0), 3, 11000.0, step=10)
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    assert len(flights) == 2


def _epoch(minutes):
    return np.array([int((T0 + timedelta(minutes=m)).timestamp()) for m in minutes], dtype=np.int64)


def test_a_feed_outage_does_not_split_a_flight_but_a_real_absence_does(fence, airports):
    """Polls every 10 min; 40 min of failed polls while the aircraft flew on is one flight. The same
    40 min without the aircraft while polls kept succeeding (and a reappearance its speed does not
    explain) is two."""
    rows = line("ddd002", "AAL931", 0, (-66.0, 14.0), (-65.0, 9.0), 4, 11000.0, step=10)  # 0..30
    rows += line("ddd002", "AAL931", 70, (-64.0, 6.0), (-63.0, 3.0), 3, 11000.0, step=10)  # 70..90
    tracks = Tracks.from_frame(positions(rows, fence))
    outage = _epoch([-10, 0, 10, 20, 30, 70, 80, 90, 100])  # no successful poll from 30 to 70
    working = _epoch(range(-10, 110, 10))
    one, _ = build_flights(tracks, airports, "SVZM", ok_times=outage)
    two, _ = build_flights(tracks, airports, "SVZM", ok_times=working)
    assert (len(one), len(two)) == (1, 2)
    assert one["flight_class"].tolist() == ["overflight"]


def test_an_end_in_a_polling_hole_is_unknown_not_guessed(fence, airports):
    """First seen at cruise right after 40 min without a successful poll: it may have taken off from
    Caracas unseen, so it is neither an arrival nor an overflight. With polls all along it is an arrival."""
    rows = [
        *line("eee001", "AVA70", 40, (-66.0, 12.0), (-66.6, 10.8), 3, 9000.0, step=10),  # 40..60, cruise
        (70, "eee001", "AVA70", *SVMI, None, True, None),  # landed at Maiquetía
    ]
    tracks = Tracks.from_frame(positions(rows, fence))
    holed, _ = build_flights(tracks, airports, "SVZM", ok_times=_epoch([0, 40, 50, 60, 70, 80]))
    steady, _ = build_flights(tracks, airports, "SVZM", ok_times=_epoch(range(0, 90, 10)))
    assert holed["flight_class"].tolist() == ["unknown"] and steady["flight_class"].tolist() == ["arrival"]


def _crossing(callsign_after="AAL932", hole=(30, 75)):
    """An overflight at a steady ~250 m/s (every 10 min), unseen over a coverage hole from ``hole[0]``
    to ``hole[1]`` minutes while polls kept succeeding."""
    start, end = (-66.0, 15.0), (-66.0, 1.5)  # due south through SVZM, 1,500 km in 100 minutes
    rows = []
    for m in range(0, 101, 10):
        if hole[0] < m < hole[1]:
            continue
        lat = start[1] + (end[1] - start[1]) * m / 100
        rows.append((m, "ggg001", "AAL932" if m <= hole[0] else callsign_after, start[0], lat, 11000.0, False, 0.0))
    return rows


def test_a_crossing_of_a_coverage_hole_consistent_with_its_speed_is_one_flight(fence, airports):
    tracks = Tracks.from_frame(positions(_crossing(), fence))
    working = _epoch(range(-10, 120, 10))
    joined, entries = build_flights(tracks, airports, "SVZM", ok_times=working)
    assert len(joined) == 1 and joined["flight_class"].tolist() == ["overflight"]
    assert (entries["zone"].astype(str) == "SVZM").sum() == 1  # entered the FIR once, not twice
    split, _ = build_flights(tracks, airports, "SVZM", FlightRules(join_unseen=False), ok_times=working)
    assert len(split) == 2  # the old rule: two overflights


def test_an_unseen_stretch_is_not_joined_without_the_callsign_or_beyond_the_longest_join(fence, airports):
    """The callsign is the evidence it is the same leg: reappearing without one (not yet received)
    is not joined; nor is a stretch longer than ``join_max_s``."""
    rows = _crossing()
    rows = [(m, icao, None if m > 75 and m < 90 else cs, *rest) for m, icao, cs, *rest in rows]
    unnamed, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    tracks = Tracks.from_frame(positions(_crossing(), fence))
    too_long, _ = build_flights(tracks, airports, "SVZM", FlightRules(join_max_s=40 * 60))  # the hole is 50 min
    assert (len(unnamed), len(too_long)) == (2, 2)


def test_a_landing_and_new_take_off_unseen_in_a_hole_stays_two_flights(fence, airports):
    """Same callsign on both sides, but 50 minutes for 60 km: it stopped somewhere, it did not fly on."""
    rows = line("hhh001", "VCV100", 0, (-66.0, 10.8), (-64.5, 10.9), 4, 3000.0, step=5)  # ~220 m/s
    rows += line("hhh001", "VCV100", 65, (-64.0, 10.9), (-62.5, 10.5), 4, 3000.0, step=5)
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    assert len(flights) == 2


def test_flights_entering_during_a_feed_outage_are_spread_over_it_not_piled_after_it(fence, airports):
    """Polls fail from minute 10 to 250; twenty overflights first seen in SVZM at the first poll after
    the outage entered at unknown moments during it. A departure seen climbing out of Maiquetía at that
    poll took off just before it: its entry stays."""
    rows = []
    for k in range(20):
        rows += line(f"iii{k:03d}", f"TAM{k}", 250, (-64.0 - 0.1 * k, 9.0), (-64.0 - 0.1 * k, 7.0), 3, 11000.0, step=10)
    rows += line("jjj001", "VCV200", 250, (-67.0, 10.7), (-66.0, 10.2), 3, 1200.0, vr=8.0, step=10)
    ok = _epoch([0, 10, *range(250, 300, 10)])
    _, entries = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM", ok_times=ok)
    fir = entries[entries["zone"].astype(str) == "SVZM"].set_index("aircraft")
    outage = (pd.Timestamp(T0 + timedelta(minutes=10)), pd.Timestamp(T0 + timedelta(minutes=250)))
    over = fir[fir["time_estimated"]]
    assert len(over) == 20 and over["time"].between(*outage).all()
    hours = over["time"].dt.floor("h").value_counts()
    assert len(hours) >= 4 and hours.max() <= 7  # spread over the outage's four hours, none piled in one
    departure = fir[~fir["time_estimated"]]
    assert departure["time"].tolist() == [pd.Timestamp(T0 + timedelta(minutes=250))]


def test_new_callsign_splits_but_a_missing_one_does_not(fence, airports):
    rows = line("eee001", "VCV100", 0, (-66.0, 10.0), (-65.0, 10.0), 4, 9000.0)
    rows[2] = (*rows[2][:2], None, *rows[2][3:])  # callsign not received on one position
    rows += line("eee001", "VCV101", 20, (-65.0, 10.0), (-64.0, 10.0), 4, 9000.0)
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    assert flights["callsign"].tolist() == ["VCV100", "VCV101"]


def test_takeoff_after_a_landing_starts_a_new_flight(fence, airports):
    rows = [
        *line("fff001", "VCV100", 0, (-66.0, 10.8), (-64.3, 10.9), 4, 3000.0),
        (20, "fff001", "VCV100", *SVMG, None, True, None),
        (25, "fff001", "VCV100", *SVMG, None, True, None),
        *line("fff001", "VCV100", 30, (-64.3, 10.9), (-66.0, 10.8), 4, 3000.0),
    ]
    flights, _ = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    assert len(flights) == 2
    assert flights.loc[0, "end_airport"] == "SVMG" and flights.loc[1, "start_airport"] == "SVMG"


def test_stale_missing_and_ground_only_positions_make_no_flight(fence, airports):
    rows = [
        (0, "ggg001", "VCV1", *SVMI, None, True, None),
        (5, "ggg001", "VCV1", *SVMI, None, True, None),
        (0, "ggg002", "VCV2", np.nan, np.nan, 9000.0, False, 0.0),
        *line("ggg003", "VCV3", 0, (-66.0, 10.0), (-65.0, 10.0), 3, 9000.0),
    ]
    df = positions(rows, fence)
    df.loc[df["icao24"] == "ggg003", "stale"] = True
    flights, entries = build_flights(Tracks.from_frame(df), airports, "SVZM")
    assert flights.empty and entries.empty


def test_ring_flights_are_not_classed(fence, airports):
    rows = line("hhh001", "BWA400", 0, (-61.3, 10.6), (-60.5, 12.0), 5, 7000.0)
    flights, entries = build_flights(Tracks.from_frame(positions(rows, fence)), airports, "SVZM")
    (f,) = flights.itertuples()
    assert not f.in_fir and f.flight_class is None
    assert set(entries["zone"].astype(str)) == {"ring:TTZP"}


@pytest.mark.parametrize(
    ("callsign", "designator"),
    [("VCV2210", "VCV"), ("CMP222  ", "CMP"), ("YV3016", None), ("N123AB", None), (None, None), ("SVA11", "SVA")],
)
def test_airline_designator_from_callsign(callsign, designator):
    assert airline_of(callsign) == designator
