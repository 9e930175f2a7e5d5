"""Simulated traffic for the demo and the tests: flights on real routes, turned into OpenSky replies.

Place in the flow: ``vzmon demo`` (``pipeline.demo``) builds a :class:`Scenario`, asks
:func:`simulate_replies` for one ``/states/all`` reply per poll, in OpenSky's exact wire format,
turns each into a :class:`~monitor.sources.base.Reply` with OpenSky's own parser
(:func:`simulated_reply`) and feeds it through the same ingest path as real data (fence, count,
store), marked ``simulated``. Tests build
scenarios with known effects (e.g. overflights down 60 %) and check the analysis recovers them.

Model (deliberately simple, and stated in every demo report as SIMULATED DATA):
- A route flies between two airports (or a far point outside the box and an airport), ``per_day``
  times a day, with departures spread by a daily profile (UTC hours) and Poisson noise.
- Each flight taxis 8 min, flies at ``speed_mps`` along straight lon/lat legs (through optional
  waypoints), climbing at 1:15 to its cruise level and descending at 3 degrees (1:19), and taxis
  6 min after landing. Positions outside the
  polling box are dropped, as OpenSky's box filter would.
- :class:`Effect` thins flights from a time on (by kind and/or airline); with ``reroute`` the
  removed overflights fly via the route's detour waypoint instead, so traffic moves to the ring.
- :class:`Gap` makes polls fail (rate-limited or error) for a while: gaps, not zeros.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.airports import airport
from geo.bounds import BBox
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states

__all__ = [
    "DAYTIME",
    "DEMO",
    "FLAT",
    "Effect",
    "Gap",
    "Route",
    "Scenario",
    "SimulatedPoll",
    "default_routes",
    "november_2025",
    "simulate_replies",
]

# Departures per UTC hour (relative). Venezuela is UTC-4: most scheduled flights leave 06-22 local.
DAYTIME = (0.3, 0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.0, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.2,
           1.1, 1.0, 0.9, 0.7, 0.5)  # fmt: skip
FLAT = (0.7, 0.6, 0.6, 0.6, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        0.9, 0.8, 0.7)  # fmt: skip

DEMO = "demo"  # the source name simulated polls are stored under
TAXI_OUT_S, TAXI_IN_S = 480.0, 360.0
CLIMB_RATIO, DESCENT_RATIO = 15.0, 19.0  # metres flown per metre climbed (1:15) and descended (3 degrees)
_EARTH_M = 6_371_008.8


@dataclass(frozen=True)
class Route:
    """A scheduled route. Ends are ICAO codes or (lon, lat) points outside the box (flights there
    are already at cruise)."""

    airline: str
    number: int
    origin: str | tuple[float, float]
    destination: str | tuple[float, float]
    per_day: float
    kind: str  # domestic, arrival, departure, overflight or ring (the expected class)
    profile: tuple[float, ...] = DAYTIME
    via: tuple[tuple[float, float], ...] = ()  # waypoints of the normal path
    detour: tuple[tuple[float, float], ...] = ()  # waypoints of the path that avoids the FIR (if any)
    cruise_m: float = 10_668.0
    speed_mps: float = 230.0
    both_ways: bool = True


@dataclass(frozen=True)
class Effect:
    """From ``start`` on, keep only ``factor`` of the matching flights (empty filters match all)."""

    start: datetime
    factor: float
    kinds: tuple[str, ...] = ()
    airlines: tuple[str, ...] = ()
    reroute: bool = False
    end: datetime | None = None

    def applies(self, kind: str, airline: str, t: datetime) -> bool:
        return (
            t >= self.start
            and (self.end is None or t < self.end)
            and (not self.kinds or kind in self.kinds)
            and (not self.airlines or airline in self.airlines)
        )


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    status: str = "rate_limited"  # or "error"


@dataclass(frozen=True)
class Scenario:
    start: datetime
    end: datetime
    interval_s: float
    routes: tuple[Route, ...]
    effects: tuple[Effect, ...] = ()
    gaps: tuple[Gap, ...] = ()
    seed: int = 2025
    box: BBox = field(default_factory=lambda: BBox(-75.42, -1.36, -57.8, 17.7))
    name: str = "scenario"


@dataclass(frozen=True)
class SimulatedPoll:
    """One poll: a reply in OpenSky's exact format, or the failure status of a gap."""

    time: datetime
    doc: dict[str, Any] | None
    status: str  # "ok" or a gap's status


def _point(end: str | tuple[float, float]) -> tuple[float, float, bool, float]:
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
            pa_, pb_ = _point(a), _point(b)
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


def default_routes(domestic_scale: float = 1.0) -> tuple[Route, ...]:
    """The demo's routes: domestic, Caracas arrivals/departures, overflight corridors, neighbours' traffic."""
    d = domestic_scale
    e_atl = (-45.0, 25.0)  # the Atlantic beyond the box, towards Europe
    north_mia = (-80.3, 25.8)
    north_jfk = (-73.8, 40.6)
    south_gru = (-46.5, -23.4)
    south_eze = (-58.5, -34.8)
    return (
        # domestic (both ends in Venezuela)
        Route("VCV", 100, "SVMI", "SVMG", 8 * d, "domestic"),
        Route("VCV", 200, "SVMI", "SVMC", 6 * d, "domestic"),
        Route("ROI", 300, "SVMI", "SVPR", 5 * d, "domestic"),
        Route("ROI", 400, "SVMI", "SVBC", 5 * d, "domestic"),
        Route("LER", 500, "SVMI", "SVMG", 4 * d, "domestic"),
        Route("ETR", 600, "SVMI", "SVMC", 4 * d, "domestic"),
        Route("RUC", 700, "SVMI", "SVSA", 3 * d, "domestic", cruise_m=7_000, speed_mps=150),
        Route("VNE", 800, "SVMI", "SVPA", 2 * d, "domestic", cruise_m=6_000, speed_mps=140),
        Route("ETR", 900, "SVMG", "SVPR", 2 * d, "domestic", cruise_m=7_000, speed_mps=160),
        # international arrivals at Caracas (and the departures back)
        Route("CMP", 220, "MPTO", "SVMI", 3, "arrival"),
        Route("AVA", 140, "SKBO", "SVMI", 2, "arrival"),
        Route("ARE", 400, "SKBO", "SVMI", 1, "arrival"),
        Route("RPB", 750, "SKBO", "SVMI", 1, "arrival"),
        Route("IBE", 6500, e_atl, "SVMI", 1, "arrival"),
        Route("AEA", 71, e_atl, "SVMI", 0.7, "arrival"),
        Route("PUE", 601, e_atl, "SVMI", 0.5, "arrival"),
        Route("TAP", 171, e_atl, "SVMI", 0.3, "arrival"),
        Route("THY", 223, e_atl, "SVMI", 0.5, "arrival"),
        Route("GLO", 7880, south_gru, "SVMI", 0.5, "arrival"),
        Route("BWA", 421, "TTPP", "SVMI", 1, "arrival", cruise_m=7_500, speed_mps=180),
        Route("BOV", 781, (-63.1, -17.6), "SVMI", 0.3, "arrival"),
        # overflights (north-south and east-west corridors through SVZM), with their detours
        Route("TAM", 8064, north_mia, south_gru, 12, "overflight", FLAT, detour=((-57.5, 10.5),)),
        Route("AAL", 930, north_mia, south_gru, 8, "overflight", FLAT, detour=((-57.5, 10.5),)),
        Route("DAL", 121, north_jfk, south_gru, 6, "overflight", FLAT, detour=((-57.5, 12.0),)),
        Route("ARG", 1302, north_mia, south_eze, 6, "overflight", FLAT, via=((-66.0, 6.0),), detour=((-57.5, 10.5),)),
        Route("UAL", 861, north_jfk, south_eze, 4, "overflight", FLAT, detour=((-57.5, 12.0),)),
        Route(
            "LAN", 530, north_mia, (-70.8, -33.4), 8, "overflight", FLAT, via=((-69.5, 9.0),), detour=((-74.5, 10.0),)
        ),
        Route("ACA", 96, (-79.6, 43.7), south_gru, 4, "overflight", FLAT, detour=((-57.5, 12.0),)),
        Route("AVA", 10, "SKBO", e_atl, 6, "overflight", FLAT, detour=((-76.0, 13.5),)),
        Route("AFR", 422, "SKBO", e_atl, 2, "overflight", FLAT, detour=((-76.0, 13.5),)),
        Route("CMP", 470, "MPTO", "TBPB", 6, "overflight", detour=((-67.5, 16.3),)),
        Route("CMP", 480, "MPTO", "TTPP", 6, "overflight", detour=((-67.5, 16.3), (-62.5, 15.4))),
        Route("AZU", 8700, "SBBV", (-66.0, 18.4), 4, "overflight", detour=((-59.0, 9.0),)),
        # traffic of the neighbours, in the ring only
        Route("AVA", 9300, "SKBO", "SKBQ", 8, "ring"),
        Route("RPB", 7300, "SKBO", "SKSM", 4, "ring"),
        Route("AVA", 9500, "SKBO", "SKCC", 4, "ring", cruise_m=8_000, speed_mps=180),
        Route("KLM", 785, "TNCC", "TNCA", 4, "ring", cruise_m=3_000, speed_mps=120),
        Route("INC", 7110, "TNCC", (-66.0, 18.4), 4, "ring"),
        Route("BWA", 400, "TTPP", "TBPB", 6, "ring", cruise_m=7_000, speed_mps=170),
        Route("LIA", 318, "TTPP", "TGPY", 4, "ring", cruise_m=4_000, speed_mps=120),
        Route("BWA", 480, "TTPP", "SYCJ", 3, "ring", via=((-59.3, 9.6),)),
        Route("TGY", 100, "SYCJ", "SBBV", 1, "ring", cruise_m=4_000, speed_mps=110),
        Route("AZU", 4520, "SBBV", "SBEG", 3, "ring"),
        Route("JBU", 1621, (-66.0, 18.4), "TNCA", 2, "ring"),
    )


FOREIGN_SUSPENDED_NOV22 = ("IBE", "TAP", "AVA", "ARE", "GLO", "BWA")
SUSPENDED_NOV24 = ("AEA", "PUE", "THY")
SUSPENDED_DEC04 = ("CMP", "RPB")


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def november_2025(
    start: datetime = datetime(2025, 11, 1, tzinfo=UTC),
    end: datetime = datetime(2025, 12, 7, tzinfo=UTC),
    interval_s: float = 600.0,
    overflight_factor: float = 0.3,
    reroute: bool = True,
    gaps: Sequence[Gap] | None = None,
    seed: int = 2025,
) -> Scenario:
    """The November 2025 demo: normal traffic, the airline suspensions of 22-26 Nov, and the
    29 Nov post cutting overflights to ``overflight_factor`` (the rest flying around the FIR
    when ``reroute``), then Copa and Wingo leaving on 4 Dec. Times are UTC."""
    effects = (
        Effect(_utc(2025, 11, 22, 12), 0.0, kinds=("arrival", "departure"), airlines=FOREIGN_SUSPENDED_NOV22),
        Effect(_utc(2025, 11, 24, 12), 0.0, kinds=("arrival", "departure"), airlines=SUSPENDED_NOV24),
        Effect(_utc(2025, 11, 29, 14, 20), overflight_factor, kinds=("overflight",), reroute=reroute),
        Effect(_utc(2025, 11, 29, 14, 20), 0.85, kinds=("domestic",)),
        Effect(_utc(2025, 12, 4, 3), 0.0, kinds=("arrival", "departure"), airlines=SUSPENDED_DEC04),
    )
    if gaps is None:
        gaps = (
            Gap(_utc(2025, 11, 12, 6), _utc(2025, 11, 12, 13), "rate_limited"),
            Gap(_utc(2025, 11, 26, 20), _utc(2025, 11, 26, 23), "error"),
            Gap(_utc(2025, 12, 2, 4), _utc(2025, 12, 2, 9), "rate_limited"),
        )
    return Scenario(start, end, interval_s, default_routes(), effects, tuple(gaps), seed, name="november-2025")


def simulated_reply(doc: dict[str, Any], box: BBox, stale_after_s: int = 15) -> Reply:
    """A simulated ``/states/all`` reply as a :class:`Reply` of source ``demo``, read by OpenSky's
    parser like a real one; it "costs" what a real call over ``box`` would."""
    parsed = parse_states(doc, stale_after_s)
    return Reply(
        source=DEMO,
        api_time=parsed.api_time,
        positions=parsed.table,
        malformed=parsed.malformed_rows,
        http_status=200,
        credits_charged=box.credits,
    )
