"""The loopback readsb-family server answers as adsb.lol and adsb.fi do, and vzmon's readsb parser
reads its answers over real HTTP: circles filter by great-circle distance, positions keep their
own times, aircraft without a position are listed, bad queries and faults are what the services send."""

from __future__ import annotations

import json

import requests

from monitor.sources.readsb.parse import parse_reply
from tests.fake_opensky import Fault
from tests.fake_readsb import FakeReadsb, sky_aircraft

CARACAS = (10.6, -66.99)
SKY = [
    sky_aircraft("0d0001", 10.6, -66.99),  # at the centre
    sky_aircraft("0d0002", 10.6, -62.9),  # ~241 nm east: inside 250
    sky_aircraft("0d0003", 10.6, -62.7),  # ~253 nm east: outside 250
    sky_aircraft("0d0004", 10.59, -66.98, alt_baro="ground", gs=12.0),
    sky_aircraft("~0d0005", 10.7, -66.5, type="tisb_other"),
    sky_aircraft("0d0006", None, None, seen=3.0),  # no position: listed everywhere
]


def _get(url: str) -> requests.Response:
    with requests.Session() as s:
        return s.get(url, timeout=5)


def test_a_circle_lists_the_aircraft_within_its_radius_with_distance_and_bearing():
    with FakeReadsb(SKY, clock=lambda: 1_785_336_058.5) as server:
        body = _get(f"{server.url}/v2/point/{CARACAS[0]}/{CARACAS[1]}/250").content
    doc = json.loads(body)
    hexes = {ac["hex"]: ac for ac in doc["ac"]}
    assert set(hexes) == {"0d0001", "0d0002", "0d0004", "~0d0005", "0d0006"}
    assert hexes["0d0002"]["dst"] < 250 and 85 < hexes["0d0002"]["dir"] < 95  # due east
    assert doc["now"] == 1_785_336_058_500 and doc["total"] == 5
    parsed = parse_reply(body, source="adsb.lol")
    times = dict(zip(parsed.table["icao24"].to_pylist(), parsed.table["time_position"].to_pylist(), strict=True))
    assert times["0d0001"].timestamp() == 1_785_336_058  # now/1000 - seen_pos (0.4 s), whole seconds


def test_adsb_fi_route_under_api_parses_like_adsb_lol():
    with FakeReadsb(SKY, prefix="/api", clock=lambda: 1_785_336_058.5) as server:
        body = _get(f"{server.url}/v2/lat/{CARACAS[0]}/lon/{CARACAS[1]}/dist/100").content
    parsed = parse_reply(body, source="adsb.fi")
    table = parsed.table.to_pydict()
    assert sorted(table["icao24"]) == ["0d0001", "0d0004", "0d0006", "~0d0005"]
    assert parsed.non_icao == 1 and parsed.no_position == 1 and parsed.malformed_rows == 0
    row = table["icao24"].index("0d0001")
    assert abs(table["baro_altitude_m"][row] - 35000 * 0.3048) < 1e-6
    assert abs(table["velocity_mps"][row] - 450 * 0.514444) < 1e-3
    ground = table["icao24"].index("0d0004")
    assert table["on_ground"][ground] is True and table["baro_altitude_m"][ground] is None


def test_an_empty_circle_is_200_with_no_aircraft_and_a_radius_over_250_is_refused():
    with FakeReadsb(SKY) as server:
        empty = _get(f"{server.url}/v2/point/-30/20/50")
        too_far = _get(f"{server.url}/v2/point/10/-66/251")
    assert empty.status_code == 200 and [ac["hex"] for ac in empty.json()["ac"]] == ["0d0006"]
    assert too_far.status_code == 422


def test_requests_are_recorded_with_their_connection_and_faults_are_served_in_order():
    with FakeReadsb(SKY) as server:
        server.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain"))
        first = _get(f"{server.url}/v2/point/10/-66/10")
        second = _get(f"{server.url}/v2/point/10/-66/10")
    assert (first.status_code, second.status_code) == (429, 200)
    assert len(server.seen) == 2 and server.seen[0].connection != server.seen[1].connection  # two sessions
