"""``vzmon demo``: simulated November 2025 traffic in its own store, then its report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import Bar

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="simulate November 2025 into a separate store and report on it (no account needed)",
        description="Fill a separate store (demo.db) with SIMULATED traffic around the November 2025 events: "
        "domestic routes, international arrivals and departures, overflights on real corridors, a daily cycle, "
        "the airline suspensions of 22-26 Nov and the 29 Nov post cutting overflights. The simulated replies go "
        "through the same ingest path as real polls, then the report runs. Everything is marked SIMULATED.",
        epilog="examples:\n  vzmon demo\n  vzmon demo --overflight-drop 0.9 --interval 300",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--interval", type=float, default=600.0, metavar="SECONDS", help="simulated poll interval")
    p.add_argument(
        "--overflight-drop",
        type=float,
        default=0.7,
        metavar="SHARE",
        help="share of overflights that stop after the 29 Nov post (default 0.7)",
    )
    p.add_argument(
        "--event",
        action="append",
        metavar="ID",
        help="event to report on (repeatable; default trump-post-airspace-closed)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.demo import run_demo

    result = run_demo(
        settings,
        interval_s=args.interval,
        overflight_drop=args.overflight_drop,
        events=tuple(args.event),
        progress=Bar,
    )
    print(
        f"demo: {result.polls:,} simulated polls ({result.gaps} failed on purpose: gaps), "
        f"{result.positions:,} positions in {result.db} (SIMULATED DATA)"
    )
    for rep in result.reports:
        print()
        for line in rep.headline:
            print(line)
        print(f"report: {rep.files['html']}")
    return EXIT_OK
