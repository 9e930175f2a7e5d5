"""A real HTTP server on 127.0.0.1 that speaks the OpenSky REST protocol, with scripted faults.

What it implements (facts from ../shared/reference/opensky.md):
- ``GET /api/states/all``: ``lamin, lomin, lamax, lomax`` filter the states (all four or none:
  a partial box is 400); ``extended=1`` gives 18-field rows, otherwise 17. The reply's ``time`` is
  the server clock floored to 10 s (anonymous) or 5 s (authenticated); state times shift with it.
- ``POST /auth/realms/opensky-network/protocol/openid-connect/token``: OAuth2 client credentials
  (form fields ``grant_type=client_credentials``, ``client_id``, ``client_secret``) answering
  ``{"access_token", "expires_in", "token_type"}``; wrong credentials get 401.
- Bearer tokens are checked on ``/states/all``: an unknown or expired token gets 401.
- Credits per identity (anonymous by client, each API client): the call's cost by box area is
  charged on 200; ``X-Rate-Limit-Remaining`` tells what is left; when the bucket cannot pay, 429
  with ``X-Rate-Limit-Retry-After-Seconds``.
- Scripted faults, consumed one per ``/states/all`` request: ``Fault(status=503)``,
  ``Fault(body=..., content_type=...)``, ``Fault(delay_s=...)``, ``Fault(drop=True)`` (close
  the connection without answering), ``Fault(doc=...)`` (a custom reply), ``Fault(hold=event)``
  (answer only once the test sets ``event``; ``fault.reached`` is set when the request arrives, so
  a test synchronises on what the server saw, never on a fixed wait).

Every request is recorded in ``server.requests``; ``server.answered`` is set each time a
``/states/all`` answer has been sent in full.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

FIXTURE = Path(__file__).parent / "data" / "opensky_states_region.json"
TOKEN_PATH = "/auth/realms/opensky-network/protocol/openid-connect/token"
HOLD_LIMIT_S = 120.0  # a held answer is released after this, so a failed test cannot hang the suite


def credit_cost(area: float | None) -> int:
    if area is None:
        return 4
    for bound, credits in ((25, 1), (100, 2), (400, 3)):
        if area <= bound:
            return credits
    return 4


@dataclass
class Fault:
    status: int | None = None
    body: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False
    doc: Any = None
    truncate: bool = False  # announce the whole body, send half of it, close
    drip_s: float = 0.0  # send the body one byte at a time, this long apart
    hold: threading.Event | None = None  # answer only once this is set (HOLD_LIMIT_S at most)
    reached: threading.Event = field(default_factory=threading.Event)  # set when the request arrives


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a killed vzmon, a timeout) is part of the tests, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Loopback:
    """What the loopback servers share: a threaded HTTP server on 127.0.0.1 (any free port) that
    ``with`` starts and stops. A subclass calls :meth:`_serve` with its handler class."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_port)


class FaultHandler(BaseHTTPRequestHandler):
    """What the loopback servers' handlers share: HTTP/1.1, silence, and playing a :class:`Fault`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(
        self,
        status: int,
        body: str | bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the GET's headers and no body
            self.wfile.write(data)

    def play(self, fault: Fault) -> bool:
        """Act out ``fault``; False when it was only a delay and the normal answer should follow."""
        fault.reached.set()
        if fault.hold is not None:
            fault.hold.wait(HOLD_LIMIT_S)
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.drop:
            self.close_connection = True
            self.connection.close()
            return True
        if fault.status is None and fault.body is None and fault.doc is None:
            return False  # a pure delay: answer normally afterwards
        if fault.truncate or fault.drip_s:
            data = (json.dumps(fault.doc) if fault.doc is not None else fault.body or "").encode()
            self.send_response(fault.status or 200)
            self.send_header("Content-Type", fault.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.flush()
            try:
                for i in range(len(data) // 2 if fault.truncate else len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(fault.drip_s)
            except OSError:  # the client gave up
                pass
            self.close_connection = True
            return True
        if fault.doc is not None:
            self._send(fault.status or 200, json.dumps(fault.doc), headers=fault.headers)
        else:
            self._send(fault.status or 200, fault.body or "", fault.content_type, fault.headers)
        return True


class FakeOpenSky(Loopback):
    """Start with ``with FakeOpenSky() as server:``; point the client at ``server.api_url``."""

    def __init__(
        self,
        doc: dict[str, Any] | None = None,
        *,
        clients: dict[str, str] | None = None,
        credits: dict[str, int] | None = None,
        token_lifetime_s: int = 1800,
        clock: Callable[[], float] = time.time,
        retry_after_s: int = 3600,
    ) -> None:
        self.doc = doc if doc is not None else json.loads(FIXTURE.read_text(encoding="utf-8"))
        self.clients = clients if clients is not None else {"vzmon-test": "s3cret-value"}
        self.credits = credits if credits is not None else {}
        self.default_credits = {"anonymous": 400, "client": 4000}
        self.token_lifetime_s = token_lifetime_s
        self.clock = clock
        self.retry_after_s = retry_after_s
        self.tokens: dict[str, tuple[str, float]] = {}
        self.faults: deque[Fault] = deque()
        self.token_faults: deque[Fault] = deque()
        self.requests: list[Recorded] = []
        self.answered = threading.Event()  # set when a /states/all answer has been sent in full
        self.lock = threading.Lock()
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    def states_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/api/states/all"]

    def token_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == TOKEN_PATH]

    # -- protocol

    def _remaining(self, identity: str) -> int:
        if identity not in self.credits:
            self.credits[identity] = self.default_credits["anonymous" if identity == "anonymous" else "client"]
        return self.credits[identity]

    def states_reply(self, params: dict[str, list[str]], authenticated: bool) -> tuple[int, dict[str, Any] | str]:
        box_keys = ("lamin", "lomin", "lamax", "lomax")
        given = [k for k in box_keys if k in params]
        if given and len(given) != 4:
            return 400, "Bad Request: an area query needs lamin, lomin, lamax and lomax"
        doc = copy.deepcopy(self.doc)
        now = int(self.clock())
        resolution = 5 if authenticated else 10
        t = now - now % resolution
        shift = t - int(doc["time"])
        doc["time"] = t
        states = doc.get("states") or []
        out = []
        for row in states:
            row = list(row)
            for i in (3, 4):
                if isinstance(row[i], int | float):
                    row[i] = int(row[i]) + shift
            if given:
                lamin, lomin, lamax, lomax = (float(params[k][0]) for k in box_keys)
                lon, lat = row[5], row[6]
                if lon is None or lat is None or not (lamin <= lat <= lamax and lomin <= lon <= lomax):
                    continue
            if params.get("extended", ["0"])[0] not in ("1", "true", "True"):
                row = row[:17]
            out.append(row)
        doc["states"] = out if doc.get("states") is not None else None
        return 200, doc

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(FaultHandler):
            def _record(self, form: dict[str, list[str]] | None = None) -> Recorded:
                parts = urlsplit(self.path)
                rec = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), form or {})
                with server.lock:
                    server.requests.append(rec)
                return rec

            def _fault(self, queue: deque[Fault]) -> bool:
                with server.lock:
                    fault = queue.popleft() if queue else None
                return fault is not None and self.play(fault)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                rec = self._record(form)
                if rec.path != TOKEN_PATH:
                    self._send(404, '{"error": "not found"}')
                    return
                if self._fault(server.token_faults):
                    return
                cid = form.get("client_id", [""])[0]
                if (
                    form.get("grant_type", [""])[0] != "client_credentials"
                    or "application/x-www-form-urlencoded" not in self.headers.get("Content-Type", "")
                    or server.clients.get(cid) != form.get("client_secret", [None])[0]
                ):
                    self._send(401, '{"error":"invalid_client","error_description":"Invalid client credentials"}')
                    return
                token = secrets.token_urlsafe(16)
                with server.lock:
                    server.tokens[token] = (cid, server.clock() + server.token_lifetime_s)
                body = {"access_token": token, "expires_in": server.token_lifetime_s, "token_type": "Bearer"}
                self._send(200, json.dumps(body))

            def do_GET(self) -> None:
                rec = self._record()
                if rec.path != "/api/states/all":
                    self._send(404, '{"error": "not found"}')
                    return
                if self._fault(server.faults):
                    return
                auth = self.headers.get("Authorization", "")
                identity = "anonymous"
                if auth:
                    token = auth.removeprefix("Bearer ").strip()
                    with server.lock:
                        entry = server.tokens.get(token)
                    if entry is None or entry[1] <= server.clock():
                        self._send(401, "")
                        return
                    identity = entry[0]
                status, doc = server.states_reply(rec.params, identity != "anonymous")
                if status != 200:
                    self._send(status, doc if isinstance(doc, str) else json.dumps(doc), "text/plain")
                    return
                area = None
                if "lamin" in rec.params:
                    p = {k: float(v[0]) for k, v in rec.params.items() if k in ("lamin", "lomin", "lamax", "lomax")}
                    area = (p["lamax"] - p["lamin"]) * (p["lomax"] - p["lomin"])
                cost = credit_cost(area)
                with server.lock:
                    left = server._remaining(identity)
                    if left < cost:
                        self._send(
                            429,
                            "Too many requests",
                            "text/plain",
                            {"X-Rate-Limit-Retry-After-Seconds": str(server.retry_after_s)},
                        )
                        return
                    server.credits[identity] = left - cost
                    left -= cost
                self._send(200, json.dumps(doc), headers={"X-Rate-Limit-Remaining": str(left)})
                server.answered.set()

        return Handler
