"""``watch``: cadence from the credit budget, token refresh across polls, rate limits respected; each
source at its own pace, one at a time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import pairwise

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


@pytest.fixture
def three_sources(opensky_env, monkeypatch, clock):
    from tests.fake_readsb import FakeReadsb, sky_aircraft

    sky = [sky_aircraft("0d0001", 10.6, -66.9), sky_aircraft("0d0002", 8.0, -63.0)]
    with FakeReadsb(sky, clock=clock.epoch) as lol, FakeReadsb(sky[:1], prefix="/api", clock=clock.epoch) as fi:
        monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol,adsbfi")
        monkeypatch.setenv("VZMON_ZONES_RING_NM", "0")  # the FIR alone: 4 circles
        monkeypatch.setenv("VZMON_ADSBLOL_API_URL", lol.url)
        monkeypatch.setenv("VZMON_ADSBFI_API_URL", fi.url)
        yield lol, fi


def test_watch_polls_each_source_at_its_own_pace_one_at_a_time(three_sources, monkeypatch, clock):
    lol, fi = three_sources
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "300")
    polls, results = _watch(load_settings(), clock, 9)
    assert polls == 9
    assert [r.source for r in results] == ["opensky", "adsblol", "adsbfi"] * 3
    assert [r.status for r in results] == ["ok"] * 9 and clock.waits == [pytest.approx(300)] * 2
    assert len(lol.seen) == len(fi.seen) == 3 * 4  # every circle of every sweep
    with sqlite3.connect(load_settings().store_db) as conn:
        combined = conn.execute("SELECT status FROM snapshots WHERE source = 'combined' ORDER BY api_time").fetchall()
    assert combined == [("ok",), ("ok",)]  # the slots every source has polled past


def test_a_rate_limited_source_pauses_alone_while_the_others_go_on(three_sources, monkeypatch, clock):
    from tests.fake_opensky import Fault

    lol, _ = three_sources
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "300")
    monkeypatch.setenv("VZMON_ADSBLOL_COOLDOWN_S", "1000")
    lol.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain"))
    _, results = _watch(load_settings(), clock, 8)
    t0 = results[0].requested_at
    polled = [(r.source, r.status, round((r.requested_at - t0).total_seconds())) for r in results]
    assert polled == [
        ("opensky", "ok", 0), ("adsblol", "rate_limited", 0), ("adsbfi", "ok", 0),
        ("opensky", "ok", 300), ("adsbfi", "ok", 300), ("opensky", "ok", 600), ("adsbfi", "ok", 600),
        ("opensky", "ok", 900),
    ]  # fmt: skip
    assert len(lol.seen) == 1  # nothing sent to adsb.lol inside its cooldown


def test_a_readsb_interval_shorter_than_a_sweep_is_paced_longer(three_sources, monkeypatch, clock):
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "10")  # OpenSky's anonymous floor; adsb.lol needs 4 x 4.25 s
    _, results = _watch(load_settings(), clock, 12)
    t0 = results[0].requested_at
    lol = [round((r.requested_at - t0).total_seconds()) for r in results if r.source == "adsblol"]
    assert lol[1] - lol[0] >= 17  # 4 circles x (4 s + the 0.25 s pacing margin)


def test_polls_keep_to_their_ticks_when_wake_ups_come_late(three_sources, monkeypatch, clock):
    """A wake-up 25 s late each round would, measured from each poll's start, drift the polls by a
    whole slot in 12 rounds and leave the combined view a gap; on fixed ticks they stay put."""
    monkeypatch.setenv("VZMON_WATCH_INTERVAL_S", "300")

    def late(seconds: float) -> bool:
        return clock.wait(seconds + 25)

    results: list = []
    watch(load_settings(), results.append, max_polls=36, clock=clock, sleep=lambda s: None, wait=late)
    t0 = results[0].requested_at
    offsets = {round((r.requested_at - t0).total_seconds()) % 300 for r in results}
    assert offsets <= {0, 25}
    with sqlite3.connect(load_settings().store_db) as conn:
        combined = [s for (s,) in conn.execute("SELECT status FROM snapshots WHERE source = 'combined'")]
    assert len(combined) >= 10 and set(combined) == {"ok"}


def test_a_wake_up_a_little_early_never_polls_the_same_tick_twice(opensky_env, clock):
    """The wait runs on the monotonic clock, the ticks on the wall clock: a slewed wall clock wakes
    watch 50 ms before its tick, which must still be the next poll's tick, not a reason for another."""

    def early(seconds: float) -> bool:
        return clock.wait(max(0.0, seconds - 0.05))

    results: list = []
    watch(load_settings(), results.append, max_polls=5, clock=clock, sleep=lambda s: None, wait=early)
    times = [r.requested_at for r in results]
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert gaps == [pytest.approx(720, abs=0.1)] * 4
