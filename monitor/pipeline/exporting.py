"""Exporting: the store's data as CSV or Parquet for other tools.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). What can be
exported:

- ``positions``: every stored position with its snapshot time; Parquet is partitioned by UTC date
  (``date=YYYY-MM-DD/part-0.parquet``), CSV is one file.
- ``counts``: aircraft per zone per successful snapshot (airborne, on ground, stale).
- ``polls``: every poll attempt with its status (gaps included), for coverage checks.
- ``hourly``: per hour, the poll coverage and the mean aircraft airborne per zone (hours below
  ``report.min_coverage`` are empty: gaps).

Times are UTC (ISO 8601 with Z in CSV, timestamp[s, UTC] in Parquet).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from monitor.analysis import Window, hourly_airborne, hourly_coverage, infer_interval_s
from monitor.errors import ConfigError
from monitor.pipeline.polling import zone_set_for
from monitor.settings import Settings
from monitor.store import Store

__all__ = ["EXPORTS", "ExportResult", "export"]

EXPORTS = ("positions", "counts", "polls", "hourly")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExportResult:
    what: str
    path: Path
    rows: int
    files: int


def _csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)


def export(
    settings: Settings,
    what: str,
    fmt: str,
    *,
    out: Path | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    db: Path | None = None,
) -> ExportResult:
    """Write ``what`` (one of ``EXPORTS``) as ``fmt`` (csv or parquet); returns where and how much."""
    if what not in EXPORTS:
        raise ConfigError(f"cannot export {what!r}; choose one of {', '.join(EXPORTS)}", key="what")
    path = db or settings.store_db
    if not path.exists():
        raise ConfigError(f"no store at {path}: run `vzmon collect` first, or set VZMON_DB", key="store.db")
    lo, hi = start or _EPOCH, end or datetime(9999, 1, 1, tzinfo=UTC)
    suffix = "" if (what == "positions" and fmt == "parquet") else f".{fmt}"
    target = out or settings.store_outputs_dir / "exports" / f"{what}{suffix}"
    with Store(path) as store:
        if what == "positions":
            df = store.read_positions(lo, hi)
            df["zone"] = df["zone"].astype(str)
        elif what == "counts":
            df = store.count_frame(lo, hi)
        elif what == "polls":
            df = store.read_frame(
                "SELECT id, source, requested_at, api_time, status, http_status, credits_charged, credits_remaining, "
                "n_states, n_malformed, duration_ms, attempts, retry_at, simulated, error FROM snapshots "
                "WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at",
                (int(lo.timestamp()), int(min(hi, datetime(2200, 1, 1, tzinfo=UTC)).timestamp())),
            )
            for col in ("requested_at", "api_time", "retry_at"):
                df[col] = pd.to_datetime(df[col], unit="s", utc=True).astype("datetime64[s, UTC]")
        else:
            df = _hourly(settings, store, lo, hi)
    if what == "positions" and fmt == "parquet":
        if target.exists():
            shutil.rmtree(target)
        table = pa.Table.from_pandas(df.assign(date=df["time"].dt.strftime("%Y-%m-%d")), preserve_index=False)
        pq.write_to_dataset(table, target, partition_cols=["date"], basename_template="part-{i}.parquet")
        files = len(list(target.rglob("*.parquet")))
    elif fmt == "parquet":
        target.parent.mkdir(parents=True, exist_ok=True)
        df.to_parquet(target, index=False)
        files = 1
    else:
        _csv(df, target)
        files = 1
    return ExportResult(what, target, len(df), files)


def _hourly(settings: Settings, store: Store, lo: datetime, hi: datetime) -> pd.DataFrame:
    polls = store.poll_frame(lo, hi)
    if polls.empty:
        return pd.DataFrame(columns=["hour", "coverage"])
    start = polls["time"].min().floor("h").to_pydatetime()
    end = (polls["time"].max().floor("h") + pd.Timedelta(hours=1)).to_pydatetime()
    window = Window("export", max(start, lo), min(end, hi))
    interval = settings.report_interval_s or infer_interval_s(polls["time"])
    zones = list(zone_set_for(settings).codes[:-1])
    cov = hourly_coverage(polls, window, interval)
    air = hourly_airborne(store.count_frame(window.start, window.end), window, zones)
    air[cov < settings.report_min_coverage] = float("nan")
    out = air.add_prefix("airborne_")
    out.insert(0, "coverage", cov)
    return out.rename_axis("hour").reset_index()
