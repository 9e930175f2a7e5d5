"""A day of adsb.lol's archive as one tar stream: its parts (``.tar``, or ``.tar.aa`` + ``.tar.ab``
split at 2,000,000,000 bytes, mid-member) read in order, members handed out as they pass, nothing
written to disk.

Place in the flow: the archive source opens the parts (downloads or local files) and reads the
members it wants (the 48 heatmaps, the traces that touch the zones) through :func:`members`.

A day must be whole: a tar that stops before its end-of-archive blocks (two 512-byte blocks of
zeros) is a truncated download or a missing part, and an error naming the day, even when it stops
exactly between two members (Python's tarfile ends quietly there).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, Self

__all__ = ["ArchiveError", "Parts", "members"]


BLOCK = 512
END = 2 * BLOCK  # the end-of-archive marker: two blocks of zeros
RECORD = 20 * BLOCK  # tar pads the archive to whole records (GNU tar's and Python's default)


class ArchiveError(ValueError):
    """A day's tar that cannot be read whole; the message names the day and what is wrong."""


class Parts(io.RawIOBase):
    """Several binary streams read as one, in order; counts the bytes read."""

    def __init__(self, parts: Sequence[BinaryIO]) -> None:
        self._parts = list(parts)
        self._at = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._at < len(self._parts):
            data = self._parts[self._at].read(len(buffer))
            if data:
                n = len(data)
                buffer[:n] = data
                self.read_bytes += n
                return n
            self._at += 1
        return 0


def _watching(stops: list[Exception]) -> type[tarfile.TarInfo]:
    """A TarInfo class that records why a header could not be read: tarfile ends its iteration
    quietly on a damaged or missing header after the first, as on the end-of-archive blocks."""

    class Watched(tarfile.TarInfo):
        @classmethod
        def fromtarfile(cls, tar: tarfile.TarFile) -> Self:
            try:
                return super().fromtarfile(tar)
            except tarfile.HeaderError as exc:
                stops.append(exc)
                raise

    return Watched


def members(
    parts: Sequence[BinaryIO],
    wanted: Callable[[str], bool],
    day: str,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """The ``(name, bytes)`` of each regular member whose name (``./`` stripped) ``wanted`` accepts,
    in the tar's order. ``progress(bytes, members)`` is told the bytes read and the members passed
    so far, after each member and once at the end. Raises ArchiveError naming ``day`` for a
    damaged, truncated or incomplete tar (after yielding the members before the damage: the caller
    keeps nothing of a day that fails)."""
    stream = Parts(parts)
    seen = 0
    reader = io.BufferedReader(stream, buffer_size=1 << 20)
    stops: list[Exception] = []
    end_at = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|", tarinfo=_watching(stops)) as tar:
            for info in tar:
                tar.members.clear()  # type: ignore[attr-defined]  # a stream is read once: ~70,000 headers kept cost ~50 MB
                seen += 1
                if progress is not None:
                    progress(stream.read_bytes, seen)
                name = info.name.removeprefix("./")
                if info.isfile() and wanted(name):
                    extracted = tar.extractfile(info)
                    if extracted is None:  # pragma: no cover - isfile() members always extract
                        continue
                    data = extracted.read()
                    if len(data) != info.size:
                        raise ArchiveError(f"{day}: {name} stops after {len(data):,} of {info.size:,} bytes: truncated")
                    yield name, data
            end_at = tar.offset  # where the block that ended the iteration starts
        while reader.read(1 << 20):  # to the end of the stream, so its length is known
            pass
    except tarfile.TarError as exc:
        if stream.read_bytes == 0:
            raise ArchiveError(f"{day}: the archive is empty") from None
        raise ArchiveError(f"{day}: not a readable tar after {stream.read_bytes:,} bytes ({exc})") from None
    end = stops[-1] if stops else None
    why = None
    if isinstance(end, tarfile.InvalidHeaderError):  # type: ignore[attr-defined]
        why = f"a damaged header at byte {end_at:,}"
    elif not isinstance(end, tarfile.EOFHeaderError):  # type: ignore[attr-defined]
        why = "no end-of-archive blocks"
    elif stream.read_bytes < end_at + END:
        why = f"a lone zero block at byte {end_at:,}"
    elif stream.read_bytes > -(-(end_at + END) // RECORD) * RECORD:
        # the end blocks and the padding to the next record are all a tar has after its members:
        # zeros further on are a damaged or pre-allocated part, whose members would vanish quietly
        why = f"zeros from byte {end_at:,} of {stream.read_bytes:,}"
    if why is not None:
        raise ArchiveError(f"{day}: the tar stops at {why}: a truncated download, a missing part or a damaged file")
    if progress is not None:
        progress(stream.read_bytes, seen)
