"""``vzmon compact``: closed days' positions into the store's Parquet dataset, now."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compact",
        help="move closed days' positions into the Parquet dataset beside the store",
        description="Move every closed UTC day's positions (an hour after the day ends) out of the SQLite store "
        "into <store folder>/parquet/positions/source=<source>/date=<day>/, one zstd Parquet file per source and "
        "day, which DuckDB, pandas, Spark or Trino read as they are. collect and watch do this for one day after "
        "their polls, and backfill for each day it stores; this does all of them at once (after an upgrade, or "
        "a backfill that was stopped). Safe to stop or kill at any moment, and to run again.",
        epilog="example:\n  vzmon compact",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run, pandas_free=lambda _args: True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.compact import compact

    done = compact(settings, progress=lambda line: print(f"  {line}", flush=True))
    if done.removed:
        print(f"removed {done.removed} file(s) that an interrupted compaction left behind")
    if done.days:
        per_m = done.bytes / done.positions if done.positions else 0.0
        print(
            f"compacted {done.days} day(s): {done.positions:,} positions into {done.bytes / 1e6:,.1f} MB of Parquet "
            f"({per_m:.1f} bytes a position) under {settings.store_db.parent / 'parquet' / 'positions'}"
        )
    else:
        print("nothing to compact: every closed day is already in Parquet")
    return EXIT_OK
