"""The tests' own writer of adsb.lol history-day traces (``traces/xx/trace_full_<hex>.json``), written
from readsb's ``generateTraceJson`` and ``sprintTracePoint`` (json_out.c at 0c87e59) and
../shared/reference/history.md §A.2-A.3, not from vzmon's reader.

What readsb writes, byte for byte as far as these tests care:
- the head ``{"icao":"<hex>"``, then ``,\\n"r":``, ``,\\n"t":``, ``,\\n"dbFlags":%u`` (when r, t or flags),
  ``,"desc":`` (no newline), or ``,\\n"noRegData":true`` when the database has nothing; then
  ``,\\n"timestamp": %.3f`` (the day's 00:00 UTC in a history file) and ``,\\n"trace":[ ``;
- each point ``\\n[%.2f,%f,%f,alt,gs,track,flags,vrate,details,"source",geom_alt,geom_rate,ias,roll],``
  (alt ``%d``, ``"ground"`` or ``null``; gs, track and roll ``%.1f``; the last comma removed), then
  `` ]\\n }\\n``; ``details`` is an object on every 4th stored point (``getStateAll``), ``null`` on the
  others, its ``flight`` the 8-character space-padded callsign;
- the member is gzip level 9 under ``traces/<last two hex digits>/trace_full_<hex>.json``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

DAY_S = 86_400


@dataclass(frozen=True)
class Point:
    """One trace point in readsb's units: seconds after the day's 00:00 UTC, degrees, ft, kt, ft/min."""

    t: float
    lat: float
    lon: float
    alt: int | str | None  # baro ft, "ground", or None (unknown)
    gs: float | None = 250.0
    track: float | None = 90.0
    new_leg: bool = False  # flags & 2
    stale: bool = False  # flags & 1
    geometric: bool = False  # flags & 8: alt is geometric, not baro
    vrate: int | None = 0
    callsign: str | None = None  # the aircraft's callsign at this time, written only in details points
    source: str = "adsb_icao"
    geom_alt: int | None = None


def _number(fmt: str, value: float | None) -> str:
    return "null" if value is None else fmt % value


def point_text(values: Sequence[Any]) -> str:
    """One point as ``sprintTracePoint`` prints it, from its 14 values (details as an object or None)."""
    dt, lat, lon, alt, gs, track, flags, vrate, details, source, geom_alt, geom_rate, ias, roll = values
    alt_text = '"ground"' if alt == "ground" else _number("%d", alt)
    details_text = "null" if details is None else json.dumps(details, separators=(",", ":"))
    source_text = "null" if source is None else f'"{source}"'
    return (
        f"\n[{dt:.2f},{lat:f},{lon:f},{alt_text},{_number('%.1f', gs)},{_number('%.1f', track)},{flags:d},"
        f"{_number('%d', vrate)},{details_text},{source_text},{_number('%d', geom_alt)},"
        f"{_number('%d', geom_rate)},{_number('%d', ias)},{_number('%.1f', roll)}],"
    )


def _head(icao: str, r: str | None, t: str | None, db_flags: int | None, desc: str | None, no_reg: bool) -> str:
    if no_reg and (r or t or db_flags or desc):
        raise ValueError("readsb writes noRegData only when it has no registration, type, flags or description")
    head = f'{{"icao":"{icao}"'
    if r:
        head += f',\n"r":"{r}"'
    if t:
        head += f',\n"t":"{t}"'
    if r or t or db_flags:
        head += f',\n"dbFlags":{db_flags or 0:d}'
    if desc:
        head += f',"desc":"{desc}"'
    if no_reg:
        head += ',\n"noRegData":true'
    return head


def _document(head: str, timestamp_s: float, lines: list[str]) -> bytes:
    body = "".join(lines).removesuffix(",")  # readsb removes the last point's comma
    return f'{head},\n"timestamp": {timestamp_s:.3f},\n"trace":[ {body} ]\n }}\n'.encode()


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _values(k: int, p: Point) -> list[Any]:
    details = None
    if k % 4 == 0:  # getStateAll: the extra data of every 4th stored point
        details = {"type": p.source}
        if p.callsign is not None:
            details["flight"] = p.callsign.ljust(8)
        details.update({"squawk": "1000", "nic": 8, "version": 2})
    flags = (p.geometric << 3) | (p.new_leg << 1) | p.stale
    return [p.t, p.lat, p.lon, p.alt, p.gs, p.track, flags, p.vrate, details, p.source, p.geom_alt, None, None, None]


def trace_json(
    icao: str,
    points: Sequence[Point],
    day: date,
    r: str | None = None,
    t: str | None = None,
    db_flags: int | None = None,
    desc: str | None = None,
    no_reg: bool = False,
) -> bytes:
    """The JSON text of a history-day trace, as readsb writes it: ``timestamp`` is the day's 00:00 UTC
    and each point's dt is its ``t``."""
    lines = [point_text(_values(k, p)) for k, p in enumerate(points)]
    return _document(_head(icao, r, t, db_flags, desc, no_reg), _midnight(day), lines)


def member_name(icao: str) -> str:
    """The member's path in a day's tar: ``xx`` = the address's last two hex digits."""
    return f"traces/{icao[-2:]}/trace_full_{icao}.json"


def trace_member(icao: str, points: Sequence[Point], day: date, **head: Any) -> tuple[str, bytes]:
    """A history-day trace member: its name in the tar and its gzip bytes (level 9)."""
    return member_name(icao), gzip.compress(trace_json(icao, points, day, **head), compresslevel=9, mtime=0)


def relay_real_trace(path: Path, day: date, start_s: float = 600.0) -> bytes:
    """A live ``/run`` trace (``timestamp`` = its first point's time, any layout) re-laid into a history
    day: ``timestamp`` the day's 00:00 UTC, the first point ``start_s`` after it, every dt shifted by
    the same amount, written one point per line as readsb writes history files. Raises ValueError
    when the trace does not fit in the day from ``start_s``."""
    doc = json.loads(path.read_bytes())
    trace = doc["trace"]
    first = trace[0][0]
    if start_s + trace[-1][0] - first >= DAY_S:
        raise ValueError(f"{path.name} spans {trace[-1][0] - first:.0f} s: it does not fit in a day from {start_s} s")
    head = f'{{"icao":"{doc["icao"]}"'
    for key in ("r", "t", "dbFlags", "desc", "ownOp", "year", "noRegData"):
        if key in doc:
            sep = "" if key == "desc" else "\n"
            head += f",{sep}{json.dumps(key)}:{json.dumps(doc[key])}"
    lines = [point_text([p[0] - first + start_s, *p[1:14]]) for p in trace]
    return _document(head, _midnight(day), lines)
