"""The readsb-family client against a loopback server: circles swept one at a time with the
service's spacing, a fresh connection per request for adsb.lol, vzmon's User-Agent, one snapshot
per sweep (an aircraft in two circles kept once, at its freshest position), never through a 429,
and a circle that cannot be read makes the whole sweep a gap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from geo.circles import Circle
from monitor.errors import RateLimited, SourceUnavailable
from monitor.sources.readsb.client import ADSBFI, ADSBLOL, PACING_MARGIN_S, ReadsbClient
from tests.fake_opensky import Fault
from tests.fake_readsb import FakeReadsb, sky_aircraft

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
WEST, EAST = Circle(10.0, -68.0, 100.0), Circle(10.0, -65.0, 100.0)  # overlapping around 66.5 W
SKY = [
    sky_aircraft("0d0001", 10.0, -68.5),  # west only
    sky_aircraft("0d0002", 10.0, -64.5),  # east only
    sky_aircraft("0d0003", 10.0, -66.5),  # in both
    sky_aircraft("0d0004", None, None),  # no position: in every answer
]


class Pace:
    """A fake monotonic clock that sleeping advances: spacing is checked without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def _client(server: FakeReadsb, service=ADSBLOL, pace: Pace | None = None, **kw) -> ReadsbClient:
    pace = pace or Pace()
    return ReadsbClient(service, server.url, clock=lambda: NOW, sleep=pace.sleep, monotonic=pace.monotonic, **kw)


def test_a_sweep_is_one_snapshot_with_each_aircraft_once():
    with FakeReadsb(SKY, clock=lambda: NOW.timestamp()) as server, _client(server) as client:
        sweep = client.sweep([WEST, EAST])
    ids = sweep.table["icao24"].to_pylist()
    assert sorted(ids) == ["0d0001", "0d0002", "0d0003", "0d0004"] and len(ids) == len(set(ids))
    assert (sweep.requests, sweep.attempts, sweep.no_position) == (2, 2, 2)  # the no-position row in each answer
    assert sweep.api_time == NOW
    paths = [s.path for s in server.seen]
    assert paths == ["/v2/point/10/-68/100", "/v2/point/10/-65/100"]


def test_the_freshest_position_wins_when_circles_overlap():
    sky = [sky_aircraft("0d0003", 10.0, -66.5, seen_pos=9.0)]
    with FakeReadsb(sky, clock=lambda: NOW.timestamp()) as server, _client(server) as client:
        server.faults.append(Fault(doc=server.circle(10.0, -68.0, 100.0)))  # the west circle: 9 s old
        fresher = server.circle(10.0, -65.0, 100.0)
        fresher["ac"][0]["seen_pos"], fresher["ac"][0]["lat"] = 1.0, 10.1
        server.faults.append(Fault(doc=fresher))
        sweep = client.sweep([WEST, EAST])
    assert sweep.table["latitude"].to_pylist() == [10.1]


def test_requests_go_one_at_a_time_spaced_on_fresh_connections_with_vzmons_user_agent():
    pace = Pace()
    with FakeReadsb(SKY) as server, _client(server, pace=pace) as client:
        client.sweep([WEST, EAST, WEST])
        client.sweep([EAST])
    # adsb.lol: 4 s (and the margin) from one request's start to the next, across sweeps
    assert pace.slept == [pytest.approx(4 + PACING_MARGIN_S)] * 3
    assert len({s.connection for s in server.seen}) == 4  # a new connection every time
    assert all(s.headers["User-Agent"].startswith("vzmon/") for s in server.seen)
    assert all(s.headers.get("Connection") == "close" for s in server.seen)


def test_adsb_fi_asks_its_own_route_a_second_apart_and_keeps_its_connection():
    pace = Pace()
    with FakeReadsb(SKY, prefix="/api") as server, _client(server, ADSBFI, pace) as client:
        client.sweep([WEST, EAST])
    assert [s.path for s in server.seen] == ["/api/v2/lat/10/lon/-68/dist/100", "/api/v2/lat/10/lon/-65/dist/100"]
    assert pace.slept == [pytest.approx(1 + PACING_MARGIN_S)] and server.seen[0].connection == server.seen[1].connection


@pytest.mark.parametrize(("header", "wait_s"), [(None, 900.0), ("3600", 3600.0), ("5", 900.0)])
def test_a_429_stops_the_sweep_at_once_with_the_cooldown(header, wait_s):
    headers = {"Retry-After": header} if header else {}
    with FakeReadsb(SKY) as server, _client(server) as client:
        server.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain", headers=headers))
        with pytest.raises(RateLimited) as info:
            client.sweep([WEST, EAST])
    assert len(server.seen) == 1  # never through a 429
    assert info.value.retry_after_s == wait_s and (info.value.retry_at - NOW).total_seconds() == wait_s
    assert "adsb.lol answered HTTP 429" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(body="<html><title>502 Bad Gateway</title></html>", content_type="text/html"), "HTML"),
        (Fault(status=404, body='{"detail": "Not Found"}'), "HTTP 404"),
        (Fault(doc={"ac": {"hex": "0d0001"}, "now": 1}), "ac"),
    ],
)
def test_a_circle_that_cannot_be_read_makes_the_sweep_a_gap(fault, reason):
    with FakeReadsb(SKY) as server, _client(server) as client:
        server.faults.extend([Fault(), fault])  # the first circle answers normally
        with pytest.raises(SourceUnavailable) as info:
            client.sweep([WEST, EAST])
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_a_5xx_is_retried_and_every_attempt_is_paced():
    pace = Pace()
    with FakeReadsb(SKY) as server, _client(server, pace=pace) as client:
        server.faults.append(Fault(status=503, body="busy", content_type="text/plain"))
        sweep = client.sweep([WEST, EAST])
    assert sweep.attempts == 3 and len(server.seen) == 3
    assert (
        pace.slept == [pytest.approx(4 + PACING_MARGIN_S)] * 2
    )  # the retry waited the spacing, and so did the next circle after it
