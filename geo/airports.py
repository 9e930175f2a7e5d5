"""Airport positions from the offline ``airportsdata`` database (MIT; 28,000 ICAO airports).

Place in the flow: maps label the main airports; ``analysis`` (flight classes) asks which
airports lie in the FIR and which one a flight's first or last low point is near.
Coordinates are WGS 84 degrees.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import airportsdata
import numpy as np
import numpy.typing as npt

from geo.fence import fence_for
from geo.zoneset import ZoneSet

__all__ = ["MAP_AIRPORTS", "Airport", "AirportTable", "airport", "airport_table", "all_airports"]

_EARTH_KM = 6371.0088

# Airports labelled on maps: Venezuela's main airports, then the neighbours' nearest hubs.
MAP_AIRPORTS: tuple[str, ...] = (
    "SVMI", "SVMC", "SVVA", "SVBM", "SVBC", "SVMG", "SVPR", "SVPA", "SVSE",
    "TNCA", "TNCC", "TNCB", "TTPP", "SYCJ", "SKRH", "SKBQ", "SKCC", "SBBV",
)  # fmt: skip


@dataclass(frozen=True)
class Airport:
    icao: str
    iata: str
    name: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    lat: float
    lon: float
    elevation_ft: float


@functools.cache
def all_airports() -> dict[str, Airport]:
    """Every airport with an ICAO code, keyed by it."""
    return {
        code: Airport(
            icao=code,
            iata=a["iata"],
            name=a["name"],
            city=a["city"],
            country=a["country"],
            lat=float(a["lat"]),
            lon=float(a["lon"]),
            elevation_ft=float(a["elevation"] or 0.0),
        )
        for code, a in airportsdata.load("ICAO").items()
    }


def airport(icao: str) -> Airport:
    """The airport with this ICAO code. Raises ``KeyError`` for an unknown code."""
    return all_airports()[icao.upper()]


@dataclass(frozen=True)
class AirportTable:
    """Candidate airports: ICAO codes, WGS 84 degrees, elevation (m) and whether each is in the FIR."""

    icao: npt.NDArray[np.object_]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    elevation_m: npt.NDArray[np.float64]
    in_fir: npt.NDArray[np.bool_]

    def nearest(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """Index of the nearest airport to each point and its great-circle distance (km); -1/inf if none."""
        best, dist = self.nearest_k(lon, lat, 1)
        return best[:, 0], dist[:, 0]

    def nearest_k(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], k: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The ``k`` nearest airports to each point, nearest first: indices and great-circle
        distances (km), each ``(points, k)``; -1/inf where there are fewer than ``k`` airports."""
        n = len(lon)
        best = np.full((n, k), -1, dtype=np.intp)
        dist = np.full((n, k), np.inf)
        if n == 0 or len(self.icao) == 0:
            return best, dist
        m = min(k, len(self.icao))
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.all():  # a point without a position has no nearest airport
            inner_best, inner_dist = self.nearest_k(np.asarray(lon)[ok], np.asarray(lat)[ok], k)
            best[ok], dist[ok] = inner_best, inner_dist
            return best, dist
        # nearest by chord between unit vectors, which orders points as the great circle does
        _, idx = self._kdtree.query(_unit(np.asarray(lon, np.float64), np.asarray(lat, np.float64)), k=m)
        idx = np.asarray(idx, dtype=np.intp).reshape(n, m)
        plon, plat = np.radians(lon)[:, None], np.radians(lat)[:, None]
        alon, alat = np.radians(self.lon)[idx], np.radians(self.lat)[idx]
        a = np.sin((alat - plat) / 2) ** 2 + np.cos(plat) * np.cos(alat) * np.sin((alon - plon) / 2) ** 2
        d = 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        order = np.argsort(d, axis=1, kind="stable")  # the chord's order, settled in kilometres
        best[:, :m] = np.take_along_axis(idx, order, axis=1)
        dist[:, :m] = np.take_along_axis(d, order, axis=1)
        return best, dist

    @functools.cached_property
    def _kdtree(self) -> Any:
        from scipy.spatial import cKDTree

        return cKDTree(_unit(self.lon, self.lat))


def _unit(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Points on the unit sphere, one row each."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


@functools.cache
def airport_table(zone_set: ZoneSet) -> AirportTable:
    """Airports with an IATA code (scheduled-service airports) in the zones' polling box, plus 1°.

    ``in_fir`` marks those inside the FIR (``geo.fence``, the FIR border counting as inside).
    """
    box = zone_set.polling_box.buffered(1.0)
    rows = [a for a in all_airports().values() if a.iata and box.contains(a.lon, a.lat)]
    lon = np.array([a.lon for a in rows], dtype=np.float64)
    lat = np.array([a.lat for a in rows], dtype=np.float64)
    in_fir = fence_for(zone_set).classify_index(lon, lat) == 0
    return AirportTable(
        icao=np.array([a.icao for a in rows], dtype=object),
        lon=lon,
        lat=lat,
        elevation_m=np.array([a.elevation_ft * 0.3048 for a in rows], dtype=np.float64),
        in_fir=np.asarray(in_fir, dtype=bool),
    )
