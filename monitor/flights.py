"""Flights: positions cut into flights, each flight's ends placed at airports, each flight classed.

Place in the flow: ``analysis`` hands this module the positions of a time window (from
``store.read_positions``) and an airport table; it returns one row per flight. Pure: no I/O.

Method (stated in every report):
- A flight is one aircraft's continuous presence: consecutive fresh positions of one ``icao24``,
  split where the gap between positions exceeds ``gap_s`` (30 min), where the callsign changes
  (a missing callsign never splits), and at every take-off that follows a landing.
- A flight's first and last positions are its ends. An end is *at* an airport when it is on the
  ground or at most ``low_agl_m`` (1,500 m) above the airport within ``airport_radius_km`` (40 km)
  of it, or when the altitude profile says so: a first position that is climbing (a last one that
  is descending; vertical rate at least 1 m/s), at most ``profile_agl_m`` (7,500 m) above the
  nearest airport and no farther from it than 25 km per 1,000 m of height (a 1:25 gradient,
  shallower than real climbs and 3-degree approaches). This keeps sparse polls (one every 12
  minutes for anonymous users) from turning arrivals into overflights; cruising ends never
  count. Otherwise the flight was seen entering or leaving at altitude.
- Every flight with an airborne position in the FIR is classed, as EUROCONTROL classes traffic in a
  volume: **domestic** (both ends at airports inside the FIR), **departure** (starts at one, does
  not end at one), **arrival** (the reverse) or **overflight** (neither end at an airport inside
  the FIR). Flights seen only on the ground are not flights.
- ADS-B coverage is thin over parts of Venezuela: a departure first seen at cruise counts as an
  overflight. Low-altitude coverage near the main airports makes this rare there; reports say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitor.airlines import airline_of
from monitor.airports import AirportTable

__all__ = ["FLIGHT_CLASSES", "FlightRules", "build_flights"]

FLIGHT_CLASSES = ("domestic", "departure", "arrival", "overflight")


@dataclass(frozen=True)
class FlightRules:
    """Thresholds of the flight rules (see the module docstring)."""

    gap_s: float = 1800.0
    airport_radius_km: float = 40.0  # a low end (on the ground or <= low_agl_m) this close is at the airport
    low_agl_m: float = 1500.0
    profile_agl_m: float = 7500.0  # a climbing/descending end up to this height ...
    km_per_1000m: float = 25.0  # ... within this many km per 1000 m above the airport is at it (1:25)
    min_vrate_mps: float = 1.0  # climbing/descending means at least this vertical rate


def _segment(
    aircraft: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    callsign: npt.NDArray[np.int64],
    ground: npt.NDArray[np.bool_],
    rules: FlightRules,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where positions start a new flight, and which of those starts are take-offs after a landing.

    Arrays are sorted by aircraft, then time; ``callsign`` holds integer codes, -1 where none was
    received.
    """
    n = len(aircraft)
    new = np.ones(n, dtype=bool)
    if n < 2:
        return new, np.zeros(n, dtype=bool)
    idx = np.arange(n)
    first_of_aircraft = np.r_[True, aircraft[1:] != aircraft[:-1]]
    start_of_aircraft = np.maximum.accumulate(np.where(first_of_aircraft, idx, 0))
    # the last callsign received so far by the same aircraft (a missing callsign never splits)
    last_known = np.maximum.accumulate(np.where(callsign >= 0, idx, -1))
    known = np.where(last_known >= start_of_aircraft, callsign[np.clip(last_known, 0, None)], -1)
    changed = (callsign[1:] >= 0) & (known[:-1] >= 0) & (callsign[1:] != known[:-1])
    new[1:] = first_of_aircraft[1:] | ((t[1:] - t[:-1]) > rules.gap_s) | changed
    # a take-off after a landing inside the same stretch starts a new flight
    landing = np.r_[False, ~new[1:] & ~ground[:-1] & ground[1:]]
    takeoff = np.r_[False, ~new[1:] & ground[:-1] & ~ground[1:]]
    landings = np.cumsum(landing)
    stretch_start = np.maximum.accumulate(np.where(new, idx, 0))
    relaunch = np.asarray(takeoff & (landings > landings[stretch_start]), dtype=bool)
    return np.asarray(new | relaunch, dtype=bool), relaunch


def build_flights(
    positions: pd.DataFrame,
    airports: AirportTable,
    fir_code: str,
    rules: FlightRules | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flights from positions.

    ``positions`` needs ``time`` (UTC), ``icao24``, ``callsign``, ``longitude``, ``latitude``,
    ``baro_altitude_m``, ``geo_altitude_m``, ``vertical_rate_mps``, ``on_ground``, ``stale`` and ``zone``. Stale
    positions and positions without coordinates are left out.

    Returns ``(flights, entries)``. ``flights``: one row per flight with ``flight``, ``icao24``,
    ``callsign``, ``airline``, ``first_time``, ``last_time``, ``start_airport``,
    ``end_airport`` (ICAO or None), ``start_in_fir``/``end_in_fir`` (that airport is in the FIR),
    ``in_fir`` (an airborne position in the FIR) and ``flight_class`` (for ``in_fir`` flights,
    else None). ``entries``: one row per flight and zone it was airborne in, with the time it was
    first seen airborne there (``flight``, ``zone``, ``time``), zone as a categorical.
    """
    rules = rules or FlightRules()
    lon = positions["longitude"].to_numpy(dtype=np.float64)
    lat = positions["latitude"].to_numpy(dtype=np.float64)
    keep = ~positions["stale"].to_numpy(dtype=bool, na_value=True) & ~np.isnan(lon) & ~np.isnan(lat)
    aircraft, aircraft_names = pd.factorize(positions["icao24"])
    callsign, callsign_names = pd.factorize(positions["callsign"])
    zone_cat = pd.Categorical(positions["zone"])
    t = positions["time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    order = np.lexsort((t, aircraft))
    order = order[keep[order]]
    aircraft, callsign, t = aircraft[order], callsign[order], t[order]
    lon, lat = lon[order], lat[order]
    ground = positions["on_ground"].to_numpy(dtype=bool, na_value=False)[order]
    alt = positions["baro_altitude_m"].to_numpy(dtype=np.float64)[order]
    geo = positions["geo_altitude_m"].to_numpy(dtype=np.float64)[order]
    alt = np.where(np.isnan(alt), geo, alt)
    vrate = positions["vertical_rate_mps"].to_numpy(dtype=np.float64)[order]
    zone = zone_cat.codes[order]

    new, relaunch = _segment(aircraft, t, callsign, ground, rules)
    flight = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:] - 1, len(flight) - 1].astype(np.intp) if len(starts) else starts
    n = len(starts)
    airborne = ~ground
    airborne_n = np.bincount(flight[airborne], minlength=n)
    fir_index = list(zone_cat.categories).index(fir_code) if fir_code in zone_cat.categories else -2
    in_fir = np.bincount(flight[airborne & (zone == fir_index)], minlength=n) > 0

    def place(idx: npt.NDArray[np.intp], climbing: bool) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
        near, dist = airports.nearest(lon[idx], lat[idx])
        found = near >= 0
        safe = np.clip(near, 0, None)
        elev = airports.elevation_m[safe] if len(airports.icao) else np.zeros(len(idx))
        agl = np.nan_to_num(alt[idx], nan=np.inf) - elev
        low = (ground[idx] | (agl <= rules.low_agl_m)) & (dist <= rules.airport_radius_km)
        vr = vrate[idx]
        heading = vr >= rules.min_vrate_mps if climbing else vr <= -rules.min_vrate_mps  # unknown never passes
        profile = heading & (agl <= rules.profile_agl_m) & (dist <= np.maximum(agl, 0) / 1000 * rules.km_per_1000m)
        at = found & (low | profile)
        codes = np.full(len(idx), None, dtype=object)
        fir = np.zeros(len(idx), dtype=bool)
        if len(airports.icao):
            codes[at] = airports.icao[safe][at]
            fir[at] = airports.in_fir[safe][at]
        return codes, fir

    # a flight that took off again after a landing starts where it last stood on the ground
    start_ap, start_fir = place(np.where(relaunch[starts], starts - 1, starts), climbing=True)
    end_ap, end_fir = place(ends, climbing=False)
    cls = np.full(n, None, dtype=object)
    cls[in_fir & start_fir & end_fir] = "domestic"
    cls[in_fir & start_fir & ~end_fir] = "departure"
    cls[in_fir & ~start_fir & end_fir] = "arrival"
    cls[in_fir & ~start_fir & ~end_fir] = "overflight"
    # a flight's callsign is the first one received during it
    has_cs = callsign >= 0
    first_cs = np.full(n, -1, dtype=np.int64)
    cs_flights, cs_first = np.unique(flight[has_cs], return_index=True)
    first_cs[cs_flights] = callsign[has_cs][cs_first]
    cs_text = np.full(n, None, dtype=object)
    known = first_cs >= 0
    cs_text[known] = np.asarray(callsign_names, dtype=object)[first_cs[known]]
    designators = {c: airline_of(c) for c in set(cs_text.tolist()) if c is not None}
    flights = pd.DataFrame(
        {
            "flight": np.arange(n),
            "icao24": np.asarray(aircraft_names, dtype=object)[aircraft[starts]] if n else np.array([], dtype=object),
            "callsign": cs_text,
            "airline": [designators.get(c) if c is not None else None for c in cs_text],
            "first_time": pd.to_datetime(t[starts], unit="s", utc=True),
            "last_time": pd.to_datetime(t[ends], unit="s", utc=True),
            "start_airport": start_ap,
            "end_airport": end_ap,
            "start_in_fir": start_fir,
            "end_in_fir": end_fir,
            "in_fir": in_fir,
            "flight_class": cls,
        }
    )
    flights = flights[airborne_n > 0].reset_index(drop=True)
    # first airborne time of each flight in each zone (positions are in time order per flight)
    air = np.flatnonzero(airborne & (zone >= 0))
    key = flight[air].astype(np.int64) * (len(zone_cat.categories) + 1) + zone[air]
    _, first = np.unique(key, return_index=True)
    pick = air[first]
    entries = pd.DataFrame(
        {
            "flight": flight[pick],
            "zone": pd.Categorical.from_codes(zone[pick], categories=zone_cat.categories),
            "time": pd.to_datetime(t[pick], unit="s", utc=True),
        }
    )
    return flights, entries
