"""A long baseline: the after window against the same hours of the week over N weeks before.

Place in the flow: with ``report.baseline_weeks`` (``vzmon report --baseline-weeks N``) set,
``analysis.before_after`` compares each hourly measure here instead of ``analysis.stats.compare``.

Method (each report states it): baseline week *i* is the 7 days that end *i* weeks before the
after window opens, so each hour of the after window meets the same hour of the week once in every
baseline week. For each baseline week with at least ``min_matched_hours`` usable hours matched to
the after window, d_i = log(A_i / B_i), where B_i is the week's mean over those hours and A_i the
after window's mean over the same hours (each hour of the week weighs the same). The change is
exp(mean d_i) - 1. Weeks are the units of noise: the after window is one more draw of a week, so
its interval is a prediction interval, var = s^2 (1 + 1/N) over the N weeks' d_i, Student t with
N - 1 degrees of freedom; the p-value of no change comes from the same t. Events inside the
baseline weeks are not cut out: the report lists them as possible confounders.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitor.analysis.stats import AnalysisRules, Change, t_interval, t_p_value, usable

__all__ = ["compare_weeks"]

_WEEK_H = 168


def key(index: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """Hour of the week: 0 is Monday 00 UTC."""
    return np.asarray(index.day_of_week * 24 + index.hour, dtype=np.int64)


def compare_weeks(
    before: pd.Series,
    after: pd.Series,
    cov_before: pd.Series,
    cov_after: pd.Series,
    *,
    measure: str,
    zone: str,
    unit: str,
    flight_class: str | None = None,
    scale: float = 1.0,
    rules: AnalysisRules,
    baseline_end: pd.Timestamp | None = None,
) -> Change:
    """Compare hourly values of the after window with the same hours of each baseline week; the
    weeks are counted back from ``baseline_end`` (the before window's end; default: the hour after
    the last hour of ``before``)."""
    good_b, good_a = usable(before, cov_before, rules) * scale, usable(after, cov_after, rules) * scale
    ib, ia = pd.DatetimeIndex(good_b.index), pd.DatetimeIndex(good_a.index)
    # each hour of the week's mean over the after window (a window over 7 days meets a key twice)
    after_by_key = pd.Series(good_a.to_numpy(dtype=float)).groupby(key(ia)).mean()
    if baseline_end is None:
        baseline_end = (
            pd.Timestamp(before.index.max()) + pd.Timedelta(hours=1) if len(before) else pd.Timestamp(0, tz="UTC")
        )
    week = ((baseline_end - ib) / pd.Timedelta(hours=1)).to_numpy()
    week_no = np.ceil(week / _WEEK_H).astype(np.int64)  # 1: the 7 days before the baseline's end
    rows = pd.DataFrame({"week": week_no, "key": key(ib), "value": good_b.to_numpy(dtype=float)})
    rows = rows[rows["key"].isin(after_by_key.index) & (rows["week"] >= 1) & (rows["week"] <= rules.baseline_weeks)]
    weeks = sorted(int(w) for w in rows["week"].unique() if 1 <= w <= rules.baseline_weeks)
    levels: list[tuple[float, float]] = []  # (B_i, A_i) per usable week
    matched: set[int] = set()
    for w in weeks:
        mine = rows[rows["week"] == w].groupby("key")["value"].mean()
        if len(mine) < rules.min_matched_hours:
            continue
        levels.append((float(mine.mean()), float(after_by_key.reindex(mine.index).mean())))
        matched.update(int(k) for k in mine.index)
    n = len(levels)
    b = np.array([x[0] for x in levels])
    a = np.array([x[1] for x in levels])
    after_level = float(after_by_key.reindex(sorted(matched)).mean()) if matched else float("nan")
    base = Change(
        measure=measure,
        zone=zone,
        flight_class=flight_class,
        unit=unit,
        before=float(b.mean()) if n else float("nan"),
        after=after_level,
        change=None,
        ci_low=None,
        ci_high=None,
        matched_hours=len(matched),
        matching=f"hour of the week over {n} baseline week(s)",
        days_before=round(len(rows) / 24, 2),
        days_after=round(len(good_a) / 24, 2),
        status="insufficient",
    )
    if len(good_a) / 24 < rules.min_days:
        return replace(
            base,
            reason=f"too little data: {len(good_a) / 24:.1f} day(s) of usable hours after (need {rules.min_days:g})",
        )
    if n < 2:
        return replace(
            base,
            reason=f"{n} baseline week(s) with {rules.min_matched_hours}+ usable hours matched to the after window; "
            "a week-to-week interval needs 2",
        )
    if not (b > 0).all():
        return replace(base, reason="a baseline week saw nothing, so a relative change is undefined")
    if (a > 0).all():
        d = np.log(a / b)
        ratio = float(np.exp(d.mean()))
        var_log = float(d.var(ddof=1)) * (1 + 1 / n)
    elif (a > 0).any():
        return replace(
            base,
            reason="nothing was seen after on the hours matched to some baseline weeks but not others; "
            "the week-by-week ratio is undefined",
        )
    else:  # nothing at all after: -100 %, with the baseline weeks' own spread
        ratio = 0.0
        var_log = float(np.log(b).var(ddof=1)) * (1 + 1 / n)
    var_lin = ratio**2 * var_log if ratio > 0 else (1 + 1 / n) * float((b / b.mean()).var(ddof=1))
    df = float(n - 1)
    level_before = after_level / ratio if ratio > 0 else float(b.mean())
    ci, p = t_interval(ratio, var_log, var_lin, df), t_p_value(ratio, var_log, var_lin, df)
    return replace(
        base,
        before=level_before,
        status="ok",
        change=ratio - 1.0,
        ci_low=ci[0],
        ci_high=ci[1],
        interval=f"weeks as units ({n} baseline weeks), prediction interval, Student t with {n - 1} df",
        p_value=p,
    )
