"""``vzmon collect``: one poll into the store, for cron; one line out, the exit code says how it went."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK, exit_code
from monitor.cli.render import poll_exit, print_poll

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "collect",
        help="one poll of OpenSky into the store (for cron)",
        description="Poll OpenSky /states/all once for the zones' polling box, classify every aircraft and "
        "store the snapshot. Prints one line: UTC time, status, aircraft in SVZM (airborne/on ground), per ring "
        "sector, credits left. Safe to re-run; a second run while one holds the lock exits 73 at once.",
        epilog="examples:\n  vzmon collect\n  vzmon collect --json\n\ncrontab:\n"
        "  */5 * * * * /path/to/vzmon/.venv/bin/vzmon collect >> /path/to/vzmon/outputs/collect.log 2>&1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print the poll as one JSON object")
    p.add_argument("--dry-run", action="store_true", help="poll and classify but store nothing")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.collect import collect_once

    result = collect_once(settings, dry_run=args.dry_run)
    print_poll(result, args.json)
    code = poll_exit(args.command, result, settings)
    if code == EXIT_OK and result.alert_error is not None:
        error = settings.redact(str(result.alert_error))
        print(f"vzmon {args.command}: error in alerts (the poll is stored): {error}", file=sys.stderr)
        return exit_code(result.alert_error)
    return code
