"""adsb.lol and adsb.fi as :class:`~monitor.sources.base.Source`: one sweep of the circles that
cover the zones (``geo.circles``), merged into one Reply.

Place in the flow: ``sources.registry`` builds one per service from the settings (:func:`adsblol`,
:func:`adsbfi`); ``pipeline``
calls :meth:`ReadsbSource.fetch` once per poll, like OpenSky's. The services are keyless and
charge no credits; their limits are the spacing and the cooldown after a 429.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial

from geo.circles import covering_circles, describe_circle
from geo.zoneset import ZoneSet
from monitor.settings.table import Settings
from monitor.sources.base import ClosesOnExit, Reply
from monitor.sources.readsb.client import ADSBFI, ADSBLOL, ReadsbClient, Service

__all__ = ["ReadsbSource", "adsbfi", "adsblol", "build"]


class ReadsbSource(ClosesOnExit):
    """A readsb-family service asked for the fewest circles that cover the zones."""

    authenticated = False  # keyless: one rate limit per IP address

    def __init__(self, client: ReadsbClient) -> None:
        self.client = client
        self.name = client.service.name

    def describe(self, zone_set: ZoneSet) -> str:
        """The circles as stored with each poll: JSON of their descriptions."""
        return json.dumps([describe_circle(c) for c in covering_circles(zone_set)])

    def fetch(self, zone_set: ZoneSet) -> Reply:
        sweep = self.client.sweep(covering_circles(zone_set))
        return Reply(
            source=self.name,
            api_time=sweep.api_time,
            positions=sweep.table,
            malformed=sweep.malformed,
            http_status=200,
            credits_charged=0,
            duration_s=sweep.duration_s,
            attempts=sweep.attempts,
            authenticated=False,
        )

    def close(self) -> None:
        self.client.close()


def build(
    service: Service,
    settings: Settings,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> ReadsbSource:
    """The source for ``service`` as the settings describe it (``<name>.api_url``, spacing, cooldown)."""
    prefix = service.name
    client = ReadsbClient(
        service,
        getattr(settings, f"{prefix}_api_url"),
        spacing_s=getattr(settings, f"{prefix}_spacing_s"),
        cooldown_s=getattr(settings, f"{prefix}_cooldown_s"),
        stale_after_s=settings.opensky_stale_after_s,  # one staleness rule for every source
        clock=clock,
        sleep=sleep,
        should_stop=should_stop,
    )
    return ReadsbSource(client)


adsblol = partial(build, ADSBLOL)  # the registry's factories: (settings, clock, sleep, should_stop)
adsbfi = partial(build, ADSBFI)
