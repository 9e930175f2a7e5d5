"""Real alert receivers on 127.0.0.1: an HTTP webhook that records payloads (and can fail first),
and an SMTP server (aiosmtpd) that requires a login, plain, with STARTTLS or with implicit TLS."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOLD_LIMIT_S = 120.0  # a held answer is released after this, so a failed test cannot hang the suite


class Webhook:
    """Records every POST. ``fail`` is a queue of statuses (or "timeout") answered before success.

    Set ``hold`` (a cleared ``threading.Event``) to keep successes unanswered until the test sets
    it; ``arrived`` is set whenever a POST comes in, so tests wait on events, not on the clock.
    """

    def __init__(self, path: str = "/hooks/vzmon") -> None:
        self.path = path
        self.received: list[dict[str, Any]] = []
        self.fail: deque[int | str] = deque()
        self.attempts = 0
        self.delay_s = 0.0  # answer successes this late (a slow receiver)
        self.hold: threading.Event | None = None  # answer successes only once this is set
        self.arrived = threading.Event()
        self.released = threading.Event()  # set on exit: unanswered ("timeout") requests end then
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    hook.attempts += 1
                    outcome = hook.fail.popleft() if hook.fail else 200
                    hold = hook.hold
                hook.arrived.set()
                if outcome == "timeout":  # never answered while the client waits: it times out
                    hook.released.wait(HOLD_LIMIT_S)
                    outcome = 200
                    self.close_connection = True
                    return
                if outcome == 200:
                    if hold is not None:
                        hold.wait(HOLD_LIMIT_S)
                    time.sleep(hook.delay_s)
                    with hook.lock:
                        hook.received.append({"headers": dict(self.headers.items()), "body": body})
                self.send_response(int(outcome))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class Smtp:
    """aiosmtpd on a free port, login required (user/password).

    ``security``: None (plain), "starttls" (offers and requires STARTTLS) or "tls" (implicit TLS, as
    on port 465). TLS uses a certificate for 127.0.0.1 from a throwaway CA (``trustme``); the CA's
    PEM is written to ``tls_dir`` as ``ca_file`` for the client to trust.
    """

    def __init__(
        self,
        user: str = "alerts@example.org",
        password: str = "smtp-pass",
        security: str | None = None,
        tls_dir: Path | None = None,
    ):
        import socket
        import ssl

        import trustme

        self.user, self.password = user, password
        self.inbox = _Inbox()
        self.logins: list[str] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        kwargs: dict[str, Any] = {}
        self.ca_file: Path | None = None
        if security is not None:
            if tls_dir is None:
                raise ValueError("TLS needs a tls_dir for the CA file")
            ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1").configure_cert(context)
            self.ca_file = tls_dir / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            if security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._auth,
            auth_required=True,
            # implicit TLS: aiosmtpd cannot tell it is encrypted (aio-libs/aiosmtpd#281), so only STARTTLS asks
            auth_require_tls=security == "starttls",
            **kwargs,
        )

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == self.user and auth_data.password.decode() == self.password
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)  # 535 on failure

    def __enter__(self) -> Smtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Message]:
        return self.inbox.messages
