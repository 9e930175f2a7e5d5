"""Events: the shipped timeline loads in UTC; bad entries are refused with the entry named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import EXIT_OK, EXIT_USAGE, main
from monitor.errors import ConfigError
from monitor.events import KINDS, events_between, find_event, load_events
from tests.conftest import ROOT

SHIPPED = ROOT / "config" / "events.toml"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "events.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """
[[event]]
id = "a"
time = 2025-11-29T10:00:00-04:00
window = [2025-11-29T12:00:00Z, 2025-11-29T14:20:00Z]
kind = "announcement"
title = "A"
source = "https://example.org/a"
"""


def test_shipped_events_include_the_required_ones_at_their_times():
    events = {e.id: e for e in load_events(SHIPPED)}
    t = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert events["faa-kicz-a0012-25-svzm"].time == t(2025, 11, 21, 17, 43)
    assert not events["faa-kicz-a0012-25-svzm"].estimated
    assert events["airlines-cancel-nov22"].time.date().isoformat() == "2025-11-22"
    revokes = events["inac-revokes-six"]
    assert revokes.window is not None and revokes.window[0] == t(2025, 11, 26, 16)
    post = events["trump-post-airspace-closed"]
    assert post.window == (t(2025, 11, 29, 12), t(2025, 11, 29, 14, 20))
    assert events["us-strikes-caracas"].time == t(2026, 1, 3, 6)
    assert events["faa-prohibition-jan03"].time == t(2026, 1, 3, 6)
    assert events["us-reopens-airspace-jan29"].time.date().isoformat() == "2026-01-29"
    assert any(e.kind == "reopening" and e.time > t(2026, 2, 1) for e in events.values())
    assert all(e.kind in KINDS and e.source.startswith("https://") for e in events.values())


def test_offsets_are_converted_to_utc(tmp_path):
    (event,) = load_events(_write(tmp_path, GOOD))
    assert event.time == datetime(2025, 11, 29, 14, 0, tzinfo=UTC)
    assert event.time.tzinfo is UTC
    shipped = find_event(load_events(SHIPPED), "aireuropa-first-arrival")  # written as 21:07-04:00
    assert shipped.time == datetime(2026, 2, 18, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD.replace("2025-11-29T10:00:00-04:00", "2025-11-29T10:00:00"), "has no time zone"),
        (GOOD.replace('kind = "announcement"', 'kind = "rumour"'), "unknown kind 'rumour'"),
        (GOOD + GOOD, "event id 'a' is used twice"),
        (GOOD.replace("2025-11-29T14:20:00Z]", "2025-11-29T13:00:00Z]"), "must contain the time"),
        (GOOD.replace('title = "A"\n', ""), "missing title"),
        (GOOD.replace('source = "https://example.org/a"', 'source = "example.org"'), "source must be an http"),
        (GOOD.replace('id = "a"', 'id = "a"\nwhen = 1'), "unknown field(s) when"),
        ("[[event\n", "not valid TOML"),
    ],
    ids=[
        "no-zone",
        "unknown-kind",
        "duplicate-id",
        "window-misses-time",
        "missing-field",
        "bad-source",
        "unknown-field",
        "not-toml",
    ],
)
def test_bad_entry_is_refused_naming_the_entry(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_events(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "events.toml"
    path.write_bytes(GOOD.replace('title = "A"', 'title = "Caf\xe9"').encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text; save it as UTF-8") as info:
        load_events(path)
    assert str(path) in str(info.value)


def test_unknown_event_id_suggests_similar_ones():
    with pytest.raises(ConfigError, match="did you mean") as info:
        find_event(load_events(SHIPPED), "trump-post")
    assert "trump-post-airspace-closed" in str(info.value)


def test_events_between_uses_windows():
    events = load_events(SHIPPED)
    t = datetime(2025, 11, 29, 13, tzinfo=UTC)
    ids = [e.id for e in events_between(events, t, t.replace(hour=13, minute=30))]
    assert "trump-post-airspace-closed" in ids and "easa-czib-nov29" in ids


def test_vzmon_events_lists_them(monkeypatch, capsys):
    assert main(["events"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "2025-11-29 14:00*  announcement trump-post-airspace-closed" in out
    assert "faa-kicz-a0012-25-svzm" in out


def test_vzmon_events_with_a_bad_file_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_EVENTS_FILE", str(_write(tmp_path, GOOD.replace("-04:00", ""))))
    assert main(["events"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "has no time zone" in err and err.count("\n") == 1


def test_a_misspelt_events_table_is_refused_not_read_as_no_events(tmp_path):
    path = _write(tmp_path, GOOD.replace("[[event]]", "[[events]]"))
    with pytest.raises(ConfigError, match=r"unknown top-level key\(s\) events; each event is an \[\[event\]\] table"):
        load_events(path)


@pytest.mark.parametrize("when", ["9999-11-29T10:00:00Z", "0001-01-01T00:00:00Z", "1969-12-31T23:00:00Z"])
def test_an_event_time_outside_1970_to_2099_is_refused_naming_the_event(tmp_path, when):
    path = _write(tmp_path, GOOD.replace("time = 2025-11-29T10:00:00-04:00", f"time = {when}").replace(
        "window = [2025-11-29T12:00:00Z, 2025-11-29T14:20:00Z]\n", ""
    ))  # fmt: skip
    with pytest.raises(ConfigError, match=r"event 'a': time .* is outside 1970–2099"):
        load_events(path)


def test_an_event_in_year_9999_is_exit_2_for_the_commands_that_read_events(tmp_path, monkeypatch, capsys):
    path = _write(
        tmp_path,
        GOOD.replace("2025-11-29T12:00:00Z, 2025-11-29T14:20:00Z", "9999-01-01T00:00:00Z, 9999-01-02T00:00:00Z"),
    )
    monkeypatch.setenv("VZMON_EVENTS_FILE", str(path))
    assert main(["events"]) == EXIT_USAGE
    assert "outside 1970–2099" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2200-01-01T00:00Z"])
def test_report_dates_outside_1970_to_2099_are_usage_errors(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["report", "--event", "trump-post-airspace-closed", "--from", value])
    assert info.value.code == EXIT_USAGE
    assert "check the year" in capsys.readouterr().err
