"""The report's text: both report files come from one view through jinja2 templates, user text
(event titles, sources, notes) cannot break the Markdown tables or inject HTML, and the method
section is written from the constants the analysis used."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from monitor.analysis.flights import FlightRules
from monitor.analysis.stats import AnalysisRules, Change
from monitor.analysis.windows import Window
from monitor.events import Event
from monitor.report.build import ReportData, write_report
from monitor.report.method import method_paragraphs

T0 = datetime(2025, 11, 29, 14, tzinfo=UTC)
HOSTILE = "Closed | <script>alert(1)</script>\nsecond line"


def _png(path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    fig.savefig(path)
    plt.close(fig)
    return path


def _data(tmp_path: Path, **changes: object) -> ReportData:
    event = Event(id="e1", time=T0, kind="announcement", title=HOSTILE, source="https://example.org/a?b=1&c=<2>")
    before = Window("before", datetime(2025, 11, 22, tzinfo=UTC), T0, notes=("cut | at x",))
    after = Window("after", T0, datetime(2025, 12, 6, tzinfo=UTC), confounders=("other",))
    change = Change(
        measure="airborne", zone="SVZM", flight_class=None, unit="aircraft airborne", before=9.6, after=4.6,
        change=-0.52, ci_low=-0.59, ci_high=-0.44, matched_hours=160, matching="hour of the week",
        days_before=7, days_after=7, status="ok", interval="weekday pairs, Student t, 6 df",
    )  # fmt: skip
    data = ReportData(
        event=event,
        windows=(before, after),
        coverage=(1.0, 0.95),
        changes=(change,),
        verdict="Aircraft airborne in SVZM fell 52% <b>.",
        charts={"Aircraft | airborne": [_png(tmp_path / "timeseries.png")]},
        simulated=False,
        store="/data/monitor.sqlite",
        generated_at=datetime(2026, 11, 30, 3, tzinfo=UTC),
        interval_s=(300.0, 300.0),
        n_positions=12_345,
        n_flights=678,
        rules=AnalysisRules(),
        zone_fingerprint="ab" * 32,
    )
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def _table_rows(md: str, header: str) -> list[str]:
    lines = md.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def _cells(row: str) -> list[str]:
    """Split a GFM table row the way GitHub does: on pipes not escaped with a backslash."""
    cells, cur, i = [], "", 1
    while i < len(row) - 1:
        if row[i] == "\\" and row[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if row[i] == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += row[i]
        i += 1
    cells.append(cur.strip())
    return cells


def test_user_text_cannot_break_markdown_tables(tmp_path):
    write_report(_data(tmp_path), tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    windows = _table_rows(md, "| window | from | to | days | poll coverage | notes |")
    assert len(windows) == 2 and all(len(_cells(r)) == 6 for r in windows)
    assert _cells(windows[0])[5] == "cut | at x"
    changes = _table_rows(
        md,
        "| measure | zone | class | before | after | change | 95% CI | Holm-adjusted p | matched on | hours | status |",
    )
    assert len(changes) == 1 and _cells(changes[0])[:6] == [
        "airborne (aircraft airborne)",
        "SVZM",
        "",
        "9.6",
        "4.6",
        "-52%",
    ]
    title = md.splitlines()[0]
    assert title.startswith("# Air traffic before and after: Closed") and "second line" in title  # one line


def test_user_text_is_escaped_in_html(tmp_path):
    write_report(_data(tmp_path), tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in page
    assert "fell 52% &lt;b&gt;." in page
    assert page.count('src="data:image/png;base64,') == 1


def test_markdown_and_html_show_the_same_facts(tmp_path):
    write_report(_data(tmp_path), tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for fact in ("-59% to -44%", "12,345 positions and 678 flights", "300 s", "abababababababab", "95%", "e1"):
        assert fact in md and fact in page, fact
    assert "Traffic data: The OpenSky Network (https://opensky-network.org)" in md
    assert "Traffic data: The OpenSky Network (https://opensky-network.org)" in page


def test_the_method_follows_the_constants_used():
    default = " ".join(method_paragraphs(AnalysisRules(), FlightRules(), "SVZM", "Maiquetía FIR", "OpenSky"))
    assert "below 50%" in default and "over 30 minutes" in default and "within 40 km" in default
    assert "fewer than 12 matched hours" in default and "below 1,500 m" in default
    tuned = " ".join(
        method_paragraphs(
            AnalysisRules(min_coverage=0.75, min_matched_hours=20),
            FlightRules(gap_s=2700, airport_radius_km=25, low_agl_m=1000),
            "TTZP",
            "Piarco FIR",
            "adsb.lol",
        )
    )
    assert "below 75%" in tuned and "over 45 minutes" in tuned and "within 25 km" in tuned
    assert "fewer than 20 matched hours" in tuned and "below 1,000 m" in tuned
    assert "adsb.lol snapshots" in tuned and "Piarco FIR (TTZP)" in tuned and "SVZM" not in tuned


def test_the_report_method_uses_the_report_rules(tmp_path):
    write_report(_data(tmp_path, flight_rules=FlightRules(gap_s=3600)), tmp_path)
    assert "over 60 minutes" in (tmp_path / "report.md").read_text(encoding="utf-8")
