"""OpenSky as a :class:`~monitor.sources.base.Source`: the client's answer, parsed, as one Reply.

Place in the flow: ``pipeline`` builds it from the settings (:func:`from_settings`, found through
``sources.registry``) and calls :meth:`OpenSkySource.fetch` once per poll. A reply that came but cannot be read is a
``SourceUnavailable`` that still names the credits it cost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime

from geo.zoneset import ZoneSet
from monitor.clock import utcnow
from monitor.errors import SourceError, SourceUnavailable
from monitor.settings.table import Settings
from monitor.sources.base import ClosesOnExit, Reply
from monitor.sources.opensky.client import SOURCE, OpenSkyClient
from monitor.sources.opensky.parse import parse_states

__all__ = ["OpenSkySource", "from_settings"]


class OpenSkySource(ClosesOnExit):
    """``/states/all`` over a box, parsed into the canonical schema (stale after ``stale_after_s``)."""

    name = SOURCE

    def __init__(self, client: OpenSkyClient, stale_after_s: int = 15) -> None:
        self.client = client
        self.stale_after_s = stale_after_s

    @property
    def authenticated(self) -> bool:
        return self.client.authenticated

    def describe(self, zone_set: ZoneSet) -> str:
        """The polling box as stored with each poll: JSON of OpenSky's query parameters."""
        return json.dumps(zone_set.polling_box.opensky_params())

    def fetch(self, zone_set: ZoneSet) -> Reply:
        box = zone_set.polling_box
        reply = self.client.fetch_states(box)
        try:
            parsed = parse_states(reply.doc, self.stale_after_s)
        except SourceError as exc:
            raise SourceUnavailable(str(exc), url=reply.url, status=reply.http_status, charged=box.credits) from None
        except Exception as exc:  # a reply shaped in a way nobody foresaw is a gap, never a crash of `watch`
            raise SourceUnavailable(
                f"OpenSky reply could not be read ({exc.__class__.__name__}: {exc})",
                url=reply.url,
                status=reply.http_status,
                charged=box.credits,
            ) from exc
        return Reply(
            source=self.name,
            api_time=parsed.api_time,
            positions=parsed.table,
            malformed=parsed.malformed_rows,
            http_status=reply.http_status,
            credits_charged=box.credits,
            credits_remaining=reply.credits_remaining,
            duration_s=reply.duration_s,
            attempts=reply.attempts,
            authenticated=reply.authenticated,
        )

    def close(self) -> None:
        self.client.close()


def from_settings(
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> OpenSkySource:
    """The OpenSky source the settings describe (URLs, credentials, timeouts, retries, poll budget)."""
    creds = None
    if settings.opensky_client_id and settings.opensky_client_secret:
        creds = (settings.opensky_client_id, settings.opensky_client_secret)
    client = OpenSkyClient(
        settings.opensky_api_url,
        settings.opensky_token_url,
        creds,
        timeout=(settings.opensky_connect_timeout_s, settings.opensky_read_timeout_s),
        retries=settings.opensky_retries,
        backoff_s=settings.opensky_backoff_s,
        max_poll_s=settings.opensky_max_poll_s,
        clock=clock,
        sleep=sleep,
        should_stop=should_stop,
        redact=settings.redact,
    )
    return OpenSkySource(client, settings.opensky_stale_after_s)
