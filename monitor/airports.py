"""Airport positions from the offline ``airportsdata`` database (MIT; 28,000 ICAO airports).

Place in the flow: maps label the main airports; ``analysis`` (flight classes) asks which
airports lie in the FIR and which one a flight's first or last low point is near.
Coordinates are WGS 84 degrees.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import airportsdata

__all__ = ["MAP_AIRPORTS", "Airport", "airport", "all_airports"]

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
