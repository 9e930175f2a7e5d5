"""One leg's true path in ``tests/independent_traffic.py``: a great circle between two airports
flown with a climb, a cruise and a descent, sampled every 10 s, taxi included.

Units: Unix seconds (UTC), metres above sea level, m/s over ground, degrees (WGS 84). The climb
is a 1:15 gradient, the descent 3 degrees; speed grows from 80 m/s at the runway to the cruise
speed at 8,000 m; the vertical rate is the gradient times the speed (0 in cruise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.airports import Airport

__all__ = ["FT", "SAMPLE_S", "Leg", "Profile", "distance_m", "great_circle", "km_between", "leg_states", "plan_profile"]

EARTH_M = 6_371_008.8
SAMPLE_S = 10  # the true path is sampled every 10 s
CLIMB_GRADIENT = 1 / 15
DESCENT_GRADIENT = math.tan(math.radians(3.0))
RUNWAY_MPS = 80.0  # speed at take-off and touchdown
FULL_SPEED_M = 8_000.0  # the cruise speed is reached at this altitude
TAXI_MPS = 8.0
FT = 0.3048


# --- geometry -------------------------------------------------------------------------------


def _unit(lon: float, lat: float) -> npt.NDArray[np.float64]:
    lo, la = math.radians(lon), math.radians(lat)
    return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])


def great_circle(
    a: Airport, b: Airport, frac: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(lon, lat) in degrees at fractions ``frac`` of the great circle from ``a`` to ``b``."""
    p, q = _unit(a.lon, a.lat), _unit(b.lon, b.lat)
    omega = math.acos(float(np.clip(p @ q, -1.0, 1.0)))
    s = math.sin(omega)
    w0 = np.sin((1 - frac) * omega) / s
    w1 = np.sin(frac * omega) / s
    xyz = w0[:, None] * p + w1[:, None] * q
    lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
    return lon, lat


def distance_m(a: Airport, b: Airport) -> float:
    return EARTH_M * math.acos(float(np.clip(_unit(a.lon, a.lat) @ _unit(b.lon, b.lat), -1.0, 1.0)))


def _bearing(
    lon0: npt.NDArray[np.float64], lat0: npt.NDArray[np.float64], lon1: npt.NDArray[np.float64],
    lat1: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:  # fmt: skip
    """Initial bearing (degrees clockwise from north) from points 0 to points 1."""
    p0, p1 = np.radians(lat0), np.radians(lat1)
    dl = np.radians(lon1 - lon0)
    y = np.sin(dl) * np.cos(p1)
    x = np.cos(p0) * np.sin(p1) - np.sin(p0) * np.cos(p1) * np.cos(dl)
    out: npt.NDArray[np.float64] = np.degrees(np.arctan2(y, x)) % 360.0
    return out


def _offset(
    a: Airport, bearing_deg: float, d_m: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Points ``d_m`` metres from airport ``a`` along ``bearing_deg`` (flat: a few km at most)."""
    b = math.radians(bearing_deg)
    lat = a.lat + np.degrees(d_m * math.cos(b) / EARTH_M)
    lon = a.lon + np.degrees(d_m * math.sin(b) / (EARTH_M * math.cos(math.radians(a.lat))))
    return lon, lat


def km_between(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], a: Airport) -> npt.NDArray[np.float64]:
    p0, p1 = np.radians(lat), math.radians(a.lat)
    h = np.sin((p1 - p0) / 2) ** 2 + np.cos(p0) * math.cos(p1) * np.sin(np.radians(a.lon - lon) / 2) ** 2
    out: npt.NDArray[np.float64] = 2 * EARTH_M / 1000 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    return out


# --- one leg's path -------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A leg's airborne profile: time since take-off (s) and altitude (m) at distances ``s`` (m)
    along the great circle, and the slope of each stretch between them (m of height per m flown,
    one fewer). Fine steps in the climb and the descent; the cruise is one straight stretch."""

    s: npt.NDArray[np.float64]
    t: npt.NDArray[np.float64]
    h: npt.NDArray[np.float64]
    slope: npt.NDArray[np.float64]

    @property
    def duration_s(self) -> float:
        return float(self.t[-1])


def _speed(h: npt.NDArray[np.float64], cruise_mps: float) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = RUNWAY_MPS + (cruise_mps - RUNWAY_MPS) * np.clip(h / FULL_SPEED_M, 0.0, 1.0)
    return out


def plan_profile(distance_m: float, e0: float, e1: float, cruise_m: float, cruise_mps: float) -> Profile:
    """Climb at 1:15 from ``e0``, cruise at ``cruise_m`` (lower when the leg is too short), descend
    at 3 degrees to ``e1``; time from the speed at each altitude."""
    top = min(cruise_m, (distance_m + e0 / CLIMB_GRADIENT + e1 / DESCENT_GRADIENT)
              / (1 / CLIMB_GRADIENT + 1 / DESCENT_GRADIENT))  # fmt: skip
    top_of_climb = (top - e0) / CLIMB_GRADIENT
    top_of_descent = distance_m - (top - e1) / DESCENT_GRADIENT
    s = np.unique(np.r_[
        np.linspace(0.0, top_of_climb, int(top_of_climb / 1000) + 2),
        np.linspace(top_of_descent, distance_m, int((distance_m - top_of_descent) / 1000) + 2),
    ])  # fmt: skip
    h = np.minimum(np.minimum(e0 + s * CLIMB_GRADIENT, e1 + (distance_m - s) * DESCENT_GRADIENT), top)
    v = _speed(h, cruise_mps)
    dt = np.diff(s) * 0.5 * (1 / v[1:] + 1 / v[:-1])
    return Profile(s, np.r_[0.0, np.cumsum(dt)], h, np.diff(h) / np.maximum(np.diff(s), 1e-9))


@dataclass(frozen=True)
class Leg:
    origin: Airport
    destination: Airport
    icao24: str
    callsign: str
    country: str
    takeoff: int  # on the 10-s grid
    taxi_out_s: int
    taxi_in_s: int
    cruise_m: float
    cruise_mps: float
    squawk: str


def leg_states(leg: Leg, profile: Profile) -> dict[str, npt.NDArray[Any]]:
    """The true path of one leg every 10 s, taxi included."""
    air_t = np.arange(0, int(profile.duration_s) + 1, SAMPLE_S, dtype=np.int64)
    s = np.interp(air_t, profile.t, profile.s)
    h = np.interp(s, profile.s, profile.h)
    slope = profile.slope[np.clip(np.searchsorted(profile.s, s, side="right") - 1, 0, len(profile.slope) - 1)]
    v = _speed(h, leg.cruise_mps)
    distance = float(profile.s[-1])
    lon, lat = great_circle(leg.origin, leg.destination, s / distance)
    ahead_lon, ahead_lat = great_circle(leg.origin, leg.destination, np.minimum(s + 2000.0, distance) / distance)
    track = _bearing(lon, lat, ahead_lon, ahead_lat)
    track[-1] = track[-2] if len(track) > 1 else track[-1]
    n_out, n_in = leg.taxi_out_s // SAMPLE_S, leg.taxi_in_s // SAMPLE_S
    first_track, last_track = float(track[0]), float(track[-1])
    # taxi: towards the runway before take-off, away from it after landing, at TAXI_MPS
    out_lon, out_lat = _offset(leg.origin, first_track, -TAXI_MPS * SAMPLE_S * np.arange(n_out, 0, -1.0))
    in_lon, in_lat = _offset(leg.destination, last_track, TAXI_MPS * SAMPLE_S * np.arange(1.0, n_in + 1))
    return {
        "time": np.r_[
            leg.takeoff + np.arange(-n_out, 0, dtype=np.int64) * SAMPLE_S,
            leg.takeoff + air_t,
            leg.takeoff + air_t[-1] + np.arange(1, n_in + 1, dtype=np.int64) * SAMPLE_S,
        ],
        "lon": np.r_[out_lon, lon, in_lon],
        "lat": np.r_[out_lat, lat, in_lat],
        "alt": np.r_[np.full(n_out, leg.origin.elevation_ft * FT), h, np.full(n_in, leg.destination.elevation_ft * FT)],
        "ground": np.r_[np.ones(n_out, bool), np.zeros(len(air_t), bool), np.ones(n_in, bool)],
        "velocity": np.r_[np.full(n_out, TAXI_MPS), v, np.full(n_in, TAXI_MPS)],
        "track": np.r_[np.full(n_out, first_track), track, np.full(n_in, last_track)],
        "vrate": np.r_[np.zeros(n_out), slope * v, np.zeros(n_in)],
    }
