"""A long span's positions in buckets of aircraft, spilled to disk, so flights are built a bucket at a time.

Place in the flow: ``pipeline.report`` reads months of positions a day at a time
(``store.iter_positions``). Holding them all as :class:`~monitor.analysis.tracks.Tracks` costs
about 34 bytes a position (1.1 GB for 90 days of a busy region) before flight building doubles
it. A flight is one aircraft's, so the aircraft are split into buckets (by their code, which the
read assigns in one :class:`~monitor.analysis.tracks.Codes` for all of them), each bucket's compact
rows are appended to its own Arrow IPC file in a private folder as the days come (in batches), and
``analysis.flights.build_flights`` loads and takes the buckets two at a time: the same flights, in
the memory of two buckets. With one bucket nothing is written: the rows stay in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from monitor.analysis.tracks import Codes, Tracks

__all__ = ["POSITIONS_PER_BUCKET", "AircraftBuckets", "buckets_for"]

POSITIONS_PER_BUCKET = 1_500_000  # ~50 MB of Tracks, ~150 MB while its flights are built
WRITE_ROWS = 2_000_000  # rows held (~70 MB) before the buckets' files are written


def buckets_for(positions: int) -> int:
    """How many buckets keep each near :data:`POSITIONS_PER_BUCKET` positions."""
    return max(1, -(-positions // POSITIONS_PER_BUCKET))


class AircraftBuckets:
    """Compact position rows, split by aircraft into ``n`` buckets; files under ``folder`` when n > 1."""

    def __init__(self, zones: Sequence[str], n: int, folder: Path | None = None, write_rows: int = WRITE_ROWS) -> None:
        if n > 1 and folder is None:
            raise ValueError("more than one bucket needs a folder to spill to")
        self.codes = Codes(zones)
        self.n = n
        self._held: list[dict[str, npt.NDArray[Any]]] = []
        self._writers: list[pa.ipc.RecordBatchStreamWriter] = []
        self._paths = [folder / f"bucket-{i}.arrows" for i in range(n)] if folder is not None and n > 1 else []
        self._schema: pa.Schema | None = None
        self._waiting: list[list[pa.RecordBatch]] = [[] for _ in range(n)]  # each bucket's rows not yet written
        self._waiting_rows = 0
        self._write_rows = write_rows
        self.positions = 0

    def place(self, part: dict[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """Take a batch of ``store.iter_positions`` (``time`` and ``Tracks.COLUMNS``; each aircraft's
        rows in time order across batches) made compact by this object's ``codes`` (``codes.compact``,
        which a caller may run on a thread of its own, one batch after another, in order). Returns
        it, for what sums the rows as they come."""
        rows = len(part["t"])
        self.positions += rows
        if not rows:
            return part
        if self.n == 1:
            self._held.append(part)
            return part
        bucket = (part["aircraft"] % self.n).astype(np.uint16 if self.n < 2**16 else np.int64)  # 16 bits: a radix sort
        order = np.argsort(bucket, kind="stable")  # a stable split keeps each aircraft's rows in time order
        bounds = np.searchsorted(bucket[order], np.arange(self.n + 1))
        split = pa.record_batch({k: v[order] for k, v in part.items()})  # one gather a column, then slices
        for i in range(self.n):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if hi > lo:
                self._waiting[i].append(split.slice(lo, hi - lo))
        self._waiting_rows += rows
        if self._waiting_rows >= self._write_rows:
            self._write()
        return part

    def _write(self) -> None:
        """Each bucket's waiting rows as one batch: a year's 92 buckets written a day at a time made
        33,000 small writes, each compressed column by column (seconds of overhead, measured)."""
        for i, waiting in enumerate(self._waiting):
            if not waiting:
                continue
            batch = pa.concat_batches(waiting) if len(waiting) > 1 else waiting[0]
            if not self._writers:
                self._schema = batch.schema
                # lz4: a third of the bytes to write and read back (codes and times repeat), for little work
                options = pa.ipc.IpcWriteOptions(compression="lz4")
                self._writers = [pa.ipc.new_stream(str(p), batch.schema, options=options) for p in self._paths]
            self._writers[i].write_batch(batch)
            waiting.clear()
        self._waiting_rows = 0

    def loaders(self) -> Iterator[Callable[[], Tracks]]:
        """For each bucket in turn, a function that reads its file (then deletes it) and makes its
        :class:`Tracks` (all sharing one set of codes): to be run on whichever thread builds that
        bucket's flights. Once only: no row can be added afterwards."""
        names = (self.codes.aircraft.names(), self.codes.callsigns.names())  # once, for every bucket
        # the buckets are read once: the codes' lookup tables (a year's million aircraft, ~40 MB)
        # are let go; their names stay, in ``names``
        self.codes.aircraft.index, self.codes.callsigns.index = {}, {}
        self._write()
        if self.n == 1 or not self._writers:
            held, self._held = self._held, []
            yield lambda: Tracks.assemble(held, self.codes, names)
            return
        for w in self._writers:
            w.close()
        for path in self._paths:
            yield partial(_load, path, self.codes, names)


def _load(path: Path, codes: Codes, names: tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]) -> Tracks:
    with pa.OSFile(str(path)) as source:
        table = pa.ipc.open_stream(source).read_all()
    parts = [
        {name: col.to_numpy(zero_copy_only=False) for name, col in zip(b.schema.names, b.columns, strict=True)}
        for b in table.to_batches()
    ]
    del table
    path.unlink()
    return Tracks.assemble(parts, codes, names)
