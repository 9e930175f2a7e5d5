"""Flights: positions cut into flights, each flight's ends placed at airports, each flight classed.

Place in the flow: ``pipeline.report`` hands this module the positions of a time span (as
:class:`Tracks`, or a bucket of aircraft at a time as functions that load them from
``analysis.buckets``' files), the times of the successful polls and an airport table; it returns
one row per flight. No I/O of its own: only the loading functions it is given read files.

Method (stated in every report):
- A flight is one aircraft's continuous presence: consecutive fresh positions of one ``icao24``,
  split where the aircraft went unseen for more than ``gap_s`` (30 min) of working polling, where
  the callsign changes (a missing callsign never splits), and at every take-off that follows a
  landing. Time while polls failed does not count towards the gap: an outage of the feed is not
  the aircraft's absence, and counting it would cut one flight into two (and class both halves
  wrongly). Each spacing between successful polls counts up to twice the usual cadence.
- A coverage hole is not the aircraft's absence either: where an aircraft went unseen longer than
  that while polls kept working, the two sides are one flight when it plainly flew on: airborne on
  both sides, the same callsign before and after, unseen at most ``join_max_s`` (4 h), and the
  straight-line speed across the stretch within 35 % of its own speed just before and after (a
  landing and a new take-off inside the stretch makes it far too slow).
- A flight first seen in a zone at the first poll after a feed outage entered it at an unknown
  moment during the outage (unless it was just climbing out of an airport): such entries are
  spread evenly over the outage instead of piling into the first hour after it.
- A flight's first and last positions are its ends. An end is *at* an airport when it is on the
  ground or at most ``low_agl_m`` (1,500 m) above the airport within ``airport_radius_km`` (40 km)
  of it, or when the altitude profile says so: a first position that is climbing (a last one that
  is descending; vertical rate at least 1 m/s), at most ``profile_agl_m`` (7,500 m) above the
  nearest airport and no farther from it than 25 km per 1,000 m of height (a 1:25 gradient,
  shallower than real climbs and 3-degree approaches). This keeps sparse polls (one every 12
  minutes for anonymous users) from turning arrivals into overflights; cruising ends never
  count. Otherwise the flight was seen entering or leaving at altitude. Of the four nearest
  airports, an airborne end is placed at the one that fits and lies most nearly along its track
  (ahead of a last position, behind a first one), not simply the nearest: an approach to Puerto
  Ayacucho last heard nearer Puerto Carreño ends at Puerto Ayacucho.
- Every flight with an airborne position in the FIR is classed, as EUROCONTROL classes traffic in a
  volume: **domestic** (both ends at airports inside the FIR), **departure** (starts at one, does
  not end at one), **arrival** (the reverse) or **overflight** (neither end at an airport inside
  the FIR). Flights seen only on the ground are not flights.
- ADS-B coverage is thin over parts of Venezuela: a departure first seen at cruise counts as an
  overflight. Low-altitude coverage near the main airports makes this rare there; reports say so.
- Polling holes are not the aircraft's doing: when the successful poll just before a flight's
  first position (or just after its last) is missing and that end is not at an airport, the
  take-off or landing may have happened unseen, so the flight is classed **unknown** rather than
  guessed (given ``ok_times``). ``analysis.hourly_flights`` scales each hour's classed flights up
  by the hour's share of classed flights.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.airports import AirportTable
from monitor.analysis.flight_table import joined_tables
from monitor.analysis.tracks import Tracks
from monitor.analysis.unseen import PollClock, Positions, observed_clock, went_on
from monitor.compute import release_free_memory

__all__ = ["FLIGHT_CLASSES", "UNKNOWN", "FlightRules", "PollClock", "build_flights", "observed_clock"]

FLIGHT_CLASSES = ("domestic", "departure", "arrival", "overflight")
UNKNOWN = "unknown"  # an end fell in a hole in the polling: the class is not guessed
_CLASSES = (*FLIGHT_CLASSES, UNKNOWN)
CANDIDATE_AIRPORTS = 4  # an end is placed at the best of this many nearest airports


@dataclass(frozen=True)
class FlightRules:
    """Thresholds of the flight rules (see the module docstring)."""

    gap_s: float = 1800.0
    airport_radius_km: float = 40.0  # a low end (on the ground or <= low_agl_m) this close is at the airport
    low_agl_m: float = 1500.0
    profile_agl_m: float = 7500.0  # a climbing/descending end up to this height ...
    km_per_1000m: float = 25.0  # ... within this many km per 1000 m above the airport is at it (1:25)
    min_vrate_mps: float = 1.0  # climbing/descending means at least this vertical rate
    join_unseen: bool = True  # join the two sides of an unseen stretch when the flight plainly went on
    join_max_s: float = 4 * 3600.0  # ... if the stretch lasted at most this long (wall clock)
    join_speed_tolerance: float = 0.35  # ... and the speed across it is within 35 % of the aircraft's own
    join_cruise_mps: tuple[float, float] = (100.0, 330.0)  # ... or, its own speed unknown, in this band


def _segment(
    p: Positions, rules: FlightRules, clock: PollClock | None = None
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Where positions start a new flight, and which of those starts are take-offs after a landing.

    Arrays are sorted by aircraft, then time; ``callsign`` holds integer codes, -1 where none was
    received. ``clock`` (from :func:`observed_clock`) measures gaps in working polling; without
    it, in wall-clock time.
    """
    aircraft, t, callsign, ground = p.aircraft, p.t, p.callsign, p.ground
    n = len(aircraft)
    new = np.ones(n, dtype=bool)
    if n < 2:
        return new, np.zeros(n, dtype=bool)
    idx = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)  # 32-bit indices halve the peak memory
    first_of_aircraft = np.r_[True, aircraft[1:] != aircraft[:-1]]
    start_of_aircraft = np.maximum.accumulate(np.where(first_of_aircraft, idx, 0))
    # the last callsign received so far by the same aircraft (a missing callsign never splits)
    last_known = np.maximum.accumulate(np.where(callsign >= 0, idx, -1))
    known = np.where(last_known >= start_of_aircraft, callsign[np.clip(last_known, 0, None)], -1)
    del last_known, start_of_aircraft
    changed = (callsign[1:] >= 0) & (known[:-1] >= 0) & (callsign[1:] != known[:-1])
    gap = np.diff(t) > rules.gap_s
    if clock is not None and len(clock.times) > 1 and gap.any():
        at = np.flatnonzero(gap)  # few: only these need the polling clock
        gap[at] = clock.elapsed(t[at], t[at + 1]) > rules.gap_s
    if rules.join_unseen and gap.any():
        at = np.flatnonzero(gap)  # an unseen stretch the flight plainly flew on across is no split
        gap[at] = ~went_on(
            p,
            at,
            known[at],
            max_s=rules.join_max_s,
            tolerance=rules.join_speed_tolerance,
            cruise_mps=rules.join_cruise_mps,
        )
    del known
    new[1:] = first_of_aircraft[1:] | gap | changed
    del gap
    del changed, first_of_aircraft
    # a take-off after a landing inside the same stretch starts a new flight
    landing = np.r_[False, ~new[1:] & ~ground[:-1] & ground[1:]]
    takeoff = np.r_[False, ~new[1:] & ground[:-1] & ~ground[1:]]
    landings: npt.NDArray[np.integer[Any]] = np.cumsum(landing, dtype=idx.dtype)
    del landing
    stretch_start = np.maximum.accumulate(np.where(new, idx, 0))
    relaunch: npt.NDArray[np.bool_] = takeoff & (landings > landings[stretch_start])
    return new | relaunch, relaunch


def build_flights(
    tracks: Tracks | Iterable[Tracks | Callable[[], Tracks]],
    airports: AirportTable,
    fir_code: str,
    rules: FlightRules | None = None,
    ok_times: npt.NDArray[np.int64] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flights from :class:`Tracks`. ``ok_times``: the successful polls' times (epoch seconds) over
    the same span, so feed outages do not split flights; without them, gaps are wall-clock time.

    Returns ``(flights, entries)``. ``flights``: one row per flight with ``flight``, ``icao24``,
    ``callsign``, ``airline``, ``first_time``, ``last_time``, ``start_airport``,
    ``end_airport`` (ICAO or None), ``start_in_fir``/``end_in_fir`` (that airport is in the FIR),
    ``in_fir`` (an airborne position in the FIR) and ``flight_class`` (for ``in_fir`` flights,
    else None). ``entries``: one row per flight and zone it was airborne in, with ``aircraft``
    (code), and the first and last times it was seen airborne there (``time``, ``last_time``).

    ``tracks`` may be several :class:`Tracks` with the same codes and no aircraft in two of them
    (``analysis.buckets``: a long span a bucket of aircraft at a time, in bounded memory): a
    flight is one aircraft's, so the result is the same as from all of them at once. Each may be
    given as a function that makes it (``AircraftBuckets.loaders``), run on the thread that makes
    its flights.
    """
    rules = rules or FlightRules()
    clock = observed_clock(ok_times) if ok_times is not None else None
    parts = []
    names: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]] = (np.empty(0, object), np.empty(0, object))
    # Two buckets at once, on two threads (numpy lets go of the GIL in its loops): each thread
    # loads its bucket (when given a function that makes it) and makes its flights. Each bucket's
    # positions are let go once its flights are made.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="vzmon-flights") as pool:
        pending: deque[Future[_Part]] = deque()
        for one in _each(tracks):
            pending.append(pool.submit(_part, one, airports, fir_code, rules, clock))
            del one
            while len(pending) >= 2:  # at most two buckets in hand
                flights, entries, names = pending.popleft().result()  # the same codes in every part
                parts.append((flights, entries))
        for future in pending:
            flights, entries, names = future.result()
            parts.append((flights, entries))
    # the buckets' freed memory handed back before the join, where a long report peaks (a year,
    # measured: 1,365-1,397 MiB resident before, 1,278-1,312 MiB after)
    release_free_memory()
    return joined_tables(parts, clock, names, airports, _CLASSES)


_Part = tuple[dict[str, Any], dict[str, Any], tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]]


def _part(
    tracks: Tracks | Callable[[], Tracks],
    airports: AirportTable,
    fir_code: str,
    rules: FlightRules,
    clock: PollClock | None,
) -> _Part:
    """One bucket's flights and entries (made from it first, when given the function that makes it),
    and its codes' names."""
    one = tracks if isinstance(tracks, Tracks) else tracks()
    flights, entries = _flights_of(one, airports, fir_code, rules, clock)
    return flights, entries, (one.aircraft_names, one.callsign_names)


def _each(
    tracks: Tracks | Iterable[Tracks | Callable[[], Tracks]],
) -> Iterator[Tracks | Callable[[], Tracks]]:
    if isinstance(tracks, Tracks):
        yield tracks
    else:
        yield from tracks


def _flights_of(
    tracks: Tracks, airports: AirportTable, fir_code: str, rules: FlightRules, clock: PollClock | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flights of one :class:`Tracks`, numbered within it (ground-only ones included, flagged
    by ``airborne``), and their entries' raw facts."""
    aircraft, callsign, t = tracks.aircraft, tracks.callsign, tracks.t
    lon, lat, alt, vrate, ground, zone = tracks.lon, tracks.lat, tracks.alt, tracks.vrate, tracks.ground, tracks.zone
    new, relaunch = _segment(Positions(aircraft, t, callsign, ground, lon, lat), rules, clock)
    flight = np.cumsum(new, dtype=np.int32 if len(new) < 2**31 else np.int64) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:] - 1, len(flight) - 1].astype(np.intp) if len(starts) else starts
    n = len(starts)
    airborne = ~ground
    airborne_n = np.bincount(flight[airborne], minlength=n)
    fir_index = tracks.zones.index(fir_code) if fir_code in tracks.zones else -2
    in_fir = np.bincount(flight[airborne & (zone == fir_index)], minlength=n) > 0

    def place(idx: npt.NDArray[np.intp], climbing: bool) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        codes = np.full(len(idx), -1, dtype=np.intp)  # the airport's index in ``airports``; -1: none
        fir = np.zeros(len(idx), dtype=bool)
        if not len(airports.icao) or not len(idx):
            return codes, fir
        px, py = lon[idx].astype(np.float64), lat[idx].astype(np.float64)
        near, dist = airports.nearest_k(px, py, CANDIDATE_AIRPORTS)
        safe = np.clip(near, 0, None)
        agl = np.nan_to_num(alt[idx].astype(np.float64), nan=np.inf)[:, None] - airports.elevation_m[safe]
        low = (ground[idx][:, None] | (agl <= rules.low_agl_m)) & (dist <= rules.airport_radius_km)
        vr = vrate[idx]
        heading = vr >= rules.min_vrate_mps if climbing else vr <= -rules.min_vrate_mps  # unknown never passes
        profile = (
            heading[:, None] & (agl <= rules.profile_agl_m) & (dist <= np.maximum(agl, 0) / 1000 * rules.km_per_1000m)
        )
        at = (near >= 0) & (low | profile)
        # Of the airports an end may be at, the one its track leads to (a last position) or comes
        # from (a first one): the airport's distance off the track line when it lies ahead (plus how
        # much farther ahead it is than the height allows on the 1:25 gradient), its full distance
        # when it lies behind; the smallest wins. An approach to Puerto Ayacucho last heard nearer
        # Puerto Carreño ends at Puerto Ayacucho; a low end just past an airport stays there. On the
        # ground, or with no track (a single position), the nearest.
        nb = np.clip(idx + (1 if climbing else -1), 0, len(t) - 1)
        cos_lat = np.cos(np.radians(py))
        tx, ty = (px - lon[nb]) * cos_lat, py - lat[nb]  # along the track, towards the end (degrees)
        norm = np.hypot(tx, ty)
        track = (flight[nb] == flight[idx]) & (nb != idx) & ~ground[idx] & (norm > 0)
        ux, uy = tx / np.where(norm > 0, norm, 1.0), ty / np.where(norm > 0, norm, 1.0)
        ax, ay = (airports.lon[safe] - px[:, None]) * cos_lat[:, None], airports.lat[safe] - py[:, None]
        along = (ax * ux[:, None] + ay * uy[:, None]) * 111.2  # km ahead
        off = np.abs(ax * uy[:, None] - ay * ux[:, None]) * 111.2  # km off the track line
        beyond = np.maximum(
            along - np.maximum(agl, 0) / 1000 * rules.km_per_1000m, 0
        )  # farther than the height reaches
        score = np.where(track[:, None], np.where(along >= 0, off + beyond, dist), dist)
        pick = np.argmin(np.where(at, score, np.inf), axis=1)
        rows = np.arange(len(idx))
        chosen, found = safe[rows, pick], at[rows, pick]
        codes[found] = chosen[found]
        fir[found] = airports.in_fir[chosen][found]
        return codes, fir

    # a flight that took off again after a landing starts where it last stood on the ground
    start_ap, start_fir = place(np.where(relaunch[starts], starts - 1, starts), climbing=True)
    end_ap, end_fir = place(ends, climbing=False)
    cls = np.full(n, -1, dtype=np.int8)  # an index in _CLASSES; -1: not classed (not in the FIR)
    for code, (from_fir, to_fir) in enumerate(((True, True), (True, False), (False, True), (False, False))):
        cls[in_fir & (start_fir == from_fir) & (end_fir == to_fir)] = code  # domestic, departure, arrival, overflight
    if clock is not None and n:
        # An end next to a hole in the polling (or the edge of the data) and not at an airport is
        # unknown: the take-off or landing may have happened unseen. Such flights are not guessed.
        start_hole = clock.hole(t[starts], before=True)
        end_hole = clock.hole(t[ends], before=False)
        unknown = (start_hole & (start_ap < 0)) | (end_hole & (end_ap < 0))
        cls[in_fir & unknown] = _CLASSES.index(UNKNOWN)
    # a flight's callsign is the first one received during it
    has_cs = np.flatnonzero(callsign >= 0)
    first_cs = np.full(n, -1, dtype=np.int64)
    with_cs = flight[has_cs]  # in order (flights are numbered along the rows): a flight's first is where it changes
    first = has_cs[np.r_[True, with_cs[1:] != with_cs[:-1]]] if len(has_cs) else has_cs
    first_cs[flight[first]] = callsign[first]
    flights = {  # numbers only: the text columns are made once, for the flights kept (flight_table)
        "flight": np.arange(n, dtype=np.int64),  # every segment: joined_tables numbers them all, drops ground-only ones
        "airborne": airborne_n > 0,
        "aircraft": aircraft[starts],
        "callsign": first_cs,
        "first_time": t[starts],
        "last_time": t[ends],
        "start_airport": start_ap,
        "end_airport": end_ap,
        "start_in_fir": start_fir,
        "end_in_fir": end_fir,
        "in_fir": in_fir,
        "flight_class": cls,
    }
    # first and last airborne time of each flight in each zone. Positions of a flight are contiguous
    # and in time order, so find the runs of one (flight, zone), then merge runs of the same pair.
    air = np.flatnonzero(airborne & (zone >= 0))
    key = flight[air].astype(np.int64) * (len(tracks.zones) + 1) + zone[air]
    if len(key):
        run_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        run_end = np.r_[run_start[1:], len(key)] - 1
        run_key = key[run_start]
        del key
        order = np.argsort(run_key, kind="stable")  # runs are few: sorting them is cheap
        sk = run_key[order]
        group_start = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        group_end = np.r_[group_start[1:], len(sk)] - 1
        pick_first = air[run_start[order[group_start]]]
        pick_last = air[run_end[order[group_end]]]
    else:
        pick_first = pick_last = air
    first_seen, first_flight = t[pick_first], flight[pick_first]
    exempt = (pick_first == starts[first_flight]) & (start_ap[first_flight] >= 0)
    entries = {
        "flight": first_flight.astype(np.int64),
        "aircraft": aircraft[pick_first],
        "zone": zone[pick_first],
        "first_seen": first_seen,
        "last_seen": t[pick_last],
        "exempt": exempt,
        "after_hole": clock.hole(first_seen, before=True) if clock is not None else np.zeros(len(first_seen), bool),
        "zones": np.asarray(tracks.zones, dtype=object),
    }
    return flights, entries
