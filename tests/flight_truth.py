"""vzmon's flight counts against the truth of ``tests/independent_traffic.py``.

:func:`measure` reads a store as ``pipeline.report`` does (positions from 6 hours before the window
to 6 hours after it, the polls' times for the polling clock), builds flights with
``analysis.flights.build_flights``, counts them per hour with ``analysis.hourly.hourly_flights``
(classed flights scaled up by each hour's share of classed ones, as the report shares out the
unknown class) and compares, over the hours with enough polls:

- flights per day per class in the FIR, vzmon's against the truth's, and the relative error;
- domestic misclassification: the share of true domestic legs matched (same ``icao24``, times
  overlapping) to a vzmon flight classed departure or arrival;
- the first hour after each feed outage: flights vzmon saw entering the FIR then, against the
  legs that truly entered in that hour.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.airports import airport_table
from monitor.analysis.before_after import cadence_in
from monitor.analysis.flights import FLIGHT_CLASSES, FlightRules, build_flights
from monitor.analysis.hourly import hourly_coverage, hourly_flights
from monitor.analysis.tracks import Tracks
from monitor.analysis.windows import Window
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.store.db import Store
from monitor.store.frames import poll_frame
from monitor.store.positions import iter_positions

__all__ = ["LEAD", "Measured", "OutageHour", "flight_rules", "has_join_unseen", "measure", "read_span"]

LEAD = timedelta(hours=6)  # positions read before and after the window, as the report reads them
HOUR = pd.Timedelta(hours=1)


def has_join_unseen() -> bool:
    """Whether this vzmon's ``FlightRules`` has the ``join_unseen`` switch."""
    return "join_unseen" in FlightRules.__dataclass_fields__


def flight_rules(join_unseen: bool | None = None) -> FlightRules:
    """The default rules, or with ``join_unseen`` set where this vzmon has that switch (without
    it, vzmon always splits at unseen stretches, as ``join_unseen=False``)."""
    if join_unseen is None or not has_join_unseen():
        return FlightRules()
    switch: dict[str, Any] = {"join_unseen": join_unseen}  # typed loosely: the field may not exist
    return FlightRules(**switch)


@dataclass(frozen=True)
class OutageHour:
    """The first whole hour after a feed outage: flights vzmon saw entering the FIR in it (NaN when
    it is not a usable hour) and the legs that truly entered in it."""

    hour: pd.Timestamp
    counted: float
    truth: int


@dataclass(frozen=True)
class Measured:
    """vzmon's flights against the truth over ``window`` (``hours`` usable hours)."""

    window: Window
    hours: int
    classes: pd.DataFrame  # index: the four classes; truth_per_day, counted_per_day, error (relative)
    unknown_share: float  # of the FIR's flights in usable hours, classed unknown (shared out)
    domestic: int  # true domestic legs that entered the FIR in the window
    domestic_misclassed: int  # ... matched to a vzmon flight classed departure or arrival
    split: pd.Series  # per true class: share of legs matched to two or more vzmon FIR flights
    outages: tuple[OutageHour, ...]
    hourly_error: float  # median |counted - truth| / truth of FIR entries per usable hour, outages' next hours left out
    build_s: float  # build_flights wall time
    flights: pd.DataFrame = field(repr=False)
    entries: pd.DataFrame = field(repr=False)

    @property
    def domestic_misclassified(self) -> float:
        return self.domestic_misclassed / self.domestic if self.domestic else 0.0


def read_span(settings: Settings, db: Path, window: Window) -> tuple[Tracks, pd.DataFrame]:
    """The positions from ``LEAD`` before ``window`` to ``LEAD`` after it, and the polls of the
    window and a day either side, as ``pipeline.report`` reads them."""
    zones = [z.code for z in zone_set_for(settings).zones]
    with Store.open_existing(db) as store:
        polls = poll_frame(store, window.start - timedelta(days=1), window.end + timedelta(days=1))
        tracks = Tracks.from_tables(
            iter_positions(store, window.start - LEAD, window.end + LEAD, Tracks.COLUMNS), zones
        )
    return tracks, polls


def _match(truth: pd.DataFrame, flights: pd.DataFrame) -> pd.DataFrame:
    """Pairs (truth row, vzmon flight) of one aircraft whose times overlap."""
    f = flights[["flight", "icao24", "flight_class", "in_fir", "first_time", "last_time"]]
    t = truth.reset_index(names="leg")[["leg", "icao24", "first_time", "last_time"]]
    t = t.assign(
        t0=pd.to_datetime(t["first_time"], unit="s", utc=True), t1=pd.to_datetime(t["last_time"], unit="s", utc=True)
    )
    pairs = t.drop(columns=["first_time", "last_time"]).merge(f, on="icao24")
    return pairs[(pairs["first_time"] <= pairs["t1"]) & (pairs["last_time"] >= pairs["t0"])]


def measure(
    settings: Settings,
    db: Path,
    truth: pd.DataFrame,
    window: Window,
    rules: FlightRules | None = None,
    outages: tuple[tuple[int, int], ...] = (),
    span: tuple[Tracks, pd.DataFrame] | None = None,
) -> Measured:
    """Build vzmon's flights from the store ``db`` with ``rules`` and compare them with ``truth``
    (from ``independent_traffic.fly``) over ``window``. ``outages``: (start, end) Unix seconds.
    ``span``: what :func:`read_span` returned, to read the store once for several rules."""
    zone_set = zone_set_for(settings)
    fir = zone_set.fir.code
    zones = [z.code for z in zone_set.zones]
    tracks, polls = span or read_span(settings, db, window)
    ok_times = polls.loc[polls["status"] == "ok", "time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    started = time.perf_counter()
    flights, entries = build_flights(tracks, airport_table(zone_set), fir, rules or FlightRules(), ok_times=ok_times)
    build_s = time.perf_counter() - started

    interval = settings.report_interval_s or cadence_in(polls, window)
    coverage = hourly_coverage(polls, window, interval)
    table = hourly_flights(entries, flights, window, zones, fir)
    usable = coverage.reindex(table.index).fillna(0.0) >= settings.report_min_coverage

    entered = truth[truth["truth_class"].notna()].copy()
    entered["hour"] = pd.to_datetime(entered["entry_time"], unit="s", utc=True).dt.floor("h")
    inside = entered[(entered["hour"] >= table.index[0]) & (entered["hour"] <= table.index[-1])]
    truth_hourly = pd.crosstab(inside["hour"], inside["truth_class"]).reindex(
        index=table.index, columns=list(FLIGHT_CLASSES), fill_value=0
    )
    rows = {}
    for name in FLIGHT_CLASSES:
        counted = table[f"{fir}:{name}"]
        ok = usable & counted.notna()
        truth_day = float(truth_hourly.loc[ok, name].mean() * 24) if ok.any() else float("nan")
        counted_day = float(counted[ok].mean() * 24) if ok.any() else float("nan")
        rows[name] = (truth_day, counted_day, counted_day / truth_day - 1 if truth_day else float("nan"))
    classes = pd.DataFrame.from_dict(rows, orient="index", columns=["truth_per_day", "counted_per_day", "error"])
    total = float(table.loc[usable, fir].sum())
    unknown_share = float(table.loc[usable, f"{fir}:unknown"].sum()) / total if total else 0.0

    # domestic misclassification and splits, on the legs that entered the FIR inside the window
    legs = inside.drop(columns="hour")
    pairs = _match(legs, flights[flights["in_fir"]])
    dom = legs.index[legs["truth_class"] == "domestic"]
    wrong = pairs[pairs["leg"].isin(dom) & pairs["flight_class"].isin(["departure", "arrival"])]["leg"].nunique()
    pieces = pairs.groupby("leg").size().reindex(legs.index, fill_value=0)
    split = (pieces >= 2).groupby(legs["truth_class"]).mean()

    after: list[OutageHour] = []
    after_hours: set[pd.Timestamp] = set()
    truth_all = inside.groupby("hour").size().reindex(table.index, fill_value=0)
    for _, end in outages:
        hour = pd.Timestamp(datetime.fromtimestamp(end, UTC)).ceil("h")
        if hour in table.index:
            after_hours.add(hour)
            seen = float(table[fir].loc[hour]) if usable.loc[hour] else float("nan")
            after.append(OutageHour(hour, seen, int(truth_all.loc[hour])))
    normal = usable & ~table.index.isin(list(after_hours)) & (truth_all > 0)
    errors = (table.loc[normal, fir] - truth_all[normal]).abs() / truth_all[normal]
    return Measured(
        window=window,
        hours=int(usable.sum()),
        classes=classes,
        unknown_share=unknown_share,
        domestic=len(dom),
        domestic_misclassed=int(wrong),
        split=split,
        outages=tuple(after),
        hourly_error=float(errors.median()) if len(errors) else float("nan"),
        build_s=build_s,
        flights=flights,
        entries=entries,
    )
