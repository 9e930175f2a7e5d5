"""``vzmon export``: positions, counts, polls or hourly metrics as CSV or Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import utc_arg

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="write positions, counts, polls or hourly metrics as CSV or Parquet",
        description="Export data from the store. positions: every stored position (Parquet partitioned by UTC "
        "date); counts: aircraft per zone per snapshot; polls: every poll attempt with its status; hourly: "
        "coverage and mean aircraft airborne per zone and hour (gaps empty).",
        epilog="examples:\n  vzmon export positions --format parquet\n"
        "  vzmon export hourly --format csv --from 2025-11-15 --to 2025-12-07\n"
        "  vzmon export positions --format parquet --flavour traffic",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=("positions", "counts", "polls", "hourly"))
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument(
        "--flavour",
        choices=("vzmon", "traffic"),
        default="vzmon",
        help="traffic: positions as the traffic library's Flight takes them (timestamp UTC, feet, knots, ft/min), "
        "a Parquet file per UTC day (needs positions --format parquet)",
    )
    p.add_argument("--from", dest="start", type=utc_arg, metavar="TIME")
    p.add_argument("--to", dest="end", type=utc_arg, metavar="TIME")
    p.add_argument("--out", metavar="PATH", help="file (or folder for partitioned Parquet)")
    p.add_argument(
        "--source",
        metavar="NAME",
        help="one source's data only, or combined (positions and hourly read the combined view when "
        "collect.sources names several, else the configured source)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.export import export

    result = export(
        settings,
        args.what,
        args.format,
        out=Path(args.out) if args.out else None,
        start=args.start,
        end=args.end,
        source=args.source,
        flavour=args.flavour,
    )
    print(
        f"exported {result.rows:,} rows of {result.what} to {result.path}"
        + (f" ({result.files} files)" if result.files > 1 else "")
    )
    return EXIT_OK
