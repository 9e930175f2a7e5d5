"""The report benchmark's reading of a child's memory (``benchmarks.bench_report._live_private``):
a live child's private memory is read, an exited one's never. Real processes, synchronised on a
pipe and on the kernel's exit notice, not on time. The moment it exists for, a child caught while
its memory is torn down, lasts milliseconds and cannot be held still for a test: this one holds the
flags to the right field of ``/proc/<pid>/stat`` (a live child is kept) and an exited child to 0."""

from __future__ import annotations

import os
import sys
import warnings

import pytest

from benchmarks.bench_report import _live_private

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

OWN = 16 << 20  # what the child writes of its own


def test_a_live_child_is_read_and_an_exited_one_is_not():
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns on forking with threads; the child runs none
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: memory of its own, then wait to be told to exit
        try:
            os.close(ready_r)
            os.close(go_w)
            block = bytearray(OWN)
            block[::4096] = b"\x01" * len(block[::4096])  # every page written: private, resident
            os.write(ready_w, b"r")
            os.read(go_r, 1)
        finally:
            os._exit(0)
    os.close(ready_w)
    os.close(go_r)
    try:
        assert os.read(ready_r, 1) == b"r"
        assert _live_private(pid) >= OWN  # live: its flags say nothing of an exit
    finally:
        os.close(go_w)  # the child's read returns: it exits
        os.close(ready_r)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped: a zombie
    assert _live_private(pid) == 0
    os.waitpid(pid, 0)
    assert _live_private(pid) == 0  # gone
