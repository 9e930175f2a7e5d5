"""With no event at all, the verdict claims a change in at most 5 % of reports, at 3-day and 14-day
windows: its claims are Holm-adjusted over the family of measures it reports.

Traffic here has what fooled the unadjusted verdict: eleven measures in one paragraph, a day-to-day
volume varying by 20 % and shared in part by every zone and class, Poisson noise on top.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitor.analysis.before_after import with_family_adjustment
from monitor.analysis.stats import Change, compare

FIR = "SVZM"
RINGS = ("ring:SKED", "ring:TNCF", "ring:TJZS", "ring:TTZP", "ring:SYGC", "ring:SBAZ")
CLASSES = {"domestic": 3.0, "departure": 0.3, "arrival": 0.3, "overflight": 5.0}  # flights an hour
AIRBORNE = {FIR: 20.0, **dict.fromkeys(RINGS, 4.0)}
START = datetime(2025, 11, 3, tzinfo=UTC)  # a Monday


def _hours(days: int) -> pd.DatetimeIndex:
    return pd.date_range(START, START + timedelta(days=days), freq="h", inclusive="left", tz="UTC")


def _report(rng: np.random.Generator, days: int) -> list[Change]:
    """The family's changes for two adjacent windows of ``days`` days of normal traffic."""
    hours = _hours(2 * days)
    n_days = 2 * days
    shared = rng.normal(0, 0.2 * np.sqrt(0.75), n_days)
    daily = 0.5 + 0.5 * np.sin((hours.hour.to_numpy() - 8) / 24 * 2 * np.pi)  # the daily cycle
    day = (hours - hours[0]).days.to_numpy()
    cov = pd.Series(1.0, index=hours)
    split = days * 24

    def series(mean: float) -> pd.Series:
        own = rng.normal(0, 0.2 * np.sqrt(0.25), n_days)
        rate = mean * (0.3 + 1.4 * daily) * np.exp(shared[day] + own[day])
        return pd.Series(rng.poisson(rate).astype(float), index=hours)

    changes = []
    for zone, mean in AIRBORNE.items():
        s = series(mean)
        changes.append(
            compare(s[:split], s[split:], cov[:split], cov[split:], measure="airborne", zone=zone, unit="aircraft")
        )
    for name, mean in CLASSES.items():
        s = series(mean)
        changes.append(
            compare(
                s[:split],
                s[split:],
                cov[:split],
                cov[split:],
                measure="flights",
                zone=FIR,
                flight_class=name,
                unit="flights per day",
                scale=24.0,
            )
        )
    return with_family_adjustment(changes, FIR)


@pytest.mark.slow
@pytest.mark.parametrize("days", [3, 14])
def test_with_no_event_at_most_5_percent_of_reports_claim_a_change(days):
    rng = np.random.default_rng(20251129 + days)
    reports = 200
    claimed = unadjusted = 0
    for _ in range(reports):
        changes = _report(rng, days)
        assert sum(c.adjusted_p is not None for c in changes) == 11
        claimed += any(c.established for c in changes)
        unadjusted += any(c.p_value is not None and c.p_value < 0.05 for c in changes)
    # at a true 5 %, 200 reports show more than 16 claims 6 % of the time; the unadjusted reading
    # (any 95 % interval that excludes zero) claims a change in far more
    assert claimed <= 16, f"{claimed} of {reports} reports claimed a change ({unadjusted} unadjusted)"
    assert unadjusted > 2 * claimed + 20


def test_holm_adjusts_in_steps_and_keeps_the_order():
    from monitor.analysis.stats import holm

    assert holm([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm([]) == []
    assert holm([0.5]) == [0.5]
