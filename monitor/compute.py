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

__all__ = ["call", "from_numpy", "release_free_memory", "sorted_unique", "unmap_large_frees"]


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


def sorted_unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``np.unique(values)`` by sorting: numpy 2.4 finds the distinct integers by hashing, which is
    ten times slower on a million of them (measured: 1.3 s against 0.1 s)."""
    ordered = np.sort(values, axis=None)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _glibc() -> Any:
    """glibc's C library, or None elsewhere (musl, macOS)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def unmap_large_frees(threshold: int = 1 << 23, keep: int = 1 << 26) -> None:
    """Have glibc give each allocation of ``threshold`` bytes or more its own mapping, handed back
    to the system when freed, and keep up to ``keep`` bytes of freed heap for the next allocations.

    By default glibc raises the first threshold as big blocks are freed, so the temporary arrays
    of a long analysis end up in the heap and stay resident after they are freed (a year's report:
    ~0.5 GB more at its peak, measured). Setting it also fixes the second at its default, 128 KiB:
    then every day's arrays (a few MB) were handed back and faulted in again, a million page faults
    and 3-4 s of system time in a 90-day report (measured); :func:`release_free_memory` hands the
    kept heap back between the steps. The first threshold is 8 MiB, above a bucket's 32-bit columns
    (``analysis.buckets``: 1.5 million rows, 6 MB): at 4 MiB each bucket's were mapped and faulted in
    afresh, 1.6 million page faults and 7 s of system time in a year's flights, against 0.5 million
    and 3.4 s now (measured: flights 1.5-2 s sooner for a year, 0.4-0.7 s for 90 days; the peak
    50-100 MB higher, which ``analysis.flights`` takes back by handing freed memory back before it
    joins the buckets' flights). Elsewhere than glibc, nothing."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-3, threshold)  # M_MMAP_THRESHOLD (glibc's malloc.h); setting it turns the raising off
        libc.mallopt(-1, keep)  # M_TRIM_THRESHOLD


def release_free_memory() -> None:
    """Hand freed memory back to the system now (glibc's heap, Arrow's pool): between the steps of a
    long analysis, so what one step freed does not add to the next one's peak."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
    pa.default_memory_pool().release_unused()
