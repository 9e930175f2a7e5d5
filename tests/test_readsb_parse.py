"""The readsb "jv2" parser (adsb.lol, adsb.fi): a real adsb.lol capture in SI units with every row
accounted for, the readsb oddities ("ground", "~" addresses, missing keys), the
stale rule, and each unreadable reply (``now`` in seconds too) refused with a one-line reason."""

from __future__ import annotations

import copy
import json
import math
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from monitor.errors import SourceUnavailable
from monitor.ingest import ingest
from monitor.schema import POSITION_SCHEMA
from monitor.sources.base import Reply
from monitor.sources.readsb.parse import ParsedAircraft, decode_reply, parse_aircraft, parse_reply
from monitor.store.positions import decode_block
from monitor.store.snapshots import PollRecord
from tests.conftest import ROOT, shared_file

FT, KT, FPM = 0.3048, 0.514444, 0.00508  # the conversions, written out independently of the module
NOW_MS = 1785336058500  # the capture's `now`: 2026-07-29 14:40:58.5 UTC


def _raw_bytes() -> bytes:
    return shared_file("data", "real", "aerospacefunnel", "adsb_lol.json").read_bytes()


@pytest.fixture(scope="module")
def raw() -> dict:
    return json.loads(_raw_bytes())


@pytest.fixture(scope="module")
def parsed() -> ParsedAircraft:
    return parse_reply(_raw_bytes(), source="adsb.lol")


def _rows(parsed: ParsedAircraft) -> dict[str, dict]:
    return {r["icao24"]: r for r in parsed.table.to_pylist()}


def _ac(*rows: dict, now: float = NOW_MS) -> dict:
    return {"ac": list(rows), "now": now, "msg": "No error", "total": len(rows)}


def _plane(**fields) -> dict:
    base = {"hex": "a3c9b4", "type": "adsb_icao", "flight": "DAL1375 ", "alt_baro": 32000, "gs": 454.5}
    return {**base, "lat": 41.1, "lon": -79.0, "seen_pos": 0.3, "seen": 0.1, **fields}


# ---- the real capture --------------------------------------------------------------------------


def test_the_real_capture_accounts_for_every_row(raw, parsed):
    assert parsed.table.num_rows + parsed.malformed_rows == len(raw["ac"]) == 716
    assert parsed.malformed_rows == 0
    assert parsed.api_time == datetime(2026, 7, 29, 14, 40, 58, tzinfo=UTC)
    assert sorted(parsed.table["icao24"].to_pylist()) == sorted(a["hex"] for a in raw["ac"])


@pytest.mark.parametrize("hex_", ["a3c9b4", "c030ea"])
def test_real_aircraft_are_converted_to_si_units(raw, parsed, hex_):
    a = next(a for a in raw["ac"] if a["hex"] == hex_)
    got = _rows(parsed)[hex_]
    assert got["baro_altitude_m"] == pytest.approx(a["alt_baro"] * FT)
    assert got["geo_altitude_m"] == pytest.approx(a["alt_geom"] * FT)
    assert got["velocity_mps"] == pytest.approx(a["gs"] * KT)
    assert got["vertical_rate_mps"] == pytest.approx(a["baro_rate"] * FPM)
    assert got["true_track_deg"] == a["track"]
    assert (got["latitude"], got["longitude"]) == (a["lat"], a["lon"])
    assert got["callsign"] == a["flight"].strip() and got["squawk"] == a["squawk"]
    assert got["on_ground"] is False and got["origin_country"] == "" and got["sensors"] is None


def test_every_real_climb_rate_and_speed_is_converted(raw, parsed):
    """All rows, not a sample: baro_rate in ft/min (geom_rate when baro_rate is absent), gs in kt."""
    rows = _rows(parsed)
    climbing = [a for a in raw["ac"] if a.get("baro_rate")]
    assert climbing  # the capture has aircraft climbing or descending
    for a in raw["ac"]:
        got = rows[a["hex"]]
        rate = a.get("baro_rate", a.get("geom_rate"))
        assert got["vertical_rate_mps"] == (None if rate is None else pytest.approx(rate * FPM)), a["hex"]
        assert got["velocity_mps"] == (None if "gs" not in a else pytest.approx(a["gs"] * KT)), a["hex"]


def test_ground_means_on_ground_with_no_barometric_altitude(raw, parsed):
    rows = _rows(parsed)
    on_ground = [a["hex"] for a in raw["ac"] if a.get("alt_baro") == "ground"]
    assert len(on_ground) == 116
    for h in on_ground:
        assert rows[h]["on_ground"] is True and rows[h]["baro_altitude_m"] is None
    airborne = [a["hex"] for a in raw["ac"] if isinstance(a.get("alt_baro"), int)]
    assert all(rows[h]["on_ground"] is False for h in airborne)


def test_non_icao_addresses_are_kept_and_counted(raw, parsed):
    tilde = [a["hex"] for a in raw["ac"] if a["hex"].startswith("~")]
    assert len(tilde) == parsed.non_icao == 8
    assert set(tilde) <= set(parsed.table["icao24"].to_pylist())  # kept with their "~"


def test_position_source_follows_the_readsb_type(raw, parsed):
    rows = _rows(parsed)
    want = {"adsb_icao": 0, "adsr_icao": 0, "mlat": 2, "tisb_icao": None, "tisb_other": None, "tisb_trackfile": None}
    for a in raw["ac"]:
        assert rows[a["hex"]]["position_source"] == want[a["type"]], a


def test_category_codes_become_opensky_numbers(parsed):
    rows = _rows(parsed)
    assert rows["a3c9b4"]["category"] == 4  # "A3": Large
    one = parse_aircraft(
        _ac(*[_plane(hex=f"{i:06x}", category=c) for i, c in enumerate(["A0", "A7", "B1", "C5", "D2"])])
    )
    assert one.table["category"].to_pylist() == [1, 8, 9, 20, None]


def test_real_times_are_now_minus_seen_and_stale_after_15_s(raw, parsed):
    rows = _rows(parsed)
    now_s = NOW_MS / 1000
    for a in raw["ac"]:
        got = rows[a["hex"]]
        assert got["time_position"] == datetime.fromtimestamp(math.floor(now_s - a["seen_pos"]), UTC)
        assert got["last_contact"] == datetime.fromtimestamp(math.floor(now_s - a["seen"]), UTC)
        assert got["time_position"].tzinfo is not None
        unknown_ground = "alt_baro" not in a
        assert got["stale"] is (a["seen_pos"] > 15 or unknown_ground), a["hex"]
    assert sum(a["seen_pos"] > 15 for a in raw["ac"]) == 59  # the capture has old positions too


def test_the_table_has_the_position_schema_without_zone(parsed):
    want = pa.schema([f for f in POSITION_SCHEMA if f.name != "zone"])
    assert parsed.table.schema.equals(want)
    assert parse_aircraft(_ac()).table.schema.equals(want)  # an empty reply too
    parsed.table.validate(full=True)


def test_the_real_capture_goes_through_ingest_into_the_store_unchanged(parsed, store, zone_set):
    t = parsed.api_time
    ingest(store, zone_set, Reply("adsb.lol", t, parsed.table, parsed.malformed_rows), PollRecord("adsb.lol", t, "ok"))
    with sqlite3.connect(store.path) as conn:
        (blob,) = conn.execute("SELECT data FROM position_blocks").fetchone()
    block = decode_block(blob)
    assert block.drop_columns(["zone"]).sort_by("icao24").equals(parsed.table.sort_by("icao24"))


def test_parsing_needs_no_pandas():
    """``collect`` keeps pandas out of the process (monitor.cli blocks it): the parser works so."""
    probe = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas': raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from monitor.sources.readsb.parse import parse_reply\n"
        "r = parse_reply(open(sys.argv[1], 'rb').read())\n"
        "assert r.table.num_rows == 716 and 'pandas' not in sys.modules\n"
    )
    path = shared_file("data", "real", "aerospacefunnel", "adsb_lol.json")
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


# ---- rows ----------------------------------------------------------------------------------------


def test_rows_without_a_position_are_kept_with_null_coordinates_and_counted(raw):
    rows = copy.deepcopy(raw["ac"][:5])
    for a in rows[:2]:
        del a["lat"], a["lon"], a["seen_pos"]
    del rows[2]["lon"]  # half a position is none
    got = parse_aircraft(_ac(*rows))
    assert got.table.num_rows == 5 and got.no_position == 3
    t = got.table.to_pylist()
    for r in t[:3]:
        assert r["latitude"] is None and r["longitude"] is None and r["stale"] is True
    assert t[0]["time_position"] is None and t[0]["icao24"] == rows[0]["hex"]


def test_malformed_rows_are_counted_never_dropped_silently():
    rows = [_plane(), "a3c9b4", None, {"flight": "NOHEX"}, _plane(hex=12), _plane(hex="~"), _plane(hex=" ABC123 ")]
    got = parse_aircraft(_ac(*rows))
    assert got.table.num_rows + got.malformed_rows == len(rows)
    assert got.malformed_rows == 5
    assert got.table["icao24"].to_pylist() == ["a3c9b4", "abc123"]


def test_text_where_a_number_belongs_nulls_the_field_and_keeps_the_row():
    got = parse_aircraft(_ac(_plane(gs="fast", alt_geom=True, track="90.5", alt_baro="FL320", lat="x")))
    (r,) = got.table.to_pylist()
    assert got.malformed_rows == 0
    assert r["velocity_mps"] is None and r["geo_altitude_m"] is None and r["true_track_deg"] == 90.5
    assert r["baro_altitude_m"] is None and r["on_ground"] is None  # unknown: flagged stale, never airborne
    assert r["latitude"] is None and r["stale"] is True and got.no_position == 1


def test_callsigns_are_stripped_and_empty_ones_null():
    got = parse_aircraft(_ac(_plane(hex="000001", flight="AVA010  "), _plane(hex="000002", flight="        ")))
    assert got.table["callsign"].to_pylist() == ["AVA010", None]


@pytest.mark.parametrize(
    ("seen_pos", "limit", "stale"),
    [(0.0, 15, False), (15.0, 15, False), (15.1, 15, True), (40.0, 60, False), (None, 15, True), (-61.0, 15, True)],
)
def test_a_position_is_stale_after_stale_after_s(seen_pos, limit, stale):
    plane = _plane() if seen_pos is None else _plane(seen_pos=seen_pos)
    if seen_pos is None:
        del plane["seen_pos"]
    got = parse_aircraft(_ac(plane), stale_after_s=limit)
    assert got.table["stale"].to_pylist() == [stale]


def test_an_empty_or_null_aircraft_list_is_an_empty_reply():
    for doc in (_ac(), {"ac": None, "now": NOW_MS}, {"aircraft": [], "now": NOW_MS}):
        got = parse_aircraft(doc)
        assert got.table.num_rows == 0 and got.malformed_rows == 0


def test_now_in_seconds_is_refused_as_not_the_apis_reply():
    with pytest.raises(SourceUnavailable, match=r"'now' in seconds .*check the source's api_url"):
        parse_aircraft(_ac(_plane(), now=NOW_MS / 1000))
    assert parse_aircraft(_ac(_plane())).table.num_rows == 1


# ---- replies that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>", "HTML page"),
        (b"<html>\n<body>Sorry, you have been blocked</body></html>", "HTML page"),
        (b"", "empty body"),
        (b'{"ac":[{"hex":"a3c9b4","alt_baro":320', "truncated JSON"),
        (b"Too Many Requests", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"msg":"Rate limited","now":1785336058500}', "no 'ac' list of aircraft (its msg: Rate limited)"),
        (b'{"ac":{"hex":"a3c9b4"},"now":1785336058500}', "'ac' is a JSON dict, expected a list"),
        (b'{"ac":"none","now":1785336058500}', "'ac' is a JSON str"),
        (b'{"ac":[]}', "no 'now'"),
        (b'{"ac":[],"now":"1785336058500"}', "non-numeric 'now'"),
        (b'{"ac":[],"now":true}', "non-numeric 'now'"),
        (b'{"ac":[],"now":null}', "non-numeric 'now'"),
        (b'{"ac":[],"now":1785336058500000}', "impossible 'now'"),
        (b'{"ac":[],"now":-5}', "impossible 'now'"),
        (b'{"ac":[{"flight":"X"},7],"now":1785336058500}', "none has a text 'hex'"),
    ],
)
def test_an_unreadable_reply_is_source_unavailable_with_a_one_line_reason(body, reason):
    with pytest.raises(SourceUnavailable) as caught:
        parse_reply(body, source="adsb.fi")
    message = str(caught.value)
    assert message.startswith("adsb.fi ") and reason in message and "\n" not in message


def test_a_byte_order_mark_is_skipped():
    assert decode_reply(b'\xef\xbb\xbf{"ac":[],"now":1785336058500}') == {"ac": [], "now": 1785336058500}


def test_a_truncated_real_reply_is_refused():
    body = _raw_bytes()
    with pytest.raises(SourceUnavailable, match="truncated JSON"):
        decode_reply(body[: len(body) // 2], "adsb.lol")


def test_an_html_error_page_is_named_by_its_title():
    with pytest.raises(SourceUnavailable, match=r"HTML page, not JSON: 502 Bad Gateway$"):
        decode_reply(b"<html><title>502 Bad\n Gateway</title><body>...</body></html>", "adsb.lol")
