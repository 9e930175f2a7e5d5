"""``vzmon events``: the announcements and incidents reports compare around, in UTC."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import iso

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "events",
        help="list the events reports can compare around",
        description="List the announcements and incidents in the events file (events.file), in UTC. Add your own "
        "there: each needs an id, a time with a time zone, a kind and a source.",
        epilog="examples:\n  vzmon events\n  vzmon events --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.events import list_events

    events = list_events(settings)
    if args.json:
        print(json.dumps([{
            "id": e.id, "time": iso(e.time), "kind": e.kind, "title": e.title, "source": e.source,
            "window": [iso(e.window[0]), iso(e.window[1])] if e.window else None, "anchor": e.anchor,
        } for e in events], indent=2, ensure_ascii=False))  # fmt: skip
        return EXIT_OK
    print(f"events from {settings.events_file} (times UTC; * = estimated, ° = context only)")
    for e in events:
        mark = ("*" if e.estimated else " ") + (" " if e.anchor else "°")
        print(f"{e.time:%Y-%m-%d %H:%M}{mark} {e.kind:<12} {e.id:<34} {e.title}")
    return EXIT_OK
