"""``vzmon report``: traffic before vs after an event, with 95 % intervals, charts and a report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import Bar, utc_arg

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="compare traffic before and after an event; write charts and a report",
        description="Compare traffic in a window before an event with a window after it (report.window_days each "
        "side, cut at neighbouring events; the event's uncertainty window left out), matched on hour of the week, "
        "with 95%% intervals. Writes outputs/reports/<event-id>/: report.md, report.html (self-contained), "
        "metrics.csv and the charts (PNG and SVG).",
        epilog="examples:\n  vzmon report --event trump-post-airspace-closed\n"
        "  vzmon report --event faa-kicz-a0012-25-svzm --days 14\n"
        "  vzmon report --event trump-post-airspace-closed --baseline-weeks 4\n"
        "  vzmon report --event us-strikes-caracas --from 2025-12-20 --to 2026-01-20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--event", required=True, metavar="ID", help="event id (see `vzmon events`)")
    p.add_argument(
        "--days",
        type=float,
        metavar="N",
        help="days on each side (default report.window_days); with --baseline-weeks, days after only",
    )
    p.add_argument(
        "--from",
        dest="start",
        type=utc_arg,
        metavar="TIME",
        help="start of the before window (ISO 8601 UTC); nothing is cut when given",
    )
    p.add_argument(
        "--baseline-weeks",
        type=int,
        metavar="N",
        help="compare with the same hours of the week over the N weeks before the event, weeks as the units of "
        "noise (2-52; 0 = off; default report.baseline_weeks)",
    )
    p.add_argument(
        "--source",
        metavar="NAME",
        help="the source to read: opensky, adsblol, adsbfi, or combined (demo for the demo's store); default: "
        "the combined view when collect.sources names several, else the configured source",
    )
    p.add_argument("--to", dest="end", type=utc_arg, metavar="TIME", help="end of the after window")
    p.add_argument("--out", metavar="DIR", help="folder for the report (default outputs/reports/<event-id>)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.report import report

    result = report(
        settings, args.event, start=args.start, end=args.end, days=args.days, baseline_weeks=args.baseline_weeks,
        source=args.source, out_dir=Path(args.out) if args.out else None, progress=Bar,
    )  # fmt: skip
    for line in result.headline:
        print(line)
    print(f"report: {result.files['html']}")
    print(f"        {result.files['markdown']}, {result.files['metrics']}, {len(result.charts)} charts (PNG + SVG)")
    return EXIT_OK
