"""The verdict: one paragraph that says what changed and how sure we are, or that the data do not tell.

Place in the flow: ``pipeline.report`` calls :func:`verdict` with the event, the windows, their
coverage and the changes (``analysis.stats``); the report opens with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.analysis.flights import FLIGHT_CLASSES
from monitor.analysis.stats import Change
from monitor.analysis.windows import Window
from monitor.events import Event

__all__ = ["verdict"]


_CLASS_NAMES = {
    "domestic": "Domestic flights",
    "departure": "Departures",
    "arrival": "Arrivals",
    "overflight": "Overflights",
}


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}%"


def _sentence(c: Change, subject: str) -> str:
    if c.status != "ok" or c.change is None or c.ci_low is None or c.ci_high is None:
        return f"{subject}: not enough data to compare ({c.reason})."
    if c.ci_low <= 0 <= c.ci_high:
        return (
            f"{subject} changed by {c.change:+.0%}, within the noise (95% CI {c.ci_low:+.0%} to "
            f"{c.ci_high:+.0%}), from {c.before:.1f} to {c.after:.1f} {c.unit}."
        )
    low, high = sorted((abs(c.ci_low), abs(c.ci_high)))
    direction = "fell" if c.change < 0 else "rose"
    return (
        f"{subject} {direction} {_pct(c.change)} (95% CI {_pct(low)}–{_pct(high)}), from {c.before:.1f} to "
        f"{c.after:.1f} {c.unit}."
    )


def verdict(
    event: Event,
    windows: tuple[Window, Window],
    coverage: tuple[float, float],
    changes: Sequence[Change],
    fir_code: str,
) -> str:
    """One paragraph with the numbers, or a plain statement that the data do not allow one."""
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
    parts = [f"{intro}, matched on {head.matching}: " + _sentence(head, f"aircraft airborne in {fir_code}")]
    cls = [by.get(("flights", fir_code, name)) for name in FLIGHT_CLASSES]
    cls_ok = [c for c in cls if c is not None and c.status == "ok"]
    if cls_ok:
        parts.append(" ".join(_sentence(c, _CLASS_NAMES.get(c.flight_class or "", c.zone)) for c in cls_ok))
    ring = [c for c in changes if c.measure == "airborne" and c.zone != fir_code and c.zone.startswith("ring")]
    moved = [c for c in ring if c.status == "ok" and c.ci_low is not None and c.ci_low > 0]
    if moved:
        parts.append(
            "Traffic rose around the FIR in "
            + ", ".join(f"{c.zone} ({c.change:+.0%})" for c in moved)
            + ", consistent with flights routed around it."
        )
    conf = sorted(set(before.confounders) | set(after.confounders))
    if conf:
        parts.append(f"Other events inside the windows ({', '.join(conf)}) may share the effect.")
    return " ".join(parts)
