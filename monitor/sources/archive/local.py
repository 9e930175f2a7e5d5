"""Days of adsb.lol's archive already on this machine: downloaded tar parts, or extracted day folders.

Place in the flow: ``vzmon backfill --archive PATH...`` hands its paths here; each becomes a
:class:`LocalDay` that ``reader.read_day`` reads exactly as a download. A path is a release's tar
(``vYYYY.MM.DD-planes-readsb-<pod>.tar``) or one of its parts (``.tar.aa``, ``.tar.ab``), a folder
holding such files, or an extracted day (a folder holding ``heatmap/`` and ``traces/``, named by
its release tag or laid out as ``.../YYYY/MM/DD``). The day of a file comes from its tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from monitor.sources.archive.tarstream import ArchiveError

__all__ = ["LocalDay", "folder_members", "local_days"]

_TAG = re.compile(r"v(\d{4})\.(\d{2})\.(\d{2})-[A-Za-z0-9._-]+?")
_PART = re.compile(r"^(v\d{4}\.\d{2}\.\d{2}-[A-Za-z0-9._-]+?)\.tar(?:\.([a-z]{2}))?$")
_DATED = re.compile(r"(\d{4})/(\d{2})/(\d{2})/?$")


@dataclass(frozen=True)
class LocalDay:
    """One day on disk: the parts of one release's tar in order, or an extracted folder."""

    day: date
    tag: str
    parts: tuple[Path, ...] = ()
    folder: Path | None = None
    missing: tuple[str, ...] = field(default=())  # parts the split shows are absent (.aa without .ab)

    @property
    def location(self) -> str:
        return str(self.folder) if self.folder else " + ".join(str(p) for p in self.parts)

    def open(self) -> list[BinaryIO]:
        """The parts opened for reading, in order. Raises ArchiveError naming a part that cannot be read."""
        opened: list[BinaryIO] = []
        try:
            for path in self.parts:
                opened.append(path.open("rb"))
        except OSError as exc:
            for f in opened:
                f.close()
            raise ArchiveError(f"{self.day}: cannot read {exc.filename}: {exc.strerror}") from None
        return opened


def _day_of(tag_match: re.Match[str], path: Path) -> date:
    try:
        return date(int(tag_match.group(1)), int(tag_match.group(2)), int(tag_match.group(3)))
    except ValueError:
        raise ArchiveError(f"{path}: {tag_match.group(0)!r} is not a real date") from None


def _extracted(path: Path) -> LocalDay:
    tag_match = _TAG.search(path.resolve().name) or _TAG.search(str(path.resolve()))
    if tag_match:
        return LocalDay(_day_of(tag_match, path), tag_match.group(0), folder=path)
    dated = _DATED.search(path.resolve().as_posix())
    if dated:
        try:
            day = date(int(dated.group(1)), int(dated.group(2)), int(dated.group(3)))
        except ValueError:
            raise ArchiveError(f"{path}: {dated.group(0)!r} is not a real date") from None
        return LocalDay(day, f"{day:%Y/%m/%d}", folder=path)
    raise ArchiveError(
        f"{path}: an extracted day, but its day is not in its path: name the folder by its release tag "
        "(vYYYY.MM.DD-planes-readsb-prod-0) or lay it out as YYYY/MM/DD"
    )


def local_days(paths: Sequence[Path]) -> dict[date, LocalDay]:
    """The days ``paths`` hold, by day. Raises ArchiveError for a path that is not one (missing, or
    neither a release's tar, its parts, a folder of them nor an extracted day), naming it and what
    is expected."""
    files: dict[str, dict[str, Path]] = {}  # tag -> suffix ("" for .tar, "aa", "ab") -> path
    days: dict[date, LocalDay] = {}
    for path in paths:
        if not path.exists():
            raise ArchiveError(f"{path}: no such file or folder")
        if path.is_dir() and (path / "heatmap").is_dir() and (path / "traces").is_dir():
            found = _extracted(path)
            days[found.day] = found
            continue
        candidates = sorted(path.iterdir()) if path.is_dir() else [path]
        matched = False
        for file in candidates:
            m = _PART.match(file.name)
            if m and file.is_file():
                files.setdefault(m.group(1), {})[m.group(2) or ""] = file
                matched = True
        if not matched:
            raise ArchiveError(
                f"{path}: not a day of adsb.lol's archive: expected vYYYY.MM.DD-planes-readsb-<pod>.tar, its parts "
                ".tar.aa + .tar.ab, a folder holding them, or an extracted day (a folder with heatmap/ and traces/)"
            )
    for tag, parts in sorted(files.items()):
        tag_match = _TAG.match(tag)
        if tag_match is None:  # pragma: no cover - _PART only matches tags
            continue
        day = _day_of(tag_match, Path(tag))
        if day in days:
            raise ArchiveError(f"{day}: two archives given ({days[day].location} and {tag}): give one release per day")
        if "" in parts and len(parts) > 1:
            raise ArchiveError(f"{tag}: both the whole .tar and its parts are given: give one of them")
        ordered = tuple(parts[k] for k in sorted(parts))
        missing: tuple[str, ...] = ()
        if "" not in parts:
            letters = sorted(parts)
            expected = [f"a{chr(ord('a') + i)}" for i in range(len(letters) + (1 if letters == ["aa"] else 0))]
            missing = tuple(f"{tag}.tar.{s}" for s in expected if s not in parts)
        days[day] = LocalDay(day, tag, ordered, missing=missing)
    return dict(sorted(days.items()))


def folder_members(
    root: Path, wanted: Callable[[str], bool], day: str, progress: Callable[[int, int], None] | None = None
) -> Iterator[tuple[str, bytes]]:
    """The ``(name, bytes)`` of each file under an extracted day ``root`` that ``wanted`` accepts
    (names relative to it, as in the tar), in name order. Raises ArchiveError for a file that
    cannot be read."""
    read_bytes = 0
    for seen, path in enumerate(sorted(p for p in root.rglob("*") if p.is_file()), 1):
        name = path.relative_to(root).as_posix()
        if wanted(name):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ArchiveError(f"{day}: cannot read {path}: {exc.strerror}") from None
            read_bytes += len(data)
            yield name, data
        if progress is not None:
            progress(read_bytes, seen)
