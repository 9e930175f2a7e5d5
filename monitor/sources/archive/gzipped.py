"""The gzip members of adsb.lol's archive (heatmaps, traces) unpacked with the checks both need.

Place in the flow: ``heatmap`` and ``traces`` call :func:`gunzip` on each member's bytes. readsb
writes each member as one gzip stream; a stream that is damaged, cut short, followed by other
bytes or larger than the kind of file can be once unpacked is an error naming the member.
"""

from __future__ import annotations

import zlib

__all__ = ["gunzip"]


def gunzip(data: bytes, name: str, limit: int, kind: str, error: type[ValueError]) -> bytes:
    """``data`` (one gzip stream) unpacked. Raises ``error`` naming ``name`` when the stream is not
    one readsb wrote, or unpacks to more than ``limit`` bytes (too large for a ``kind``)."""
    unpack = zlib.decompressobj(wbits=31)
    try:
        raw = unpack.decompress(data, limit + 1)
    except zlib.error as exc:
        raise error(f"{name}: not a gzip stream readsb wrote ({exc})") from None
    if len(raw) > limit:
        raise error(f"{name}: more than {limit:,} bytes once unpacked, too large for a {kind}")
    if not unpack.eof:
        raise error(f"{name}: the gzip stream is cut short")
    if unpack.unused_data:
        raise error(f"{name}: {len(unpack.unused_data):,} bytes follow the gzip stream: not a file readsb wrote")
    return raw
