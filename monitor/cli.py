"""Command line: parse arguments, load settings, call the pipeline, map errors to exit codes.

This is the only module that prints, exits, reads ``sys.argv`` or configures logging.

Exit codes (documented in README, each tested):
    0   success
    1   the run failed: the store or an output cannot be written (full disk, permissions), a bug
    2   usage or configuration error: bad flag, settings file, zone file, credentials, a path of
        the wrong kind, no store (or not a vzmon store) where a command reads one
    73  another vzmon run holds the store's lock; this run did nothing
    75  temporary failure (EX_TEMPFAIL): network down, OpenSky 5xx or rate-limited; cron retries
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import pipeline
from monitor.errors import AuthError, ConfigError, LockHeld, MonitorError, NotAStore, SourceError
from monitor.settings import Settings, load_settings

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_TEMPFAIL", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 73
EXIT_TEMPFAIL = 75

log = logging.getLogger("monitor")
DRAWING_COMMANDS = frozenset({"zones", "report", "demo"})
FIRST_YEAR, LAST_YEAR = 1970, 2100  # --from/--to outside these years are typos

EPILOG = """\
examples:
  vzmon collect                        one poll into the store (for cron)
  vzmon report --event trump-post-airspace-closed
  vzmon demo                           simulated November 2025 data and its report
  vzmon watch                          poll in a loop at the pace the daily credits allow
  vzmon status                         last data and its age, counts, credits, rate-limit state
  vzmon plan                           credits per poll and sustainable intervals per account
  vzmon zones --map outputs/charts/zones.png

crontab (every 5 minutes; 3 credits a poll = 864 of a standard account's 4,000 a day):
  */5 * * * * /path/to/vzmon/.venv/bin/vzmon collect >> /path/to/vzmon/outputs/collect.log 2>&1

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


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else "never"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _poll_exit(command: str, result: pipeline.PollResult, settings: Settings) -> int:
    if result.failure is None:
        return EXIT_OK
    print(f"vzmon {command}: error: {settings.redact(str(result.failure))}", file=sys.stderr)
    return _exit_code(result.failure)


def _print_poll(result: pipeline.PollResult, as_json: bool) -> None:
    print(json.dumps(result.as_dict(), ensure_ascii=False) if as_json else result.line(), flush=True)


def run_collect(args: argparse.Namespace, settings: Settings) -> int:
    result = pipeline.collect_once(settings, dry_run=args.dry_run)
    _print_poll(result, args.json)
    code = _poll_exit(args.command, result, settings)
    if code == EXIT_OK and result.alert_error is not None:
        error = settings.redact(str(result.alert_error))
        print(f"vzmon {args.command}: error in alerts (the poll is stored): {error}", file=sys.stderr)
        return _exit_code(result.alert_error)
    return code


def run_alerts(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "test":
        results = pipeline.send_test(settings, datetime.now(UTC), dry_run=args.dry_run)
        if not results:
            print("no alert channel configured (alerts.channels)")
            return EXIT_USAGE
        for channel, outcome in results.items():
            print(f"{channel:<8} {settings.redact(outcome)}")
        return EXIT_FAILED if any(o.startswith("FAILED") for o in results.values()) else EXIT_OK
    listing, attempted = pipeline.list_alerts(
        settings, limit=args.limit, send=args.action == "send", dry_run=args.dry_run
    )
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
                        "created_at": _iso(a.created_at),
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
        print(f"{_iso(a.created_at)}  {a.kind:<10} {a.line}")
        print(f"{'':<22}deliveries: {settings.redact(a.deliveries) or 'none'}")
    return EXIT_OK


def run_watch(args: argparse.Namespace, settings: Settings) -> int:
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("watch: %s received; finishing the poll in progress", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        pipeline.watch(settings, lambda r: _print_poll(r, args.json), stop=stop, max_polls=args.max_polls)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    st = pipeline.status(settings, check=args.check)
    if args.json:
        doc = {
            "now": _iso(st.now),
            "store": {"path": st.store_path, "bytes": st.store_bytes, "rows": st.rows, "integrity": st.integrity},
            "last_ok": {"api_time": _iso(st.last_ok_time) if st.last_ok_time else None, "age_s": st.last_ok_age_s},
            "last_poll": {
                "time": _iso(st.last_poll_time) if st.last_poll_time else None,
                "status": st.last_poll_status,
                "error": st.last_poll_error,
            },
            "zones": {c.zone: {"airborne": c.airborne, "on_ground": c.on_ground, "stale": c.stale} for c in st.counts},
            "credits_remaining": st.credits_remaining,
            "credits_seen_at": _iso(st.credits_seen_at) if st.credits_seen_at else None,
            "rate_limited_until": _iso(st.rate_limited_until) if st.rate_limited_until else None,
            "next_poll_allowed": _iso(st.next_poll_allowed),
            "last_alert": {"time": _iso(st.last_alert_time) if st.last_alert_time else None, "line": st.last_alert},
            "pending_deliveries": st.pending_deliveries,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"now (UTC)            {_iso(st.now)}")
    print(f"last data            {_iso(st.last_ok_time)}  (age {_age(st.last_ok_age_s)})")
    print(
        f"last poll            {_iso(st.last_poll_time)}  {st.last_poll_status or ''}"
        + (f"  {st.last_poll_error}" if st.last_poll_error and st.last_poll_status != "ok" else "")
    )
    if st.counts:
        print("aircraft at last data (airborne / on ground / stale):")
        for c in st.counts:
            print(f"  {c.zone:<12} {c.airborne:5d} {c.on_ground:5d} {c.stale:5d}")
    credits = (
        "unknown" if st.credits_remaining is None else f"{st.credits_remaining} (as of {_iso(st.credits_seen_at)})"
    )
    print(f"credits left         {credits}")
    if st.rate_limited_until:
        print(f"rate limit           rate-limited until {_iso(st.rate_limited_until)}")
    else:
        print("rate limit           not rate-limited")
    print(f"next poll allowed    {_iso(st.next_poll_allowed)}")
    rows = ", ".join(f"{k} {v:,}" for k, v in st.rows.items())
    print(f"store                {st.store_path} ({st.store_bytes / 1e6:.1f} MB): {rows}")
    if st.integrity is not None:
        print(f"integrity check      {st.integrity}")
    last = f"{_iso(st.last_alert_time)}  {st.last_alert}" if st.last_alert else "none"
    print(f"last alert           {last}")
    if st.pending_deliveries:
        print(f"alert deliveries     {st.pending_deliveries} pending (`vzmon alerts` shows why)")
    return EXIT_OK


def run_plan(args: argparse.Namespace, settings: Settings) -> int:
    report = pipeline.plan(settings)
    b = report.box
    if args.json:
        doc = {
            "polling_box": {**b.opensky_params(), "area_sq_deg": round(b.area_sq_deg, 2)},
            "credits_per_poll": report.credits_per_poll,
            "budget_share": settings.opensky_budget_share,
            "accounts": [r.__dict__ for r in report.rows],
            "account_in_force": report.account_in_force,
            "interval_in_force_s": report.interval_in_force_s,
            "warning": report.warning,
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"polling box  {b}: {b.area_sq_deg:.1f} sq°, {report.credits_per_poll} credits per /states/all call")
    print(f"budget       {settings.opensky_budget_share:.0%} of the daily credits (opensky.budget_share)")
    print()
    print(f"{'account':<11} {'credits/day':>11} {'polls/day':>10} {'shortest interval':>18}")
    for r in report.rows:
        shortest = f"{r.min_interval_s:>16.0f} s" if r.min_interval_s is not None else f"{'not one poll':>18}"
        print(f"{r.account:<11} {r.daily_credits:>11,} {r.polls_per_day:>10,} {shortest}")
    print()
    print(f"in force     {report.account_in_force} account, watch polls every {report.interval_in_force_s:.0f} s")
    if report.warning:
        print(f"warning: {report.warning}")
    return EXIT_OK


class _Bar:
    """tqdm on a terminal, silence otherwise (cron, pipes)."""

    def __init__(self, label: str, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=total, desc=label, unit="", disable=not sys.stderr.isatty(), leave=False, file=sys.stderr
        )

    def __enter__(self) -> Any:
        return self._bar

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def _utc_arg(value: str) -> datetime:
    """An ISO 8601 time for --from/--to: with Z or an offset; a date means 00:00 UTC."""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 time (e.g. 2025-11-22T00:00Z)") from None
    if t.tzinfo is None:
        if len(value) > 10:  # not a bare date
            raise argparse.ArgumentTypeError(f"{value!r} has no time zone; add Z for UTC or an offset like -04:00")
        t = t.replace(tzinfo=UTC)
    if not FIRST_YEAR <= t.year < LAST_YEAR:  # also keeps later arithmetic (windows, days) in range
        raise argparse.ArgumentTypeError(f"{value!r} is outside {FIRST_YEAR}–{LAST_YEAR - 1}; check the year")
    return t.astimezone(UTC)


def run_events(args: argparse.Namespace, settings: Settings) -> int:
    events = pipeline.list_events(settings)
    if args.json:
        print(json.dumps([{
            "id": e.id, "time": _iso(e.time), "kind": e.kind, "title": e.title, "source": e.source,
            "window": [_iso(e.window[0]), _iso(e.window[1])] if e.window else None, "anchor": e.anchor,
        } for e in events], indent=2, ensure_ascii=False))  # fmt: skip
        return EXIT_OK
    print(f"events from {settings.events_file} (times UTC; * = estimated, ° = context only)")
    for e in events:
        mark = ("*" if e.estimated else " ") + (" " if e.anchor else "°")
        print(f"{e.time:%Y-%m-%d %H:%M}{mark} {e.kind:<12} {e.id:<34} {e.title}")
    return EXIT_OK


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    result = pipeline.report(
        settings, args.event, start=args.start, end=args.end, days=args.days,
        out_dir=Path(args.out) if args.out else None, progress=_Bar,
    )  # fmt: skip
    for line in result.headline:
        print(line)
    print(f"report: {result.files['html']}")
    print(f"        {result.files['markdown']}, {result.files['metrics']}, {len(result.charts)} charts (PNG + SVG)")
    return EXIT_OK


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    result = pipeline.run_demo(
        settings,
        interval_s=args.interval,
        overflight_drop=args.overflight_drop,
        events=tuple(args.event),
        progress=_Bar,
    )
    print(
        f"demo: {result.polls:,} simulated polls ({result.gaps} failed on purpose: gaps), "
        f"{result.positions:,} positions in {result.db} (SIMULATED DATA)"
    )
    for rep in result.reports:
        print()
        for line in rep.headline:
            print(line)
        print(f"report: {rep.files['html']}")
    return EXIT_OK


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    result = pipeline.export(
        settings, args.what, args.format, out=Path(args.out) if args.out else None, start=args.start, end=args.end
    )
    print(
        f"exported {result.rows:,} rows of {result.what} to {result.path}"
        + (f" ({result.files} files)" if result.files > 1 else "")
    )
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
    p.set_defaults(run=run_collect)

    p = sub.add_parser(
        "watch",
        help="poll in a loop at the pace the daily credit budget allows",
        description="Poll repeatedly. The interval follows the account's daily credits (anonymous 400, standard "
        "4,000, feeder 8,000; opensky.account, opensky.daily_credits) and is never shorter than OpenSky's "
        "resolution (10 s anonymous, 5 s authenticated). SIGINT/SIGTERM finish the poll in progress and exit 0.",
        epilog="examples:\n  vzmon watch\n  vzmon watch --interval 300 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--interval", type=float, metavar="SECONDS", help="seconds between polls (overrides the budget)")
    p.add_argument("--max-polls", type=int, metavar="N", help="stop after N polls")
    p.add_argument("--json", action="store_true", help="print each poll as one JSON object")
    p.set_defaults(run=run_watch)

    p = sub.add_parser(
        "status",
        help="last data and its age, counts per zone, credits, rate-limit state, store size",
        description="Show the last successful snapshot and its age, the counts per zone in it, the credits left, "
        "whether the account is rate-limited and when the next poll is allowed, and the store's size and rows.",
        epilog="examples:\n  vzmon status\n  vzmon status --check --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--check", action="store_true", help="also run SQLite's integrity check")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_status)

    p = sub.add_parser(
        "plan",
        help="credits per poll and the shortest sustainable interval per account type",
        description="Show the credit cost of one /states/all call for the configured zones, and for each account "
        "type the polls per day and the shortest interval the daily credits sustain.",
        epilog="example:\n  vzmon plan",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_plan)

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
    p.set_defaults(run=run_alerts)

    p = sub.add_parser(
        "events",
        help="list the events reports can compare around",
        description="List the announcements and incidents in the events file (events.file), in UTC. Add your own "
        "there: each needs an id, a time with a time zone, a kind and a source.",
        epilog="examples:\n  vzmon events\n  vzmon events --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_events)

    p = sub.add_parser(
        "report",
        help="compare traffic before and after an event; write charts and a report",
        description="Compare traffic in a window before an event with a window after it (report.window_days each "
        "side, cut at neighbouring events; the event's uncertainty window left out), matched on hour of the week, "
        "with 95%% intervals. Writes outputs/reports/<event-id>/: report.md, report.html (self-contained), "
        "metrics.csv and the charts (PNG and SVG).",
        epilog="examples:\n  vzmon report --event trump-post-airspace-closed\n"
        "  vzmon report --event faa-kicz-a0012-25-svzm --days 14\n"
        "  vzmon report --event us-strikes-caracas --from 2025-12-20 --to 2026-01-20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--event", required=True, metavar="ID", help="event id (see `vzmon events`)")
    p.add_argument("--days", type=float, metavar="N", help="days on each side (default report.window_days)")
    p.add_argument(
        "--from",
        dest="start",
        type=_utc_arg,
        metavar="TIME",
        help="start of the before window (ISO 8601 UTC); nothing is cut when given",
    )
    p.add_argument("--to", dest="end", type=_utc_arg, metavar="TIME", help="end of the after window")
    p.add_argument("--out", metavar="DIR", help="folder for the report (default outputs/reports/<event-id>)")
    p.set_defaults(run=run_report)

    p = sub.add_parser(
        "demo",
        help="simulate November 2025 into a separate store and report on it (no account needed)",
        description="Fill a separate store (demo.db) with SIMULATED traffic around the November 2025 events: "
        "domestic routes, international arrivals and departures, overflights on real corridors, a daily cycle, "
        "the airline suspensions of 22-26 Nov and the 29 Nov post cutting overflights. The simulated replies go "
        "through the same ingest path as real polls, then the report runs. Everything is marked SIMULATED.",
        epilog="examples:\n  vzmon demo\n  vzmon demo --overflight-drop 0.9 --interval 300",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--interval", type=float, default=600.0, metavar="SECONDS", help="simulated poll interval")
    p.add_argument(
        "--overflight-drop",
        type=float,
        default=0.7,
        metavar="SHARE",
        help="share of overflights that stop after the 29 Nov post (default 0.7)",
    )
    p.add_argument(
        "--event",
        action="append",
        metavar="ID",
        help="event to report on (repeatable; default trump-post-airspace-closed)",
    )
    p.set_defaults(run=run_demo)

    p = sub.add_parser(
        "export",
        help="write positions, counts, polls or hourly metrics as CSV or Parquet",
        description="Export data from the store. positions: every stored position (Parquet partitioned by UTC "
        "date); counts: aircraft per zone per snapshot; polls: every poll attempt with its status; hourly: "
        "coverage and mean aircraft airborne per zone and hour (gaps empty).",
        epilog="examples:\n  vzmon export positions --format parquet\n"
        "  vzmon export hourly --format csv --from 2025-11-15 --to 2025-12-07",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("what", choices=("positions", "counts", "polls", "hourly"))
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--from", dest="start", type=_utc_arg, metavar="TIME")
    p.add_argument("--to", dest="end", type=_utc_arg, metavar="TIME")
    p.add_argument("--out", metavar="PATH", help="file (or folder for partitioned Parquet)")
    p.set_defaults(run=run_export)

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


def validate_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Cross-flag checks; a mistake goes through the parser's error (exit 2) with a reason."""
    interval = getattr(args, "interval", None)
    if interval is not None and interval <= 0:
        parser.error(f"--interval must be positive, got {interval:g}")
    max_polls = getattr(args, "max_polls", None)
    if max_polls is not None and max_polls < 1:
        parser.error(f"--max-polls must be at least 1, got {max_polls}")
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if start is not None and end is not None and start >= end:
        parser.error(f"--from ({start:%Y-%m-%dT%H:%MZ}) must be before --to ({end:%Y-%m-%dT%H:%MZ})")
    days = getattr(args, "days", None)
    if days is not None and not 0 < days <= 120:
        parser.error(f"--days must be in (0, 120], got {days:g}")
    map_path = getattr(args, "map", None)
    if map_path is not None and Path(map_path).suffix.lower() not in (".png", ".svg", ".pdf"):
        parser.error(f"--map {map_path}: the map is drawn as PNG, SVG or PDF; end the path in .png, .svg or .pdf")
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        parser.error(f"--limit must be at least 1, got {limit}")
    if args.command == "demo":
        if not 0 <= args.overflight_drop <= 1:
            parser.error(f"--overflight-drop is a share between 0 and 1, got {args.overflight_drop:g}")
        if not 60 <= args.interval <= 3600:
            parser.error(f"--interval for the demo must be 60 to 3600 seconds, got {args.interval:g}")
        args.event = args.event or ["trump-post-airspace-closed"]


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"store.db": args.db, "watch.interval_s": getattr(args, "interval", None)}


class _UTCFormatter(logging.Formatter):
    """Log lines with UTC timestamps (ISO 8601 with a Z), every configured secret redacted from the
    whole line, tracebacks included (urllib3 logs a webhook's path, which is its token, at DEBUG)."""

    def __init__(self, fmt: str, redact: Callable[[str], str]) -> None:
        super().__init__(fmt)
        self._redact = redact

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def _setup_logging(level: str, redact: Callable[[str], str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_UTCFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", redact))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _exit_code(exc: MonitorError) -> int:
    if isinstance(exc, ConfigError | AuthError | NotAStore):
        return EXIT_USAGE
    if isinstance(exc, LockHeld):
        return EXIT_LOCKED
    if isinstance(exc, SourceError):
        return EXIT_TEMPFAIL
    return EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run vzmon with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    validate_args(parser, args)
    if args.command in DRAWING_COMMANDS:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display; set before anything imports pyplot
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    redact: Callable[[str], str] = str  # until the settings (and so the secrets) are known
    try:
        settings = load_settings(args.config, _overrides(args))
        redact = settings.redact
        _setup_logging("DEBUG" if args.debug else settings.log_level, redact)
        return run(args, settings)
    except MonitorError as exc:
        if args.debug:
            log.exception("vzmon %s failed", args.command)
        print(f"vzmon {args.command}: error: {redact(str(exc))}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        print(f"vzmon {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `vzmon status | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:  # the one place an unexpected error (a bug) becomes exit 1, one line
        if args.debug:  # the traceback goes through the log handler, so secrets are redacted from it too
            log.exception("vzmon %s: unexpected error", args.command)
            return EXIT_FAILED
        print(
            f"vzmon {args.command}: unexpected error: {exc.__class__.__name__}: {redact(str(exc))} (rerun with "
            "--debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
