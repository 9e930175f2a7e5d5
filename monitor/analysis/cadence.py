"""The polling cadence: how often polls were attempted. numpy only, so the alert check after every
poll can use it without loading pandas.

Place in the flow: ``analysis.hourly`` (coverage: the share of expected polls that succeeded),
``pipeline.alerts`` (coverage of the last hour) and ``pipeline.export`` ask here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_INTERVAL_S", "infer_interval_s"]

DEFAULT_INTERVAL_S = 300.0  # when there are too few polls to tell


def infer_interval_s(poll_times: npt.NDArray[Any]) -> float:
    """The polling cadence: the median spacing of poll attempts (seconds), 300 if unknown.

    ``poll_times``: Unix seconds (or any numpy datetime64, converted to seconds). Infer it per
    window: a cadence that changed (anonymous, then an account) differs by side.
    """
    t = np.asarray(poll_times)
    if np.issubdtype(t.dtype, np.datetime64):
        t = t.astype("datetime64[s]").astype(np.int64)
    t = np.sort(t.astype(np.int64))
    if len(t) < 3:
        return DEFAULT_INTERVAL_S
    d = np.diff(t)
    d = d[d > 0]
    return float(np.median(d)) if len(d) else DEFAULT_INTERVAL_S
