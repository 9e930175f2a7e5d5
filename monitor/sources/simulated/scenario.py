"""Simulated scenarios: the routes flown, the effects applied (fewer flights of a kind from a time
on, rerouted overflights) and the polling gaps, with the November 2025 scenario of ``vzmon demo``.

Place in the flow: ``pipeline.demo`` builds :func:`november_2025`; tests build scenarios with
known effects (e.g. overflights down 60 %) and check the analysis recovers them.

Model (deliberately simple, and stated in every demo report as SIMULATED DATA):
- A route flies between two airports (or a far point outside the box and an airport), ``per_day``
  times a day, with departures spread by a daily profile (UTC hours) and Poisson noise.
- :class:`Effect` thins flights from a time on (by kind and/or airline); with ``reroute`` the
  removed overflights fly via the route's detour waypoint instead, so traffic moves to the ring.
- :class:`Gap` makes polls fail (rate-limited or error) for a while: gaps, not zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from geo.bounds import BBox

__all__ = ["DAYTIME", "FLAT", "Effect", "Gap", "Route", "Scenario", "default_routes", "november_2025"]

# Departures per UTC hour (relative). Venezuela is UTC-4: most scheduled flights leave 06-22 local.
DAYTIME = (0.3, 0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.0, 1.2, 1.2, 1.1, 1.0, 1.0, 1.1, 1.2, 1.2,
           1.1, 1.0, 0.9, 0.7, 0.5)  # fmt: skip
FLAT = (0.7, 0.6, 0.6, 0.6, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        0.9, 0.8, 0.7)  # fmt: skip


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
