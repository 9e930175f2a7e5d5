"""The statistics behind the drop and recovery alerts (``alerts.detect``): a sudden fall is judged
from the aircraft of the poll before it, a return against the level traffic had just before it,
and a change of level does not pass for aircraft coming and going."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from monitor.alerts import detect
from monitor.alerts.detect import STEP_TEST, Fall, Noise, occupancy_tau, recovery_evidence
from monitor.alerts.step import step_evidence
from tests.traffic_model import ZONES, simulate

MONDAY = 1_736_121_600  # 2025-01-06 00:00 UTC
DAY = 86_400


def _last_day_tau(closure: tuple[int, int] | None) -> float:
    rep = simulate(MONDAY, 3, 300, seed=5, zones={"SVZM": ZONES["SVZM"]}, closure=closure)
    end = MONDAY + 2 * DAY + 18 * 3600
    day = (rep.times > end - DAY) & (rep.times <= end)
    tau = occupancy_tau(rep.times[day], rep.counts["SVZM"][day])
    assert tau is not None
    return tau


@pytest.mark.parametrize("jump_sigmas, holds", [(detect.JUMP_SIGMAS, True), (1e6, False)])
def test_a_closures_start_does_not_shorten_the_aircrafts_stay(monkeypatch, jump_sigmas, holds):
    """The same aircraft (same seed) with and without a closure hiding 70 % of them from 12 UTC:
    the day before 18 UTC holds the closure's step of some 20 aircraft. Thinning aircraft does not
    change how long each stays, so the estimate must not move much; counted as coming and going,
    that one step would cut it by a third or more (the second case shows it)."""
    monkeypatch.setattr(detect, "JUMP_SIGMAS", jump_sigmas)
    start = MONDAY + 2 * DAY + 12 * 3600
    normal, closed = _last_day_tau(None), _last_day_tau((start, start + DAY))
    assert (abs(closed / normal - 1) < 0.2) is holds, (normal, closed)


def _first_recovery(
    level: float, to: float | Sequence[float] = 27.0, baseline: float = 30.0
) -> tuple[float, str] | None:
    """Minutes from traffic's rise (to ``to`` aircraft, or a cycle of counts) to the recovery,
    after 24 hours at ``level`` of a flat ``baseline``, and the test that established it; None if
    none came in 6 hours."""
    step = 300
    times = np.arange(0, 30 * 3600, step, dtype=np.int64)
    expected = np.full(len(times), baseline)
    back = 24 * 3600
    after = np.resize(np.asarray(to, dtype=np.float64), len(times))
    counts = np.where(times < back, round(baseline * level), after)
    for i in range(int(back / step), len(times)):
        e = recovery_evidence(
            times[: i + 1], counts[: i + 1], expected[: i + 1], Noise(tau_s=2400.0), began=0,
            drop_fraction=0.5, recovery_fraction=0.8, min_polls=3,
        )  # fmt: skip
        if e is not None:
            return (int(times[i]) - back) / 60, e.test
    return None


def test_a_deep_closures_end_is_judged_against_its_own_level():
    """Back from 20 % of the baseline, the return is plain within the hour, against the level
    before it; back from just under the 50 % line, it needs the line's test, and hours (110 min
    here), as it did before the level was measured."""
    deep, shallow = _first_recovery(0.2), _first_recovery(0.47)
    assert deep is not None and deep[0] <= 60 and deep[1] == "above the level before"
    assert shallow is not None and shallow[0] > 60 and shallow[1] == "above the drop line"


def test_a_partial_reopening_is_no_recovery():
    """Few aircraft (a baseline of 10), from none to 45 % (counts 6, 3, 5, 4, 6, 3 over and over): a
    rise the level test sees at once (it would call it a recovery in 30 minutes), polls above the
    drop line to start a window, and counts not surely below 80 % of so few; but not above the
    line on its own test, so never a recovery. The same closure ending at 90 % is one."""
    assert _first_recovery(0.0, to=[6, 3, 5, 4, 6, 3], baseline=10.0) is None
    assert _first_recovery(0.0, to=[10, 8, 9, 9, 10, 8], baseline=10.0) is not None


def _step(
    counts: Sequence[float],
    expected: float = 30.0,
    *,
    times: Sequence[int] | None = None,
    gap_at: int | None = None,
    tau_s: float = 3300.0,
    drop_fraction: float = 0.5,
):
    """``step_evidence`` on polls 5 minutes apart (one 30-minute gap before poll ``gap_at``), or at
    ``times``."""
    at = np.arange(len(counts), dtype=np.int64) * 300 if times is None else np.asarray(times, dtype=np.int64)
    if gap_at is not None:
        at[gap_at:] += 1800
    return step_evidence(
        at, np.asarray(counts, dtype=np.float64), np.full(len(counts), expected), Noise(tau_s=tau_s),
        drop_fraction=drop_fraction, min_polls=3, min_expected=2.0, budget_per_30d=0.5,
    )  # fmt: skip


def test_a_sudden_fall_by_day_is_a_drop_at_its_third_poll():
    """28 aircraft at the poll before, then 6: of the 28, each stays a poll longer with probability
    exp(-5/55), so about 25 should still be seen. The third low poll makes the run; the first poll's
    survivors (not the run's last, not the busiest poll before) are the evidence, an exact binomial
    tail (mid-p)."""
    from scipy.stats import binom

    before = [30, 35, 31, 30, 28]
    assert _step([*before, 6, 9]) is None  # two polls are no run
    e = _step([*before, 6, 9, 8])
    assert e is not None and e.test == STEP_TEST and e.polls == 3 and e.start == 5 * 300
    r = np.exp(-300 / 3300)
    assert e.p == pytest.approx(binom.cdf(5, 28, r) + 0.5 * binom.pmf(6, 28, r), rel=1e-9, abs=0)
    assert e.p < e.alpha == pytest.approx(0.5 * 300 / (30 * DAY) / detect.DROP_TESTS, rel=1e-12, abs=0)


def test_the_step_tests_tail_is_mid_p_and_its_budget_one_chance_a_poll():
    """14 aircraft, then 6 (a baseline of 16): P(at most 5 survivors) + half P(exactly 6) is
    3.2e-6, under the limit of 5.3e-6; the plain tail P(at most 6), 6.0e-6, would not be."""
    e = _step([15, 16, 14, 6, 6, 7], expected=16.0)
    assert e is not None and 3.0e-6 < e.p < 3.4e-6 < e.alpha < 6.0e-6


def test_a_zone_of_thousands_of_aircraft_is_judged_without_overflow():
    """1,100 aircraft: 500 a poll later is a step, 1,000 (about the 1,004 survivors due) is none,
    with a line at 95 % to let the run start; neither overflows nor underflows to p = 0. A poll
    seconds after the last is still a poll apart: 30 to 27 is aircraft coming and going."""
    assert _step([1100, 1100, 1100, 500, 500, 500], 1100.0) is not None
    assert _step([1100, 1100, 1100, 1000, 1000, 1000], 1100.0, drop_fraction=0.95) is None
    seconds_apart = [0, 300, 600, 601, 900, 1200]
    assert _step([30, 30, 30, 27, 27, 27], 30.0, times=seconds_apart, drop_fraction=0.95) is None


def test_the_rules_alert_a_sudden_fall_by_day_at_its_third_poll_through_the_step_test():
    """The rules end to end (``tests.alert_replay``): a closure hiding 70 % of the FIR's aircraft at
    13 UTC, on a day at the usual volume (19 aircraft, then 6). The windows alone need 85 minutes
    here (105 with the six ring sectors watched too, in the benchmark's study); the step from the
    poll before is the evidence at the third low poll, and the payload names it."""
    from monitor.alerts.rules import AlertRules
    from tests.alert_replay import replay

    start = MONDAY + 36 * DAY + 13 * 3600
    rep = simulate(MONDAY, 40, 300, seed=113, zones={"SVZM": ZONES["SVZM"]}, closure=(start, start + 2 * DAY))
    _, _, raised = replay(rep, AlertRules(zones=("SVZM",)), start - 3600)
    kind, zone, at, payload = raised[0]
    assert (kind, zone, at) == ("drop", "SVZM", start + 600)
    method = payload["method"]
    assert method["compared"] == STEP_TEST and method["test"].startswith("binomial survivors of the poll before")
    # the fall itself, as the payload states it: 19 aircraft at 12:55, 6 at 13:00
    survival = np.exp(-300 / (method["occupancy_tau_min"] * 60))
    assert method["step"] == {
        "poll_before": 19,
        "first_low_poll": 6,
        "survival_per_poll": pytest.approx(survival, abs=2e-3),
        "day_level": 1.0,  # a usual day: the baseline's own line
    }


def _busy(day: float, fall_to: float, polls: int = 3) -> list[float]:
    """Six hours of a day at ``day`` times a baseline of 20 (the counts wobbling about it), then
    ``polls`` polls at ``fall_to`` of that baseline."""
    wobble = np.tile([-1.0, 1.0, 0.0, 1.0, -1.0, 0.0], 12)
    return [*(day * 20 + wobble), *[fall_to * 20] * polls]


def test_on_a_busy_day_the_step_tests_line_is_half_the_days_level():
    """A day at 160 % of the baseline (32 aircraft where 20 are due), then 12: a fall to 60 % of
    the baseline, above its line (50 %), so no run under it; under half the day's level (about
    80 % of the baseline) it is a run, and the step from 32 to 12 is the evidence."""
    e = _step(_busy(1.6, 0.6), expected=20.0)
    assert e is not None and e.test == STEP_TEST and e.polls == 3 and e.start == 72 * 300
    assert e.step is not None and e.step[:2] == (32, 12) and 1.45 < e.step[3] < 1.65
    assert e.observed == 12.0 and e.expected == 20.0  # against the baseline, as every alert is
    assert _step(_busy(1.6, 0.6, polls=2), expected=20.0) is None  # two polls are no run
    # a usual day: the same 60 % of the baseline is above the line, and no drop
    assert _step(_busy(1.0, 0.6), expected=20.0) is None
    # a day busier still, 200 %: 45 % of the baseline is a run under either line; the baseline's
    # own is tried first, and says so
    e = _step(_busy(2.0, 0.45), expected=20.0)
    assert e is not None and e.step is not None and e.step[3] == 1.0


def test_the_rules_see_a_closure_on_a_busy_afternoon_at_its_third_poll():
    """The rules end to end: a closure hiding 70 % at 15 UTC on a day at about 160 % of the
    baseline (seed 115: 38 aircraft due by the day, 24.5 by the baseline). The counts fall to 12-15,
    above half the baseline; the windows needed 405 minutes. Half the day's level is the line, and
    the step from the poll before is the evidence at the third low poll."""
    from monitor.alerts.rules import AlertRules
    from tests.alert_replay import replay

    start = MONDAY + 36 * DAY + 15 * 3600
    rep = simulate(MONDAY, 40, 300, seed=115, zones={"SVZM": ZONES["SVZM"]}, closure=(start, start + 2 * DAY))
    _, _, raised = replay(rep, AlertRules(zones=("SVZM",)), start - 3600)
    kind, zone, at, payload = raised[0]
    assert (kind, zone, at) == ("drop", "SVZM", start + 600)
    step = payload["method"]["step"]
    assert payload["method"]["compared"] == STEP_TEST and step["day_level"] > 1.2
    assert step["first_low_poll"] < 0.5 * step["poll_before"]


def test_a_step_alerts_line_says_from_how_many_to_how_many():
    from monitor.alerts.detect import Evidence
    from monitor.alerts.rules import _evidence_text

    e = Evidence(0, 600, 3, 6.0, 17.5, 4.5e-10, 5.3e-6, STEP_TEST, Fall(19, 6, 0.904, 1.0))
    assert _evidence_text(e).startswith(
        "from 19 to 6 aircraft in one poll, where 90% stay a poll; mean 6.0 against 17.5"
    )
    assert "from" not in _evidence_text(Evidence(0, 600, 3, 6.0, 17.5, 1e-9, 5e-6, "baseline"))
    busy = Evidence(0, 600, 3, 12.0, 24.5, 1e-16, 5.3e-6, STEP_TEST, Fall(38, 14, 0.904, 1.29))
    assert "where 90% stay a poll, on a day at 129% of the baseline; mean 12.0 against 24.5" in _evidence_text(busy)


def _previous_level_test(monkeypatch) -> None:
    """The test given the hours before as it was until 2026-12-01: the six hours before each
    window, today's level known to ±15 %, and no error of the baseline's own hours."""
    monkeypatch.setattr(detect, "RUN_BACK_S", 0)
    monkeypatch.setattr(detect, "LEVEL_CV_FLOOR", 0.15)
    monkeypatch.setattr(detect, "_with_hour_error", lambda level, *_: level)


def _fir_study(seed: int, *, gradual: bool):
    """One closure of the benchmark's study (``benchmarks/bench_alerts.py``; seeds from 1000 are the
    closures held out), the FIR alone: 40 days, a 48-hour closure at 36 days plus the seed's hour
    (its last two digits, modulo 24), judged from day 33."""
    from monitor.alerts.rules import AlertRules
    from tests.alert_replay import replay

    start = MONDAY + 36 * DAY + seed % 100 % 24 * 3600
    rep = simulate(
        MONDAY, 40, 300, seed=seed, zones={"SVZM": ZONES["SVZM"]}, closure=(start, start + 2 * DAY), gradual=gradual
    )
    scores, _, _ = replay(rep, AlertRules(zones=("SVZM",)), MONDAY + 33 * DAY)
    return scores["SVZM"]


@pytest.mark.slow
@pytest.mark.parametrize("previous", [False, True])
@pytest.mark.parametrize("seed", [140, 141])
def test_a_closure_that_stops_entries_is_judged_against_the_day_before_its_fall(monkeypatch, seed, previous):
    """Closures that stop entries at 16 and 17 UTC (the aircraft inside finish their stay, so the
    counts fall over some 55 minutes). As short windows slide down that fall, the six hours
    before each fill with it, and the day's level they tell sinks with the counts: the previous
    test saw these closures after 915 and 2,810 minutes. The hours before the run of polls under
    80 % of the baseline tell the day as it was: seen within 80 minutes, given those hours."""
    if previous:
        _previous_level_test(monkeypatch)
    seen = _fir_study(seed, gradual=True).detection_min
    assert (seen is not None and seen <= 180) is not previous, seen


@pytest.mark.slow
@pytest.mark.parametrize("previous", [False, True])
@pytest.mark.parametrize("seed", [116, 136])
def test_a_quiet_night_hour_is_no_drop_given_the_hours_before(monkeypatch, seed, previous):
    """Two normal nights of the study (seeds 116 and 136) where the previous test raised a false
    drop in the FIR at 07-08 UTC from a 10- or 55-minute window, given the six hours before. At
    night each hour's baseline is the median of four weeks' means of some 7 aircraft, itself off
    by about a fifth; counted in today's level, the window's hour is no longer rare enough."""
    if previous:
        _previous_level_test(monkeypatch)
    assert _fir_study(seed, gradual=False).false_alarms == (1 if previous else 0)


@pytest.mark.slow
@pytest.mark.parametrize("line_cv, false_recoveries", [(detect.LINE_CV, 0), (0.07, 1)])
def test_the_drop_line_is_known_to_15_percent_at_best(monkeypatch, line_cv, false_recoveries):
    """A closure held out of the study (seed 1032, 08 UTC): 31 hours in, the hidden FIR's counts
    run above the 50 % line for 45 minutes. Today's level is known to ±7 % in the other tests;
    the drop line known that well would call those minutes a recovery while traffic is still
    down."""
    monkeypatch.setattr(detect, "LINE_CV", line_cv)
    assert _fir_study(1032, gradual=False).false_recoveries == false_recoveries
