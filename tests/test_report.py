"""``vzmon demo``, ``vzmon report`` and ``vzmon export`` end to end: files, charts, HTML in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pyarrow.parquet as pq
import pytest

from monitor.cli import EXIT_OK, EXIT_USAGE, main
from monitor.report.charts.registry import CHARTS

# the charts of a report on collected data (the military chart is drawn for archive data only)
COLLECTED_CHARTS = tuple(c for c in CHARTS if c.stem != "military")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_CHROMIUM = os.environ.get("CI_REQUIRE_CHROMIUM") == "1"  # .ci/run sets it: never skip there


def _report_dir(demo: Path) -> Path:
    return demo / "demo" / "reports" / "trump-post-airspace-closed"


def test_demo_fills_its_own_store_marked_simulated(demo):
    import sqlite3

    db = demo / "demo" / "demo.sqlite"
    with sqlite3.connect(db) as conn:
        sources = conn.execute("SELECT DISTINCT source, simulated FROM snapshots").fetchall()
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM snapshots GROUP BY status").fetchall())
    assert sources == [("demo", 1)]
    assert statuses["ok"] > 1500 and statuses["rate_limited"] > 0 and statuses["error"] > 0
    assert not (demo / "monitor.sqlite").exists()  # the real store is never touched


def test_demo_report_files_are_written_and_marked_simulated(demo):
    out = _report_dir(demo)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "SIMULATED DATA" in md and "## Verdict" in md and "## Method" in md
    assert "Traffic data: simulated by vzmon demo" in md  # never credited to OpenSky as if real
    assert "trump-post-airspace-closed" in md and "UTC" in md
    metrics = pd.read_csv(out / "metrics.csv")
    assert {"measure", "zone", "flight_class", "change_pct", "ci95_low_pct", "ci95_high_pct"} <= set(metrics.columns)
    assert set(metrics["zone"]) >= {"SVZM", "ring:TTZP"}


@pytest.mark.parametrize(
    ("name", "min_w", "min_h"),
    [
        ("timeseries", 1400, 900),
        ("changes", 1400, 600),
        ("maps", 1600, 800),
        ("coverage", 1100, 1100),
        ("heatmap", 1200, 450),
        ("airlines", 1200, 450),
    ],
)
def test_charts_render_to_images_of_the_expected_size(demo, name, min_w, min_h):
    png = _report_dir(demo) / f"{name}.png"
    height, width = mpimg.imread(png).shape[:2]
    assert width >= min_w and height >= min_h, (width, height)
    svg = (_report_dir(demo) / f"{name}.svg").read_text(encoding="utf-8")
    assert "simulated by vzmon demo, in the format of The OpenSky Network" in svg and "SIMULATED DATA" in svg
    assert "UTC" in svg or name in ("changes", "airlines", "maps")


def test_report_html_is_self_contained(demo):
    html = (_report_dir(demo) / "report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == len(COLLECTED_CHARTS)
    assert 'src="http' not in html and "<link" not in html and "<script" not in html


@pytest.mark.skipif(CHROMIUM is None and not REQUIRE_CHROMIUM, reason="Chromium not installed (CI installs it)")
def test_report_html_loads_in_headless_chromium_without_errors(demo):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "CI_REQUIRE_CHROMIUM=1 but no chromium on PATH"
    page_path = _report_dir(demo) / "report.html"
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
    ]
    errors: list[str] = []
    failed: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(page_path.as_uri(), wait_until="load")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
        title = page.title()
        browser.close()
    assert errors == [] and failed == []
    assert len(images) == len(COLLECTED_CHARTS)
    assert all(done and width > 0 for done, width, _ in images), images
    assert "trump-post-airspace-closed" in title


def test_report_command_prints_headline_numbers(demo_env, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_OK
    text = capsys.readouterr().out
    assert "airborne" in text and "overflight" in text and "95% CI" in text
    assert f"report: {out / 'report.html'}" in text
    assert (out / "report.html").is_file() and (out / "timeseries.svg").is_file()


@pytest.mark.parametrize(
    ("source", "credit", "seen_by"),
    [
        ("opensky", "The OpenSky Network (https://opensky-network.org)", "OpenSky"),
        ("adsblol", "adsb.lol (https://adsb.lol), under the ODbL 1.0", "adsb.lol"),
        ("adsbfi", "adsb.fi (https://adsb.fi)", "adsb.fi"),
    ],
)
def test_a_report_on_real_data_credits_the_source_it_read_and_no_other(
    demo, monkeypatch, tmp_path, capsys, source, credit, seen_by
):
    db = tmp_path / "real.sqlite"
    shutil.copyfile(demo / "demo" / "demo.sqlite", db)
    with sqlite3.connect(db) as conn:  # the same rows as if collected: only the provenance differs
        conn.execute("UPDATE snapshots SET simulated = 0, source = ?", (source,))
    monkeypatch.setenv("VZMON_OUTPUTS", str(demo))
    monkeypatch.setenv("VZMON_DB", str(db))
    out = tmp_path / "rep"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_OK
    capsys.readouterr()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "SIMULATED" not in md and f"Traffic data: {credit}" in md and f"visible to {seen_by}" in md
    others = {"opensky": "OpenSky Network", "adsblol": "adsb.lol", "adsbfi": "adsb.fi"}
    assert not any(name in md for key, name in others.items() if key != source)
    for name in (chart.stem for chart in COLLECTED_CHARTS):
        svg = (out / f"{name}.svg").read_text(encoding="utf-8")
        assert f"Data: {credit}" in svg and "SIMULATED" not in svg, name


def test_report_with_explicit_range_lists_confounders(demo_env, tmp_path, capsys):
    out = tmp_path / "rep"
    args = [
        "report",
        "--event",
        "trump-post-airspace-closed",
        "--from",
        "2025-11-15T00:00Z",
        "--to",
        "2025-12-06T00:00Z",
        "--out",
        str(out),
    ]
    assert main(args) == EXIT_OK
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "possible confounders" in md and "inac-revokes-six" in md
    assert "| before | 2025-11-15 00:00 | 2025-11-29 12:00 |" in md


def test_report_against_a_long_baseline_compares_week_by_week(demo_env, tmp_path, capsys):
    out = tmp_path / "weeks"
    args = ["report", "--event", "trump-post-airspace-closed", "--baseline-weeks", "3", "--out", str(out)]
    assert main(args) == EXIT_OK
    text = capsys.readouterr().out
    assert "matched on hour of the week over 3 baseline week(s)" in text
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| before | 2025-11-08 12:00 | 2025-11-29 12:00 |" in md  # three weeks, not cut at earlier events
    assert "Long baseline: the before window is the 3 weeks before the event" in md
    metrics = pd.read_csv(out / "metrics.csv")
    svzm = metrics[(metrics["measure"] == "airborne") & (metrics["zone"] == "SVZM")].iloc[0]
    assert svzm["interval"].startswith("weeks as units (3 baseline weeks)") and svzm["change_pct"] < -30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--event", "no-such-event"], "no event 'no-such-event'"),
        (["report", "--event", "trump-post-airspace-closed", "--from", "2025-12-01T00:00Z"], "--from"),
        (["report", "--event", "trump-post-airspace-closed", "--baseline-weeks", "1"], "0 (off) or 2 to 52"),
        (["report", "--event", "trump-post-airspace-closed", "--baseline-weeks", "53"], "0 (off) or 2 to 52"),
        (
            ["report", "--event", "trump-post-airspace-closed", "--baseline-weeks", "3", "--from", "2025-11-01"],
            "--from and --baseline-weeks both set the before window",
        ),
    ],
)
def test_report_usage_errors_exit_2(demo_env, capsys, args, message):
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_report_without_a_store_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_DB", str(tmp_path / "none.sqlite"))
    assert main(["report", "--event", "trump-post-airspace-closed"]) == EXIT_USAGE
    assert "vzmon collect" in capsys.readouterr().err


def test_time_without_zone_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["report", "--event", "x", "--from", "2025-11-15T10:00"])
    assert info.value.code == EXIT_USAGE
    assert "has no time zone" in capsys.readouterr().err


def test_export_positions_as_parquet_partitioned_by_utc_date(demo_env, tmp_path, capsys):
    out = tmp_path / "positions"
    args = [
        "export",
        "positions",
        "--format",
        "parquet",
        "--from",
        "2025-11-28",
        "--to",
        "2025-11-30",
        "--out",
        str(out),
    ]
    assert main(args) == EXIT_OK
    parts = sorted(p.parent.name for p in out.rglob("*.parquet"))
    assert parts == ["date=2025-11-28", "date=2025-11-29"]
    table = pq.read_table(out)
    assert table.num_rows > 1000 and "zone" in table.column_names and "time" in table.column_names
    assert str(table.schema.field("time").type) == "timestamp[ms, tz=UTC]"  # Parquet's coarsest unit is ms
    assert "exported" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["counts", "polls", "hourly"])
def test_export_tables_as_csv(demo_env, tmp_path, what):
    out = tmp_path / f"{what}.csv"
    assert main(["export", what, "--from", "2025-12-01", "--to", "2025-12-03", "--out", str(out)]) == EXIT_OK
    df = pd.read_csv(out)
    assert len(df) > 0
    if what == "polls":
        assert {"ok", "rate_limited"} <= set(df["status"])  # 2 Dec 04-09 UTC is a simulated gap
        assert df["requested_at"].str.endswith("Z").all()
    if what == "hourly":
        gap = df[df["hour"].str.startswith("2025-12-02T05")]
        assert gap["coverage"].iloc[0] == 0 and pd.isna(gap["airborne_SVZM"].iloc[0])


def test_events_json(capsys):
    assert main(["events", "--json"]) == EXIT_OK
    events = json.loads(capsys.readouterr().out)
    assert any(e["id"] == "trump-post-airspace-closed" and e["window"] for e in events)
