"""``watch``: cadence from the credit budget, token refresh across polls, rate limits respected."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import AuthError, ConfigError
from monitor.pipeline.watch import watch
from monitor.settings.load import load_settings
from monitor.sources.opensky.credits import poll_interval
from tests.conftest import with_credentials


class Clock:
    """One fake clock shared by the client, the pipeline and the fake server."""

    def __init__(self) -> None:
        self.now = datetime(2025, 11, 29, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return False

    waits: list[float]


@pytest.fixture
def clock(fake_opensky) -> Clock:
    c = Clock()
    c.waits = []
    fake_opensky.clock = c.epoch
    return c


def _watch(settings, clock, n, **kw):
    results = []
    polls = watch(settings, results.append, max_polls=n, clock=clock, sleep=lambda s: None, wait=clock.wait, **kw)
    return polls, results


def test_interval_follows_the_daily_credit_budget(opensky_env, monkeypatch):
    s = load_settings()
    assert poll_interval(s, 3) == pytest.approx(720.0)  # anonymous: 400 * 0.9 / 3 = 120 polls/day
    with_credentials(monkeypatch)
    assert poll_interval(load_settings(), 3) == pytest.approx(72.0)  # standard: 1200 polls/day
    monkeypatch.setenv("VZMON_OPENSKY_ACCOUNT", "feeder")
    assert poll_interval(load_settings(), 3) == pytest.approx(36.0)
    monkeypatch.setenv("VZMON_OPENSKY_DAILY_CREDITS", "1000000")
    monkeypatch.setenv("VZMON_OPENSKY_ACCOUNT", "auto")
    assert poll_interval(load_settings(), 1) == 5.0  # never below the authenticated resolution


def test_watch_polls_at_the_budget_interval(opensky_env, clock):
    polls, results = _watch(load_settings(), clock, 3)
    assert polls == 3 and [r.status for r in results] == ["ok", "ok", "ok"]
    assert clock.waits == [pytest.approx(720.0)] * 2


def test_interval_below_the_api_resolution_is_refused(opensky_env, monkeypatch, clock):
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "4")
    with pytest.raises(ConfigError, match="below OpenSky's 10 s resolution"):
        _watch(load_settings(), clock, 1)


def test_token_expiry_during_watch_fetches_a_new_token(opensky_env, fake_opensky, monkeypatch, clock):
    with_credentials(monkeypatch)
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "600")
    fake_opensky.token_lifetime_s = 1800
    _polls, results = _watch(load_settings(), clock, 5)  # 0, 600, 1200, 1800, 2400 s
    assert [r.status for r in results] == ["ok"] * 5
    # refreshed a minute before the 30-minute expiry: tokens fetched at 0 s and at 1800 s
    assert len(fake_opensky.token_requests()) == 2
    assert all("Authorization" in r.headers for r in fake_opensky.states_requests())


def test_token_revoked_between_polls_gets_401_then_one_refresh(opensky_env, fake_opensky, monkeypatch, clock):
    with_credentials(monkeypatch)
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "600")

    def revoke_then_wait(seconds: float) -> bool:
        fake_opensky.tokens.clear()  # the server forgets the token early: the next call gets 401
        return clock.wait(seconds)

    seen: list[str] = []
    watch(
        load_settings(),
        lambda r: seen.append(r.status),
        max_polls=2,
        clock=clock,
        sleep=lambda s: None,
        wait=revoke_then_wait,
    )
    assert seen == ["ok", "ok"]
    assert len(fake_opensky.token_requests()) == 2
    assert len(fake_opensky.states_requests()) == 3  # 200, 401, 200


def test_watch_waits_out_a_rate_limit_then_resumes(opensky_env, fake_opensky, monkeypatch, clock):
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "60")
    fake_opensky.credits["anonymous"] = 6  # two polls, then 429
    fake_opensky.retry_after_s = 7200
    seen: list[str] = []

    def refill_when_waiting(seconds: float) -> bool:
        if seconds > 3600:
            fake_opensky.credits["anonymous"] = 400
        return clock.wait(seconds)

    watch(
        load_settings(),
        lambda r: seen.append(r.status),
        max_polls=4,
        clock=clock,
        sleep=lambda s: None,
        wait=refill_when_waiting,
    )
    assert seen == ["ok", "ok", "rate_limited", "ok"]
    assert clock.waits[2] == pytest.approx(7200, abs=1)
    calls = len(fake_opensky.states_requests())
    assert calls == 4  # nothing was sent while rate-limited


def test_watch_stops_on_an_auth_error(opensky_env, monkeypatch, clock):
    with_credentials(monkeypatch, secret="wrong")
    with pytest.raises(AuthError):
        _watch(load_settings(), clock, 3)
    with sqlite3.connect(opensky_env) as conn:
        assert conn.execute("SELECT status FROM snapshots").fetchall() == [("error",)]
