"""The OpenSky client and parser, against a real HTTP server on 127.0.0.1 that speaks the protocol."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geo.bounds import BBox
from monitor.errors import AuthError, RateLimited, SourceUnavailable
from monitor.schema import POSITION_COLUMNS
from monitor.settings.secret import Secret
from monitor.sources.opensky.client import OpenSkyClient
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import positions_frame
from tests.conftest import DATA, shared_file
from tests.data.make_states_fixture import AIRCRAFT
from tests.fake_opensky import FakeOpenSky, Fault

BOX = BBox(-75.42, -1.36, -57.8, 17.7)
CREDS = ("vzmon-test", Secret("s3cret-value"))


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 11, 29, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def client(server: FakeOpenSky, creds=None, **kw) -> OpenSkyClient:
    kw.setdefault("sleep", lambda s: None)
    return OpenSkyClient(server.api_url, server.token_url, creds, **kw)


# ------------------------------------------------------------------------------------ requests


def test_anonymous_call_sends_box_and_extended_and_no_auth_header(fake_opensky):
    with client(fake_opensky) as c:
        reply = c.fetch_states(BOX)
    (req,) = fake_opensky.states_requests()
    assert {k: v[0] for k, v in req.params.items()} == {
        "lamin": "-1.36", "lomin": "-75.42", "lamax": "17.7", "lomax": "-57.8", "extended": "1",
    }  # fmt: skip
    assert "Authorization" not in req.headers
    assert req.headers["User-Agent"].startswith("vzmon/")  # names vzmon and its URL, not python-requests
    assert reply.http_status == 200 and not reply.authenticated
    assert reply.credits_remaining == 400 - 3
    assert len(reply.doc["states"]) == 42  # the box filter drops 2 aircraft outside it and 1 without a position
    assert all(len(row) == 18 for row in reply.doc["states"])


def test_oauth_token_is_fetched_once_and_reused(fake_opensky):
    with client(fake_opensky, CREDS) as c:
        c.fetch_states(BOX)
        c.fetch_states(BOX)
    (tok,) = fake_opensky.token_requests()
    assert tok.form == {
        "grant_type": ["client_credentials"], "client_id": ["vzmon-test"], "client_secret": ["s3cret-value"],
    }  # fmt: skip
    assert tok.headers["Content-Type"] == "application/x-www-form-urlencoded"
    reqs = fake_opensky.states_requests()
    assert len(reqs) == 2
    assert reqs[0].headers["Authorization"] == reqs[1].headers["Authorization"]
    assert reqs[0].headers["Authorization"].startswith("Bearer ")


def test_token_is_refreshed_about_a_minute_before_it_expires(fake_opensky):
    clock = FakeClock()
    fake_opensky.token_lifetime_s = 1800
    with client(fake_opensky, CREDS, clock=clock) as c:
        c.fetch_states(BOX)
        clock.advance(1800 - 61)
        c.fetch_states(BOX)
        assert c.token_fetches == 1
        clock.advance(2)  # 59 s before expiry: inside the refresh margin
        c.fetch_states(BOX)
        assert c.token_fetches == 2
    assert len(fake_opensky.token_requests()) == 2


def test_401_gets_one_token_refresh_and_one_retry(fake_opensky):
    with client(fake_opensky, CREDS) as c:
        c.fetch_states(BOX)
        fake_opensky.tokens.clear()  # the server forgets the token: next call gets 401
        reply = c.fetch_states(BOX)
    assert reply.http_status == 200
    assert len(fake_opensky.token_requests()) == 2
    assert len(fake_opensky.states_requests()) == 3


def test_401_twice_is_an_auth_error(fake_opensky):
    fake_opensky.faults.extend([Fault(status=401, body=""), Fault(status=401, body="")])
    with client(fake_opensky, CREDS) as c, pytest.raises(AuthError, match="HTTP 401"):
        c.fetch_states(BOX)


def test_wrong_client_secret_is_an_auth_error_naming_the_env_vars(fake_opensky):
    with client(fake_opensky, ("vzmon-test", Secret("wrong"))) as c, pytest.raises(AuthError) as info:
        c.fetch_states(BOX)
    assert "OPENSKY_CLIENT_ID" in str(info.value)
    assert "wrong" not in str(info.value)


def test_429_raises_rate_limited_with_the_retry_after(fake_opensky):
    clock = FakeClock()
    fake_opensky.credits["anonymous"] = 2  # less than the 3 this box costs
    fake_opensky.retry_after_s = 22688
    with client(fake_opensky, clock=clock) as c, pytest.raises(RateLimited) as info:
        c.fetch_states(BOX)
    assert info.value.retry_after_s == 22688
    assert info.value.retry_at == clock.now + timedelta(seconds=22688)
    assert len(fake_opensky.states_requests()) == 1  # never retried


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_with_backoff_then_succeeds(fake_opensky, status):
    sleeps: list[float] = []
    fake_opensky.faults.extend([Fault(status=status, body='{"error":"Something went wrong."}')] * 2)
    with client(fake_opensky, retries=3, backoff_s=2.0, sleep=sleeps.append) as c:
        reply = c.fetch_states(BOX)
    assert reply.attempts == 3
    assert sleeps == [2.0, 4.0]


def test_5xx_beyond_the_retries_is_source_unavailable(fake_opensky):
    fake_opensky.faults.extend([Fault(status=503, body="Service Unavailable")] * 3)
    with client(fake_opensky, retries=2) as c, pytest.raises(SourceUnavailable, match="HTTP 503 after 3 attempts"):
        c.fetch_states(BOX)
    assert len(fake_opensky.states_requests()) == 3


def test_connection_refused_is_source_unavailable():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    c = OpenSkyClient(f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}/t", retries=1, sleep=lambda s: None)
    with c, pytest.raises(SourceUnavailable, match="connection failed after 2 attempts"):
        c.fetch_states(BOX)


def test_read_timeout_is_source_unavailable(fake_opensky):
    held = Fault(hold=threading.Event())  # never answered while the client waits
    fake_opensky.faults.append(held)
    try:
        with (
            client(fake_opensky, retries=0, timeout=(2.0, 0.3)) as c,
            pytest.raises(SourceUnavailable, match="timed out"),
        ):
            c.fetch_states(BOX)
    finally:
        assert held.hold is not None
        held.hold.set()


def test_dropped_connection_is_retried(fake_opensky):
    fake_opensky.faults.append(Fault(drop=True))
    with client(fake_opensky, retries=1) as c:
        assert c.fetch_states(BOX).attempts == 2


def test_malformed_json_is_source_unavailable(fake_opensky):
    fake_opensky.faults.append(Fault(status=200, body='{"time": 1764424800, "states": [['))
    with client(fake_opensky) as c, pytest.raises(SourceUnavailable, match="not JSON"):
        c.fetch_states(BOX)


def test_html_error_page_is_source_unavailable_and_quoted(fake_opensky):
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    fake_opensky.faults.append(Fault(status=200, body=page, content_type="text/html"))
    with client(fake_opensky) as c, pytest.raises(SourceUnavailable) as info:
        c.fetch_states(BOX)
    assert "text/html" in str(info.value) and "502 Bad Gateway" in str(info.value)


def test_404_names_the_api_url_setting(fake_opensky):
    c = OpenSkyClient(fake_opensky.url + "/wrong", fake_opensky.token_url, sleep=lambda s: None)
    with c, pytest.raises(SourceUnavailable, match="OPENSKY_API_URL"):
        c.fetch_states(BOX)


def test_server_time_follows_resolution(fake_opensky):
    with client(fake_opensky) as c:
        t = c.fetch_states(BOX).doc["time"]
    assert t % 10 == 0


# --------------------------------------------------------------------------------------- parse


def test_states_null_parses_to_no_positions():
    parsed = parse_states({"time": 1764424800, "states": None})
    assert parsed.api_time == datetime(2025, 11, 29, 14, 0, tzinfo=UTC)
    assert positions_frame(parsed.table).empty
    assert list(positions_frame(parsed.table).columns) == [c.name for c in POSITION_COLUMNS if c.name != "zone"]


def test_rows_of_17_18_and_19_fields(states_payload):
    rows = states_payload["states"][:3]
    doc = {"time": states_payload["time"], "states": [rows[0][:17], rows[1], [*rows[2], "additional_unused"]]}
    parsed = parse_states(doc)
    df = positions_frame(parsed.table)
    assert len(df) == 3 and parsed.malformed_rows == 0
    assert df["category"].isna().tolist() == [True, False, False]
    assert df["icao24"].tolist() == [rows[0][0], rows[1][0], rows[2][0]]


def test_any_field_may_be_null():
    row = ["abc123", *([None] * 17)]
    df = positions_frame(parse_states({"time": 1764424800, "states": [row]}).table)
    assert df.loc[0, "icao24"] == "abc123"
    assert df["callsign"].isna().all() and df.loc[0, "origin_country"] == ""
    assert bool(df.loc[0, "stale"])  # no position at all


def test_callsign_padding_is_stripped_and_icao24_lowercased(states_payload):
    doc = {
        "time": states_payload["time"],
        "states": [["ABC123", "CMP222  ", "Panama", *states_payload["states"][0][3:]]],
    }
    df = positions_frame(parse_states(doc).table)
    assert df.loc[0, "icao24"] == "abc123" and df.loc[0, "callsign"] == "CMP222"


def test_old_positions_are_flagged_stale_not_dropped(states_payload):
    df = positions_frame(parse_states(states_payload, stale_after_s=15).table)
    stale = df.set_index("icao24")["stale"]
    assert bool(stale["0d8151"])  # time_position 40 s before the reply time
    assert bool(stale["0d8150"])  # no position yet
    assert not bool(stale["0d80a1"])
    assert len(df) == len(states_payload["states"])


def test_malformed_rows_are_counted_and_skipped(states_payload):
    good = states_payload["states"][0]
    doc = {"time": 1, "states": [good, ["short"], "not a row", [None, *good[1:]]]}
    parsed = parse_states(doc)
    assert len(positions_frame(parsed.table)) == 1 and parsed.malformed_rows == 3


def test_only_malformed_rows_is_an_error():
    with pytest.raises(SourceUnavailable, match="none has the expected shape"):
        parse_states({"time": 1, "states": [["x"], [1, 2]]})


@pytest.mark.parametrize("doc", [[], {"states": []}, {"time": "soon", "states": []}, {"time": 1, "states": {}}])
def test_reply_that_is_not_a_states_object_is_an_error(doc):
    with pytest.raises(SourceUnavailable):
        parse_states(doc)


def test_fixture_parses_to_expected_values(states_payload):
    df = positions_frame(parse_states(states_payload).table).set_index("icao24")
    a = df.loc["0d80a1"]
    assert a["callsign"] == "VCV2210" and a["origin_country"] == "Venezuela"
    assert a["latitude"] == 10.2 and a["longitude"] == -66.1
    assert a["baro_altitude_m"] == 7620.0 and a["velocity_mps"] == 215.3 and a["squawk"] == "2341"
    assert a["category"] == 4 and not a["on_ground"]
    assert df.loc["0d80e5", "on_ground"]
    assert df.loc["50047e", "origin_country"] == ""
    assert df["time_position"].dt.tz is not None


# ---------------------------------------------------------------------------- real capture


def test_parser_reads_the_real_opensky_capture_correctly():
    doc = json.loads(shared_file("data", "real", "aerospacefunnel", "opensky_states.json").read_text())
    parsed = parse_states(doc)
    df = positions_frame(parsed.table)
    assert parsed.api_time == datetime(2026, 7, 29, 14, 14, 7, tzinfo=UTC)
    assert len(df) == 79 and parsed.malformed_rows == 0 and parsed.fields_per_row == 17
    assert df["category"].isna().all()  # 17 fields: the request lacked extended=1
    assert int(df["on_ground"].sum()) == 8
    assert df.loc[df["on_ground"].astype(bool), "baro_altitude_m"].isna().all()
    assert int(df["geo_altitude_m"].isna().sum()) == 11
    assert int(df["squawk"].isna().sum()) == 23
    assert (df["position_source"] == 0).all()
    assert df["origin_country"].nunique() == 22
    assert not df["callsign"].dropna().str.endswith(" ").any()
    assert df["latitude"].between(45.03, 46.95).all() and df["longitude"].between(5.07, 7.94).all()
    # the parser keeps every row; positions older than 15 s at the reply time are only flagged
    age = (parsed.api_time - df["time_position"]).dt.total_seconds()
    assert (df["stale"] == (age.isna() | (age > 15))).all()


def test_our_fixture_has_the_real_capture_field_types():
    real = json.loads(shared_file("data", "real", "aerospacefunnel", "opensky_states.json").read_text())
    ours = json.loads((DATA / "opensky_states_region.json").read_text())

    def types(rows):
        out: dict[int, set[str]] = {}
        for row in rows:
            for i, v in enumerate(row[:17]):
                out.setdefault(i, set()).add(type(v).__name__)
        return out

    real_types, our_types = types(real["states"]), types(ours["states"])
    for i in range(17):
        assert our_types[i] <= real_types[i] | {"NoneType"}, (i, our_types[i], real_types[i])
    assert set(real) == set(ours) == {"time", "states"}
    assert all(isinstance(r[1], str) and len(r[1]) == 8 for r in real["states"] if r[1])
    assert all(len(r[1]) == 8 for r in ours["states"] if r[1])


def test_fixture_zones_are_what_the_fence_says(zone_set, fence, states_payload):
    df = positions_frame(parse_states(states_payload).table).set_index("icao24")
    for a in AIRCRAFT:
        where = a[-1]
        if where == "box-outside":
            continue
        lon, lat = df.loc[a[0], ["longitude", "latitude"]]
        assert fence.classify([lon], [lat])[0] == where, a[:2]


def test_parsed_dtypes_match_the_schema(states_payload):
    df = positions_frame(parse_states(states_payload).table)
    for col in POSITION_COLUMNS:
        if col.name == "zone":
            continue
        assert str(df[col.name].dtype) == col.pandas_dtype, col.name
    assert isinstance(df.index, pd.RangeIndex)
    assert np.issubdtype(df["latitude"].dtype, np.floating)


# ------------------------------------------------------------------------------ impossible values


def _row(states_payload, **fields):
    """The fixture's first airborne, fresh state with some fields replaced (by state-vector index)."""
    row = list(states_payload["states"][0])
    for index, value in fields.items():
        row[int(index.lstrip("f"))] = value
    return row


@pytest.mark.parametrize(("value", "expected"), [(1, True), (0, False), ("true", True), ("FALSE", False), ("1", True)])
def test_on_ground_sent_as_a_number_or_text_is_read_as_true_or_false(states_payload, value, expected):
    parsed = parse_states({"time": states_payload["time"], "states": [_row(states_payload, f8=value)]})
    df = positions_frame(parsed.table)
    assert df.loc[0, "on_ground"] == expected and not df.loc[0, "stale"]


@pytest.mark.parametrize("value", ["maybe", 2, [], None])
def test_an_unreadable_on_ground_is_flagged_never_counted_as_airborne(states_payload, value, zone_set):
    from tests.storekit import count_by_zone

    df = positions_frame(
        parse_states({"time": states_payload["time"], "states": [_row(states_payload, f8=value)]}).table
    )
    assert bool(df.loc[0, "stale"]) and pd.isna(df.loc[0, "on_ground"])
    df["zone"] = "SVZM"
    counts = count_by_zone(df, zone_set.codes).set_index("zone")
    assert counts.loc["SVZM", "airborne"] == 0 and counts.loc["SVZM", "stale"] == 1


def test_position_times_in_milliseconds_are_read_as_milliseconds(states_payload):
    t = states_payload["time"]
    row = _row(states_payload, f3=(t - 2) * 1000, f4=(t - 1) * 1000)
    df = positions_frame(parse_states({"time": t, "states": [row]}).table)
    assert df.loc[0, "time_position"] == pd.Timestamp(t - 2, unit="s", tz="UTC") and not df.loc[0, "stale"]
    assert df.loc[0, "last_contact"] == pd.Timestamp(t - 1, unit="s", tz="UTC")


def test_a_position_time_from_the_future_is_flagged_stale(states_payload):
    t = states_payload["time"]
    df = positions_frame(parse_states({"time": t, "states": [_row(states_payload, f3=t + 3600)]}).table)
    assert bool(df.loc[0, "stale"])


@pytest.mark.parametrize("index", [5, 6, 7])
def test_true_or_false_in_a_number_field_is_missing_not_one_or_zero(states_payload, index):
    df = positions_frame(
        parse_states({"time": states_payload["time"], "states": [_row(states_payload, **{f"f{index}": True})]}).table
    )
    column = {5: "longitude", 6: "latitude", 7: "baro_altitude_m"}[index]
    assert pd.isna(df.loc[0, column])
    assert bool(df.loc[0, "stale"]) or index == 7  # no position: stale


@pytest.mark.parametrize("header", ["1e30", str(2**63), "-5", "nan", "inf", "12abc"])
def test_an_absurd_credits_header_is_ignored_not_fatal(fake_opensky, header):
    doc = fake_opensky.states_reply({}, authenticated=False)[1]
    fake_opensky.faults.append(Fault(doc=doc, headers={"X-Rate-Limit-Remaining": header}))
    with client(fake_opensky) as c:
        reply = c.fetch_states(BOX)
    assert reply.credits_remaining is None and reply.http_status == 200


def test_an_anonymous_401_says_what_to_set(fake_opensky):
    fake_opensky.faults.append(Fault(status=401, body="Unauthorized"))
    with client(fake_opensky) as c, pytest.raises(AuthError) as info:
        c.fetch_states(BOX)
    message = str(info.value)
    assert "anonymous call" in message and "OPENSKY_CLIENT_ID and OPENSKY_CLIENT_SECRET" in message
    assert "https://opensky-network.org/my-opensky/account" in message
