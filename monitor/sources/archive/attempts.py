"""The ways to read one day of adsb.lol's archive (a release online, or local files), and the read
of the day kept: the first that passes the day's checks, else the best.

Place in the flow: ``pipeline.backfill`` asks for a day's :class:`Attempt` s (:func:`local_attempt`,
:func:`remote_attempts`) and reads them with :func:`read_attempts`; the checks are history.md
§A.1's: 48 readable heatmaps, 256 ``traces/xx`` folders, a size near the neighbouring days'
(a release cut short, or a pod that was down, fails them).
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from monitor.sources.archive.day import HALF_HOURS
from monitor.sources.archive.heatmap import Box
from monitor.sources.archive.local import LocalDay, folder_members
from monitor.sources.archive.reader import TRACE_DIRS, DayRead, Members, TracePool, read_day, tar_members
from monitor.sources.archive.tarstream import ArchiveError

if TYPE_CHECKING:
    import requests

__all__ = ["SMALL", "Attempt", "ReadOf", "check", "local_attempt", "read_attempts", "remote_attempts", "snapshots_in"]

log = logging.getLogger(__name__)

SMALL = 0.7  # a day under this share of its neighbours' median size is suspect (a release cut short)


@dataclass(frozen=True)
class Attempt:
    """One way to read a day: a release (downloaded) or local files, and how to open it."""

    tag: str
    location: str
    total_bytes: int | None
    open: Callable[[], tuple[Members, Callable[[], None]]]  # -> (its members, close)


def local_attempt(found: LocalDay) -> Attempt:
    label = f"{found.day} ({found.tag})"

    def opened() -> tuple[Members, Callable[[], None]]:
        if found.folder is not None:
            root = found.folder
            return (lambda wanted, progress: folder_members(root, wanted, label, progress)), lambda: None
        if found.missing:
            raise ArchiveError(
                f"{label}: {', '.join(found.missing)} is missing beside {found.location}: give every part"
            )
        parts = found.open()

        def close() -> None:
            for f in parts:
                f.close()

        return tar_members(parts, f"{label}: {found.location}"), close

    size = sum(p.stat().st_size for p in found.parts) if found.parts else None
    return Attempt(found.tag, found.location, size, opened)


def remote_attempts(
    day: date,
    session: requests.Session,
    sleep: Callable[[float], None],
    listings: dict[int, str],
    raw_base: str,
    download_base: str,
) -> list[Attempt]:
    """The day's releases online, most preferred first (``listings`` keeps each year's release list
    for the whole run). Raises ArchiveError (ReleaseNotFound) when the day has none."""
    from monitor.sources.archive.download import open_parts
    from monitor.sources.archive.release import Release, candidates

    found = candidates(day, session, raw_base=raw_base, download_base=download_base, listings=listings)

    def opener(release: Release) -> Callable[[], tuple[Members, Callable[[], None]]]:
        def opened() -> tuple[Members, Callable[[], None]]:
            parts = open_parts(release, session, sleep=sleep)

            def close() -> None:
                for part in parts:
                    part.close()

            return tar_members(parts, f"{day} ({release.tag}): {' + '.join(release.urls)}"), close

        return opened

    return [Attempt(r.tag, " + ".join(r.urls), r.total, opener(r)) for r in found]


def check(read: DayRead, neighbours: Sequence[int]) -> list[str]:
    """What makes a read day suspect (history.md §A.1): missing or unreadable heatmaps, missing trace
    folders, a size far below its neighbours' (``neighbours``: the sizes of the complete days near it)."""
    problems = []
    if read.heatmaps < HALF_HOURS:
        problems.append(f"{HALF_HOURS - read.heatmaps} of its {HALF_HOURS} heatmaps are missing")
    if read.unreadable:
        problems.append(f"{len(read.unreadable)} of its heatmaps cannot be read")
    if read.trace_dirs < TRACE_DIRS:
        problems.append(f"only {read.trace_dirs} of its {TRACE_DIRS} traces/xx folders are there")
    sizes = list(neighbours)
    if sizes and read.bytes < SMALL * statistics.median(sizes):
        problems.append(
            f"{read.bytes / 1e6:,.0f} MB is far below its neighbours' {statistics.median(sizes) / 1e6:,.0f} MB "
            f"(median of {len(sizes)} days)"
        )
    return problems


@dataclass(frozen=True)
class ReadOf:
    """The read of a day kept: from which release, its warnings, and why it is suspect (empty: it
    passed the day's checks)."""

    read: DayRead
    attempt: Attempt
    warnings: list[str]
    suspect: list[str]


def read_attempts(
    attempts: Sequence[Attempt],
    day: date,
    neighbours: Sequence[int],
    step_s: int,
    box: Box,
    areas: dict[str, Box],
    pool: TracePool,
    started: Callable[[str, int | None], None],
    advanced: Callable[[int, int], None],
) -> tuple[ReadOf | None, list[str]]:
    """Read the day from its first release that passes the day's checks (:func:`check` against
    ``neighbours``); else keep the best suspect read (the most snapshots). ``started(tag, bytes)``
    hears of each release begun, ``advanced(bytes, members)`` of its progress. Returns the read
    kept (None: no release could be read at all) and the errors of the other releases, each
    naming the day, the release and its files."""
    errors: list[str] = []
    best: ReadOf | None = None
    for attempt in attempts:
        started(attempt.tag, attempt.total_bytes)
        try:
            members_of, close = attempt.open()
            try:
                read = read_day(members_of, day, f"{day} ({attempt.tag})", step_s, box, areas=areas, pool=pool,
                                progress=advanced)  # fmt: skip
            finally:
                close()
        except ArchiveError as exc:  # each message names the day, the release and its files
            message = str(exc) if str(exc).startswith(f"{day} ") else f"{day} ({attempt.tag}): {exc}"
            errors.append(message)
            log.warning("%s", message)
            continue
        suspect = [f"{day} ({attempt.tag}): {p}" for p in check(read, neighbours)]
        if not suspect:
            return ReadOf(read, attempt, read.warnings, []), errors
        log.warning("%s", "; ".join(suspect))
        if best is None or snapshots_in(read) > snapshots_in(best.read):
            best = ReadOf(read, attempt, read.warnings, suspect)
        errors.extend(suspect)
    if best is None:
        return None, errors
    kept = f"{day} ({best.attempt.tag})"
    return best, [e for e in errors if not e.startswith(kept)]


def snapshots_in(read: DayRead) -> int:
    return sum(1 for s in read.snapshots if s.positions is not None)
