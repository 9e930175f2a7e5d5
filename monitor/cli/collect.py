"""``vzmon collect``: one poll into the store, for cron; one line out, the exit code says how it went."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE, exit_code
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


# most serious first: a refusal to fix (bad settings, credentials) before a failure before a wait
SEVERITY = (EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED, EXIT_TEMPFAIL, EXIT_OK)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.collect import collect_once

    results = collect_once(settings, dry_run=args.dry_run)
    several = len(results) > 1
    codes = []
    for result in results:  # one line per source; the exit code is the most serious failure's
        print_poll(result, args.json, named=several)
        codes.append(poll_exit(args.command, result, settings))
    code = min(codes, key=SEVERITY.index)
    alert_error = results[0].alert_error
    if code == EXIT_OK and alert_error is not None:
        error = settings.redact(str(alert_error))
        print(f"vzmon {args.command}: error in alerts (the poll is stored): {error}", file=sys.stderr)
        return exit_code(alert_error)
    return code
