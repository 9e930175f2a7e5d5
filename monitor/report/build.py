"""The before/after report: ``report.md``, a self-contained ``report.html`` and ``metrics.csv``.

Place in the flow: last step of ``vzmon report``. ``pipeline.report`` gathers the analysis results
and chart files into a :class:`ReportData`; :func:`write_report` writes the three files next to the
charts, in the folder being staged for ``outputs/reports/<event-id>/``. The HTML embeds every
image (base64), so it opens offline and can be mailed as one file. All times are UTC.
"""

from __future__ import annotations

import base64
import csv
import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from monitor.analysis.stats import AnalysisRules, Change
from monitor.analysis.windows import Window
from monitor.events import Event

__all__ = ["METHOD", "REPORT_FILES", "ReportData", "write_report"]

REPORT_FILES = frozenset({"report.md", "report.html", "metrics.csv"})  # besides the charts

METHOD = (
    "Counts come from OpenSky /states/all snapshots of the box around the Maiquetía FIR (SVZM), classified "
    "into SVZM, the ring sectors around it and 'outside' by vzmon's zones (geo/data/SOURCES.md).",
    "Gaps are gaps: hours whose share of expected polls that succeeded (coverage) is below {min_cov:.0%} are left "
    "out, never counted as zero and never interpolated. Failed, rate-limited, skipped and empty polls are gaps.",
    "Like with like: only hours present on both sides are compared, matched on hour of the week (EUROCONTROL "
    "compares a day with the same weekday of earlier weeks), or on hour of the day when the windows share too "
    "few weekdays; each row of the table says which.",
    "Changes are after/before - 1 of the means over matched hours. The 95% interval treats days as the units of "
    "noise: matched on hour of the week, each weekday is a pair (its hours before and after) and the interval is "
    "the ratio estimator's with Student t on pairs - 1 degrees of freedom; matched on hour of the day, the two "
    "sides' days are independent samples (Welch t). Both are on the log scale. Short windows give wide intervals "
    "on purpose: 2-3 days are few samples. Fewer than {min_days:g} days of usable matched hours on a side "
    "gives 'insufficient data'. The interval column of metrics.csv says which method and how many degrees of "
    "freedom each row used.",
    "A flight is one aircraft's continuous presence, split where it went unseen for over 30 minutes of working "
    "polling (a feed outage does not split it), at a new callsign or at a take-off after a landing. Flights "
    "with an airborne position in SVZM are classed by their ends (on the ground or below 1,500 m within 40 km "
    "of an airport with an IATA code, or climbing/descending towards one on a 1:25 gradient): domestic (both "
    "ends at airports in SVZM), departure, arrival or overflight (neither). A departure first seen at cruise "
    "(poor low-level coverage) counts as an overflight.",
    "Ring sectors are named after the FIR across that part of the SVZM border; they do not mean membership of "
    "that FIR. ADS-B sees only aircraft that transmit; military and state flights often do not.",
)


@dataclass(frozen=True)
class ReportData:
    event: Event
    windows: tuple[Window, Window]
    coverage: tuple[float, float]
    changes: tuple[Change, ...]
    verdict: str
    charts: dict[str, list[Path]]  # title -> [png, svg]
    simulated: bool
    store: str
    generated_at: datetime
    interval_s: tuple[float, float]  # polling cadence before, after
    n_positions: int
    n_flights: int
    rules: AnalysisRules
    zone_fingerprint: str
    unclassed: tuple[float, float] = (0.0, 0.0)  # share of FIR flights of unknown class, before and after


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"


def _rows(data: ReportData) -> list[dict[str, str]]:
    rows = []
    for c in data.changes:
        rows.append(
            {
                "measure": c.measure,
                "zone": c.zone,
                "flight_class": c.flight_class or "",
                "unit": c.unit,
                "before": "" if c.before != c.before else f"{c.before:.3f}",
                "after": "" if c.after != c.after else f"{c.after:.3f}",
                "change_pct": "" if c.change is None else f"{c.change * 100:.1f}",
                "ci95_low_pct": "" if c.ci_low is None else f"{c.ci_low * 100:.1f}",
                "ci95_high_pct": "" if c.ci_high is None else f"{c.ci_high * 100:.1f}",
                "matching": c.matching,
                "matched_hours": str(c.matched_hours),
                "days_before": f"{c.days_before:g}",
                "days_after": f"{c.days_after:g}",
                "status": c.status,
                "reason": c.reason,
                "interval": c.interval,
            }
        )
    return rows


def _window_lines(data: ReportData) -> list[tuple[str, str, str, str, str, str]]:
    out = []
    for w, cov in zip(data.windows, data.coverage, strict=True):
        notes = "; ".join(w.notes) or "-"
        out.append(
            (w.label, f"{w.start:%Y-%m-%d %H:%M}", f"{w.end:%Y-%m-%d %H:%M}", f"{w.days:.1f}", f"{cov:.0%}", notes)
        )
    return out


def _unclassed(shares: tuple[float, float]) -> str:
    return (
        f"Flights in the FIR whose class is unknown (a take-off or landing may have fallen in a hole in the "
        f"polling): {shares[0]:.1%} before, {shares[1]:.1%} after; each hour's classed flights are scaled up "
        "by its share of classed flights."
    )


def _cadence(intervals: tuple[float, float]) -> str:
    b, a = intervals
    return f"{b:.0f} s" if round(b) == round(a) else f"{b:.0f} s before, {a:.0f} s after"


def _source(simulated: bool) -> str:
    return "simulated by vzmon demo, in the format of The OpenSky Network" if simulated else "The OpenSky Network"


def _method(rules: AnalysisRules) -> list[str]:
    return [m.format(min_cov=rules.min_coverage, min_days=rules.min_days) for m in METHOD]


def _event_line(e: Event) -> str:
    when = f"{e.time:%Y-%m-%d %H:%M} UTC"
    if e.window:
        when += f" (estimated; window {e.window[0]:%Y-%m-%d %H:%M}–{e.window[1]:%Y-%m-%d %H:%M} UTC)"
    return when


def _markdown(data: ReportData, out: Path) -> str:
    e = data.event
    lines = [f"# Air traffic before and after: {e.title}", ""]
    if data.simulated:
        lines += [
            "> **SIMULATED DATA.** This report was made from `vzmon demo`'s simulated traffic, not from real "
            "observations. Do not publish its numbers as facts.",
            "",
        ]
    lines += [
        f"- Event: `{e.id}` ({e.kind}), {_event_line(e)}",
        f"- Source: <{e.source}>",
        f"- Generated {data.generated_at:%Y-%m-%d %H:%M} UTC by vzmon from `{data.store}`",
        "",
        "## Verdict",
        "",
        data.verdict,
        "",
        "## Windows (UTC)",
        "",
        "| window | from | to | days | poll coverage | notes |",
        "|---|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in _window_lines(data)),
        "",
    ]
    conf = [(w.label, w.confounders) for w in data.windows if w.confounders]
    if conf:
        lines += [
            "Other events inside the windows (possible confounders): "
            + "; ".join(f"{label}: {', '.join(ids)}" for label, ids in conf),
            "",
        ]
    lines += [
        "## Changes",
        "",
        "| measure | zone | class | before | after | change | 95% CI | matched on | hours | status |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in data.changes:
        ci = "" if c.ci_low is None or c.ci_high is None else f"{c.ci_low:+.0%} to {c.ci_high:+.0%}"
        change = "" if c.change is None else f"{c.change:+.0%}"
        status = c.status if c.status == "ok" else f"{c.status}: {c.reason}"
        lines.append(
            f"| {c.measure} ({c.unit}) | {c.zone} | {c.flight_class or ''} | {_fmt(c.before)} | "
            f"{_fmt(c.after)} | {change} | {ci} | {c.matching} | {c.matched_hours} | {status} |"
        )
    lines += ["", "## Charts", ""]
    for title, paths in data.charts.items():
        png = paths[0]
        svg = paths[1] if len(paths) > 1 else None
        lines.append(
            f"### {title}\n\n![{title}]({png.relative_to(out)})"
            + (f"\n\n[SVG]({svg.relative_to(out)})" if svg else "")
            + "\n"
        )
    lines += ["## Method", "", *(f"- {m}" for m in _method(data.rules)), ""]
    lines += [
        "## Data",
        "",
        f"- Polling cadence {_cadence(data.interval_s)}; {data.n_positions:,} positions and {data.n_flights:,} flights "
        "in the two windows.",
        f"- {_unclassed(data.unclassed)}",
        f"- Zones fingerprint `{data.zone_fingerprint[:16]}`; metrics in `metrics.csv`.",
        f"- Traffic data: {_source(data.simulated)}, https://opensky-network.org. Borders: Natural Earth.",
        "",
    ]
    return "\n".join(lines)


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.86em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
img{max-width:100%;height:auto;border:1px solid #eee}
.sim{background:#fdecea;border:2px solid #d62728;color:#8b1a1a;padding:.6em 1em;font-weight:bold}
.verdict{background:#f5f8fc;border-left:4px solid #4c72b0;padding:.6em 1em}
.muted{color:#666;font-size:.9em}
"""


def _html(data: ReportData) -> str:
    e = data.event
    esc = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(e.id)}: before and after (vzmon)</title><style>{_CSS}</style></head><body>",
        f"<h1>Air traffic before and after: {esc(e.title)}</h1>",
    ]
    if data.simulated:
        parts.append(
            '<p class="sim">SIMULATED DATA: this report was made from vzmon demo\'s simulated traffic, not '
            "from real observations. Do not publish its numbers as facts.</p>"
        )
    parts += [
        "<ul>",
        f"<li>Event: <code>{esc(e.id)}</code> ({esc(e.kind)}), {esc(_event_line(e))}</li>",
        f'<li>Source: <a href="{esc(e.source)}">{esc(e.source)}</a></li>',
        f"<li>Generated {data.generated_at:%Y-%m-%d %H:%M} UTC by vzmon from <code>{esc(data.store)}</code></li>",
        "</ul>",
        "<h2>Verdict</h2>",
        f'<p class="verdict">{esc(data.verdict)}</p>',
        "<h2>Windows (UTC)</h2>",
        "<table><tr><th>window</th><th>from</th><th>to</th><th>days</th><th>poll coverage</th><th>notes</th></tr>",
        *("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in row) + "</tr>" for row in _window_lines(data)),
        "</table>",
    ]
    conf = [(w.label, w.confounders) for w in data.windows if w.confounders]
    if conf:
        parts.append(
            "<p>Other events inside the windows (possible confounders): "
            + esc("; ".join(f"{label}: {', '.join(ids)}" for label, ids in conf))
            + "</p>"
        )
    parts.append(
        "<h2>Changes</h2><table><tr><th>measure</th><th>zone</th><th>class</th><th>before</th><th>after</th>"
        "<th>change</th><th>95% CI</th><th>matched on</th><th>hours</th><th>status</th></tr>"
    )
    for c in data.changes:
        ci = "" if c.ci_low is None or c.ci_high is None else f"{c.ci_low:+.0%} to {c.ci_high:+.0%}"
        change = "" if c.change is None else f"{c.change:+.0%}"
        status = c.status if c.status == "ok" else f"{c.status}: {c.reason}"
        cells = (
            f"{c.measure} ({c.unit})",
            c.zone,
            c.flight_class or "",
            _fmt(c.before),
            _fmt(c.after),
            change,
            ci,
            c.matching,
            str(c.matched_hours),
            status,
        )
        parts.append("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in cells) + "</tr>")
    parts.append("</table><h2>Charts</h2>")
    for title, paths in data.charts.items():
        encoded = base64.b64encode(paths[0].read_bytes()).decode("ascii")
        parts.append(
            f'<h3>{esc(title)}</h3><figure><img alt="{esc(title)}" src="data:image/png;base64,{encoded}"></figure>'
        )
    parts += ["<h2>Method</h2><ul>", *(f"<li>{esc(m)}</li>" for m in _method(data.rules)), "</ul>"]
    parts += [
        "<h2>Data</h2>",
        f'<p class="muted">Polling cadence {esc(_cadence(data.interval_s))}; {data.n_positions:,} positions and '
        f"{data.n_flights:,} flights in the two windows. {esc(_unclassed(data.unclassed))} "
        f"Zones fingerprint {esc(data.zone_fingerprint[:16])}. "
        f"Traffic data: {esc(_source(data.simulated))} (opensky-network.org). Borders: Natural Earth.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(data: ReportData, out: Path) -> dict[str, Path]:
    """Write report.md, report.html and metrics.csv into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    md.write_text(_markdown(data, out), encoding="utf-8")
    page = out / "report.html"
    page.write_text(_html(data), encoding="utf-8")
    metrics = out / "metrics.csv"
    rows = _rows(data)
    with metrics.open("w", newline="", encoding="utf-8") as fh:
        fields = list(rows[0]) if rows else ["measure"]
        writer = csv.DictWriter(fh, fieldnames=["event", "window_before", "window_after", *fields])
        writer.writeheader()
        b, a = data.windows
        for row in rows:
            writer.writerow({
                "event": data.event.id,
                "window_before": f"{b.start:%Y-%m-%dT%H:%MZ}/{b.end:%Y-%m-%dT%H:%MZ}",
                "window_after": f"{a.start:%Y-%m-%dT%H:%MZ}/{a.end:%Y-%m-%dT%H:%MZ}",
                **row,
            })  # fmt: skip
    return {"markdown": md, "html": page, "metrics": metrics}
