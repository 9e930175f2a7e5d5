"""`vzmon report --source adsblol-archive` on backfilled days: the same report as on collected data,
civil counts with military aircraft apart, adsb.lol's ODbL notice on every chart and in the report,
cross-checks against published values, each day's health."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from tests.archive_builder import Flight, day_members, tar_bytes, write_parts

FIRST = date(2025, 11, 27)
DAYS = [FIRST + timedelta(days=i) for i in range(5)]  # 27 Nov - 1 Dec: the post of 29 Nov in the middle
POST_S = (date(2025, 11, 29) - FIRST).days * 86_400 + 14 * 3600 + 20 * 60  # its window ends 14:20Z
ODBL = "Contains information from adsb.lol globe_history (https://github.com/adsblol), which is made available here"


def _flights(day: date) -> list[Flight]:
    """A flight across SVZM every 20 min before the post, every hour after it; one military
    aircraft over the Caribbean each day from 10:00 to 16:00."""
    base = (day - FIRST).days * 86_400
    flights = []
    for k in range(72):
        t = k * 1200
        if base + t >= POST_S and k % 3:
            continue
        flights.append(Flight(0x0D1000 + k, t, min(t + 5400, 86_399), (8.0, -70.0), (8.5, -62.0), f"AVA{k:03d}"))
    flights.append(
        Flight(0xAE1000 + (day - FIRST).days, 36_000, 57_600, (13.0, -68.0), (13.2, -64.0), "RCH1", r="05-5140",
               t="C17", db_flags=1)
    )  # fmt: skip
    flights.append(Flight(0x0D2000, 3600, 7200, (6.0, -66.0), (6.5, -65.0), "NOREG", r=None, t=None, db_flags=None,
                          no_reg=True))  # fmt: skip
    # Caracas -> Barcelona at cruise in every slice: only the trace's ground points show it is domestic
    flights.append(Flight(0x0D3000, 46_800, 49_200, (10.60, -66.99), (10.11, -64.69), "VCV202", alt_ft=21_000,
                          takeoff=True, landing=True))  # fmt: skip
    return flights


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("archive")
    paths = []
    for day in DAYS:
        tag = f"v{day:%Y.%m.%d}-planes-readsb-prod-0"
        paths += write_parts(folder, tag, tar_bytes(day_members(day, _flights(day))))
    return folder


def test_report_on_backfilled_days_is_the_full_report_credited_to_adsblol_with_military_apart(
    backfilled, tmp_path, monkeypatch, capsys
):
    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("VZMON_DB", str(db))
    monkeypatch.setenv("VZMON_BACKFILL_WORKERS", "1")
    monkeypatch.setenv("VZMON_REPORT_MIN_DAYS", "1")  # two days a side: enough for a verdict here
    assert main(["backfill", "--archive", str(backfilled)]) == 0
    assert capsys.readouterr().out.count(" stored: ") == 5
    out_dir = tmp_path / "report"
    code = main([
        "report", "--event", "trump-post-airspace-closed", "--source", "adsblol-archive", "--days", "2",
        "--out", str(out_dir),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "visible to adsb.lol's archive" in md
    # the post cut traffic to a third: the verdict says it fell
    assert re.search(r"airborne.*SVZM.*-[5-7]\d%", md), md
    # credited to adsb.lol under the ODbL, in the report and under every chart (checked on the SVG text)
    assert ODBL in md and ODBL in html
    svgs = sorted(out_dir.glob("*.svg"))
    assert len(svgs) >= 7 and (out_dir / "military.png").is_file()
    for svg in svgs:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", svg.read_text(encoding="utf-8")))  # its text, lines joined
        assert "adsb.lol globe_history" in text and "Open Database License" in text, svg.name
    # civil counts, military apart, aircraft without a database entry said
    assert "## Civil and military (adsb.lol's archive)" in md
    assert re.search(r"Of the \d+ aircraft whose traces crossed the box in the windows, [1-9]\d* are military", md)
    assert re.search(r"\| before \| SVZM \| 3 \| [\d.]+ \| C17 x3 \|", md), md  # one a day, 27-29 Nov
    assert "1 had no database entry at all (counted as civil)" in md
    # the published value of 30 Nov 09:00Z beside this report's count then
    # (at 09:00 the flights that took off at 08:00 and 09:00 are airborne; the military one flies 10-16h)
    assert re.search(r"\| 2025-11-30 09:00 \| SVZM \| aircraft over Venezuela on a Flightradar24 screenshot.* \| 0 \| "
                     r"2 civil \+ 0 military \| 09:00:00 \|", md), md  # fmt: skip
    # the traces' take-off and landing make the Caracas - Barcelona flight domestic, each day
    assert re.search(r"\| flights \(flights per day\) \| SVZM \| domestic \| 1\.0 \| 1\.0 \|", md), md
    # the health of each day read
    for day in DAYS:
        if day < date(2025, 12, 2):
            assert re.search(rf"\| {day} \| v{day:%Y.%m.%d}-planes-readsb-prod-0 \| 0 \| \d+ \(", md), day


def test_a_report_on_collected_data_has_no_military_chart_nor_archive_tables(filled_store, tmp_path, monkeypatch):
    monkeypatch.setenv("VZMON_DB", str(filled_store))
    out_dir = tmp_path / "report"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out_dir)]) == 0
    md = (out_dir / "report.md").read_text(encoding="utf-8")
    assert "Civil and military" not in md and "Archive days read" not in md
    assert not (out_dir / "military.png").exists()


def test_flight_ends_are_placed_by_the_traces_take_offs_and_landings(zone_set):
    import pandas as pd

    from geo.airports import airport_table
    from monitor.analysis.archive import with_legs

    t0 = pd.Timestamp("2025-11-28 13:00", tz="UTC")
    flights = pd.DataFrame({
        "flight": [0, 1, 2], "icao24": ["0d0002", "0d0003", "0d0004"], "callsign": ["VCV202", "X", "Y"],
        "first_time": [t0, t0, t0], "last_time": [t0 + pd.Timedelta(minutes=40)] * 3,
        "start_airport": [None, None, None], "end_airport": [None, None, None],
        "start_in_fir": [False] * 3, "end_in_fir": [False] * 3, "in_fir": [True, True, True],
        "flight_class": ["overflight", "unknown", "overflight"],
    })  # fmt: skip
    legs = pd.DataFrame({
        "icao24": ["0d0002", "0d0003", "0d0004"],
        # CCS -> Barcelona, seen from 2 min after the take-off to 3 min before the landing
        "takeoff_time": [t0 - pd.Timedelta(minutes=2), t0 - pd.Timedelta(minutes=2), t0 - pd.Timedelta(hours=3)],
        "takeoff_lon": [-66.99, -66.99, -66.99], "takeoff_lat": [10.60, 10.60, 10.60],
        "landing_time": [t0 + pd.Timedelta(minutes=43), pd.NaT, pd.NaT],
        "landing_lon": [-64.69, None, None], "landing_lat": [10.11, None, None],
    })  # fmt: skip
    out = with_legs(flights, legs, airport_table(zone_set), 40.0)
    assert out.loc[0, "start_airport"] == "SVMI" and out.loc[0, "end_airport"] == "SVBC"
    assert out.loc[0, "flight_class"] == "domestic"
    assert out.loc[1, "start_airport"] == "SVMI" and out.loc[1, "flight_class"] == "unknown"  # its end is unknown
    assert out.loc[2, "start_airport"] is None and out.loc[2, "flight_class"] == "overflight"  # a take-off 3 h before
    assert flights.loc[0, "flight_class"] == "overflight"  # the input is not changed


def _military(rows: list[tuple[str, str, str, bool, str]]):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["time", "icao24", "zone", "on_ground", "typecode"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def test_military_rows_and_series_count_airborne_aircraft_per_snapshot_in_each_area():
    import pandas as pd

    from monitor.analysis.archive import military_hourly, military_rows
    from monitor.analysis.windows import Window

    t = pd.Timestamp("2025-11-28 10:00", tz="UTC")
    snapshots = pd.Series(pd.date_range(t, periods=4, freq="15min"))  # 10:00, 10:15, 10:30, 10:45
    military = _military([
        ("2025-11-28 10:00", "ae0001", "SVZM", False, "C17"), ("2025-11-28 10:15", "ae0001", "SVZM", False, "C17"),
        ("2025-11-28 10:15", "ae0002", "ring:TNCF", False, "P8"), ("2025-11-28 10:30", "ae0003", "SVZM", True, "C130"),
        ("2025-11-28 10:45", "ae0004", "outside", False, "KC135"),
    ])  # fmt: skip
    window = Window("before", t.to_pydatetime(), (t + pd.Timedelta(hours=1)).to_pydatetime())
    fir, ring = military_rows(military, snapshots, [window], "SVZM")
    assert (fir.area, fir.aircraft, fir.mean_airborne, fir.types) == ("SVZM", 1, 0.5, "C17 x1")  # on the ground: out
    assert (ring.area, ring.aircraft, ring.mean_airborne, ring.types) == ("ring", 1, 0.25, "P8 x1")
    hourly = military_hourly(military, snapshots, window.start, window.end + pd.Timedelta(hours=1), "SVZM")
    assert hourly["SVZM"].iloc[0] == 0.5 and hourly["ring"].iloc[0] == 0.25
    assert pd.isna(hourly["SVZM"].iloc[1])  # no snapshot in the second hour: a gap, not a zero


def test_a_cross_check_takes_the_snapshot_within_half_a_step_and_says_gap_when_there_is_none():
    import pandas as pd

    from monitor.analysis.archive import cross_checks
    from monitor.checks import Reference

    def ref(at: str) -> Reference:
        return Reference(pd.Timestamp(at, tz="UTC").to_pydatetime(), "SVZM", "airborne", 0, "FR24", "https://x")

    counts = pd.DataFrame({
        "time": pd.to_datetime(["2025-11-30 08:59", "2025-11-30 09:00", "2025-11-30 09:00", "2025-11-30 09:01"],
                               utc=True),
        "zone": ["SVZM", "SVZM", "ring:SKED", "SVZM"], "airborne": [7, 3, 9, 8],
    })  # fmt: skip
    military = _military([("2025-11-30 09:00", "ae0001", "SVZM", False, "C17")])
    start, end = (
        pd.Timestamp("2025-11-29", tz="UTC").to_pydatetime(),
        pd.Timestamp("2025-12-02", tz="UTC").to_pydatetime(),
    )
    at_nine, at_noon = cross_checks(
        [ref("2025-11-30 09:00:20"), ref("2025-11-30 12:00")], counts, military, start, end, 60
    )
    assert (at_nine.ours, at_nine.military, f"{at_nine.snapshot:%H:%M}") == (3, 1, "09:00")
    assert (at_noon.ours, at_noon.military, at_noon.snapshot) == (None, None, None)  # no snapshot near: a gap
    assert len(cross_checks([ref("2025-12-05 09:00")], counts, military, start, end, 60)) == 0  # outside the span
