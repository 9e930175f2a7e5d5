"""The readsb-family services (adsb.lol, adsb.fi) asked circle by circle, with their manners.

Place in the flow: a readsb source sweeps the circles that cover the zones (``geo.circles``) with
one :class:`ReadsbClient`; each answer is parsed by ``sources.readsb.parse`` and the sweep's
answers merge into one snapshot for ``ingest``.

Manners (../shared/reference/history.md §C; these services ban abusers):
- strictly one request at a time, each at least ``spacing_s`` after the start of the previous one
  (adsb.lol 4 s, adsb.fi 1 s), across sweeps too;
- a fresh connection per request where the service needs it (adsb.lol: reused connections failed
  polls in practice);
- a User-Agent naming vzmon and its URL (``sources.http.USER_AGENT``);
- never through a 429: the sweep stops at once and :class:`~monitor.errors.RateLimited` carries the
  cooldown (the service's ``Retry-After`` when it sends one and it is longer, else ``cooldown_s``).
  5xx and network errors are retried within the poll's budget, no sooner than the spacing.

A sweep merges its circles into one snapshot: an aircraft seen in several circles is kept once,
at its freshest position (a position without a time counts as the oldest); the snapshot's time is
the newest ``now`` of its answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import requests

from geo.circles import Circle
from monitor.clock import utcnow
from monitor.errors import RateLimited, SourceUnavailable
from monitor.sources.base import ClosesOnExit
from monitor.sources.http import DeadlineHttp, HttpAnswer, int_header, safe_url, snippet
from monitor.sources.readsb.parse import ParsedAircraft, parse_reply

__all__ = ["ADSBFI", "ADSBLOL", "PACING_MARGIN_S", "SERVICES", "ReadsbClient", "Service", "Sweep"]

log = logging.getLogger(__name__)

MAX_COOLDOWN_S = 7 * 86_400.0  # a Retry-After beyond a week is a typo, not a plan


# Added to every spacing: the services count arrivals on their own clock, and a request that
# connects faster than the one before it arrives sooner after it than it was sent (on loopback,
# 3.998 s between arrivals for 4.000 s between starts; over the internet a new connection's TCP
# and TLS handshakes vary by tens of milliseconds). A quarter second costs an adsb.lol sweep 1.5 s.
PACING_MARGIN_S = 0.25


@dataclass(frozen=True)
class Service:
    """What differs between the readsb-family services."""

    name: str  # as stored with each poll
    label: str  # as messages and credits name it
    route: str  # the circle query under the API root
    api_url: str  # the real API root
    spacing_s: float  # the least time between the starts of two requests
    fresh_connection: bool  # a new connection for every request


ADSBLOL = Service("adsblol", "adsb.lol", "/v2/point/{lat}/{lon}/{nm}", "https://api.adsb.lol", 4.0, True)
ADSBFI = Service("adsbfi", "adsb.fi", "/v2/lat/{lat}/lon/{lon}/dist/{nm}", "https://opendata.adsb.fi/api", 1.0, False)
SERVICES = {s.name: s for s in (ADSBLOL, ADSBFI)}


@dataclass(frozen=True)
class Sweep:
    """One sweep of all circles merged into one snapshot (``table``: ``POSITION_SCHEMA`` without zone)."""

    api_time: datetime
    table: pa.Table
    malformed: int
    non_icao: int
    no_position: int
    requests: int  # circles asked
    attempts: int  # HTTP requests sent, retries included
    duration_s: float


def _number(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def merge_freshest(tables: Sequence[pa.Table]) -> pa.Table:
    """One row per ``icao24``: the one with the newest ``time_position`` (null counts as oldest)."""
    if not tables:
        raise ValueError("no tables to merge")
    table = pa.concat_tables(tables)
    if table.num_rows == 0:
        return table
    ids = np.asarray(table["icao24"].to_numpy(zero_copy_only=False), dtype=object)
    t = table["time_position"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    when = np.where(np.isnan(t.astype(np.float64)), -np.inf, t.astype(np.float64))
    order = np.lexsort((-when, ids))  # by aircraft, freshest first
    first = np.r_[True, ids[order][1:] != ids[order][:-1]]
    return table.take(pa.array(np.sort(order[first])))


class ReadsbClient(ClosesOnExit):
    """Sweeps circles of one readsb-family service. ``clock`` gives UTC (for the cooldown's end),
    ``monotonic`` and ``sleep`` pace the requests (seams for tests)."""

    def __init__(
        self,
        service: Service,
        api_url: str | None = None,
        *,
        spacing_s: float | None = None,
        cooldown_s: float = 900.0,
        stale_after_s: int = 15,
        timeout: tuple[float, float] = (10.0, 30.0),
        retries: int = 2,
        max_poll_s: float = 150.0,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.service = service
        self.api_url = (api_url or service.api_url).rstrip("/")
        self.spacing_s = service.spacing_s if spacing_s is None else spacing_s
        self.cooldown_s = cooldown_s
        self.stale_after_s = stale_after_s
        self._clock, self._sleep, self._monotonic = clock, sleep, monotonic
        self._last_start: float | None = None
        self._session = requests.Session()
        if service.fresh_connection:
            self._session.headers["Connection"] = "close"
        self.retries = retries
        self.max_poll_s = max_poll_s
        self._should_stop = should_stop
        self._http = DeadlineHttp(  # one attempt per send: the retries are paced here
            service.label,
            session=self._session,
            timeout=timeout,
            retries=0,
            max_poll_s=max_poll_s,
            sleep=sleep,
            should_stop=should_stop,
        )

    def close(self) -> None:
        self._http.close()
        self._session.close()

    def circle_url(self, circle: Circle) -> str:
        route = self.service.route.format(
            lat=_number(circle.lat), lon=_number(circle.lon), nm=_number(circle.radius_nm)
        )
        return f"{self.api_url}{route}"

    def _pace(self) -> None:
        if self._last_start is not None:
            wait = self._last_start + self.spacing_s + PACING_MARGIN_S - self._monotonic()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._monotonic()

    def _send(self, url: str) -> tuple[HttpAnswer, int]:
        """GET ``url``, retrying network errors and 5xx; every attempt paced."""
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            try:
                answer, _ = self._http.request("GET", url)
                return answer, attempt
            except SourceUnavailable as exc:
                if attempt > self.retries or self._should_stop():
                    raise
                log.warning("%s; retry %d/%d", exc, attempt, self.retries)
            finally:
                if self.service.fresh_connection:  # whatever the server answered to "Connection: close",
                    self._session.close()  # the pool keeps nothing: the next request opens its own

    def _ask(self, circle: Circle) -> tuple[ParsedAircraft, int]:
        url = self.circle_url(circle)
        answer, attempts = self._send(url)
        label = self.service.label
        if answer.status_code == 429:
            header = int_header(answer, "Retry-After", int(MAX_COOLDOWN_S), label)
            wait = max(self.cooldown_s, float(header or 0))
            retry_at = self._clock() + timedelta(seconds=wait)
            raise RateLimited(
                f"{label} answered HTTP 429 (too many requests); no poll of {label} before "
                f"{retry_at:%Y-%m-%dT%H:%M:%SZ} ({wait:.0f} s). Poll less often or raise its spacing",
                retry_after_s=wait,
                retry_at=retry_at,
                url=answer.url,
            )
        if answer.status_code != 200:
            raise SourceUnavailable(
                f"{label} answered HTTP {answer.status_code} for {safe_url(url)}: {snippet(answer, str)}",
                url=answer.url,
                status=answer.status_code,
            )
        return parse_reply(answer.content, self.stale_after_s, label), attempts

    def sweep(self, circles: Sequence[Circle]) -> Sweep:
        """Every circle once, in order, merged. Raises ``RateLimited`` at the first 429 and
        ``SourceUnavailable`` when a circle cannot be read (the whole sweep is then a gap: a
        snapshot missing a circle would read as aircraft gone)."""
        if not circles:
            raise ValueError("a sweep needs at least one circle")
        parts: list[ParsedAircraft] = []
        attempts = 0
        budget = self.max_poll_s + self.spacing_s * len(circles) * (self.retries + 1)
        with self._http.poll(budget) as started:
            for circle in circles:
                parsed, n = self._ask(circle)
                parts.append(parsed)
                attempts += n
        return Sweep(
            api_time=max(p.api_time for p in parts),
            table=merge_freshest([p.table for p in parts]),
            malformed=sum(p.malformed_rows for p in parts),
            non_icao=sum(p.non_icao for p in parts),
            no_position=sum(p.no_position for p in parts),
            requests=len(circles),
            attempts=attempts,
            duration_s=self._monotonic() - started,
        )
