"""The statistics behind the recovery alert (``alerts.detect``): a return is judged against the level
traffic had just before it, and a change of level does not pass for aircraft coming and going."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.alerts import detect
from monitor.alerts.detect import Noise, occupancy_tau, recovery_evidence
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


def _first_recovery(level: float) -> tuple[float, str]:
    """Minutes from traffic's return (to 90 % of a flat baseline of 30) to the recovery, after 24
    hours at ``level`` of it, and the test that established it."""
    step = 300
    times = np.arange(0, 30 * 3600, step, dtype=np.int64)
    expected = np.full(len(times), 30.0)
    back = 24 * 3600
    counts = np.where(times < back, round(30 * level), 27).astype(np.float64)
    for i in range(int(back / step), len(times)):
        e = recovery_evidence(
            times[: i + 1], counts[: i + 1], expected[: i + 1], Noise(tau_s=2400.0), began=0,
            drop_fraction=0.5, recovery_fraction=0.8, min_polls=3,
        )  # fmt: skip
        if e is not None:
            return (int(times[i]) - back) / 60, e.test
    raise AssertionError("no recovery")


def test_a_deep_closures_end_is_judged_against_its_own_level():
    """Back from 20 % of the baseline, the return is plain within the hour, against the level
    before it; back from just under the 50 % line, it needs the line's test, and hours (110 min
    here), as it did before the level was measured."""
    deep, deep_test = _first_recovery(0.2)
    shallow, shallow_test = _first_recovery(0.47)
    assert deep <= 60 and deep_test == "above the level before"
    assert shallow > 60 and shallow_test == "above the drop line"
