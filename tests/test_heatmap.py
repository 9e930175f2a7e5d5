"""adsb.lol's heatmaps: every field of readsb's format read back into the canonical schema, from
files the tests' own encoder writes; a damaged file is a one-line error naming it."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from monitor.schema import POSITION_SCHEMA
from monitor.sources.archive.heatmap import HeatmapError, read_heatmap
from tests.heatmap_writer import Info, Seen, heatmap

START = datetime(2025, 11, 29, 14, 0, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


def _rows(data: bytes) -> list[list[dict]]:
    return [s.positions.to_pylist() for s in read_heatmap(data, "14.bin.ttf")]


def test_slices_come_back_with_their_start_length_and_aircraft():
    slices = list(read_heatmap(heatmap(START_MS, [[Seen(0x0D0001, 10.5, -66.9, 35_000, 450)], [], [
        Seen(0x0D0001, 10.6, -66.8, 35_025, 451), Seen(0x0D0002, 8.0, -63.0, 12_000, 300, addrtype=5),
    ]]), "14.bin.ttf"))  # fmt: skip
    assert [s.start for s in slices] == [START, START.replace(second=30), START.replace(minute=1)]
    assert {s.interval_s for s in slices} == {30.0}
    assert [s.positions.num_rows for s in slices] == [1, 0, 2] and [s.mlat for s in slices] == [0, 0, 1]
    assert slices[0].positions.schema.equals(POSITION_SCHEMA.remove(POSITION_SCHEMA.get_field_index("zone")))
    first = slices[0].positions.to_pylist()[0]
    assert first["icao24"] == "0d0001" and first["time_position"] == START and first["stale"] is False
    assert first["latitude"] == pytest.approx(10.5) and first["longitude"] == pytest.approx(-66.9)
    assert first["baro_altitude_m"] == pytest.approx(35_000 * 0.3048) and first["on_ground"] is False
    assert first["velocity_mps"] == pytest.approx(450 * 1852 / 3600)
    assert [r["position_source"] for r in slices[2].positions.to_pylist()] == [0, 2]  # ADS-B, MLAT


def test_ground_unknown_speed_and_non_icao_addresses():
    (rows,) = _rows(heatmap(START_MS, [[
        Seen(0x0D0003, 10.6, -66.99, None, 12), Seen(0x0D0004, 10.0, -67.0, 5_000, None),
        Seen(0x0D0003, 11.0, -66.0, 9_000, 250, non_icao=True, addrtype=8),
    ]]))  # fmt: skip
    ground, unknown_gs, other = rows
    assert ground["on_ground"] is True and ground["baro_altitude_m"] is None  # -123 x 25 ft is not an altitude
    assert unknown_gs["velocity_mps"] is None
    assert other["icao24"] == "~0d0003" and other["position_source"] == 0  # ADS-B, other address format


def test_southern_latitudes_are_positions_not_info_records():
    """A negative int32 has bit 30 set: ``lat & (1 << 30)`` would take every southern position for an
    info record (and south of the equator is inside the polling box)."""
    (rows,) = _rows(heatmap(START_MS, [[Seen(0x0D0005, -1.2, -60.0, 30_000, 400), Seen(0x0D0006, -89.9, 10, 1, 1)]]))
    assert [(r["icao24"], round(r["latitude"], 4)) for r in rows] == [("0d0005", -1.2), ("0d0006", -89.9)]


def test_callsign_and_squawk_come_from_the_latest_info_record_of_that_aircraft():
    data = heatmap(START_MS, [
        [Info(0x0D0001, "VCV1234", "7700"), Seen(0x0D0001, 10.5, -66.9, 35_000, 450),
         Seen(0x0D0002, 8, -63, 9_000, 300)],
        [Seen(0x0D0001, 10.6, -66.8, 35_000, 450)],
        [Info(0x0D0001, "AVA 22", "1000"), Info(0x0D0001, "X", "0", non_icao=True),
         Seen(0x0D0001, 10.7, -66.7, 35_000, 450)],
    ])  # fmt: skip
    got = [[(r["icao24"], r["callsign"], r["squawk"]) for r in rows] for rows in _rows(data)]
    assert got == [
        [("0d0001", "VCV1234", "7700"), ("0d0002", None, None)],
        [("0d0001", "VCV1234", "7700")],  # no info in this slice: the last one holds
        [("0d0001", "AVA 22", "1000")],  # the non-ICAO aircraft of the same 24 bits is another aircraft
    ]


def test_the_slice_length_is_read_from_the_file():
    slices = list(read_heatmap(heatmap(START_MS, [[], []], interval_ms=60_000), "x"))  # readsb's default: 60 s
    assert [s.interval_s for s in slices] == [60.0, 60.0] and slices[1].start == START.replace(minute=1)


def test_an_unpacked_file_reads_the_same():
    slices = [[Seen(0x0D0001, 10.5, -66.9, 35_000, 450)]]
    assert _rows(heatmap(START_MS, slices, gz=False)) == _rows(heatmap(START_MS, slices))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda d: d[: len(d) // 2], r"14\.bin\.ttf: the gzip stream is cut short"),
        (lambda d: d[:10] + b"\x00" * 8 + d[18:], r"14\.bin\.ttf: not a gzip stream readsb wrote"),
        (lambda d: gzip.compress(gzip.decompress(d)[:-3]), r"14\.bin\.ttf: .* not a whole number of 16-byte records"),
        (lambda d: gzip.compress(b"\x00" * 64), r"14\.bin\.ttf: no slice marker"),
        (lambda d: gzip.compress(gzip.decompress(d)[16:]), r"14\.bin\.ttf: its index names 1 slices"),
        (lambda d: d + b"junk", r"14\.bin\.ttf: 4 bytes follow the gzip stream"),
    ],
    ids=["truncated gzip", "corrupt gzip", "cut record", "no marker", "index off", "trailing bytes"],
)
def test_a_damaged_heatmap_is_one_error_naming_the_file(damage, expected):
    good = heatmap(START_MS, [[Seen(0x0D0001, 10.5, -66.9, 35_000, 450)], [Seen(0x0D0001, 10.6, -66.8, 35_000, 450)]])
    with pytest.raises(HeatmapError, match=expected):
        list(read_heatmap(damage(good), "14.bin.ttf"))


def test_a_box_and_chosen_starts_keep_only_what_is_asked_and_callsigns_still_carry():
    data = heatmap(START_MS, [
        [Info(0x0D0001, "VCV1234"), Seen(0x0D0001, 10.5, -66.9, 35_000, 450), Seen(0x343000, 40.4, -3.7, 36_000, 450)],
        [Seen(0x0D0001, 10.6, -66.8, 35_000, 450), Seen(0x343000, 40.5, -3.6, 36_000, 450)],
    ])  # fmt: skip
    second = START.replace(second=30)
    (only,) = read_heatmap(data, "x", box=(-75.42, -1.36, -57.8, 17.7), starts={second})
    assert only.start == second and only.world == 2
    assert [(r["icao24"], r["callsign"]) for r in only.positions.to_pylist()] == [("0d0001", "VCV1234")]


def test_a_cleared_callsign_is_no_callsign():
    (_, rows) = _rows(heatmap(START_MS, [
        [Info(0x0D0001, "VCV1234"), Seen(0x0D0001, 10.5, -66.9, 35_000, 450)],
        [Info(0x0D0001, ""), Seen(0x0D0001, 10.6, -66.8, 35_000, 450)],
    ]))  # fmt: skip
    assert rows[0]["callsign"] is None
