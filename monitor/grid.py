"""The combined view's time grid: where its slots end, declared once.

Place in the flow: shared vocabulary. ``combine`` puts every source's polls into slots ``(t - step,
t]``; ``analysis.overlap`` measures each source's coverage of the same slots. Slot ends sit half a
step after the multiples of the step (for 5 minutes: :02:30, :07:30, ...), so a cron run at :00 or
:05, and every reply time it gets (OpenSky's is rounded down to 10 s; a retried or slow poll lands
seconds to minutes later), falls inside one slot rather than on its edge. An hour-aligned window
holds whole slots: one cron run each.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["slot_end", "slot_ends", "slots_ending_in"]


def _offset(step_s: int) -> int:
    return step_s // 2


def slot_end(epoch: int, step_s: int) -> int:
    """The end ``t`` of the slot ``(t - step, t]`` holding ``epoch`` (whole Unix seconds)."""
    off = _offset(step_s)
    return -(-(epoch - off) // step_s) * step_s + off


def slot_ends(epochs: npt.NDArray[np.int64], step_s: int) -> npt.NDArray[np.int64]:
    """:func:`slot_end` of each of ``epochs``."""
    off = _offset(step_s)
    ends: npt.NDArray[np.int64] = -(-(epochs - off) // step_s) * step_s + off
    return ends


def slots_ending_in(start: int, end: int, step_s: int) -> tuple[int, int]:
    """The first and last slot end in ``(start, end]`` (the first is after the last when none is)."""
    return slot_end(start + 1, step_s), slot_end(end + 1, step_s) - step_s
