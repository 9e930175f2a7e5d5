"""What several commands print the same way: UTC times, ages, the poll line, progress bars, and the
``--from``/``--to`` time argument. Only ``cli`` prints."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK, exit_code

if TYPE_CHECKING:
    from monitor.pipeline.collect import PollResult
    from monitor.settings import Settings

__all__ = ["FIRST_YEAR", "LAST_YEAR", "Bar", "age", "iso", "poll_exit", "print_poll", "utc_arg"]

FIRST_YEAR, LAST_YEAR = 1970, 2100  # --from/--to outside these years are typos


def iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else "never"


def age(seconds: float | None) -> str:
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


def poll_exit(command: str, result: PollResult, settings: Settings) -> int:
    """The exit code of a poll, printing its failure (redacted) on stderr."""
    if result.failure is None:
        return EXIT_OK
    print(f"vzmon {command}: error: {settings.redact(str(result.failure))}", file=sys.stderr)
    return exit_code(result.failure)


def print_poll(result: PollResult, as_json: bool) -> None:
    print(json.dumps(result.as_dict(), ensure_ascii=False) if as_json else result.line(), flush=True)


class Bar:
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


def utc_arg(value: str) -> datetime:
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
