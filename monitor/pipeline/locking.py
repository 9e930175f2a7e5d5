"""The store's lock: one writer at a time, across processes (cron ticks, watch, demo, alerts send).

Part of ``monitor.pipeline``. The lock is ``flock(2)`` on ``<store>.lock``, beside the store's real
path (a symlink to the store shares it): the kernel holds it for the open file and drops it when
the process ends, even by SIGKILL, so a killed run never leaves the store locked. It is taken
without waiting: a second run gives up at once (``LockHeld``, exit 73) and the next tick runs.
vzmon runs on POSIX systems, where this one system call is the whole of a cross-process lock (and
costs a cron run nothing to import).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from monitor.errors import LockHeld, StoreError
from monitor.settings.table import Settings
from monitor.store.db import Store

__all__ = ["store_lock"]


@contextmanager
def store_lock(settings: Settings, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the store's lock file, or raise LockHeld if another run holds it: at once, or after
    ``wait_s`` seconds of trying (``backfill`` waits for a cron run's few seconds of writing).

    A file at the store's path that is not a vzmon store is refused first (NotAStore), so no lock
    file is ever left beside another application's database.
    """
    Store.check(settings.store_db)
    path = settings.lock_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(
            f"cannot create the lock file {path}: {exc.strerror}; set VZMON_DB (or store.db) to a writable folder",
            path=path,
        ) from None
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                did = (
                    f" for {wait_s:.0f} s; the work waiting for it was not stored, run it again (`vzmon watch` "
                    "holds it for as long as it runs: stop it first)"
                    if wait_s
                    else "; this run did nothing (cron: the next tick will run)"
                )
                raise LockHeld(f"another vzmon run holds the lock {path}{did}", path=path) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
