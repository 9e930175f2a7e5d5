"""Command line: parse arguments, load settings, run one command, map errors to exit codes.

``cli`` is the only package that prints, exits, reads ``sys.argv`` or configures logging. Each
command is one module here (``COMMANDS``) with ``register(subparsers)`` and ``run(args,
settings)``; a command's module imports its pipeline module only when it runs, so ``vzmon
--help`` and ``vzmon status`` never load pandas, scipy or matplotlib. Exit codes: ``cli.exits``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.cli.exits import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE, exit_code
from monitor.errors import MonitorError
from monitor.settings.load import load_settings
from monitor.settings.table import Settings

__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_TEMPFAIL", "EXIT_USAGE", "main"]


log = logging.getLogger("monitor")
# The commands, in the order --help lists them: one module each in monitor/cli/, with
# register(subparsers) (setting ``run``, and ``pandas_free`` where the command never loads pandas)
# and run(args, settings). A new command is one module plus one name here.
COMMANDS = (
    "collect", "watch", "backfill", "compact", "status", "sources", "plan", "alerts", "events", "report", "demo",
    "export", "zones",
)  # fmt: skip

EPILOG = """\
examples:
  vzmon collect                        one poll into the store (for cron)
  vzmon report --event trump-post-airspace-closed
  vzmon demo                           simulated November 2025 data and its report
  vzmon backfill --from 2025-11-15 --to 2025-12-10   past days from adsb.lol's archive
  vzmon compact                        closed days' positions into Parquet (collect does it a day at a time)
  vzmon watch                          poll in a loop at the pace the daily credits allow
  vzmon status                         last data and its age, counts, credits, rate-limit state
  vzmon plan                           credits per poll and sustainable intervals per account
  vzmon zones --map outputs/charts/zones.png

crontab (every 5 minutes; 3 credits a poll = 864 of a standard account's 4,000 a day):
  */5 * * * * /path/to/vzmon/.venv/bin/vzmon collect >> /path/to/vzmon/outputs/collect.log 2>&1

exit codes: 0 ok · 1 failed · 2 usage/config error · 73 another run holds the lock ·
75 temporary failure (network, OpenSky down or rate-limited; cron retries next tick)
"""


def _command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names, when it names one (the first word that is not a global option)."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "--db"):
            next(words, None)  # their value
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line parser. Given ``argv`` that names a command, only that command's arguments
    are set up (the others' would cost every cron run a few milliseconds for nothing); otherwise,
    as for ``vzmon --help`` or a mistyped command, all of them."""
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
    named = _command_in(argv) if argv is not None else None
    for name in (named,) if named else COMMANDS:
        importlib.import_module(f"monitor.cli.{name}").register(sub)
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
    if args.command == "backfill":
        if args.last is not None and args.first is None:
            parser.error("--to needs --from")
        if args.first is None and not args.archive:
            parser.error("give the days to backfill: --from DAY [--to DAY], or local files with --archive PATH...")
        if args.last is not None and args.last < args.first:
            parser.error(f"--to {args.last} is before --from {args.first}")
        if args.step is not None and (args.step <= 0 or args.step % 30):
            parser.error(f"--step must be a positive multiple of the archive's 30 s slices, got {args.step}")
        if args.workers is not None and not 1 <= args.workers <= 64:
            parser.error(f"--workers must be 1 to 64, got {args.workers}")
        if args.first is not None and args.last is None:
            args.last = args.first
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


class _WithoutPandas:
    """Makes ``import pandas`` fail, for commands that never use pandas.

    pyarrow imports pandas (when installed) on its first array conversion, through its pandas
    shim, and that alone costs ~0.3 s, more than the rest of a cron poll's start-up. Told that
    pandas is absent, pyarrow works as it does without it; so ``collect`` and ``status`` load only
    what they use, and a change that brings pandas into them fails its tests instead of slowing
    every cron run. (A finder on ``sys.meta_path``; ``importlib.abc`` is not imported for it.)
    """

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"vzmon does not load {fullname} for this command", name=fullname)


def _lean(args: argparse.Namespace) -> bool:
    """Whether the command never needs pandas (so the process is kept without it): its module says
    so with ``pandas_free``, True or a function of the arguments."""
    free = getattr(args, "pandas_free", False)
    return bool(free(args) if callable(free) else free)


def main(argv: Sequence[str] | None = None) -> int:
    """Run vzmon with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Run as the process's own command line (``argv`` None: the ``vzmon`` script, ``python -m
    monitor``), a command that never needs pandas keeps the process without it (see
    :class:`_WithoutPandas`); called with ``argv`` (tests, scripts) nothing process-wide changes.
    """
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    validate_args(parser, args)
    if argv is None and _lean(args) and "pandas" not in sys.modules:
        sys.meta_path.insert(0, _WithoutPandas())
    os.environ["MPLBACKEND"] = "Agg"  # files only, never a display; read by matplotlib if it loads
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
        return exit_code(exc)
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
