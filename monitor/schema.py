"""The canonical position columns: name, dtype, unit and meaning, declared once.

Place in the flow: every source (``sources``) emits exactly these columns, ``ingest`` adds ``zone``
(``geo.fence``), ``store.positions`` builds its columnar blocks from them, and ``tests/test_schema.py``
checks the parser's and the store's real output against them. What a poll attempt itself records
(its status, its counts per zone) is ``monitor.counts``.

Units are OpenSky's SI units with the unit in the name where it could be ambiguous. Times are
tz-aware UTC in memory (pandas ``datetime64[s, UTC]``) and on disk (Arrow ``timestamp[s, UTC]`` in
position blocks; whole Unix seconds, UTC, in SQLite columns).
Coordinates are WGS 84 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

__all__ = [
    "MAX_EPOCH_S",
    "POSITION_AHEAD_S",
    "POSITION_COLUMNS",
    "POSITION_SCHEMA",
    "Column",
]

# What every source's parser holds a time to (one rule for every source):
MAX_EPOCH_S = 2.0**33  # year 2242: a larger Unix time in a reply is a broken value, not a time
POSITION_AHEAD_S = 60.0  # a position this far ahead of the reply's time is broken, and flagged stale

Kind = Literal["str", "float", "bool", "int", "time"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool
    unit: str
    meaning: str
    opensky_index: int | None = None  # index in an OpenSky state vector; None if derived

    @property
    def pandas_dtype(self) -> str:
        return {
            "str": "string",
            "float": "float64",
            "bool": "boolean" if self.nullable else "bool",
            "int": "Int16",
            "time": "datetime64[s, UTC]",
        }[self.kind]


POSITION_COLUMNS: tuple[Column, ...] = (
    Column("icao24", "str", False, "", "24-bit ICAO transponder address, lower-case hex", 0),
    Column("callsign", "str", True, "", "callsign, padding stripped; null if none received", 1),
    Column("origin_country", "str", False, "", "country inferred from the ICAO address; may be empty", 2),
    Column("time_position", "time", True, "UTC", "time of the last position update; null if none in 15 s", 3),
    Column("last_contact", "time", True, "UTC", "time of the last message of any kind; null if the reply had none", 4),
    Column("longitude", "float", True, "deg", "WGS 84 longitude", 5),
    Column("latitude", "float", True, "deg", "WGS 84 latitude", 6),
    Column("baro_altitude_m", "float", True, "m", "barometric altitude", 7),
    Column("on_ground", "bool", True, "", "position came from a surface position report", 8),
    Column("velocity_mps", "float", True, "m/s", "ground speed", 9),
    Column("true_track_deg", "float", True, "deg", "track, clockwise from north", 10),
    Column("vertical_rate_mps", "float", True, "m/s", "vertical rate, positive climbing", 11),
    Column("sensors", "str", True, "", "receiver ids as a JSON list; null unless filtered by sensor", 12),
    Column("geo_altitude_m", "float", True, "m", "geometric altitude", 13),
    Column("squawk", "str", True, "", "Mode A code, kept as text ('0415')", 14),
    Column("spi", "bool", True, "", "special purpose indicator", 15),
    Column("position_source", "int", True, "", "0 ADS-B, 1 ASTERIX, 2 MLAT, 3 FLARM", 16),
    Column("category", "int", True, "", "emitter category 0-20; null when the reply had 17 fields", 17),
    Column("stale", "bool", False, "", "position older than stale_after_s at the response time, or none"),
    Column("zone", "str", False, "", "zone code from geo.fence: SVZM, ring:<ICAO>, outside, unknown"),
)

_ARROW_TYPES = {
    "str": pa.string(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "int": pa.int16(),
    "time": pa.timestamp("s", tz="UTC"),
}
# The same columns as Arrow types: what the parser builds and the store's position blocks hold.
POSITION_SCHEMA = pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind], nullable=c.nullable) for c in POSITION_COLUMNS])
