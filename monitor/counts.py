"""Per-snapshot zone counts: the one aggregation done while ingesting a poll.

Place in the flow: after ``geo.fence`` has tagged a snapshot's positions, ``pipeline`` calls
:func:`count_by_zone` and stores the result with the snapshot (``zone_counts`` table); status
lines, alerts and the analysis read these counts.

Rules: a position counts when its position is fresh (``stale`` False); ``on_ground`` True counts
as on the ground, anything else (False or unknown) as airborne. Stale positions are tallied in
their own column. Every zone code appears, with zeros where nothing was seen, so a successful
poll with no aircraft in a zone is an explicit 0 (failed polls get no counts at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["count_by_zone", "count_zone_index"]


def count_zone_index(
    zone_index: npt.NDArray[np.integer[Any]],
    stale: npt.NDArray[np.bool_],
    on_ground: npt.NDArray[np.bool_],
    codes: Sequence[str],
) -> pd.DataFrame:
    """Columns ``zone, airborne, on_ground, stale``, one row per code, from per-position arrays.

    ``zone_index`` indexes ``codes`` (as ``geo.fence.Fence.classify_index`` returns it).
    """
    n = len(codes)
    airborne = np.bincount(zone_index[~stale & ~on_ground], minlength=n)
    ground = np.bincount(zone_index[~stale & on_ground], minlength=n)
    stale_n = np.bincount(zone_index[stale], minlength=n)
    return pd.DataFrame({"zone": list(codes), "airborne": airborne, "on_ground": ground, "stale": stale_n})


def count_by_zone(positions: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The same from a positions DataFrame with a ``zone`` column of codes."""
    zone = pd.Categorical(positions["zone"].astype(str), categories=list(codes))
    if (zone.codes < 0).any():
        raise ValueError(f"zone codes not in {list(codes)}: {sorted(set(positions['zone'].astype(str)) - set(codes))}")
    return count_zone_index(
        zone.codes,
        positions["stale"].to_numpy(dtype=bool),
        positions["on_ground"].fillna(False).to_numpy(dtype=bool),
        codes,
    )
