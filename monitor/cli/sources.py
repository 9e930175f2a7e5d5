"""``vzmon sources``: who sees what. Per source its last good snapshot, errors and cooldowns of the
last 24 h, and over a window the aircraft it saw in the FIR and the ring, the overlap between the
sources (by all, by only one, Jaccard) and the median age of their positions."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import age, iso

if TYPE_CHECKING:
    from monitor.analysis.overlap import Overlap
    from monitor.pipeline.sources import SourceLine, SourcesOverview
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def _hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got {text!r}") from None
    if not 0 < value <= 24 * 366:
        raise argparse.ArgumentTypeError(f"hours must be more than 0 and at most {24 * 366} (a year), got {text}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sources",
        help="who sees what: each source's health, the aircraft it saw, and the overlap between sources",
        description="Per source (and the combined view): the last good snapshot and its age, errors and 429 "
        "cooldowns in the last 24 h; over the window, the share of grid slots it covered, the aircraft it saw "
        "with a fresh position in the FIR and in the ring, and the median age of its positions. Then, per area, "
        "how the sources' aircraft overlap: seen by any, by all, by only one, and Jaccard per pair.",
        epilog="examples:\n  vzmon sources\n  vzmon sources --hours 168 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--hours", type=_hours, default=24.0, help="the window, hours back from now (default 24)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _line_doc(line: SourceLine) -> dict[str, Any]:
    return {
        "source": line.source,
        "label": line.label,
        "configured": line.configured,
        "last_ok": {"api_time": iso(line.last_ok) if line.last_ok else None, "age_s": line.last_ok_age_s},
        "last_attempt": {
            "time": iso(line.last_attempt) if line.last_attempt else None,
            "status": line.last_status,
            "error": line.last_error,
        },
        "statuses_last_24h": line.statuses_24h,
        "cooldown_until": iso(line.cooldown_until) if line.cooldown_until else None,
        "grid_coverage": line.grid_coverage,
        "aircraft": line.aircraft,
        "median_position_age_s": line.median_position_age_s,
    }


def _overlap_doc(o: Overlap) -> dict[str, Any]:
    return {
        "area": o.area,
        "seen": o.seen,
        "seen_by_any": o.union,
        "seen_by_all": o.by_all,
        "seen_by_only": o.only,
        "jaccard": {f"{a}/{b}": j for (a, b), j in o.jaccard.items()},
    }


def _print(ov: SourcesOverview) -> None:
    print(
        f"sources: window {iso(ov.start)} to {iso(ov.end)} ({(ov.end - ov.start).total_seconds() / 3600:g} h), "
        f"grid {ov.step_s // 60} min; errors and 429s over the last 24 h"
    )
    head = f"{'source':<10}{'last data':<22}{'age':>9}  {'ok':>5}{'errors':>7}{'429s':>6}{'skip':>6}  "
    head += f"{'cooldown until':<22}{'grid':>6}{ov.fir:>7}{'ring':>7}{'pos. age':>10}"
    print(head)
    for line in (*ov.sources, *((ov.combined,) if ov.combined else ())):
        st = line.statuses_24h
        ok = st.get("ok", 0) + st.get("empty", 0)
        name = line.source + ("" if line.configured or line.source == "combined" else "*")
        pos_age = "n/a" if line.median_position_age_s is None else f"{line.median_position_age_s:.0f} s"
        print(
            f"{name:<10}{iso(line.last_ok):<22}{age(line.last_ok_age_s):>9}  {ok:>5}{st.get('error', 0):>7}"
            f"{st.get('rate_limited', 0):>6}{st.get('skipped', 0):>6}  "
            f"{iso(line.cooldown_until) if line.cooldown_until else '-':<22}{_pct(line.grid_coverage):>6}"
            f"{line.aircraft.get(ov.fir, 0):>7}{line.aircraft.get('ring', 0):>7}{pos_age:>10}"
        )
        if line.last_status not in (None, "ok", "empty") and line.last_error:
            print(f"{'':<10}last attempt {iso(line.last_attempt)} {line.last_status}: {line.last_error}")
    if any(not line.configured for line in ov.sources):
        print("* not in collect.sources: polled earlier, in the window")
    if len(ov.sources) < 2:
        print("overlap: one source only; add adsblol or adsbfi to collect.sources to compare networks")
        return
    for o in ov.overlaps:
        only = " · ".join(f"only {n} {k}" for n, k in o.only.items())
        print(
            f"aircraft in {o.area if o.area != 'ring' else 'the ring'}: seen by any {o.union} · by all {o.by_all} "
            f"({_pct(o.share_by_all)}) · {only}"
        )
        pairs = " · ".join(f"{a}/{b} {'n/a' if j is None else f'{j:.2f}'}" for (a, b), j in o.jaccard.items())
        print(f"  Jaccard: {pairs}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.sources import sources_overview

    ov = sources_overview(settings, hours=args.hours)
    if args.json:
        doc = {
            "now": iso(ov.now),
            "window": {"start": iso(ov.start), "end": iso(ov.end), "grid_step_s": ov.step_s},
            "sources": [_line_doc(line) for line in ov.sources],
            "combined": _line_doc(ov.combined) if ov.combined else None,
            "overlap": [_overlap_doc(o) for o in ov.overlaps] if len(ov.sources) > 1 else [],
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    _print(ov)
    return EXIT_OK
