"""What a report on archive data adds: military aircraft apart, aircraft without a database entry,
and cross-checks against values others published.

Place in the flow: ``pipeline.report`` reads, for a report on ``adsblol-archive`` data, the
military positions and the aircraft of the days (``store.archive``) and hands them here as
DataFrames; the results go to the report's tables and the military chart. Pure functions over
half-open ``[start, end)`` windows; times UTC.

- Military aircraft (adsb.lol's ``dbFlags`` bit 1) are never in the counts: the counts are civil
  traffic. Here they get their own series (mean military aircraft airborne per snapshot, hour by
  hour, in the FIR and the ring) and table (per window and area: aircraft seen, their mean
  airborne per snapshot, the commonest types).
- Flight classes use the traces' legs where present: the heatmaps keep one position per aircraft
  and 30 s slice, often none on the ground, but the trace saw the take-off and the landing; a
  flight end with a trace ground point near it is placed at the airport nearest that point.
- A cross-check puts a published value for one instant beside the civil count of the snapshot at
  that instant (the nearest within half a step); a gap there says so, never 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from geo.airports import AirportTable
from monitor.analysis.windows import Window
from monitor.checks import Reference

__all__ = ["CrossCheck", "MilitaryRow", "cross_checks", "military_hourly", "military_rows", "with_legs"]

LEG_SLACK_S = 1800  # a trace's take-off (landing) counts for a flight first (last) seen this long after (before) it
LEG_LEAD_S = 600  # ... or this long before (after) it: the heatmap's slices may hold its ground roll

RING = "ring"  # every ring sector together


def _area(zone: pd.Series, fir: str) -> pd.Series:
    return zone.where(zone == fir, np.where(zone.str.startswith("ring:"), RING, "outside"))


@dataclass(frozen=True)
class MilitaryRow:
    window: str
    area: str
    aircraft: int  # distinct military aircraft airborne in the area in the window
    mean_airborne: float  # military aircraft airborne in the area per snapshot, on average
    types: str  # the commonest types, e.g. "C17 x3, P8 x2"


def military_rows(
    military: pd.DataFrame, snapshot_times: pd.Series, windows: Sequence[Window], fir: str
) -> list[MilitaryRow]:
    """Per window and area (the FIR, the ring): the military aircraft (``military``: one row per
    aircraft and snapshot, with ``time`` UTC, ``icao24``, ``zone``, ``on_ground``, ``typecode``),
    averaged over the window's successful snapshots (``snapshot_times``)."""
    rows = []
    airborne = military[~military["on_ground"].astype(bool)] if len(military) else military
    for w in windows:
        n_snapshots = int(((snapshot_times >= w.start) & (snapshot_times < w.end)).sum())
        inside = airborne[(airborne["time"] >= w.start) & (airborne["time"] < w.end)] if len(airborne) else airborne
        for area in (fir, RING):
            here = inside[_area(inside["zone"], fir) == area] if len(inside) else inside
            kinds = Counter(
                t or "unknown type" for t in here.drop_duplicates("icao24")["typecode"].tolist()
            ) if len(here) else Counter()  # fmt: skip
            rows.append(
                MilitaryRow(
                    w.label,
                    area,
                    int(here["icao24"].nunique()) if len(here) else 0,
                    len(here) / n_snapshots if n_snapshots else float("nan"),
                    ", ".join(f"{t} x{n}" for t, n in kinds.most_common(5)) or "-",
                )
            )
    return rows


def military_hourly(
    military: pd.DataFrame, snapshot_times: pd.Series, start: datetime, end: datetime, fir: str
) -> pd.DataFrame:
    """Hour by hour over ``[start, end)``: the mean military aircraft airborne per successful
    snapshot in the FIR and in the ring (columns ``fir`` and ``ring``); NaN in hours without a
    snapshot (gaps)."""
    hours = pd.date_range(pd.Timestamp(start).floor("h"), pd.Timestamp(end), freq="h", inclusive="left")
    per_hour = snapshot_times.dt.floor("h").value_counts().reindex(hours)
    out = pd.DataFrame(index=hours)
    airborne = military[~military["on_ground"].astype(bool)] if len(military) else military
    for area in (fir, RING):
        here = airborne[_area(airborne["zone"], fir) == area] if len(airborne) else airborne
        counts = here["time"].dt.floor("h").value_counts().reindex(hours, fill_value=0) if len(here) else 0
        out[area] = (pd.Series(counts, index=hours, dtype=float) / per_hour).where(per_hour > 0)
    return out


@dataclass(frozen=True)
class CrossCheck:
    reference: Reference
    ours: int | None  # civil aircraft airborne in the zone at that snapshot; None: a gap there
    military: int | None  # military aircraft airborne in the zone at that snapshot
    snapshot: datetime | None  # the snapshot compared


def cross_checks(
    references: Sequence[Reference],
    counts: pd.DataFrame,
    military: pd.DataFrame,
    start: datetime,
    end: datetime,
    step_s: float,
) -> list[CrossCheck]:
    """Each reference with its instant in ``[start, end)``, beside the civil count (``counts``:
    ``time``, ``zone``, ``airborne`` of successful snapshots) of the snapshot nearest to it, within
    half a step; none there is a gap (``ours`` None)."""
    out = []
    times = np.sort(pd.to_datetime(counts["time"], utc=True).unique()) if len(counts) else np.array([])
    for ref in references:
        if not start <= ref.time < end:
            continue
        nearest: pd.Timestamp | None = None
        if len(times):
            at = pd.Timestamp(ref.time)
            offsets = np.abs((pd.DatetimeIndex(times) - at).total_seconds().to_numpy())
            k = int(np.argmin(offsets))
            if offsets[k] <= step_s / 2:
                nearest = pd.DatetimeIndex(times)[k]
        if nearest is None:
            out.append(CrossCheck(ref, None, None, None))
            continue
        row = counts[(counts["time"] == nearest) & (counts["zone"] == ref.zone)]
        ours = int(row["airborne"].iloc[0]) if len(row) else None
        mil = 0
        if len(military):
            here = military[(military["time"] == nearest) & ~military["on_ground"].astype(bool)]
            mil = int((here["zone"] == ref.zone).sum())
        out.append(CrossCheck(ref, ours, mil, nearest.to_pydatetime()))
    return out


def with_legs(flights: pd.DataFrame, legs: pd.DataFrame, airports: AirportTable, radius_km: float) -> pd.DataFrame:
    """``flights`` (``analysis.flights.build_flights``) with their ends placed by the traces' legs
    (``legs``: ``icao24``, ``takeoff_time``/``landing_time`` (UTC, NaT when none), ``takeoff_lon``,
    ``takeoff_lat``, ``landing_lon``, ``landing_lat``): a flight first seen up to 30 min after one
    of its aircraft's take-offs (or 10 min before it) starts at the airport within ``radius_km`` of
    that take-off, likewise its end with a landing; the classes of flights in the FIR follow. A
    flight's end that no leg explains keeps its place, and a class ``unknown`` stays unknown unless
    both ends are now placed."""
    if not len(flights) or not len(legs):
        return flights
    out = flights.copy()
    slack, lead = pd.Timedelta(seconds=LEG_SLACK_S), pd.Timedelta(seconds=LEG_LEAD_S)
    by_aircraft = {k: g for k, g in legs.groupby("icao24")}
    for end, when, lon, lat, sign in (
        ("start", "takeoff_time", "takeoff_lon", "takeoff_lat", 1),
        ("end", "landing_time", "landing_lon", "landing_lat", -1),
    ):
        seen = out["first_time"] if end == "start" else out["last_time"]
        hits: dict[int, tuple[float, float]] = {}
        for i, (icao, t) in enumerate(zip(out["icao24"], seen, strict=True)):
            mine = by_aircraft.get(icao)
            if mine is None:
                continue
            gap = (t - mine[when]) * sign  # how long after the take-off (before the landing) the flight was seen
            ok = mine[when].notna() & (gap <= slack) & (gap >= -lead)
            if ok.any():
                best = mine.loc[(gap[ok].abs()).idxmin()]
                hits[i] = (float(best[lon]), float(best[lat]))
        if not hits:
            continue
        rows = np.fromiter(hits, dtype=np.intp)
        near, dist = airports.nearest(
            np.array([hits[i][0] for i in rows], dtype=np.float64),
            np.array([hits[i][1] for i in rows], dtype=np.float64),
        )
        found = (near >= 0) & (dist <= radius_km)
        rows, near = rows[found], near[found]
        index = out.index[rows]
        out.loc[index, f"{end}_airport"] = airports.icao[near]
        out.loc[index, f"{end}_in_fir"] = airports.in_fir[near]
    start_fir, end_fir = out["start_in_fir"].astype(bool), out["end_in_fir"].astype(bool)
    placed = out["start_airport"].notna() & out["end_airport"].notna()
    cls = np.select(
        [start_fir & end_fir, start_fir & ~end_fir, ~start_fir & end_fir],
        ["domestic", "departure", "arrival"],
        default="overflight",
    )
    known = out["flight_class"].notna() & ((out["flight_class"] != "unknown") | placed)
    out.loc[known & out["in_fir"].astype(bool), "flight_class"] = cls[known & out["in_fir"].astype(bool)]
    return out
