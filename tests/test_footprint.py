"""Where aircraft were seen at all, before and after: the footprint compares equal stretches and
only the FIR and its ring, and the verdict warns when it moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.analysis.before_after import FOOTPRINT_WARNING, footprint
from monitor.analysis.stats import Change, compare
from monitor.analysis.tracks import Tracks
from monitor.analysis.verdict import verdict
from monitor.analysis.windows import Window
from monitor.events import Event

EVENT = datetime(2025, 11, 29, 12, tzinfo=UTC)
CARACAS = (-66.9, 10.6)  # inside SVZM
INTERIOR = (-63.0, 6.0)  # inside SVZM, far from the coast


def _tracks(points: list[tuple[datetime, tuple[float, float]]]) -> Tracks:
    n = len(points)
    table = pa.table(
        {
            "time": pa.array([t for t, _ in points], pa.timestamp("s", tz="UTC")),
            "icao24": [f"a{i:05x}" for i in range(n)],
            "callsign": ["TEST1"] * n,
            "longitude": [p[0] for _, p in points],
            "latitude": [p[1] for _, p in points],
            "baro_altitude_m": [10000.0] * n,
            "geo_altitude_m": [10000.0] * n,
            "vertical_rate_mps": [0.0] * n,
            "on_ground": [False] * n,
            "stale": [False] * n,
            "zone": ["SVZM"] * n,
        }
    )
    return Tracks.from_tables([table], ["SVZM"])


def _polls(start: datetime, end: datetime) -> pd.DataFrame:
    times = pd.date_range(start, end, freq="10min", inclusive="left")
    return pd.DataFrame({"time": times, "status": "ok"})


def test_cells_seen_on_one_side_only_are_counted_over_equal_stretches(zone_set):
    before = Window("before", EVENT - timedelta(days=2), EVENT)
    after = Window("after", EVENT, EVENT + timedelta(days=6))
    points = [
        (EVENT - timedelta(hours=5), CARACAS),
        (EVENT + timedelta(hours=5), CARACAS),  # seen on both sides
        (EVENT - timedelta(hours=3), INTERIOR),  # lost after the event
        (EVENT + timedelta(days=4), INTERIOR),  # beyond the first 2 days after: not compared
    ]
    seen, _grid = footprint(_tracks(points), _polls(before.start, after.end), (before, after), zone_set)
    assert [w.days for w in seen.windows] == [2.0, 2.0]
    assert seen.windows[1].start == EVENT and seen.windows[0].end == EVENT
    assert (seen.kept, seen.lost, seen.gained) == (1, 1, 0)
    assert seen.changed_share == 0.5


def test_cells_outside_the_fir_and_its_ring_do_not_count(zone_set):
    box = zone_set.polling_box
    margin = (box.west + 0.01, box.north - 0.01)  # in the polling box, beyond the ring
    assert {z.code for z in zone_set.zones if z.kind in ("fir", "ring")}  # the zones exist
    before = Window("before", EVENT - timedelta(days=1), EVENT)
    after = Window("after", EVENT, EVENT + timedelta(days=1))
    points = [(EVENT - timedelta(hours=1), CARACAS), (EVENT + timedelta(hours=1), CARACAS)]
    points.append((EVENT - timedelta(hours=1), margin))
    seen, grid = footprint(_tracks(points), _polls(before.start, after.end), (before, after), zone_set)
    assert np.count_nonzero(seen.seen_before) == 2  # the margin cell was seen ...
    assert (seen.kept, seen.lost, seen.gained) == (1, 0, 0)  # ... but is not the FIR's or the ring's
    assert seen.seen_before.shape == grid.grid.shape


def _change(before: Window, after: Window) -> Change:
    rng = np.random.default_rng(3)
    bi = pd.date_range(before.start, before.end, freq="h", inclusive="left")
    ai = pd.date_range(after.start, after.end, freq="h", inclusive="left")
    b = pd.Series(rng.poisson(10, len(bi)).astype(float), index=bi)
    a = pd.Series(rng.poisson(5, len(ai)).astype(float), index=ai)
    return compare(b, a, pd.Series(1.0, index=bi), pd.Series(1.0, index=ai), measure="airborne", zone="SVZM",
                   unit="aircraft")  # fmt: skip


def test_the_verdict_warns_only_when_the_footprint_moved_beyond_sampling(zone_set):
    before = Window("before", EVENT - timedelta(days=3), EVENT)
    after = Window("after", EVENT, EVENT + timedelta(days=3))
    polls = _polls(before.start, after.end)
    coverage = (1.0, 1.0)
    event = Event("closure", EVENT, "announcement", "closure", "https://example.org")
    changes = [_change(before, after)]
    hourly = [EVENT + timedelta(hours=h) for h in range(-72, 72)]
    steady = [(t, CARACAS) for t in hourly]  # seen every hour on both sides
    moved = [*steady, *((t, INTERIOR) for t in hourly if t < EVENT)]  # the interior seen before only
    # the interior seen once on each side, at an even hour before and an odd one after: a sparse cell
    flicker = [*steady, (EVENT - timedelta(hours=10), INTERIOR), (EVENT + timedelta(hours=11), INTERIOR)]
    quiet, _ = footprint(_tracks(steady), polls, (before, after), zone_set)
    loud, _ = footprint(_tracks(moved), polls, (before, after), zone_set)
    noisy, _ = footprint(_tracks(flicker), polls, (before, after), zone_set)
    assert (quiet.within, quiet.between) == (0.0, 0.0)
    assert (loud.within, loud.between) == (0.0, 0.5) and loud.excess > FOOTPRINT_WARNING
    assert (noisy.within, noisy.between) == (0.5, 0.5)  # it flips between halves of a side as much as between sides
    text = {name: verdict(event, (before, after), coverage, changes, "SVZM", "OpenSky", fp)
            for name, fp in (("quiet", quiet), ("loud", loud), ("noisy", noisy))}  # fmt: skip
    assert "Where aircraft were seen changed" not in text["quiet"] + text["noisy"]
    assert "1 had some only before and 0 only after" in text["loud"] and "50% more of them than" in text["loud"]
    assert "areas OpenSky covers well and poorly" in text["loud"]
