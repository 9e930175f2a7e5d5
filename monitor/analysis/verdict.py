"""The verdict: one paragraph that says what changed and how sure we are, or that the data do not tell.

Place in the flow: ``pipeline.report`` calls :func:`verdict` with the event, the windows, their
coverage and the changes (``analysis.stats``, Holm-adjusted by ``analysis.before_after``); the
report opens with it.

What it may claim. The paragraph reports a family of measures: aircraft airborne in the FIR (the
primary measure, always first), the FIR's flights per class, and aircraft airborne in each ring
sector. A measure is called a change only when its Holm-adjusted p over that family is below 5 %,
so with no event at all the paragraph claims a change in at most 5 % of reports (the familywise
error), however many measures it lists; the rest are "no change established", with their
interval. Every count is of aircraft visible to the source: the paragraph says so, and says how
large a change in the primary measure the windows could have told from day-to-day variation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from monitor.analysis.before_after import FOOTPRINT_WARNING, Footprint
from monitor.analysis.flights import FLIGHT_CLASSES
from monitor.analysis.stats import FAMILY_ALPHA, Change
from monitor.analysis.windows import Window
from monitor.events import Event

__all__ = ["POWER_FACTOR", "detectable_change", "verdict"]

# A change detected 80 % of the time at 5 % two-sided sits (z 0.975 + z 0.80) / z 0.975 = 1.43
# interval half-widths from no change (1.34 with 4 degrees of freedom); 1.4 is used.
POWER_FACTOR = 1.4

_CLASS_NAMES = {
    "domestic": "Domestic flights",
    "departure": "Departures",
    "arrival": "Arrivals",
    "overflight": "Overflights",
}


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}%"


def _p(c: Change) -> str:
    p = c.adjusted_p if c.adjusted_p is not None else c.p_value
    if p is None:
        return ""
    shown = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    return f"Holm-adjusted p {shown}" if c.adjusted_p is not None else f"p {shown}"


def _sentence(c: Change, subject: str) -> str:
    if c.status != "ok" or c.change is None or c.ci_low is None or c.ci_high is None:
        return f"{subject}: not enough data to compare ({c.reason})."
    if not c.established:
        return (
            f"{subject}: no change established ({c.change:+.0%}, 95% CI {c.ci_low:+.0%} to {c.ci_high:+.0%}; "
            f"{_p(c)}), from {c.before:.1f} to {c.after:.1f} {c.unit}."
        )
    low, high = sorted((abs(c.ci_low), abs(c.ci_high)))
    direction = "fell" if c.change < 0 else "rose"
    return (
        f"{subject} {direction} {_pct(c.change)} (95% CI {_pct(low)}–{_pct(high)}; {_p(c)}), from {c.before:.1f} "
        f"to {c.after:.1f} {c.unit}."
    )


def detectable_change(c: Change) -> float | None:
    """The smallest relative change in ``c``'s measure the windows would have shown 80 % of the time
    (from its 95 % interval's half-width on the log scale), or None without an interval."""
    if c.status != "ok" or c.ci_low is None or c.ci_high is None or c.ci_low <= -1:
        return None
    half = (math.log1p(c.ci_high) - math.log1p(c.ci_low)) / 2
    return math.exp(POWER_FACTOR * half) - 1


def verdict(
    event: Event,
    windows: tuple[Window, Window],
    coverage: tuple[float, float],
    changes: Sequence[Change],
    fir_code: str,
    sources: str = "OpenSky",
    seen: Footprint | None = None,
) -> str:
    """One paragraph with the numbers, or a plain statement that the data do not allow one.
    ``sources``: who saw the aircraft counted (every count is of aircraft visible to them);
    ``seen``: where aircraft were seen in each window (a warning when that area changed)."""
    before, after = windows
    by = {(c.measure, c.zone, c.flight_class): c for c in changes}
    head = by.get(("airborne", fir_code, None))
    intro = (
        f"Comparing {before.days:.1f} days before {event.id} ({event.start:%Y-%m-%d %H:%M} UTC) with "
        f"{after.days:.1f} days after it (poll coverage {coverage[0]:.0%} before, {coverage[1]:.0%} after)"
    )
    if head is None or head.status != "ok":
        why = head.reason if head is not None else "no data"
        return f"{intro}: there is not enough data to say whether traffic changed ({why})."
    subject = f"aircraft airborne in {fir_code} visible to {sources}"
    parts = [f"{intro}, matched on {head.matching}: " + _sentence(head, subject)]
    cls = [by.get(("flights", fir_code, name)) for name in FLIGHT_CLASSES]
    cls_ok = [c for c in cls if c is not None and c.status == "ok"]
    if cls_ok:
        parts.append(" ".join(_sentence(c, _CLASS_NAMES.get(c.flight_class or "", c.zone)) for c in cls_ok))
    ring = [c for c in changes if c.measure == "airborne" and c.zone != fir_code and c.zone.startswith("ring")]
    rose = [c for c in ring if c.established and c.change is not None and c.change > 0]
    fell = [c for c in ring if c.established and c.change is not None and c.change < 0]
    if rose:
        parts.append(
            "Traffic rose around the FIR in "
            + ", ".join(f"{c.zone} ({c.change:+.0%}, {_p(c)})" for c in rose)
            + ", consistent with flights routed around it."
        )
    if fell:
        parts.append(
            "Traffic fell around the FIR in " + ", ".join(f"{c.zone} ({c.change:+.0%}, {_p(c)})" for c in fell) + "."
        )
    family = [c for c in changes if c.adjusted_p is not None]
    parts.append(
        f"A change is claimed only where its Holm-adjusted p over the {len(family)} measures named here is below "
        f"{FAMILY_ALPHA:.0%}."
    )
    smallest = detectable_change(head)
    if smallest is not None:
        parts.append(
            f"With these windows a change in aircraft airborne smaller than about ±{smallest:.0%} could not "
            f"reliably be told from {'week-to-week' if head.interval.startswith('weeks') else 'day-to-day'} "
            "variation."
        )
    if seen is not None and seen.excess > FOOTPRINT_WARNING:
        parts.append(
            f"Where aircraft were seen changed: of the {seen.seen} cells of the FIR and its ring with any aircraft "
            f"in the last and first {seen.windows[0].days:.1f} days around the event, {seen.lost} had some only "
            f"before and {seen.gained} only after (the coverage map), {seen.excess:.0%} more of them than "
            f"sampling alone moves (alternate hours of one side differ by {seen.within:.0%}); where traffic "
            f"moved between areas {sources} covers well and poorly, the visible change differs from the real one."
        )
    conf = sorted(set(before.confounders) | set(after.confounders))
    if conf:
        parts.append(f"Other events inside the windows ({', '.join(conf)}) may share the effect.")
    return " ".join(parts)
