"""adsb.lol's per-aircraft day traces (``traces/xx/trace_full_<hex>.json`` in a globe_history day) read
cheaply: a regex prefilter on the unpacked bytes, then, for the few that touch the box, the aircraft's
database facts, its legs (flights as readsb cuts them) and its points.

Place in the flow: the archive source hands each trace member of a day's tar
(``sources.archive.tarstream``) here with the zones' bounding box. Most of a day's tens of thousands of
traces fail the prefilter and cost one gunzip and one ``re.search``; the :class:`AircraftDay` of
the rest gives the heatmap rows (``sources.archive.heatmap``) their registration, type and military
flag, and the flight rules (``analysis.flights``) their take-offs and landings. Nothing else knows
this format.

The format, as readsb writes it (``generateTraceJson`` and ``sprintTracePoint`` in json_out.c): gzip
(level 9, despite the name) of one JSON object. ``icao`` (``~`` before a non-ICAO address); the
database's ``r``, ``t``, ``dbFlags`` (bit 1: military; written when r, t or flags are), ``desc``,
or ``noRegData: true`` when the database has nothing; ``timestamp`` (Unix s: 00:00 UTC of the day
in a history file, the first point's time in a live one); ``trace``, one list per point, each
starting a new line: newline, ``[dt,lat,lon,alt,gs,track,flags,vrate,details,...``. ``dt`` is s
after ``timestamp`` (``%.2f``); lat, lon degrees (``%f``: six decimals); ``alt`` baro ft,
``"ground"`` or null; ``flags`` ``&2`` a new leg starts here, ``&8`` alt is geometric, not baro;
``details`` an object on every 4th point only, its ``flight`` the space-padded callsign.

Rules:
- A point's time is ``timestamp + dt``. Points outside the day, [00:00, next 00:00) UTC, are
  dropped and counted (a history file has none).
- A leg starts at the day's first point and at every point flagged ``&2`` (readsb marks the middle
  of the time on the ground between two flights, or the end of a long reception gap).
- A leg's take-off is the last ground point before its first airborne point; its landing the first
  ground point after its last airborne point (points of unknown altitude are skipped; the search
  may reach one point across the leg's edges, where readsb put the marker on the first airborne
  point). A stray ground point mid-flight is neither. A leg that starts (ends) in the air, such as
  one crossing midnight or out of coverage, has no take-off (landing).
- The callsign of a point is the latest ``details.flight`` of its leg so far (forward-filled,
  padding stripped; a blank one is none); a leg's callsign is its most common one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from monitor.compute import from_numpy
from monitor.sources.archive.gzipped import gunzip

__all__ = ["POINTS_SCHEMA", "AircraftDay", "GroundPoint", "Leg", "TraceError", "prefilter", "read_trace"]

FT_TO_M = 0.3048
MAX_DECOMPRESSED = 256 * 1024 * 1024  # a day of MLAT points every 1.5 s is ~20 MB; more is not a trace
DAY_MS = 86_400_000
_POINT_START = b"\n["  # readsb starts every point on a new line
_ICAO = re.compile(r"~?[0-9a-fA-F]{6}")

# The points of an aircraft-day; times UTC to the trace's 10 ms, altitudes in metres.
POINTS_SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("longitude", pa.float64(), nullable=False),
        pa.field("latitude", pa.float64(), nullable=False),
        pa.field("baro_altitude_m", pa.float64()),  # null on the ground, unknown, or geometric (flags & 8)
        pa.field("on_ground", pa.bool_()),  # null: altitude unknown
        pa.field("callsign", pa.string()),
        pa.field("leg", pa.int32(), nullable=False),  # index into AircraftDay.legs
    ]
)


class TraceError(ValueError):
    """A trace that cannot be read; the message names the member and what is wrong with it."""


@dataclass(frozen=True)
class GroundPoint:
    """Where an aircraft left or reached the ground: a ground point's time (UTC), position (degrees)
    and row in :attr:`AircraftDay.points`."""

    time: datetime
    lon: float
    lat: float
    row: int


@dataclass(frozen=True)
class Leg:
    """One leg (flight) of an aircraft-day: its first and last point's time (UTC), take-off and landing
    if seen, callsign, and its rows ``[start, stop)`` of :attr:`AircraftDay.points`."""

    start: datetime
    end: datetime
    takeoff: GroundPoint | None
    landing: GroundPoint | None
    callsign: str | None
    rows: range


@dataclass(frozen=True)
class AircraftDay:
    """One aircraft's trace of one UTC day that has a point inside the box: its database facts, legs
    and points (:data:`POINTS_SCHEMA`). ``inside``: points inside the box; ``dropped``: points outside
    the day, left out."""

    icao24: str  # lower-case hex, "~" kept before a non-ICAO address
    day: date
    registration: str | None
    typecode: str | None
    description: str | None
    db_flags: int | None
    military: bool  # dbFlags & 1
    no_db: bool  # noRegData, or neither r, t nor dbFlags
    legs: tuple[Leg, ...]
    points: pa.Table
    inside: int
    dropped: int


def _check_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    west, south, east, north = (float(v) for v in box)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(
            f"box {box} is not (west, south, east, north) in degrees with west <= east and south <= north; "
            "a box across the antimeridian must be split in two"
        )
    return west, south, east, north


def _integer_parts(low: float, high: float, limit: int) -> tuple[list[int], list[int]]:
    """The integer parts ``k`` that ``%f`` prints for some value in [low, high]: without a sign (values
    in [k, k+1)) and after a minus sign (values in (-k-1, -k]; "-0" is every value in (-1, 0))."""
    plus = [k for k in range(limit + 1) if k <= high and low < k + 1]
    minus = [k for k in range(limit + 1) if -k - 1 < high and low <= -k]
    return plus, minus


def _digits(numbers: list[int]) -> str:
    """An alternation matching exactly the decimal integers ``numbers`` (no leading zeros)."""
    last: dict[str, list[str]] = {}
    for n in numbers:
        text = str(n)
        last.setdefault(text[:-1], []).append(text[-1])
    parts = []
    for prefix, ends in last.items():
        if len(ends) == 1:
            parts.append(prefix + ends[0])
        elif int(ends[-1]) - int(ends[0]) == len(ends) - 1:  # a run of last digits: a range
            parts.append(f"{prefix}[{ends[0]}-{ends[-1]}]")
        else:
            parts.append(f"{prefix}[{''.join(ends)}]")
    return "|".join(parts)


def _signed(low: float, high: float, limit: int) -> str:
    plus, minus = _integer_parts(low, high, limit)
    branches = ([f"-(?:{_digits(minus)})"] if minus else []) + ([_digits(plus)] if plus else [])
    return "(?:" + "|".join(branches) + ")"


@lru_cache(maxsize=16)
def prefilter(box: tuple[float, float, float, float]) -> re.Pattern[bytes]:
    """A regex over a trace's unpacked bytes that matches every point line (newline, ``[dt,lat,lon``,
    as readsb prints them) whose position lies inside ``box`` (west, south, east, north; degrees,
    edges inside), and some within a degree of it: a superset, decided on the integer parts of lat
    and lon. Raises ValueError for a box that is not (west, south, east, north)."""
    west, south, east, north = _check_box(box)
    lat, lon = _signed(south, north, 90), _signed(west, east, 180)
    return re.compile(rf"\n\[-?[0-9]+\.[0-9]+,{lat}\.[0-9]+,{lon}\.".encode("ascii"))


def _unpack(data: bytes, name: str) -> bytes:
    if data[:1] == b"{":
        return data  # already unpacked
    if data[:2] != b"\x1f\x8b":
        raise TraceError(f"{name}: neither gzip nor JSON (starts with {data[:4]!r}): not a trace readsb wrote")
    return gunzip(data, name, MAX_DECOMPRESSED, "trace", TraceError)


def _text(doc: dict[str, Any], key: str, name: str) -> str | None:
    value = doc.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TraceError(f"{name}: '{key}' is a JSON {type(value).__name__}, not text")
    return value


def _head(doc: Any, name: str) -> tuple[str, float, list[Any]]:
    """The trace's address, reference time (Unix s) and point lists."""
    if not isinstance(doc, dict):
        raise TraceError(f"{name}: a JSON {type(doc).__name__}, not the object readsb writes")
    icao, timestamp, trace = doc.get("icao"), doc.get("timestamp"), doc.get("trace")
    if not isinstance(icao, str) or not _ICAO.fullmatch(icao):
        raise TraceError(f"{name}: 'icao' is {icao!r}, not six hex digits (after '~' for a non-ICAO address)")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise TraceError(f"{name}: 'timestamp' is {timestamp!r}, not Unix seconds")
    if not isinstance(trace, list):
        raise TraceError(f"{name}: 'trace' is a JSON {type(trace).__name__}, not a list of points")
    return icao.lower(), float(timestamp), trace


@dataclass
class _Points:
    """The day's points as parallel lists, filled by :func:`_read_points`."""

    t_ms: list[int]
    lon: list[float]
    lat: list[float]
    alt_m: list[float | None]
    ground: list[bool | None]
    callsign: list[str | None]
    leg_starts: list[int]
    inside: int = 0
    dropped: int = 0


def _read_points(
    trace: list[Any], timestamp: float, day: date, box: tuple[float, float, float, float], name: str
) -> _Points:
    west, south, east, north = box
    first_ms = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
    ref_ms = round(timestamp * 1000)
    out = _Points([], [], [], [], [], [], [])
    callsign: str | None = None
    for k, p in enumerate(trace):
        try:
            t_ms = ref_ms + round(p[0] * 1000)
            if not first_ms <= t_ms < first_ms + DAY_MS:
                out.dropped += 1
                continue
            lat, lon, alt, flags = float(p[1]), float(p[2]), p[3], int(p[6])
            details = p[8] if len(p) > 8 else None
        except (TypeError, ValueError, IndexError, KeyError):
            raise TraceError(
                f"{name}: point {k} is {str(p)[:80]}, not [dt, lat, lon, alt, gs, track, flags, ...]"
            ) from None
        if flags & 2 or not out.t_ms:
            out.leg_starts.append(len(out.t_ms))
            callsign = None
        if isinstance(details, dict):
            flight = details.get("flight")
            if isinstance(flight, str) and flight.strip():
                callsign = flight.strip()
        if alt == "ground":
            out.ground.append(True)
            out.alt_m.append(None)
        elif alt is None:
            out.ground.append(None)
            out.alt_m.append(None)
        elif isinstance(alt, int | float) and not isinstance(alt, bool):
            out.ground.append(False)
            out.alt_m.append(None if flags & 8 else alt * FT_TO_M)
        else:
            raise TraceError(f'{name}: point {k} has altitude {alt!r}, not feet, "ground" or null')
        if west <= lon <= east and south <= lat <= north:
            out.inside += 1
        out.t_ms.append(t_ms)
        out.lon.append(lon)
        out.lat.append(lat)
        out.callsign.append(callsign)
    return out


def _ground_point(pts: _Points, row: int) -> GroundPoint:
    return GroundPoint(_utc(pts.t_ms[row]), pts.lon[row], pts.lat[row], row)


def _utc(t_ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=t_ms)


def _next_known(ground: list[bool | None], rows: range) -> int | None:
    """The first row in ``rows`` whose altitude is known (on the ground or not)."""
    return next((i for i in rows if ground[i] is not None), None)


def _leg(pts: _Points, start: int, stop: int) -> Leg:
    ground = pts.ground
    airborne = [i for i in range(start, stop) if ground[i] is False]
    takeoff = landing = None
    if airborne:
        before = _next_known(ground, range(airborne[0] - 1, max(start - 1, 0) - 1, -1))
        if before is not None and ground[before]:
            takeoff = _ground_point(pts, before)
        after = _next_known(ground, range(airborne[-1] + 1, min(stop, len(ground) - 1) + 1))
        if after is not None and ground[after]:
            landing = _ground_point(pts, after)
    named = Counter(c for c in pts.callsign[start:stop] if c is not None).most_common(1)
    return Leg(
        _utc(pts.t_ms[start]),
        _utc(pts.t_ms[stop - 1]),
        takeoff,
        landing,
        named[0][0] if named else None,
        range(start, stop),
    )


def _table(pts: _Points) -> pa.Table:
    n = len(pts.t_ms)
    alt = np.array([np.nan if a is None else a for a in pts.alt_m], dtype=np.float64)
    ground = np.array([bool(g) for g in pts.ground], dtype=bool)
    known = np.array([g is not None for g in pts.ground], dtype=bool)
    leg = np.repeat(np.arange(len(pts.leg_starts), dtype=np.int32), np.diff([*pts.leg_starts, n]).astype(np.int64))
    columns = [
        from_numpy(np.array(pts.t_ms, dtype=np.int64), pa.timestamp("ms", tz="UTC")),
        from_numpy(np.array(pts.lon, dtype=np.float64), pa.float64()),
        from_numpy(np.array(pts.lat, dtype=np.float64), pa.float64()),
        from_numpy(np.nan_to_num(alt), pa.float64(), valid=~np.isnan(alt)),
        from_numpy(ground, pa.bool_(), valid=known),
        pa.array(pts.callsign, pa.string()),
        from_numpy(leg, pa.int32()),
    ]
    return pa.Table.from_arrays(columns, schema=POINTS_SCHEMA)


def read_trace(
    data: bytes,
    name: str,
    day: date,
    box: tuple[float, float, float, float],
    pattern: re.Pattern[bytes] | None = None,
) -> AircraftDay | None:
    """One trace member (``data``: its gzip bytes, or JSON already unpacked) as the aircraft's day, or
    None when no point of ``day`` (UTC) lies inside ``box`` (west, south, east, north; degrees, edges
    inside). ``pattern``: :func:`prefilter` of ``box`` or of a box around it (default: of ``box``);
    a trace it does not match is None without parsing its JSON. A trace not laid out one point per
    line, as readsb writes it, is always parsed. Raises TraceError, naming ``name``, for a member
    that is not a trace readsb wrote, and ValueError for a box that is not (west, south, east, north)."""
    box = _check_box(box)
    raw = _unpack(data, name)
    if (pattern or prefilter(box)).search(raw) is None and _POINT_START in raw:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TraceError(f"{name}: not whole JSON ({exc})") from None
    icao, timestamp, trace = _head(doc, name)
    pts = _read_points(trace, timestamp, day, box, name)
    if not pts.inside:
        return None
    bounds = [*pts.leg_starts, len(pts.t_ms)]
    legs = tuple(_leg(pts, a, b) for a, b in pairwise(bounds))
    db_flags = doc.get("dbFlags")
    if db_flags is not None and (isinstance(db_flags, bool) or not isinstance(db_flags, int)):
        raise TraceError(f"{name}: 'dbFlags' is {db_flags!r}, not an integer")
    registration, typecode = _text(doc, "r", name), _text(doc, "t", name)
    return AircraftDay(
        icao24=icao,
        day=day,
        registration=registration,
        typecode=typecode,
        description=_text(doc, "desc", name),
        db_flags=db_flags,
        military=bool(db_flags and db_flags & 1),
        no_db=doc.get("noRegData") is True or (registration is None and typecode is None and db_flags is None),
        legs=legs,
        points=_table(pts),
        inside=pts.inside,
        dropped=pts.dropped,
    )
