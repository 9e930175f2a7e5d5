"""Alerts end to end: ``collect`` against the OpenSky test server, real webhook and SMTP receivers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from monitor.alerts.baseline import (
    HISTORY,
    RECENT,
    BaselineRules,
    HourTable,
    ZoneSeries,
    baseline_for,
    hour_tables,
    zone_series,
)
from monitor.alerts.deliver import deliver_due
from monitor.alerts.rules import AlertRules, PastAlert, evaluate
from monitor.cli import EXIT_FAILED, EXIT_OK, main
from monitor.pipeline.alerts import run_alerts
from monitor.pipeline.collect import collect_once
from monitor.settings.load import load_settings
from monitor.store.db import Store
from monitor.store.outbox import add_alert
from monitor.store.snapshots import PollRecord
from tests.fake_opensky import Fault
from tests.receivers import Smtp, Webhook
from tests.storekit import record

NOW = datetime(2025, 11, 29, 15, 0, tzinfo=UTC)  # a Saturday afternoon
# the plain-SMTP test server asks for a login without TLS on purpose (STARTTLS has its own test)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Clock:
    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def svzm_points(zone_set):
    from geo.fence import fence_for

    xs, ys = np.meshgrid(np.arange(-71, -61, 0.5), np.arange(2, 13, 0.5))
    codes = fence_for(zone_set).classify(xs.ravel(), ys.ravel())
    inside = codes == "SVZM"
    return list(zip(xs.ravel()[inside], ys.ravel()[inside], strict=True))


def doc_with(points, n_svzm: int, t: int) -> dict:
    rows = []
    for i in range(n_svzm):
        lon, lat = points[(i * 7) % len(points)]
        rows.append(
            [
                f"{0xA00000 + i:06x}",
                f"TST{i:<5}",
                "Testland",
                t - 1,
                t,
                float(lon),
                float(lat),
                10000.0,
                False,
                230.0,
                90.0,
                0.0,
                None,
                10100.0,
                "2000",
                False,
                0,
                4,
            ]
        )
    for i in range(6):  # some ring traffic, constant
        rows.append(
            [
                f"{0xB00000 + i:06x}",
                f"RNG{i:<5}",
                "Testland",
                t - 1,
                t,
                -61.3 + 0.05 * i,
                10.6,
                7000.0,
                False,
                200.0,
                0.0,
                0.0,
                None,
                7100.0,
                "2000",
                False,
                0,
                4,
            ]
        )
    return {"time": t, "states": rows}


def prefill(db, zone_set, until: datetime, weeks: float = 4, svzm: int = 40) -> None:
    """Hourly successful snapshots with ``svzm`` airborne aircraft in SVZM, before ``until``."""
    codes = list(zone_set.codes)
    with Store(db) as store:
        zid = store.zone_set_id(zone_set)
        t = until - timedelta(weeks=weeks)
        while t < until:
            counts = pd.DataFrame(
                {"zone": codes, "airborne": [svzm if c == "SVZM" else 2 for c in codes], "on_ground": 0, "stale": 0}
            )
            record(
                store, PollRecord("opensky", t + timedelta(seconds=2), "ok", api_time=t), None, counts, zone_set_id=zid
            )
            t += timedelta(hours=1)


@pytest.fixture
def alert_env(opensky_env, fake_opensky, monkeypatch, tmp_path):
    clock = Clock()
    fake_opensky.clock = clock.epoch
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "300")
    monkeypatch.setenv("VZMON_ALERTS_RETRY_BASE_S", "60")
    monkeypatch.setenv("VZMON_ALERTS_JSONL_FILE", str(tmp_path / "alerts.jsonl"))
    return clock


def _poll(clock, fake_opensky, points, n):
    fake_opensky.doc = doc_with(points, n, int(clock.epoch()))
    (result,) = collect_once(load_settings(), clock=clock, sleep=lambda s: None)
    clock.advance(5)
    return result


def test_drop_alerts_once_after_k_polls_then_recovery_once(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    clock = alert_env
    with Webhook() as hook:
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "log,jsonl,webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        prefill(opensky_env, zone_set, clock.now)
        assert _poll(clock, fake_opensky, svzm_points, 40).alerts == ()  # normal traffic
        assert [_poll(clock, fake_opensky, svzm_points, 4).alerts for _ in range(2)] == [(), ()]
        third = _poll(clock, fake_opensky, svzm_points, 4).alerts  # K = 3 low polls
        assert len(third) == 1
        line = third[0]
        assert line.startswith(
            "SVZM: 4 aircraft airborne at 15:15 UTC, expected 40 (median, same hour, last 4 weeks): down 90%"
        )
        assert "trump-post-airspace-closed" in line  # events of the last 48 h are quoted
        for _ in range(4):  # still low: no repeat
            assert _poll(clock, fake_opensky, svzm_points, 3).alerts == ()
        back = [_poll(clock, fake_opensky, svzm_points, 38).alerts for _ in range(8)]
        # a return must last half an hour (7 polls 5 minutes apart), then it is one recovery
        assert back[:6] == [()] * 6 and len(back[6]) == 1 and back[7] == ()
        assert "recovered" in back[6][0]
        payloads = hook.json()
        assert [p["kind"] for p in payloads] == ["drop", "recovery"]
        drop = payloads[0]
        assert drop["zone"] == "SVZM" and drop["observed"] == 4 and drop["expected"] == 40
        assert drop["change"] == pytest.approx(-0.9)
        assert drop["baseline"]["method"] == "median, same hour, last 4 weeks"
        assert drop["baseline"]["low_confidence"] is False and drop["baseline"]["samples"] == 4
        assert drop["poll_time"] == "2025-11-29T15:15:00Z"
        assert 0 < drop["coverage"]["last_hour"] <= 1
        assert "trump-post-airspace-closed" in drop["events_last_48h"]
        assert hook.received[0]["headers"]["Idempotency-Key"] == drop["key"]
    lines = (opensky_env.parent.parent / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(x)["kind"] for x in lines] == ["drop", "recovery"]


def test_webhook_down_then_up_is_delivered_exactly_once(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points, capsys
):
    clock = alert_env
    with Webhook() as hook:
        hook.fail.extend([500, "timeout", 503])
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl,webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VZMON_ALERTS_TIMEOUT_S", "0.5")
        prefill(opensky_env, zone_set, clock.now)
        for _ in range(3):
            _poll(clock, fake_opensky, svzm_points, 2)
        assert hook.received == [] and hook.attempts == 1
        jsonl = (opensky_env.parent.parent / "alerts.jsonl").read_text().splitlines()
        assert len(jsonl) == 1  # the broken webhook did not block the other channel
        for _ in range(12):  # later runs retry with backoff: 1, 2, 4 minutes ...
            _poll(clock, fake_opensky, svzm_points, 2)
        assert hook.attempts == 4 and len(hook.received) == 1
        for _ in range(5):
            _poll(clock, fake_opensky, svzm_points, 2)
        assert len(hook.received) == 1  # exactly once
        settings = load_settings()
        assert deliver_due(settings, Store(settings.store_db), clock.now + timedelta(days=1))[:2] == (0, 0)
    capsys.readouterr()
    assert main(["alerts"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "drop" in out and "webhook:sent (4 tries" not in out and "webhook:sent" in out and "jsonl:sent" in out


def test_rate_limit_is_an_outage_alert_not_a_drop(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    prefill(opensky_env, zone_set, clock.now)
    _poll(clock, fake_opensky, svzm_points, 40)
    fake_opensky.credits["anonymous"] = 0
    fake_opensky.retry_after_s = 6 * 3600
    first = _poll(clock, fake_opensky, svzm_points, 40)
    assert first.status == "rate_limited" and len(first.alerts) == 1
    assert "vzmon is blind: OpenSky rate limit until" in first.alerts[0] and "not a traffic drop" in first.alerts[0]
    for _ in range(5):
        later = _poll(clock, fake_opensky, svzm_points, 40)
        assert later.status == "skipped" and later.alerts == ()
    kinds = [json.loads(x)["kind"] for x in (opensky_env.parent.parent / "alerts.jsonl").read_text().splitlines()]
    assert kinds == ["outage"]


def test_no_successful_poll_for_30_minutes_is_an_outage_then_its_end(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    prefill(opensky_env, zone_set, clock.now)
    _poll(clock, fake_opensky, svzm_points, 40)
    raised = []
    for _ in range(8):  # 40 minutes of 503s
        fake_opensky.faults.extend([Fault(status=503, body="down")] * 4)
        raised += _poll(clock, fake_opensky, svzm_points, 40).alerts
    assert len(raised) == 1 and "no successful poll since" in raised[0]
    back = _poll(clock, fake_opensky, svzm_points, 40).alerts
    assert len(back) == 1 and back[0].startswith("vzmon sees again")


def test_fresh_store_never_raises_a_traffic_alert(alert_env, fake_opensky, opensky_env, monkeypatch, svzm_points):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    results = [_poll(clock, fake_opensky, svzm_points, n) for n in (40, 40, 0, 0, 0, 0, 1)]
    assert all(r.alerts == () for r in results)


def test_zero_aircraft_in_the_fir_is_its_own_alert(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    prefill(opensky_env, zone_set, clock.now)
    alerts = [a for _ in range(3) for a in _poll(clock, fake_opensky, svzm_points, 0).alerts]
    assert len(alerts) == 1 and "NO aircraft for 2 polls in a row" in alerts[0]


def _series(frame: pd.DataFrame) -> dict[str, ZoneSeries]:
    """Counts given as a DataFrame (``time`` UTC, ``zone``, ``airborne``, maybe ``snapshot_id``) as the
    rules take them."""
    sid = frame["snapshot_id"] if "snapshot_id" in frame else range(len(frame))
    t = frame["time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    return zone_series(zip(sid, t, frame["zone"], frame["airborne"], strict=True))


def _tables(frame: pd.DataFrame) -> dict[str, HourTable]:
    """The hourly means the store keeps (zone_hours) of the same counts."""
    t = frame["time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    grouped = frame.assign(hour=t // 3600).groupby(["hour", "zone"])["airborne"].agg(["count", "sum"])
    return hour_tables((h, z, n, total) for (h, z), (n, total) in grouped.iterrows())


def _judge(frame: pd.DataFrame, now: datetime, history=(), rules=None):
    """What run_alerts would raise at ``now``: the last RECENT of counts and the HISTORY of hourly
    means before the reference time (now, or the start of a drop under way)."""
    rules = rules or AlertRules(zones=("SVZM",))
    began = [a.began or a.created_at for a in history]
    reference = min([now, *began])
    recent = frame[(frame["time"] >= now - RECENT) & (frame["time"] <= now)]
    hours = frame[(frame["time"] >= reference - HISTORY - timedelta(days=1)) & (frame["time"] <= now)]
    return evaluate(now, _series(recent), _tables(hours), [], list(history), [], rules, 1.0)


def test_low_confidence_baseline_from_yesterday_and_none_without_24_hours():
    rules = BaselineRules()
    hours = pd.date_range(NOW - timedelta(hours=30), NOW, freq="h", inclusive="left", tz="UTC")
    counts = pd.DataFrame({"time": hours, "zone": "SVZM", "airborne": np.where(hours.hour >= 12, 30.0, 5.0)})
    table = _tables(counts)["SVZM"]
    at = np.array([int(NOW.timestamp())])
    base = baseline_for(table, at, rules)
    assert base is not None and base.low_confidence and base.expected[-1] == 30.0  # the same hour yesterday
    night_at = np.array([int((NOW.replace(hour=3) + timedelta(days=1)).timestamp())])
    night = baseline_for(table, night_at, rules)
    assert night is not None and night.expected[-1] == 5.0  # the daily cycle is respected: no false alarm at night
    recent = _tables(counts[counts["time"] > NOW - timedelta(hours=20)])["SVZM"]
    assert baseline_for(recent, at, rules) is None


def test_the_four_week_baseline_is_the_median_of_the_same_hour():
    times = pd.date_range(NOW - timedelta(weeks=4), NOW, freq="10min", inclusive="left", tz="UTC")
    week = np.minimum((NOW - times).days // 7, 3)  # 0 = last week
    airborne = np.choose(np.asarray(week), [30.0, 10.0, 20.0, 40.0])
    table = _tables(pd.DataFrame({"time": times, "zone": "SVZM", "airborne": airborne}))["SVZM"]
    base = baseline_for(table, np.array([int(NOW.timestamp())]), BaselineRules())
    assert base is not None and not base.low_confidence and base.samples == 4
    assert base.expected[-1] == 25.0 and base.method == "median, same hour, last 4 weeks"


def test_reading_30_hours_and_5_weeks_gives_the_same_alerts_as_everything():
    """run_alerts reads the last 30 hours of counts and 5 weeks of hourly means; the rules must not
    see the difference from the whole history."""
    rules = AlertRules(zones=("SVZM",))
    times = pd.date_range(NOW - timedelta(weeks=8), NOW, freq="10min", inclusive="right", tz="UTC")
    rng = np.random.default_rng(3)
    cycle = 20 + 15 * np.sin((times.hour.to_numpy() - 6) / 24 * 2 * np.pi) + 3 * (times.day_of_week.to_numpy() < 5)
    airborne = rng.poisson(cycle).astype(float)
    airborne[-3:] = 2.0  # a drop at the end
    full = pd.DataFrame(
        {"snapshot_id": np.arange(len(times)), "time": times, "zone": "SVZM", "airborne": airborne}
    ).astype({"time": "datetime64[s, UTC]"})
    for end in (len(times) - 4, len(times)):  # before the drop, and when it is established
        now = times[end - 1].to_pydatetime()
        upto = full.iloc[:end]
        ours = _judge(upto, now, rules=rules)
        assert ours == evaluate(now, _series(upto), _tables(upto), [], [], [], rules, 1.0)
    assert [a.kind for a in ours] == ["drop"]
    assert ours[0].payload["method"]["test"].startswith("negative binomial")


@pytest.mark.parametrize("closed_days", [2.3, 10.6, 25.2])
def test_during_a_long_drop_the_baseline_is_from_before_it_and_the_return_is_seen(closed_days):
    """While a drop is under way the baseline comes from before it; the reads must cover those hours."""
    rules = AlertRules(zones=("SVZM",))
    times = pd.date_range(NOW - timedelta(weeks=9), NOW, freq="20min", inclusive="right", tz="UTC")
    began = NOW - timedelta(days=closed_days)
    cycle = np.where((times.hour >= 10) & (times.hour < 22), 40.0, 8.0)
    closed = np.asarray(times >= began)
    airborne = np.where(closed, cycle / 5, cycle)
    airborne[-4:] = cycle[-4:]  # the last four polls: traffic is back
    full = pd.DataFrame(
        {"snapshot_id": np.arange(len(times)), "time": times, "zone": "SVZM", "airborne": airborne}
    ).astype({"time": "datetime64[s, UTC]"})
    history = [PastAlert("drop", "SVZM", began + timedelta(hours=1), began)]
    now = times[-1].to_pydatetime()
    ours = _judge(full, now, history, rules)
    assert ours == evaluate(now, _series(full), _tables(full), [], history, [], rules, 1.0)
    assert [a.kind for a in ours] == ["recovery"]
    # a week back is already before a 2-day drop; for longer ones the weeks of the drop are skipped
    assert ("before the drop began" in ours[0].payload["baseline"]["method"]) == (closed_days > 7)


def test_rerunning_the_rules_on_the_same_poll_adds_nothing(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    prefill(opensky_env, zone_set, clock.now)
    for _ in range(3):
        _poll(clock, fake_opensky, svzm_points, 4)
    settings = load_settings()
    with Store(settings.store_db) as store:
        again = run_alerts(settings, store, zone_set, clock.now - timedelta(minutes=5))
        assert again.new == ()
        assert store.query("SELECT COUNT(*) FROM alerts")[0][0] == 1


def _email_env(monkeypatch, smtp, password: str | None = None, **alerts: str) -> None:
    """Point the email channel at ``smtp``: plain SMTP with its login, unless ``alerts`` (settings
    after ``VZMON_ALERTS_``) or ``password`` say otherwise."""
    values = {
        "CHANNELS": "email", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_SECURITY": "none",
        "SMTP_USER": smtp.user, "EMAIL_FROM": "a@example.org", "EMAIL_TO": "b@example.org", **alerts,
    }  # fmt: skip
    for key, value in values.items():
        monkeypatch.setenv(f"VZMON_ALERTS_{key}", value)
    monkeypatch.setenv("VZMON_SMTP_PASSWORD", smtp.password if password is None else password)


def test_email_over_smtp_with_login(alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points):
    clock = alert_env
    with Smtp() as smtp:
        _email_env(monkeypatch, smtp, EMAIL_FROM="vzmon@example.org", EMAIL_TO="desk@example.org,ops@example.org")
        prefill(opensky_env, zone_set, clock.now)
        for _ in range(3):
            _poll(clock, fake_opensky, svzm_points, 4)
        (mail,) = smtp.messages
        assert smtp.logins == [smtp.user]
        assert mail["Subject"].startswith("[vzmon] vzmon: traffic drop in SVZM: SVZM: 4 aircraft")
        assert mail["To"] == "desk@example.org, ops@example.org"
        assert mail["Message-ID"].startswith("<drop.SVZM.") and mail["X-Vzmon-Alert-Key"].startswith("drop:SVZM:")
        body = mail.get_payload(decode=True).decode()
        assert '"expected": 40' in body and "The OpenSky Network" in body


def test_email_with_wrong_password_fails_and_names_the_setting(alert_env, monkeypatch, capsys):
    with Smtp() as smtp:
        _email_env(monkeypatch, smtp, password="wrong")
        assert main(["alerts", "test"]) == EXIT_FAILED
        out = capsys.readouterr().out
        assert "email    FAILED" in out and "VZMON_SMTP_PASSWORD" in out and "wrong" not in out
        assert smtp.messages == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_tls_with_login(alert_env, monkeypatch, tmp_path, capsys, security):
    with Smtp(security=security, tls_dir=tmp_path) as smtp:
        _email_env(monkeypatch, smtp, SMTP_SECURITY=security, SMTP_CA_FILE=str(smtp.ca_file))
        assert main(["alerts", "test"]) == EXIT_OK
        assert "email    sent" in capsys.readouterr().out
        assert len(smtp.messages) == 1 and smtp.logins == [smtp.user]


def test_email_refuses_a_server_certificate_it_cannot_verify(alert_env, monkeypatch, tmp_path, capsys):
    with Smtp(security="starttls", tls_dir=tmp_path) as smtp:
        _email_env(monkeypatch, smtp, SMTP_SECURITY="starttls")  # no SMTP_CA_FILE: the throwaway CA is not trusted
        assert main(["alerts", "test"]) == EXIT_FAILED
        out = capsys.readouterr().out
        assert "email    FAILED" in out and "CERTIFICATE_VERIFY_FAILED" in out
        assert smtp.messages == [] and smtp.logins == []  # the password never went out


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("json", lambda r: json.loads(r["body"])["kind"] == "test"),
        ("slack", lambda r: "vzmon test alert" in json.loads(r["body"])["text"]),
        ("discord", lambda r: "vzmon test alert" in json.loads(r["body"])["content"]),
        (
            "ntfy",
            lambda r: r["body"].decode().startswith("vzmon test alert") and r["headers"]["Title"] == "vzmon: test",
        ),
    ],
)
def test_alerts_test_sends_to_every_channel_in_each_webhook_format(
    alert_env, monkeypatch, tmp_path, capsys, fmt, check
):
    with Webhook() as hook:
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "log,jsonl,webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VZMON_ALERTS_WEBHOOK_FORMAT", fmt)
        assert main(["alerts", "test", "--dry-run"]) == EXIT_OK
        assert hook.attempts == 0 and "would send" in capsys.readouterr().out
        assert main(["alerts", "test"]) == EXIT_OK
        out = capsys.readouterr().out
        assert out.count(" sent") == 3
        (request,) = hook.received
        assert check(request)
    assert (tmp_path / "alerts.jsonl").read_text().count("\n") == 1


def test_alerts_send_dry_run_lists_without_sending(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points, capsys
):
    clock = alert_env
    with Webhook() as hook:
        hook.fail.extend([500] * 50)
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VZMON_ALERTS_RETRY_BASE_S", "0")
        prefill(opensky_env, zone_set, clock.now)
        for _ in range(3):
            _poll(clock, fake_opensky, svzm_points, 4)
        attempts = hook.attempts
        capsys.readouterr()
        assert main(["alerts", "send", "--dry-run"]) == EXIT_OK
        out = capsys.readouterr().out
        assert "would send 1 due delivery:" in out and "webhook: SVZM: 4 aircraft" in out
        assert hook.attempts == attempts


def test_webhook_channel_without_url_is_a_config_error(monkeypatch, capsys):
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "webhook")
    assert main(["alerts"]) == 2
    assert "VZMON_WEBHOOK_URL" in capsys.readouterr().err


def test_status_shows_the_last_alert(alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points, capsys):
    clock = alert_env
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    prefill(opensky_env, zone_set, clock.now)
    for _ in range(3):
        _poll(clock, fake_opensky, svzm_points, 4)
    capsys.readouterr()
    assert main(["status"]) == EXIT_OK
    assert "last alert           2025-11-29T15:" in capsys.readouterr().out


def test_overlapping_runs_deliver_each_alert_once(
    alert_env, fake_opensky, opensky_env, monkeypatch, zone_set, svzm_points
):
    """A run delivering to a slow webhook holds the lock; a second `vzmon alerts send` exits 73 at once."""
    import os
    import subprocess
    import sys
    import threading
    from pathlib import Path

    clock = alert_env
    with Webhook() as hook:
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VZMON_ALERTS_RETRY_BASE_S", "0")
        prefill(opensky_env, zone_set, clock.now)
        hook.fail.append(500)  # the alert is recorded and its first delivery fails: it stays due
        for _ in range(3):
            _poll(clock, fake_opensky, svzm_points, 4)
        assert hook.received == [] and hook.attempts == 1
        hook.hold = threading.Event()  # the first run's delivery waits, under the lock, until released
        hook.arrived.clear()
        monkeypatch.setenv("VZMON_ALERTS_TIMEOUT_S", "300")  # however slow the machine, the held POST does not time out
        exe = Path(sys.executable).parent / "vzmon"
        first = subprocess.Popen(
            [str(exe), "alerts", "send"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert hook.arrived.wait(120), "the first run never reached the webhook"
            second = subprocess.run(
                [str(exe), "alerts", "send"], env=dict(os.environ), capture_output=True, text=True, timeout=120
            )  # it returns while the first still holds the lock: it did not wait for it
        finally:
            hook.hold.set()
        _out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert second.returncode == 73 and "another vzmon run holds the lock" in second.stderr
        assert len(hook.received) == 1
        assert main(["alerts", "send"]) == EXIT_OK  # nothing is due any more
        assert len(hook.received) == 1


# -- what a review found: each of these failed before its fix


def _record(store, zone_set, t, fir, other=2, source="opensky"):
    counts = pd.DataFrame(
        {"zone": list(zone_set.codes), "airborne": [fir if c == "SVZM" else other for c in zone_set.codes],
         "on_ground": 0, "stale": 0}
    )  # fmt: skip
    record(
        store,
        PollRecord(source, t + timedelta(seconds=2), "ok", api_time=t),
        None,
        counts,
        zone_set_id=store.zone_set_id(zone_set),
    )


def _cycle(t, day, night):
    return day if 10 <= t.hour < 22 else night


def _check(settings, store, zone_set, t):
    return [line for line in run_alerts(settings, store, zone_set, t + timedelta(seconds=1)).new]


def test_a_closure_of_weeks_never_becomes_its_own_baseline(alert_env, opensky_env, monkeypatch, zone_set):
    """A drop that lasts weeks: the 4-week median would sink to the closure and call it a recovery.
    The baseline stays the one from before the drop, so the recovery comes when traffic does."""
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "3600")
    settings = load_settings()
    raised = []
    with Store(settings.store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW:
            _record(store, zone_set, t, _cycle(t, 40, 8))
            t += timedelta(hours=1)
        while t < NOW + timedelta(weeks=5):  # closed: a fifth of the traffic, above the rules' minimum
            _record(store, zone_set, t, _cycle(t, 8, 2))
            if t < NOW + timedelta(hours=4) or t.hour % 6 == 0:
                raised += [(t, line) for line in _check(settings, store, zone_set, t)]
            t += timedelta(hours=1)
        assert [line.split(":")[0] for _, line in raised] == ["SVZM"] and "down 80%" in raised[0][1]
        reopened = t
        while t < reopened + timedelta(hours=6):
            _record(store, zone_set, t, _cycle(t, 40, 8))
            raised += [(t, line) for line in _check(settings, store, zone_set, t)]
            t += timedelta(hours=1)
    lines = [line for _, line in raised]
    assert len(lines) == 2 and "recovered" in lines[1]
    assert "the 4 weeks before the drop began" in lines[1]


def test_the_nights_few_aircraft_are_not_a_recovery(alert_env, opensky_env, monkeypatch, zone_set):
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "1800")
    settings = load_settings()
    raised = []
    with Store(settings.store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW:
            _record(store, zone_set, t, _cycle(t, 40, 3))
            t += timedelta(minutes=30)
        while t < NOW + timedelta(hours=36):  # two aircraft, day and night
            _record(store, zone_set, t, 2)
            raised += _check(settings, store, zone_set, t)
            t += timedelta(minutes=30)
    assert len(raised) == 1 and "down 95%" in raised[0]


def test_zero_is_reported_even_while_a_drop_is_under_way(alert_env, opensky_env, monkeypatch, zone_set):
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    settings = load_settings()
    prefill(opensky_env, zone_set, NOW)
    raised = []
    with Store(settings.store_db) as store:
        for i, n in enumerate([15, 15, 15, 15, 0, 0, 0, 0]):
            t = NOW + timedelta(minutes=5 * i)
            _record(store, zone_set, t, n)
            raised += _check(settings, store, zone_set, t)
    assert len(raised) == 2 and "down 62%" in raised[0] and "NO aircraft for 2 polls" in raised[1]


def test_a_second_outage_soon_after_the_first_is_reported(alert_env, opensky_env, monkeypatch, zone_set):
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    settings = load_settings()
    raised = []
    with Store(settings.store_db) as store:
        t = NOW
        for minutes, ok in ((0, True), (40, False), (5, True), (60, False)):
            end = t + timedelta(minutes=minutes)
            while True:
                if ok:
                    _record(store, zone_set, t, 40)
                else:
                    record(store, PollRecord("opensky", t, "error", error="HTTP 503"))
                raised += _check(settings, store, zone_set, t)
                t += timedelta(minutes=5)
                if t > end:
                    break
    assert [line.split(":")[0] for line in raised] == [
        "vzmon is blind", "vzmon sees again", "vzmon is blind"
    ]  # fmt: skip


def test_a_fresh_store_waits_outage_min_before_calling_itself_blind(alert_env, opensky_env, monkeypatch, zone_set):
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    settings = load_settings()
    with Store(settings.store_db) as store:
        record(store, PollRecord("opensky", NOW, "error", error="connection refused"))
        assert _check(settings, store, zone_set, NOW) == []
        record(store, PollRecord("opensky", NOW + timedelta(minutes=35), "error", error="connection refused"))
        (line,) = _check(settings, store, zone_set, NOW + timedelta(minutes=35))
    assert "no successful poll yet, trying since 2025-11-29T15:00:00Z (35 min" in line


class _Exploding:
    name = "email"

    def send(self, message):
        raise RuntimeError("a bug in a channel")


def test_a_channel_that_raises_anything_never_stops_the_others(alert_env, opensky_env, monkeypatch, zone_set, tmp_path):
    from monitor.alerts.channels.jsonl import JsonlNotifier

    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "email,jsonl")
    monkeypatch.setenv("VZMON_ALERTS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VZMON_ALERTS_EMAIL_FROM", "a@example.org")
    monkeypatch.setenv("VZMON_ALERTS_EMAIL_TO", "b@example.org")
    settings = load_settings()
    with Store(settings.store_db) as store:
        add_alert(store, "drop:SVZM:1", "drop", "SVZM", NOW, NOW, 4.0, 40.0, "SVZM down", {}, ("email", "jsonl"))
        notifiers = {"email": _Exploding(), "jsonl": JsonlNotifier(tmp_path / "a.jsonl")}
        assert deliver_due(settings, store, NOW, notifiers)[:2] == (1, 1)
        rows = {
            r["channel"]: (r["status"], r["attempts"], r["last_error"]) for r in store.query("SELECT * FROM deliveries")
        }
    assert rows["jsonl"][:2] == ("sent", 1) and rows["email"] == ("pending", 1, "RuntimeError: a bug in a channel")


def test_a_dead_webhook_costs_one_timeout_per_run_not_one_per_alert(alert_env, opensky_env, monkeypatch):
    with Webhook() as hook:
        hook.fail.extend(["timeout"] * 5)
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("VZMON_ALERTS_TIMEOUT_S", "0.3")
        settings = load_settings()
        with Store(settings.store_db) as store:
            for i in range(4):
                add_alert(store, f"drop:ring:{i}", "drop", f"ring:{i}", NOW, NOW, 1.0, 9.0, "down", {}, ("webhook",))
            assert deliver_due(settings, store, NOW)[:2] == (0, 1)
            assert hook.attempts == 1
            attempts = [r[0] for r in store.query("SELECT attempts FROM deliveries ORDER BY alert_id")]
    assert attempts == [1, 0, 0, 0]


def test_a_non_ascii_smtp_password_is_a_clear_failure(alert_env, monkeypatch, capsys):
    with Smtp() as smtp:
        _email_env(monkeypatch, smtp, password="contraseña", CHANNELS="email,jsonl")
        assert main(["alerts", "test"]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "email    FAILED: SMTP login needs an ASCII user and password" in out and "jsonl    sent" in out
    assert "contraseña" not in out


def test_debug_logging_never_prints_the_webhook_token(alert_env, monkeypatch, capsys):
    with Webhook(path="/hooks/T0000/B0000/SECRETTOKEN123") as hook:
        monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "webhook")
        monkeypatch.setenv("VZMON_WEBHOOK_URL", hook.url)
        assert main(["--debug", "alerts", "test"]) == EXIT_OK
        assert len(hook.received) == 1
    captured = capsys.readouterr()
    assert "POST /<redacted>" in captured.err and "SECRETTOKEN123" not in captured.err + captured.out


def test_listing_alerts_works_while_watch_holds_the_lock(alert_env, opensky_env, capsys):
    from monitor.pipeline.locking import store_lock

    settings = load_settings()
    Store(settings.store_db).close()  # `watch` made the store
    with store_lock(settings):
        assert main(["alerts"]) == EXIT_OK
        assert main(["alerts", "send", "--dry-run"]) == EXIT_OK
        assert main(["alerts", "send"]) == 73
    assert "no alerts yet" in capsys.readouterr().out


def test_an_events_file_that_is_not_utf8_does_not_stop_the_alerts(
    alert_env, opensky_env, monkeypatch, zone_set, tmp_path
):
    bad = tmp_path / "events.toml"
    bad.write_bytes(b'[[event]]\nid = "caf\xe9"\n')
    monkeypatch.setenv("VZMON_EVENTS_FILE", str(bad))
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    settings = load_settings()
    prefill(opensky_env, zone_set, NOW)
    with Store(settings.store_db) as store:
        for i in range(3):
            _record(store, zone_set, NOW + timedelta(minutes=5 * i), 4)
            raised = _check(settings, store, zone_set, NOW + timedelta(minutes=5 * i))
    assert len(raised) == 1 and "down 90%" in raised[0]


def test_another_sources_polls_never_move_the_alerts(alert_env, opensky_env, monkeypatch, zone_set):
    """A second network polled into the same store, seeing nothing and failing half its polls,
    changes neither OpenSky's baseline nor its drop judgement; and while it keeps answering, an
    OpenSky outage is still an OpenSky outage."""
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "3600")
    settings = load_settings()

    def other(store, t, status="ok"):
        counts = pd.DataFrame({"zone": list(zone_set.codes), "airborne": 0, "on_ground": 0, "stale": 0})
        api = t + timedelta(seconds=28) if status == "ok" else None
        poll = PollRecord("adsblol", t + timedelta(seconds=30), status, api_time=api)
        record(store, poll, None, counts if status == "ok" else [], zone_set_id=store.zone_set_id(zone_set))

    with Store(settings.store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW:
            _record(store, zone_set, t, _cycle(t, 40, 8))
            other(store, t)
            other(store, t + timedelta(minutes=30), "error")
            t += timedelta(hours=1)
        assert _check(settings, store, zone_set, t - timedelta(hours=1)) == []  # the zeros are not OpenSky's
        for minutes in range(0, 120, 10):  # OpenSky goes silent; adsb.lol keeps answering
            other(store, t + timedelta(minutes=minutes))
        lines = _check(settings, store, zone_set, t + timedelta(minutes=110))
    assert len(lines) == 1 and "no successful poll since" in lines[0]


def test_with_several_sources_drops_are_judged_on_the_combined_view_and_outages_per_source(
    alert_env, opensky_env, monkeypatch, zone_set
):
    """The combined view's drop is alerted (naming the view) while each network alone looks normal;
    a network going silent is its own outage, named, while the others keep answering."""
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "3600")
    monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol")
    settings = load_settings()

    def rec(store, source, t, fir, status="ok"):
        counts = pd.DataFrame({"zone": list(zone_set.codes), "airborne": [fir if c == "SVZM" else 2 for c in
                               zone_set.codes], "on_ground": 0, "stale": 0})  # fmt: skip
        poll = PollRecord(source, t + timedelta(seconds=2), status, api_time=t if status == "ok" else None)
        record(store, poll, None, counts if status == "ok" else [], zone_set_id=store.zone_set_id(zone_set))

    def hour(store, t, combined, lol="ok"):
        rec(store, "opensky", t, _cycle(t, 40, 8))
        rec(store, "adsblol", t + timedelta(seconds=20), _cycle(t, 40, 8), lol)
        rec(store, "combined", t + timedelta(seconds=40), combined)

    with Store(settings.store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW:
            hour(store, t, _cycle(t, 50, 10))
            t += timedelta(hours=1)
        assert _check(settings, store, zone_set, t - timedelta(hours=1)) == []
        while not 10 <= t.hour < 18:  # to daytime: 50 expected in the combined view
            hour(store, t, _cycle(t, 50, 10))
            t += timedelta(hours=1)
        for _ in range(4):
            hour(store, t, 5)
            t += timedelta(hours=1)
        lines = _check(settings, store, zone_set, t - timedelta(minutes=59))
        assert len(lines) == 1 and lines[0].startswith("SVZM (combined view of OpenSky, adsb.lol): 5 aircraft")
        for minutes in range(0, 120, 30):  # adsb.lol goes silent; OpenSky keeps answering
            hour(store, t + timedelta(minutes=minutes), 5, lol="error")
        lines = _check(settings, store, zone_set, t + timedelta(minutes=100))
        assert len(lines) == 1 and lines[0].startswith("vzmon is blind to adsb.lol: no successful poll since")
        judged = store.query("SELECT kind, source FROM alerts ORDER BY id")
    assert [(r["kind"], r["source"]) for r in judged] == [("drop", "combined"), ("outage", "adsblol")]


@pytest.mark.parametrize("first", ["opensky", "adsblol"])
def test_an_outage_under_way_when_the_store_is_upgraded_is_not_raised_again(
    alert_env, opensky_env, monkeypatch, zone_set, first
):
    """Alerts stored before alerts knew their source are the first configured source's (the one
    earlier vzmons judged): an open outage stays open across the upgrade (migration 5), and its end
    is still reported once."""
    import sqlite3

    from monitor.store.migrations import MIGRATIONS

    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_SOURCES", first)
    settings = load_settings()
    settings.store_db.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.store_db) as conn:  # a store of the release before: migrations 1 to 4
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at INTEGER NOT NULL)")  # fmt: skip
        for version, name, sql in MIGRATIONS[:4]:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
        conn.execute(
            "INSERT INTO alerts (key, kind, zone, created_at, line, payload) VALUES ('outage:1', 'outage', NULL, ?, "
            "'vzmon is blind', '{}')",
            (int((NOW - timedelta(hours=2)).timestamp()),),
        )
    conn.close()
    with Store(settings.store_db) as store:
        _record(store, zone_set, NOW - timedelta(hours=3), 30, source=first)
        for minutes in range(150, 0, -30):
            record(store, PollRecord(first, NOW - timedelta(minutes=minutes), "error", error="HTTP 503"))
        assert _check(settings, store, zone_set, NOW) == []  # still blind: nothing new
        _record(store, zone_set, NOW, 30, source=first)
        lines = _check(settings, store, zone_set, NOW)
    assert len(lines) == 1 and lines[0].startswith("vzmon sees again")


def test_a_newly_added_source_never_silences_the_drop_alerts(alert_env, opensky_env, monkeypatch, zone_set):
    """Adding adsb.lol starts a combined view with no history: until it has three weeks, drops are
    judged on OpenSky's own weeks (the line says so), never on nothing."""
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "3600")
    with Store(load_settings().store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW - timedelta(days=1):  # weeks of OpenSky alone
            _record(store, zone_set, t, _cycle(t, 40, 8))
            t += timedelta(hours=1)
        monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol")  # then adsb.lol is added, a day ago
        settings = load_settings()
        while not (10 <= t.hour < 18 and t >= NOW):
            _record(store, zone_set, t, _cycle(t, 40, 8))
            _record(store, zone_set, t + timedelta(seconds=20), _cycle(t, 40, 8), source="adsblol")
            _record(store, zone_set, t + timedelta(seconds=40), _cycle(t, 50, 10), source="combined")
            t += timedelta(hours=1)
        assert _check(settings, store, zone_set, t - timedelta(minutes=59)) == []
        for _ in range(4):  # traffic collapses
            _record(store, zone_set, t, 4)
            _record(store, zone_set, t + timedelta(seconds=20), 4, source="adsblol")
            _record(store, zone_set, t + timedelta(seconds=40), 5, source="combined")
            t += timedelta(hours=1)
        lines = _check(settings, store, zone_set, t - timedelta(minutes=59))
        judged = [r["source"] for r in store.query("SELECT source FROM alerts")]
    assert len(lines) == 1 and lines[0].startswith(
        "SVZM (OpenSky; the combined view has less than 3 weeks of history yet): 4 aircraft"
    )
    assert judged == ["opensky"]


def test_a_drop_under_way_when_the_judged_view_switches_is_alerted_once_and_recovers_once(
    alert_env, opensky_env, monkeypatch, zone_set
):
    """The combined view becomes the judged view (3 weeks of history) in the middle of a collapse:
    the drop alerted on OpenSky is the same episode, so it is not alerted again, and its recovery is
    reported once, on the combined view."""
    monkeypatch.setenv("VZMON_ALERTS_CHANNELS", "jsonl")
    monkeypatch.setenv("VZMON_REPORT_INTERVAL_S", "3600")
    monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol")
    settings = load_settings()
    combined_from = NOW - timedelta(days=21) + timedelta(hours=3)  # ready three hours after NOW

    def hour(store, t, os_fir, combined_fir):
        _record(store, zone_set, t, os_fir)
        if t >= combined_from:
            _record(store, zone_set, t + timedelta(seconds=20), os_fir, source="adsblol")
            _record(store, zone_set, t + timedelta(seconds=40), combined_fir, source="combined")

    lines = []
    with Store(settings.store_db) as store:
        t = NOW - timedelta(weeks=4)
        while t < NOW - timedelta(hours=2):
            hour(store, t, _cycle(t, 40, 40), _cycle(t, 50, 50))  # flat days: any hour compares
            t += timedelta(hours=1)
        for k in range(12):  # collapse for eight hours, then back
            down = k < 8
            hour(store, t, 3 if down else 40, 4 if down else 50)
            lines += _check(settings, store, zone_set, t + timedelta(minutes=1))
            t += timedelta(hours=1)
        judged = [(r["kind"], r["source"]) for r in store.query("SELECT kind, source FROM alerts ORDER BY id")]
    assert judged == [("drop", "opensky"), ("recovery", "combined")], lines
