"""The store's tables as typed chunks for ``vzmon export``: counts and poll attempts, streamed.

Place in the flow: ``pipeline.export`` writes these chunks to CSV or Parquet (``monitor.outputs``)
without ever holding the whole range. Column types are fixed here, so every chunk of a Parquet
file has the same schema: whole numbers that may be missing are nullable integers (``200``, never
``200.0``), times are UTC seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from monitor.store.db import Store, source_filter, to_epoch
from monitor.store.frames import iter_frames

__all__ = ["iter_counts", "iter_polls"]

_COUNTS_SQL = (
    "SELECT s.id AS snapshot_id, s.api_time AS time, z.zone, z.airborne, z.on_ground, z.stale, s.source "
    "FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id "
    "WHERE s.status = 'ok' AND s.api_time >= ? AND s.api_time < ? ORDER BY s.api_time, z.zone"
)
_POLLS_SQL = (
    "SELECT id, source, requested_at, api_time, status, http_status, credits_charged, credits_remaining, "
    "n_states, n_malformed, duration_ms, attempts, retry_at, simulated, error FROM snapshots "
    "WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at, id"
)
_UTC_S = pd.DatetimeTZDtype("s", "UTC")
_COUNTS_TYPES: dict[str, Any] = {
    "snapshot_id": "int64",
    "time": _UTC_S,
    "zone": "string",
    "airborne": "int64",
    "on_ground": "int64",
    "stale": "int64",
    "source": "string",  # last: exports made before it still begin with the same columns
}
_POLLS_TYPES: dict[str, Any] = {
    "id": "int64",
    "source": "string",
    "requested_at": _UTC_S,
    "api_time": _UTC_S,
    "status": "string",
    "http_status": "Int64",
    "credits_charged": "Int64",
    "credits_remaining": "Int64",
    "n_states": "Int64",
    "n_malformed": "Int64",
    "duration_ms": "Int64",
    "attempts": "Int64",
    "retry_at": _UTC_S,
    "simulated": "bool",
    "error": "string",
}


def _typed(chunk: pd.DataFrame, types: dict[str, Any]) -> pd.DataFrame:
    """A chunk read from SQLite with the export's column types (whole Unix seconds become UTC times)."""
    out = pd.DataFrame(index=chunk.index)
    for name, dtype in types.items():
        col = chunk[name]
        if dtype is _UTC_S:
            out[name] = pd.to_datetime(pd.to_numeric(col), unit="s", utc=True).astype(_UTC_S)
        elif dtype == "bool":
            out[name] = pd.to_numeric(col).fillna(0).astype(bool)
        elif dtype == "string":
            out[name] = col.astype("string")
        else:
            out[name] = pd.to_numeric(col).astype(dtype)
    return out


def iter_counts(
    store: Store, start: datetime, end: datetime, sources: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Zone counts of ``sources``' (None: all) successful snapshots with API time in ``[start, end)``,
    in chunks."""
    which, params = source_filter(sources)
    sql = _COUNTS_SQL.replace(" ORDER BY", f"{which} ORDER BY")
    for chunk in iter_frames(store, sql, (to_epoch(start), to_epoch(end), *params)):
        yield _typed(chunk, _COUNTS_TYPES)


def iter_polls(
    store: Store,
    start: datetime,
    end: datetime,
    redact: Callable[[str], str] = str,
    sources: Sequence[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Every poll attempt of ``sources`` (None: all) requested in ``[start, end)``, in chunks; error
    texts through ``redact`` (errors stored before redaction existed are redacted on the way out)."""
    which, params = source_filter(sources, "source")
    sql = _POLLS_SQL.replace(" ORDER BY", f"{which} ORDER BY")
    for chunk in iter_frames(store, sql, (to_epoch(start), to_epoch(end), *params)):
        typed = _typed(chunk, _POLLS_TYPES)
        typed["error"] = typed["error"].map(redact, na_action="ignore").astype("string")
        yield typed
