"""Plan: what one poll of the configured zones costs, and how often each account type can afford it.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). The cost comes from
the polling box (``geo.bounds``), the budgets from ``sources.opensky.credits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.bounds import BBox
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.opensky.credits import ACCOUNT_CREDITS, RESOLUTION_S, poll_interval

__all__ = ["PlanReport", "PlanRow", "plan"]


@dataclass(frozen=True)
class PlanRow:
    account: str
    daily_credits: int
    polls_per_day: int
    min_interval_s: float | None  # None: the budget cannot afford one poll a day


@dataclass(frozen=True)
class PlanReport:
    box: BBox
    credits_per_poll: int
    rows: tuple[PlanRow, ...]
    account_in_force: str
    interval_in_force_s: float
    warning: str | None


def plan(settings: Settings) -> PlanReport:
    """Credit cost of one poll and the sustainable cadence for each account type."""
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
    warning = "; ".join(warnings) or None
    return PlanReport(box, cost, tuple(rows), settings.account_type, in_force, warning)
