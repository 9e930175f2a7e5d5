"""``vzmon watch``: poll in a loop at the budget's pace; SIGINT/SIGTERM finish the poll in progress."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import print_poll

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run", "stopped_by_signals"]

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
    with stopped_by_signals(stop):
        named = len(settings.collect_sources) > 1
        watch(settings, lambda r: print_poll(r, args.json, named), stop=stop, max_polls=args.max_polls)
    return EXIT_OK


STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` at once, whichever thread the kernel hands them to.

    Python runs a signal's handler in the main thread only, between two bytecodes. A main thread
    asleep in ``stop.wait(600)`` is woken only if the signal lands on it: the kernel may give it to
    any other thread that does not block it (numpy's OpenBLAS starts one), and the handler would
    then run when the wait ends, ten minutes later. (Under load, a test's SIGINT went unanswered
    for 120 s.) So the signal's number goes through ``signal.set_wakeup_fd``, which the C-level
    handler writes on whatever thread it runs, to a thread that reads it and sets ``stop``: a
    wait on ``stop`` ends from another thread, as it should. The Python-level handlers do nothing.
    """
    import socket  # here, not at the top: every command imports this module to register it

    wake, relay = socket.socketpair()  # a socket, not a pipe: set_wakeup_fd takes only sockets on Windows
    wake.setblocking(False)
    with wake, relay:

        def relay_signals() -> None:
            while data := relay.recv(64):  # b"" once ``wake`` is closed: done
                for signum in data:
                    if signum in STOPPING:
                        log.info("watch: %s received; finishing the poll in progress", signal.Signals(signum).name)
                        stop.set()

        previous = {sig: signal.signal(sig, lambda _signum, _frame: None) for sig in STOPPING}
        before = signal.set_wakeup_fd(wake.fileno(), warn_on_full_buffer=False)
        thread = threading.Thread(target=relay_signals, name="vzmon-signals", daemon=True)
        thread.start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(before)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            wake.shutdown(socket.SHUT_WR)
            thread.join()
