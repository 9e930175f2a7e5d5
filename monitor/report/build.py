"""The before/after report: ``report.md``, a self-contained ``report.html`` and ``metrics.csv``.

Place in the flow: last step of ``vzmon report``. ``pipeline.report`` gathers the analysis results
and chart files into a :class:`ReportData`; :func:`write_report` writes the three files next to the
charts, in the folder being staged for ``outputs/reports/<event-id>/``. The HTML embeds every
image (base64), so it opens offline and can be mailed as one file. All times are UTC.
"""

from __future__ import annotations

import base64
import csv
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitor.analysis.archive import CrossCheck, MilitaryRow
from monitor.analysis.flights import FlightRules
from monitor.analysis.overlap import Overlap, WindowOverlap
from monitor.analysis.stats import AnalysisRules, Change
from monitor.analysis.windows import Window
from monitor.events import Event
from monitor.report.credits import BORDERS, Provenance, traffic_credit, traffic_method
from monitor.report.method import method_paragraphs
from monitor.sources.registry import LABELS
from monitor.store.archive import ArchiveDay

if TYPE_CHECKING:
    import jinja2

__all__ = ["REPORT_FILES", "ArchivePart", "ReportData", "write_report"]

REPORT_FILES = frozenset({"report.md", "report.html", "metrics.csv"})  # besides the charts


@dataclass(frozen=True)
class ArchivePart:
    """What a report on adsb.lol's archive adds (``pipeline.report``): military aircraft apart, the
    aircraft without a database entry, cross-checks with published values, each day's health."""

    hourly: pd.DataFrame  # military aircraft airborne per snapshot, hourly, FIR and ring
    military: tuple[MilitaryRow, ...]
    cross_checks: tuple[CrossCheck, ...]
    days: tuple[ArchiveDay, ...]
    aircraft: int  # aircraft whose traces touched the box in the windows
    military_aircraft: int
    no_db: int  # of ``aircraft``, those without a database entry (counted as civil)


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
    fir: str = "SVZM"
    fir_name: str = "Maiquetía FIR"
    sources: str = "OpenSky"  # who saw the aircraft counted: every count is of aircraft visible to them
    made_from: Provenance = field(default_factory=Provenance)  # the view read, and the networks behind it
    credited: Provenance | None = None  # every network the report shows (default: ``made_from``'s)
    who_saw: tuple[WindowOverlap, ...] = ()  # the networks' overlap per window and area (two or more networks)
    flight_rules: FlightRules = field(default_factory=FlightRules)
    archive: ArchivePart | None = None


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
                "p_value": "" if c.p_value is None else f"{c.p_value:.4g}",
                "holm_adjusted_p": "" if c.adjusted_p is None else f"{c.adjusted_p:.4g}",
                "verdict": "" if c.adjusted_p is None else ("change" if c.established else "no change established"),
                "visible_to": data.sources,
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


def _event_line(e: Event) -> str:
    when = f"{e.time:%Y-%m-%d %H:%M} UTC"
    if e.window:
        when += f" (estimated; window {e.window[0]:%Y-%m-%d %H:%M}–{e.window[1]:%Y-%m-%d %H:%M} UTC)"
    return when


def _adjusted(c: Change) -> str:
    if c.adjusted_p is None:
        return "-"
    p = "< 0.001" if c.adjusted_p < 0.001 else f"{c.adjusted_p:.3f}"
    return f"{p} ({'change' if c.established else 'not established'})"


def _change_cells(c: Change) -> tuple[str, ...]:
    ci = "" if c.ci_low is None or c.ci_high is None else f"{c.ci_low:+.0%} to {c.ci_high:+.0%}"
    change = "" if c.change is None else f"{c.change:+.0%}"
    status = c.status if c.status == "ok" else f"{c.status}: {c.reason}"
    days = f"{c.days_before:g} + {c.days_after:g} days" if c.matching == "whole days" else str(c.matched_hours)
    return (
        f"{c.measure} ({c.unit})",
        c.zone,
        c.flight_class or "",
        _fmt(c.before),
        _fmt(c.after),
        change,
        ci,
        _adjusted(c),
        c.matching,
        days,
        status,
    )


def _view(data: ReportData, out: Path) -> dict[str, Any]:
    """What both templates show, formatted once: the Markdown and the HTML report cannot disagree."""
    conf = [(w.label, w.confounders) for w in data.windows if w.confounders]
    return {
        "event": data.event,
        "event_line": _event_line(data.event),
        "simulated": data.simulated,
        "generated": f"{data.generated_at:%Y-%m-%d %H:%M}",
        "store": data.store,
        "verdict": data.verdict,
        "windows": _window_lines(data),
        "confounders": "; ".join(f"{label}: {', '.join(ids)}" for label, ids in conf),
        "changes": [_change_cells(c) for c in data.changes],
        "sources": data.sources,
        "charts": [
            {
                "title": title,
                "path": paths[0],
                "png": paths[0].relative_to(out).as_posix(),
                "svg": paths[1].relative_to(out).as_posix() if len(paths) > 1 else None,
            }
            for title, paths in data.charts.items()
        ],
        "method": method_paragraphs(
            data.rules,
            data.flight_rules,
            data.fir,
            data.fir_name,
            traffic_method(data.made_from),
        ),
        "cadence_line": f"Polling cadence {_cadence(data.interval_s)}; {data.n_positions:,} positions and "
        f"{data.n_flights:,} flights in the two windows.",
        "unclassed": _unclassed(data.unclassed),
        "fingerprint": data.zone_fingerprint[:16],
        "credits": f"Traffic data: {traffic_credit(data.credited or data.made_from)}. Borders: {BORDERS}.",
        "who_saw": _who_saw_rows(data),
        **_archive_view(data),
    }


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _seen(h: dict[str, int]) -> str:
    return f"{h.get('aircraft', 0)} ({_share(h.get('mlat', 0), h.get('positions', 0))} MLAT)"


def _archive_view(data: ReportData) -> dict[str, Any]:
    """The archive report's tables, formatted (empty without archive data)."""
    a = data.archive
    if a is None:
        return {"archive": None}
    military = [
        [m.window, m.area, str(m.aircraft), "n/a" if m.mean_airborne != m.mean_airborne else f"{m.mean_airborne:.2f}",
         m.types]
        for m in a.military
    ]  # fmt: skip
    checks = []
    for c in a.cross_checks:
        r = c.reference
        ours = "no data (a gap)" if c.ours is None else f"{c.ours} civil + {c.military} military"
        at = f"{c.snapshot:%H:%M:%S}" if c.snapshot else "-"
        checks.append([f"{r.time:%Y-%m-%d %H:%M}", r.zone, r.what, f"{r.value:g}", ours, at, f"{r.source} {r.note}"])
    days = []
    for d in a.days:
        if d.status == "failed":
            days.append([f"{d.day}", "failed: no data", "-", "-", "-", "-", d.error or ""])
            continue
        fir = d.health.get(data.fir, {})
        others = " · ".join(
            f"{name} {h['aircraft']} ({_share(h['mlat'], h['positions'])} MLAT)"
            for name, h in d.health.items()
            if name not in ("box", data.fir)
        )
        box = d.health.get("box", {})
        days.append([
            f"{d.day}", (d.release or "-") + (" (partial: it failed the day's checks)" * (d.status == "partial")),
            f"{d.gaps}", _seen(box), _seen(fir), others or "-",
            "; ".join(d.warnings[:2]) + (f" (+{len(d.warnings) - 2} more)" if len(d.warnings) > 2 else ""),
        ])  # fmt: skip
    note = (
        f"Every count is of civil aircraft. Of the {a.aircraft:,} aircraft whose traces crossed the box in the "
        f"windows, {a.military_aircraft:,} are military by adsb.lol's aircraft database (dbFlags) and are counted "
        f"apart (table and chart below); {a.no_db:,} had no database entry at all (counted as civil)."
    )
    return {"archive": {"note": note, "military": military, "checks": checks, "days": days}}


def _who_saw_rows(data: ReportData) -> list[list[str]]:
    """The overlap table: per window and area, each network's aircraft and coverage, then the overlap."""

    def label(name: str) -> str:
        return LABELS.get(name, name)

    def pairs(o: Overlap) -> str:
        return " · ".join(
            f"{label(a)}/{label(b)} {'n/a' if j is None else f'{j:.2f}'}" for (a, b), j in o.jaccard.items()
        )

    rows = []
    for w in data.who_saw:
        o = w.overlap
        rows.append([
            w.window,
            o.area,
            " · ".join(f"{label(n)} {k}" for n, k in o.seen.items()),
            " · ".join(f"{label(n)} {'n/a' if c is None else f'{c:.0%}'}" for n, c in w.coverage.items()),
            str(o.union),
            f"{o.by_all}" + (f" ({o.share_by_all:.0%})" if o.share_by_all is not None else ""),
            " · ".join(f"{label(n)} {k}" for n, k in o.only.items()),
            pairs(o),
        ])  # fmt: skip
    return rows


def _md_cell(value: object) -> str:
    """A Markdown table cell: a pipe or a line break in the text would end the cell or the row."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def _templates() -> jinja2.Environment:
    import jinja2  # only ``vzmon report`` renders

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cell"] = _md_cell
    env.filters["data_uri"] = _data_uri
    return env


def render(name: str, data: ReportData, out: Path) -> str:
    """``report.md`` or ``report.html`` for ``data``, whose charts sit under ``out``."""
    return _templates().get_template(name).render(_view(data, out))


def write_report(data: ReportData, out: Path) -> dict[str, Path]:
    """Write report.md, report.html and metrics.csv into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    md.write_text(render("report.md", data, out), encoding="utf-8")
    page = out / "report.html"
    page.write_text(render("report.html", data, out), encoding="utf-8")
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
