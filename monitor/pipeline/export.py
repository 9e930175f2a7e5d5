"""Export: the store's data as CSV or Parquet for other tools, streamed and written atomically.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). What can be
exported:

- ``positions``: every stored position with its snapshot time; Parquet is a folder partitioned by
  UTC date (``date=YYYY-MM-DD/part-0.parquet``), CSV is one file.
- ``counts``: aircraft per zone per successful snapshot (airborne, on ground, stale).
- ``polls``: every poll attempt with its status (gaps included), for coverage checks.
- ``positions --flavour traffic``: the positions as the ``traffic`` library's ``Flight`` takes
  them (``timestamp`` UTC, feet, knots, ft/min), a Parquet file per UTC day.
- ``hourly``: per hour, the poll coverage and the mean aircraft airborne per zone (hours below
  ``report.min_coverage`` are empty: gaps).

Times are UTC (ISO 8601 with Z in CSV, timestamp UTC in Parquet).

Memory stays bounded however long the range: rows are read and written in chunks, never as one
DataFrame of the whole range. Files users keep (``monitor.outputs``): a file is written aside and
renamed over the target when complete; the positions folder is built aside and swapped in, and
an existing folder is replaced only when it is a previous vzmon export of positions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monitor.analysis.cadence import infer_interval_s
from monitor.analysis.hourly import hourly_airborne, hourly_coverage
from monitor.analysis.windows import Window
from monitor.errors import ConfigError
from monitor.outputs import Layout, atomic_file, staged_folder
from monitor.pipeline.shared import view_for, zone_set_for
from monitor.schema import POSITION_SCHEMA
from monitor.settings.table import Settings
from monitor.store.dataset import credit_for
from monitor.store.db import Store
from monitor.store.export import iter_counts, iter_polls
from monitor.store.frames import count_frame, poll_frame, positions_frame
from monitor.store.positions import iter_positions, positions_schema

__all__ = ["EXPORTS", "FLAVOURS", "HEADS", "POSITIONS_LAYOUT", "TRAFFIC_SCHEMA", "ExportResult", "as_traffic", "export"]

EXPORTS = ("positions", "counts", "polls", "hourly")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END = datetime(2200, 1, 1, tzinfo=UTC)
_DATE_DIR = re.compile(r"^date=\d{4}-\d{2}-\d{2}$")
_PART_FILE = re.compile(r"^part-\d+\.parquet$")


@dataclass(frozen=True)
class ExportResult:
    what: str
    path: Path
    rows: int
    files: int


def _csv_text(df: pd.DataFrame) -> pd.DataFrame:
    """Times as ISO 8601 with Z, as every vzmon CSV writes them."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


class _FileSink:
    """Appends DataFrame chunks to one open CSV or Parquet file."""

    def __init__(self, fh: IO[bytes], fmt: str) -> None:
        self._fh = fh
        self._fmt = fmt
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._header_written = False
        self.rows = 0

    def write(self, chunk: pd.DataFrame) -> None:
        if self._fmt == "csv":
            _csv_text(chunk).to_csv(self._fh, index=False, header=not self._header_written)
            self._header_written = True
        else:
            table = pa.Table.from_pandas(chunk, preserve_index=False, schema=self._schema)
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self._fh, table.schema, compression="zstd")
            self._parquet.write_table(table)
        self.rows += len(chunk)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()


# The first columns of each export: an existing file is replaced only when it begins with them
# (a previous export of the same thing), never a file vzmon did not write.
HEADS = {
    "positions": ("snapshot_id", "time", "icao24"),
    "counts": ("snapshot_id", "time", "zone"),
    "polls": ("id", "source", "requested_at"),
    "hourly": ("hour", "coverage"),
}


def _is_export(path: Path, what: str, fmt: str) -> bool:
    """Whether the file at ``path`` is a previous export of ``what`` as ``fmt`` (by its columns)."""
    head = HEADS[what]
    try:
        if fmt == "parquet":
            names = tuple(pq.read_schema(path).names)
        else:
            with path.open(encoding="utf-8") as fh:
                names = tuple(fh.readline().strip().split(","))
    except (OSError, ValueError, UnicodeDecodeError, pa.ArrowException):
        return False
    return names[: len(head)] == head


def _write_file(target: Path, what: str, fmt: str, chunks: Iterator[pd.DataFrame]) -> int:
    replaceable = lambda path: _is_export(path, what, fmt)  # noqa: E731
    with (
        atomic_file(target, fix="choose another file with --out", replaceable=replaceable) as tmp,
        tmp.open("wb") as fh,
    ):
        sink = _FileSink(fh, fmt)
        for chunk in chunks:
            sink.write(chunk)
        sink.close()
    return sink.rows


def _position_chunks(store: Store, lo: datetime, hi: datetime, sources: list[str] | None) -> Iterator[pd.DataFrame]:
    """Positions in chunks, as pandas; one empty chunk (the header of a CSV) when there are none."""
    empty = True
    for table in iter_positions(store, lo, hi, sources=sources):
        empty = False
        df = positions_frame(table)
        df["zone"] = df["zone"].astype(str)
        yield df
    if empty:
        df = positions_frame(positions_schema().empty_table())
        df["zone"] = df["zone"].astype(str)
        yield df


_POSITIONS_ARROW = pa.schema(
    [pa.field("snapshot_id", pa.int64()), pa.field("time", pa.timestamp("s", tz="UTC")), *POSITION_SCHEMA]
)


def _is_day_partition(entry: Path) -> bool:
    """``date=YYYY-MM-DD/`` holding ``part-N.parquet`` files only."""
    return (
        entry.is_dir()
        and bool(_DATE_DIR.match(entry.name))
        and all(f.is_file() and _PART_FILE.match(f.name) for f in list(entry.iterdir()))
    )


def _signed_positions(folder: Path) -> bool:
    """An export made before folders were marked: its Parquet files have vzmon's position columns
    (another dataset partitioned by date has its own)."""
    parts = sorted(folder.glob("date=*/part-*.parquet"))
    try:
        return bool(parts) and all(pq.read_schema(p).names == _POSITIONS_ARROW.names for p in parts)
    except (OSError, pa.ArrowException):
        return False


POSITIONS_LAYOUT = Layout(
    kind="export of positions (Parquet, partitioned by UTC date)", holds=_is_day_partition, signed=_signed_positions
)


def _write_partitioned(target: Path, tables: Iterator[pa.Table], source: str, credit: str) -> tuple[int, int]:
    """Positions into ``target/date=YYYY-MM-DD/part-0.parquet``, each file's metadata saying whom
    the data comes from. Returns (rows, files)."""
    schema = _POSITIONS_ARROW.with_metadata({"vzmon.source": source, "vzmon.data_credit": credit})

    def path_for(stage: Path, day: str) -> Path:
        (stage / f"date={day}").mkdir()
        return stage / f"date={day}" / "part-0.parquet"

    rows = (table.cast(_POSITIONS_ARROW) for table in tables)
    with staged_folder(target, POSITIONS_LAYOUT, "--out") as stage:
        return _write_by_day(stage, rows, schema, "time", path_for)


def _write_by_day(
    stage: Path,
    tables: Iterator[pa.Table],
    schema: pa.Schema,
    time_column: str,
    path_for: Callable[[Path, str], Path],
) -> tuple[int, int]:
    """``tables`` (each a day or part of one, in order) into a file per UTC day of ``time_column``
    at ``path_for(stage, "YYYY-MM-DD")``, one writer open at a time. Returns (rows, files)."""
    rows = files = 0
    writer: pq.ParquetWriter | None = None
    current = ""
    try:
        for table in tables:
            table = table.replace_schema_metadata(schema.metadata)
            days = pc.strftime(table[time_column], format="%Y-%m-%d")
            for day in pc.unique(days).to_pylist():
                part = table.filter(pc.equal(days, day))
                if writer is None or day != current:
                    if writer is not None:
                        writer.close()
                    writer = pq.ParquetWriter(path_for(stage, day), schema, compression="zstd")
                    current, files = day, files + 1
                writer.write_table(part)
                rows += part.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows, files


FLAVOURS = ("vzmon", "traffic")
_TRAFFIC_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.parquet$")
FT, KT, FT_MIN = 0.3048, 1852 / 3600, 0.3048 / 60  # metres a foot; m/s a knot; m/s a foot a minute
# the columns and dtypes of a traffic Flight (xoolive/traffic: timestamp UTC, feet, knots, ft/min)
TRAFFIC_SCHEMA = pa.schema(
    [
        pa.field("timestamp", pa.timestamp("s", tz="UTC")),
        pa.field("icao24", pa.string()),
        pa.field("callsign", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("altitude", pa.float64()),
        pa.field("groundspeed", pa.float64()),
        pa.field("track", pa.float64()),
        pa.field("vertical_rate", pa.float64()),
        pa.field("onground", pa.bool_()),
        pa.field("squawk", pa.string()),
        pa.field("geoaltitude", pa.float64()),
        pa.field("last_position", pa.timestamp("s", tz="UTC")),
        pa.field("source", pa.string()),
    ]
)
TRAFFIC_LAYOUT = Layout(
    kind="export of positions for traffic (a Parquet file per UTC day)",
    holds=lambda entry: entry.is_file() and bool(_TRAFFIC_FILE.match(entry.name)),
    signed=lambda folder: False,
)
_TRAFFIC_COLUMNS = ["icao24", "callsign", "latitude", "longitude", "baro_altitude_m", "velocity_mps", "true_track_deg",
                    "vertical_rate_mps", "on_ground", "squawk", "geo_altitude_m", "time_position"]  # fmt: skip


def as_traffic(table: pa.Table, source: str) -> pa.Table:
    """Positions (``store.iter_positions``) as rows of a traffic ``Flight``: the rows with a
    position, the snapshot's time as ``timestamp``, feet, knots and ft/min, callsigns stripped."""
    table = table.filter(pc.and_(pc.is_valid(table["latitude"]), pc.is_valid(table["longitude"])))

    def scaled(name: str, by: float) -> pa.Array:
        return pc.round(pc.divide(table[name].cast(pa.float64()), by), 1)

    return pa.table(
        {
            "timestamp": table["time"],
            "icao24": table["icao24"],
            "callsign": pc.utf8_trim_whitespace(table["callsign"]),
            "latitude": table["latitude"].cast(pa.float64()),
            "longitude": table["longitude"].cast(pa.float64()),
            "altitude": scaled("baro_altitude_m", FT),
            "groundspeed": scaled("velocity_mps", KT),
            "track": table["true_track_deg"].cast(pa.float64()),
            "vertical_rate": scaled("vertical_rate_mps", FT_MIN),
            "onground": pc.fill_null(table["on_ground"], False),
            "squawk": table["squawk"],
            "geoaltitude": scaled("geo_altitude_m", FT),
            "last_position": table["time_position"].cast(pa.timestamp("s", tz="UTC")),
            "source": pa.array([source] * table.num_rows, pa.string()),
        },
        schema=TRAFFIC_SCHEMA,
    )


def _write_traffic(target: Path, tables: Iterator[pa.Table], source: str, credit: str) -> tuple[int, int]:
    """Positions as ``target/YYYY-MM-DD.parquet``, one file per UTC day, each file's metadata
    saying whom the data comes from (``credit``). Returns (rows, files)."""
    schema = TRAFFIC_SCHEMA.with_metadata({"vzmon.source": source, "vzmon.data_credit": credit})
    rows = (as_traffic(table, source) for table in tables)
    with staged_folder(target, TRAFFIC_LAYOUT, "--out") as stage:
        return _write_by_day(stage, rows, schema, "timestamp", lambda stage, day: stage / f"{day}.parquet")


def export(
    settings: Settings,
    what: str,
    fmt: str,
    *,
    out: Path | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    db: Path | None = None,
    source: str | None = None,
    flavour: str = "vzmon",
) -> ExportResult:
    """Write ``what`` (one of ``EXPORTS``) as ``fmt`` (csv or parquet); returns where and how much.

    ``source`` keeps one source's data. Counts and polls name their source in a column, so without
    it they hold every source; positions and hourly metrics do not, so they need it when the range
    holds several (two networks' views of one sky are never added up).

    Raises NotAStore (no store, or not a vzmon store), ConfigError (a path of the wrong kind, a
    folder that is not a previous export) and OutputError (the disk refused the write).
    """
    if what not in EXPORTS:
        raise ConfigError(f"cannot export {what!r}; choose one of {', '.join(EXPORTS)}", key="what")
    if flavour not in FLAVOURS:
        raise ConfigError(f"unknown --flavour {flavour!r}; choose one of {', '.join(FLAVOURS)}", key="--flavour")
    if flavour == "traffic" and (what != "positions" or fmt != "parquet"):
        raise ConfigError(
            "--flavour traffic writes positions as Parquet: use `vzmon export positions --format parquet "
            "--flavour traffic`",
            key="--flavour",
        )
    lo, hi = start or _EPOCH, min(end or _END, _END)
    suffix = "" if (what == "positions" and fmt == "parquet") else f".{fmt}"
    name = "positions-traffic" if flavour == "traffic" else f"{what}{suffix}"
    target = out or settings.store_outputs_dir / "exports" / name
    with Store.open_existing(db or settings.store_db, redact=settings.redact) as store:
        tagged = [source] if source is not None else None  # counts and polls carry their source
        one = view_for(settings, store, lo, hi, source) if what in ("positions", "hourly") else tagged
        view = one[0] if one else "opensky"
        if flavour == "traffic":
            positions = iter_positions(store, lo, hi, _TRAFFIC_COLUMNS, sources=one)
            rows, files = _write_traffic(target, positions, view, credit_for(store, view, lo, hi))
            return ExportResult(what, target, rows, files)
        if what == "positions" and fmt == "parquet":
            positions = iter_positions(store, lo, hi, sources=one)
            rows, files = _write_partitioned(target, positions, view, credit_for(store, view, lo, hi))
            return ExportResult(what, target, rows, files)
        chunks: Iterator[pd.DataFrame]
        if what == "positions":
            chunks = _position_chunks(store, lo, hi, one)
        elif what == "counts":
            chunks = iter_counts(store, lo, hi, tagged)
        elif what == "polls":
            chunks = iter_polls(store, lo, hi, redact=settings.redact, sources=tagged)
        else:
            chunks = iter([_hourly(settings, store, lo, hi, one)])
        rows = _write_file(target, what, fmt, chunks)
    return ExportResult(what, target, rows, 1)


def _hourly(settings: Settings, store: Store, lo: datetime, hi: datetime, sources: list[str] | None) -> pd.DataFrame:
    polls = poll_frame(store, lo, hi, sources)
    if polls.empty:
        return pd.DataFrame({"hour": pd.Series(dtype="datetime64[s, UTC]"), "coverage": pd.Series(dtype=float)})
    start = polls["time"].min().floor("h").to_pydatetime()
    end = (polls["time"].max().floor("h") + pd.Timedelta(hours=1)).to_pydatetime()
    window = Window("export", max(start, lo), min(end, hi))
    interval = settings.report_interval_s or infer_interval_s(polls["time"].to_numpy(dtype="datetime64[s]"))
    zones = list(zone_set_for(settings).codes[:-1])
    cov = hourly_coverage(polls, window, interval)
    air = hourly_airborne(count_frame(store, window.start, window.end, sources), window, zones)
    air[cov < settings.report_min_coverage] = float("nan")
    out = air.add_prefix("airborne_")
    out.insert(0, "coverage", cov)
    return out.rename_axis("hour").reset_index()
