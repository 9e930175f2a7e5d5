"""One day of adsb.lol's archive read in one pass: its snapshots (from the 48 heatmaps) and what
its traces say of the aircraft over the zones.

Place in the flow: ``pipeline.backfill`` opens a day's parts (downloads or local files) and calls
:func:`read_day`; the tar streams past once (``tarstream``), nothing is written to disk. Each
heatmap becomes its half hour's snapshots as it arrives (``day``); each trace goes through a cheap
prefilter and, if it may touch the box, a full read (``traces``). Traces are many (~70,000 a day,
~3 GB): with ``workers`` > 1 they are read in that many processes, in batches, at most a few
batches in flight so memory stays flat while the main process reads the tar.

What a day must hold (history.md §A.1): 48 heatmaps and 256 ``traces/xx`` folders. A heatmap
that cannot be read is a gap for its half hour and a warning naming the file; so is a trace (the
aircraft keeps its positions, without its database facts). A tar that cannot be read whole raises
``ArchiveError`` naming the day and its files.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from monitor.sources.archive.day import HALF_HOURS, DaySnapshot, half_hour_of, half_hour_snapshots
from monitor.sources.archive.heatmap import Box, HeatmapError
from monitor.sources.archive.tarstream import members
from monitor.sources.archive.traces import AircraftDay, TraceError, prefilter, read_trace

__all__ = ["TRACE_DIRS", "DayRead", "Members", "TracePool", "read_day", "tar_members"]

TRACE_DIRS = 256  # traces/00 ... traces/ff, made by readsb at the start of every day
BATCH_BYTES = 4 << 20  # traces sent to a worker at once
IN_FLIGHT = 3  # batches per worker not yet read back


@dataclass
class DayRead:
    """What one pass over a day's tar found."""

    snapshots: list[DaySnapshot] = field(default_factory=list)
    aircraft: dict[str, AircraftDay] = field(default_factory=dict)
    bytes: int = 0
    members: int = 0
    heatmaps: int = 0  # heatmap members found (readable or not)
    unreadable: list[str] = field(default_factory=list)  # why each heatmap found could not be read
    trace_dirs: int = 0
    traces: int = 0  # trace members found
    warnings: list[str] = field(default_factory=list)


def _die_with_parent(parent: int) -> None:
    """A worker's first act: ask the kernel (Linux) for SIGKILL when the backfill that made it dies,
    even by SIGKILL, so no worker is left writing results nobody reads (holding a cron log open)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the backfill died before the request took effect
        os._exit(1)


def _read_traces(batch: list[tuple[str, bytes]], day: date, box: Box) -> list[AircraftDay | str]:
    """A worker's job: each trace of ``batch`` that touches ``box``, or the reason it cannot be read."""
    pattern = prefilter(box)
    out: list[AircraftDay | str] = []
    for name, data in batch:
        try:
            found = read_trace(data, name, day, box, pattern)
        except TraceError as exc:
            out.append(str(exc))
            continue
        if found is not None:  # its points stay here (an empty table: a slice would pickle its parent's buffers)
            out.append(dataclasses.replace(found, points=found.points.schema.empty_table()))
    return out


class TracePool:
    """The processes that read traces (``workers`` of them; 1: none, everything in this process).
    Made once per backfill run and reused for every day; use it as a context manager."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:  # spawned: the workers are this process's children, and die with it
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
            )

    def submit(self, batch: list[tuple[str, bytes]], day: date, box: Box) -> Future[list[AircraftDay | str]]:
        if self._pool is not None:
            return self._pool.submit(_read_traces, batch, day, box)
        done: Future[list[AircraftDay | str]] = Future()
        done.set_result(_read_traces(batch, day, box))
        return done

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> TracePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _trace_dir(name: str) -> str | None:
    """``xx`` of ``traces/xx/trace_full_<hex>.json``, or None for another member."""
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "traces" and parts[2].startswith("trace_full_") and parts[2].endswith(".json"):
        return parts[1]
    return None


Members = Callable[[Callable[[str], bool], Callable[[int, int], None]], Iterator[tuple[str, bytes]]]


def tar_members(parts: Sequence[BinaryIO], label: str) -> Members:
    """A day's members from its tar parts (``tarstream.members``), for :func:`read_day`."""
    return lambda wanted, progress: members(parts, wanted, label, progress=progress)


def read_day(
    members_of: Members,
    day: date,
    label: str,
    step_s: int,
    box: Box,
    *,
    areas: Mapping[str, Box] | None = None,
    pool: TracePool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DayRead:
    """Read one day's members (``members_of(wanted, progress)``: :func:`tar_members`, or an extracted
    folder's ``local.folder_members``): its snapshots every ``step_s`` seconds inside
    ``box`` (west, south, east, north), with what each saw in ``areas``, and the aircraft whose
    traces touch ``box``. ``label`` names the day and its files in messages; ``progress(bytes,
    members)`` is called as the tar streams past. Raises ArchiveError for a tar that cannot be read
    whole, ValueError for a bad step."""
    read = DayRead()
    dirs: set[str] = set()
    heatmaps: dict[int, list[DaySnapshot]] = {}
    own_pool = pool is None
    workers = pool or TracePool(1)
    pending: deque[Future[list[AircraftDay | str]]] = deque()
    batch: list[tuple[str, bytes]] = []
    batch_bytes = 0

    def collect(future: Future[list[AircraftDay | str]]) -> None:
        for found in future.result():
            if isinstance(found, str):
                read.warnings.append(found)
            else:
                read.aircraft[found.icao24] = found

    def flush() -> None:
        nonlocal batch, batch_bytes
        if batch:
            pending.append(workers.submit(batch, day, box))
            batch, batch_bytes = [], 0
        while len(pending) > IN_FLIGHT * workers.workers:
            collect(pending.popleft())

    def wanted(name: str) -> bool:
        read.members += 1
        xx = _trace_dir(name)
        if xx is not None:
            dirs.add(xx)
            read.traces += 1
            return True
        return half_hour_of(name) is not None

    def passed(n_bytes: int, n_members: int) -> None:
        read.bytes = n_bytes
        if progress is not None:
            progress(n_bytes, n_members)

    stream = members_of(wanted, passed)
    try:
        for name, data in stream:
            half_hour = half_hour_of(name)
            if half_hour is not None:
                read.heatmaps += 1
                try:
                    heatmaps[half_hour] = half_hour_snapshots(half_hour, data, day, step_s, box, label, areas,
                                                              strict=True)  # fmt: skip
                except HeatmapError as exc:  # a gap for its half hour, and a day that fails its checks
                    read.unreadable.append(str(exc))
                    heatmaps[half_hour] = half_hour_snapshots(half_hour, None, day, step_s, box, label, areas, str(exc))
                continue
            batch.append((f"{label}: {name}", data))
            batch_bytes += len(data)
            if batch_bytes >= BATCH_BYTES:
                flush()
        flush()
        while pending:
            collect(pending.popleft())
    finally:
        for future in pending:
            future.cancel()
        if own_pool:
            workers.close()
    read.trace_dirs = len(dirs)
    trace_warnings = read.warnings
    read.warnings = []
    for half_hour in range(HALF_HOURS):
        found = heatmaps.get(half_hour)
        if found is None:
            found = half_hour_snapshots(half_hour, None, day, step_s, box, label, areas)
        read.snapshots.extend(found)
        gaps = [s.gap for s in found if s.gap]
        if gaps:  # one line per half hour with gaps, naming its file
            more = f" ({len(gaps)} of its {len(found)} snapshots are gaps)" if len(gaps) > 1 else ""
            read.warnings.append(gaps[0] + more)
    read.warnings.extend(trace_warnings)
    return read
