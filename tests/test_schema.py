"""One schema: the parser emits it, the store's positions table is built from it."""

from __future__ import annotations

from monitor.schema import POSITION_COLUMNS, POSITION_SCHEMA, column_names
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import positions_frame, read_positions
from tests.storekit import record


def test_parser_emits_exactly_the_schema_columns_in_order(states_payload):
    df = positions_frame(parse_states(states_payload).table)
    assert list(df.columns) == [n for n in column_names() if n != "zone"]


def test_store_position_blocks_use_the_schema():
    assert POSITION_SCHEMA.names == column_names()
    for c in POSITION_COLUMNS:
        assert POSITION_SCHEMA.field(c.name).nullable == c.nullable, c.name


def test_positions_read_back_with_the_schema_dtypes(store, states_payload, zone_set):
    from datetime import UTC, datetime

    from geo.fence import fence_for
    from monitor.store.snapshots import PollRecord
    from tests.storekit import count_by_zone

    df = positions_frame(parse_states(states_payload).table)
    df["zone"] = fence_for(zone_set).categorical(df["longitude"].to_numpy(), df["latitude"].to_numpy())
    t = datetime(2025, 11, 29, 14, tzinfo=UTC)
    record(store, PollRecord("opensky", t, "ok", api_time=t), df, count_by_zone(df, zone_set.codes))
    back = read_positions(
        store,
    )
    for c in POSITION_COLUMNS:
        if c.name == "zone":
            assert str(back[c.name].dtype) == "category"
            continue
        assert str(back[c.name].dtype) == c.pandas_dtype, c.name


def test_units_are_in_the_names_where_ambiguous():
    for c in POSITION_COLUMNS:
        if c.unit in ("m", "m/s"):
            assert c.name.endswith(("_m", "_mps")), c.name
        if c.kind == "time":
            assert c.unit == "UTC"
