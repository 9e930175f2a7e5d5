"""``vzmon plan``: credits per poll, and how often each account type can afford one."""

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
        help="credits per poll and the shortest sustainable interval per account type",
        description="Show the credit cost of one /states/all call for the configured zones, and for each account "
        "type the polls per day and the shortest interval the daily credits sustain.",
        epilog="example:\n  vzmon plan",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.plan import plan

    report = plan(settings)
    b = report.box
    if args.json:
        doc = {
            "polling_box": {**b.opensky_params(), "area_sq_deg": round(b.area_sq_deg, 2)},
            "credits_per_poll": report.credits_per_poll,
            "budget_share": settings.opensky_budget_share,
            "accounts": [r.__dict__ for r in report.rows],
            "account_in_force": report.account_in_force,
            "interval_in_force_s": report.interval_in_force_s,
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
    if report.warning:
        print(f"warning: {report.warning}")
    return EXIT_OK
