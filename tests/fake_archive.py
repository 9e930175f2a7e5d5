"""A real HTTP server on 127.0.0.1 that serves adsb.lol's archive as GitHub does, with scripted faults.

What it implements (facts from ../shared/reference/history.md §A.1, §A.6 and the repositories'
``update-releases.py``):
- ``/adsblol/globe_history_<Y>/main/PREFERRED_RELEASES.txt`` (raw.githubusercontent.com's path) with
  the text the test gives (``add_listing``);
- ``/adsblol/globe_history_<Y>/releases/download/<tag>/<file>`` (github.com's asset path) with the
  bytes the test gives (``add_release`` splits them into ``.tar.aa`` + ``.tar.ab`` as ``split`` does),
  GET and HEAD (``Content-Length`` of the whole file, no body);
- ``Range: bytes=N-`` (and ``N-M``) answered 206 with ``Content-Range: bytes N-END/TOTAL`` as GitHub's
  object storage does, 416 past the end; ``ignore_range=True`` answers 200 with the whole file instead;
- ``redirect=True``: a GET or HEAD of an asset answers 302 to ``/github-production-release-asset/<n>?...``
  (objects.githubusercontent.com's role), where the asset is served;
- 404 for any other path.

Faults, per target (a path, or its last segments such as the file name):
- ``fault(target, Fault(...), None, ...)``: one per request of that target, GET or HEAD, before it is
  served (``tests.fake_opensky.Fault``: status with headers such as ``Retry-After``, drop...); ``None``
  serves that request normally; ``method="GET"`` plays them on that method's requests only (a
  backfill HEADs each asset before it GETs it);
- ``drop(file, after=n, times=k)``: the next k GET bodies of ``file`` stop after n bytes (the
  connection closes; ``reset=True`` sends a TCP reset; ``stall=event`` goes silent until the test sets
  ``event`` instead, so the client's read timeout fires). ``sent=event`` is set once those n bytes
  are written, so a test acts on what the client has been sent, never after a fixed wait.

Every request is recorded in ``server.seen`` (method, path, Range header, client port), and every GET
body's bytes in ``server.sent[file]`` as ``(start, end)`` offsets actually written, so a test can check
that a resume asked for ``bytes=<n>-`` and that no byte was sent twice.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.fake_opensky import HOLD_LIMIT_S, Fault, FaultHandler, Loopback

__all__ = ["Drop", "FakeArchive", "Seen", "asset_path", "listing_path"]

OWNER = "adsblol"
OBJECTS = "/github-production-release-asset/"
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
CHUNK = 8192


def listing_path(year: int) -> str:
    return f"/{OWNER}/globe_history_{year}/main/PREFERRED_RELEASES.txt"


def asset_path(year: int, tag: str, file: str) -> str:
    return f"/{OWNER}/globe_history_{year}/releases/download/{tag}/{file}"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # without the query string
    range: str | None
    connection: int  # client port: a new one per connection


@dataclass(frozen=True)
class Drop:
    after: int  # body bytes sent before the fault
    reset: bool = False  # close with a TCP reset instead of a clean close
    stall: threading.Event | None = None  # go silent until this is set (then close)
    sent: threading.Event | None = None  # set once the ``after`` bytes are written (before a stall)


class FakeArchive(Loopback):
    """Start with ``with FakeArchive() as server:``; point raw and download bases at ``server.url``."""

    def __init__(self, *, redirect: bool = False, ignore_range: bool = False) -> None:
        self.redirect = redirect
        self.ignore_range = ignore_range
        self.files: dict[str, bytes] = {}  # path -> content (listings and assets)
        self.faults: dict[tuple[str, str | None], deque[Fault | None]] = defaultdict(deque)  # (target, method)
        self.drops: dict[str, deque[Drop]] = defaultdict(deque)
        self.seen: list[Seen] = []
        self.sent: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.objects: list[str] = []  # redirect targets: index -> asset path
        self.lock = threading.Lock()
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- content

    def add_listing(self, year: int, text: str) -> None:
        self.files[listing_path(year)] = text.encode()

    def add_release(self, year: int, tag: str, data: bytes, split_at: int | None = None) -> tuple[str, ...]:
        """The release's assets, ``<tag>.tar`` or ``.tar.aa`` (``split_at`` bytes) + ``.tar.ab``: their URLs."""
        if split_at is None:
            parts = {f"{tag}.tar": data}
        else:
            parts = {f"{tag}.tar.aa": data[:split_at], f"{tag}.tar.ab": data[split_at:]}
        for file, content in parts.items():
            self.files[asset_path(year, tag, file)] = content
        return tuple(self.url + asset_path(year, tag, file) for file in parts)

    # -- faults

    def fault(self, target: str, *faults: Fault | None, method: str | None = None) -> None:
        self.faults[(target, method)].extend(faults)

    def drop(
        self,
        file: str,
        after: int,
        times: int = 1,
        *,
        reset: bool = False,
        stall: threading.Event | None = None,
        sent: threading.Event | None = None,
    ) -> None:
        self.drops[file].extend(Drop(after, reset, stall, sent) for _ in range(times))

    # -- what happened

    def requests_for(self, target: str, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if _matches(s.path, target) and (method is None or s.method == method)]

    def _take_fault(self, path: str, method: str) -> Fault | None:
        with self.lock:
            for (target, only), queue in self.faults.items():
                if _matches(path, target) and only in (None, method) and queue:
                    return queue.popleft()
        return None

    def _take_drop(self, path: str) -> Drop | None:
        with self.lock:
            queue = self.drops.get(path.rsplit("/", 1)[-1])
            return queue.popleft() if queue else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(FaultHandler):
            def do_HEAD(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                with server.lock:
                    server.seen.append(
                        Seen(self.command, parts.path, self.headers.get("Range"), self.client_address[1])
                    )
                path = parts.path
                if path.startswith(OBJECTS):  # the storage hop of a redirect
                    number = path.removeprefix(OBJECTS)
                    if not number.isdigit() or int(number) >= len(server.objects):
                        self._send(404, "Not Found", "text/plain")
                        return
                    path = server.objects[int(number)]
                    fault = None  # a fault plays at the first hop
                else:
                    fault = server._take_fault(path, self.command)
                if fault is not None and self.play(fault):
                    return
                content = server.files.get(path)
                if content is None:
                    self._send(404, "Not Found", "text/plain")
                    return
                if path.endswith(".txt"):
                    self._send(200, content, "text/plain; charset=utf-8")
                    return
                if server.redirect and not parts.path.startswith(OBJECTS):
                    with server.lock:
                        server.objects.append(path)
                        index = len(server.objects) - 1
                    file = path.rsplit("/", 1)[-1]
                    location = f"{server.url}{OBJECTS}{index}?sp=r&sig=fake&filename={file}"
                    self._send(302, b"", "text/html", {"Location": location})
                    return
                self._asset(path, content)

            def _asset(self, path: str, content: bytes) -> None:
                total = len(content)
                start, end = 0, total  # [start, end)
                status = 200
                wanted = _RANGE.fullmatch(self.headers.get("Range", "").strip())
                if wanted is not None and not server.ignore_range:
                    start = int(wanted[1])
                    end = min(total, int(wanted[2]) + 1) if wanted[2] else total
                    if start >= total or start >= end:
                        self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{total}"})
                        return
                    status = 206
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(end - start))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("ETag", f'"{total:x}"')
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{total}")
                self.end_headers()
                if self.command == "HEAD":
                    return
                drop = server._take_drop(path)
                stop = end if drop is None else min(end, start + drop.after)
                file = path.rsplit("/", 1)[-1]
                at = start
                try:
                    while at < stop:
                        n = min(CHUNK, stop - at)
                        self.wfile.write(content[at : at + n])
                        at += n
                    self.wfile.flush()
                except OSError:  # the client went away
                    pass
                finally:
                    with server.lock:
                        server.sent[file].append((start, at))
                if drop is None:
                    return
                self.close_connection = True
                if drop.sent is not None:
                    drop.sent.set()
                if drop.stall is not None:
                    drop.stall.wait(HOLD_LIMIT_S)
                elif drop.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()

        return Handler


def _matches(path: str, target: str) -> bool:
    return path == target or path.endswith("/" + target.lstrip("/"))
