"""Flights per hour and distinct aircraft per day, counted by hand on small tables: the numeric
paths in ``analysis.hourly`` (a year's report has millions of entries) give the counts a reader
would make."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from monitor.analysis.hourly import daily_unique_aircraft, hourly_flights
from monitor.analysis.windows import Window

ZONES = ["SVZM", "ring:SKED"]


def _entries(rows: list[tuple[int, int, str, str, str]]) -> pd.DataFrame:
    """(flight, aircraft, zone, first time, last time) rows as ``build_flights`` returns entries."""
    flight, aircraft, zone, first, last = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "flight": np.array(flight, dtype=np.int64),
            "aircraft": np.array(aircraft, dtype=np.int32),
            "zone": pd.Categorical(zone, categories=[*ZONES, "ring:TTZP"]),
            "time": pd.to_datetime(list(first), utc=True),
            "time_estimated": False,
            "last_time": pd.to_datetime(list(last), utc=True),
        }
    )


def _flights(classes: dict[int, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"flight": list(classes), "flight_class": list(classes.values())})


def test_flights_per_hour_by_zone_and_class() -> None:
    window = Window("before", datetime(2025, 11, 1, 10, 30, tzinfo=UTC), datetime(2025, 11, 1, 14, 0, tzinfo=UTC))
    entries = _entries(
        [
            (0, 0, "SVZM", "2025-11-01 10:45", "2025-11-01 11:30"),  # the partial first hour: not an hour
            (1, 1, "SVZM", "2025-11-01 11:05", "2025-11-01 12:00"),
            (1, 1, "ring:SKED", "2025-11-01 11:10", "2025-11-01 11:20"),
            (2, 2, "SVZM", "2025-11-01 11:59", "2025-11-01 12:30"),
            (3, 3, "SVZM", "2025-11-01 12:00", "2025-11-01 12:30"),
            (4, 4, "SVZM", "2025-11-01 12:10", "2025-11-01 12:40"),
            (5, 5, "ring:TTZP", "2025-11-01 12:20", "2025-11-01 12:50"),  # a zone not asked for
            (6, 6, "SVZM", "2025-11-01 14:00", "2025-11-01 14:10"),  # at the window's end: outside
        ]
    )
    flights = _flights(
        {0: "domestic", 1: "overflight", 2: "arrival", 3: "unknown", 4: "arrival", 5: None, 6: "domestic"}
    )
    table = hourly_flights(entries, flights, window, ZONES, "SVZM")
    hours = pd.date_range("2025-11-01 11:00", periods=3, freq="h", tz="UTC")
    assert list(table.index) == list(hours)
    assert table["SVZM"].tolist() == [2.0, 2.0, 0.0]
    assert table["ring:SKED"].tolist() == [1.0, 0.0, 0.0]
    assert table["SVZM:overflight"].tolist() == [1.0, 0.0, 0.0]
    assert table["SVZM:arrival"].tolist()[0] == 1.0
    # 12:00: one arrival classed of two flights (one unknown): scaled up by the classed share
    assert table["SVZM:arrival"].tolist()[1] == 2.0
    assert table["SVZM:unknown"].tolist() == [0.0, 1.0, 0.0]
    assert table.loc[hours[2]].drop("SVZM:unknown").isna().sum() == 0  # an hour with no flight: zeros


def test_an_hour_mostly_unknown_is_a_gap_for_the_classes() -> None:
    window = Window("after", datetime(2025, 11, 2, tzinfo=UTC), datetime(2025, 11, 2, 2, tzinfo=UTC))
    entries = _entries(
        [
            (0, 0, "SVZM", "2025-11-02 00:10", "2025-11-02 00:20"),
            (1, 1, "SVZM", "2025-11-02 00:15", "2025-11-02 00:50"),
            (2, 2, "SVZM", "2025-11-02 01:15", "2025-11-02 01:50"),
        ]
    )
    table = hourly_flights(entries, _flights({0: "unknown", 1: "domestic", 2: "departure"}), window, ZONES, "SVZM")
    assert table["SVZM"].tolist() == [2.0, 1.0]
    assert table["SVZM:domestic"].tolist() == [2.0, 0.0]  # half classed: kept, doubled
    assert table["SVZM:departure"].tolist() == [0.0, 1.0]
    entries = _entries([(0, 0, "SVZM", "2025-11-02 00:10", "2025-11-02 00:20")])
    table = hourly_flights(entries, _flights({0: "unknown"}), window, ZONES, "SVZM")
    assert np.isnan(table.loc[:, "SVZM:domestic"].iloc[0])  # none classed: no value, never a zero


def test_no_entries_gives_zero_hours() -> None:
    window = Window("after", datetime(2025, 11, 2, tzinfo=UTC), datetime(2025, 11, 2, 3, tzinfo=UTC))
    empty = _entries([(0, 0, "SVZM", "2025-11-01 00:10", "2025-11-01 00:20")]).iloc[:0]
    table = hourly_flights(empty, _flights({}), window, ZONES, "SVZM")
    assert table.shape == (3, len(ZONES) + 5) and (table[ZONES].to_numpy() == 0).all()


def test_distinct_aircraft_per_day() -> None:
    window = Window("before", datetime(2025, 11, 1, 6, tzinfo=UTC), datetime(2025, 11, 5, 6, tzinfo=UTC))
    entries = _entries(
        [
            (0, 7, "SVZM", "2025-11-02 08:00", "2025-11-02 09:00"),
            (1, 7, "SVZM", "2025-11-02 15:00", "2025-11-02 16:00"),  # the same aircraft again that day: once
            (2, 8, "SVZM", "2025-11-02 23:30", "2025-11-03 00:40"),  # across midnight: on both days
            (3, 8, "ring:SKED", "2025-11-03 01:00", "2025-11-03 01:30"),
            (4, 9, "SVZM", "2025-11-01 07:00", "2025-11-01 08:00"),  # the partial first day: not a day
            (5, 9, "SVZM", "2025-10-31 22:00", "2025-11-02 01:00"),  # began before the window
            (6, 10, "ring:TTZP", "2025-11-03 10:00", "2025-11-03 11:00"),  # a zone not asked for
            (7, 11, "SVZM", "2025-11-04 10:00", "2025-11-04 11:00"),  # a day without coverage
        ]
    )
    hours = pd.date_range("2025-11-01 06:00", "2025-11-05 05:00", freq="h", tz="UTC")
    coverage = pd.Series(1.0, index=hours)
    coverage[
        (hours >= pd.Timestamp("2025-11-04 05:00", tz="UTC")) & (hours < pd.Timestamp("2025-11-04 06:00", tz="UTC"))
    ] = 0.2
    table = daily_unique_aircraft(entries, window, ZONES, coverage)
    days = pd.date_range("2025-11-02", periods=3, freq="D", tz="UTC")
    assert list(table.index) == list(days)
    assert table["SVZM"].tolist()[:2] == [3.0, 1.0]  # 7, 8 and 9 on the 2nd; 8 on the 3rd
    assert table["ring:SKED"].tolist()[:2] == [0.0, 1.0]
    assert table.loc[days[2]].isna().all()  # an hour under the minimum coverage: the day is a gap
