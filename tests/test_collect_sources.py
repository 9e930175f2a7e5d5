"""`vzmon collect` with OpenSky, adsb.lol and adsb.fi configured, against loopback servers: each
source's snapshot stored apart, one line each; one source's 429 never stops the others and its
cooldown is honoured by the next runs; `vzmon sources` and `vzmon status` show each source."""

from __future__ import annotations

import json
import sqlite3
from itertools import pairwise

import pytest

from geo.circles import covering_circles
from monitor.cli import EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE, main
from monitor.pipeline.collect import collect_once
from monitor.settings.load import load_settings
from tests.fake_opensky import Fault
from tests.fake_readsb import FakeReadsb, sky_aircraft

pytestmark = pytest.mark.slow  # `vzmon collect` keeps adsb.lol's real 4 s between requests

SKY_LOL = [sky_aircraft("0d0001", 10.6, -66.9), sky_aircraft("0d0002", 8.0, -63.0), sky_aircraft("0d0003", 8.1, -63.1)]
SKY_FI = [sky_aircraft("0d0001", 10.6, -66.9)]


@pytest.fixture
def three(opensky_env, monkeypatch):
    with FakeReadsb(SKY_LOL) as lol, FakeReadsb(SKY_FI, prefix="/api") as fi:
        monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol,adsbfi")
        monkeypatch.setenv("VZMON_ZONES_RING_NM", "0")  # the FIR alone: 4 circles, so `main` sweeps in 12 s
        monkeypatch.setenv("VZMON_ADSBLOL_API_URL", lol.url)
        monkeypatch.setenv("VZMON_ADSBFI_API_URL", fi.url)
        yield opensky_env, lol, fi


def _sources(db) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT s.source, s.status, COALESCE(z.airborne, -1) FROM snapshots s "
            "LEFT JOIN zone_counts z ON z.snapshot_id = s.id AND z.zone = 'SVZM' ORDER BY s.id"
        ).fetchall()


def test_each_source_is_polled_and_stored_apart(three):
    db, lol, fi = three
    results = collect_once(load_settings(), sleep=lambda s: None)
    assert [(r.source, r.status) for r in results] == [("opensky", "ok"), ("adsblol", "ok"), ("adsbfi", "ok")]
    stored = _sources(db)
    assert [(s, st) for s, st, _ in stored] == [("opensky", "ok"), ("adsblol", "ok"), ("adsbfi", "ok")]
    assert stored[1][2] == 3 and stored[2][2] == 1  # each network's own count of SVZM
    circles = len(covering_circles(load_settings_zone_set()))
    assert len(lol.seen) == len(fi.seen) == circles


def load_settings_zone_set():
    from monitor.pipeline.shared import zone_set_for

    return zone_set_for(load_settings())


def test_one_sources_429_never_stops_the_others_and_its_cooldown_holds(three, capsys):
    db, lol, _ = three
    lol.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain"))
    assert main(["collect"]) == EXIT_TEMPFAIL
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert [line.split(" · ")[0] for line in lines] == ["opensky", "adsblol", "adsbfi"]
    assert "rate_limited" in lines[1] and "adsb.lol answered HTTP 429" in out.err
    asked = len(lol.seen)
    assert main(["collect"]) == EXIT_TEMPFAIL  # the next run skips adsb.lol without asking it
    assert len(lol.seen) == asked and "skipped" in capsys.readouterr().out.splitlines()[1]
    statuses = [(s, st) for s, st, _ in _sources(db)]
    opensky = [st for s, st in statuses if s == "opensky"]  # OpenSky's 10 s clock may repeat its time
    assert len(opensky) == 2 and set(opensky) <= {"ok", "duplicate"} and statuses.count(("adsbfi", "ok")) == 2
    assert ("adsblol", "rate_limited") in statuses and ("adsblol", "skipped") in statuses


def test_the_exit_code_is_the_most_serious_failures(three, fake_opensky, monkeypatch, capsys):
    _, lol, _ = three
    monkeypatch.setenv("VZMON_SOURCES", "adsblol,opensky")
    lol.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain"))
    fake_opensky.faults.append(Fault(status=401, body=""))  # anonymous and refused: settings to fix
    assert main(["collect"]) == EXIT_USAGE  # adsb.lol's wait (75) does not hide what the user must fix (2)
    assert [line.split(" · ")[0] for line in capsys.readouterr().out.splitlines()] == ["adsblol", "opensky"]


def test_an_unknown_source_is_a_usage_error(opensky_env, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_SOURCES", "opensky,flightradar")
    assert main(["collect"]) == EXIT_USAGE
    assert "unknown source(s) flightradar; use opensky, adsblol, adsbfi" in capsys.readouterr().err


def test_collect_json_names_each_source(three, capsys):
    assert main(["collect", "--json"]) == EXIT_OK
    assert '"source": "adsbfi"' in capsys.readouterr().out


def test_sources_shows_who_saw_what_after_a_collect(three, capsys):
    db, lol, _ = three
    assert main(["sources"]) == EXIT_USAGE  # before any poll there is no store to read
    assert "no store" in capsys.readouterr().err.lower()
    assert main(["collect"]) == EXIT_OK  # real sleeps: adsb.lol's real spacing
    capsys.readouterr()
    arrivals = [s.at for s in lol.seen]  # on the server's clock, as the service counts them
    assert len(arrivals) > 1 and min(b - a for a, b in pairwise(arrivals)) >= 4.0
    assert main(["sources", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    by = {s["source"]: s for s in doc["sources"]}
    assert list(by) == ["opensky", "adsblol", "adsbfi"] and all(s["configured"] for s in by.values())
    with sqlite3.connect(db) as conn:  # one poll each: every fresh aircraft it counted, airborne or not
        stored = dict(conn.execute(
            "SELECT s.source, z.airborne + z.on_ground FROM snapshots s JOIN zone_counts z ON z.snapshot_id = s.id "
            "WHERE z.zone = 'SVZM'"
        ).fetchall())  # fmt: skip
    assert {s: by[s]["aircraft"]["SVZM"] for s in by} == stored
    assert all(by[s]["statuses_last_24h"] == {"ok": 1} and by[s]["last_ok"]["age_s"] < 600 for s in by)
    assert by["adsblol"]["median_position_age_s"] is not None
    assert all(0 < by[s]["grid_coverage"] <= 2 / 288 for s in by)  # one slot (two if a poll crossed one) of 288
    fir = next(o for o in doc["overlap"] if o["area"] == "SVZM")
    assert fir["seen"]["adsblol"] == 3 and fir["seen"]["adsbfi"] == 1
    assert fir["jaccard"]["adsbfi/adsblol"] == pytest.approx(1 / 3)
    assert fir["seen_by_only"]["adsbfi"] == 0  # adsb.fi's one aircraft adsb.lol saw too
    assert fir["seen_by_any"] >= 3 and fir["seen_by_all"] <= 1
    assert main(["sources", "--hours", "6"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "aircraft in SVZM: seen by any" in text and "adsbfi/adsblol 0.33" in text
    with pytest.raises(SystemExit) as info:
        main(["sources", "--hours", "0"])
    assert info.value.code == EXIT_USAGE
    assert "hours must be more than 0" in capsys.readouterr().err


def test_status_shows_each_source_and_its_cooldown(three, capsys):
    _, lol, _ = three
    lol.faults.append(Fault(status=429, body="Too Many Requests", content_type="text/plain"))
    assert main(["collect"]) == EXIT_TEMPFAIL
    capsys.readouterr()
    assert main(["status", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["view"] == "combined" and list(doc["sources"]) == ["opensky", "adsblol", "adsbfi"]
    each = doc["sources"]
    assert each["adsblol"]["rate_limited_until"] is not None and each["adsblol"]["last_ok"]["api_time"] is None
    assert each["adsblol"]["last_poll"]["status"] == "rate_limited"
    assert all(
        each[s]["last_ok"]["age_s"] < 600 and each[s]["rate_limited_until"] is None for s in ("opensky", "adsbfi")
    )
    assert doc["rate_limited_until"] == each["adsblol"]["rate_limited_until"]
    assert main(["status"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "last data (combined) never" in text  # no slot has ended that all three polled past
    assert "adsblol  data never" in text and "rate_limited  cooldown until" in text
