"""OpenSky REST source: ``OpenSkyClient`` (auth, retries, rate limits) and the pure ``parse_states``.

Place in the flow: first step. ``pipeline`` asks the client for ``/states/all`` over the zones'
polling box, then ``parse_states`` turns the reply into the position columns of ``schema``. Only
this module knows OpenSky's field order and names.

Protocol facts (OpenSky REST docs; ../shared/reference/opensky.md):
- ``GET {api}/states/all?lamin&lomin&lamax&lomax&extended=1`` answers
  ``{"time": <unix s>, "states": [[17 or 18 fields], ...] | null}``.
- Anonymous calls need no header. Authenticated calls send ``Authorization: Bearer <token>``; the
  token comes from an OAuth2 client-credentials POST to the token URL and expires (30 min). We
  cache it and refresh it a minute early; a 401 gets one refresh and one retry.
- Each call costs credits by box area (``geo.bounds``). ``X-Rate-Limit-Remaining`` reports what
  is left; 429 means none is, for ``X-Rate-Limit-Retry-After-Seconds``.

Retries live in one place, :meth:`OpenSkyClient._request`: connection errors, timeouts and 5xx are
retried ``retries`` times with exponential backoff; nothing else is retried. The clock and sleep
are injectable (tests); the session and URLs are too (tests point them at 127.0.0.1).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import requests
import urllib3

from geo.bounds import BBox
from monitor.errors import AuthError, RateLimited, SourceUnavailable
from monitor.schema import POSITION_SCHEMA, positions_frame
from monitor.settings import Secret

__all__ = [
    "SOURCE",
    "OpenSkyClient",
    "ParsedStates",
    "StatesReply",
    "decode_json",
    "parse_states",
    "utcnow",
]

log = logging.getLogger(__name__)

SOURCE = "opensky"
USER_AGENT = "vzmon/0.1 (Venezuela airspace monitor; python-requests)"
TOKEN_REFRESH_MARGIN_S = 60.0
DEFAULT_TOKEN_LIFETIME_S = 1800.0  # OpenSky: "tokens expire after 30 minutes"
DEFAULT_RETRY_AFTER_S = 300.0  # a 429 without a usable X-Rate-Limit-Retry-After-Seconds
MAX_RETRY_AFTER_S = 2 * 86_400.0  # credits reset daily: a longer (or infinite) retry-after is a broken header
MAX_BACKOFF_S = 60.0
MAX_TOKEN_LIFETIME_S = 86_400.0
MAX_EPOCH_S = 2.0**33  # year 2242: a larger Unix time in a reply is a broken value, not a time
POSITION_AHEAD_S = 60.0  # a position this far ahead of the reply's time is broken, and flagged stale
MAX_CREDITS_HEADER = 10**7  # X-Rate-Limit-Remaining above this (no account has so many) is a broken header
_FIELDS = 18  # state vector length with extended=1; longer rows are cut, 17-field rows padded


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Reply:
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


@dataclass(frozen=True)
class StatesReply:
    """One successful ``/states/all`` answer and what it cost."""

    doc: Any  # decoded JSON, checked by parse_states
    http_status: int
    credits_remaining: int | None
    url: str  # final URL after redirects, query included (no secrets are ever in it)
    duration_s: float
    attempts: int
    authenticated: bool


class OpenSkyClient:
    """OpenSky REST client for ``/states/all``. Use as a context manager.

    ``credentials`` is ``(client_id, secret)`` for OAuth2, or None for anonymous calls.
    ``timeout`` is ``(connect_s, read_s)``. Raises :class:`AuthError`, :class:`RateLimited` or
    :class:`SourceUnavailable` (all ``SourceError``) from :meth:`fetch_states`.
    """

    def __init__(
        self,
        api_url: str,
        token_url: str,
        credentials: tuple[str, Secret] | None = None,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        retries: int = 3,
        backoff_s: float = 2.0,
        max_poll_s: float = 150.0,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self._credentials = credentials
        self._own_session = session is None
        self._session = session or requests.Session()
        self._session.headers.setdefault("User-Agent", USER_AGENT)
        self._timeout = timeout
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_poll_s = max_poll_s
        self._deadline = float("inf")  # monotonic time the current poll must be done by
        self._clock = clock
        self._sleep = sleep
        self._should_stop = should_stop
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self.token_fetches = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    @property
    def authenticated(self) -> bool:
        return self._credentials is not None

    # -- the one place that sends requests and retries them

    def _request(self, method: str, url: str, **kwargs: Any) -> tuple[Reply, int]:
        """Send with bounded retries on network errors, timeouts and 5xx. Returns (reply, attempts).

        Every attempt, body included, must finish by the poll's deadline (``max_poll_s`` from the
        start of :meth:`fetch_states`): a server that drips its answer cannot hold a run, or the
        store's lock, past the next cron tick. Any ``requests`` failure is a source failure, never
        a crash.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                reply = self._send(method, url, **kwargs)
            except requests.TooManyRedirects:
                raise SourceUnavailable(f"OpenSky redirected too many times ({_safe(url)})", url=url) from None
            except requests.RequestException as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, requests.Timeout)
                    else "connection failed"
                    if isinstance(exc, requests.ConnectionError)
                    else "answer broke off"
                )
                if attempt <= self._retries and self._can_wait(attempt):
                    self._wait(attempt, f"{method} {_safe(url)} {kind} ({exc.__class__.__name__})")
                    continue
                raise SourceUnavailable(
                    f"OpenSky {kind} after {attempt} attempt{'s' * (attempt > 1)} ({_safe(url)}): "
                    f"{exc.__class__.__name__}",
                    url=url,
                ) from None
            if reply.status_code >= 500:
                if attempt <= self._retries and self._can_wait(attempt, reply):
                    self._wait(attempt, f"{method} {_safe(url)} answered HTTP {reply.status_code}", reply)
                    continue
                raise SourceUnavailable(
                    f"OpenSky answered HTTP {reply.status_code} after {attempt} attempts ({_safe(url)}): "
                    f"{_snippet(reply)}",
                    url=url,
                    status=reply.status_code,
                )
            return reply, attempt

    def _send(self, method: str, url: str, **kwargs: Any) -> Reply:
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
            return Reply(
                response.status_code,
                response.headers,
                response.url,
                bool(response.history),
                b"".join(chunks),
            )

    def _delay(self, attempt: int, reply: Reply | None = None) -> float:
        delay = min(MAX_BACKOFF_S, self._backoff_s * 2.0 ** (attempt - 1))
        retry_after = reply.headers.get("Retry-After") if reply is not None else None
        if retry_after and retry_after[:12].isdigit():  # longer numbers are capped anyway
            delay = min(MAX_BACKOFF_S, max(delay, float(retry_after[:12])))
        return delay

    def _can_wait(self, attempt: int, reply: Reply | None = None) -> bool:
        """Whether a retry after the backoff still fits in the poll's time budget (and no stop was asked)."""
        return not self._should_stop() and time.monotonic() + self._delay(attempt, reply) < self._deadline

    def _wait(self, attempt: int, why: str, reply: Reply | None = None) -> None:
        delay = self._delay(attempt, reply)
        log.warning("%s; retry %d/%d in %.0f s", why, attempt, self._retries, delay)
        self._sleep(delay)
        if self._should_stop():  # SIGTERM/SIGINT during the backoff: give up now, as a recorded gap
            raise SourceUnavailable(f"stopped while waiting to retry ({why})")

    # -- OAuth2 client credentials

    def _bearer(self) -> dict[str, str]:
        if self._credentials is None:
            return {}
        if self._token is None or self._token_expires is None or self._clock() >= self._token_expires:
            self._token = self._fetch_token(*self._credentials)
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self, client_id: str, secret: Secret) -> str:
        """POST the client credentials to the token URL; set the refresh time; return the token."""
        response, _ = self._request(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret.reveal()},
            allow_redirects=False,  # a redirected POST turns into a GET and loses the credentials
        )
        if 300 <= response.status_code < 400:
            raise SourceUnavailable(
                f"OpenSky token URL redirects (HTTP {response.status_code} to "
                f"{_safe(response.headers.get('Location', '?'))}); set OPENSKY_TOKEN_URL to the final URL",
                url=self.token_url,
                status=response.status_code,
            )
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"OpenSky rejected the API client credentials (HTTP {response.status_code} from the token URL); "
                "check OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET or OPENSKY_CREDENTIALS",
                url=self.token_url,
                status=response.status_code,
            )
        try:
            doc = response.json()
            token = doc["access_token"]
            raw = doc.get("expires_in")
            lifetime = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else float("nan")
            if not 0 < lifetime < float("inf"):
                lifetime = DEFAULT_TOKEN_LIFETIME_S
            lifetime = min(lifetime, MAX_TOKEN_LIFETIME_S)
            if not isinstance(token, str) or not token:
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise SourceUnavailable(
                f"OpenSky token URL answered HTTP {response.status_code} without an access_token "
                f"({_safe(self.token_url)}); check OPENSKY_TOKEN_URL",
                url=self.token_url,
                status=response.status_code,
            ) from None
        self._token_expires = self._clock() + timedelta(seconds=max(0.0, lifetime - TOKEN_REFRESH_MARGIN_S))
        self.token_fetches += 1
        log.debug("OpenSky token fetched, refresh due at %s", self._token_expires.isoformat())
        return token

    # -- /states/all

    def fetch_states(self, box: BBox) -> StatesReply:
        """``GET /states/all`` for ``box`` with ``extended=1``. The reply is decoded, not yet parsed."""
        url = f"{self.api_url}/states/all"
        params = {**{k: f"{v:.4f}".rstrip("0").rstrip(".") for k, v in box.opensky_params().items()}, "extended": "1"}
        started = time.monotonic()
        self._deadline = started + self._max_poll_s
        try:
            return self._fetch_states(url, params, started)
        finally:
            self._deadline = float("inf")

    def _fetch_states(self, url: str, params: dict[str, str], started: float) -> StatesReply:
        response, attempts = self._request("GET", url, params=params, headers=self._bearer())
        if response.status_code == 401 and self.authenticated:
            log.info("OpenSky answered 401: refreshing the token and retrying once")
            self._token = None
            response, more = self._request("GET", url, params=params, headers=self._bearer())
            attempts += more
        duration = time.monotonic() - started
        self._check_redirect(url, response)
        remaining = _int_header(response, "X-Rate-Limit-Remaining", MAX_CREDITS_HEADER)
        status = response.status_code
        if status == 429:
            retry_after = _int_header(response, "X-Rate-Limit-Retry-After-Seconds", MAX_RETRY_AFTER_S)
            if retry_after is None or retry_after <= 0:
                log.warning("OpenSky sent no usable retry-after; waiting %.0f s", DEFAULT_RETRY_AFTER_S)
                retry_after = None
            wait = float(retry_after) if retry_after is not None else DEFAULT_RETRY_AFTER_S
            retry_at = self._clock() + timedelta(seconds=wait)
            raise RateLimited(
                f"OpenSky credits exhausted (HTTP 429); no poll before {retry_at:%Y-%m-%dT%H:%M:%SZ} "
                f"({wait:.0f} s). More credits: set OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET, or poll less often",
                retry_after_s=wait,
                retry_at=retry_at,
                url=response.url,
            )
        if status in (401, 403):
            fix = (
                "check OPENSKY_CLIENT_ID/OPENSKY_CLIENT_SECRET (or OPENSKY_CREDENTIALS)"
                if self.authenticated
                else "create an API client on https://opensky-network.org/my-opensky/account and set "
                "OPENSKY_CLIENT_ID and OPENSKY_CLIENT_SECRET (or OPENSKY_CREDENTIALS), and check OPENSKY_API_URL"
            )
            who = "an authenticated" if self.authenticated else "an anonymous"
            raise AuthError(
                f"OpenSky refused /states/all (HTTP {status}) to {who} call; {fix}",
                url=response.url,
                status=status,
            )
        if status != 200:
            hint = "; check OPENSKY_API_URL" if status == 404 else ""
            raise SourceUnavailable(
                f"OpenSky /states/all answered HTTP {status}: {_snippet(response)}{hint}",
                url=response.url,
                status=status,
            )
        try:
            doc = decode_json(response.content)
        except orjson.JSONDecodeError:  # a ValueError
            kind = response.headers.get("Content-Type", "unknown type")
            raise SourceUnavailable(
                f"OpenSky answered HTTP 200 with something that is not JSON ({kind}): {_snippet(response)}",
                url=response.url,
                status=status,
            ) from None
        return StatesReply(doc, status, remaining, response.url, duration, attempts, self.authenticated)

    def _check_redirect(self, url: str, response: Reply) -> None:
        if not response.redirected:
            return
        before, after = urlsplit(url).netloc, urlsplit(response.url).netloc
        log.info("OpenSky redirected %s to %s", _safe(url), _safe(response.url))
        if self.authenticated and before != after:
            log.warning(
                "OpenSky redirected to another host (%s -> %s): requests drops the Authorization header there, "
                "so this call was anonymous; set OPENSKY_API_URL to the new host",
                before,
                after,
            )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a 10,000-state reply makes ~200,000 acyclic objects,
    and collections triggered while building them only cost time (about 10 % of an ingest)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def decode_json(content: bytes) -> Any:
    """Decode a reply body (orjson, with the garbage collector paused). Raises orjson.JSONDecodeError."""
    with _gc_paused():
        return orjson.loads(content)


def _safe(url: str) -> str:
    """URL without its query string, for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _snippet(response: Reply, limit: int = 120) -> str:
    text = " ".join(response.text.split())
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty body)")


def _int_header(response: Reply, name: str, limit: float) -> int | None:
    """A whole-number header within ``[0, limit]``; None (with a warning) when it is anything else:
    missing, not a number, "inf", "nan", negative or absurdly large (1e30, 2**63)."""
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        number = float(value[:64])
    except ValueError:
        number = float("nan")
    if not 0 <= number <= limit:  # NaN fails too
        log.warning("OpenSky sent an unusable %s header (%.40r); ignored", name, value)
        return None
    return int(number)


# ---------------------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class ParsedStates:
    """The positions of one reply: ``table`` has ``schema.POSITION_SCHEMA`` without ``zone``."""

    api_time: datetime
    table: pa.Table
    malformed_rows: int
    fields_per_row: int  # 17 without category, 18 with it; the most common length seen

    @functools.cached_property
    def positions(self) -> pd.DataFrame:
        """The same positions as a pandas DataFrame (schema dtypes)."""
        return positions_frame(self.table)


_PARSED_SCHEMA = pa.schema([f for f in POSITION_SCHEMA if f.name != "zone"])


def _floats(values: tuple[Any, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers as float64; None, true/false and anything else that is not a number become NaN."""
    numbers = [None if isinstance(v, bool) else v for v in values]
    try:
        return np.array(numbers, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return pd.to_numeric(pd.Series(numbers, dtype=object), errors="coerce").to_numpy(dtype=np.float64)


def _float_column(values: tuple[Any, ...]) -> pa.Array:
    """Numbers as an Arrow float64 array, missing values as nulls (never NaN); anything that is not
    a number is missing too, true and false included (Arrow would read them as 1 and 0). Arrow
    converts a tuple of Python numbers faster than numpy does; the type check only runs when the
    column holds a 0 or a 1, the only values a true or false could have become."""
    try:
        arr = pa.array(values, type=pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array(_floats(values), type=pa.float64(), from_pandas=True)  # NaN -> null
    if pc.any(pc.is_in(arr, _ZERO_ONE)).as_py() and bool in set(map(type, values)):
        return pa.array(_floats(values), type=pa.float64(), from_pandas=True)
    return arr


_ZERO_ONE = pa.array([0.0, 1.0])
_TRUE_TEXT = frozenset({"true", "1"})
_FALSE_TEXT = frozenset({"false", "0"})


def _flag(v: Any) -> bool | None:
    """A true/false field as OpenSky sends it (JSON true/false), or as 0/1 or their text; else None."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        text = v.strip().lower()
        return True if text in _TRUE_TEXT else False if text in _FALSE_TEXT else None
    return None


def _nan_filled(arr: pa.Array) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A float64 Arrow array as numpy, nulls as NaN."""
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _column(values: tuple[Any, ...], type_: pa.DataType, keep: Callable[[Any], Any]) -> pa.Array:
    """Arrow array of ``values``; if some value has the wrong type, ``keep`` maps each value first."""
    try:
        return pa.array(values, type=type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError):
        return pa.array([keep(v) for v in values], type=type_)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _smallint(v: Any) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or not -32768 <= v <= 32767:
        return None
    return int(v) if float(v).is_integer() else None


def _as_seconds(values: np.ndarray[Any, np.dtype[np.float64]], what: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Unix times with any sent in milliseconds (1e11 to 1e14: years 1973 to 5138 in ms, never
    plausible in seconds) read as such, and a warning saying how many."""
    with np.errstate(invalid="ignore"):
        millis = (values >= 1e11) & (values < 1e14)
    n = int(millis.sum())
    if n:
        log.warning("%d %s values looked like milliseconds and were read as such", n, what)
        values = np.where(millis, values / 1000.0, values)
    return values


def _times(seconds: np.ndarray[Any, np.dtype[np.float64]]) -> pa.Array:
    """Unix seconds as UTC timestamps; missing, negative or absurd (past 2242) values are null."""
    with np.errstate(invalid="ignore"):
        missing = ~((seconds >= 0) & (seconds < MAX_EPOCH_S))
    whole = np.where(missing, 0, seconds).astype(np.int64)
    return pa.array(whole, type=pa.timestamp("s", tz="UTC"), mask=missing)


def _trimmed_or_null(arr: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _usable(row: Any) -> bool:
    return isinstance(row, list) and len(row) >= 17 and isinstance(row[0], str) and bool(row[0].strip())


def _icao24(values: tuple[Any, ...]) -> pa.Array | None:
    """The icao24 column trimmed and lower-cased, or None unless every value is a non-blank string."""
    try:
        arr = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(values, type=pa.string())))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if arr.null_count or not len(arr) or pc.min(pc.utf8_length(arr)).as_py() == 0:
        return None
    return arr


def _transpose(rows: list[list[Any]]) -> list[Any]:
    """Columns of equal-length rows, as tuples (with the collector paused, zip beats building a 2-D
    object array by ~0.4 ms on 10,000 rows, and nested sensor lists cannot make it ragged)."""
    return list(zip(*rows, strict=True))


def _columns(states: list[Any]) -> tuple[list[Any], pa.Array, int, int]:
    """Transpose state rows into 18 field columns.

    Returns (columns, icao24 as Arrow strings, malformed rows, most common row length). Fast path
    when every row is a list of one length (17 or more) with a text icao24; otherwise each row is
    checked, bad ones are dropped and the rest padded or cut to 18 fields.
    """
    if set(map(type, states)) == {list}:
        lengths = set(map(len, states))
        if len(lengths) == 1 and (width := lengths.pop()) >= 17:
            cols = _transpose(states)
            icao = _icao24(cols[0])
            if icao is not None:
                cols = cols[:_FIELDS] if width >= _FIELDS else [*cols, (None,) * len(states)]
                return cols, icao, 0, width
    rows = [r[:_FIELDS] if len(r) >= _FIELDS else [*r, None] for r in states if _usable(r)]
    if not rows:
        return [()] * _FIELDS, pa.array([], pa.string()), len(states), _FIELDS
    widths = [len(r) for r in states if _usable(r)]
    cols = list(zip(*rows, strict=True))
    icao = _icao24(cols[0])
    if icao is None:  # _usable guarantees text icao24s; this is a bug guard, not a data path
        raise SourceUnavailable("OpenSky reply icao24 column could not be read")
    return cols, icao, len(states) - len(rows), max(set(widths), key=widths.count)


def parse_states(doc: Any, stale_after_s: int = 15) -> ParsedStates:
    """Turn a decoded ``/states/all`` reply into position columns. Pure; no I/O.

    Tolerates ``states: null``, rows of 17, 18 or more fields (extras ignored), nulls in any
    field, padded callsigns and empty ``origin_country``. A row that is not a list of at least 17
    fields with a text ``icao24`` is counted in ``malformed_rows`` and skipped. Raises
    :class:`SourceUnavailable` when the reply is not a states object or every row is malformed.
    """
    with _gc_paused():
        return _parse_states(doc, stale_after_s)


def _parse_states(doc: Any, stale_after_s: int) -> ParsedStates:
    if not isinstance(doc, dict) or "time" not in doc:
        raise SourceUnavailable("OpenSky reply is not a states object (no 'time' key)")
    raw_time = doc["time"]
    if isinstance(raw_time, bool) or not isinstance(raw_time, int | float):
        raise SourceUnavailable(f"OpenSky reply has a non-numeric time: {raw_time!r}")
    if not 0 < raw_time < MAX_EPOCH_S:
        raise SourceUnavailable(f"OpenSky reply has an impossible time: {raw_time!r}")
    api_time = datetime.fromtimestamp(int(raw_time), UTC)
    states = doc.get("states")
    if states is None:
        states = []
    if not isinstance(states, list):
        raise SourceUnavailable(f"OpenSky reply 'states' is {type(states).__name__}, expected a list or null")
    cols, icao24, malformed, fields = _columns(states)
    if states and malformed == len(states):
        raise SourceUnavailable(f"OpenSky reply has {len(states)} state rows and none has the expected shape")
    if malformed:
        log.warning("skipped %d malformed state rows of %d", malformed, len(states))
    t = float(raw_time)
    floats = {i: _float_column(cols[i]) for i in (3, 4, 5, 6, 7, 9, 10, 11, 13)}
    time_position = _as_seconds(_nan_filled(floats[3]), "time_position")
    last_contact = _as_seconds(_nan_filled(floats[4]), "last_contact")
    lon, lat = _nan_filled(floats[5]), _nan_filled(floats[6])
    on_ground = _column(cols[8], pa.bool_(), _flag)
    with np.errstate(invalid="ignore"):
        ahead = time_position - t > POSITION_AHEAD_S  # a position from the future is not a position
        unsure = np.asarray(on_ground.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        stale = np.isnan(time_position) | (t - time_position > stale_after_s) | ahead | np.isnan(lon) | np.isnan(lat)
    for n, why in (
        (int(ahead.sum()), "a position time ahead of the reply's"),
        (int((unsure & ~stale).sum()), "no readable on_ground"),
    ):
        if n:
            log.warning("%d positions have %s: flagged stale, not counted as airborne", n, why)
    stale |= unsure
    # sensors: a list of receiver ids, or null; anything else (0, [], "") is treated as null
    sensors = (
        pa.array([json.dumps(v) if isinstance(v, list) and v else None for v in cols[12]], type=pa.string())
        if any(cols[12])
        else pa.nulls(len(icao24), pa.string())
    )
    arrays: dict[str, pa.Array] = {
        "icao24": icao24,
        "callsign": _trimmed_or_null(_column(cols[1], pa.string(), _text)),
        "origin_country": pc.fill_null(_column(cols[2], pa.string(), _text), ""),
        "time_position": _times(time_position),
        "last_contact": _times(last_contact),
        "longitude": floats[5],
        "latitude": floats[6],
        "baro_altitude_m": floats[7],
        "on_ground": on_ground,
        "velocity_mps": floats[9],
        "true_track_deg": floats[10],
        "vertical_rate_mps": floats[11],
        "sensors": sensors,
        "geo_altitude_m": floats[13],
        "squawk": _column(cols[14], pa.string(), lambda v: None if v is None else str(v)),
        "spi": _column(cols[15], pa.bool_(), _flag),
        "position_source": _column(cols[16], pa.int16(), _smallint),
        "category": _column(cols[17], pa.int16(), _smallint),
        "stale": pa.array(stale),
    }
    table = pa.table(arrays, schema=_PARSED_SCHEMA)
    return ParsedStates(api_time=api_time, table=table, malformed_rows=malformed, fields_per_row=fields)
