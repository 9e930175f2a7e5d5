"""``vzmon alerts``: the recent alerts and each channel's delivery state; ``send``, ``test``."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from monitor.cli.render import iso

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "alerts",
        help="list recent alerts and their deliveries; send due ones; test the channels",
        description="Alerts are evaluated after every poll (drop, zero, recovery, outage) and written to the "
        "store's outbox before delivery. `vzmon alerts` lists the recent ones with each channel's delivery "
        "state; `send` retries the due deliveries now; `test` sends a test message to every channel.",
        epilog="examples:\n  vzmon alerts\n  vzmon alerts test\n  vzmon alerts send --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", choices=("list", "send", "test"), default="list")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent; send nothing")
    p.add_argument("--limit", type=int, default=20, help="how many recent alerts to list")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.alerts.deliver import send_test
    from monitor.pipeline.alerts import list_alerts

    if args.action == "test":
        results = send_test(settings, datetime.now(UTC), dry_run=args.dry_run)
        if not results:
            print("no alert channel configured (alerts.channels)")
            return EXIT_USAGE
        for channel, outcome in results.items():
            print(f"{channel:<8} {settings.redact(outcome)}")
        return EXIT_FAILED if any(o.startswith("FAILED") for o in results.values()) else EXIT_OK
    listing, attempted = list_alerts(settings, limit=args.limit, send=args.action == "send", dry_run=args.dry_run)
    if args.action == "send":
        verb = "would send" if args.dry_run else "tried"
        print(
            f"{verb} {len(attempted)} due deliver{'y' if len(attempted) == 1 else 'ies'}" + (":" if attempted else "")
        )
        for line in attempted:
            print(f"  {settings.redact(line)}")
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "created_at": iso(a.created_at),
                        "kind": a.kind,
                        "zone": a.zone,
                        "line": a.line,
                        "deliveries": settings.redact(a.deliveries),
                    }
                    for a in listing
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    if not listing:
        print("no alerts yet")
    for a in listing:
        print(f"{iso(a.created_at)}  {a.kind:<10} {a.line}")
        print(f"{'':<22}deliveries: {settings.redact(a.deliveries) or 'none'}")
    return EXIT_OK
