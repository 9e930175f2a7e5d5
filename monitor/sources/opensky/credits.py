"""OpenSky's credit budget: credits per day by account tier, the time resolution of the API, and
the polling cadence a budget sustains.

Place in the flow: ``pipeline`` (``watch``, ``plan``, ``status``) asks here how often to poll; the
cost of one call comes from the polling box's area (``geo.bounds.credit_cost``). Facts from the
OpenSky REST documentation (../shared/reference/opensky.md).
"""

from __future__ import annotations

import math

from monitor.settings.table import Settings

__all__ = ["ACCOUNT_CREDITS", "RESOLUTION_S", "daily_budget", "poll_interval", "resolution_floor"]

# Daily /states credits per account tier, and the API's time resolution (seconds).
ACCOUNT_CREDITS = {"anonymous": 400, "standard": 4000, "feeder": 8000}
RESOLUTION_S = {"anonymous": 10.0, "authenticated": 5.0}


def resolution_floor(settings: Settings) -> float:
    """The shortest useful interval between polls for this account (a faster poll sees the same data)."""
    return RESOLUTION_S["authenticated" if settings.authenticated else "anonymous"]


def daily_budget(settings: Settings) -> int:
    """Credits a day this configuration can spend: ``opensky.daily_credits`` or the tier's."""
    budget = settings.opensky_daily_credits or ACCOUNT_CREDITS[settings.account_type]
    if not settings.authenticated:  # anonymous calls draw on the anonymous budget, whatever is configured
        budget = min(budget, ACCOUNT_CREDITS["anonymous"])
    return budget


def poll_interval(settings: Settings, credits_per_poll: int) -> float:
    """Seconds between polls that the daily credit budget sustains, never below the API's resolution."""
    polls = max(1, math.floor(daily_budget(settings) * settings.opensky_budget_share / credits_per_poll))
    return max(resolution_floor(settings), 86_400 / polls)
