"""Files users keep: every output is written aside and renamed into place only when complete.

Place in the flow: shared vocabulary. ``export``, ``report`` and the zones map write through here,
so a run killed at any moment leaves either the previous complete output or the new complete
output, never a cut file or a half-filled folder, and a command never deletes or overwrites a
folder it did not make.

- :func:`atomic_file`: a file is written to a hidden temporary file beside its target, flushed to
  disk (fsync), then renamed over the target (``os.replace`` is atomic on POSIX), and the folder
  is synced so the rename itself survives a power cut.
- :func:`staged_folder`: a folder of outputs (a report, a partitioned Parquet export) is built in
  a hidden sibling folder, marked as vzmon's (:data:`MARKER`), synced, and then swapped with the
  old folder in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, and
  a run killed between them is repaired by the next one). Only then is the old folder removed.
- A folder that exists, is not empty and is neither marked as vzmon's of the same kind nor laid
  out exactly as vzmon writes that kind is refused with :class:`ConfigError` before anything is
  written: choose another path.

Errors: :class:`ConfigError` (exit 2) for a path of the wrong kind or a folder that is not
vzmon's; :class:`OutputError` (exit 1) when the disk refuses the write (full, read-only, no
permission), naming the path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from monitor import __version__
from monitor.errors import ConfigError, OutputError

__all__ = [
    "MARKER",
    "atomic_file",
    "check_folder",
    "describe_os_error",
    "free_bytes",
    "fsync_tree",
    "staged_folder",
    "writing",
]

log = logging.getLogger(__name__)

MARKER = ".vzmon-output"  # JSON: which kind of output the folder holds, and which vzmon wrote it
_PARTIAL = ".partial-"  # hidden siblings: .<name>.partial-<pid>-<random> (being written)
_OLD = ".old-"  # .<name>.old-<pid>-<random> (the previous folder, between the two renames)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def describe_os_error(exc: OSError, path: Path, fix: str) -> str:
    """One line for a failed write: what the disk said about ``path``, and ``fix``."""
    if exc.errno in _NO_SPACE:
        free = free_bytes(path)
        left = f" ({free / 1e6:,.1f} MB free)" if free is not None else ""
        return f"no space left on the disk holding {path}{left}; free some space or {fix}"
    if exc.errno == errno.EROFS:
        return f"cannot write {path}: the file system is read-only; {fix}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write {path}: permission denied; {fix}"
    if exc.errno == errno.ENOTDIR:
        return f"cannot write {path}: a part of that path is a file, not a folder; {fix}"
    return f"cannot write {path}: {exc.strerror or exc}; {fix}"


def free_bytes(path: Path) -> int | None:
    """Bytes free for writing on the disk holding ``path`` (or its nearest existing folder)."""
    for p in (path, *path.parents):
        try:
            return shutil.disk_usage(p).free
        except OSError:
            continue
    return None


@contextmanager
def writing(path: Path, fix: str) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into :class:`OutputError` naming ``path`` and ``fix``."""
    try:
        yield
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path, fix), path=path) from exc


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot sync a folder; the data itself is synced
        if not directory or exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and ``root`` itself) to disk."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder), directory=True)


def _hidden_sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}{tag}{os.getpid()}-{secrets.token_hex(3)}")


@contextmanager
def atomic_file(path: Path, fix: str = "choose another path") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; on success it replaces ``path`` atomically.

    ``path`` must not be a folder (:class:`ConfigError`). The parent folder is created if missing.
    If the block raises, the temporary file is removed and ``path`` is untouched. ``OSError`` from
    the disk becomes :class:`OutputError` with ``fix`` in its message.
    """
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file path (e.g. {path / path.name}), or {fix}", key=str(path))
    tmp = _hidden_sibling(path, ".tmp-")
    with writing(path, fix):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield tmp
            _fsync_path(tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        _fsync_path(path.parent, directory=True)


def _marker(path: Path) -> dict[str, object] | None:
    try:
        doc = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _pid_alive(name: str, tag: str) -> bool:
    try:
        pid = int(name.split(tag, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _repair(path: Path) -> None:
    """Undo what a killed run left beside ``path``: put back a previous folder caught between the
    two renames, and remove partial folders whose writer is gone (vzmon made both)."""
    parent = path.parent
    if not parent.is_dir():
        return
    for sibling in sorted(parent.glob(f".{path.name}{_OLD}*")):
        if _pid_alive(sibling.name, _OLD):
            continue
        if not path.exists() and _marker(sibling) is not None:
            os.rename(sibling, path)
            log.warning("restored %s, left aside by a run that was killed while replacing it", path)
        elif _marker(sibling) is not None:
            shutil.rmtree(sibling)
    for sibling in parent.glob(f".{path.name}{_PARTIAL}*"):
        if not _pid_alive(sibling.name, _PARTIAL):
            shutil.rmtree(sibling, ignore_errors=True)


def check_folder(path: Path, kind: str, laid_out_as: Callable[[Path], bool], flag: str) -> None:
    """Refuse ``path`` unless it is absent, empty, or a folder of vzmon output of ``kind``.

    ``laid_out_as(path)`` recognises a folder of that kind written before folders were marked.
    """
    if not path.exists():
        return
    if not path.is_dir():
        raise ConfigError(f"{path} is a file, but a folder is needed here; choose a folder path with {flag}", key=flag)
    marker = _marker(path)
    if marker is not None:
        if marker.get("kind") == kind:
            return
        raise ConfigError(
            f"{path} holds vzmon's {marker.get('kind')} output, not {kind}; nothing was changed: choose another "
            f"folder with {flag}",
            key=flag,
        )
    entries = list(path.iterdir())
    if not entries or laid_out_as(path):
        return
    example = sorted(e.name for e in entries)[0]
    raise ConfigError(
        f"{path} holds files vzmon did not write (e.g. {example}); nothing was changed: choose another folder with "
        f"{flag}, or empty that one",
        key=flag,
    )


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` in one atomic step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only here: the store imports this module on every poll, and never swaps folders

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


@contextmanager
def staged_folder(
    path: Path, kind: str, laid_out_as: Callable[[Path], bool], flag: str, fix: str = "choose another folder"
) -> Iterator[Path]:
    """Yield a hidden folder beside ``path`` to fill; on success it takes the place of ``path``.

    Refuses (before anything is written) a ``path`` that :func:`check_folder` does not accept. On
    success the folder gets the :data:`MARKER`, everything is synced to disk and the folder is
    swapped in atomically; the previous folder (vzmon's) is then removed. If the block raises, the
    partial folder is removed and ``path`` is untouched.
    """
    with writing(path, fix):
        _repair(path)
    check_folder(path, kind, laid_out_as, flag)
    stage = _hidden_sibling(path, _PARTIAL)
    with writing(path, fix):
        path.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir()
    try:
        with writing(path, fix):
            yield stage
            at = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
            stamp = {"kind": kind, "written_by": f"vzmon {__version__}", "at": at}
            (stage / MARKER).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
            fsync_tree(stage)
            _swap_in(stage, path)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap_in(stage: Path, path: Path) -> None:
    if not path.exists():
        os.rename(stage, path)
    elif _exchange(stage, path):
        shutil.rmtree(stage)  # now the previous folder
    else:
        old = _hidden_sibling(path, _OLD)
        if not (path / MARKER).exists():  # so that a repair knows the folder caught aside is vzmon's
            (path / MARKER).write_text("{}\n", encoding="utf-8")
        os.rename(path, old)
        os.rename(stage, path)
        shutil.rmtree(old)
    _fsync_path(path.parent, directory=True)
