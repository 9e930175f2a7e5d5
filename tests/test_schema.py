"""One schema: the parser's real output and the store's real blocks are checked against the column
declarations (order, types, nullability, units, the OpenSky field each column comes from), on our
fixture and on a real OpenSky capture."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from monitor.ingest import ingest
from monitor.schema import POSITION_COLUMNS
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import read_positions
from monitor.store.migrations import BLOCK_FORMAT
from monitor.store.positions import decode_block
from monitor.store.snapshots import PollRecord
from tests.conftest import DATA, shared_file

ARROW = {
    "str": pa.string(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "int": pa.int16(),
    "time": pa.timestamp("s", tz="UTC"),
}
RANGES = {  # what each unit allows, by column
    "latitude": (-90, 90),
    "longitude": (-180, 180),
    "true_track_deg": (0, 360),
    "baro_altitude_m": (-2_000, 30_000),
    "geo_altitude_m": (-2_000, 30_000),
    "velocity_mps": (0, 1_000),
    "vertical_rate_mps": (-200, 200),
    "position_source": (0, 3),
    "category": (0, 20),
}
PATTERNS = {"icao24": r"~?[0-9a-f]{6}", "squawk": r"[0-7]{4}"}


def _fixture() -> dict:
    return json.loads((DATA / "opensky_states_region.json").read_text(encoding="utf-8"))


def _real() -> dict:
    return json.loads(shared_file("data", "real", "aerospacefunnel", "opensky_states.json").read_text())


DOCS = {"fixture": _fixture, "real-capture": _real}


def _fits(table: pa.Table, columns: tuple) -> None:
    """``table`` holds exactly ``columns`` in order, typed by kind, nulls only where allowed, values in range."""
    assert table.column_names == [c.name for c in columns]
    for c in columns:
        col = table[c.name]
        assert col.type == ARROW[c.kind], (c.name, col.type)
        if not c.nullable:
            assert col.null_count == 0, c.name
        values = [v for v in col.to_pylist() if v is not None]
        if c.name in RANGES:
            lo, hi = RANGES[c.name]
            assert all(lo <= v <= hi for v in values), (c.name, min(values), max(values))
        if c.name in PATTERNS:
            assert all(re.fullmatch(PATTERNS[c.name], v) for v in values), c.name
        if c.kind == "time":
            assert all(v.tzinfo is not None and v.utcoffset().total_seconds() == 0 for v in values), c.name


@pytest.mark.parametrize("name", DOCS)
def test_the_parser_output_fits_the_schema(name):
    doc = DOCS[name]()
    parsed = parse_states(doc)
    assert parsed.table.num_rows > 0
    _fits(parsed.table, tuple(c for c in POSITION_COLUMNS if c.name != "zone"))


@pytest.mark.parametrize("name", DOCS)
def test_each_column_holds_the_opensky_field_it_declares(name):
    """Each column's ``opensky_index`` names the state-vector field its values come from."""
    doc = DOCS[name]()
    rows = {r[0].strip().lower(): r for r in doc["states"] if isinstance(r, list) and len(r) >= 17}
    parsed = parse_states(doc).table.to_pylist()
    assert len(parsed) == len(rows)
    checked = 0
    for out in parsed:
        raw = rows[out["icao24"]]
        for c in POSITION_COLUMNS:
            if c.opensky_index is None or c.opensky_index >= len(raw):
                continue
            got, want = out[c.name], raw[c.opensky_index]
            if want is None or got is None:
                continue
            if c.kind == "time":
                assert got == datetime.fromtimestamp(want, UTC), c.name
            elif c.kind == "str" and c.name != "sensors":
                assert got == str(want).strip().lower() if c.name == "icao24" else got == str(want).strip(), c.name
            elif c.kind in ("float", "int"):
                assert got == pytest.approx(want), c.name
            elif c.kind == "bool":
                assert got is bool(want), c.name
            checked += 1
    assert checked > 10 * len(parsed)  # most fields of most rows were compared


def test_the_store_writes_and_reads_blocks_in_the_schema(store, zone_set):
    """Through the one ingest path into a real SQLite file: the raw block decodes to the schema,
    with every value as parsed, and the format named in the store is this schema's."""
    doc = _fixture()
    parsed = parse_states(doc)
    t = parsed.api_time
    reply = Reply(source="opensky", api_time=t, positions=parsed.table)
    ingest(store, zone_set, reply, PollRecord("opensky", t, "ok"))
    with sqlite3.connect(store.path) as conn:
        blob, fmt = conn.execute("SELECT data, format FROM position_blocks").fetchone()
        formats = {r[0] for r in conn.execute("SELECT format FROM block_formats")}
    assert fmt == BLOCK_FORMAT and BLOCK_FORMAT in formats
    block = decode_block(blob)
    block.validate(full=True)
    _fits(block, POSITION_COLUMNS)
    assert set(block["zone"].to_pylist()) <= set(zone_set.codes)
    assert block.drop_columns(["zone"]).sort_by("icao24").equals(parsed.table.sort_by("icao24"))


def test_positions_read_back_with_the_schema_dtypes(store, zone_set):
    parsed = parse_states(_fixture())
    t = datetime(2025, 11, 29, 14, tzinfo=UTC)
    ingest(store, zone_set, Reply("opensky", t, parsed.table), PollRecord("opensky", t, "ok"))
    back = read_positions(store)
    assert len(back) == parsed.table.num_rows
    for c in POSITION_COLUMNS:
        want = "category" if c.name == "zone" else c.pandas_dtype
        assert str(back[c.name].dtype) == want, c.name


def test_units_are_in_the_names_where_ambiguous():
    for c in POSITION_COLUMNS:
        if c.unit in ("m", "m/s"):
            assert c.name.endswith(("_m", "_mps")), c.name
        if c.kind == "time":
            assert c.unit == "UTC"
