"""Before/after bars with 95 % intervals: airborne per zone, and flights per day per class in the FIR."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from monitor.analysis.stats import Change
from monitor.report.charts.base import AFTER, BEFORE, Chart, save
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_changes"]


def chart_changes(changes: Sequence[Change], fir_code: str, stem: Path, made_from: Provenance) -> list[Path]:
    """Before/after bars with 95 % intervals: airborne per zone, and flights per day per class in the FIR."""
    fig = Figure(figsize=(12, 5.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.5, 1])
    panels = (
        (
            left,
            [c for c in changes if c.measure == "airborne"],
            "mean aircraft airborne (matched hours)",
            "Aircraft airborne, per zone",
        ),
        (
            right,
            [c for c in changes if c.measure == "flights" and c.zone == fir_code and c.flight_class],
            "flights per day (matched hours)",
            f"Flights in {fir_code}, per class",
        ),
    )
    for ax, items, ylabel, title in panels:
        x = np.arange(len(items))
        before = np.array([c.before for c in items], dtype=float)
        after = np.array([c.after for c in items], dtype=float)
        ax.bar(x - 0.2, before, 0.4, color=BEFORE, label="before")
        ax.bar(x + 0.2, after, 0.4, color=AFTER, label="after")
        for i, c in enumerate(items):
            if c.status == "ok" and c.ci_low is not None and c.ci_high is not None:
                lo, hi = c.before * (1 + c.ci_low), c.before * (1 + c.ci_high)
                ax.errorbar(
                    i + 0.2,
                    c.after,
                    yerr=[[max(0.0, c.after - lo)], [max(0.0, hi - c.after)]],
                    color="k",
                    capsize=3,
                    lw=1,
                )
                ax.annotate(
                    f"{c.change:+.0%}",
                    (i + 0.2, max(c.after, hi)),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
            else:
                ax.annotate(
                    "n/a",
                    (i, max(c.before, c.after) if c.before == c.before else 0),
                    xytext=(0, 3),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    color="#777777",
                )
        ax.set_xticks(x, [c.flight_class or c.zone for c in items], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontsize=10, weight="bold")
        ax.grid(True, axis="y", lw=0.3, alpha=0.6)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(
        "Before vs after (error bars: 95% interval, days as the units of noise; times UTC)",
        x=0.01,
        ha="left",
        fontsize=11,
        weight="bold",
    )
    return save(fig, stem, made_from)


CHART = Chart(
    "changes",
    lambda _: "Before and after, with 95% intervals",
    lambda c, stem: chart_changes(c.changes, c.fir, stem, c.made_from),
    cost=0.5,
)
