"""Arrow on a poll's path without what a cron run need not pay for: compute functions by name, and
numpy arrays into Arrow by their buffers.

Place in the flow: shared vocabulary for the steps on a poll's path (``sources.opensky.parse``,
``ingest``, ``store.positions``).
- ``import pyarrow.compute`` builds a Python wrapper for each of its ~290 functions, ~40 ms of
  every cron run; :func:`call` reaches the same kernels through ``call_function`` (public as
  ``pyarrow.compute.call_function``), which lives in the compiled module it wraps.
- ``pa.array(ndarray)`` asks whether the array is a numpy masked array, which loads ``numpy.ma``
  (~15 ms); :func:`from_numpy` hands Arrow the array's own buffers instead (no copy for numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

try:  # where pyarrow defines it; the public alias below if a release moves it
    from pyarrow._compute import call_function as _call_function
except ImportError:  # pragma: no cover
    from pyarrow.compute import call_function as _call_function

__all__ = ["call", "from_numpy", "unmap_large_frees"]


_TYPES = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}


def _arrow(value: Any) -> Any:
    """Arrow values as they are; a plain bool, int, float or str as a scalar of its type (inferring
    the type would load dateutil, ~2 ms)."""
    if isinstance(value, pa.Array | pa.ChunkedArray | pa.Scalar | pa.Table):
        return value
    return pa.scalar(value, _TYPES[type(value)])


def call(name: str, *args: Any) -> Any:
    """The Arrow compute function ``name`` applied to ``args``: arrays, scalars, or plain bool, int,
    float and str values."""
    return _call_function(name, [_arrow(a) for a in args])


def from_numpy(values: npt.NDArray[Any], type_: pa.DataType, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A 1-D numpy array of numbers (or booleans) as an Arrow array of ``type_``, null where ``valid``
    is False. The numbers' bytes must already be those of ``type_`` (int64 for timestamp[s])."""
    n = len(values)
    nulls = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if pa.types.is_boolean(type_):
        data = pa.py_buffer(np.packbits(np.asarray(values, dtype=bool), bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values))
    null_count = -1 if valid is None else int(n - np.count_nonzero(valid))
    return pa.Array.from_buffers(type_, n, [nulls, data], null_count=null_count)


def unmap_large_frees(threshold: int = 1 << 22) -> None:
    """Have glibc give each allocation of ``threshold`` bytes or more its own mapping, handed back
    to the system when freed. By default glibc raises that threshold as big blocks are freed, so the
    temporary arrays of a long analysis end up in the heap and stay resident after they are freed
    (a year's report: ~0.5 GB more at its peak, measured). Elsewhere than glibc, nothing."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None:
            mallopt(-3, threshold)  # M_MMAP_THRESHOLD (glibc's malloc.h); setting it turns the raising off
    except OSError:
        pass
