"""``vzmon watch``: poll in a loop at the budget's pace; SIGINT/SIGTERM finish the poll in progress."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import print_poll

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]

log = logging.getLogger("monitor")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "watch",
        help="poll each source in a loop, each at its own pace (OpenSky's credits, adsb.lol's and adsb.fi's spacing)",
        description="Poll repeatedly, one source at a time, the one due next first. OpenSky's interval follows the "
        "account's daily credits (anonymous 400, standard 4,000, feeder 8,000; opensky.account, "
        "opensky.daily_credits) and is never shorter than its resolution (10 s anonymous, 5 s authenticated). "
        "adsb.lol and adsb.fi are swept every --interval seconds (default: collect.combined_step_s), never faster "
        "than their spacing allows; a 429 pauses that source alone. SIGINT/SIGTERM finish the poll in progress "
        "and exit 0.",
        epilog="examples:\n  vzmon watch\n  vzmon watch --interval 300 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--interval", type=float, metavar="SECONDS", help="seconds between polls (overrides the budget)")
    p.add_argument("--max-polls", type=int, metavar="N", help="stop after N polls")
    p.add_argument("--json", action="store_true", help="print each poll as one JSON object")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.watch import watch

    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("watch: %s received; finishing the poll in progress", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        named = len(settings.collect_sources) > 1
        watch(settings, lambda r: print_poll(r, args.json, named), stop=stop, max_polls=args.max_polls)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK
