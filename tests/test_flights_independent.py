"""vzmon's flight counts per class against independent traffic (``tests/independent_traffic.py``):
great-circle flights between real airports, a feed with coverage holes and a feed outage, polled
every 5 minutes for 4 days, through the real ingest path into a SQLite store.

The targets come from the coverage-hole issue: flights per day per class within 10 % of the truth,
under 2 % of domestic flights classed departure or arrival, and the first hour after a feed
outage not inflated by the flights that entered the FIR while the feed was out. The numbers are
measured as the report measures them (``tests/flight_truth.py``), with the report's rules;
``benchmarks/bench_flights.py`` measures them over 14 days against the rule before the issue.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from monitor.analysis.flights import FLIGHT_CLASSES, FlightRules
from monitor.analysis.windows import Window
from monitor.sources.opensky.parse import parse_states
from tests.conftest import shared_file
from tests.flight_truth import Measured, measure
from tests.independent_traffic import Traffic, build_store, fly

pytestmark = pytest.mark.slow

START = datetime(2025, 11, 3, tzinfo=UTC)  # a Monday
DAYS = 4
OUTAGE_START = START + timedelta(days=1, hours=10)  # 06:00-09:00 in Caracas, traffic rising
OUTAGE = (int(OUTAGE_START.timestamp()), int((OUTAGE_START + timedelta(hours=3)).timestamp()))


@dataclass(frozen=True, repr=False)
class Run:
    traffic: Traffic
    truth: pd.DataFrame
    measured: Measured
    db: Path

    @property
    def legs(self) -> pd.DataFrame:
        """Legs that entered the FIR inside the measured days."""
        t0, t1 = self.traffic.window
        t = self.truth
        return t[t["truth_class"].notna() & (t["entry_time"] >= t0) & (t["entry_time"] < t1)]

    def summary(self) -> str:
        m = self.measured
        return (
            f"\n{m.classes.round(3).to_string()}\ndomestic misclassed {m.domestic_misclassed}/{m.domestic}; "
            f"split {m.split.round(3).to_dict()}; unknown {m.unknown_share:.1%}; after outage "
            f"{[(str(o.hour), o.counted, o.truth) for o in m.outages]}"
        )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("independent")
    traffic = Traffic(START, DAYS, outages=(OUTAGE,))
    settings, db, truth = build_store(tmp, traffic)
    window = Window("measured", START, START + timedelta(days=DAYS))
    return Run(traffic, truth, measure(settings, db, truth, window, FlightRules(), traffic.outages), db)


# --- the generator is what it claims -------------------------------------------------------


def test_truth_has_every_class_and_traffic_that_never_enters_the_fir(run: Run) -> None:
    classes = run.truth["truth_class"].value_counts(dropna=False)
    for name in FLIGHT_CLASSES:
        assert classes.get(name, 0) >= 20 * DAYS, classes
    assert run.truth["truth_class"].isna().sum() >= 10 * DAYS, classes


def test_coverage_holes_hide_many_overflights_for_over_30_minutes_inside_the_fir(run: Run) -> None:
    over = run.legs[run.legs["truth_class"] == "overflight"]
    hidden = over["longest_unseen_fir_s"]
    assert (hidden > 1800).mean() >= 0.2, hidden.describe()
    assert hidden.max() <= 90 * 60, hidden.describe()


def test_the_same_airframe_flies_several_legs_a_day_under_fresh_callsigns(run: Run) -> None:
    legs = run.truth
    assert legs["callsign"].is_unique
    per_day = legs.groupby([legs["icao24"], legs["takeoff"] // 86_400]).size()
    assert (per_day >= 2).mean() > 0.3, per_day.describe()


def test_replies_have_the_fields_and_types_of_a_real_opensky_capture() -> None:
    real = json.loads(shared_file("data", "real", "aerospacefunnel", "opensky_states.json").read_text("utf-8"))
    flown = fly(Traffic(START, 1, interval_s=1800))
    docs = [doc for _, doc in flown.polls if doc is not None]
    rows = [row for doc in docs for row in doc["states"]]
    assert rows and all(len(row) == 18 for row in rows)  # extended=1 adds the category

    def kinds(values: list[object]) -> set[str]:
        return {
            "number" if isinstance(v, int | float) and not isinstance(v, bool) else type(v).__name__ for v in values
        }

    for i in range(17):
        ours, theirs = kinds([r[i] for r in rows]), kinds([r[i] for r in real["states"]])
        assert ours <= theirs, (i, ours, theirs)
    assert all(len(row[1]) == 8 for row in rows)  # callsigns padded to 8 characters
    for doc in docs:
        parsed = parse_states(doc)
        assert parsed.malformed_rows == 0 and parsed.fields_per_row == 18


# --- the targets --------------------------------------------------------------------


@pytest.mark.parametrize("flight_class", FLIGHT_CLASSES)
def test_flights_per_day_per_class_within_10_percent_of_the_truth(run: Run, flight_class: str) -> None:
    error = float(run.measured.classes["error"].loc[flight_class])
    assert abs(error) <= 0.10, run.summary()


def test_overflights_across_a_coverage_hole_are_one_flight(run: Run) -> None:
    assert run.measured.split.get("overflight", 0.0) <= 0.02, run.summary()


def test_domestic_flights_are_rarely_classed_departure_or_arrival(run: Run) -> None:
    assert run.measured.domestic_misclassified < 0.02, run.summary()


def test_first_hour_after_a_feed_outage_is_not_inflated(run: Run) -> None:
    (after,) = run.measured.outages
    # Over the other usable hours vzmon's hourly count is off by about 10 % (median): allow 3x that
    # and 2 flights. Without the outage handling, every flight that entered while the feed was out
    # and was still in the FIR after it would be counted here.
    assert not math.isnan(after.counted), "the hour after the outage must be usable"
    assert after.counted <= after.truth * 1.3 + 2, run.summary()
    assert run.measured.hourly_error <= 0.2, run.summary()
