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
no Arrow data, so the idle threads of Arrow's pools, copied as dead, are never waited on.
Anywhere else, with one core, or when the system will not fork (no memory or process to spare),
the charts are drawn here one after another.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from monitor.report.charts.base import Chart, ChartInputs

__all__ = ["Drawn", "draw_charts", "share", "two_cores"]

log = logging.getLogger(__name__)

# measured on a 90-day report: the forked helper draws its charts about a fifth slower than this
# process would (the pages it writes to are copied first)
HELPER_SLOWER = 1.25


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
    drawn. An error in either process is raised here, the helper's as it was raised there."""
    forked = _fork() if len(charts) >= 2 and two_cores() else None
    if forked is None:
        drawn = {}
        for chart in charts:
            drawn[chart.title(inputs)] = chart.draw(inputs, folder / chart.stem)
            done(1)
        return Drawn(drawn)
    pid, read, write = forked
    mine, theirs = share(charts)
    if pid == 0:  # the helper: draw, report, exit
        os.close(read)
        _helper(theirs, inputs, folder, write)
    os.close(write)
    try:
        paths: dict[str, list[Path]] = {}
        for chart in mine:
            paths[chart.stem] = chart.draw(inputs, folder / chart.stem)
            done(1)
        with os.fdopen(read, "rb") as pipe:
            read = -1
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if read >= 0:
            os.close(read)
        if pid:  # this process failed first: the helper's work is of no use
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if not payload:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
        raise RuntimeError(
            f"the process drawing charts {', '.join(c.stem for c in theirs)} ended without a result ({how})"
        )
    outcome = pickle.loads(payload)
    if isinstance(outcome, BaseException):
        raise outcome
    theirs_paths, private = outcome
    paths.update(theirs_paths)
    done(len(theirs))
    return Drawn({chart.title(inputs): paths[chart.stem] for chart in charts}, private)


def _fork() -> tuple[int, int, int] | None:
    """Fork the helper: (its pid, or 0 in it; the pipe's read and write ends). None when the system
    will not fork now (no memory or processes to spare): the charts are then drawn here."""
    read, write = os.pipe()
    gc.freeze()  # the objects so far are left out of collections, so neither process copies their pages
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
    if pid:
        gc.unfreeze()  # the helper keeps its objects frozen: it never collects what it shares
    return pid, read, write


def _helper(charts: Sequence[Chart], inputs: ChartInputs, folder: Path, write: int) -> NoReturn:
    """The forked child's whole life: never returns."""
    code = 0
    try:
        drawn, private = {}, 0
        for chart in charts:
            drawn[chart.stem] = chart.draw(inputs, folder / chart.stem)
            private = max(private, _private_bytes())
        payload = pickle.dumps((drawn, private))
    except BaseException as error:  # every error goes to the parent, which raises it
        code = 1
        error.add_note(f"raised in the process drawing charts:\n{traceback.format_exc()}")  # for --debug
        try:
            payload = pickle.dumps(error)
        except Exception:  # an error that does not pickle goes as its text
            payload = pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    try:
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(code)


def _private_bytes() -> int:
    """This process's resident memory not shared with its parent (Linux ``smaps_rollup``)."""
    total = 0
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total
