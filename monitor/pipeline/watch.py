"""Watch: poll in a loop at the pace the daily credit budget allows, until told to stop.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Each tick is
``collect.poll_once`` plus the alerts, under the store's lock for the whole run. SIGINT/SIGTERM
(``stop``) finish the poll in progress, store it and end the loop; a retry backoff is cut short.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from monitor.clock import utcnow
from monitor.errors import AuthError, ConfigError
from monitor.pipeline.collect import Clock, PollResult, poll_once, with_alerts
from monitor.pipeline.locking import store_lock
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.base import Source
from monitor.sources.opensky.credits import poll_interval, resolution_floor
from monitor.sources.registry import source_for
from monitor.store.db import Store

__all__ = ["watch"]

log = logging.getLogger(__name__)


def watch(
    settings: Settings,
    on_poll: Callable[[PollResult], None],
    *,
    stop: threading.Event | None = None,
    max_polls: int | None = None,
    clock: Clock = utcnow,
    sleep: Callable[[float], None] | None = None,
    wait: Callable[[float], bool] | None = None,
    source: Source | None = None,
) -> int:
    """Poll until ``stop`` is set (or ``max_polls`` polls). Returns the number of polls made.

    The interval is ``watch.interval_s`` or, when 0, ``sources.opensky.credits.poll_interval``. A
    rate-limited poll waits until the recorded retry time. ``wait(seconds)`` sleeps and returns
    True when told to stop (default: ``stop.wait``). A poll in progress always finishes and is
    stored.
    """
    stop = stop or threading.Event()
    wait = wait or stop.wait
    if source is None and settings.collect_sources != ("opensky",):
        raise ConfigError(
            f"watch paces OpenSky's credits and polls it alone; collect.sources names "
            f"{', '.join(settings.collect_sources)}: run `vzmon collect` from cron for those, or set "
            "VZMON_SOURCES=opensky for watch",
            key="collect.sources",
        )
    zone_set = zone_set_for(settings)
    floor = resolution_floor(settings)
    interval = settings.watch_interval_s or poll_interval(settings, zone_set.polling_box.credits)
    if interval < floor:
        raise ConfigError(
            f"watch interval {interval:g} s is below OpenSky's {floor:g} s resolution for this account; "
            f"use --interval {floor:g} or more",
            key="watch.interval_s",
        )
    log.info(
        "watch: polling every %.0f s (%s account, %d credits per poll)",
        interval,
        settings.account_type,
        zone_set.polling_box.credits,
    )
    polls = 0

    # retries sleep through `wait` unless told otherwise, so SIGTERM cuts a backoff short (the poll
    # is then a recorded gap)
    def retry_sleep(seconds: float) -> None:
        (sleep or wait)(seconds)

    own_source = source or source_for(settings, clock=clock, sleep=retry_sleep, should_stop=stop.is_set)
    with store_lock(settings), Store(settings.store_db, redact=settings.redact) as store, own_source as src:
        while not stop.is_set():
            started = clock()
            result = with_alerts(settings, store, zone_set, poll_once(settings, zone_set, src, store, clock), clock)
            polls += 1
            on_poll(result)
            if isinstance(result.failure, AuthError):
                raise result.failure
            if max_polls is not None and polls >= max_polls:
                break
            due = started + timedelta(seconds=interval)
            if result.retry_at is not None and result.retry_at > due:
                log.warning("watch: rate-limited; next poll at %s", result.retry_at.isoformat())
                due = result.retry_at
            if wait(max(0.0, (due - clock()).total_seconds())):
                break
    return polls
