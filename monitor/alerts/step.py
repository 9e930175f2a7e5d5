"""The step test: a sudden fall of a zone's count judged from the aircraft of the poll before it,
beside the window tests of ``alerts.detect`` (whose model, :class:`~monitor.alerts.detect.Noise`,
evidence and false-alarm budget it shares). numpy and math only (the check runs after every cron
poll).

Place in the flow: ``alerts.rules`` asks it after ``alerts.detect.drop_evidence`` finds no drop.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from monitor.alerts.detect import DAY_S, DROP_TESTS, LEVEL_SPAN_S, STEP_TEST, Evidence, Fall, Noise, level_before

__all__ = ["step_evidence"]


def step_evidence(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    noise: Noise,
    *,
    drop_fraction: float,
    min_polls: int,
    min_expected: float,
    budget_per_30d: float,
) -> Evidence | None:
    """A sudden drop, judged from the poll before it, or None.

    The trailing run of polls at or below ``drop_fraction`` of the baseline must hold ``min_polls``
    polls where the baseline expects at least ``min_expected``. On a day busier than the baseline
    (the level of the six hours before the run, :func:`~monitor.alerts.detect.level_before`), the
    line is ``drop_fraction`` of that level instead: a closure hiding 70 % of a day at 160 % of the
    baseline leaves 48 % of it, and any count over half the baseline would break the run.

    Of the ``n0`` aircraft seen at the poll before the run, each is still there ``d`` seconds later
    with probability ``r = exp(-d / tau)``: the correlation of successive counts that ``tau`` is
    measured from (:func:`occupancy_tau`), flicker and all, so a gap in the polls leaves fewer and
    proves less. Newcomers only add, so the run's first count is tested against Binomial(n0, r)
    alone (mid-p lower tail), a test that errs on the side of no alert, though departures that
    happen together (a feed losing receivers) are a step too. Its share of the budget allows one
    chance per poll. By day, a closure that hides most aircraft at once is seen at the run's
    ``min_polls``-th poll; with few aircraft a step proves little, and the windows decide.
    """
    if len(times) < 2:
        return None
    step = float(np.median(np.diff(times)))
    lo, day = _trailing_run(counts, expected, drop_fraction), 1.0
    if lo is None or len(times) - lo < min_polls:
        lo, day = _busy_run(times, counts, expected, noise, step, drop_fraction, min_polls)
    if lo is None:
        return None
    n = len(times) - lo
    gap = float(times[lo] - times[lo - 1])
    if n < min_polls:
        return None
    observed, due = float(counts[lo:].mean()), float(expected[lo:].mean())
    if due < min_expected or observed > drop_fraction * day * due:
        return None
    n0 = max(0, math.floor(float(counts[lo - 1]) + 0.5))
    k = max(0, math.floor(float(counts[lo]) + 0.5))
    if k >= n0:
        return None
    # (a poll seconds after the last is still a poll apart: survival never reaches 1)
    r = math.exp(-max(gap, step) / noise.tau_s)
    logs = [
        math.lgamma(n0 + 1) - math.lgamma(j + 1) - math.lgamma(n0 - j + 1) + j * math.log(r) + (n0 - j) * math.log1p(-r)
        for j in range(k + 1)
    ]  # in logs: a zone of thousands of aircraft neither overflows nor underflows to p = 0
    pmf = [math.exp(x) for x in logs]
    p = sum(pmf[:-1]) + 0.5 * pmf[-1]
    limit = budget_per_30d * step / (30 * DAY_S) / DROP_TESTS
    if p >= limit:
        return None
    return Evidence(int(times[lo]), int(times[-1]), n, observed, due, p, limit, STEP_TEST, Fall(n0, k, r, day))


def _trailing_run(counts: npt.NDArray[np.float64], expected: npt.NDArray[np.float64], share: float) -> int | None:
    """The first poll of the trailing run at or below ``share`` of the baseline, after one above
    it; None when the last poll is above it, or no poll is."""
    low = counts <= share * expected
    high = np.flatnonzero(~low)
    if not low[-1] or len(high) == 0:
        return None
    return int(high[-1]) + 1


def _busy_run(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    noise: Noise,
    step: float,
    drop_fraction: float,
    min_polls: int,
) -> tuple[int | None, float]:
    """(the trailing run's first poll, the day's level) with the line at ``drop_fraction`` of the
    day's level, when the six hours before the run were busier than the baseline; (None, 1.0)
    otherwise. The run's start and the level before it are found together: the level before the
    last ``min_polls`` polls sets a line, the run under it starts where it starts, and the level
    before that start sets the line once more."""
    start = len(times) - min_polls
    lo: int | None = None
    day = 1.0
    for _ in range(2):
        if start < 1:
            break
        level = level_before(times, counts, expected, int(times[start]) - LEVEL_SPAN_S, start, step, noise.tau_s)
        if level is None or level[0] <= level[1]:  # no busier than the baseline: its own line holds
            return None, 1.0
        day = level[0] / level[1]
        lo = _trailing_run(counts, expected, drop_fraction * day)
        if lo is None or lo == start:
            break
        start = lo
    return (lo, day) if lo is not None else (None, 1.0)
