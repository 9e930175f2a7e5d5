"""A day of adsb.lol's archive as snapshots on a fixed grid, from its 48 half-hour heatmaps.

Place in the flow: the backfill reads a day's heatmap members (``sources.archive.tarstream``)
and turns them into one snapshot per grid time here; each becomes a Reply for ``ingest``, or a
recorded gap.

The rule: the grid runs from 00:00 UTC every ``step_s`` seconds (a multiple of the heatmaps' 30 s
slices); the snapshot at t takes the slice that starts at t, and keeps the aircraft inside the
bounding box (the heatmap covers the world). A heatmap that is missing from the day or cannot be
read makes every grid time of its half hour a gap with the reason, never zero aircraft; so does a
slice missing from a readable file, and a slice without a single aircraft anywhere in the world
(the network's feed was down).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from monitor.sources.archive.heatmap import AreaSight, Box, HeatmapError, read_heatmap

__all__ = ["HALF_HOURS", "DaySnapshot", "day_snapshots", "half_hour_of", "half_hour_snapshots", "heatmap_name"]

HALF_HOURS = 48


@dataclass(frozen=True)
class DaySnapshot:
    """One grid time of a day: its positions in the box, or why there are none (``gap``)."""

    time: datetime
    positions: pa.Table | None
    gap: str | None = None
    mlat: int = 0  # of the positions in the box, those found by multilateration
    areas: Mapping[str, AreaSight] = field(default_factory=dict)  # what the slice saw in each area asked for


def heatmap_name(half_hour: int) -> str:
    """The member name of a half hour's heatmap in a day's tar (``./`` stripped)."""
    return f"heatmap/{half_hour:02d}.bin.ttf"


def half_hour_of(name: str) -> int | None:
    """The half hour (0 to 47) a member name is the heatmap of, or None if it is not one."""
    stem = name.removeprefix("heatmap/").removesuffix(".bin.ttf")
    if name.startswith("heatmap/") and name.endswith(".bin.ttf") and len(stem) == 2 and stem.isdigit():
        half_hour = int(stem)
        return half_hour if half_hour < HALF_HOURS else None
    return None


def _check_step(step_s: int) -> None:
    if step_s <= 0 or step_s % 30:
        raise ValueError(f"the step must be a positive multiple of the heatmaps' 30 s slices, got {step_s}")


def half_hour_snapshots(
    half_hour: int,
    data: bytes | None,
    day: date,
    step_s: int,
    box: Box,
    release: str,
    areas: Mapping[str, Box] | None = None,
    gap: str | None = None,
    *,
    strict: bool = False,
) -> list[DaySnapshot]:
    """The snapshots of one half hour of the day from its heatmap (``data`` None: missing, or
    ``gap`` says why there is none), keeping the aircraft inside ``box`` (west, south, east,
    north), with what each slice saw in ``areas``. ``release`` names the day's files in gap
    reasons. An unreadable heatmap makes every snapshot a gap, or with ``strict`` raises its
    HeatmapError. Raises ValueError for a step that is not a multiple of 30 s."""
    _check_step(step_s)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    first = -(-(half_hour * 1800) // step_s) * step_s  # the first grid time in this half hour, s after midnight
    times = [midnight + timedelta(seconds=s) for s in range(first, (half_hour + 1) * 1800, step_s)]
    name = heatmap_name(half_hour)
    if data is None:
        return [DaySnapshot(t, None, gap or f"{release}: {name} is missing from the day") for t in times]
    try:
        slices = {s.start: s for s in read_heatmap(data, f"{release}: {name}", box=box, starts=set(times), areas=areas)}
    except HeatmapError as exc:
        if strict:
            raise
        return [DaySnapshot(t, None, str(exc)) for t in times]
    out = []
    for t in times:
        found = slices.get(t)
        if found is None:
            out.append(DaySnapshot(t, None, f"{release}: {name} has no slice starting at {t:%H:%M:%S}Z"))
        elif found.world == 0:  # the whole network saw nothing: its feed was down, not the sky empty
            out.append(
                DaySnapshot(t, None, f"{release}: {name} has no aircraft anywhere at {t:%H:%M:%S}Z: a feed outage")
            )
        else:
            out.append(DaySnapshot(t, found.positions, None, found.mlat, found.areas))
    return out


def day_snapshots(
    heatmaps: Mapping[int, bytes], day: date, step_s: int, box: Box, release: str
) -> Iterator[DaySnapshot]:
    """The day's snapshots every ``step_s`` seconds from its heatmaps (half hour -> file bytes),
    keeping the aircraft inside ``box`` (west, south, east, north). ``release`` names the day's
    files in gap reasons. Raises ValueError for a step that is not a multiple of 30 s."""
    _check_step(step_s)
    for half_hour in range(HALF_HOURS):
        yield from half_hour_snapshots(half_hour, heatmaps.get(half_hour), day, step_s, box, release)
