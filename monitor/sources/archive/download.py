"""A day's release read over HTTP as streams, resuming a dropped connection with a Range request so
its reader sees every byte once, in order, and nothing lands on disk.

Place in the flow: the backfill picks a release (``sources.archive.release``), opens its parts here
and hands them to ``sources.archive.tarstream.members``:
``members(open_parts(release, session), wanted, day)``.

How a part is read: one GET (``stream=True``, ``Accept-Encoding: identity`` so byte offsets are the
file's); when the body breaks off (reset, timeout, fewer bytes than announced) the part asks again
with ``Range: bytes=<bytes read>-`` and accepts only a 206 whose ``Content-Range`` starts there. A
server that answers a Range request with the whole file (200) is an error, never a silent re-read.
429 and 5xx wait (``Retry-After`` when given, else exponential backoff, capped) and retry; 403, 404
and 410 fail at once. At most ``retries`` attempts in a row may bring no byte; a part that ends
with another size than its release says is an error. Parts open lazily: the second part's request
is sent when the first is exhausted, so no connection sits idle while a long part is read.
"""

from __future__ import annotations

import http.client
import io
import logging
import re
import time
from collections.abc import Callable
from typing import BinaryIO

import requests
import urllib3

from monitor.sources.archive.release import Release
from monitor.sources.archive.tarstream import ArchiveError
from monitor.sources.http import MAX_BACKOFF_S, USER_AGENT

__all__ = ["DEFAULT_TIMEOUT", "RemotePart", "open_parts"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds; read is per chunk, not for the whole part
MAX_FAILURES = 100  # per part, however much each attempt brought: a link that drops every few bytes is broken
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_GONE = (403, 404, 410)
_FIX = "run again later, or download the release's parts and pass them with --archive PATH"

# What a body that breaks off raises: requests' errors while connecting, urllib3's and the socket's
# while streaming (ProtocolError, ReadTimeoutError, IncompleteRead, ConnectionResetError...)
_BROKEN: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


class RemotePart(io.RawIOBase, BinaryIO):
    """One release asset at ``url`` read as a binary stream, resumed after a dropped connection.

    ``size``: the part's bytes when known (a release's HEAD), checked against the answer and at the
    end. ``timeout``: (connect_s, read_s). ``retries``: attempts in a row that bring no byte before
    giving up (backoff ``backoff_s`` doubled each time, at most ``max_backoff_s``; ``sleep`` waits, so
    tests never do). ``progress(bytes_so_far)`` is called after each read. ``read_bytes`` counts the
    bytes handed out. Raises :class:`~monitor.sources.archive.tarstream.ArchiveError` naming the URL.
    """

    def __init__(
        self,
        url: str,
        session: requests.Session,
        *,
        size: int | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 5,
        backoff_s: float = 2.0,
        max_backoff_s: float = MAX_BACKOFF_S,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self.size = size
        self.read_bytes = 0
        self.gets = 0  # GETs sent, resumes included
        self._session = session
        self._timeout = timeout
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._progress = progress
        self._response: requests.Response | None = None
        self._end: int | None = size  # the offset the body ends at, once known
        self._finished = False
        self._failures = 0  # all failed attempts of this part
        self._in_a_row = 0  # failed attempts since the last byte arrived
        self._progressed = False

    @property
    def name(self) -> str:
        return self.url

    @property
    def mode(self) -> str:
        return "rb"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self.closed:
            raise ValueError(f"{self.url}: read of a closed part")
        while view.nbytes and not self._finished:
            if self._response is None and self._end is not None and self.read_bytes >= self._end:
                self._finish()  # every byte came before the connection broke (or the part is empty)
                break
            response = self._response or self._open()
            try:
                data = response.raw.read1(view.nbytes, decode_content=False)
            except _BROKEN as exc:
                self._failed(f"the connection broke after {self.read_bytes:,} bytes ({exc.__class__.__name__})")
                continue
            if not data:
                if self._end is not None and self.read_bytes < self._end:
                    self._failed(f"the answer stopped at byte {self.read_bytes:,} of {self._end:,}")
                    continue
                self._finish()
                break
            n = len(data)
            if self._end is not None and self.read_bytes + n > self._end:
                self._drop_response()
                raise ArchiveError(f"{self.url} sent more than the {self._end:,} bytes it announced: {_FIX}")
            view[:n] = data
            self.read_bytes += n
            self._progressed = True
            if self._progress is not None:
                self._progress(self.read_bytes)
            return n
        return 0

    def close(self) -> None:
        self._drop_response()
        super().close()

    # -- one request

    def _open(self) -> requests.Response:
        """A response whose body continues at ``read_bytes``; retries within the bounds."""
        while True:
            offset = self.read_bytes
            headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            self.gets += 1
            try:
                response = self._session.get(self.url, headers=headers, stream=True, timeout=self._timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self._failed(f"GET at byte {offset:,} failed ({exc.__class__.__name__})")
                continue
            except requests.RequestException as exc:
                raise ArchiveError(f"{self.url} cannot be requested ({exc.__class__.__name__}: {exc})") from None
            status = response.status_code
            if status in (200, 206):
                self._check(response, offset)
                self._response = response
                return response
            retry_after = _retry_after(response.headers.get("Retry-After"))
            response.close()
            if status == 429 or status >= 500:
                self._failed(f"HTTP {status} at byte {offset:,}", retry_after)
                continue
            if status in _GONE:
                raise ArchiveError(
                    f"{self.url} answered HTTP {status}: the asset is gone or not public (a release deleted or "
                    "re-uploaded); look the day up again, or download its parts and pass them with --archive PATH"
                )
            raise ArchiveError(f"{self.url} answered HTTP {status} to a GET at byte {offset:,}: {_FIX}")

    def _check(self, response: requests.Response, offset: int) -> None:
        """That ``response`` continues the part at ``offset``; sets where its body ends."""
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            response.close()
            raise ArchiveError(f"{self.url} answered with Content-Encoding {encoding!r}, not the raw file: {_FIX}")
        if response.status_code == 200:
            if offset:
                response.close()
                raise ArchiveError(
                    f"{self.url} ignored the Range request (HTTP 200 to bytes={offset}-): it cannot resume after "
                    f"{offset:,} bytes without reading them twice; {_FIX}"
                )
            length = _whole_number(response.headers.get("Content-Length"))
            self._set_end(response, length, "Content-Length")
            return
        found = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if found is None or int(found[1]) != offset:
            response.close()
            raise ArchiveError(
                f"{self.url} answered bytes={offset}- with Content-Range "
                f"{response.headers.get('Content-Range')!r}, not one starting at {offset:,}: {_FIX}"
            )
        total = None if found[3] == "*" else int(found[3])
        self._set_end(response, total if total is not None else int(found[2]) + 1, "Content-Range")

    def _set_end(self, response: requests.Response, end: int | None, header: str) -> None:
        if end is not None and self.size is not None and end != self.size:
            response.close()
            raise ArchiveError(
                f"{self.url} is {end:,} bytes by its {header}, but the release listed {self.size:,}: the release "
                "changed since it was looked up; look the day up again"
            )
        if end is not None:
            self._end = end

    # -- failures and the end

    def _failed(self, why: str, retry_after: float | None = None) -> None:
        """Count a failed attempt, then wait before the next one, or raise when the bounds are spent."""
        self._drop_response()
        if self._progressed:  # bytes arrived since the last failure: a new run of attempts
            self._in_a_row = 0
            self._progressed = False
        self._in_a_row += 1
        self._failures += 1
        if self._in_a_row > self._retries or self._failures > MAX_FAILURES:
            of = f" of {self._end:,}" if self._end is not None else ""
            raise ArchiveError(
                f"{self.url}: {why}; gave up after {self._failures} failed attempts ({self._in_a_row} in a row) "
                f"at byte {self.read_bytes:,}{of}: check the network and {_FIX}"
            )
        delay = self._backoff_s * 2.0 ** (self._in_a_row - 1) if retry_after is None else retry_after
        delay = min(self._max_backoff_s, max(0.0, delay))
        log.warning("%s: %s; retry %d/%d in %.0f s", self.url, why, self._in_a_row, self._retries, delay)
        self._sleep(delay)

    def _finish(self) -> None:
        self._drop_response()
        self._finished = True
        if self.size is not None and self.read_bytes != self.size:
            raise ArchiveError(
                f"{self.url} ended after {self.read_bytes:,} bytes, but the release listed {self.size:,}: {_FIX}"
            )

    def _drop_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None


def open_parts(
    release: Release,
    session: requests.Session,
    *,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], None] | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    retries: int = 5,
    backoff_s: float = 2.0,
) -> list[RemotePart]:
    """``release``'s parts in order as :class:`RemotePart` streams, none requested yet (each sends
    its first GET on its first read). ``progress(bytes_so_far)`` counts across the parts, for a
    progress display against ``release.total``."""
    parts: list[RemotePart] = []
    for k, (url, size) in enumerate(zip(release.urls, release.sizes, strict=True)):
        parts.append(
            RemotePart(
                url,
                session,
                size=size,
                timeout=timeout,
                retries=retries,
                backoff_s=backoff_s,
                sleep=sleep,
                progress=None if progress is None else _across(parts, k, progress),
            )
        )
    return parts


def _across(parts: list[RemotePart], k: int, progress: Callable[[int], None]) -> Callable[[int], None]:
    """Part ``k``'s progress as bytes so far of the whole release (the parts before it are done)."""

    def report(read: int) -> None:
        progress(sum(p.read_bytes for p in parts[:k]) + read)

    return report


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds; None when absent or an HTTP date (then the backoff applies)."""
    seconds = _whole_number(value)
    return None if seconds is None else float(seconds)


def _whole_number(value: str | None) -> int | None:
    text = value.strip() if value is not None else ""
    return int(text[:15]) if text.isascii() and text.isdigit() else None
