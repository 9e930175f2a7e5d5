"""Command line: parse arguments, load settings, call the pipeline, map errors to exit codes.

This is the only module that prints, exits, reads ``sys.argv`` or configures logging.

Exit codes (documented in README, each tested):
    0   success
    1   the run failed for another reason (store unwritable, a bug); see the message
    2   usage or configuration error: bad flag, settings file, zone file, credentials
    73  another vzmon run holds the store's lock; this run did nothing
    75  temporary failure (EX_TEMPFAIL): network down, OpenSky 5xx or rate-limited; cron retries
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import pipeline
from monitor.errors import AuthError, ConfigError, LockHeld, MonitorError, SourceError
from monitor.settings import Settings, load_settings

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_TEMPFAIL", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 73
EXIT_TEMPFAIL = 75

log = logging.getLogger("monitor")

EPILOG = """\
examples:
  vzmon zones                          zones, areas and the OpenSky polling box
  vzmon zones --map outputs/charts/zones.png

exit codes: 0 ok · 1 failed · 2 usage/config error · 73 another run holds the lock ·
75 temporary failure (network, OpenSky down or rate-limited; cron retries next tick)
"""


def _fmt_bbox(b: Any) -> str:
    return f"lon {b.west:.2f}…{b.east:.2f}, lat {b.south:.2f}…{b.north:.2f}"


def run_zones(args: argparse.Namespace, settings: Settings) -> int:
    summary = pipeline.describe_zones(settings, Path(args.map) if args.map else None)
    zs, box = summary.zone_set, summary.polling_box
    if args.json:
        doc = {
            "zones": [
                {
                    "code": z.code,
                    "name": z.name,
                    "kind": z.kind,
                    "neighbour": z.neighbour,
                    "area_km2": round(z.area_km2, 1),
                    "bbox": [round(v, 6) for v in (z.bbox.west, z.bbox.south, z.bbox.east, z.bbox.north)],
                }
                for z in zs.zones
            ],
            "ring_nm": zs.ring_nm,
            "polling_box": {
                **box.opensky_params(),
                "area_sq_deg": round(box.area_sq_deg, 2),
                "credits_per_poll": box.credits,
            },
            "warning": summary.warning,
            "map": str(summary.map_path) if summary.map_path else None,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return EXIT_OK
    fir = zs.fir
    print(f"{fir.code}  {fir.name}: {fir.area_km2:,.0f} km² (geodesic, WGS 84), {_fmt_bbox(fir.bbox)}")
    print(f"ring: {zs.ring_nm:g} NM around {fir.code}" if zs.ring else "ring: none (zones.ring_nm = 0)")
    print()
    print(f"{'code':<12} {'area km²':>11}  {'bbox (W, S, E, N)':<34} {'neighbour / kind'}")
    for z in zs.zones:
        b = z.bbox
        print(
            f"{z.code:<12} {z.area_km2:>11,.0f}  {b.west:7.2f} {b.south:6.2f} {b.east:7.2f} {b.north:6.2f}"
            f"{'':<6} {z.neighbour or z.kind}"
        )
    print()
    params = " ".join(f"{k}={v:g}" for k, v in box.opensky_params().items())
    print(f"polling box: {params}  ({box.area_sq_deg:.1f} sq°, {box.credits} credits per /states/all call)")
    if summary.warning:
        print(f"warning: {summary.warning}")
    if summary.map_path:
        print(f"map written: {summary.map_path}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vzmon",
        description="Monitor civil air traffic in and around the Maiquetía FIR (SVZM) from OpenSky snapshots.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="PATH", help="settings file (default: $VZMON_CONFIG, config/settings.toml)")
    parser.add_argument("--db", metavar="PATH", help="SQLite store (overrides VZMON_DB and store.db)")
    parser.add_argument("--debug", action="store_true", help="log debug detail and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "zones",
        help="list the zones, their areas and the polling box; optionally draw a map",
        description="List the FIR, the ring sectors and any user zones, with geodesic areas, bounding boxes and "
        "the OpenSky polling box with its credit cost per call.",
        epilog="example:\n  vzmon zones --map outputs/charts/zones.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--map", metavar="PATH", help="write a map of the zones (.png, .svg or .pdf)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run_zones)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"store.db": args.db, "watch.interval_s": getattr(args, "interval", None)}


class _UTCFormatter(logging.Formatter):
    """Log timestamps in UTC, ISO 8601 with a Z."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UTCFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _exit_code(exc: MonitorError) -> int:
    if isinstance(exc, ConfigError | AuthError):
        return EXIT_USAGE
    if isinstance(exc, LockHeld):
        return EXIT_LOCKED
    if isinstance(exc, SourceError):
        return EXIT_TEMPFAIL
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run vzmon with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    import matplotlib

    matplotlib.use("Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        settings = load_settings(args.config, _overrides(args))
        _setup_logging("DEBUG" if args.debug else settings.log_level)
        return run(args, settings)
    except MonitorError as exc:
        if args.debug:
            log.exception("vzmon %s failed", args.command)
        print(f"vzmon {args.command}: error: {exc}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        print(f"vzmon {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place an unexpected error (a bug) becomes exit 1, one line
        if args.debug:
            raise
        print(
            f"vzmon {args.command}: unexpected error: {exc.__class__.__name__}: {exc} (rerun with --debug for "
            "the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
