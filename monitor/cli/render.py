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
    from monitor.settings.table import Settings

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "Bar",
    "age",
    "iso",
    "poll_dict",
    "poll_exit",
    "poll_line",
    "print_poll",
    "utc_arg",
]

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


def print_poll(result: PollResult, as_json: bool, named: bool = False) -> None:
    """One poll as a line (prefixed by its source when ``named``: several sources polled) or JSON."""
    if as_json:
        print(json.dumps(poll_dict(result), ensure_ascii=False), flush=True)
    else:
        print(f"{result.source} · {poll_line(result)}" if named else poll_line(result), flush=True)


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


def _iso_or_none(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def poll_dict(result: PollResult) -> dict[str, Any]:
    """A poll attempt as ``--json`` prints it."""
    return {
        "source": result.source,
        "requested_at": _iso_or_none(result.requested_at),
        "api_time": _iso_or_none(result.api_time),
        "status": result.status,
        "snapshot_id": result.snapshot_id,
        "states": result.n_states,
        "zones": {c.zone: {"airborne": c.airborne, "on_ground": c.on_ground, "stale": c.stale} for c in result.counts},
        "credits_charged": result.credits_charged,
        "credits_remaining": result.credits_remaining,
        "retry_at": _iso_or_none(result.retry_at),
        "duplicate_of": result.duplicate_of,
        "error": result.error,
        "dry_run": result.dry_run,
        "alerts": list(result.alerts),
    }


def poll_line(result: PollResult) -> str:
    """One human line: UTC time, status, SVZM airborne/on ground, ring sectors, credits left."""
    when = (result.api_time or result.requested_at).strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [when, result.status]
    if result.counts:
        fir = result.counts[0]
        parts.append(f"{fir.zone} {fir.airborne} airborne/{fir.on_ground} on ground")
        parts.extend(f"{c.zone} {c.airborne}/{c.on_ground}" for c in result.counts[1:] if c.zone != "unknown")
    elif result.status == "duplicate":
        parts.append(f"same API time as snapshot {result.duplicate_of}; nothing new stored")
    else:
        parts.append("no data (a gap, not a zero)")
    if result.retry_at:
        parts.append(f"next poll allowed {result.retry_at:%Y-%m-%dT%H:%M:%SZ}")
    if result.source == "opensky":  # the keyless sources have no credits, only their spacing and cooldowns
        parts.append(f"credits left {result.credits_remaining if result.credits_remaining is not None else '?'}")
    if result.dry_run:
        parts.append("(dry run: nothing stored)")
    if result.alerts:
        parts.append(f"{len(result.alerts)} new alert{'s' if len(result.alerts) > 1 else ''}")
    return " · ".join(parts)
