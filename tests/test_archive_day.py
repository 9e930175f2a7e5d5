"""A day of heatmaps as snapshots on a grid: the slice starting at each grid time, the aircraft in
the box only; a missing or damaged heatmap is a gap for its half hour, never zero aircraft."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.sources.archive.day import day_snapshots
from tests.heatmap_writer import Seen, heatmap

DAY = date(2025, 11, 29)
MIDNIGHT = datetime(2025, 11, 29, tzinfo=UTC)
BOX = (-75.42, -1.36, -57.8, 17.7)  # the shipped polling box
RELEASE = "v2025.11.29-planes-readsb-staging-0"


def _half_hour(half_hour: int) -> bytes:
    """60 slices of 30 s; in slice k: k % 4 aircraft over Venezuela, and one over Madrid."""
    start_ms = int((MIDNIGHT + timedelta(minutes=30 * half_hour)).timestamp() * 1000)
    slices = [
        [Seen(0x0D0000 + i, 8.0 + i * 0.1, -66.0, 30_000, 420, addrtype=5 if i == 0 else 0) for i in range(k % 4)]
        + [Seen(0x343000, 40.4, -3.7, 36_000, 450)]
        for k in range(60)
    ]
    return heatmap(start_ms, slices)


def test_each_grid_time_takes_its_slice_and_only_the_aircraft_in_the_box():
    snaps = list(day_snapshots({h: _half_hour(h) for h in range(48)}, DAY, 60, BOX, RELEASE))
    assert len(snaps) == 1440 and snaps[0].time == MIDNIGHT and snaps[-1].time == MIDNIGHT + timedelta(minutes=1439)
    assert all(s.gap is None for s in snaps)
    # grid time t = minute m takes slice 2m % 60 of its half hour: (2m % 60) % 4 aircraft, none from Madrid
    assert [s.positions.num_rows for s in snaps[:4]] == [0, 2, 0, 2]
    assert [s.mlat for s in snaps[:4]] == [0, 1, 0, 1]
    assert {r["icao24"] for s in snaps[:4] for r in s.positions.to_pylist()} == {"0d0000", "0d0001"}


def test_a_step_of_30_seconds_takes_every_slice():
    snaps = list(day_snapshots({0: _half_hour(0)}, DAY, 30, BOX, RELEASE))
    assert [s.positions.num_rows for s in snaps[:8]] == [0, 1, 2, 3, 0, 1, 2, 3]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (
            {h: _half_hour(h) for h in range(48) if h != 29},
            rf"^{RELEASE}: heatmap/29\.bin\.ttf is missing from the day$",
        ),
        (
            {**{h: _half_hour(h) for h in range(48)}, 29: _half_hour(29)[:-40]},
            rf"^{RELEASE}: heatmap/29\.bin\.ttf: .*cut",
        ),
        (
            {**{h: _half_hour(h) for h in range(48)}, 29: gzip.compress(b"")},
            rf"^{RELEASE}: heatmap/29\.bin\.ttf: no slice",
        ),
    ],
    ids=["missing", "truncated", "empty"],
)
def test_a_missing_or_broken_heatmap_is_a_gap_for_its_half_hour_never_zero(files, reason):
    snaps = list(day_snapshots(files, DAY, 60, BOX, RELEASE))
    gaps = [s for s in snaps if s.gap is not None]
    assert [s.time for s in gaps] == [MIDNIGHT + timedelta(minutes=14 * 60 + 30 + m) for m in range(30)]
    assert all(s.positions is None for s in gaps)
    assert gaps[0].gap is not None and re.search(reason, gaps[0].gap)
    assert sum(1 for s in snaps if s.gap is None) == 1410


def test_a_step_that_is_not_a_whole_number_of_slices_is_refused():
    with pytest.raises(ValueError, match="multiple of the heatmaps' 30 s slices"):
        list(day_snapshots({}, DAY, 45, BOX, RELEASE))


def test_a_slice_without_any_aircraft_in_the_world_is_a_feed_outage_not_zero():
    start_ms = int(MIDNIGHT.timestamp() * 1000)
    madrid = [Seen(0x343000, 40.4, -3.7, 36_000, 450)]
    files = {0: heatmap(start_ms, [madrid, madrid, [], [], madrid] + [madrid] * 55)}
    snaps = list(day_snapshots(files, DAY, 30, BOX, RELEASE))[:5]
    assert [s.gap is None for s in snaps] == [True, True, False, False, True]
    assert [s.positions.num_rows for s in snaps if s.gap is None] == [0, 0, 0]  # the box was empty: a real zero
    assert snaps[2].gap is not None and snaps[2].gap.endswith("has no aircraft anywhere at 00:01:00Z: a feed outage")
