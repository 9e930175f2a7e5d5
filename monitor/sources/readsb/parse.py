"""adsb.lol and adsb.fi replies (readsb's "jv2" JSON) parsed into the canonical position columns.
Pure; no I/O.

Place in the flow: a readsb-family source hands each reply body here; the result is a table in
``schema.POSITION_SCHEMA`` (without ``zone``, which ``ingest`` adds), the same kind of result as
``sources.opensky.parse``, so ``ingest`` stores it unchanged. Only this module knows the wire
format: ``{"ac": [...], "now": <Unix ms>, ...}``, one object per aircraft, keys omitted when
readsb has no data for them (a missing key is a null here), feet, knots, ft/min and ``"ground"``.

Per aircraft:

    hex        icao24, trimmed and lower-cased; a leading "~" (not an ICAO address: TIS-B, ADS-R
               or MLAT targets known by another id) is kept, so such a row never merges with the
               aircraft that owns that ICAO address; counted in ``non_icao``
    flight     callsign, padding stripped; empty -> null
    lat, lon   latitude, longitude; either absent -> both null, the row kept, flagged stale and
               counted in ``no_position``
    alt_baro   baro_altitude_m (ft x 0.3048) and on_ground False; "ground" -> on_ground True and
               altitude null; absent or unreadable -> both null and the row flagged stale (ingest
               never counts an unknown on_ground as airborne)
    alt_geom   geo_altitude_m (ft x 0.3048)
    gs         velocity_mps (kt x 0.514444)
    track      true_track_deg
    baro_rate  vertical_rate_mps (ft/min x 0.00508); geom_rate when baro_rate is absent
    squawk     squawk (text);  spi -> spi;  type -> position_source (:data:`POSITION_SOURCE`)
    category   category: A0-C5 as OpenSky's codes 1-20 (:data:`CATEGORY`); others null
    seen_pos   time_position = now - seen_pos;  seen -> last_contact = now - seen
    (none)     origin_country "" (readsb sends none, the schema allows empty), sensors null

Numbers: a JSON number or numeric text is read (as OpenSky's parser does), anything else (other
text, true/false, a list, NaN, infinity) is a null for that field; the row is kept. A row that is not
an object with a text ``hex`` is malformed: counted in ``malformed_rows``, never stored.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from monitor.compute import from_numpy
from monitor.errors import SourceUnavailable
from monitor.schema import MAX_EPOCH_S, POSITION_AHEAD_S, POSITION_SCHEMA

__all__ = [
    "CATEGORY",
    "FT_PER_MIN_TO_MPS",
    "FT_TO_M",
    "KT_TO_MPS",
    "MS_FROM",
    "POSITION_SOURCE",
    "ParsedAircraft",
    "decode_reply",
    "parse_aircraft",
    "parse_reply",
]

log = logging.getLogger(__name__)

FT_TO_M = 0.3048
KT_TO_MPS = 0.514444
FT_PER_MIN_TO_MPS = 0.00508
# ``now`` at or above this is Unix milliseconds (the jv2 API); below it, Unix seconds (readsb's own
# aircraft.json): 1e11 s is the year 5138, 1e11 ms is 1973. The API sends milliseconds: a reply in
# seconds is not the API's reply (a proxy, another endpoint), so it is a gap, never a guess.
MS_FROM = 1e11
_MS_UNTIL = 1e14  # 1e14 ms is the year 5138: a larger ``now`` is broken in either unit

# readsb ``type`` -> OpenSky position_source (0 ADS-B, 1 ASTERIX, 2 MLAT, 3 FLARM). ADS-R is ADS-B
# rebroadcast by a ground station, so it is ADS-B too. TIS-B (radar tracks rebroadcast), ADS-C,
# Mode S without position, "other" and unknown types have no OpenSky code: null.
POSITION_SOURCE: dict[str, int] = {
    "adsb_icao": 0,
    "adsb_icao_nt": 0,
    "adsb_other": 0,
    "adsr_icao": 0,
    "adsr_other": 0,
    "mlat": 2,
}

# DO-260B emitter category (set A-C, code 0-7) -> OpenSky category: code 0 of any set is 1 (no
# category information); A1-A7 are 2-8, B1-B7 9-15 (B5 reserved = 13), C1-C5 16-20. C6, C7 and set D
# are reserved with no OpenSky code: null.
CATEGORY: dict[str, int] = {
    "A0": 1,
    "B0": 1,
    "C0": 1,
    **{f"A{i}": 1 + i for i in range(1, 8)},
    **{f"B{i}": 8 + i for i in range(1, 8)},
    **{f"C{i}": 15 + i for i in range(1, 6)},
}

_PARSED_SCHEMA = pa.schema([f for f in POSITION_SCHEMA if f.name != "zone"])
_SNIPPET = 80  # characters of a non-JSON body quoted in an error


@dataclass(frozen=True)
class ParsedAircraft:
    """The positions of one reply: ``table`` has ``schema.POSITION_SCHEMA`` without ``zone``.

    ``api_time``: the reply's ``now`` (whole seconds, UTC). Every row of ``ac`` is either in
    ``table`` or counted in ``malformed_rows``; ``non_icao`` and ``no_position`` count rows kept in
    ``table`` (a "~" hex; no lat/lon)."""

    api_time: datetime
    table: pa.Table
    malformed_rows: int
    non_icao: int
    no_position: int


def _one_line(text: str, limit: int = _SNIPPET) -> str:
    text = " ".join(text.split())
    return (text[:limit] + "…") if len(text) > limit else text


def decode_reply(content: bytes, source: str = "readsb") -> Any:
    """A reply body decoded (orjson). Raises :class:`SourceUnavailable` with a one-line reason
    (``source`` names the service) when the body is empty, an HTML page, or not whole JSON. A UTF-8
    byte order mark is skipped."""
    try:
        return orjson.loads(content.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as exc:
        text = content.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if not text:
            raise SourceUnavailable(f"{source} answered with an empty body, not JSON") from None
        if text.startswith("<"):
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            what = _one_line(title.group(1)) if title else _one_line(text)
            raise SourceUnavailable(f"{source} answered with an HTML page, not JSON: {what}") from None
        if text[0] in "{[" and exc.pos >= len(content.rstrip()) - 1:
            raise SourceUnavailable(
                f"{source} answered with truncated JSON (it breaks off after {len(content):,} bytes)"
            ) from None
        raise SourceUnavailable(
            f"{source} answered with something that is not JSON ({exc}): {_one_line(text)}"
        ) from None


def parse_reply(content: bytes, stale_after_s: int = 15, source: str = "readsb") -> ParsedAircraft:
    """A reply body decoded (:func:`decode_reply`) and parsed (:func:`parse_aircraft`). Raises
    :class:`SourceUnavailable` with a one-line reason when the reply cannot be read."""
    return parse_aircraft(decode_reply(content, source), stale_after_s, source)


def _now_seconds(doc: dict[str, Any], source: str) -> float:
    """The reply's ``now`` (Unix milliseconds, as the API sends it) as Unix seconds. Raises
    SourceUnavailable when missing, in seconds (below ``MS_FROM``) or impossible."""
    if "now" not in doc:
        raise SourceUnavailable(f"{source} reply has no 'now' (its time), so its positions cannot be dated")
    raw = doc["now"]
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw:
        raise SourceUnavailable(f"{source} reply has a non-numeric 'now': {_one_line(repr(raw))}")
    if raw >= _MS_UNTIL:
        raise SourceUnavailable(f"{source} reply has an impossible 'now': {raw!r}")
    if 0 < raw < MS_FROM:
        raise SourceUnavailable(
            f"{source} reply has 'now' in seconds ({raw!r}), not the API's milliseconds: not the v2 API's "
            "answer; check the source's api_url"
        )
    seconds = float(raw) / 1000.0
    if not 0 < seconds < MAX_EPOCH_S:
        raise SourceUnavailable(f"{source} reply has an impossible 'now': {raw!r}")
    return seconds


def _rows(doc: Any, source: str) -> list[Any]:
    """The aircraft list: ``ac`` (or ``aircraft``, as some readsb builds name it); null is empty."""
    if not isinstance(doc, dict):
        raise SourceUnavailable(f"{source} reply is a JSON {type(doc).__name__}, not an object with an 'ac' list")
    key = "ac" if "ac" in doc or "aircraft" not in doc else "aircraft"
    if key not in doc:
        msg = doc.get("msg")
        why = f" (its msg: {_one_line(str(msg))})" if msg else ""
        raise SourceUnavailable(f"{source} reply has no 'ac' list of aircraft{why}")
    rows = doc[key]
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise SourceUnavailable(f"{source} reply '{key}' is a JSON {type(rows).__name__}, expected a list")
    return rows


def _number(v: Any) -> float | None:
    """A finite number, or numeric text, as a float; anything else (true/false included) None."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return None
    try:
        f = float(v)
    except (ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _scaled(v: Any, factor: float) -> float | None:
    f = _number(v)
    return None if f is None else f * factor


def _text(v: Any) -> str | None:
    """Trimmed text; empty or not text -> None."""
    return (v.strip() or None) if isinstance(v, str) else None


def _squawk(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 7777:
        return f"{v:04d}"
    return _text(v)


def _flag(v: Any) -> bool | None:
    """readsb's 0/1 (or true/false) flags; anything else None."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    return None


def _code(table: dict[str, int], v: Any) -> int | None:
    return table.get(v.strip()) if isinstance(v, str) else None


def _times(now_s: float, ages: list[float | None]) -> tuple[pa.Array, np.ndarray[Any, np.dtype[np.float64]]]:
    """``now - age`` per row as UTC timestamps (whole seconds; missing or impossible ages null), and
    the ages as float64 with NaN for missing."""
    age = np.array([np.nan if a is None else a for a in ages], dtype=np.float64)
    t = now_s - age
    with np.errstate(invalid="ignore"):
        valid = (t >= 0) & (t < MAX_EPOCH_S)
    whole = np.floor(np.where(valid, t, 0.0)).astype(np.int64)
    return from_numpy(whole, pa.timestamp("s", tz="UTC"), valid=valid), age


def parse_aircraft(doc: Any, stale_after_s: int = 15, source: str = "readsb") -> ParsedAircraft:
    """Turn a decoded readsb "jv2" reply into position columns. Pure; no I/O.

    A position is stale when ``seen_pos`` is missing or above ``stale_after_s`` (OpenSky's 15 s
    rule), more than ``POSITION_AHEAD_S`` in the future, without lat/lon, or with an unknown
    on_ground. ``now`` in seconds is refused (see ``MS_FROM``). ``ac: null`` is an empty reply.
    Raises :class:`SourceUnavailable` (``source`` names the service in its one-line reason) when
    the reply is not an object, has no ``ac`` list, no usable ``now``, or only malformed rows.
    """
    rows = _rows(doc, source)
    now_s = _now_seconds(doc, source)
    api_time = datetime.fromtimestamp(int(now_s), UTC)
    icao: list[str] = []
    callsign: list[str | None] = []
    lat: list[float | None] = []
    lon: list[float | None] = []
    baro: list[float | None] = []
    ground: list[bool | None] = []
    geo: list[float | None] = []
    speed: list[float | None] = []
    track: list[float | None] = []
    vrate: list[float | None] = []
    squawk: list[str | None] = []
    spi: list[bool | None] = []
    pos_source: list[int | None] = []
    category: list[int | None] = []
    seen_pos: list[float | None] = []
    seen: list[float | None] = []
    malformed = 0
    for ac in rows:
        hex_ = ac.get("hex") if isinstance(ac, dict) else None
        if not isinstance(hex_, str) or not hex_.strip().lstrip("~").strip():
            malformed += 1
            continue
        icao.append(hex_.strip().lower())
        callsign.append(_text(ac.get("flight")))
        y, x = _number(ac.get("lat")), _number(ac.get("lon"))
        lat.append(None if x is None else y)  # half a position is none
        lon.append(None if y is None else x)
        alt = ac.get("alt_baro")
        on_ground = isinstance(alt, str) and alt.strip().lower() == "ground"
        baro.append(None if on_ground else _scaled(alt, FT_TO_M))
        ground.append(True if on_ground else None if baro[-1] is None else False)
        geo.append(_scaled(ac.get("alt_geom"), FT_TO_M))
        speed.append(_scaled(ac.get("gs"), KT_TO_MPS))
        track.append(_number(ac.get("track")))
        rate = _scaled(ac.get("baro_rate"), FT_PER_MIN_TO_MPS)
        vrate.append(_scaled(ac.get("geom_rate"), FT_PER_MIN_TO_MPS) if rate is None else rate)
        squawk.append(_squawk(ac.get("squawk")))
        spi.append(_flag(ac.get("spi")))
        pos_source.append(_code(POSITION_SOURCE, ac.get("type")))
        category.append(_code(CATEGORY, ac.get("category")))
        seen_pos.append(_number(ac.get("seen_pos")))
        seen.append(_number(ac.get("seen")))
    if rows and malformed == len(rows):
        raise SourceUnavailable(f"{source} reply has {len(rows)} aircraft and none has a text 'hex'")
    if malformed:
        log.warning("%s: skipped %d malformed aircraft rows of %d", source, malformed, len(rows))
    time_position, age = _times(now_s, seen_pos)
    last_contact, _ = _times(now_s, seen)
    no_position = np.array([y is None for y in lat], dtype=bool)
    unsure = np.array([g is None for g in ground], dtype=bool)
    with np.errstate(invalid="ignore"):
        ahead = age < -POSITION_AHEAD_S
        stale = np.isnan(age) | (age > stale_after_s) | ahead | no_position
    for n, why in (
        (int(ahead.sum()), "a position time ahead of the reply's"),
        (int((unsure & ~stale).sum()), "no readable alt_baro (on_ground unknown)"),
    ):
        if n:
            log.warning("%s: %d positions have %s: flagged stale, not counted as airborne", source, n, why)
    stale |= unsure
    n = len(icao)
    arrays: dict[str, pa.Array] = {
        "icao24": pa.array(icao, pa.string()),
        "callsign": pa.array(callsign, pa.string()),
        "origin_country": pa.array([""] * n, pa.string()),
        "time_position": time_position,
        "last_contact": last_contact,
        "longitude": pa.array(lon, pa.float64()),
        "latitude": pa.array(lat, pa.float64()),
        "baro_altitude_m": pa.array(baro, pa.float64()),
        "on_ground": pa.array(ground, pa.bool_()),
        "velocity_mps": pa.array(speed, pa.float64()),
        "true_track_deg": pa.array(track, pa.float64()),
        "vertical_rate_mps": pa.array(vrate, pa.float64()),
        "sensors": pa.nulls(n, pa.string()),
        "geo_altitude_m": pa.array(geo, pa.float64()),
        "squawk": pa.array(squawk, pa.string()),
        "spi": pa.array(spi, pa.bool_()),
        "position_source": pa.array(pos_source, pa.int16()),
        "category": pa.array(category, pa.int16()),
        "stale": from_numpy(stale, pa.bool_()),
    }
    return ParsedAircraft(
        api_time=api_time,
        table=pa.table(arrays, schema=_PARSED_SCHEMA),
        malformed_rows=malformed,
        non_icao=sum(h.startswith("~") for h in icao),
        no_position=int(no_position.sum()),
    )
