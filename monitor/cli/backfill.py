"""``vzmon backfill``: past days from adsb.lol's archive into the store; a line per day."""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from monitor.pipeline.backfill import DayResult
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a UTC day (YYYY-MM-DD, e.g. 2025-11-29)") from None


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backfill",
        help="past days from adsb.lol's archive into the store (source adsblol-archive)",
        description="Read whole UTC days of adsb.lol's public archive (globe_history releases on GitHub, ODbL) "
        "and store them as snapshots every --step seconds of source adsblol-archive: civil aircraft in the "
        "snapshots, military ones (adsb.lol's database flag) apart. Each day is streamed once (about 3 GB, never "
        "written to disk), checked, and stored whole or not at all; days already stored are skipped. A day "
        "whose releases cannot be read is reported, recorded as failed, and the next day goes on. Prints one "
        "line per day with its health figures (aircraft and MLAT share in the box, SVZM and far control areas).",
        epilog="examples:\n"
        "  vzmon backfill --from 2025-11-15 --to 2025-12-10\n"
        "  vzmon backfill --archive ~/Downloads/v2025.11.29-planes-readsb-staging-0.tar.aa "
        "~/Downloads/v2025.11.29-planes-readsb-staging-0.tar.ab\n"
        "  vzmon backfill --archive ~/globe_history/ --from 2025-11-20 --to 2025-11-30 --force\n"
        "  vzmon report --event trump-post-airspace-closed --source adsblol-archive\n\n"
        "exit codes: 0 every day stored or already there · 1 a day failed or is partial (the others are "
        "stored) · 2 usage · 73 the store's lock stayed held",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--from", dest="first", type=_day, metavar="DAY", help="first UTC day (YYYY-MM-DD)")
    p.add_argument("--to", dest="last", type=_day, metavar="DAY", help="last UTC day, included (default: --from)")
    p.add_argument(
        "--archive",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="read local files instead of downloading: a release's .tar, its .tar.aa + .tar.ab parts, folders "
        "holding them, or extracted day folders",
    )
    p.add_argument(
        "--step",
        type=int,
        metavar="SECONDS",
        help="snapshot every SECONDS, a multiple of 30 (default backfill.step_s, 60)",
    )
    p.add_argument("--force", action="store_true", help="read and store again days the store already holds")
    p.add_argument("--workers", type=int, metavar="N", help="processes reading traces (default backfill.workers)")
    p.set_defaults(run=run, pandas_free=True)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def day_line(result: DayResult) -> str:
    """One day's summary: what happened, and its health figures."""
    r = result.record
    if result.outcome == "skipped" and r is not None:
        return f"{result.day} skipped: already stored ({r.release}, {r.snapshots:,} snapshots, {r.gaps:,} gaps)"
    if result.outcome in ("failed", "absent", "kept") or r is None:
        return f"{result.day} {result.outcome}: {result.error}"
    health = ", ".join(
        f"{name} {h['aircraft']:,} aircraft (MLAT {_share(h['mlat'], h['positions'])})" for name, h in r.health.items()
    )
    return (
        f"{result.day} {result.outcome}: {r.release}, {r.snapshots:,} snapshots, {r.gaps:,} gaps, "
        f"{_size(r.bytes)}, {r.members:,} members, {r.traces_kept:,} traces over the box "
        f"({result.military} military, {result.no_db} without a database entry), {result.seconds:.0f} s; "
        f"seen: {health}"
    )


class _Progress:
    """Bytes, members, day n of N, rate and ETA on a terminal (tqdm); a line per day always."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._tty = sys.stderr.isatty()
        self._read_s: list[float] = []  # the seconds of each day read so far (skipped days take none)

    def day_started(self, n: int, of: int, day: date, what: str, total_bytes: int | None) -> None:
        self._close()
        if self._tty:
            from tqdm import tqdm

            left = ""
            if self._read_s:  # the run's end, from the days read so far
                minutes = sum(self._read_s) / len(self._read_s) * (of - n + 1) / 60
                left = f", run ETA ~{minutes:.0f} min"
            self._bar = tqdm(
                total=total_bytes, desc=f"day {n}/{of} {day} {what}{left}", unit="B", unit_scale=True, leave=False,
                file=sys.stderr,
            )  # fmt: skip

    def advanced(self, read_bytes: int, members: int) -> None:
        if self._bar is not None:
            self._bar.update(read_bytes - self._bar.n)
            if members % 500 == 0:
                self._bar.set_postfix_str(f"{members:,} members", refresh=False)

    def day_done(self, result: DayResult) -> None:
        self._close()
        if result.seconds:
            self._read_s.append(result.seconds)
        print(day_line(result), flush=True)
        for warning in result.warnings:
            print(f"  warning: {warning}", flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # ``cli.main`` says "interrupted" and exits 130; nothing of the day is stored


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.backfill import backfill

    progress = _Progress()
    previous = signal.signal(signal.SIGTERM, _interrupted)  # so the workers and downloads are closed on the way out
    try:
        results = backfill(
            settings, args.first, args.last, archive=args.archive or (), step_s=args.step, force=args.force,
            workers=args.workers, progress=progress,
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
        progress._close()
    stored = sum(r.outcome in ("stored", "replaced") for r in results)
    skipped = sum(r.outcome == "skipped" for r in results)
    partial = sum(r.outcome == "partial" for r in results)
    failed = [r for r in results if r.error is not None]
    print(
        f"backfill: {stored} stored, {partial} partial, {skipped} already there, "
        f"{len(failed) - partial} failed, of {len(results)} days"
    )
    for r in failed:
        print(f"vzmon backfill: error: {r.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK
