"""Helpers that put test data into a store the way ingest does: positions as one encoded block,
counts as ZoneCount rows. Tests build positions as pandas or Arrow; the store takes blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa

from geo.fence import fence_for
from geo.zoneset import ZoneSet
from monitor.counts import ZoneCount
from monitor.ingest import count_zone_index
from monitor.schema import POSITION_SCHEMA
from monitor.sources.opensky.parse import parse_states
from monitor.store.db import Store
from monitor.store.frames import positions_frame
from monitor.store.positions import encode_block
from monitor.store.snapshots import PollRecord, RecordedPoll, record_poll


def as_counts(counts: pd.DataFrame | Sequence[ZoneCount]) -> list[ZoneCount]:
    if isinstance(counts, pd.DataFrame):
        return [
            ZoneCount(str(z), int(a), int(g), int(s))
            for z, a, g, s in zip(counts["zone"], counts["airborne"], counts["on_ground"], counts["stale"], strict=True)
        ]
    return list(counts)


def record(
    store: Store,
    poll: PollRecord,
    positions: pd.DataFrame | pa.Table | None = None,
    counts: pd.DataFrame | Sequence[ZoneCount] = (),
    zone_set_id: int | None = None,
) -> RecordedPoll:
    """``store.snapshots.record_poll`` with positions given as a table (encoded here, an aircraft
    listed twice keeping its last row) and counts as a DataFrame or ZoneCounts."""
    block = None
    if positions is not None and len(positions):
        if isinstance(positions, pd.DataFrame):
            positions = pa.Table.from_pandas(positions, schema=POSITION_SCHEMA, preserve_index=False)
        block = encode_block(positions)
    return record_poll(store, poll, block, as_counts(counts), zone_set_id)


def count_by_zone(positions: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Counts per zone of a positions DataFrame with a ``zone`` column, as ingest counts them."""
    zone = pd.Categorical(positions["zone"].astype(str), categories=list(codes))
    counts = count_zone_index(
        zone.codes,
        positions["stale"].to_numpy(dtype=bool),
        positions["on_ground"].fillna(False).to_numpy(dtype=bool),
        codes,
    )
    return pd.DataFrame([c.__dict__ for c in counts])


def parsed_frame(doc: dict, stale_after_s: int = 15) -> pd.DataFrame:
    """A reply parsed by the OpenSky parser, as a pandas DataFrame (schema dtypes)."""
    return positions_frame(parse_states(doc, stale_after_s).table)


def tagged(doc: dict, zone_set: ZoneSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reply's positions with their zones, and the counts per zone."""
    df = parsed_frame(doc)
    df["zone"] = fence_for(zone_set).categorical(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    return df, count_by_zone(df, zone_set.codes)


def three_day_report_store(folder: Path, start: datetime) -> tuple[Path, Path]:
    """A 3-day store of the report benchmark's synthetic flights (10-minute snapshots) from
    ``start``, and an events file with one event ``e`` at noon on its second day: (store, events)."""
    from benchmarks.bench_report import build_store

    db = folder / "monitor.sqlite"
    build_store(db, days=3, interval_s=600, scale=1.0, start=start, quiet=True)
    events = folder / "events.toml"
    noon = (start + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    events.write_text(
        f'[[event]]\nid = "e"\ntime = {noon:%Y-%m-%dT%H:%M:%SZ}\nkind = "announcement"\ntitle = "t"\n'
        'source = "https://example.org"\n',
        encoding="utf-8",
    )
    return db, events
