"""The store's tables as pandas DataFrames, for the steps that analyse them (report, export, demo).

Place in the flow: ``pipeline.report`` and ``pipeline.export`` read polls, counts and positions
through here. Times come back tz-aware UTC (``datetime64[s, UTC]``); positions keep the nullable
dtypes of ``schema.Column.pandas_dtype`` and ``zone`` is categorical. This is the only store
module that imports pandas, so polling and status never load it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.counts import SNAPSHOT_STATUSES
from monitor.errors import StoreError
from monitor.store.db import Store, source_filter, to_epoch
from monitor.store.positions import iter_positions, positions_schema
from monitor.store.snapshots import hour_rows

__all__ = [
    "count_frame",
    "hourly_count_frame",
    "iter_frames",
    "poll_frame",
    "positions_frame",
    "read_frame",
    "read_positions",
]

_STATUS_SLOTS = len(SNAPSHOT_STATUSES)  # a packed poll's status: one of these (``poll_frame``)

_TO_PANDAS = {pa.string(): pd.StringDtype(), pa.bool_(): pd.BooleanDtype(), pa.int16(): pd.Int16Dtype()}


def positions_frame(table: pa.Table) -> pd.DataFrame:
    """A table of position columns as pandas, with the dtypes ``Column.pandas_dtype`` names.

    ``zone`` becomes a categorical; other columns keep their nullable dtypes.
    """
    df: pd.DataFrame = table.to_pandas(types_mapper=_TO_PANDAS.get)
    if "stale" in df.columns and not df["stale"].isna().any():
        df["stale"] = df["stale"].to_numpy(dtype=bool)
    if "zone" in df.columns:
        df["zone"] = df["zone"].astype("category")
    return df


def read_frame(store: Store, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """The rows of ``sql`` as one DataFrame."""
    return pd.concat(list(iter_frames(store, sql, params)), ignore_index=True)


def iter_frames(
    store: Store, sql: str, params: Sequence[Any] = (), chunk_rows: int = 100_000
) -> Iterator[pd.DataFrame]:
    """The rows of ``sql`` as DataFrames of up to ``chunk_rows`` rows (bounded memory); at least one,
    empty with the query's columns when there are no rows."""
    cur = store.execute(sql, params)
    columns = [d[0] for d in cur.description]
    first = True
    try:
        while rows := cur.fetchmany(chunk_rows):
            first = False
            yield pd.DataFrame.from_records(rows, columns=columns)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store {store.path}: {exc}", path=store.path) from None
    if first:
        yield pd.DataFrame(columns=columns)


def read_positions(
    store: Store,
    start: datetime | None = None,
    end: datetime | None = None,
    columns: Sequence[str] | None = None,
    statuses: Sequence[str] = ("ok",),
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The positions of ``store.positions.iter_positions`` as one DataFrame (schema dtypes, ``zone``
    categorical). For months of data use ``iter_positions``: this holds them all in memory."""
    tables = list(iter_positions(store, start, end, columns, statuses, sources=sources)) or [
        positions_schema(columns).empty_table()
    ]
    return positions_frame(pa.concat_tables(tables))


def _utc_seconds(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, unit="s", utc=True).astype("datetime64[s, UTC]")


def poll_frame(store: Store, start: datetime, end: datetime, sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Poll attempts of ``sources`` (None: all) in ``[start, end)``, in time order: ``time`` (API
    time, else request time; UTC), ``status`` (a categorical of ``SNAPSHOT_STATUSES``) and
    ``simulated``.

    A year holds half a million polls. Each comes packed in one number (time, status, simulated),
    and all of them in one string, not as rows of Python objects: 0.3 s for a year, where the rows
    took 1.0-1.6 s (measured; the same for 90 days is 0.1 s against 0.4 s)."""
    which, params = source_filter(sources, "source")
    status = " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(SNAPSHOT_STATUSES))
    polled = "COALESCE(api_time, requested_at)"
    try:
        packed, n = store.execute(
            f"SELECT group_concat(({polled} * {_STATUS_SLOTS} + CASE status {status} END) * 2 + (simulated != 0)), "
            f"COUNT(*) FROM snapshots WHERE {polled} >= ? AND {polled} < ?{which}",
            (to_epoch(start), to_epoch(end), *params),
        ).fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the store {store.path}: {exc}", path=store.path) from None
    values = np.sort(np.fromstring(packed or "", dtype=np.int64, sep=","))
    if len(values) != n:  # a status this vzmon does not know packs to NULL, which group_concat leaves out
        raise StoreError(
            f"the store {store.path} holds polls of a status this vzmon does not know ({len(values)} of {n} "
            "read): upgrade vzmon",
            path=store.path,
        )
    return pd.DataFrame(
        {
            "time": _utc_seconds(pd.Series(values // (2 * _STATUS_SLOTS))),
            "status": pd.Categorical.from_codes((values // 2) % _STATUS_SLOTS, categories=pd.Index(SNAPSHOT_STATUSES)),
            "simulated": (values % 2).astype(bool),
        }
    )


def count_frame(store: Store, start: datetime, end: datetime, sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Zone counts of ``sources``' (None: all) ``ok`` snapshots with API time in ``[start, end)``:
    ``snapshot_id``, ``time`` (UTC), ``zone``, ``airborne``, ``on_ground``, ``stale``."""
    which, params = source_filter(sources)
    df = read_frame(
        store,
        "SELECT s.id AS snapshot_id, s.api_time AS time, z.zone, z.airborne, z.on_ground, z.stale "
        "FROM zone_counts z "
        "JOIN snapshots s ON s.id = z.snapshot_id WHERE s.status = 'ok' AND s.api_time >= ? AND s.api_time < ?"
        f"{which} ORDER BY s.api_time",
        (to_epoch(start), to_epoch(end), *params),
    )
    df["time"] = _utc_seconds(df["time"])
    return df


def hourly_count_frame(store: Store, start: datetime, end: datetime, source: str) -> pd.DataFrame:
    """Per UTC hour starting in ``[start, end)`` and zone, the mean ``airborne`` count of
    ``source``'s ok snapshots in that hour (``zone_hours``, kept with each poll): ``time`` (the
    hour's start, UTC), ``zone``, ``airborne``. What ``analysis.hourly_airborne`` makes of
    :func:`count_frame`'s rows for whole hours, from a few thousand rows instead of a million."""
    rows = hour_rows(store, source, start, end)
    df = pd.DataFrame.from_records(rows, columns=["hour", "zone", "n", "airborne"])
    return pd.DataFrame(
        {
            "time": _utc_seconds(df["hour"].astype("int64") * 3600),
            "zone": df["zone"].astype(object),
            "airborne": df["airborne"].astype(float) / df["n"].astype(float),
        }
    )
