"""Tracks: a time span's positions in compact per-aircraft arrays, sorted by aircraft, then time.

Place in the flow: ``pipeline.report`` fills :class:`Tracks` from the store's position blocks, one
decoded block at a time (``store.positions.iter_positions``), so months of positions fit in memory;
``analysis.flights`` cuts them into flights and the density maps count them per cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Codes", "Tracks"]


def _f32(table: pa.Table, name: str) -> npt.NDArray[np.float32]:
    """A float column as float32, nulls as NaN."""
    return np.asarray(table[name].to_numpy(), dtype=np.float32)


class _Codes:
    """Grows one integer code per distinct string across batches (aircraft, callsigns)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int32]:
        encoded = pc.dictionary_encode(column)
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        parts = []
        for chunk in chunks:
            lut = np.array(
                [self.index.setdefault(v, len(self.index)) for v in chunk.dictionary.to_pylist()] or [0], dtype=np.int32
            )
            indices = chunk.indices
            codes = lut[pc.fill_null(indices, 0).to_numpy()]  # integers, never floats with NaN for the nulls
            if indices.null_count:
                codes[indices.is_null().to_numpy(zero_copy_only=False)] = -1
            parts.append(codes)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)

    def names(self) -> npt.NDArray[np.object_]:
        """The names by code (codes are given in order: the dict's order is theirs)."""
        return np.array(list(self.index), dtype=object) if self.index else np.empty(0, dtype=object)


_DTYPES: dict[str, Any] = {
    "t": np.int64,
    "aircraft": np.int32,
    "callsign": np.int32,
    "lon": np.float32,
    "lat": np.float32,
    "alt": np.float32,
    "vrate": np.float32,
    "ground": np.bool_,
    "zone": np.int8,
}


class Codes:
    """The integer codes of one read: aircraft and callsigns (grown as batches come), zones (fixed)."""

    def __init__(self, zones: Sequence[str]) -> None:
        self.aircraft, self.callsigns = _Codes(), _Codes()
        self.zones = tuple(zones)
        self._zone_lut = {z: i for i, z in enumerate(zones)}

    def compact(self, table: pa.Table) -> dict[str, npt.NDArray[Any]]:
        """A batch's fresh positions as compact arrays (the columns of :class:`Tracks`), in its order."""
        fresh = pc.and_(
            pc.invert(pc.fill_null(table["stale"], True)),
            pc.and_(pc.is_valid(table["longitude"]), pc.is_valid(table["latitude"])),
        )
        if not pc.all(fresh).as_py():  # a compacted day's file is all fresh: nothing to copy
            table = table.filter(fresh)
        if any(column.num_chunks > 1 for column in table.columns):
            table = table.combine_chunks()  # one dictionary per batch, not per block
        if table.num_rows == 0:
            return {name: np.zeros(0, dtype) for name, dtype in _DTYPES.items()}
        baro, geo = _f32(table, "baro_altitude_m"), _f32(table, "geo_altitude_m")
        zone_enc = pc.dictionary_encode(table["zone"]).combine_chunks()
        zlut = np.array([self._zone_lut.get(z, -1) for z in zone_enc.dictionary.to_pylist()] or [-1], dtype=np.int8)
        return {
            "t": table["time"].cast(pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy(),
            "aircraft": self.aircraft.encode(table["icao24"]),
            "callsign": self.callsigns.encode(table["callsign"]),
            "lon": _f32(table, "longitude"),
            "lat": _f32(table, "latitude"),
            "alt": np.where(np.isnan(baro), geo, baro),
            "vrate": _f32(table, "vertical_rate_mps"),
            "ground": pc.fill_null(table["on_ground"], False).to_numpy(),
            "zone": zlut[zone_enc.indices.to_numpy(zero_copy_only=False)],
        }


@dataclass(frozen=True)
class Tracks:
    """Fresh airborne-or-ground positions in compact arrays, sorted by aircraft, then time.

    ``t`` is Unix seconds (UTC); ``aircraft``/``callsign`` index ``aircraft_names``/``callsign_names``
    (-1: no callsign); ``zone`` indexes ``zones`` (-1: none of them). Altitudes in metres (baro, else
    geometric), vertical rate in m/s, coordinates WGS 84 degrees, stored as float32.
    """

    t: npt.NDArray[np.int64]
    aircraft: npt.NDArray[np.int32]
    callsign: npt.NDArray[np.int32]
    lon: npt.NDArray[np.float32]
    lat: npt.NDArray[np.float32]
    alt: npt.NDArray[np.float32]
    vrate: npt.NDArray[np.float32]
    ground: npt.NDArray[np.bool_]
    zone: npt.NDArray[np.int8]
    aircraft_names: npt.NDArray[np.object_]
    callsign_names: npt.NDArray[np.object_]
    zones: tuple[str, ...]

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "icao24",
        "callsign",
        "longitude",
        "latitude",
        "baro_altitude_m",
        "geo_altitude_m",
        "vertical_rate_mps",
        "on_ground",
        "stale",
        "zone",
    )

    DICTIONARIES: ClassVar[tuple[str, ...]] = ("icao24", "callsign", "zone")  # read as Arrow dictionaries

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def from_tables(cls, tables: Iterable[pa.Table], zones: Sequence[str]) -> Tracks:
        """Build from Arrow tables with ``time`` and :attr:`COLUMNS` (``store.iter_positions``), in
        which each aircraft's rows come in time order. String columns may be Arrow dictionaries.

        Batches are reduced to compact arrays as they arrive, so memory stays near the final size.
        """
        codes = Codes(zones)
        return cls.assemble([codes.compact(table) for table in tables], codes)

    @classmethod
    def assemble(
        cls,
        parts: Iterable[dict[str, npt.NDArray[Any]]],
        codes: Codes,
        names: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]] | None = None,
    ) -> Tracks:
        """Tracks from compact chunks (:meth:`Codes.compact`), each aircraft's rows in time order
        across them: sorted by aircraft (stably, so each aircraft's rows stay in time order).
        ``names``: ``codes``' aircraft and callsign names, when the caller made them already (a
        year holds a million aircraft: making them for each of many buckets would cost minutes)."""
        columns: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in _DTYPES}
        for part in parts:
            if len(part["t"]):
                for name in _DTYPES:
                    columns[name].append(part[name])
        aircraft_all = np.concatenate(columns.pop("aircraft")) if columns["t"] else np.zeros(0, np.int32)
        order = np.argsort(aircraft_all, kind="stable")
        sorted_: dict[str, Any] = {"aircraft": aircraft_all[order]}
        del aircraft_all
        for name in list(columns):  # one column at a time, so only one unsorted copy exists at once
            chunks = columns.pop(name)
            column: npt.NDArray[Any] = np.concatenate(chunks) if chunks else np.zeros(0, _DTYPES[name])
            del chunks
            sorted_[name] = column[order]
            del column
        aircraft_names, callsign_names = names or (codes.aircraft.names(), codes.callsigns.names())
        return cls(**sorted_, aircraft_names=aircraft_names, callsign_names=callsign_names, zones=codes.zones)

    @classmethod
    def from_frame(cls, positions: pd.DataFrame, zones: Sequence[str] | None = None) -> Tracks:
        """Build from a positions DataFrame with ``time`` and :attr:`COLUMNS` (tests, small data)."""
        df = positions.sort_values("time", kind="stable")
        table = pa.Table.from_pandas(df[["time", *cls.COLUMNS]].astype({"zone": str}), preserve_index=False)
        zones = list(zones) if zones is not None else list(pd.Categorical(positions["zone"]).categories)
        return cls.from_tables([table], zones)
