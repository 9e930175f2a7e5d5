"""The alert rules replayed on weeks of realistic traffic (``tests/traffic_model.py``: Poisson aircraft
with daily and weekly cycles and a day-to-day volume varying by 20 %), with a 48-hour closure that
hides 70 % of the aircraft: few false alarms, the closure seen fast, no recovery while it lasts,
the return seen soon. At a size CI affords; ``benchmarks/bench_alerts.py`` runs it at full size."""

from __future__ import annotations

import pytest

from monitor.alerts.rules import AlertRules
from tests.alert_replay import replay
from tests.traffic_model import ZONES, simulate

MONDAY = 1_736_121_600  # 2025-01-06 00:00 UTC
DAY = 86_400


@pytest.fixture(scope="module")
def run():
    zones = {z: ZONES[z] for z in ("SVZM", "ring:SKED", "ring:TTZP")}
    closure_start = MONDAY + 40 * DAY + 16 * 3600  # a Saturday, 12:00 in Caracas
    traffic = simulate(
        MONDAY,
        44,
        600,
        seed=11,
        zones=zones,
        closure=(closure_start, closure_start + 2 * DAY),
        outages=((MONDAY + 33 * DAY + 3600, MONDAY + 33 * DAY + 7 * 3600),),  # a 6-hour feed outage
    )
    scores, _timings, raised = replay(traffic, AlertRules(zones=tuple(zones)), MONDAY + 28 * DAY)
    return scores, raised


@pytest.mark.slow
def test_normal_traffic_raises_few_false_alarms(run):
    """At the target (at most one a zone per 30 days) 14 days of 3 zones expect at most 1.4 false
    alarms; 3 is the 95th percentile of such a count (Poisson). This seed has one day at about half
    the usual traffic (a 3-sigma day of the model), which the rules rightly call a drop (then a
    zero, in the FIR at night), and a day after the closure when ring:SKED's traffic is at 60 % of
    its baseline and its counts at 37 % for five hours: 3 alerts; the old threshold rule raised
    more than 20 here. ``benchmarks/bench_alerts.py`` measures the rate at full size."""
    scores, raised = run
    false = sum(s.false_alarms for s in scores.values())
    assert false <= 3, [r[:3] for r in raised if r[0] in ("drop", "zero")]


@pytest.mark.slow
def test_a_daytime_closure_is_seen_within_30_minutes_in_the_fir_and_within_3_hours_around_it(run):
    scores, _ = run
    assert scores["SVZM"].detection_min is not None and scores["SVZM"].detection_min <= 30
    assert scores["ring:SKED"].detection_min is not None and scores["ring:SKED"].detection_min <= 180


@pytest.mark.slow
def test_no_recovery_while_the_closure_lasts_and_the_return_is_seen(run):
    """The day after this closure is a quiet one (traffic back at about 80 % of the baseline, not
    100 %): the FIR's return is seen in 70 minutes here (110 before the test against the level of
    the hours before; the benchmark reports the spread over other seeds against the 1-hour
    target). A recovery counts from the closure's end; none came before traffic's return here."""
    scores, _ = run
    assert all(s.false_recoveries == 0 for s in scores.values())
    back = scores["SVZM"].recovery_min
    assert back is not None and 0 <= back <= 120


@pytest.mark.slow
def test_every_traffic_alert_names_its_test_and_evidence(run):
    _, raised = run
    assert raised
    for kind, _zone, _t, payload in raised:
        method = payload["method"]
        assert method["test"].startswith(("negative binomial", "binomial survivors")), kind
        assert method["p"] < method["alpha"] and method["polls"] >= 2
        assert payload["began"] <= payload["poll_time"]
