"""OpenSky's ``/states/all`` reply parsed into the canonical position columns. Pure; no I/O.

Place in the flow: ``sources.opensky.source`` hands each decoded reply here; the result is a table
in ``schema.POSITION_SCHEMA`` (without ``zone``, which ``ingest`` adds). Only this module knows the
17- or 18-field state vector, its order and its oddities: nulls anywhere, padded callsigns, times
sent in milliseconds, ``on_ground`` as 0/1 or text, true/false in number fields.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from monitor.compute import call, from_numpy
from monitor.errors import SourceUnavailable
from monitor.schema import MAX_EPOCH_S, POSITION_AHEAD_S, POSITION_SCHEMA

__all__ = ["ParsedStates", "decode_json", "parse_states"]

log = logging.getLogger(__name__)

_FIELDS = 18  # state vector length with extended=1; longer rows are cut, 17-field rows padded


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a 10,000-state reply makes ~200,000 acyclic objects,
    and collections triggered while building them only cost time (about 10 % of an ingest)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def decode_json(content: bytes) -> Any:
    """Decode a reply body (orjson, with the garbage collector paused). Raises orjson.JSONDecodeError."""
    with _gc_paused():
        return orjson.loads(content)


@dataclass(frozen=True)
class ParsedStates:
    """The positions of one reply: ``table`` has ``schema.POSITION_SCHEMA`` without ``zone``."""

    api_time: datetime
    table: pa.Table
    malformed_rows: int
    fields_per_row: int  # 17 without category, 18 with it; the most common length seen


_PARSED_SCHEMA = pa.schema([f for f in POSITION_SCHEMA if f.name != "zone"])


def _number(v: Any) -> float:
    """One value as a float: numbers and numeric text as such; None, true/false and anything else NaN."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return float("nan")
    try:
        return float(v)
    except (ValueError, OverflowError):
        return float("nan")


def _floats(values: tuple[Any, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers as float64; None, true/false and anything else that is not a number become NaN."""
    numbers = [None if isinstance(v, bool) else v for v in values]
    try:
        return np.array(numbers, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return np.array([_number(v) for v in values], dtype=np.float64)


def _float_column(values: tuple[Any, ...]) -> pa.Array:
    """Numbers as an Arrow float64 array, missing values as nulls (never NaN); anything that is not
    a number is missing too, true and false included (Arrow would read them as 1 and 0). Arrow
    converts a tuple of Python numbers faster than numpy does; the type check only runs when the
    column holds a 0 or a 1, the only values a true or false could have become."""
    try:
        arr = pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array(_floats(values), type=pa.float64(), from_pandas=True)  # NaN -> null
    if _has_zero_or_one(arr) and bool in set(map(type, values)):
        return pa.array(_floats(values), type=pa.float64(), from_pandas=True)
    return arr


def _has_zero_or_one(arr: pa.Array) -> bool:
    """Whether a float column holds a 0 or a 1 (the only values a JSON true or false could become)."""
    return bool(call("any", call("or", call("equal", arr, 0.0), call("equal", arr, 1.0))).as_py())


_TRUE_TEXT = frozenset({"true", "1"})
_FALSE_TEXT = frozenset({"false", "0"})


def _flag(v: Any) -> bool | None:
    """A true/false field as OpenSky sends it (JSON true/false), or as 0/1 or their text; else None."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        text = v.strip().lower()
        return True if text in _TRUE_TEXT else False if text in _FALSE_TEXT else None
    return None


def _nan_filled(arr: pa.Array) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A float64 Arrow array as numpy, nulls as NaN."""
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _column(values: tuple[Any, ...], type_: pa.DataType, keep: Callable[[Any], Any]) -> pa.Array:
    """Arrow array of ``values``; if some value has the wrong type, ``keep`` maps each value first."""
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        return pa.array([keep(v) for v in values], type=type_)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _smallint(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or not -32768 <= v <= 32767:
        return None
    return int(v) if float(v).is_integer() else None


def _as_seconds(values: np.ndarray[Any, np.dtype[np.float64]], what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Unix times with any sent in milliseconds (1e11 to 1e14: years 1973 to 5138 in ms, never
    plausible in seconds) read as such, and a warning saying how many."""
    with np.errstate(invalid="ignore"):
        millis = (values >= 1e11) & (values < 1e14)
    n = int(millis.sum())
    if n:
        log.warning("%d %s values looked like milliseconds and were read as such", n, what)
        values = np.where(millis, values / 1000.0, values)
    return values


def _times(seconds: np.ndarray[Any, np.dtype[np.float64]]) -> pa.Array:
    """Unix seconds as UTC timestamps; missing, negative or absurd (past 2242) values are null."""
    with np.errstate(invalid="ignore"):
        missing = ~((seconds >= 0) & (seconds < MAX_EPOCH_S))
    whole = np.where(missing, 0, seconds).astype(np.int64)
    return from_numpy(whole, pa.timestamp("s", tz="UTC"), valid=~missing)


def _trimmed_or_null(arr: pa.Array) -> pa.Array:
    trimmed = call("utf8_trim_whitespace", arr)
    return call("if_else", call("equal", trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _usable(row: Any) -> bool:
    return isinstance(row, list) and len(row) >= 17 and isinstance(row[0], str) and bool(row[0].strip())


def _icao24(values: tuple[Any, ...]) -> pa.Array | None:
    """The icao24 column trimmed and lower-cased, or None unless every value is a non-blank string."""
    try:
        arr = call("utf8_lower", call("utf8_trim_whitespace", pa.array(values, type=pa.string())))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if arr.null_count or not len(arr) or call("min", call("utf8_length", arr)).as_py() == 0:
        return None
    return arr


def _transpose(rows: list[list[Any]]) -> list[Any]:
    """Columns of equal-length rows, as tuples (with the collector paused, zip beats building a 2-D
    object array by ~0.4 ms on 10,000 rows, and nested sensor lists cannot make it ragged)."""
    return list(zip(*rows, strict=True))


def _columns(states: list[Any]) -> tuple[list[Any], pa.Array, int, int]:
    """Transpose state rows into 18 field columns.

    Returns (columns, icao24 as Arrow strings, malformed rows, most common row length). Fast path
    when every row is a list of one length (17 or more) with a text icao24; otherwise each row is
    checked, bad ones are dropped and the rest padded or cut to 18 fields.
    """
    if set(map(type, states)) == {list}:
        lengths = set(map(len, states))
        if len(lengths) == 1 and (width := lengths.pop()) >= 17:
            cols = _transpose(states)
            icao = _icao24(cols[0])
            if icao is not None:
                cols = cols[:_FIELDS] if width >= _FIELDS else [*cols, (None,) * len(states)]
                return cols, icao, 0, width
    rows = [r[:_FIELDS] if len(r) >= _FIELDS else [*r, None] for r in states if _usable(r)]
    if not rows:
        return [()] * _FIELDS, pa.array([], pa.string()), len(states), _FIELDS
    widths = [len(r) for r in states if _usable(r)]
    cols = list(zip(*rows, strict=True))
    icao = _icao24(cols[0])
    if icao is None:  # _usable guarantees text icao24s; this is a bug guard, not a data path
        raise SourceUnavailable("OpenSky reply icao24 column could not be read")
    return cols, icao, len(states) - len(rows), max(set(widths), key=widths.count)


def parse_states(doc: Any, stale_after_s: int = 15) -> ParsedStates:
    """Turn a decoded ``/states/all`` reply into position columns. Pure; no I/O.

    Tolerates ``states: null``, rows of 17, 18 or more fields (extras ignored), nulls in any
    field, padded callsigns and empty ``origin_country``. A row that is not a list of at least 17
    fields with a text ``icao24`` is counted in ``malformed_rows`` and skipped. Raises
    :class:`SourceUnavailable` when the reply is not a states object or every row is malformed.
    """
    with _gc_paused():
        return _parse_states(doc, stale_after_s)


def _parse_states(doc: Any, stale_after_s: int) -> ParsedStates:
    if not isinstance(doc, dict) or "time" not in doc:
        raise SourceUnavailable("OpenSky reply is not a states object (no 'time' key)")
    raw_time = doc["time"]
    if isinstance(raw_time, bool) or not isinstance(raw_time, int | float):
        raise SourceUnavailable(f"OpenSky reply has a non-numeric time: {raw_time!r}")
    if not 0 < raw_time < MAX_EPOCH_S:
        raise SourceUnavailable(f"OpenSky reply has an impossible time: {raw_time!r}")
    api_time = datetime.fromtimestamp(int(raw_time), UTC)
    states = doc.get("states")
    if states is None:
        states = []
    if not isinstance(states, list):
        raise SourceUnavailable(f"OpenSky reply 'states' is {type(states).__name__}, expected a list or null")
    cols, icao24, malformed, fields = _columns(states)
    if states and malformed == len(states):
        raise SourceUnavailable(f"OpenSky reply has {len(states)} state rows and none has the expected shape")
    if malformed:
        log.warning("skipped %d malformed state rows of %d", malformed, len(states))
    t = float(raw_time)
    floats = {i: _float_column(cols[i]) for i in (3, 4, 5, 6, 7, 9, 10, 11, 13)}
    time_position = _as_seconds(_nan_filled(floats[3]), "time_position")
    last_contact = _as_seconds(_nan_filled(floats[4]), "last_contact")
    lon, lat = _nan_filled(floats[5]), _nan_filled(floats[6])
    on_ground = _column(cols[8], pa.bool_(), _flag)
    with np.errstate(invalid="ignore"):
        ahead = time_position - t > POSITION_AHEAD_S  # a position from the future is not a position
        unsure = np.asarray(call("is_null", on_ground).to_numpy(zero_copy_only=False), dtype=bool)
        stale = np.isnan(time_position) | (t - time_position > stale_after_s) | ahead | np.isnan(lon) | np.isnan(lat)
    for n, why in (
        (int(ahead.sum()), "a position time ahead of the reply's"),
        (int((unsure & ~stale).sum()), "no readable on_ground"),
    ):
        if n:
            log.warning("%d positions have %s: flagged stale, not counted as airborne", n, why)
    stale |= unsure
    # sensors: a list of receiver ids, or null; anything else (0, [], "") is treated as null
    sensors = (
        pa.array([json.dumps(v) if isinstance(v, list) and v else None for v in cols[12]], type=pa.string())
        if any(cols[12])
        else pa.nulls(len(icao24), pa.string())
    )
    arrays: dict[str, pa.Array] = {
        "icao24": icao24,
        "callsign": _trimmed_or_null(_column(cols[1], pa.string(), _text)),
        "origin_country": call("coalesce", _column(cols[2], pa.string(), _text), ""),
        "time_position": _times(time_position),
        "last_contact": _times(last_contact),
        "longitude": floats[5],
        "latitude": floats[6],
        "baro_altitude_m": floats[7],
        "on_ground": on_ground,
        "velocity_mps": floats[9],
        "true_track_deg": floats[10],
        "vertical_rate_mps": floats[11],
        "sensors": sensors,
        "geo_altitude_m": floats[13],
        "squawk": _column(cols[14], pa.string(), lambda v: None if v is None else str(v)),
        "spi": _column(cols[15], pa.bool_(), _flag),
        "position_source": _column(cols[16], pa.int16(), _smallint),
        "category": _column(cols[17], pa.int16(), _smallint),
        "stale": from_numpy(stale, pa.bool_()),
    }
    table = pa.table(arrays, schema=_PARSED_SCHEMA)
    return ParsedStates(api_time=api_time, table=table, malformed_rows=malformed, fields_per_row=fields)
