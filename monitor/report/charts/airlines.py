"""The airline mix: flights per day in the FIR by ICAO airline designator, before and after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from monitor.analysis.airlines import airline_name
from monitor.report.charts.base import AFTER, BEFORE, Chart, save
from monitor.report.credits import Provenance

__all__ = ["CHART", "chart_airlines"]


def chart_airlines(
    flights_before: pd.DataFrame,
    flights_after: pd.DataFrame,
    days: tuple[float, float],
    fir_code: str,
    stem: Path,
    made_from: Provenance,
    top: int = 14,
) -> list[Path]:
    """Flights per day in the FIR by airline, before and after (top airlines by either side)."""

    def per_day(df: pd.DataFrame, d: float) -> pd.Series:
        named = df["airline"].fillna("(no airline callsign)")
        return named.value_counts() / max(d, 1e-9)

    b, a = per_day(flights_before, days[0]), per_day(flights_after, days[1])
    table = pd.concat({"before": b, "after": a}, axis=1).fillna(0.0)
    table = table.loc[table.max(axis=1).sort_values(ascending=False).index[:top]].iloc[::-1]
    fig = Figure(figsize=(11, max(4.0, 1.2 + 0.38 * len(table))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(table))
    ax.barh(y + 0.2, table["before"], 0.4, color=BEFORE, label=f"before ({days[0]:.1f} days with data)")
    ax.barh(y - 0.2, table["after"], 0.4, color=AFTER, label=f"after ({days[1]:.1f} days with data)")
    labels = [f"{code} {airline_name(code)}" if not code.startswith("(") else code for code in table.index]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("flights per day in the FIR")
    ax.grid(True, axis="x", lw=0.3, alpha=0.6)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(f"Airline mix in {fir_code}: flights per day by ICAO designator", loc="left", weight="bold")
    return save(fig, stem, made_from, note="Airline from the callsign's ICAO designator")


CHART = Chart(
    "airlines",
    lambda _: "Airline mix",
    lambda c, stem: chart_airlines(c.flights[0], c.flights[1], c.days_with_data, c.fir, stem, c.made_from),
    cost=0.3,
)
