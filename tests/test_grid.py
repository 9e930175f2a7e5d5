"""The combined view's grid: slot ends half a step off the cron ticks, so a tick is never an edge."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from monitor.grid import slot_end, slot_ends, slots_ending_in

HOUR = int(datetime(2025, 11, 29, 14, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("step", [60, 300, 900, 3600])
def test_a_slot_holds_its_end_not_its_start_and_ticks_sit_inside(step):
    end = slot_end(HOUR, step)
    assert end - step < HOUR <= end and slot_end(end, step) == end and slot_end(end + 1, step) == end + step
    assert end - HOUR == step // 2  # a tick on the hour is half a step from either edge
    epochs = np.arange(HOUR - 2 * step, HOUR + 2 * step, 7, dtype=np.int64)
    assert slot_ends(epochs, step).tolist() == [slot_end(int(e), step) for e in epochs]


def test_an_hour_aligned_window_holds_one_slot_per_cron_tick():
    first, last = slots_ending_in(HOUR, HOUR + 3600, 300)
    assert (last - first) // 300 + 1 == 12 and first == HOUR + 150 and last == HOUR + 3600 - 150
    ticks = [HOUR + 300 * k + lag for k in range(12) for lag in (0, 10, 149)]
    assert {slot_end(t, 300) for t in ticks} == set(range(first, last + 1, 300))
