"""How unlikely a window of airborne counts is under a zone's baseline: the statistics behind the
drop, zero and recovery alerts. numpy and math only (the check runs after every cron poll).

Place in the flow: ``alerts.rules`` hands this module a zone's recent counts, the baseline's
expected count at each of those polls (``alerts.baseline``) and the zone's noise
(:class:`Noise`); it answers whether a drop (or a return) is established, and with what evidence.

The model. An airborne count is the number of aircraft present at a poll. Aircraft come and go
independently, so at one instant the count is Poisson around its mean; successive polls share
most of their aircraft (each stays ``tau`` on average), so the mean over a window of ``n`` polls
varies less than one poll, but not ``n`` times less (:func:`window_factor`). On top of that the
whole day's traffic is up or down by some percent (weather, schedules, weekdays the baseline does
not match): a gamma-distributed level with squared coefficient of variation ``phi``, estimated
from the zone's own history (``alerts.baseline.fit_noise``). Together: the window's count, in
units of independent aircraft, is negative binomial (gamma-Poisson), and its tail is summed
exactly (:func:`lower_tail`, mid-p).

A sudden drop is also judged from the poll before it (``alerts.step``): the aircraft seen
then are each still there a poll later with the probability the counts' own correlation gives, so
a count that falls from 15 to 4 within one poll, and stays down, is a drop at the third such poll.

Two tests per window. Against the baseline alone (the level as uncertain as day-to-day
variation), and, for windows up to an hour, given the level of the six hours before the window,
or before the run of low polls that holds it (:func:`_hours_before`): the posterior of the gamma
level after those hours, never surer than :data:`LEVEL_CV_FLOOR` (±7 %), made less sure by the
baseline's own error in the window's hour (:func:`_with_hour_error`), so a sudden drop by day
is seen within minutes while a gradual one is still caught by the long windows. A drop is
declared when a window is both below ``drop_fraction`` of the baseline and less likely than its
share of the false-alarm budget (:func:`alpha`): the budget, in false alarms per zone per 30
days under normal traffic, is spread over the windows in proportion to how many independent
chances each has.

A return (:func:`recovery_evidence`) is judged the same way the other way up: a window back above
the drop line, consistent with traffic at the recovery share, and unlikely had traffic stayed
down, either at the drop line or at the level of the hours before the window
(:func:`level_before`), each with its own budget of false recoveries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "ABOVE_LINE",
    "DEFAULT_PHI",
    "DEFAULT_TAU_S",
    "DROP_TESTS",
    "DROP_WINDOWS_S",
    "LEVEL_CV_FLOOR",
    "RECOVERY_WINDOWS_S",
    "STEP_TEST",
    "Evidence",
    "Fall",
    "Noise",
    "alpha",
    "drop_evidence",
    "level_before",
    "lower_tail",
    "occupancy_tau",
    "recovery_evidence",
    "upper_tail",
    "window_factor",
]

DROP_WINDOWS_S = (900, 1800, 3600, 7200, 10800, 21600)  # 15 min to 6 h: short by day, long at night
# the drop tests share the false-alarm budget with the zero test: each window against the baseline,
# the short ones also given the hours before, the step from the poll before, and the FIR's run of zeros
DROP_TESTS = len(DROP_WINDOWS_S) + sum(1 for w in DROP_WINDOWS_S if w <= 3600) + 2
STEP_TEST = "a step from the poll before"
RECOVERY_WINDOWS_S = (1800, 3600, 7200, 10800, 21600)  # long ones for sparse polling
RECOVERY_MIN_SPAN_S = 1800  # a return must last half an hour: a busy moment in a closure is not one
CONDITIONED_UP_TO_S = 3600  # windows this short are also tested given the hours before them
LEVEL_SPAN_S = 6 * 3600  # the hours before a window that tell today's level
LEVEL_CV_FLOOR = 0.07  # today's level is never known better than ±7 % (it drifts; the hours add their own error)
LINE_CV = 0.15  # the recovery's drop line is never known better than ±15 % (at ±7 % it calls returns too soon)
RUN_FRACTION = 0.8  # the hours before a short window end where the run of polls under this share began ...
RUN_BACK_S = 3 * 3600  # ... at most this long before the window's first low poll
JUMP_SIGMAS = 4.5  # a step between polls this many standard deviations out is a change of level
DEFAULT_TAU_S = 2400.0  # an aircraft's stay in a zone, before the zone's own counts tell it
DEFAULT_PHI = 0.05  # day-to-day variation of the level (CV ~22 %) before the history tells it
CONSISTENT = 0.05  # a return is not refuted at this level: traffic may be back at the recovery share
RECOVERY_BUDGET = 0.05  # false recoveries per 48 hours of a closure at the drop line, over all windows
LEVEL_RECOVERY_BUDGET = 0.01  # ... and of any closure, judged against its own level
ABOVE_LINE = 0.05  # ... when the window is also above the drop line at this level (a rise to under it is none)
BASELINE_WEEKS = 4  # the weeks whose same-hour means the baseline is the median of
LEVEL_MIN_POLLS = 12  # the level before a window is taken from at least this many polls
DAY_S = 86_400.0


@dataclass(frozen=True)
class Noise:
    """How a zone's counts vary under normal traffic: ``tau_s``, the time an aircraft stays (the
    counts' correlation time); ``phi``, the squared coefficient of variation of the day's level;
    whether each came from the zone's own data (else from the defaults above)."""

    tau_s: float = DEFAULT_TAU_S
    phi: float = DEFAULT_PHI
    tau_from_data: bool = False
    phi_from_data: bool = False


class Fall(NamedTuple):
    """The step test's fall (:data:`STEP_TEST`): the aircraft at the poll before the run and at its
    first poll, the share that stays a poll, and the day's level (a share of the baseline) the
    run's line was drawn at: 1 unless the hours before ran busier."""

    poll_before: int
    first_low_poll: int
    survival_per_poll: float
    day_level: float


@dataclass(frozen=True)
class Evidence:
    """One window's test: its span, the mean count observed and expected there, the tail
    probability and the level it had to beat, and which test it was."""

    start: int  # Unix seconds of the window's first poll
    end: int  # ... and of its last
    polls: int
    observed: float
    expected: float
    p: float
    alpha: float
    test: str  # "baseline" | "given the 6 h before" | STEP_TEST | "above the drop line" | "above the level before"
    step: Fall | None = None  # STEP_TEST's fall

    @property
    def window_s(self) -> int:
        return self.end - self.start


def occupancy_tau(times: npt.NDArray[np.int64], counts: npt.NDArray[np.float64]) -> float | None:
    """The counts' correlation time from successive polls at the usual spacing ``d``: for Poisson
    aircraft staying ``tau`` on average, E[(y(t+d) - y(t))^2] = 2 mean (1 - exp(-d / tau)).
    Steps beyond :data:`JUMP_SIGMAS` of the others are left out: a closure's start or end is a
    change of level, not aircraft coming and going, and one such step would halve ``tau`` (and make
    every window look surer than it is). None when there are too few pairs or too few aircraft."""
    if len(times) < 24:
        return None
    dt = np.diff(times)
    d = float(np.median(dt))
    same = dt == d
    diffs = np.diff(counts)[same]
    mean = float(np.mean(counts))
    if len(diffs) < 20 or mean < 0.5 or d <= 0:
        return None
    squares = diffs * diffs
    kept = squares
    for _ in range(3):
        # (never below 4.5 aircraft: in a quiet zone a step of 4 is still aircraft coming and going)
        kept = squares[squares <= JUMP_SIGMAS**2 * max(float(kept.mean()), 1.0)]
    rho = 1.0 - float(np.mean(kept)) / (2.0 * mean)
    rho = min(max(rho, 0.01), 0.999)
    return float(np.clip(-d / math.log(rho), 300.0, 4 * 3600.0))


def window_factor(n: int, step_s: float, tau_s: float) -> float:
    """Var(mean of ``n`` polls ``step_s`` apart) / Var(one poll), for counts whose correlation
    decays as exp(-lag / tau): 1 for one poll, about 2 tau / (n step) for long windows."""
    if n <= 1:
        return 1.0
    r = math.exp(-step_s / tau_s)
    if r < 1e-12:
        return 1.0 / n
    return (1 + r) / (n * (1 - r)) - 2 * r * (1 - r**n) / (n * n * (1 - r) ** 2)


def _pmf(k: int, r: float, p: float) -> npt.NDArray[np.float64]:
    """Negative binomial probabilities of 0..k (``r`` successes, success probability ``p``)."""
    j = np.arange(k + 1, dtype=np.float64)
    log = np.empty(k + 1)
    log[0] = r * math.log(p)
    if k:
        log[1:] = log[0] + np.cumsum(np.log((j[:-1] + r) / j[1:])) + j[1:] * math.log1p(-p)
    return np.exp(log)


def lower_tail(x: float, m: float, a: float, b: float) -> float:
    """Mid-p P(X <= x) for X Poisson with mean ``rho m``, the level ``rho`` gamma with shape ``a``
    and rate ``b`` (mean a/b): X is negative binomial with r = a, p = b / (b + m). ``x`` and ``m``
    are in units of independent aircraft; ``x`` is rounded to a whole count."""
    k = max(0, math.floor(x + 0.5))
    pm = _pmf(k, a, b / (b + m))
    return float(pm[:-1].sum() + 0.5 * pm[-1])


def upper_tail(x: float, m: float, a: float, b: float) -> float:
    """Mid-p P(X >= x) under the same model as :func:`lower_tail`."""
    return max(0.0, 1.0 - lower_tail(x, m, a, b))


def alpha(budget_per_30d: float, window_s: float, tau_s: float, tests: int) -> float:
    """The tail probability a window must beat: ``budget_per_30d`` false alarms per 30 days shared
    by ``tests`` tests, each window having about 30 days / max(window, tau) independent chances."""
    return budget_per_30d * max(window_s, tau_s) / (30 * DAY_S) / tests


def _level(
    a0: float, counts: npt.NDArray[np.float64], expected: npt.NDArray[np.float64], q: float
) -> tuple[float, float]:
    """The gamma level's (shape, rate) after seeing ``counts`` where ``expected`` was due (both
    per poll), capped so the level is never surer than ``LEVEL_CV_FLOOR``."""
    a = a0 + float(counts.mean()) / q
    b = a0 + float(expected.mean()) / q
    cap = 1.0 / LEVEL_CV_FLOOR**2
    if a > cap:
        b *= cap / a
        a = cap
    return a, b


def _with_hour_error(level: tuple[float, float], step: float, tau_s: float, due: float) -> tuple[float, float]:
    """The gamma level ``(shape, rate)`` made less sure by the baseline's own hourly error: each
    hour's baseline is the median of :data:`BASELINE_WEEKS` weeks' means (variance about pi/2 / 4
    of one week's), and one week's hourly mean varies as its aircraft come and go (an hour's
    :func:`window_factor` over the ``due`` count). So the window's hours may be low against the
    hours before by chance: a fifth at night, where an hour's mean is some 7 aircraft."""
    a, b = level
    hour = window_factor(max(1, round(3600 / step)), step, tau_s)
    cv2 = 1.0 / a + math.pi / 2 / BASELINE_WEEKS * hour / max(due, 1.0)
    return 1.0 / cv2, b / (a * cv2)


def _hours_before(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    lo: int,
    start: int,
) -> tuple[int, int]:
    """The polls ``[before, stop)`` that tell today's level for a short window starting at ``start``
    whose first low poll is ``lo``: the :data:`LEVEL_SPAN_S` before the run of polls under
    :data:`RUN_FRACTION` of the baseline that holds ``lo`` (at most :data:`RUN_BACK_S` before
    it), else before the window. As a window slides through a closure that stops entries, the
    hours before each window would fill with the closure's own fall and sink with it."""
    above = np.flatnonzero(counts[:lo] >= RUN_FRACTION * expected[:lo])
    run0 = int(above[-1]) + 1 if len(above) else 0
    stop = max(run0, int(np.searchsorted(times, int(times[lo]) - RUN_BACK_S, side="left")))
    if stop == lo:
        return int(np.searchsorted(times, start - LEVEL_SPAN_S, side="right")), lo
    return int(np.searchsorted(times, int(times[stop]) - LEVEL_SPAN_S, side="left")), stop


def drop_evidence(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    noise: Noise,
    *,
    drop_fraction: float,
    min_polls: int,
    min_expected: float,
    budget_per_30d: float,
    low_confidence: bool = False,
) -> Evidence | None:
    """The first window ending at the last poll that establishes a drop, or None.

    ``times``, ``counts`` and ``expected``: the zone's recent successful polls (sorted; at least
    the longest window, and the ten hours before the last poll that tell a short one's level),
    and the baseline at each. A window starts at its first poll at or below ``drop_fraction`` of
    the baseline (polls before the drop would only dilute it), and counts when it holds
    ``min_polls`` polls, expects at least ``min_expected`` aircraft, saw at most ``drop_fraction``
    of that, and is less likely than its share of the budget.
    ``low_confidence``: the baseline is one day's hour (under 4 weeks of history), itself as noisy
    as the window, so the level's variation counts twice.
    """
    if len(times) == 0:
        return None
    step = float(np.median(np.diff(times))) if len(times) > 1 else 300.0
    phi = noise.phi * (2.0 if low_confidence else 1.0)
    a0 = 1.0 / phi
    n_tests = DROP_TESTS
    end = int(times[-1])
    low = counts <= drop_fraction * expected
    for w in DROP_WINDOWS_S:
        lo = int(np.searchsorted(times, end - w, side="right"))
        while lo < len(times) and not low[lo]:  # the window starts at its first low poll: the drop's start
            lo += 1
        n = len(times) - lo
        if n < min_polls:
            continue
        observed, due = float(counts[lo:].mean()), float(expected[lo:].mean())
        if not (due >= min_expected and observed <= drop_fraction * due):
            continue
        q = window_factor(n, step, noise.tau_s)
        limit = alpha(budget_per_30d, w, noise.tau_s, n_tests)
        p = lower_tail(observed / q, due / q, a0, a0)
        test = "baseline"
        if w <= CONDITIONED_UP_TO_S:
            before, stop = _hours_before(times, counts, expected, lo, end - w)
            if stop - before >= min_polls:
                q_before = window_factor(stop - before, step, noise.tau_s)
                level = _level(a0, counts[before:stop], expected[before:stop], q_before)
                a, b = _with_hour_error(level, step, noise.tau_s, due)
                p_given = lower_tail(observed / q, due / q, a, b)
                if p_given < p:
                    p, test = p_given, "given the 6 h before"
        if p < limit:
            return Evidence(int(times[lo]), end, n, observed, due, p, limit, test)
    return None


def recovery_evidence(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    noise: Noise,
    *,
    began: int,
    drop_fraction: float,
    recovery_fraction: float,
    min_polls: int,
) -> Evidence | None:
    """The first window ending at the last poll that establishes a return, or None.

    A window after the drop ``began`` starts at its first poll back above ``drop_fraction`` of the
    (pre-drop) baseline, and counts when it spans half an hour, holds ``min_polls`` polls, is
    consistent with traffic back at ``recovery_fraction`` of it (not surely below that share) and
    is unlikely had traffic stayed down: either surely above the drop line (``drop_fraction`` of
    the baseline, ±15 %; budget :data:`RECOVERY_BUDGET`) or surely above the level traffic had in
    the hours before the window (:func:`level_before`; budget :data:`LEVEL_RECOVERY_BUDGET`). The
    first test alone needs hours to tell a return to a quiet day's level from the line; the second
    can see a deep closure's end within the hour, and counts only when the first finds the window
    above the line at :data:`ABOVE_LINE` (a partial reopening is a rise too, but no return).
    Sustained evidence either way, so one busy poll in a closure is not a recovery, while a return
    to a quiet day's level still is one.
    """
    if len(times) == 0:
        return None
    step = float(np.median(np.diff(times))) if len(times) > 1 else 300.0
    line = 1.0 / LINE_CV**2  # the level at the line is never known better than ±15 %
    end = int(times[-1])
    back = counts > drop_fraction * expected
    for w in RECOVERY_WINDOWS_S:
        lo = int(np.searchsorted(times, end - w, side="left"))  # a window of w holds polls w apart
        while lo < len(times) and not back[lo]:  # it starts at its first poll back above the drop line
            lo += 1
        n = len(times) - lo
        if n < min_polls or times[lo] <= began or end - int(times[lo]) < RECOVERY_MIN_SPAN_S:
            continue
        observed, due = float(counts[lo:].mean()), float(expected[lo:].mean())
        if due <= 0:
            continue
        q = window_factor(n, step, noise.tau_s)
        # consistent with traffic back at recovery_fraction of the baseline (not surely below it) ...
        if lower_tail(observed / q, recovery_fraction * due / q, line, line) < CONSISTENT:
            continue
        # ... and surely above the drop line, or surely above the level just before the window
        chances = max(w, noise.tau_s) / (2 * DAY_S) / len(RECOVERY_WINDOWS_S)
        p, limit = upper_tail(observed / q, due / q, line, line / drop_fraction), RECOVERY_BUDGET * chances
        if p < limit:
            return Evidence(int(times[lo]), end, n, observed, due, p, limit, "above the drop line")
        # The level test sees traffic rise, not where to: a partial reopening rises too. So the
        # window must also be above the drop line on the line's own test, if not surely.
        if p >= ABOVE_LINE:
            continue
        level = level_before(times, counts, expected, max(began, int(times[lo]) - LEVEL_SPAN_S), lo, step, noise.tau_s)
        if level is not None and level[0] / level[1] < drop_fraction:
            a, b = _with_hour_error(level, step, noise.tau_s, due)
            p, limit = upper_tail(observed / q, due / q, a, b), LEVEL_RECOVERY_BUDGET * chances
            if p < limit:
                return Evidence(int(times[lo]), end, n, observed, due, p, limit, "above the level before")
    return None


def level_before(
    times: npt.NDArray[np.int64],
    counts: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    since: int,
    lo: int,
    step: float,
    tau_s: float,
) -> tuple[float, float] | None:
    """The gamma (shape, rate) of traffic's level, as a share of the baseline, over the polls from
    ``since`` up to (not including) poll ``lo``: a vague prior (shape 1, mean 1) updated by the
    counts in units of independent aircraft, never surer than ``LEVEL_CV_FLOOR``. Taken on the
    same day as the window it is compared with, so a busy day lifts the drop's level too. None
    with fewer than ``LEVEL_MIN_POLLS`` polls."""
    first = int(np.searchsorted(times, since, side="left"))
    if lo - first < LEVEL_MIN_POLLS:
        return None
    return _level(1.0, counts[first:lo], expected[first:lo], window_factor(lo - first, step, tau_s))
