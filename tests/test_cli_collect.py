"""``vzmon collect``, ``status`` and ``plan`` through ``main([...])``: output lines and exit codes."""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import quote, quote_plus, urlencode

import pytest

from monitor.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE, main
from monitor.pipeline.watch import watch
from tests.conftest import with_credentials
from tests.fake_opensky import Fault


def _snapshots(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, http_status, retry_at, error FROM snapshots ORDER BY id").fetchall()


def test_collect_stores_a_snapshot_and_prints_one_line(opensky_env, capsys):
    assert main(["collect"]) == EXIT_OK
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    line = out[0]
    assert line.endswith("credits left 397")
    assert " · ok · SVZM 20 airborne/2 on ground · ring:SKED 4/0 · ring:TNCF 3/1 · ring:TJZS 2/0" in line
    assert line[:20].endswith("Z")
    assert _snapshots(opensky_env) == [("ok", 200, None, None)]


def test_collect_json_prints_the_same_as_json(opensky_env, capsys):
    assert main(["collect", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "ok" and doc["credits_remaining"] == 397 and doc["credits_charged"] == 3
    assert doc["zones"]["SVZM"] == {"airborne": 20, "on_ground": 2, "stale": 1}
    assert doc["api_time"].endswith("Z")


def test_collect_dry_run_stores_nothing(opensky_env, capsys):
    assert main(["collect", "--dry-run"]) == EXIT_OK
    assert "dry run" in capsys.readouterr().out
    assert _snapshots(opensky_env) == []


def test_collect_logs_go_to_stderr_with_one_summary_line(opensky_env, capsys):
    main(["collect"])
    err = capsys.readouterr().err
    summaries = [line for line in err.splitlines() if "INFO monitor.pipeline.collect: poll ok" in line]
    assert len(summaries) == 1 and "SVZM 20+2" in summaries[0]


def test_collect_exits_75_when_rate_limited_and_records_the_retry_after(opensky_env, fake_opensky, capsys):
    fake_opensky.credits["anonymous"] = 1
    fake_opensky.retry_after_s = 22688
    assert main(["collect"]) == EXIT_TEMPFAIL
    captured = capsys.readouterr()
    assert "rate_limited" in captured.out and "next poll allowed" in captured.out
    assert "vzmon collect: error: OpenSky credits exhausted (HTTP 429)" in captured.err
    assert "Traceback" not in captured.err
    ((status, http, retry_at, _),) = _snapshots(opensky_env)
    assert (status, http) == ("rate_limited", 429) and retry_at is not None


def test_collect_after_a_429_does_not_call_the_server_until_retry_after(opensky_env, fake_opensky, capsys):
    fake_opensky.credits["anonymous"] = 1
    main(["collect"])
    calls = len(fake_opensky.requests)
    fake_opensky.credits["anonymous"] = 400  # even with credits back, we wait for the recorded time
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert len(fake_opensky.requests) == calls
    statuses = [s[0] for s in _snapshots(opensky_env)]
    assert statuses == ["rate_limited", "skipped"]
    assert "skipped" in capsys.readouterr().out


@pytest.mark.parametrize("status", [500, 503])
def test_collect_exits_75_on_persistent_5xx_and_records_a_gap(opensky_env, fake_opensky, capsys, status):
    fake_opensky.faults.extend([Fault(status=status, body="down")] * 4)
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "no data (a gap, not a zero)" in capsys.readouterr().out
    (row,) = _snapshots(opensky_env)
    assert row[0] == "error" and row[1] == status
    with sqlite3.connect(opensky_env) as conn:
        assert conn.execute("SELECT COUNT(*) FROM zone_counts").fetchone()[0] == 0


def test_collect_exits_75_when_the_network_is_down(opensky_env, monkeypatch, capsys):
    monkeypatch.setenv("OPENSKY_API_URL", "http://127.0.0.1:9/api")  # discard port: nothing listens
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "connection failed" in capsys.readouterr().err
    assert _snapshots(opensky_env)[0][0] == "error"


def test_collect_exits_2_when_credentials_are_rejected(opensky_env, monkeypatch, capsys):
    with_credentials(monkeypatch, secret="not-the-secret")
    assert main(["collect"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "OPENSKY_CLIENT_ID" in err and "not-the-secret" not in err


def test_collect_with_credentials_never_logs_secret_or_token(opensky_env, fake_opensky, monkeypatch, capsys):
    with_credentials(monkeypatch)
    assert main(["--debug", "collect"]) == EXIT_OK
    captured = capsys.readouterr()
    text = captured.out + captured.err
    token = next(iter(fake_opensky.tokens))
    assert "s3cret-value" not in text and token not in text
    assert "credits left 3997" in captured.out


def test_collect_exits_2_on_a_bad_settings_file_naming_the_key(opensky_env, tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[opensky]\nretries = 'many'\n")
    monkeypatch.setenv("VZMON_CONFIG", str(cfg))
    assert main(["collect"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "opensky.retries" in err and "Traceback" not in err


def test_collect_exits_73_when_another_run_holds_the_lock(opensky_env, fake_opensky, capsys):
    from monitor.pipeline.locking import store_lock
    from monitor.settings.load import load_settings

    with store_lock(load_settings()):
        assert main(["collect"]) == EXIT_LOCKED
    err = capsys.readouterr().err
    assert "another vzmon run holds the lock" in err
    assert fake_opensky.requests == []  # nothing was fetched


def test_collect_exits_1_when_the_store_is_unwritable(opensky_env, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("VZMON_DB", str(blocker / "monitor.sqlite"))
    assert main(["collect"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert "VZMON_DB" in err and err.count("\n") == 0


def test_unexpected_error_is_one_line_without_debug_and_a_traceback_with_it(opensky_env, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("bug in a step")

    import monitor.pipeline.collect

    monkeypatch.setattr(monitor.pipeline.collect, "collect_once", boom)
    assert main(["collect"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: bug in a step" in err and "--debug" in err and "Traceback" not in err
    assert main(["--debug", "collect"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: bug in a step" in err


@pytest.mark.parametrize(
    "argv", [["nonsense"], ["collect", "--bogus"], ["watch", "--interval", "0"], ["watch", "--max-polls", "0"], []]
)
def test_usage_mistakes_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == EXIT_USAGE
    assert "usage: vzmon" in capsys.readouterr().err


def test_status_after_collect_shows_age_counts_and_credits(opensky_env, capsys):
    main(["collect"])
    capsys.readouterr()
    assert main(["status", "--check"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "last data" in out and "age" in out
    assert "SVZM" in out and "credits left         397" in out
    assert "not rate-limited" in out and "integrity check      ok" in out


def test_status_json_reports_rate_limit_state(opensky_env, fake_opensky, capsys):
    fake_opensky.credits["anonymous"] = 0
    main(["collect"])
    capsys.readouterr()
    assert main(["status", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["rate_limited_until"] is not None
    assert doc["next_poll_allowed"] == doc["rate_limited_until"]
    assert doc["last_ok"]["api_time"] is None


def test_plan_lists_cost_and_intervals_per_account(opensky_env, capsys):
    assert main(["plan"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "3 credits per /states/all call" in out
    assert "anonymous           400        120              720 s" in out
    assert "standard          4,000      1,200               72 s" in out
    assert "feeder            8,000      2,400               36 s" in out


def test_plan_json(opensky_env, capsys):
    assert main(["plan", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["credits_per_poll"] == 3
    assert [a["account"] for a in doc["accounts"]] == ["anonymous", "standard", "feeder"]


def test_plan_gives_the_circles_and_what_each_source_costs_a_day(opensky_env, monkeypatch, capsys):
    from geo.circles import covering_circles, describe_circle
    from monitor.pipeline.shared import zone_set_for
    from monitor.settings.load import load_settings
    from monitor.sources.readsb.client import PACING_MARGIN_S

    monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol")
    circles = [describe_circle(c) for c in covering_circles(zone_set_for(load_settings()))]
    assert main(["plan", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["every_s"] == 300 and doc["opensky_credits_per_day"] == 288 * 3
    lol, fi = doc["readsb"]
    assert (lol["source"], lol["configured"], fi["source"], fi["configured"]) == ("adsblol", True, "adsbfi", False)
    assert lol["circles"] == fi["circles"] == circles
    assert lol["sweep_s"] == pytest.approx((4 + PACING_MARGIN_S) * (len(circles) - 1))
    assert fi["sweep_s"] == pytest.approx((1 + PACING_MARGIN_S) * (len(circles) - 1))
    assert lol["requests_per_day"] == 288 * len(circles) and doc["warning"] is None
    assert main(["plan", "--every", "20"]) == EXIT_OK  # a sweep of adsb.lol cannot fit in 20 s
    out = capsys.readouterr().out
    assert f"at least {(4 + PACING_MARGIN_S) * (len(circles) - 1):g} s, not less than the 20 s between polls" in out
    assert circles[0] in out


# -- what a review found: each of these failed before its fix


def test_an_answer_that_breaks_off_is_a_gap_exit_75(opensky_env, fake_opensky, capsys):
    fake_opensky.faults.extend([Fault(body='{"time": 1764424800, "states": []}' * 50, truncate=True)] * 4)
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "answer broke off after 4 attempts" in capsys.readouterr().err
    assert _snapshots(opensky_env)[0][0] == "error"


def test_a_server_that_drips_its_answer_is_given_up_at_the_poll_budget(opensky_env, fake_opensky, monkeypatch, capsys):
    """200 bytes, one every 0.3 s: a minute of dripping, each byte well inside the read timeout.
    Had the drip run to its end, the answer would be refused as malformed, not timed out."""
    monkeypatch.setenv("VZMON_OPENSKY_MAX_POLL_S", "5")
    fake_opensky.faults.append(Fault(body="x" * 200, drip_s=0.3))
    assert main(["collect"]) == EXIT_TEMPFAIL
    err = capsys.readouterr().err
    assert "timed out" in err and "malformed" not in err


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda rows: [[*r[:12], [], *r[13:]] for r in rows], "ok"),  # sensors [] everywhere
        (lambda rows: [[*r[:12], 0, *r[13:]] for r in rows], "ok"),  # sensors 0 everywhere
        (lambda rows: [[*r[:4], None, *r[5:]] if i == 0 else r for i, r in enumerate(rows)], "ok"),  # last_contact
        (lambda rows: [[*r[:4], 1e20, *r[5:]] for r in rows], "ok"),  # absurd last_contact
    ],
)
def test_odd_values_in_a_reply_are_read_not_fatal(opensky_env, fake_opensky, states_payload, capsys, change, status):
    live = fake_opensky.states_reply({}, authenticated=False)[1]  # the fixture as it would be served now
    doc = {"time": live["time"], "states": change(live["states"])}
    fake_opensky.faults.append(Fault(doc=doc))
    assert main(["collect"]) == EXIT_OK
    assert _snapshots(opensky_env)[0][0] == status


def test_an_impossible_reply_time_is_a_gap_not_a_crash(opensky_env, fake_opensky, capsys):
    fake_opensky.faults.append(Fault(doc={"time": 1e20, "states": fake_opensky.doc["states"]}))
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "impossible time" in capsys.readouterr().err
    assert _snapshots(opensky_env)[0][:2] == ("error", 200)  # the answer came (and cost its credits)


@pytest.mark.parametrize("header", ["inf", "1e15", "-30", "soon"])
def test_an_unusable_retry_after_header_still_blocks_the_next_runs(opensky_env, fake_opensky, capsys, header):
    fake_opensky.faults.append(
        Fault(status=429, body="Too many requests", headers={"X-Rate-Limit-Retry-After-Seconds": header})
    )
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "(300 s)" in capsys.readouterr().err
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert [s[0] for s in _snapshots(opensky_env)] == ["rate_limited", "skipped"]
    assert len(fake_opensky.states_requests()) == 1


def test_a_429_met_by_a_dry_run_is_recorded_and_honoured(opensky_env, fake_opensky, capsys):
    fake_opensky.credits["anonymous"] = 0
    assert main(["collect", "--dry-run"]) == EXIT_TEMPFAIL
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert [s[0] for s in _snapshots(opensky_env)] == ["rate_limited", "skipped"]
    assert len(fake_opensky.states_requests()) == 1


def test_an_anonymous_rate_limit_does_not_block_an_api_client(opensky_env, fake_opensky, monkeypatch, capsys):
    fake_opensky.credits["anonymous"] = 0
    fake_opensky.retry_after_s = 60_000
    assert main(["collect"]) == EXIT_TEMPFAIL
    with_credentials(monkeypatch)
    assert main(["collect"]) == EXIT_OK  # separate budgets: the client's credits are untouched
    assert [s[0] for s in _snapshots(opensky_env)] == ["rate_limited", "ok"]


def test_plan_without_credentials_is_anonymous_whatever_the_account_says(opensky_env, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_OPENSKY_ACCOUNT", "feeder")
    monkeypatch.setenv("VZMON_OPENSKY_DAILY_CREDITS", "2")
    assert main(["plan", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)  # valid JSON: no Infinity
    assert doc["account_in_force"] == "anonymous"
    assert {a["account"]: a["min_interval_s"] for a in doc["accounts"]}["configured"] is None
    assert "no API client credentials" in doc["warning"] and "less than one poll costs" in doc["warning"]


def test_a_bad_secret_value_is_never_echoed(monkeypatch, capsys):
    monkeypatch.setenv("VZMON_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/SUPERSECRETTOKEN")
    assert main(["status"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "VZMON_WEBHOOK_URL" in err and "SUPERSECRETTOKEN" not in err


def test_a_stop_during_a_retry_backoff_ends_watch_at_once(opensky_env, fake_opensky, monkeypatch):
    import threading

    from monitor.settings.load import load_settings

    monkeypatch.setenv("VZMON_OPENSKY_BACKOFF_S", "30")
    faults = [Fault(status=503, body="down") for _ in range(4)]
    fake_opensky.faults.extend(faults)
    stop = threading.Event()
    threading.Thread(target=lambda: faults[0].reached.wait(60) and stop.set(), daemon=True).start()
    polls = watch(load_settings(), lambda result: None, stop=stop)
    assert polls == 1
    assert len(fake_opensky.states_requests()) == 1  # no retry after 30, 60, 120 s of backoff: stopped during it
    assert _snapshots(opensky_env)[0][0] == "error"


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["alerts"],
        ["alerts", "send"],
        ["report", "--event", "trump-post-airspace-closed"],
        ["export", "counts"],
        ["export", "positions", "--format", "parquet"],
    ],
)
def test_read_only_commands_never_create_a_store(tmp_path, monkeypatch, capsys, argv):
    typo = tmp_path / "outptus" / "monitor.sqlite"
    monkeypatch.setenv("VZMON_DB", str(typo))
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert f"no store at {typo}" in err and "vzmon collect" in err and err.count("\n") == 0
    assert not typo.parent.exists()


def test_events_never_touches_a_store(tmp_path, monkeypatch):
    monkeypatch.setenv("VZMON_DB", str(tmp_path / "none" / "monitor.sqlite"))
    assert main(["events"]) == EXIT_OK
    assert not (tmp_path / "none").exists()


def test_collect_refuses_another_applications_database_exit_2(opensky_env, fake_opensky, tmp_path, capsys):
    other = opensky_env.parent / "other.sqlite"
    other.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.close()
    before = other.read_bytes()
    assert main(["--db", str(other), "collect"]) == EXIT_USAGE
    assert "not a vzmon store" in capsys.readouterr().err
    assert other.read_bytes() == before and not other.with_name("other.sqlite-wal").exists()


def test_two_paths_to_one_store_share_one_lock(opensky_env, fake_opensky, tmp_path, monkeypatch, capsys):
    """A symlink to the store is the same store: a run through it must wait for the lock too."""
    assert main(["collect"]) == EXIT_OK
    link = tmp_path / "link.sqlite"
    link.symlink_to(opensky_env)
    from monitor.pipeline.locking import store_lock
    from monitor.settings.load import load_settings

    with store_lock(load_settings()):
        monkeypatch.setenv("VZMON_DB", str(link))
        assert main(["collect"]) == EXIT_LOCKED
    assert "another vzmon run holds the lock" in capsys.readouterr().err
    assert len(_snapshots(opensky_env)) == 1


def test_collect_on_a_full_disk_says_so_and_loses_nothing(opensky_env, fake_opensky, small_disk, monkeypatch, capsys):
    db = small_disk / "monitor.sqlite"
    monkeypatch.setenv("VZMON_DB", str(db))
    monkeypatch.setenv("VZMON_ALERTS_ENABLED", "false")
    assert main(["collect"]) == EXIT_OK
    filler = small_disk.fill()
    codes = [main(["collect"]) for _ in range(4)]  # the WAL may still take a poll or two
    assert codes[-1] == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"no space left on the disk holding {db}" in err and "VZMON_DB" in err and "rollback" not in err
    filler.unlink()
    kept = _snapshots(db)
    assert len(kept) == 1 + codes.count(EXIT_OK) and kept[0][0] == "ok"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("offset_s", "why"),
    [
        (200 * 365 * 86400, "ahead of this machine's clock"),
        (-3 * 365 * 86400, "older than this machine's clock"),
        (-7200, "older than"),
    ],
)
def test_a_reply_time_that_cannot_be_now_is_a_recorded_gap(opensky_env, fake_opensky, capsys, offset_s, why):
    live = fake_opensky.states_reply({}, authenticated=False)[1]
    fake_opensky.faults.append(Fault(doc={"time": live["time"] + offset_s, "states": live["states"]}))
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert why in capsys.readouterr().err
    status, http, _, error = _snapshots(opensky_env)[0]
    assert (status, http) == ("error", 200) and why in error
    assert main(["status", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["last_ok"]["api_time"] is None  # never "age 0 s"


def test_a_huge_credits_header_does_not_cost_the_poll(opensky_env, fake_opensky, capsys):
    live = fake_opensky.states_reply({}, authenticated=False)[1]
    fake_opensky.faults.append(Fault(doc=live, headers={"X-Rate-Limit-Remaining": str(2**63)}))
    assert main(["collect"]) == EXIT_OK
    with sqlite3.connect(opensky_env) as conn:
        assert conn.execute("SELECT status, credits_remaining FROM snapshots").fetchall() == [("ok", None)]


@pytest.mark.parametrize("variable", ["OPENSKY_API_URL", "OPENSKY_TOKEN_URL", "VZMON_WEBHOOK_URL"])
@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/api",
        "https://",
        "http://host:99999/api",
        "http://exa mple.org/api",
        "http://a..b/api",
        "http://ex_ample..com:8080/api",
        "http://%zz/api",
        f"http://{'a' * 64}.com/api",
    ],
)
def test_a_malformed_url_is_a_config_error_naming_the_setting(monkeypatch, capsys, variable, url):
    monkeypatch.setenv(variable, url)
    assert main(["plan"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert variable in err and err.count("\n") == 0
    if variable == "VZMON_WEBHOOK_URL":
        assert url not in err  # a secret is never echoed


SECRET = "s3cr3t/v@lue+&=ñ"


@pytest.mark.parametrize(
    "echo",
    [
        lambda s: f"bad request: client_secret={s}",
        lambda s: f"bad request: {urlencode({'grant_type': 'client_credentials', 'client_secret': s})}",
        lambda s: f'{{"error": "invalid", "request": {{"client_secret": {json.dumps(s)}}}}}',
        lambda s: f"<html><body>client_secret={quote(s, safe='')}</body></html>",
    ],
    ids=["raw", "form-encoded", "json", "url-encoded"],
)
@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_a_server_echoing_the_secret_never_gets_it_printed_stored_or_exported(
    opensky_env, fake_opensky, monkeypatch, capsys, tmp_path, echo, debug
):
    with_credentials(monkeypatch, secret=SECRET)
    monkeypatch.setenv("VZMON_OPENSKY_RETRIES", "0")
    fake_opensky.token_faults.append(Fault(status=500, body=echo(SECRET), content_type="text/plain"))
    assert main([*debug, "collect"]) == EXIT_TEMPFAIL
    out = tmp_path / "polls.csv"
    assert main([*debug, "export", "polls", "--out", str(out)]) == EXIT_OK
    assert main([*debug, "status"]) == EXIT_OK
    captured = capsys.readouterr()
    stored = "\n".join(str(row) for row in _snapshots(opensky_env))
    everything = captured.out + captured.err + stored + out.read_text(encoding="utf-8")
    assert "<redacted>" in stored
    for form in (SECRET, quote(SECRET, safe=""), quote_plus(SECRET), json.dumps(SECRET)[1:-1]):
        assert form not in everything, form


def test_a_retry_after_of_digits_that_are_not_ascii_is_a_gap_not_a_crash(opensky_env, fake_opensky, capsys):
    fake_opensky.faults.extend([Fault(status=503, body="down", headers={"Retry-After": "²"})] * 5)
    assert main(["collect"]) == EXIT_TEMPFAIL
    assert "unexpected" not in capsys.readouterr().err
    assert _snapshots(opensky_env)[0][:2] == ("error", 503)


def test_a_secret_echoed_in_a_long_error_body_is_redacted_before_the_body_is_cut(
    opensky_env, fake_opensky, monkeypatch, capsys
):
    secret = "Zq8vT3kLmN0pRs2uWy4Ab6Cd8Ef0Gh2J"
    with_credentials(monkeypatch, secret=secret)
    monkeypatch.setenv("VZMON_OPENSKY_RETRIES", "0")
    fake_opensky.token_faults.append(
        Fault(status=502, body="x" * 100 + f"&client_secret={secret}", content_type="text/plain")
    )
    assert main(["collect"]) == EXIT_TEMPFAIL
    printed = capsys.readouterr().err + "\n".join(str(r) for r in _snapshots(opensky_env))
    for n in range(8, len(secret) + 1):  # not even a piece of it
        assert secret[:n] not in printed


def test_no_lock_file_is_left_beside_another_applications_database(opensky_env, fake_opensky, capsys):
    other = opensky_env.parent / "other.sqlite"
    other.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA application_id = 1234")  # another application's id, no table yet
    conn.close()
    assert main(["--db", str(other), "collect"]) == EXIT_USAGE
    assert "not a vzmon store" in capsys.readouterr().err
    assert sorted(p.name for p in other.parent.iterdir()) == ["other.sqlite"]


def test_status_reads_whatever_single_source_the_store_holds(demo_env, capsys):
    """With one source configured, status shows the store's own polls even when their source is
    another one (a demo store's are "demo"'s)."""
    assert main(["status", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["last_ok"]["api_time"] is not None and doc["last_poll"]["status"] is not None
