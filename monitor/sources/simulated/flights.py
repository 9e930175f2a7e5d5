"""Simulated flights, flown along their routes and turned into OpenSky ``/states/all`` replies, one
per poll, in OpenSky's exact wire format.

Place in the flow: ``pipeline.demo`` asks :func:`simulate_replies` for the polls of a
``simulated.scenario.Scenario``; each reply then goes through OpenSky's own parser
(``simulated.reply``) and the same ingest as real data.

Each flight taxis 8 min, flies at ``speed_mps`` along straight lon/lat legs (through optional
waypoints), climbing at 1:15 to its cruise level and descending at 3 degrees (1:19), and taxis 6
min after landing. Positions outside the polling box are dropped, as OpenSky's box filter would.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.airports import airport
from monitor.sources.simulated.scenario import Route, Scenario

__all__ = ["CLIMB_RATIO", "DESCENT_RATIO", "SimulatedPoll", "end_point", "simulate_replies"]

TAXI_OUT_S, TAXI_IN_S = 480.0, 360.0
CLIMB_RATIO, DESCENT_RATIO = 15.0, 19.0  # metres flown per metre climbed (1:15) and descended (3 degrees)
_EARTH_M = 6_371_008.8


@dataclass(frozen=True)
class SimulatedPoll:
    """One poll: a reply in OpenSky's exact format, or the failure status of a gap."""

    time: datetime
    doc: dict[str, Any] | None
    status: str  # "ok" or a gap's status


def end_point(end: str | tuple[float, float]) -> tuple[float, float, bool, float]:
    """(lon, lat, is_airport, elevation_m)."""
    if isinstance(end, str):
        a = airport(end)
        return a.lon, a.lat, True, a.elevation_ft * 0.3048
    return end[0], end[1], False, 0.0


def _leg_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(h))


@dataclass
class _Flight:
    icao24: str
    callsign: str
    path: list[tuple[float, float]]
    leg_m: list[float]
    t0: float  # epoch s of the first position (taxi start, or first airborne at a far point)
    origin_airport: bool
    dest_airport: bool
    origin_elev: float
    dest_elev: float
    cruise_m: float
    speed_mps: float

    @property
    def length_m(self) -> float:
        return sum(self.leg_m)

    def timeline(self) -> tuple[float, float, float]:
        """(take-off, touch-down, end) as epoch s."""
        takeoff = self.t0 + (TAXI_OUT_S if self.origin_airport else 0.0)
        land = takeoff + self.length_m / self.speed_mps
        return takeoff, land, land + (TAXI_IN_S if self.dest_airport else 0.0)

    def positions(self, times: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[Any]]:
        takeoff, land, _ = self.timeline()
        dist = np.clip((times - takeoff) * self.speed_mps, 0.0, self.length_m)
        cum = np.r_[0.0, np.cumsum(self.leg_m)]
        leg = np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(self.leg_m) - 1)
        frac = np.where(np.array(self.leg_m)[leg] > 0, (dist - cum[leg]) / np.array(self.leg_m)[leg], 0.0)
        p = np.array(self.path)
        lon = p[leg, 0] + (p[leg + 1, 0] - p[leg, 0]) * frac
        lat = p[leg, 1] + (p[leg + 1, 1] - p[leg, 1]) * frac
        dx = (p[leg + 1, 0] - p[leg, 0]) * np.cos(np.radians(lat))
        dy = p[leg + 1, 1] - p[leg, 1]
        track = (np.degrees(np.arctan2(dx, dy)) + 360.0) % 360.0
        ground = (times < takeoff) | (times > land)
        # altitude from the distance flown: climb at 1:15 from the origin, descend at 1:19 to the destination
        up = self.origin_elev + dist / CLIMB_RATIO if self.origin_airport else np.full_like(dist, np.inf)
        down = (
            self.dest_elev + (self.length_m - dist) / DESCENT_RATIO if self.dest_airport else np.full_like(dist, np.inf)
        )
        alt = np.minimum(np.minimum(up, down), self.cruise_m)
        climbing = (up < down) & (up < self.cruise_m)
        descending = (down <= up) & (down < self.cruise_m)
        vrate = np.where(
            climbing, self.speed_mps / CLIMB_RATIO, np.where(descending, -self.speed_mps / DESCENT_RATIO, 0.0)
        )
        alt = np.where(ground, np.nan, alt)
        vrate = np.where(ground, np.nan, vrate)
        speed = np.where(ground, 7.0, self.speed_mps)
        return {"lon": lon, "lat": lat, "alt": alt, "ground": ground, "speed": speed, "track": track, "vrate": vrate}


def _departures(route: Route, day: datetime, factor_day: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    w = np.asarray(route.profile, dtype=float)
    n = rng.poisson(route.per_day * factor_day)
    hours = rng.choice(24, size=n, p=w / w.sum())
    return day.timestamp() + hours * 3600.0 + rng.uniform(0, 3600, size=n)


def _flights(scenario: Scenario, rng: np.random.Generator) -> list[_Flight]:
    """Every flight of the scenario, each on an airframe of its airline that is free at the time."""
    first_day = (scenario.start - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = (scenario.end - first_day).days + 1
    planned: list[tuple[float, Route, int, list[tuple[float, float]], tuple[Any, ...], tuple[Any, ...]]] = []
    for route in scenario.routes:
        directions = [(route.origin, route.destination)]
        if route.both_ways:
            directions.append((route.destination, route.origin))
        for d_index, (a, b) in enumerate(directions):
            kind = route.kind
            if kind in ("arrival", "departure") and d_index == 1:
                kind = "departure" if kind == "arrival" else "arrival"
            pa_, pb_ = end_point(a), end_point(b)
            via = route.via if d_index == 0 else route.via[::-1]
            around = route.detour if d_index == 0 else route.detour[::-1]
            normal = [(pa_[0], pa_[1]), *via, (pb_[0], pb_[1])]
            detour = [(pa_[0], pa_[1]), *around, (pb_[0], pb_[1])] if around else None
            for day_i in range(days):
                day = first_day + timedelta(days=day_i)
                for t_dep in np.sort(_departures(route, day, 1.0, rng)):
                    when = datetime.fromtimestamp(float(t_dep), UTC)
                    keep, rerouted = 1.0, False
                    for effect in scenario.effects:
                        if effect.applies(kind, route.airline, when):
                            keep *= effect.factor
                            rerouted = rerouted or effect.reroute
                    path = normal
                    if rng.uniform() >= keep:
                        if not (rerouted and detour is not None):
                            continue
                        path = detour
                    planned.append((float(t_dep), route, d_index, path, pa_, pb_))
    planned.sort(key=lambda p: p[0])
    free_at: dict[str, list[float]] = {}  # per airline: when each airframe is next free
    flights: list[_Flight] = []
    for t_dep, route, d_index, path, pa_, pb_ in planned:
        tails = free_at.setdefault(route.airline, [])
        tail = next((i for i, free in enumerate(tails) if free <= t_dep), None)
        if tail is None:
            tails.append(0.0)
            tail = len(tails) - 1
        f = _Flight(
            icao24=f"{zlib.crc32(f'{route.airline}-{tail}'.encode()) & 0xFFFFFF:06x}",
            callsign=f"{route.airline}{route.number + d_index}",
            path=path,
            leg_m=[_leg_m(path[i], path[i + 1]) for i in range(len(path) - 1)],
            t0=t_dep,
            origin_airport=pa_[2],
            dest_airport=pb_[2],
            origin_elev=pa_[3],
            dest_elev=pb_[3],
            cruise_m=route.cruise_m,
            speed_mps=route.speed_mps,
        )
        tails[tail] = f.timeline()[2] + 2700.0  # 45 minutes on the ground between legs
        flights.append(f)
    return flights


def simulate_replies(scenario: Scenario) -> Iterator[SimulatedPoll]:
    """One simulated poll per ``interval_s`` from ``start`` to ``end`` (half-open), in time order."""
    rng = np.random.default_rng(scenario.seed)
    flights = _flights(scenario, rng)
    t0, t1 = scenario.start.timestamp(), scenario.end.timestamp()
    grid = np.arange(t0, t1, scenario.interval_s)
    per_snapshot: list[list[list[Any]]] = [[] for _ in grid]
    box = scenario.box
    seen: dict[tuple[str, int], int] = {}
    for f in flights:
        _, _, end = f.timeline()
        lo = np.searchsorted(grid, f.t0, side="left")
        hi = np.searchsorted(grid, end, side="right")
        if hi <= lo:
            continue
        times = grid[lo:hi]
        pos = f.positions(times)
        inside = (
            (pos["lon"] >= box.west) & (pos["lon"] <= box.east) & (pos["lat"] >= box.south) & (pos["lat"] <= box.north)
        )
        for k in np.flatnonzero(inside):
            snap = int(lo) + int(k)
            key = (f.icao24, snap)
            if key in seen:  # one aircraft cannot fly two legs at once: keep the first
                continue
            seen[key] = 1
            t = int(times[k])
            ground = bool(pos["ground"][k])
            alt = None if ground else round(float(pos["alt"][k]), 2)
            per_snapshot[snap].append([
                f.icao24, f"{f.callsign:<8}", "Simulated", t - 1, t, round(float(pos["lon"][k]), 5),
                round(float(pos["lat"][k]), 5), alt, ground, round(float(pos["speed"][k]), 2),
                round(float(pos["track"][k]), 1), None if ground else float(pos["vrate"][k]), None,
                None if alt is None else round(alt + 120.0, 2), "2000", False, 0, 4,
            ])  # fmt: skip
    for i, tick in enumerate(grid):
        when = datetime.fromtimestamp(float(tick), UTC)
        gap = next((g for g in scenario.gaps if g.start <= when < g.end), None)
        if gap is not None:
            yield SimulatedPoll(when, None, gap.status)
            continue
        yield SimulatedPoll(when, {"time": int(tick), "states": per_snapshot[i] or None}, "ok")
