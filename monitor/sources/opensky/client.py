"""OpenSky's REST client: ``/states/all`` over HTTP with OAuth2, bounded retries and rate limits.

Place in the flow: the first step of an OpenSky poll. ``sources.opensky.source`` asks the client
for ``/states/all`` over the zones' polling box and hands the decoded reply to
``sources.opensky.parse``. Only this package knows OpenSky's protocol, field order and names.

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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from geo.bounds import BBox
from monitor.clock import utcnow
from monitor.errors import AuthError, RateLimited, SourceUnavailable
from monitor.settings.secret import Secret
from monitor.sources.base import ClosesOnExit
from monitor.sources.http import DeadlineHttp, HttpAnswer, int_header, safe_url, snippet
from monitor.sources.opensky import NAME
from monitor.sources.opensky.parse import decode_json

__all__ = ["SOURCE", "OpenSkyClient", "StatesReply"]

log = logging.getLogger(__name__)

SOURCE = NAME
TOKEN_REFRESH_MARGIN_S = 60.0
DEFAULT_TOKEN_LIFETIME_S = 1800.0  # OpenSky: "tokens expire after 30 minutes"
DEFAULT_RETRY_AFTER_S = 300.0  # a 429 without a usable X-Rate-Limit-Retry-After-Seconds
MAX_RETRY_AFTER_S = 2 * 86_400.0  # credits reset daily: a longer (or infinite) retry-after is a broken header
MAX_TOKEN_LIFETIME_S = 86_400.0
MAX_CREDITS_HEADER = 10**7  # X-Rate-Limit-Remaining above this (no account has so many) is a broken header


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


class OpenSkyClient(ClosesOnExit):
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
        redact: Callable[[str], str] = str,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token_url = token_url
        self._credentials = credentials
        self._http = DeadlineHttp(
            "OpenSky",
            session=session,
            timeout=timeout,
            retries=retries,
            backoff_s=backoff_s,
            max_poll_s=max_poll_s,
            sleep=sleep,
            should_stop=should_stop,
            redact=redact,  # every answer quoted in a message passes through this (Settings.redact)
        )
        self._redact = redact
        self._clock = clock
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self.token_fetches = 0

    def close(self) -> None:
        self._http.close()

    @property
    def authenticated(self) -> bool:
        return self._credentials is not None

    # -- OAuth2 client credentials

    def _bearer(self) -> dict[str, str]:
        if self._credentials is None:
            return {}
        if self._token is None or self._token_expires is None or self._clock() >= self._token_expires:
            self._token = self._fetch_token(*self._credentials)
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self, client_id: str, secret: Secret) -> str:
        """POST the client credentials to the token URL; set the refresh time; return the token."""
        response, _ = self._http.request(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret.reveal()},
            allow_redirects=False,  # a redirected POST turns into a GET and loses the credentials
        )
        if 300 <= response.status_code < 400:
            raise SourceUnavailable(
                f"OpenSky token URL redirects (HTTP {response.status_code} to "
                f"{safe_url(response.headers.get('Location', '?'))}); set OPENSKY_TOKEN_URL to the final URL",
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
                f"({safe_url(self.token_url)}); check OPENSKY_TOKEN_URL",
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
        with self._http.poll() as started:
            return self._fetch_states(url, params, started)

    def _fetch_states(self, url: str, params: dict[str, str], started: float) -> StatesReply:
        response, attempts = self._http.request("GET", url, params=params, headers=self._bearer())
        if response.status_code == 401 and self.authenticated:
            log.info("OpenSky answered 401: refreshing the token and retrying once")
            self._token = None
            response, more = self._http.request("GET", url, params=params, headers=self._bearer())
            attempts += more
        duration = time.monotonic() - started
        self._check_redirect(url, response)
        remaining = int_header(response, "X-Rate-Limit-Remaining", MAX_CREDITS_HEADER, "OpenSky")
        status = response.status_code
        if status == 429:
            retry_after = int_header(response, "X-Rate-Limit-Retry-After-Seconds", MAX_RETRY_AFTER_S, "OpenSky")
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
                f"OpenSky /states/all answered HTTP {status}: {snippet(response, self._redact)}{hint}",
                url=response.url,
                status=status,
            )
        try:
            doc = decode_json(response.content)
        except orjson.JSONDecodeError:  # a ValueError
            kind = response.headers.get("Content-Type", "unknown type")
            raise SourceUnavailable(
                f"OpenSky answered HTTP 200 with something that is not JSON ({kind}): "
                f"{snippet(response, self._redact)}",
                url=response.url,
                status=status,
            ) from None
        return StatesReply(doc, status, remaining, response.url, duration, attempts, self.authenticated)

    def _check_redirect(self, url: str, response: HttpAnswer) -> None:
        if not response.redirected:
            return
        before, after = urlsplit(url).netloc, urlsplit(response.url).netloc
        log.info("OpenSky redirected %s to %s", safe_url(url), safe_url(response.url))
        if self.authenticated and before != after:
            log.warning(
                "OpenSky redirected to another host (%s -> %s): requests drops the Authorization header there, "
                "so this call was anonymous; set OPENSKY_API_URL to the new host",
                before,
                after,
            )
