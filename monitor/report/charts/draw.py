"""Drawing a report's charts on two cores.

Place in the flow: ``pipeline.report`` hands the charts it shows and their inputs here once the
analysis is done. matplotlib holds the GIL while it lays out text and rasterises, so threads would
draw the charts one after another. On Linux with two cores or more the charts are shared in two
sets of about equal drawing time (:attr:`~monitor.report.charts.base.Chart.cost`, :func:`share`),
and a child process, forked at that moment, draws one set while this process draws the other.
Forked, it shares the inputs and every imported module: nothing to pickle, nothing to import (a
fresh interpreter would spend two seconds importing matplotlib, pandas and shapely). It sends
back the files it wrote, or its error, through a pipe, and ends with ``os._exit``, running none
of the parent's clean-up. The report's own worker threads have ended by then; the child touches
no Arrow data, so the idle threads of Arrow's pools, copied as dead, are never waited on. A
helper that dies anyway, or gets stuck, is killed and its charts are drawn here.
Anywhere else, with one core, or when the system will not fork (no memory or process to spare),
the charts are drawn here one after another.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import select
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from monitor.report.charts.base import Chart, ChartInputs

__all__ = ["Drawn", "draw_charts", "private_bytes", "share", "two_cores"]

log = logging.getLogger(__name__)

# measured on a 90-day report: the forked helper draws its charts about a quarter slower than this
# process would (the pages it writes to are copied first)
HELPER_SLOWER = 1.25
# how long the helper may take once this process has drawn its share: (seconds, and times this
# process's time); beyond, it is taken for stuck (a lock copied held by the fork), killed, and its
# charts are drawn here
PATIENCE = (120.0, 10.0)


@dataclass(frozen=True)
class Drawn:
    """The files of each chart (by title, in the order given), and the memory the helper process
    used of its own (bytes not shared with this one, the most after any of its charts; 0 when the
    charts were drawn here alone)."""

    charts: dict[str, list[Path]]
    helper_private_bytes: int = 0


def two_cores() -> bool:
    """Whether charts are drawn in two processes here: Linux (fork is safe for what the child
    does, and cheap), with at least two cores this process may run on."""
    return sys.platform == "linux" and len(os.sched_getaffinity(0)) >= 2


def share(charts: Sequence[Chart]) -> tuple[list[Chart], list[Chart]]:
    """(this process's, the helper's): the costliest chart first, each to the side that would be
    done first, the helper drawing :data:`HELPER_SLOWER` times slower."""
    sides: tuple[list[Chart], list[Chart]] = ([], [])
    load = [0.0, 0.0]
    for chart in sorted(charts, key=lambda c: -c.cost):
        side = 0 if load[0] <= load[1] else 1
        sides[side].append(chart)
        load[side] += chart.cost * (HELPER_SLOWER if side else 1.0)
    return sides


def draw_charts(
    charts: Sequence[Chart], inputs: ChartInputs, folder: Path, done: Callable[[int], object] = lambda _n: None
) -> Drawn:
    """Draw ``charts`` into ``folder`` (``stem``.png and .svg each); ``done(n)`` after each ``n``
    drawn. An error in either process is raised here, the helper's as it was raised there. A
    helper that dies, or has not finished long after this process (:data:`PATIENCE`), is killed
    and its charts are drawn here."""
    mine, theirs = share(charts)
    forked = _fork() if theirs and two_cores() else None
    if forked is None:
        return Drawn(_by_title(charts, inputs, _draw_here(charts, inputs, folder, done)))
    pid, read, write = forked
    if pid == 0:  # the helper: draw, report, exit, whatever happens
        try:
            os.close(read)
            _helper(theirs, inputs, folder, write)
        finally:
            os._exit(1)
    os.close(write)
    payload: bytes | None = None
    try:
        started = time.monotonic()
        paths = _draw_here(mine, inputs, folder, done)
        payload = _read_all(read, PATIENCE[0] + PATIENCE[1] * (time.monotonic() - started))
    finally:
        os.close(read)
        if payload is None:  # this process failed, or the helper is stuck: its work is of no use
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        gc.unfreeze()  # only now: a collection here while the helper lives would copy the shared pages
    outcome = _unpickled(payload)
    if outcome is None:
        how = (
            "did not finish in time"
            if payload is None
            else f"ended by signal {os.WTERMSIG(status)}"
            if os.WIFSIGNALED(status)
            else f"ended with exit {os.waitstatus_to_exitcode(status)}"
        )
        log.warning("the process drawing charts %s %s: drawn here", ", ".join(c.stem for c in theirs), how)
        paths.update(_draw_here(theirs, inputs, folder, done))
        private = 0
    else:
        if isinstance(outcome, BaseException):
            raise outcome
        theirs_paths, private = outcome
        paths.update(theirs_paths)
        done(len(theirs))
    return Drawn(_by_title(charts, inputs, paths), private)


def _unpickled(payload: bytes | None) -> Any:
    """What the helper sent, or None when it sent nothing whole (killed, perhaps mid-write)."""
    if not payload:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # a cut payload: as if none came
        return None


def _by_title(charts: Sequence[Chart], inputs: ChartInputs, paths: dict[str, list[Path]]) -> dict[str, list[Path]]:
    """Each chart's files (``paths``, by stem) by its title, in the order of ``charts``."""
    return {chart.title(inputs): paths[chart.stem] for chart in charts}


def _draw_here(
    charts: Sequence[Chart], inputs: ChartInputs, folder: Path, done: Callable[[int], object]
) -> dict[str, list[Path]]:
    """Each chart drawn in this process: its files by its stem."""
    drawn = {}
    for chart in charts:
        drawn[chart.stem] = chart.draw(inputs, folder / chart.stem)
        done(1)
    return drawn


def _read_all(fd: int, within_s: float) -> bytes | None:
    """Everything written to the pipe ``fd`` until its other end closes; None if that takes more
    than ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _fork() -> tuple[int, int, int] | None:
    """Fork the helper: (its pid, or 0 in it; the pipe's read and write ends). None when the system
    will not fork now (no memory or processes to spare): the charts are then drawn here. The
    objects made so far are frozen out of the collector until the helper is gone, so neither
    process copies the pages they share by collecting them; the helper never thaws them."""
    read, write = os.pipe()
    gc.freeze()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns on forking a process with threads: see the module docstring for
            # why this child never waits on one
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            pid = os.fork()
    except OSError as error:
        gc.unfreeze()
        os.close(read)
        os.close(write)
        log.info("charts drawn in one process: cannot fork (%s)", error)
        return None
    return pid, read, write


def _helper(charts: Sequence[Chart], inputs: ChartInputs, folder: Path, write: int) -> NoReturn:
    """The forked child's whole life: draw, send the result or the error, exit; never returns."""
    code = 0
    try:
        drawn, private = {}, 0
        for chart in charts:
            drawn[chart.stem] = chart.draw(inputs, folder / chart.stem)
            private = max(private, private_bytes())
        payload = pickle.dumps((drawn, private))
    except BaseException as error:  # every error goes to the parent, which raises it
        code = 1
        payload = _error_payload(error)
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)


def _error_payload(error: BaseException) -> bytes:
    """``error`` pickled with its traceback as a note (for ``--debug``), if it comes back whole from
    a pickle (an exception whose constructor needs other arguments than it keeps does not); else a
    RuntimeError with its text."""
    with contextlib.suppress(Exception):
        error.add_note(f"raised in the process drawing charts:\n{traceback.format_exc()}")
    try:
        payload = pickle.dumps(error)
        pickle.loads(payload)
        return payload
    except Exception:  # any failure to round-trip: send the text
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error} (raised in the process drawing charts)"))


def private_bytes(pid: int | None = None) -> int:
    """A process's resident memory shared with no other (Linux ``smaps_rollup``; this process by
    default): what a forked helper adds. 0 when it cannot be read (or the process is gone)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid or 'self'}/smaps_rollup").read_text().splitlines():
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total
