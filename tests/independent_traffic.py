"""Flights flown along great circles between real airports, seen by a feed with holes in its
coverage: the truth to measure vzmon's flight counts against. Written apart from
``monitor.sources.simulated`` (the demo's routes) and from ``monitor.analysis.flights`` (the rules
it measures); it shares only the offline airport database and the zones.

The model (times Unix seconds, UTC; altitudes metres above sea level; speeds m/s over ground):

- **Routes** (``tests/independent_routes.py``) join real airports (``geo.airports``): domestic
  Venezuelan legs, international legs to and from Maiquetía, Valencia and Maracaibo, overflights
  of the FIR (SVZM) and legs that stay in its ring. Short routes are flown by rotations: one
  airframe flies out and back after a turnaround of 40-90 minutes, and may fly several rotations
  a day; long-haul legs are flown one way by an airframe of the airline standing at the origin
  (a new one if none is free). Every leg gets a fresh callsign (airline ICAO code and a number).
- **Volume**: each day (a local day, UTC-4) has a gamma volume factor (coefficient of variation
  ``volume_cv``) and a weekday factor; legs are placed in the day by an hourly cycle with few
  flights from 02 to 09 UTC (22:00-05:00 in Caracas).
- **Profile** (``tests/independent_paths.py``): great circles sampled every 10 s; 3-10 minutes
  of taxi on the ground (``on_ground`` true, no altitude), a climb at a 1:15 gradient, a cruise at
  9-12 km (lower on legs too short for it) at 200-250 m/s, a 3-degree descent, taxi in. The
  vertical rate is positive climbing, negative descending, 0 in cruise.
- **Coverage**: a position is reported only inside the polling box, outside every :class:`Hole`
  (an area where no receiver hears aircraft below ``below_m``: the open sea north of the coast,
  13-17 N; the south of the FIR, 4-7.8 N, over Bolívar and Amazonas) and outside every
  :class:`AirportHole` (below 3,000 m within 60 km of Puerto Ordaz, Ciudad Bolívar, Santa Elena
  and Puerto Ayacucho); a share ``dropout`` (2 %) of the rest is lost at random. The big holes
  hide a cruising flight for 30-60 minutes: the overflights from Brazil to the US cross the FIR's
  southern hole with heard positions in the FIR on both sides, as does Puerto Ordaz-Puerto Ayacucho.
- **Feed outages**: spans in which every poll fails.

:func:`fly` returns the truth (one row per leg, its class relative to the FIR by the EUROCONTROL
rule from its true path) and the polls, each an OpenSky ``/states/all`` reply in its exact format
or None; :func:`build_store` feeds the polls through vzmon's ingest into a SQLite store.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.airports import Airport, all_airports
from geo.fence import fence_for
from geo.zoneset import ZoneSet, load_zone_set
from monitor.ingest import ingest
from monitor.pipeline.shared import zone_set_for
from monitor.settings.load import load_settings
from monitor.settings.table import Settings
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states
from monitor.store.db import Store
from monitor.store.snapshots import PollRecord, record_poll
from tests.independent_paths import (
    FT,
    SAMPLE_S,
    Leg,
    Profile,
    distance_m,
    great_circle,
    km_between,
    leg_states,
    plan_profile,
)
from tests.independent_routes import AIRLINES, ROUTES, Route

__all__ = [
    "DEFAULT_AIRPORT_HOLES",
    "DEFAULT_HOLES",
    "SOURCE",
    "AirportHole",
    "Flown",
    "Hole",
    "Traffic",
    "build_store",
    "fly",
]

SOURCE = "demo"  # the source name polls are stored under, as the demo's simulated polls

# Share of a day's legs in each UTC hour: few from 02 to 09 UTC (22:00-05:00 in Caracas).
HOURLY = np.array(
    [0.7, 0.5, 0.25, 0.12, 0.08, 0.08, 0.08, 0.12, 0.3, 0.7, 1.1, 1.3, 1.4, 1.4, 1.4, 1.35, 1.35, 1.3, 1.3, 1.25,
     1.15, 1.05, 0.95, 0.85]
)  # fmt: skip
WEEKDAY = np.array([1.05, 0.95, 0.95, 1.0, 1.1, 0.9, 1.05])  # Monday first
LOCAL_DAY_S = 4 * 3600  # a day's volume changes at local midnight (UTC-4)


@dataclass(frozen=True)
class Hole:
    """An area (west, south, east, north in degrees) where no position below ``below_m`` is heard."""

    west: float
    south: float
    east: float
    north: float
    below_m: float = math.inf
    name: str = ""


@dataclass(frozen=True)
class AirportHole:
    """Positions (ground included) below ``below_m`` within ``radius_km`` of the airport are not heard."""

    icao: str
    radius_km: float = 60.0
    below_m: float = 3_000.0


# The open Caribbean north of the coast, and the south of the FIR (Bolivar, Amazonas), have no
# receiver in reach at any altitude; interior airports are heard only above 3,000 m.
DEFAULT_HOLES = (
    Hole(-70.0, 13.0, -62.0, 17.0, name="Caribbean north of the coast"),
    Hole(-67.0, 4.0, -62.0, 7.8, name="Bolivar and Amazonas"),
)
DEFAULT_AIRPORT_HOLES = tuple(AirportHole(icao) for icao in ("SVPR", "SVCB", "SVSE", "SVPA"))


@dataclass(frozen=True)
class Traffic:
    """What to fly and how it is seen: ``days`` whole UTC days from ``start`` (a UTC midnight),
    polled every ``interval_s`` from ``lead_s`` before them to ``lead_s`` after them; ``outages``
    are (start, end) spans of failed polls, Unix seconds."""

    start: datetime
    days: int
    interval_s: int = 300
    seed: int = 1
    outages: tuple[tuple[int, int], ...] = ()
    volume: float = 1.0  # scales every route's legs per day
    volume_cv: float = 0.2
    holes: tuple[Hole, ...] = DEFAULT_HOLES
    airport_holes: tuple[AirportHole, ...] = DEFAULT_AIRPORT_HOLES
    dropout: float = 0.02
    lead_s: int = 6 * 3600
    routes: tuple[Route, ...] = ROUTES

    @property
    def window(self) -> tuple[int, int]:
        """The measured span: the whole days, [start, end) in Unix seconds."""
        t0 = int(self.start.timestamp())
        return t0, t0 + self.days * 86_400

    @property
    def poll_times(self) -> npt.NDArray[np.int64]:
        t0, t1 = self.window
        return np.arange(t0 - self.lead_s, t1 + self.lead_s, self.interval_s, dtype=np.int64)


@dataclass(frozen=True)
class Flown:
    """The truth (one row per leg) and the polls: (time, reply or None for a failed poll)."""

    truth: pd.DataFrame
    polls: list[tuple[int, dict[str, Any] | None]] = field(repr=False)
    traffic: Traffic


# --- the schedule ---------------------------------------------------------------------------


class _Fleet:
    """Airframes of each airline by the airport where they stand, and when each is free again."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parked: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self.used: set[str] = set()
        self.callsigns: set[str] = set()

    def take(self, airline: str, airport: str, at: int) -> str:
        """An airframe of ``airline`` free at ``airport`` by ``at``, or a new one."""
        parked = self.parked.setdefault((airline, airport), [])
        free = [i for i, (t, _) in enumerate(parked) if t <= at]
        if free:
            return parked.pop(free[0])[1]
        base = AIRLINES[airline][0]
        while True:
            code = f"{base + int(self.rng.integers(0, 0x8000)):06x}"
            if code not in self.used:
                self.used.add(code)
                return code

    def park(self, airline: str, airport: str, icao24: str, free_at: int) -> None:
        self.parked.setdefault((airline, airport), []).append((free_at, icao24))
        self.parked[(airline, airport)].sort()

    def callsign(self, airline: str) -> str:
        while True:
            cs = f"{airline}{int(self.rng.integers(10, 10_000))}"
            if cs not in self.callsigns:
                self.callsigns.add(cs)
                return cs


def _day_factors(traffic: Traffic, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Volume of each local day from the day before ``start`` to the day after the last: a gamma
    factor (mean 1, coefficient of variation ``volume_cv``) times the weekday's."""
    n = traffic.days + 3
    shape = 1 / traffic.volume_cv**2 if traffic.volume_cv > 0 else math.inf
    gamma = rng.gamma(shape, 1 / shape, n) if math.isfinite(shape) else np.ones(n)
    first = traffic.start - timedelta(days=1)
    weekday = WEEKDAY[[(first + timedelta(days=d)).weekday() for d in range(n)]]
    out: npt.NDArray[np.float64] = traffic.volume * gamma * weekday
    return out


def _times_of_day(n: int, day_start: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """``n`` times in the local day starting at ``day_start`` (04 UTC), placed by the hourly cycle."""
    hours = (np.arange(24) + LOCAL_DAY_S // 3600) % 24  # the local day's hours in UTC, in order
    weights = HOURLY[hours] / HOURLY.sum()
    slot = rng.choice(24, size=n, p=weights)
    out: npt.NDArray[np.int64] = day_start + slot * 3600 + rng.integers(0, 3600, n)
    return out


def _near_fir_s(origin: Airport, destination: Airport, profile: Profile) -> float:
    """Seconds after take-off when the leg passes closest to the middle of the FIR."""
    frac = np.linspace(0.0, 1.0, 400)
    lon, lat = great_circle(origin, destination, frac)
    middle = Airport("", "", "", "", "", 7.5, -66.0, 0.0)
    i = int(np.argmin(km_between(lon, lat, middle)))
    return float(np.interp(frac[i] * profile.s[-1], profile.s, profile.t))


def _new_leg(a: Airport, b: Airport, airline: str, fleet: _Fleet, rng: np.random.Generator) -> tuple[Leg, Profile]:
    """A leg from ``a`` to ``b`` with its own callsign, cruise and taxi times; airframe and
    take-off time still unset."""
    cruise_m, cruise_mps = float(rng.uniform(9_000, 12_000)), float(rng.uniform(200, 250))
    path = plan_profile(distance_m(a, b), a.elevation_ft * FT, b.elevation_ft * FT, cruise_m, cruise_mps)
    leg = Leg(
        origin=a,
        destination=b,
        icao24="",
        callsign=fleet.callsign(airline),
        country=AIRLINES[airline][1],
        takeoff=0,
        taxi_out_s=int(rng.integers(18, 60)) * SAMPLE_S,
        taxi_in_s=int(rng.integers(15, 48)) * SAMPLE_S,
        cruise_m=cruise_m,
        cruise_mps=cruise_mps,
        squawk="".join(str(int(x)) for x in rng.integers(0, 8, 4)),
    )
    return leg, path


def _on_grid(t: float) -> int:
    return int(t) - int(t) % SAMPLE_S


def _schedule(traffic: Traffic, rng: np.random.Generator) -> list[tuple[Leg, Profile]]:
    """Every leg flown from the day before ``start`` to the day after the last, in time order."""
    airports = all_airports()
    t0 = int(traffic.start.timestamp())
    wanted: list[tuple[int, int, bool]] = []  # (time, route index, flown from destination to origin)
    for d, factor in enumerate(_day_factors(traffic, rng)):
        day_start = t0 + (d - 1) * 86_400 + LOCAL_DAY_S
        for r, route in enumerate(traffic.routes):
            for back in (False,) if route.rotation else (False, True):
                n = int(rng.poisson(route.per_day * factor))
                wanted += [(int(t), r, back) for t in _times_of_day(n, day_start, rng)]
    wanted.sort()
    fleet = _Fleet(rng)
    legs: list[tuple[Leg, Profile]] = []
    for when, r, back in wanted:
        route = traffic.routes[r]
        a, b = airports[route.origin], airports[route.destination]
        if back:
            a, b = b, a
        airline = route.airlines[int(rng.integers(0, len(route.airlines)))]
        out, path = _new_leg(a, b, airline, fleet, rng)
        # a rotation leaves at ``when``; a one-way leg passes nearest the FIR's middle then
        takeoff = _on_grid(when if route.rotation else when - _near_fir_s(a, b, path))
        icao24 = fleet.take(airline, a.icao, takeoff - out.taxi_out_s)
        legs.append((dataclasses.replace(out, icao24=icao24, takeoff=takeoff), path))
        landed = takeoff + int(path.duration_s) + out.taxi_in_s
        if not route.rotation:
            fleet.park(airline, b.icao, icao24, landed + 3600)
            continue
        # the same airframe flies back after a turnaround of 40-90 minutes, under a new callsign
        ret, ret_path = _new_leg(b, a, airline, fleet, rng)
        takeoff = _on_grid(landed + int(rng.integers(40, 90)) * 60 + ret.taxi_out_s)
        legs.append((dataclasses.replace(ret, icao24=icao24, takeoff=takeoff), ret_path))
        fleet.park(airline, a.icao, icao24, takeoff + int(ret_path.duration_s) + ret.taxi_in_s + 1800)
    return legs


# --- what the feed hears, and the truth -----------------------------------------------------


def _heard(traffic: Traffic, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
           alt: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Whether a receiver hears an aircraft here: outside every hole (on the ground, ``alt`` is the
    airport's elevation)."""
    heard = np.ones(len(lon), dtype=bool)
    for hole in traffic.holes:
        inside = (lon >= hole.west) & (lon < hole.east) & (lat >= hole.south) & (lat < hole.north)
        heard &= ~(inside & (alt < hole.below_m))
    airports = all_airports()
    for ah in traffic.airport_holes:
        a = airports[ah.icao]
        deg = ah.radius_km / 100  # a degree is over 100 km this near the equator: a box around the circle
        near = np.flatnonzero((np.abs(lat - a.lat) < deg) & (np.abs(lon - a.lon) < deg))
        low = (km_between(lon[near], lat[near], a) <= ah.radius_km) & (alt[near] < ah.below_m)
        heard[near[low]] = False
    return heard


def _longest_gap(t: npt.NDArray[np.int64], seen: npt.NDArray[np.bool_]) -> int:
    """Longest time (s) between two consecutive ``seen`` samples (0 with fewer than two)."""
    times = t[seen]
    return int(np.diff(times).max()) if len(times) > 1 else 0


def _truth_class(origin_in: bool, destination_in: bool, entered: bool) -> str | None:
    """A leg's class relative to the FIR, by the EUROCONTROL rule."""
    if origin_in and destination_in:
        return "domestic"
    if origin_in:
        return "departure"
    if destination_in:
        return "arrival"
    return "overflight" if entered else None


def _fly_chunk(
    traffic: Traffic,
    zone_set: ZoneSet,
    chunk: list[tuple[Leg, Profile]],
    polls: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The truth rows of some legs, and their states a receiver heard at poll times."""
    paths = [leg_states(leg, profile) for leg, profile in chunk]
    cols = {k: np.concatenate([p[k] for p in paths]) for k in paths[0]}
    n = np.array([len(p["time"]) for p in paths])
    first = np.r_[0, np.cumsum(n)[:-1]]
    fence = fence_for(zone_set)
    box = zone_set.polling_box
    lon, lat = cols["lon"], cols["lat"]
    in_box = (lon >= box.west) & (lon <= box.east) & (lat >= box.south) & (lat <= box.north)
    heard = in_box & _heard(traffic, lon, lat, cols["alt"])
    in_fir = (fence.classify_index(lon, lat) == 0) & ~cols["ground"]
    rows: list[dict[str, Any]] = []
    for i, (leg, _) in enumerate(chunk):
        part = slice(first[i], first[i] + n[i])
        t, fir = cols["time"][part], in_fir[part]
        inside = np.flatnonzero(fir)
        origin_in, destination_in = (
            bool(fence.classify_index([a.lon], [a.lat])[0] == 0) for a in (leg.origin, leg.destination)
        )
        rows.append({
            "icao24": leg.icao24,
            "callsign": leg.callsign,
            "origin": leg.origin.icao,
            "destination": leg.destination.icao,
            "truth_class": _truth_class(origin_in, destination_in, len(inside) > 0),
            "entry_time": int(t[inside[0]]) if len(inside) else None,
            "exit_time": int(t[inside[-1]]) if len(inside) else None,
            "takeoff": leg.takeoff,
            "first_time": int(t[0]),
            "last_time": int(t[-1]),
            "longest_unseen_s": _longest_gap(t, heard[part]),
            "longest_unseen_fir_s": _longest_gap(t, heard[part] & fir),
            "in_box": bool(in_box[part].any()),
        })  # fmt: skip
    reported = np.isin(cols["time"], polls) & heard & (rng.random(len(heard)) >= traffic.dropout)
    idx = np.flatnonzero(reported)
    legs = [chunk[i][0] for i in np.repeat(np.arange(len(chunk)), n)[idx]]
    states = pd.DataFrame({
        "time": cols["time"][idx],
        "icao24": [leg.icao24 for leg in legs],
        "callsign": [leg.callsign for leg in legs],
        "country": [leg.country for leg in legs],
        "squawk": [leg.squawk for leg in legs],
        **{k: cols[k][idx] for k in ("lon", "lat", "alt", "ground", "velocity", "track", "vrate")},
    })  # fmt: skip
    return rows, states


def _state_row(r: Any, rng: np.random.Generator) -> list[Any]:
    """One aircraft as an OpenSky state vector of 18 fields (``extended=1``), rounded as the real
    captures are: altitudes to 25 ft, vertical rates to 64 ft/min, coordinates to 4 decimals; on
    the ground no altitude."""
    t = int(r.time)
    lag = int(rng.integers(0, 6))  # the position is a few seconds older than the reply
    ground = bool(r.ground)
    baro = None if ground else round(round(r.alt / FT / 25) * 25 * FT, 2)
    geo = None if ground else round(r.alt + 120.0 + float(rng.normal(0, 30)), 2)
    vrate = 0.0 if ground else round(round(r.vrate / (64 * FT / 60)) * (64 * FT / 60), 2)
    return [
        r.icao24, f"{r.callsign:<8}", r.country, t - lag, t - min(lag, int(rng.integers(0, 2))),
        round(float(r.lon), 4), round(float(r.lat), 4), baro, ground, round(float(r.velocity), 2),
        round(float(r.track), 2), vrate, None, geo, r.squawk, False, 0, 0,
    ]  # fmt: skip


def fly(traffic: Traffic, zone_set: ZoneSet | None = None) -> Flown:
    """Fly ``traffic``: the truth per leg and every poll's reply (None while the feed is out).

    Truth, one row per leg that was ever in the polling box: ``icao24``, ``callsign``, ``origin``,
    ``destination``, ``truth_class`` (relative to the FIR; None when the leg is never airborne in
    it), ``entry_time``/``exit_time`` (first and last 10-s sample airborne in the FIR, Unix s,
    heard or not), ``takeoff``, ``first_time``/``last_time`` (taxi included),
    ``longest_unseen_s`` (longest time between two heard positions) and ``longest_unseen_fir_s``
    (the same between heard positions airborne in the FIR).
    """
    zone_set = zone_set or load_zone_set()
    rng = np.random.default_rng(traffic.seed)
    legs = _schedule(traffic, rng)
    polls = traffic.poll_times
    rows: list[dict[str, Any]] = []
    parts: list[pd.DataFrame] = []
    for i in range(0, len(legs), 200):  # a chunk of legs at a time: its 10-s samples stay near a million
        chunk_rows, chunk_states = _fly_chunk(traffic, zone_set, legs[i : i + 200], polls, rng)
        rows += chunk_rows
        parts.append(chunk_states)
    truth = pd.DataFrame(rows)
    truth = truth[truth["in_box"]].drop(columns="in_box").reset_index(drop=True)
    states = pd.concat(parts, ignore_index=True).sort_values(["time", "icao24"], kind="stable")
    by_time = dict(list(states.groupby("time", sort=True)))
    replies: list[tuple[int, dict[str, Any] | None]] = []
    for t in polls.tolist():
        if any(lo <= t < hi for lo, hi in traffic.outages):
            replies.append((t, None))
            continue
        g = by_time.get(t)
        rows_t = [_state_row(r, rng) for r in g.itertuples(index=False)] if g is not None else []
        replies.append((t, {"time": t, "states": rows_t}))
    return Flown(truth=truth, polls=replies, traffic=traffic)


def build_store(tmp_path: Path, traffic: Traffic | None = None) -> tuple[Settings, Path, pd.DataFrame]:
    """Fly ``traffic`` (default: 4 days from Monday 2025-11-03, 5-minute polls) and feed every poll
    into a SQLite store under ``tmp_path`` through vzmon's ingest, as the demo feeds its simulated
    polls: each reply read by OpenSky's parser, stored with source ``demo`` and marked simulated; a
    poll during an outage is recorded as a failed poll.

    Returns ``(settings, db, truth)``, the settings pointing at the store ``db``.
    """
    db = tmp_path / "independent.sqlite"
    settings = load_settings(env={"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(tmp_path), "VZMON_DB": str(db)})
    zone_set = zone_set_for(settings)
    flown = fly(traffic or Traffic(datetime(2025, 11, 3, tzinfo=UTC), 4), zone_set)
    credits = zone_set.polling_box.credits
    with Store(db) as store:
        for t, doc in flown.polls:
            requested = datetime.fromtimestamp(t, UTC) + timedelta(seconds=2)
            if doc is None:
                record_poll(
                    store, PollRecord(SOURCE, requested, "error", error="simulated feed outage", simulated=True)
                )
                continue
            parsed = parse_states(doc, settings.opensky_stale_after_s)
            reply = Reply(SOURCE, parsed.api_time, parsed.table, parsed.malformed_rows, 200, credits)
            ingest(store, zone_set, reply, PollRecord(SOURCE, requested, "ok", simulated=True))
    return settings, db, flown.truth
