"""A long baseline (``--baseline-weeks N``): the after window against the same hours of the week
over N weeks, weeks as the units of noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitor.analysis.stats import AnalysisRules, Change
from monitor.analysis.weekly import compare_weeks

EVENT = datetime(2025, 11, 29, 14, tzinfo=UTC)  # a Saturday, mid-afternoon: weeks need not start at midnight


def _traffic(rng, weeks: int, after_days: float, effect: float, mean: float = 20.0):
    """Hourly aircraft airborne: daily and weekly cycles, each day's level varying by 20 %, Poisson."""
    hours = pd.date_range(EVENT - timedelta(weeks=weeks), EVENT + timedelta(days=after_days), freq="h",
                          inclusive="left")  # fmt: skip
    day = ((hours - hours[0]) // pd.Timedelta(days=1)).to_numpy()
    level = rng.normal(0, 0.2, int(day.max()) + 1)
    daily = 0.5 + 0.5 * np.sin((hours.hour.to_numpy() - 8) / 24 * 2 * np.pi)
    weekday = np.where(hours.day_of_week.to_numpy() >= 5, 0.8, 1.05)
    rate = mean * (0.3 + 1.4 * daily) * weekday * np.exp(level[day]) * np.where(hours >= EVENT, 1 + effect, 1.0)
    s = pd.Series(rng.poisson(rate).astype(float), index=hours)
    return s[s.index < EVENT], s[s.index >= EVENT]


def _compare(before, after, weeks, **cov):
    full = lambda s: pd.Series(1.0, index=s.index)  # noqa: E731
    return compare_weeks(
        before, after, cov.get("cov_before", full(before)), cov.get("cov_after", full(after)),
        measure="airborne", zone="SVZM", unit="aircraft", rules=AnalysisRules(baseline_weeks=weeks),
    )  # fmt: skip


def test_an_exact_halving_against_steady_weeks_is_minus_50_percent():
    hours = pd.date_range(EVENT - timedelta(weeks=4), EVENT + timedelta(days=3), freq="h", inclusive="left")
    base = 10 + 5 * np.sin(hours.hour.to_numpy() / 24 * 2 * np.pi)
    week = ((EVENT - hours) // pd.Timedelta(weeks=1)).to_numpy()
    wobble = np.where(hours < EVENT, 1 + 0.02 * (week % 2), 0.5)  # weeks alternate by 2 %; after: half
    s = pd.Series(base * wobble, index=hours)
    c = _compare(s[s.index < EVENT], s[s.index >= EVENT], 4)
    assert c.status == "ok" and c.matching == "hour of the week over 4 baseline week(s)"
    assert c.change == pytest.approx(0.5 / 1.01 - 1, abs=0.002)
    assert c.ci_low < c.change < c.ci_high and c.ci_high - c.ci_low < 0.05
    assert c.interval == "weeks as units (4 baseline weeks), prediction interval, Student t with 3 df"
    assert c.after / c.before - 1 == pytest.approx(c.change)


@pytest.mark.slow
def test_the_interval_covers_the_truth_about_95_percent_of_the_time():
    rng = np.random.default_rng(2025)
    reps = 300
    covered = claimed = 0
    for _ in range(reps):
        c = _compare(*_traffic(rng, weeks=4, after_days=7, effect=-0.21), 4)
        covered += c.ci_low <= -0.21 <= c.ci_high
        claimed += c.p_value is not None and c.p_value < 0.05
    # at a true 95 %, 300 reports cover it 273 to 293 times (99 % of the time)
    assert 0.90 <= covered / reps <= 0.98, covered
    assert claimed > 0.3 * reps  # a 21 % drop is found in about half of these (measured 51 %)


def test_one_usable_week_is_insufficient_not_a_number():
    rng = np.random.default_rng(1)
    before, after = _traffic(rng, weeks=3, after_days=3, effect=0.0)
    cov = pd.Series(1.0, index=before.index)
    cov[cov.index < EVENT - timedelta(weeks=1)] = 0.0  # the polls failed but for the last week
    c = _compare(before, after, 3, cov_before=cov)
    assert c.status == "insufficient" and "a week-to-week interval needs 2" in c.reason and c.change is None


def test_nothing_after_is_minus_100_percent_and_too_little_after_is_insufficient():
    rng = np.random.default_rng(2)
    before, after = _traffic(rng, weeks=4, after_days=3, effect=-1.0)
    gone = _compare(before, after, 4)
    assert gone.status == "ok" and gone.change == -1.0 and gone.p_value is not None and gone.p_value < 0.05
    short = _compare(before, after[:30], 4)
    assert short.status == "insufficient" and "day(s) of usable hours after" in short.reason


def test_only_the_named_weeks_are_read():
    """A longer series than N weeks: the weeks beyond N do not enter the comparison."""
    rng = np.random.default_rng(3)
    before, after = _traffic(rng, weeks=6, after_days=3, effect=0.0)
    old = before.index < EVENT - timedelta(weeks=2)
    doubled = before.where(~old, before * 2)  # weeks 3 to 6 at twice the traffic
    assert _compare(doubled, after, 2).change == pytest.approx(_compare(before, after, 2).change)
    assert _compare(doubled, after, 6).change < _compare(before, after, 6).change - 0.2


def test_weeks_are_counted_back_from_the_before_windows_end_not_from_the_after_window():
    """An event known only to the day: a day between the windows. Every hour of the 4 baseline
    weeks counts, the oldest day included (counted from the after window, it fell out)."""
    rng = np.random.default_rng(4)
    hours = pd.date_range(EVENT - timedelta(weeks=4), EVENT + timedelta(days=8), freq="h", inclusive="left")
    s = pd.Series(rng.poisson(20, len(hours)).astype(float), index=hours)
    before, after = s[s.index < EVENT], s[s.index >= EVENT + timedelta(days=1)]
    oldest = before.index < before.index[0] + timedelta(days=1)
    loud = before.where(~oldest, before * 10)
    rules = AnalysisRules(baseline_weeks=4)
    full = lambda x: pd.Series(1.0, index=x.index)  # noqa: E731
    end = pd.Timestamp(EVENT)

    def change(b: pd.Series) -> Change:
        return compare_weeks(b, after, full(b), full(after), measure="airborne", zone="SVZM", unit="aircraft",
                             rules=rules, baseline_end=end)  # fmt: skip

    quiet_c, loud_c = change(before), change(loud)
    assert quiet_c.days_before == 28.0 and loud_c.change < quiet_c.change - 0.05


def test_nothing_after_on_some_weeks_hours_only_is_insufficient_not_minus_100_percent():
    rng = np.random.default_rng(5)
    before, after = _traffic(rng, weeks=3, after_days=7, effect=0.0)
    cov_before = pd.Series(1.0, index=before.index)
    week1 = before.index >= EVENT - timedelta(weeks=1)
    cov_before[week1 & (before.index.hour < 12)] = 0.0  # week 1 matches only the afternoons ...
    after = after.where(after.index.hour < 12, 0.0)  # ... and after, afternoons saw nothing
    c = _compare(before, after, 3, cov_before=cov_before)
    assert c.status == "insufficient" and "some baseline weeks but not others" in c.reason
