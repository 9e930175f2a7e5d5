"""The store's lock: one writer at a time, across processes (cron ticks, watch, demo, alerts).

Part of ``monitor.pipeline``. ``filelock`` holds an OS lock (flock) on ``<store>.lock``; the OS
drops it when the process dies, even by SIGKILL, so a killed run never leaves the store locked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import filelock

from monitor.errors import LockHeld, StoreError
from monitor.settings import Settings

__all__ = ["store_lock"]


@contextmanager
def store_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's lock file, or raise LockHeld at once if another run holds it."""
    path = settings.lock_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path), blocking=False)
        lock.acquire()
    except filelock.Timeout:
        raise LockHeld(
            f"another vzmon run holds the lock {path}; this run did nothing (cron: the next tick will run)",
            path=path,
        ) from None
    except OSError as exc:
        raise StoreError(
            f"cannot create the lock file {path}: {exc.strerror}; set VZMON_DB (or store.db) to a writable folder",
            path=path,
        ) from None
    try:
        yield
    finally:
        lock.release()
