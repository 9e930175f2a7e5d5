"""The tests' own days of adsb.lol's archive: a tar laid out as readsb and the release scripts make
it (history.md §A.2), built from a known sky, so every count a backfill stores can be checked
against the truth.

A :class:`Flight` flies a straight line at constant speed between two times; the heatmaps hold its
position at each 30 s slice start (the tests' own encoder, ``heatmap_writer``), its trace a point
every 15 s (``trace_writer``), with a ground point at each end when it takes off or lands. Every
slice also holds one aircraft over Madrid, so no slice is an empty world (a feed outage), and every
``traces/xx`` folder holds a far-away trace, as a real day's 256 do.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.heatmap_writer import Info, Seen, heatmap
from tests.trace_writer import Point, trace_member

HALF_HOUR_S = 1800
SLICE_S = 30
MADRID = 0x343000


@dataclass(frozen=True)
class Flight:
    """One aircraft's day: airborne from ``start_s`` to ``end_s`` (seconds after 00:00 UTC) on a
    straight line, with its database facts as its trace gives them."""

    icao: int
    start_s: float
    end_s: float
    frm: tuple[float, float]  # (lat, lon)
    to: tuple[float, float]
    callsign: str = "TEST1"
    alt_ft: int = 33_000
    r: str | None = "YV1234"
    t: str | None = "A320"
    db_flags: int | None = 0
    no_reg: bool = False
    takeoff: bool = False  # a ground point before start_s
    landing: bool = False  # a ground point after end_s
    mlat: bool = False

    @property
    def hex(self) -> str:
        return f"{self.icao:06x}"

    def at(self, t: float) -> tuple[float, float] | None:
        """(lat, lon) at ``t`` s after midnight, or None when not flying."""
        if not self.start_s <= t <= self.end_s:
            return None
        f = (t - self.start_s) / (self.end_s - self.start_s)
        return self.frm[0] + f * (self.to[0] - self.frm[0]), self.frm[1] + f * (self.to[1] - self.frm[1])

    def points(self) -> list[Point]:
        pts = []
        if self.takeoff:
            pts.append(Point(self.start_s - 60, *self.frm, "ground", gs=10.0, callsign=self.callsign, new_leg=True))
        t = self.start_s
        while t <= self.end_s:
            lat, lon = self.at(t) or self.frm
            pts.append(
                Point(t, lat, lon, self.alt_ft, callsign=self.callsign, source="mlat" if self.mlat else "adsb_icao")
            )
            t += 15
        if self.landing:
            pts.append(Point(self.end_s + 60, *self.to, "ground", gs=10.0, callsign=self.callsign))
        return pts


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def heatmap_file(day: date, half_hour: int, flights: Sequence[Flight]) -> bytes:
    """The half hour's heatmap: 60 slices of 30 s, each with every flying aircraft at the slice start."""
    start_s = half_hour * HALF_HOUR_S
    slices: list[list[Seen | Info]] = []
    for k in range(HALF_HOUR_S // SLICE_S):
        t = start_s + k * SLICE_S
        records: list[Seen | Info] = [Seen(MADRID, 40.4, -3.7, 36_000, 450)]
        for f in flights:
            where = f.at(t)
            if where is None:
                continue
            if k % 2 == 0:
                records.append(Info(f.icao, f.callsign, "1000"))
            records.append(Seen(f.icao, where[0], where[1], f.alt_ft, 430, addrtype=5 if f.mlat else 0))
        slices.append(records)
    return heatmap(int((midnight(day) + timedelta(seconds=start_s)).timestamp() * 1000), slices)


def day_members(
    day: date,
    flights: Sequence[Flight],
    *,
    skip_heatmaps: Sequence[int] = (),
    replace: dict[str, bytes] | None = None,
    extra: Sequence[tuple[str, bytes]] = (),
    trace_dirs: int = 256,
) -> list[tuple[str, bytes]]:
    """A day's members (name without ``./``, bytes) in a readsb-like order: traces, then heatmaps."""
    members: list[tuple[str, bytes]] = []
    for xx in range(trace_dirs):  # a far-away aircraft in each traces/xx folder
        members.append(
            trace_member(f"4ca0{xx:02x}", [Point(3600, 53.4, -6.2, 12_000), Point(3615, 53.5, -6.1, 12_100)], day)
        )
    for f in flights:
        members.append(
            trace_member(f.hex, f.points(), day, r=f.r, t=f.t, db_flags=f.db_flags, no_reg=f.no_reg)
            if not f.no_reg
            else trace_member(f.hex, f.points(), day, no_reg=True)
        )
    members.extend(extra)
    for h in range(48):
        if h not in skip_heatmaps:
            members.append((f"heatmap/{h:02d}.bin.ttf", heatmap_file(day, h, flights)))
    members.append(("README.txt", f"globe_history {day}\n".encode()))
    replaced = replace or {}
    return [(name, replaced.get(name, data)) for name, data in members]


def tar_bytes(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A GNU tar of ``members`` (names under ``./``, folders included), as ``tar -C dir -cf x .`` makes."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        folders = sorted({n.rsplit("/", 1)[0] for n, _ in members if "/" in n} | {"heatmap", "traces"})
        for folder in ["."] + [f"./{f}" for f in folders]:
            info = tarfile.TarInfo(folder)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_764_374_400
            tar.addfile(info)
        for name, data in members:
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1_764_374_400
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def member_span(tar: bytes, name: str) -> tuple[int, int]:
    """Where a member's data lies in ``tar``: (first byte, end)."""
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as t:
        info = t.getmember(f"./{name}")
        return info.offset_data, info.offset_data + info.size


def write_parts(folder: Path, tag: str, tar: bytes, split_at: int | None = None) -> list[Path]:
    """The release's assets in ``folder``: ``<tag>.tar``, or ``.tar.aa`` + ``.tar.ab`` split at ``split_at``."""
    folder.mkdir(parents=True, exist_ok=True)
    if split_at is None:
        path = folder / f"{tag}.tar"
        path.write_bytes(tar)
        return [path]
    aa, ab = folder / f"{tag}.tar.aa", folder / f"{tag}.tar.ab"
    aa.write_bytes(tar[:split_at])
    ab.write_bytes(tar[split_at:])
    return [aa, ab]


def extract(folder: Path, members: Sequence[tuple[str, bytes]]) -> Path:
    """The day extracted into ``folder`` (as ``tar -xf`` leaves it)."""
    for name, data in members:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def truth(day: date, flights: Sequence[Flight], inside: Callable[[float, float], bool], step_s: int = 60) -> list[int]:
    """Per grid time of the day, the civil aircraft flying at a place ``inside`` accepts."""
    out = []
    for k in range(86_400 // step_s):
        t = k * step_s
        n = 0
        for f in flights:
            where = f.at(t)
            if where is not None and not (f.db_flags or 0) & 1 and inside(*where):
                n += 1
        out.append(n)
    return out


def corrupt_gzip(data: bytes) -> bytes:
    """``data`` with its deflate stream damaged in the middle (the gzip header intact)."""
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle : middle + 16]) + data[middle + 16 :]


def not_gzip(text: bytes = b"not a heatmap") -> bytes:
    return gzip.compress(text)
