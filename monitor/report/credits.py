"""Who the published numbers come from: the one wording of each credit on every chart and report.

Place in the flow: ``report.charts.base`` puts :func:`traffic_credit` under every chart, and
``report.build`` in the report's method and data sections. OpenSky asks to be cited and allows
non-profit use; simulated data is credited as what it is, never to OpenSky.
"""

from __future__ import annotations

__all__ = ["BORDERS", "OPENSKY", "OPENSKY_METHOD", "SIMULATED", "traffic_credit", "traffic_method"]

OPENSKY = "The OpenSky Network (https://opensky-network.org)"
SIMULATED = "simulated by vzmon demo, in the format of The OpenSky Network (https://opensky-network.org)"
OPENSKY_METHOD = "OpenSky /states/all"
BORDERS = "Natural Earth (public domain)"


def traffic_credit(simulated: bool) -> str:
    """Where the traffic data came from, for a credit line."""
    return SIMULATED if simulated else OPENSKY


def traffic_method(simulated: bool) -> str:
    """What the counts are snapshots of, for the method text."""
    return f"simulated {OPENSKY_METHOD} (vzmon demo)" if simulated else OPENSKY_METHOD
