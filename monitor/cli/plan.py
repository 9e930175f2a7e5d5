"""``vzmon plan``: credits per poll and how often each account type can afford one; the circles
adsb.lol and adsb.fi are asked for, a sweep's duration and the requests a day at a cadence."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="credits per poll, sustainable intervals, and the circles and requests a day of adsb.lol and adsb.fi",
        description="Show the credit cost of one /states/all call for the configured zones, and for each account "
        "type the polls per day and the shortest interval the daily credits sustain. Then the fewest circles "
        "(250 NM at most) that cover the zones, which adsb.lol and adsb.fi are asked for one at a time, how long "
        "a sweep takes at their spacing, and what each source costs a day at one poll every --every seconds.",
        epilog="examples:\n  vzmon plan\n  vzmon plan --every 600 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--every", type=_seconds, default=300, metavar="SECONDS",
        help="the cadence the per-day figures assume (default 300: cron every 5 minutes)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if not 10 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"--every must be 10 to 86400 seconds, got {text}")
    return value


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.plan import plan

    report = plan(settings, args.every)
    b = report.box
    if args.json:
        doc = {
            "polling_box": {**b.opensky_params(), "area_sq_deg": round(b.area_sq_deg, 2)},
            "credits_per_poll": report.credits_per_poll,
            "budget_share": settings.opensky_budget_share,
            "accounts": [r.__dict__ for r in report.rows],
            "account_in_force": report.account_in_force,
            "interval_in_force_s": report.interval_in_force_s,
            "every_s": report.every_s,
            "opensky_credits_per_day": report.opensky_credits_per_day,
            "readsb": [s.__dict__ for s in report.sweeps],
            "warning": report.warning,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"polling box  {b}: {b.area_sq_deg:.1f} sq°, {report.credits_per_poll} credits per /states/all call")
    print(f"budget       {settings.opensky_budget_share:.0%} of the daily credits (opensky.budget_share)")
    print()
    print(f"{'account':<11} {'credits/day':>11} {'polls/day':>10} {'shortest interval':>18}")
    for r in report.rows:
        shortest = f"{r.min_interval_s:>16.0f} s" if r.min_interval_s is not None else f"{'not one poll':>18}"
        print(f"{r.account:<11} {r.daily_credits:>11,} {r.polls_per_day:>10,} {shortest}")
    print()
    print(f"in force     {report.account_in_force} account, watch polls every {report.interval_in_force_s:.0f} s")
    print()
    per_day = 86_400 // report.every_s if 86_400 % report.every_s == 0 else f"{86_400 / report.every_s:.0f}"
    print(f"at one poll every {report.every_s} s ({per_day} a day):")
    print(f"  opensky  {report.opensky_credits_per_day:,} credits a day")
    for sweep in report.sweeps:
        polled = "" if sweep.configured else "  (not in collect.sources)"
        print(
            f"  {sweep.source:<8} {len(sweep.circles)} requests a sweep, one every {sweep.spacing_s:g} s: at least "
            f"{sweep.sweep_s:g} s a sweep, {sweep.requests_per_day:,} requests a day, no credits{polled}"
        )
    if report.sweeps:
        print(f"circles      {len(report.sweeps[0].circles)} of at most 250 NM cover the zones:")
        for circle in report.sweeps[0].circles:
            print(f"  {circle}")
    if report.warning:
        print(f"warning: {report.warning}")
    return EXIT_OK
