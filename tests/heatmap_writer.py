"""The tests' own heatmap encoder: writes ``NN.bin.ttf`` as readsb's ``handleHeatmap`` does (an index
record per slice giving its marker's record number, then per slice a marker and its records, all
packed little-endian 16-byte ``heatEntry`` records, gzip level 9), written from the layout in
../shared/reference/history.md §A.4 and readsb's globe_index.c, not from vzmon's reader."""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass

MARKER = 0x0E7F7C9D
ENTRY = struct.Struct("<iiihh")


@dataclass(frozen=True)
class Seen:
    """One aircraft in one slice, in the units readsb starts from: degrees, feet, knots."""

    address: int  # 24 bits
    lat: float
    lon: float
    alt_ft: float | None  # None: on the ground
    gs_kt: float | None = None  # None: unknown
    addrtype: int = 0  # readsb addrtype_t: 0 ADS-B, 5 MLAT, ...
    non_icao: bool = False


@dataclass(frozen=True)
class Info:
    """An info record: the aircraft's callsign (8 bytes, space padded) and squawk."""

    address: int
    callsign: str
    squawk: str = "1000"
    non_icao: bool = False


def _s32(value: int) -> int:
    """An unsigned 32-bit value as the signed int32 readsb's struct holds."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _s16(value: int) -> int:
    """An unsigned 16-bit value as the signed int16 readsb's struct holds (60,000 ms wraps)."""
    value &= 0xFFFF
    return value - (1 << 16) if value >= 1 << 15 else value


def entry(hex_: int, lat: int, lon: int, alt: int, gs: int) -> bytes:
    return ENTRY.pack(_s32(hex_), _s32(lat), _s32(lon), alt, gs)


def position(s: Seen) -> bytes:
    hex_ = s.address | (1 << 24 if s.non_icao else 0) | ((s.addrtype & 0x1F) << 27)
    alt = -123 if s.alt_ft is None else round(s.alt_ft / 25)
    gs = -1 if s.gs_kt is None else round(s.gs_kt * 10)
    return entry(hex_, round(s.lat * 1e6), round(s.lon * 1e6), alt, gs)


def info(i: Info) -> bytes:
    digits = int(i.squawk)  # readsb: the squawk's 4 octal digits read as a decimal number
    callsign = i.callsign.encode("ascii").ljust(8, b" ")[:8]
    hex_ = i.address | (1 << 24 if i.non_icao else 0)
    lon, alt, gs = struct.unpack("<ihh", callsign)
    return entry(hex_, (1 << 30) | digits, lon, alt, gs)


def heatmap(start_ms: int, slices: list[list[Seen | Info]], interval_ms: int = 30_000, gz: bool = True) -> bytes:
    """A heatmap of ``len(slices)`` slices from ``start_ms``, each with its records in order."""
    body: list[bytes] = []
    index: list[bytes] = []
    n = len(slices)
    for k, records in enumerate(slices):
        stamp = start_ms + k * interval_ms
        index.append(entry(n + len(body), 0, 0, 0, 0))
        body.append(entry(MARKER, stamp >> 32, stamp & 0xFFFFFFFF, _s16(interval_ms), 0))
        body.extend(info(r) if isinstance(r, Info) else position(r) for r in records)
    raw = b"".join(index + body)
    return gzip.compress(raw, compresslevel=9) if gz else raw
