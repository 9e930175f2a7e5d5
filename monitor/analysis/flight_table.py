"""The flights' and entries' tables, from the numbers ``analysis.flights`` makes for each bucket of
aircraft: flights numbered by aircraft address, then time, their names and designators filled in,
entry times spread over feed outages (``analysis.unseen``). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.airports import AirportTable
from monitor.analysis.airlines import airline_of
from monitor.analysis.unseen import PollClock, entry_times
from monitor.compute import sorted_unique

__all__ = ["joined_tables"]


def joined_tables(
    parts: list[tuple[dict[str, Any], dict[str, Any]]],
    clock: PollClock | None,
    names: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]],
    airports: AirportTable,
    classes: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One table of flights and one of entries from the parts' (flights numbered by aircraft
    address, then time), entry times spread by those numbers. ``names``: the aircraft and callsign
    names of the parts' codes; ``classes``: the flight classes' names by code."""
    if not parts:
        raise ValueError("build_flights needs at least one Tracks")
    zones = parts[0][1]["zones"]
    offsets = np.cumsum([0, *(len(f["flight"]) for f, _ in parts)])
    part_of = np.repeat(np.arange(len(parts)), [len(e["flight"]) for _, e in parts])
    flight_parts, entry_parts = [f for f, _ in parts], [e for _, e in parts]
    parts.clear()  # each part's arrays are let go as soon as they are joined: one column's copy at a time
    cols = {k: np.concatenate([f.pop(k) for f in flight_parts]) for k in list(flight_parts[0])}
    del flight_parts
    # A flight's number among all segments (ground-only ones included), by aircraft address, then
    # time: the same however the positions were read (a day's Parquet file comes by aircraft, its
    # blocks by time, and the codes follow), so the entry times spread by it are the same too.
    aircraft_names, callsign_names = names
    by_name = np.empty(len(aircraft_names), dtype=np.int64)
    if len(aircraft_names):
        by_name[np.asarray(pc.sort_indices(pa.array(aircraft_names, pa.string())))] = np.arange(len(aircraft_names))
    number = np.empty(len(cols["flight"]), dtype=np.int64)
    number[np.lexsort((cols["flight"], by_name[cols["aircraft"]]))] = np.arange(len(number))
    kept = np.flatnonzero(cols["airborne"])
    kept = kept[np.argsort(number[kept], kind="stable")]
    cs = cols["callsign"][kept]
    callsign = np.full(len(kept), None, dtype=object)
    callsign[cs >= 0] = callsign_names[cs[cs >= 0]]
    used = sorted_unique(cs[cs >= 0])  # each callsign's designator once, then by its code
    designator = np.full(len(callsign_names) + 1, None, dtype=object)  # the last: no callsign
    designator[used] = [airline_of(c) for c in callsign_names[used].tolist()]
    flights = pd.DataFrame(
        {
            "flight": number[kept],
            "aircraft": cols["aircraft"][kept],
            "icao24": aircraft_names[cols["aircraft"][kept]] if len(kept) else np.array([], dtype=object),
            "callsign": callsign,
            "airline": designator[cs],  # -1 (no callsign) picks the last: None
            "first_time": pd.to_datetime(cols["first_time"][kept], unit="s", utc=True),
            "last_time": pd.to_datetime(cols["last_time"][kept], unit="s", utc=True),
            "start_airport": _names_of(cols["start_airport"][kept], airports.icao),
            "end_airport": _names_of(cols["end_airport"][kept], airports.icao),
            "start_in_fir": cols["start_in_fir"][kept],
            "end_in_fir": cols["end_in_fir"][kept],
            "in_fir": cols["in_fir"][kept],
            "flight_class": _names_of(cols["flight_class"][kept], np.array(classes, dtype=object)),
        },
        copy=False,  # the columns are new arrays already
    )
    del cols
    raw = {k: np.concatenate([e.pop(k) for e in entry_parts]) for k in list(entry_parts[0]) if k != "zones"}
    del entry_parts
    flight = number[offsets[part_of] + raw.pop("flight")]
    del part_of
    order = np.lexsort((raw["zone"], flight))
    entered, estimated = entry_times(
        raw.pop("first_seen")[order],
        flight[order],
        raw.pop("exempt")[order],
        clock.times if clock is not None else None,
        raw["after_hole"][order] if clock is not None else None,
    )
    del raw["after_hole"]
    # each column put in order as the one before it is let go, and handed to pandas without a
    # copy: a year's entries (millions) are the report's memory peak
    columns: dict[str, Any] = {"flight": flight[order]}
    del flight
    columns["aircraft"] = raw.pop("aircraft")[order]
    zone = raw.pop("zone")[order].astype(np.int64)
    columns["zone"] = pd.Categorical.from_codes(zone, categories=pd.Index(zones))
    del zone
    columns["time"] = pd.to_datetime(entered, unit="s", utc=True)
    columns["time_estimated"] = estimated
    columns["last_time"] = pd.to_datetime(raw.pop("last_seen")[order], unit="s", utc=True)
    del entered, estimated, order
    entries = pd.DataFrame(columns, copy=False)
    return flights, entries


def _names_of(index: npt.NDArray[np.integer[Any]], names: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """``names[index]``, None where the index is -1."""
    out = np.full(len(index), None, dtype=object)
    some = index >= 0
    out[some] = names[index[some]]
    return out
