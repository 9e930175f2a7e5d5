"""Files users keep: every output is written aside and renamed into place only when complete, and
nothing vzmon did not write is ever deleted or overwritten.

Place in the flow: shared vocabulary. ``export``, ``report`` and the zones map write through here,
so a run killed at any moment leaves either the previous complete output or the new complete
output, never a cut file or a half-filled folder.

- :func:`atomic_file`: a file is written to a hidden temporary file beside its target, flushed to
  disk (fsync), then renamed over the target (``os.replace`` is atomic on POSIX), and the folder
  is synced so the rename itself survives a power cut. An existing target is replaced only when it
  is a file of the same kind vzmon wrote (the caller's ``replaceable`` test).
- :func:`staged_folder`: a folder of outputs (a report, a partitioned Parquet export) is built in
  a hidden sibling folder, marked as vzmon's (:data:`MARKER`), synced, and then swapped with the
  old folder in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, and
  a run killed between them is repaired by the next one). Only then is the old folder removed.
- A folder is replaced only when everything in it is what vzmon writes there (a :class:`Layout`),
  and it carries vzmon's mark (or, for folders written before marks existed, its signature). A
  folder holding anything else (a file the user added to a report folder, say) is refused before
  anything is written: choose another path.
- A link given as the output path is followed: the output is written where it points, and the
  link is left as it is.

Errors: :class:`ConfigError` (exit 2) for a path of the wrong kind or an output vzmon did not
write; :class:`OutputError` (exit 1) when the disk refuses the write (full, read-only, no
permission), naming the path, the free space when it ran out, and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor import __version__
from monitor.errors import ConfigError, OutputError

__all__ = [
    "MARKER",
    "Layout",
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
_TMP = ".tmp-"  # hidden siblings: .<name>.tmp-<pid>-<random> (a file being written)
_PARTIAL = ".partial-"  # .<name>.partial-<pid>-<random> (a folder being written)
_OLD = ".old-"  # .<name>.old-<pid>-<random> (the previous folder, between the two renames)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@dataclass(frozen=True)
class Layout:
    """What vzmon writes in a folder of one ``kind`` of output: ``holds(entry)`` says whether a file
    or folder inside is one vzmon writes there; ``signed(folder)`` whether a folder written before
    folders were marked carries vzmon's signature (its generator line, its schema)."""

    kind: str
    holds: Callable[[Path], bool]
    signed: Callable[[Path], bool]


def free_bytes(path: Path) -> int | None:
    """Bytes free for writing on the disk holding ``path`` (or its nearest existing folder)."""
    for p in (path, *path.parents):
        try:
            return shutil.disk_usage(p).free
        except OSError:
            continue
    return None


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
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"cannot write {path}: a part of that path is a file, not a folder; {fix}"
    return f"cannot write {path}: {exc.strerror or exc}; {fix}"


@contextmanager
def writing(path: Path, fix: str, cleanup: Callable[[], object] = lambda: None) -> Iterator[None]:
    """Turn an ``OSError`` raised in the block into :class:`OutputError` naming ``path`` and ``fix``
    (after ``cleanup``, so the free space it reports is what is left once vzmon's partial output is gone)."""
    try:
        yield
    except OSError as exc:
        with contextlib.suppress(OSError):
            cleanup()
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


def _real(path: Path) -> Path:
    """``path`` made absolute with every link followed (an output goes where a link points)."""
    return Path(os.path.realpath(path))


def _hidden_sibling(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}{tag}{os.getpid()}-{secrets.token_hex(3)}")


def _siblings(path: Path, tag: str) -> list[Path]:
    """vzmon's hidden working copies of ``path`` (its name is matched literally, not as a pattern)."""
    return sorted(path.parent.glob(f".{glob.escape(path.name)}{tag}*"))


def _remove(entry: Path) -> None:
    """Remove a working copy vzmon made: a folder with what is in it, or a file or a link."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            entry.unlink()


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


def _clean_files(path: Path) -> None:
    """Remove the temporary files that runs killed while writing ``path`` left beside it."""
    for sibling in _siblings(path, _TMP):
        if not _pid_alive(sibling.name, _TMP):
            _remove(sibling)


@contextmanager
def atomic_file(
    path: Path, fix: str = "choose another path", replaceable: Callable[[Path], bool] | None = None
) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; on success it replaces ``path`` atomically.

    ``path`` must not be a folder, and an existing file there is replaced only when
    ``replaceable(path)`` says vzmon wrote it (:class:`ConfigError` otherwise, before anything is
    written). The parent folder is created if missing. If the block raises, the temporary file is
    removed and ``path`` is untouched. ``OSError`` from the disk becomes :class:`OutputError`
    with ``fix`` in its message.
    """
    with writing(path, fix):
        path = _real(path)
        if path.is_dir():
            raise ConfigError(f"{path} is a folder; give a file path (e.g. {path / 'out'}), or {fix}", key=str(path))
        if path.exists() and replaceable is not None and not replaceable(path):
            raise ConfigError(
                f"{path} exists and vzmon did not write it; nothing was changed: {fix}, or remove it", key=str(path)
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        _clean_files(path)
    tmp = _hidden_sibling(path, _TMP)
    with writing(path, fix, cleanup=lambda: tmp.unlink(missing_ok=True)):
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


def _repair(path: Path) -> None:
    """Undo what a killed run left beside ``path``: put back a previous folder caught between the
    two renames, and remove partial folders whose writer is gone (vzmon made both)."""
    if not path.parent.is_dir():
        return
    for sibling in _siblings(path, _OLD):
        if _pid_alive(sibling.name, _OLD) or _marker(sibling) is None:
            continue
        if not path.exists():
            os.rename(sibling, path)
            log.warning("restored %s, left aside by a run that was killed while replacing it", path)
        else:
            _remove(sibling)
    for sibling in _siblings(path, _PARTIAL):
        if not _pid_alive(sibling.name, _PARTIAL):
            _remove(sibling)


def check_folder(path: Path, layout: Layout, flag: str) -> None:
    """Refuse ``path`` unless it is absent, empty, or a folder of vzmon's ``layout.kind`` output that
    holds nothing but what vzmon writes there. Raises ConfigError naming what is in the way, and
    OutputError when the folder cannot even be looked into."""
    with writing(path, f"choose another folder with {flag}"):
        path = _real(path)
        if not path.exists():
            return
        if not path.is_dir():
            raise ConfigError(
                f"{path} is a file, but a folder is needed here; choose a folder path with {flag}", key=flag
            )
        entries = [e for e in path.iterdir() if e.name != MARKER]
        _check_entries(path, entries, layout, flag)


def _check_entries(path: Path, entries: list[Path], layout: Layout, flag: str) -> None:
    marker = _marker(path)
    if marker is not None and marker.get("kind") != layout.kind:
        raise ConfigError(
            f"{path} holds vzmon's {marker.get('kind')} output, not {layout.kind}; nothing was changed: choose "
            f"another folder with {flag}",
            key=flag,
        )
    if not entries:
        return
    foreign = sorted(e.name for e in entries if not layout.holds(e))
    if foreign or (marker is None and not layout.signed(path)):
        example = foreign[0] if foreign else sorted(e.name for e in entries)[0]
        raise ConfigError(
            f"{path} holds files vzmon did not write (e.g. {example}); nothing was changed: choose another folder "
            f"with {flag}, or move them out",
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
def staged_folder(path: Path, layout: Layout, flag: str, fix: str | None = None) -> Iterator[Path]:
    """Yield a hidden folder beside ``path`` to fill; on success it takes the place of ``path``.

    Refuses (before anything is written) a ``path`` that :func:`check_folder` does not accept. On
    success the folder gets the :data:`MARKER`, everything is synced to disk and the folder is
    swapped in atomically; the previous folder (vzmon's) is then removed. If the block raises, the
    partial folder is removed and ``path`` is untouched.
    """
    fix = fix or f"choose another folder with {flag}"
    with writing(path, fix):
        path = _real(path)
        _repair(path)
        check_folder(path, layout, flag)
        path.parent.mkdir(parents=True, exist_ok=True)
        stage = _hidden_sibling(path, _PARTIAL)
        stage.mkdir()
    try:
        with writing(path, fix, cleanup=lambda: _remove(stage)):
            yield stage
            at = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
            stamp = {"kind": layout.kind, "written_by": f"vzmon {__version__}", "at": at}
            (stage / MARKER).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
            fsync_tree(stage)
            _swap_in(stage, path)
    except BaseException:
        _remove(stage)
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
