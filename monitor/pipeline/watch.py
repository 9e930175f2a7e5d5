"""Watch: poll each configured source in a loop at its own pace (OpenSky's credit budget, the
readsb services' spacing), until told to stop.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Each tick is
``collect.poll_once`` of the source due next (with several sources, the combined view's new
slots), plus the alerts, under the store's lock for the whole run. SIGINT/SIGTERM (``stop``)
finish the poll in progress, store it and end the loop; a retry backoff is cut short.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime

from geo.zoneset import ZoneSet
from monitor.clock import utcnow
from monitor.combine import combine_pending
from monitor.errors import AuthError, ConfigError
from monitor.pipeline.collect import Clock, PollResult, poll_once, with_alerts
from monitor.pipeline.compact import compact_after_polls
from monitor.pipeline.locking import store_lock
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.base import Source
from monitor.sources.opensky import NAME as OPENSKY
from monitor.sources.opensky.credits import poll_interval, resolution_floor
from monitor.sources.registry import source_for
from monitor.store.db import Store

__all__ = ["watch"]

log = logging.getLogger(__name__)


def _intervals(settings: Settings, zone_set: ZoneSet, names: list[str]) -> dict[str, float]:
    """Seconds between two polls of each source: OpenSky's from its credit budget (or
    ``watch.interval_s``), never below its resolution; a readsb service's ``watch.interval_s`` (else
    the combined view's grid step), never less than a sweep of its circles at its spacing plus one
    spacing of rest. Raises ConfigError for an interval OpenSky cannot serve."""
    intervals = {}
    for name in names:
        if name == OPENSKY:
            floor = resolution_floor(settings)
            interval = settings.watch_interval_s or poll_interval(settings, zone_set.polling_box.credits)
            if interval < floor:
                raise ConfigError(
                    f"watch interval {interval:g} s is below OpenSky's {floor:g} s resolution for this account; "
                    f"use --interval {floor:g} or more",
                    key="watch.interval_s",
                )
        else:
            from geo.circles import covering_circles  # only a readsb service sweeps circles
            from monitor.sources.readsb.client import PACING_MARGIN_S

            spacing = float(getattr(settings, f"{name}_spacing_s")) + PACING_MARGIN_S
            sweep = len(covering_circles(zone_set)) * spacing
            interval = max(settings.watch_interval_s or float(settings.collect_combined_step_s), sweep)
        intervals[name] = interval
    return intervals


def _next_tick(after: datetime, interval_s: float) -> datetime:
    """The first multiple of ``interval_s`` (Unix seconds) at least half an interval after ``after``:
    polls keep to fixed ticks, as cron's do, instead of drifting later by each poll's delay (and
    across the combined view's slots, which sit between ticks); a poll that starts late moves its
    next one no earlier than half an interval after it."""
    epoch = after.timestamp() + interval_s / 2
    return datetime.fromtimestamp(math.ceil(epoch / interval_s) * interval_s, UTC)


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
    """Poll each source of ``collect.sources`` (or just ``source``) at its own pace until ``stop`` is
    set (or ``max_polls`` polls of any source). Returns the number of polls made.

    Paces: see :func:`_intervals`; a rate-limited source waits until its recorded retry time, the
    others go on. One poll at a time, the next due first; with several sources the combined view's
    final slots are added after each poll. ``wait(seconds)`` sleeps and returns True when told to
    stop (default: ``stop.wait``). A poll in progress always finishes and is stored.
    """
    stop = stop or threading.Event()
    wait = wait or stop.wait
    zone_set = zone_set_for(settings)
    names = [source.name] if source is not None else list(settings.collect_sources)
    intervals = _intervals(settings, zone_set, names)
    for name in names:
        log.info("watch: polling %s every %.0f s", name, intervals[name])
    if OPENSKY in names:
        log.info("watch: OpenSky %s account, %d credits per poll", settings.account_type, zone_set.polling_box.credits)
    several = source is None and len(names) > 1
    polls = 0

    # retries sleep through `wait` unless told otherwise, so SIGTERM cuts a backoff short (the poll
    # is then a recorded gap)
    def retry_sleep(seconds: float) -> None:
        (sleep or wait)(seconds)

    with ExitStack() as stack:
        stack.enter_context(store_lock(settings))
        store = stack.enter_context(Store(settings.store_db, redact=settings.redact))
        if source is not None:
            sources = {source.name: stack.enter_context(source)}
        else:
            sources = {
                n: stack.enter_context(source_for(settings, n, clock=clock, sleep=retry_sleep, should_stop=stop.is_set))
                for n in names
            }
        due = dict.fromkeys(names, clock())
        while not stop.is_set():
            name = min(names, key=lambda n: (due[n], names.index(n)))  # the next due; ties in configured order
            delay = (due[name] - clock()).total_seconds()
            if delay > 0 and wait(delay):
                break
            started = clock()
            result = poll_once(settings, zone_set, sources[name], store, clock)
            if several:
                combine_pending(store, zone_set, names, settings.collect_combined_step_s, clock())
            result = with_alerts(settings, store, zone_set, result, clock)
            compact_after_polls(store, clock())  # after the alerts: nothing it meets holds them back
            polls += 1
            on_poll(result)
            if isinstance(result.failure, AuthError):
                raise result.failure
            if max_polls is not None and polls >= max_polls:
                break
            # from the tick that was due: a wake-up a little early (the wall clock slewed) must not poll it twice
            due[name] = _next_tick(max(started, due[name]), intervals[name])
            if result.retry_at is not None and result.retry_at > due[name]:
                log.warning("watch: %s rate-limited; its next poll at %s", name, result.retry_at.isoformat())
                due[name] = result.retry_at
    return polls
