"""Bounding boxes and the OpenSky polling box with its credit cost.

Place in the flow: the zones (``geo.zoneset``) give the smallest lon/lat box that covers them;
``monitor.sources.opensky`` sends that box as the ``/states/all`` area filter and ``vzmon plan``
budgets credits from its cost.

Boxes are (west, south, east, north) in degrees, WGS 84, the order of shapely's ``.bounds``.
OpenSky wants (lamin, lomin, lamax, lomax); :meth:`BBox.opensky_params` converts. Boxes never
cross the antimeridian here (the monitored area is the Caribbean).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CREDIT_STEPS", "BBox", "credit_cost"]

# OpenSky /states/all credit cost by box area in square degrees: (upper bound inclusive, credits).
# Anything larger, or no box at all (a global query), costs 4. Source: OpenSky REST docs, "Limitations".
CREDIT_STEPS: tuple[tuple[float, int], ...] = ((25.0, 1), (100.0, 2), (400.0, 3))
MAX_CREDITS = 4


def credit_cost(area_sq_deg: float) -> int:
    """Credits one ``/states/all`` call costs for a box of this area (square degrees)."""
    for bound, credits in CREDIT_STEPS:
        if area_sq_deg <= bound:
            return credits
    return MAX_CREDITS


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in degrees: west, south, east, north (shapely ``.bounds`` order)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west <= self.east <= 180 and -90 <= self.south <= self.north <= 90):
            raise ValueError(f"not a lon/lat box (west, south, east, north): {self}")

    @classmethod
    def union(cls, boxes: Iterable[BBox]) -> BBox:
        items = list(boxes)
        if not items:
            raise ValueError("union of no boxes")
        return cls(
            min(b.west for b in items),
            min(b.south for b in items),
            max(b.east for b in items),
            max(b.north for b in items),
        )

    @property
    def area_sq_deg(self) -> float:
        """(lamax - lamin) * (lomax - lomin), the area OpenSky charges by."""
        return (self.east - self.west) * (self.north - self.south)

    @property
    def credits(self) -> int:
        """Credits one ``/states/all`` call for this box costs."""
        return credit_cost(self.area_sq_deg)

    def opensky_params(self) -> dict[str, float]:
        """The box as OpenSky's ``lamin, lomin, lamax, lomax`` query parameters, in that order."""
        return {"lamin": self.south, "lomin": self.west, "lamax": self.north, "lomax": self.east}

    def rounded_out(self, decimals: int) -> BBox:
        """The smallest box with edges on multiples of 10**-decimals degrees that covers this one."""
        scale = 10**decimals
        return BBox(
            math.floor(self.west * scale) / scale,
            math.floor(self.south * scale) / scale,
            math.ceil(self.east * scale) / scale,
            math.ceil(self.north * scale) / scale,
        )

    def buffered(self, deg: float) -> BBox:
        """This box grown by ``deg`` degrees on every side (clamped to the globe)."""
        return BBox(
            max(-180.0, self.west - deg),
            max(-90.0, self.south - deg),
            min(180.0, self.east + deg),
            min(90.0, self.north + deg),
        )

    def intersects(self, other: BBox) -> bool:
        return not (
            other.west > self.east or other.east < self.west or other.south > self.north or other.north < self.south
        )

    def __str__(self) -> str:
        return f"lon {self.west:g}…{self.east:g}, lat {self.south:g}…{self.north:g}"

    def contains(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north
