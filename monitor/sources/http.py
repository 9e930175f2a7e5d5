"""HTTP for sources: requests with bounded retries, every attempt (body included) finished by the
poll's deadline, and the small readers of an answer that messages need.

Place in the flow: each HTTP source (``sources.opensky.client`` today) sends through one
:class:`DeadlineHttp`, which it owns. A server that drips its answer cannot hold a run, or the
store's lock, past the next cron tick; any ``requests`` failure becomes a
:class:`~monitor.errors.SourceUnavailable` naming the source, never a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
import urllib3

from monitor import __version__
from monitor.errors import SourceUnavailable

__all__ = ["MAX_BACKOFF_S", "USER_AGENT", "DeadlineHttp", "HttpAnswer", "int_header", "safe_url", "snippet"]

log = logging.getLogger(__name__)

USER_AGENT = f"vzmon/{__version__} (Venezuela airspace monitor; https://github.com/vzmon/vzmon)"
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class HttpAnswer:
    """An HTTP answer whose body was read in full within the poll's deadline."""

    status_code: int
    headers: Mapping[str, str]
    url: str
    redirected: bool
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body decoded (orjson). Raises ValueError (orjson.JSONDecodeError) if it is not JSON."""
        return orjson.loads(self.content)


class DeadlineHttp:
    """Requests to one source (``label`` names it in messages), retried on network errors, timeouts
    and 5xx with exponential backoff, all within the deadline set by :meth:`poll`.

    ``timeout`` is ``(connect_s, read_s)`` per read; ``should_stop`` is asked before and after each
    backoff (SIGTERM ends a poll as a recorded gap); ``redact`` cleans any answer quoted in a message.
    """

    def __init__(
        self,
        label: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        retries: int = 3,
        backoff_s: float = 2.0,
        max_poll_s: float = 150.0,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.label = label
        self.redact = redact
        self.retries = retries
        self._own_session = session is None
        self._session = session or requests.Session()
        if not str(self._session.headers.get("User-Agent", "")).startswith("vzmon/"):  # requests sets its own
            self._session.headers["User-Agent"] = USER_AGENT
        self._timeout = timeout
        self._backoff_s = backoff_s
        self._max_poll_s = max_poll_s
        self._deadline = float("inf")  # monotonic time the current poll must be done by
        self._sleep = sleep
        self._should_stop = should_stop

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    @contextmanager
    def poll(self, budget_s: float | None = None) -> Iterator[float]:
        """One poll's time budget: every request inside must be done ``budget_s`` (default
        ``max_poll_s``) from now. Yields the poll's monotonic start time."""
        started = time.monotonic()
        self._deadline = started + (self._max_poll_s if budget_s is None else budget_s)
        try:
            yield started
        finally:
            self._deadline = float("inf")

    def request(self, method: str, url: str, **kwargs: Any) -> tuple[HttpAnswer, int]:
        """Send with bounded retries on network errors, timeouts and 5xx. Returns (answer, attempts)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._send(method, url, **kwargs)
            except requests.TooManyRedirects:
                raise SourceUnavailable(f"{self.label} redirected too many times ({safe_url(url)})", url=url) from None
            except requests.RequestException as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, requests.Timeout)
                    else "connection failed"
                    if isinstance(exc, requests.ConnectionError)
                    else "answer broke off"
                )
                if attempt <= self.retries and self._can_wait(attempt):
                    self._wait(attempt, f"{method} {safe_url(url)} {kind} ({exc.__class__.__name__})")
                    continue
                raise SourceUnavailable(
                    f"{self.label} {kind} after {attempt} attempt{'s' * (attempt > 1)} ({safe_url(url)}): "
                    f"{exc.__class__.__name__}",
                    url=url,
                ) from None
            if answer.status_code >= 500:
                if attempt <= self.retries and self._can_wait(attempt, answer):
                    self._wait(attempt, f"{method} {safe_url(url)} answered HTTP {answer.status_code}", answer)
                    continue
                raise SourceUnavailable(
                    f"{self.label} answered HTTP {answer.status_code} after {attempt} attempts ({safe_url(url)}): "
                    f"{snippet(answer, self.redact)}",
                    url=url,
                    status=answer.status_code,
                )
            return answer, attempt

    def _send(self, method: str, url: str, **kwargs: Any) -> HttpAnswer:
        """One request, its body read in chunks until the poll's deadline (then requests.Timeout)."""
        if time.monotonic() >= self._deadline:
            raise requests.Timeout("the poll's time budget is spent")
        with self._session.request(method, url, timeout=self._timeout, stream=True, **kwargs) as response:
            # read1 returns what has arrived (iter_content would wait for whole 64 KiB chunks, so a
            # server dripping bytes could hold the run for hours within the per-read timeout)
            chunks = []
            while chunk := _read1(response.raw):
                chunks.append(chunk)
                if time.monotonic() > self._deadline:
                    raise requests.Timeout("the answer did not arrive within the poll's time budget")
            return HttpAnswer(
                response.status_code,
                response.headers,
                response.url,
                bool(response.history),
                b"".join(chunks),
            )

    def _delay(self, attempt: int, answer: HttpAnswer | None = None) -> float:
        delay = min(MAX_BACKOFF_S, self._backoff_s * 2.0 ** (attempt - 1))
        retry_after = answer.headers.get("Retry-After") if answer is not None else None
        if retry_after and retry_after.isascii() and retry_after[:12].isdigit():  # longer numbers are capped anyway
            delay = min(MAX_BACKOFF_S, max(delay, float(retry_after[:12])))
        return delay

    def _can_wait(self, attempt: int, answer: HttpAnswer | None = None) -> bool:
        """Whether a retry after the backoff still fits in the poll's time budget (and no stop was asked)."""
        return not self._should_stop() and time.monotonic() + self._delay(attempt, answer) < self._deadline

    def _wait(self, attempt: int, why: str, answer: HttpAnswer | None = None) -> None:
        delay = self._delay(attempt, answer)
        log.warning("%s; retry %d/%d in %.0f s", why, attempt, self.retries, delay)
        self._sleep(delay)
        if self._should_stop():  # SIGTERM/SIGINT during the backoff: give up now, as a recorded gap
            raise SourceUnavailable(f"stopped while waiting to retry ({why})")


def _read1(raw: urllib3.BaseHTTPResponse) -> bytes:
    """The next bytes of a streamed body (decoded), b"" at its end; urllib3 errors as requests' own."""
    try:
        return raw.read1(1 << 16, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(str(exc)) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(str(exc)) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # the answer broke off (IncompleteRead, reset)
        raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc


def safe_url(url: str) -> str:
    """URL without its query string, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def snippet(answer: HttpAnswer, redact: Callable[[str], str], limit: int = 120) -> str:
    """The start of an answer's body for a message: redacted first (a server may echo the request,
    secret included), then cut, so no part of a secret survives the cut."""
    text = redact(" ".join(answer.text.split()))
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty body)")


def int_header(answer: HttpAnswer, name: str, limit: float, label: str) -> int | None:
    """A whole-number header within ``[0, limit]``; None (with a warning naming ``label``, the
    source) when it is anything else: missing, not a number, "inf", "nan", negative or absurdly
    large (1e30, 2**63)."""
    value = answer.headers.get(name)
    if value is None:
        return None
    try:
        number = float(value[:64])
    except ValueError:
        number = float("nan")
    if not 0 <= number <= limit:  # NaN fails too
        log.warning("%s sent an unusable %s header (%.40r); ignored", label, name, value)
        return None
    return int(number)
