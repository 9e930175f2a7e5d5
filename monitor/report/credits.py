"""Who the published numbers come from: the one wording of each credit on every chart and report.

Place in the flow: ``report.charts.base`` puts :func:`traffic_credit` under every chart, and
``report.build`` in the report's method and data sections. OpenSky asks to be cited and allows
non-profit use; simulated data is credited as what it is, never to OpenSky.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.sources.registry import ARCHIVE, COMBINED, CREDITS, LABELS

__all__ = [
    "ADSBFI",
    "ADSBLOL",
    "BORDERS",
    "OPENSKY",
    "OPENSKY_METHOD",
    "SIMULATED",
    "Provenance",
    "seen_by",
    "traffic_credit",
    "traffic_method",
]

OPENSKY = CREDITS["opensky"]
SIMULATED = "simulated by vzmon demo, in the format of The OpenSky Network (https://opensky-network.org)"
OPENSKY_METHOD = "OpenSky /states/all"
BORDERS = "Natural Earth (public domain)"
# adsb.lol publishes under ODbL 1.0, which asks for attribution on everything made from the data;
# adsb.fi allows personal, non-commercial use and asks to be cited with a link.
ADSBLOL = CREDITS["adsblol"]
ADSBFI = CREDITS["adsbfi"]
_METHODS = {
    "opensky": OPENSKY_METHOD,
    "adsblol": "adsb.lol /v2/point",
    "adsbfi": "adsb.fi /v2/lat/lon/dist",
    ARCHIVE: "adsb.lol's daily archive (globe_history heatmaps: each aircraft's first position in every 30 s slice; "
    "civil aircraft only, military ones by adsb.lol's database flag counted apart)",
}


@dataclass(frozen=True)
class Provenance:
    """Where a report's traffic data came from: the view it read (one source, or ``combined``), the
    networks behind it (for ``combined``, the sources its slots join), and whether it was simulated."""

    source: str = "opensky"
    simulated: bool = False
    parts: tuple[str, ...] = ()  # for the combined view: the sources it joins, as stored with it

    @property
    def networks(self) -> tuple[str, ...]:
        """The sources whose data the numbers are made from."""
        return self.parts if self.source == COMBINED else (self.source,)


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def traffic_credit(made_from: Provenance) -> str:
    """Where the traffic data came from, for a credit line: every network the numbers are made from."""
    if made_from.simulated:
        return SIMULATED
    return "; ".join(CREDITS.get(n, n) for n in made_from.networks)


def seen_by(made_from: Provenance) -> str:
    """Who saw the aircraft counted, for "aircraft visible to ..." in the verdict."""
    if made_from.simulated:
        return "the vzmon demo's simulated feed"
    names = _listed([LABELS.get(n, n) for n in made_from.networks])
    return f"{names} combined" if made_from.source == COMBINED else names


def traffic_method(made_from: Provenance) -> str:
    """What the counts are snapshots of, for the method text."""
    if made_from.simulated:
        return f"simulated {OPENSKY_METHOD} (vzmon demo)"
    if made_from.source == COMBINED:
        joined = ", ".join(_METHODS.get(n, n) for n in made_from.networks)
        return f"the combined view of {joined} (an aircraft counts in a grid slot when any of them saw it there)"
    return _METHODS.get(made_from.source, made_from.source)
