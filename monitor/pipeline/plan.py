"""Plan: what one poll of the configured zones costs, and how often each account type can afford it;
and for adsb.lol and adsb.fi, the circles a sweep asks for, how long it takes at their spacing and
how many requests a day it makes at a cadence.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). The cost comes from
the polling box (``geo.bounds``), the budgets from ``sources.opensky.credits``, the circles from
``geo.circles``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.bounds import BBox
from geo.circles import covering_circles, describe_circle
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.opensky.credits import ACCOUNT_CREDITS, RESOLUTION_S, poll_interval
from monitor.sources.readsb.client import PACING_MARGIN_S

__all__ = ["DEFAULT_EVERY_S", "PlanReport", "PlanRow", "SweepPlan", "plan"]

DEFAULT_EVERY_S = 300  # the README's cron line: one `vzmon collect` every 5 minutes
_READSB = ("adsblol", "adsbfi")  # the keyless services that sweep circles


@dataclass(frozen=True)
class PlanRow:
    account: str
    daily_credits: int
    polls_per_day: int
    min_interval_s: float | None  # None: the budget cannot afford one poll a day


@dataclass(frozen=True)
class SweepPlan:
    """One readsb service's sweep of the circles covering the zones, at the settings' spacing."""

    source: str
    configured: bool  # in collect.sources
    circles: tuple[str, ...]  # as ``geo.circles.describe_circle`` writes them
    spacing_s: float  # between the starts of two requests, the setting and the pacing margin
    sweep_s: float  # at least: the waits between the requests' starts (each request's own time comes on top)
    requests_per_day: int  # at one sweep every ``every_s``


@dataclass(frozen=True)
class PlanReport:
    box: BBox
    credits_per_poll: int
    rows: tuple[PlanRow, ...]
    account_in_force: str
    interval_in_force_s: float
    warning: str | None
    every_s: int = DEFAULT_EVERY_S  # the cadence the per-day figures assume
    opensky_credits_per_day: int = 0  # at one poll every ``every_s``
    sweeps: tuple[SweepPlan, ...] = ()


def plan(settings: Settings, every_s: int = DEFAULT_EVERY_S) -> PlanReport:
    """Credit cost of one poll and the sustainable cadence for each account type; per readsb
    service its circles, sweep time and requests a day at one sweep every ``every_s``."""
    zone_set = zone_set_for(settings)
    box = zone_set.polling_box
    cost = box.credits
    rows = []
    tiers = dict(ACCOUNT_CREDITS)
    if settings.opensky_daily_credits:
        tiers["configured"] = settings.opensky_daily_credits
    for account, credits in tiers.items():
        floor = RESOLUTION_S["anonymous" if account == "anonymous" else "authenticated"]
        polls = math.floor(credits * settings.opensky_budget_share / cost)
        interval = max(floor, 86_400 / polls) if polls else None
        rows.append(PlanRow(account, credits, polls, interval))
    in_force = settings.watch_interval_s or poll_interval(settings, cost)
    warnings = [w for w in (zone_set.credit_step_warning(),) if w]
    if settings.opensky_account not in ("auto", "anonymous") and not settings.authenticated:
        warnings.append(
            f"opensky.account is {settings.opensky_account} but no API client credentials are set: calls are "
            "anonymous and draw on the anonymous 400 credits a day; set OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET"
        )
    if settings.opensky_daily_credits and settings.opensky_daily_credits < cost:
        warnings.append(
            f"opensky.daily_credits ({settings.opensky_daily_credits}) is less than one poll costs ({cost}); "
            "watch will still poll once a day"
        )
    per_day = math.ceil(86_400 / every_s)
    circles = tuple(describe_circle(c) for c in covering_circles(zone_set))
    sweeps = []
    for name in _READSB:
        spacing = float(getattr(settings, f"{name}_spacing_s")) + PACING_MARGIN_S
        sweep = SweepPlan(
            name, name in settings.collect_sources, circles, spacing, (len(circles) - 1) * spacing,
            per_day * len(circles),
        )  # fmt: skip
        sweeps.append(sweep)
        if sweep.configured and sweep.sweep_s >= every_s:
            warnings.append(
                f"one {name} sweep takes at least {sweep.sweep_s:g} s, not less than the {every_s} s between polls: "
                f"poll less often, or lower the ring (zones.ring_nm) so fewer circles cover the zones"
            )
    warning = "; ".join(warnings) or None
    return PlanReport(
        box, cost, tuple(rows), settings.account_type, in_force, warning, every_s, per_day * cost, tuple(sweeps)
    )
