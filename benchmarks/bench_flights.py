"""Benchmark: vzmon's flights per class against independent traffic seen through coverage holes.

Traffic (``tests/independent_traffic.py``, written apart from the demo's simulator): 14 days of
great-circle flights between real airports (domestic, international departures and arrivals,
overflights of SVZM, traffic in the ring only), a daily and weekly cycle, a day-to-day volume with
a coefficient of variation of 0.2, polled every 5 minutes by a feed with coverage holes (the sea
north of the coast, the south of the FIR, low altitudes around four interior airports) and a
6-hour feed outage, through vzmon's ingest into a SQLite store. The truth is each leg's class
(EUROCONTROL rule, from its true path) and when it entered SVZM.

Measured as the report measures (``tests/flight_truth.py``): positions from 6 h before to 6 h
after the 14 days, ``build_flights`` with the successful polls' times, ``hourly_flights`` (the
unknown class shared out), the hours with enough polls. Baseline, in the same process on the same
store: ``FlightRules(join_unseen=False)``, the rule before the coverage-hole issue (a flight ends
wherever it went unseen over 30 minutes of working polling). Candidate: the default rules, as the
report uses them.

Targets (the coverage-hole issue): flights per day per class within 10 % of the truth; under 2 % of
domestic flights classed departure or arrival; the first hour after the outage not inflated.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import machine, max_rss_mb

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2025, 11, 3, tzinfo=UTC)  # a Monday


def _build(tmp: Path, traffic: Any) -> tuple[Any, Path, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.independent_traffic import build_store

    return build_store(tmp, traffic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="build_flights timing repetitions")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from geo.airports import airport_table
    from monitor.analysis.flights import FLIGHT_CLASSES, FlightRules, build_flights
    from monitor.analysis.windows import Window
    from monitor.pipeline.shared import zone_set_for
    from tests.flight_truth import flight_rules, has_join_unseen, measure, read_span
    from tests.independent_traffic import Traffic

    outage_start = START + timedelta(days=args.days // 2, hours=8)  # 04:00-10:00 in Caracas, into the morning peak
    outage = (int(outage_start.timestamp()), int((outage_start + timedelta(hours=6)).timestamp()))
    traffic = Traffic(START, args.days, seed=args.seed, outages=(outage,))
    print(
        f"bench_flights: flights per class in SVZM against independent traffic, {args.days} days, "
        f"{traffic.interval_s // 60}-minute polls, coverage holes, a 6-hour feed outage"
    )
    print(f"  machine          {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=1) as pool:  # the generator's memory stays out of the peak below
            settings, db, truth = pool.submit(_build, Path(tmp), traffic).result()
        built = time.perf_counter() - started
        window = Window("measured", START, START + timedelta(days=args.days))
        span = read_span(settings, db, window)
        tracks, polls = span
        base_rules, cand_rules = flight_rules(join_unseen=False), FlightRules()
        base = measure(settings, db, truth, window, base_rules, traffic.outages, span)
        cand = measure(settings, db, truth, window, cand_rules, traffic.outages, span)
        zone_set = zone_set_for(settings)
        airports = airport_table(zone_set)
        ok_times = polls.loc[polls["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype("int64")
        times: dict[str, list[float]] = {"base": [], "cand": []}
        for _ in range(args.rounds):  # interleaved, so load on the machine hits both alike
            for key, rules in (("base", base_rules), ("cand", cand_rules)):
                t0 = time.perf_counter()
                build_flights(tracks, airports, zone_set.fir.code, rules, ok_times=ok_times)
                times[key].append(time.perf_counter() - t0)
    entered = truth["truth_class"].notna().sum()
    print(
        f"  traffic          {len(truth):,} legs in the polling box ({entered:,} entered SVZM), {len(polls):,} polls, "
        f"{len(tracks):,} positions; flown and stored in {built:.0f} s (in a child process)"
    )
    if not has_join_unseen():
        print(
            "  note             this vzmon's FlightRules has no join_unseen: baseline and candidate are the same rules"
        )
    print(f"  usable hours     {cand.hours} of {args.days * 24} (the outage's hours are gaps)")
    print(f"  {'class':<12} {'truth/day':>9}  {'join_unseen=False':>20}  {'default rules':>20}")
    met = True
    for name in FLIGHT_CLASSES:
        b, c = base.classes.loc[name], cand.classes.loc[name]
        print(
            f"  {name:<12} {c['truth_per_day']:9.1f}  {b['counted_per_day']:9.1f} ({b['error']:+6.1%})  "
            f"{c['counted_per_day']:9.1f} ({c['error']:+6.1%})"
        )
        met = met and abs(c["error"]) <= 0.10
    print(f"  unknown class    {base.unknown_share:.1%} -> {cand.unknown_share:.1%} of SVZM's flights (shared out)")
    print(
        f"  domestic         classed departure or arrival: {base.domestic_misclassified:.1%} -> "
        f"{cand.domestic_misclassified:.1%} of {cand.domestic:,} domestic legs"
    )
    print(
        f"  overflights      cut into two or more flights: {base.split.get('overflight', 0.0):.1%} -> "
        f"{cand.split.get('overflight', 0.0):.1%}"
    )
    met = met and cand.domestic_misclassified < 0.02
    for b_after, c_after in zip(base.outages, cand.outages, strict=True):
        print(
            f"  after outage     {c_after.hour:%H:%M}-{c_after.hour + timedelta(hours=1):%H:%M} UTC: "
            f"{c_after.truth} legs truly entered SVZM; counted {b_after.counted:.0f} -> {c_after.counted:.0f} "
            f"(other usable hours: median error {base.hourly_error:.0%} -> {cand.hourly_error:.0%})"
        )
        met = met and (c_after.counted != c_after.counted or c_after.counted <= c_after.truth * 1.3 + 2)
    b_ms, c_ms = statistics.median(times["base"]) * 1000, statistics.median(times["cand"]) * 1000
    print(
        f"  build_flights    default rules {c_ms:.0f} ms, join_unseen=False {b_ms:.0f} ms ({c_ms / b_ms:.2f}x; "
        f"median of {args.rounds}); {len(cand.flights):,} flights; peak RSS {max_rss_mb():.0f} MB (reading the store, "
        "building and measuring)"
    )
    print(
        "  targets (default rules: every class within 10 % of the truth, under 2 % of domestic flights classed "
        f"departure or arrival, the hour after the outage within 30 % + 2 of the truth): {'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
