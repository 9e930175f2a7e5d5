"""adsb.lol's half-hour heatmaps (``heatmap/NN.bin.ttf`` in a globe_history day) read into slices of
positions in the canonical schema.

Place in the flow: the archive source (``sources.archive``) hands each heatmap member of a day's
tar here and makes snapshots of the slices it wants; nothing else knows this format.

The format, as readsb writes it (``handleHeatmap`` in ``globe_index.c``; ``struct heatEntry``): a
gzip stream of packed little-endian 16-byte records ``{int32 hex; int32 lat; int32 lon; int16 alt;
int16 gs}``. First an index of one record per slice (``hex`` = the record number of that slice's
marker; the rest zero), then each slice: its marker, then its records.
- Marker: ``hex == 0x0E7F7C9D``; the slice start in ms is ``lat << 32 | lon`` (both read as
  unsigned 32 bits); the slice length in ms is ``alt`` read as unsigned 16 bits.
- Info record: ``lat`` is ``1 << 30`` plus the squawk's digits as a decimal number (0 to 7777);
  ``hex`` the address; the callsign's 8 bytes fill ``lon``, ``alt`` and ``gs``. A position's
  latitude (``lat`` x 1e-6, at most 90e6 in size) can never reach ``1 << 30``, so the test is on
  the signed value: ``lat & (1 << 30)``, as readsb's comment puts it, is also true of every
  southern latitude.
- Position record: ``hex`` bits 0-23 the address, bit 24 a non-ICAO address, bits 27-31 how the
  position was found (5 = MLAT); ``lat``, ``lon`` x 1e-6 degrees; ``alt`` signed, x 25 ft, -123 on
  the ground, -124 unknown; ``gs`` signed, x 0.1 kt, -1 unknown. Per aircraft and slice, the first trace point
  in it: the position time within the slice is not kept (each row takes the slice start).
The callsign and squawk of a position are those of the aircraft's latest info record so far in the
file (readsb writes one when they change, and otherwise at most every minute).
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from monitor.compute import from_numpy
from monitor.schema import POSITION_SCHEMA
from monitor.sources.archive.gzipped import gunzip

__all__ = ["MARKER", "RECORD", "AreaSight", "Box", "HeatmapError", "HeatmapSlice", "read_heatmap"]

Box = tuple[float, float, float, float]  # (west, south, east, north), degrees

RECORD = np.dtype([("hex", "<i4"), ("lat", "<i4"), ("lon", "<i4"), ("alt", "<i2"), ("gs", "<i2")])
MARKER = 0x0E7F7C9D
INFO = 1 << 30
GROUND = -123  # alt of a position on the ground
NO_ALTITUDE = -124  # alt unknown (tar1090 reads it as null): airborne, at no known height
FT = 0.3048
KT = 1852 / 3600
MAX_DECOMPRESSED = 512 * 1024 * 1024  # a half hour of the whole world is tens of MB; more is not a heatmap
# readsb's address types (``addrtype_t``) as OpenSky's position_source: 0 ADS-B (also ADS-R, the
# same messages relayed), 1 ASTERIX (TIS-B: the ground's radar picture), 2 MLAT; others unknown.
_POSITION_SOURCE = {0: 0, 1: 0, 2: 0, 8: 0, 9: 0, 3: 1, 10: 1, 11: 1, 5: 2}
_COLUMNS = [f for f in POSITION_SCHEMA if f.name != "zone"]
_AIRCRAFT = 0x1FFFFFF  # the address and the non-ICAO bit: one aircraft


class HeatmapError(ValueError):
    """A heatmap that cannot be read; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class AreaSight:
    """What one slice saw inside an area: the aircraft (their addresses, non-ICAO bit included) and
    how many of their positions were found by multilateration."""

    aircraft: npt.NDArray[np.int64]
    mlat: int


@dataclass(frozen=True)
class HeatmapSlice:
    """One slice of a heatmap: its start (UTC), its length, and one row per aircraft seen in it
    (``schema.POSITION_SCHEMA`` without ``zone``)."""

    start: datetime
    interval_s: float
    positions: pa.Table
    mlat: int  # rows found by multilateration
    world: int  # aircraft in the slice before any box was applied (0: the network saw nothing at all)
    areas: Mapping[str, AreaSight] = field(default_factory=dict)  # what the slice saw in each area asked for


def _records(data: bytes, name: str) -> npt.NDArray[np.void]:
    raw = gunzip(data, name, MAX_DECOMPRESSED, "heatmap", HeatmapError) if data[:2] == b"\x1f\x8b" else data
    if len(raw) % RECORD.itemsize:
        raise HeatmapError(
            f"{name}: {len(raw):,} bytes is not a whole number of {RECORD.itemsize}-byte records: cut short or "
            "not a heatmap"
        )
    return np.frombuffer(raw, dtype=RECORD)


def _callsigns(info: npt.NDArray[np.void]) -> npt.NDArray[np.str_]:
    """The 8 callsign bytes of info records (lon, alt, gs), padding stripped."""
    words = [bytes(w) for w in np.frombuffer(info.tobytes(), dtype=np.uint8).reshape(-1, RECORD.itemsize)[:, 8:16]]
    return np.array([w.split(b"\x00", 1)[0].decode("ascii", "replace").strip() for w in words], dtype=str)


def _table(rows: npt.NDArray[np.void], start_s: int, callsign: list[str | None], squawk: list[str | None]) -> pa.Table:
    n = len(rows)
    hexes = rows["hex"].astype(np.int64) & 0xFFFFFFFF
    address = hexes & 0xFFFFFF
    non_icao = (hexes >> 24) & 1
    kind = (hexes >> 27) & 0x1F
    icao = [("~" if ni else "") + f"{a:06x}" for a, ni in zip(address.tolist(), non_icao.tolist(), strict=True)]
    alt = rows["alt"].astype(np.int64)
    ground = alt == GROUND
    known = ~ground & (alt != NO_ALTITUDE)
    gs = rows["gs"].astype(np.int64)
    source = np.array([_POSITION_SOURCE.get(k, -1) for k in kind.tolist()], dtype=np.int16)
    times = np.full(n, start_s, dtype=np.int64)
    null_f = pa.nulls(n, pa.float64())
    columns = {
        "icao24": pa.array(icao, pa.string()),
        "callsign": pa.array(callsign, pa.string()),
        "origin_country": pa.array([""] * n, pa.string()),
        "time_position": from_numpy(times, pa.timestamp("s", tz="UTC")),
        "last_contact": from_numpy(times, pa.timestamp("s", tz="UTC")),
        "longitude": from_numpy(rows["lon"] * 1e-6, pa.float64()),
        "latitude": from_numpy(rows["lat"] * 1e-6, pa.float64()),
        "baro_altitude_m": from_numpy(np.where(known, alt * 25 * FT, 0.0), pa.float64(), valid=known),
        "on_ground": from_numpy(ground, pa.bool_()),
        "velocity_mps": from_numpy(gs * 0.1 * KT, pa.float64(), valid=gs >= 0),
        "true_track_deg": null_f,
        "vertical_rate_mps": null_f,
        "sensors": pa.nulls(n, pa.string()),
        "geo_altitude_m": null_f,
        "squawk": pa.array(squawk, pa.string()),
        "spi": pa.nulls(n, pa.bool_()),
        "position_source": from_numpy(source, pa.int16(), valid=source >= 0),
        "category": pa.nulls(n, pa.int16()),
        "stale": from_numpy(np.zeros(n, dtype=bool), pa.bool_()),
    }
    return pa.table(columns, schema=pa.schema(_COLUMNS))


def read_heatmap(
    data: bytes,
    name: str = "heatmap",
    box: Box | None = None,
    starts: Container[datetime] | None = None,
    areas: Mapping[str, Box] | None = None,
) -> Iterator[HeatmapSlice]:
    """The slices of one heatmap file (``data``: its bytes, gzip or already unpacked), in order;
    only those starting at one of ``starts`` (None: all), with only the aircraft inside ``box``
    (west, south, east, north; None: the world), and what each slice saw in each of ``areas``
    (name -> box: the health figures of a day). Raises HeatmapError, naming ``name``, for a file
    that is not a complete readsb heatmap."""
    records = _records(data, name)
    markers = np.flatnonzero(records["hex"] == MARKER)
    if len(markers) == 0:
        raise HeatmapError(f"{name}: no slice marker (0x{MARKER:08X}): not a readsb heatmap")
    index = records[: markers[0]]
    if len(index) != len(markers) or not np.array_equal(index["hex"].astype(np.int64), markers):
        raise HeatmapError(
            f"{name}: its index names {len(index)} slices at records {index['hex'][:3].tolist()}..., the file has "
            f"{len(markers)} at {markers[:3].tolist()}...: damaged or not a readsb heatmap"
        )
    latest = _InfoIndex(records, int(markers[0]))
    bounds = [*markers.tolist(), len(records)]
    for k, at in enumerate(markers.tolist()):
        marker = records[at]
        start_ms = (int(marker["lat"]) & 0xFFFFFFFF) << 32 | (int(marker["lon"]) & 0xFFFFFFFF)
        interval_ms = int(marker["alt"]) & 0xFFFF
        if interval_ms == 0:
            raise HeatmapError(f"{name}: slice {k} has no length: not a readsb heatmap")
        start = datetime.fromtimestamp(start_ms / 1000, UTC)
        if starts is not None and start not in starts:
            continue
        body = records[at + 1 : bounds[k + 1]]
        rows = body[~latest.is_info[at + 1 : bounds[k + 1]]]
        world = len(rows)
        seen = {area: _sight(rows, edges) for area, edges in (areas or {}).items()}
        if box is not None:
            rows = rows[_inside(rows, box)]
        callsign, squawk = latest.names(rows["hex"].astype(np.int64) & _AIRCRAFT, bounds[k + 1])
        table = _table(rows, start_ms // 1000, callsign, squawk)
        mlat = int(np.count_nonzero(((rows["hex"].astype(np.int64) & 0xFFFFFFFF) >> 27) == 5))
        yield HeatmapSlice(start, interval_ms / 1000, table, mlat, world, seen)


class _InfoIndex:
    """A file's info records, sorted by aircraft then place: an aircraft's latest callsign and
    squawk before any record is one binary search away (no Python work per record: a half hour of
    the world holds ~200,000 of them)."""

    def __init__(self, records: npt.NDArray[np.void], body_start: int) -> None:
        lat = records["lat"].astype(np.int64)
        self.is_info = (lat >= INFO) & (lat < INFO + 10_000)
        self.is_info[:body_start] = False
        at = np.flatnonzero(self.is_info)
        self._n = len(records) + 1
        keys = (records["hex"][at].astype(np.int64) & _AIRCRAFT) * self._n + at
        order = np.argsort(keys, kind="stable")
        self._keys, self._at = keys[order], at[order]
        self._records, self._lat = records, lat

    def names(self, addresses: npt.NDArray[np.int64], before: int) -> tuple[list[str | None], list[str | None]]:
        """Each aircraft's callsign and squawk from its latest info record before record ``before``."""
        callsign: list[str | None] = [None] * len(addresses)
        squawk: list[str | None] = [None] * len(addresses)
        if not len(addresses) or not len(self._keys):
            return callsign, squawk
        j = np.searchsorted(self._keys, addresses * self._n + before) - 1
        found = (j >= 0) & (self._keys[np.clip(j, 0, None)] // self._n == addresses)
        where = np.flatnonzero(found)
        info = self._at[j[found]]
        names = _callsigns(self._records[info]).tolist()
        for i, cs, sq in zip(where.tolist(), names, (self._lat[info] - INFO).tolist(), strict=True):
            callsign[i] = cs or None
            squawk[i] = f"{sq:04d}"
        return callsign, squawk


def _inside(rows: npt.NDArray[np.void], box: Box) -> npt.NDArray[np.bool_]:
    west, south, east, north = box
    lon, lat = rows["lon"] * 1e-6, rows["lat"] * 1e-6
    inside: npt.NDArray[np.bool_] = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    return inside


def _sight(rows: npt.NDArray[np.void], box: Box) -> AreaSight:
    hexes = rows["hex"][_inside(rows, box)].astype(np.int64) & 0xFFFFFFFF
    return AreaSight(np.unique(hexes & _AIRCRAFT), int(np.count_nonzero((hexes >> 27) == 5)))
