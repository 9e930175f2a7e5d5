"""Sources: who sees what over Venezuela. Per source its health (last good snapshot, errors and
cooldowns of the last 24 h) and, over a window, the aircraft it saw in the FIR and the ring, how
the sources' views overlap, and the median age of their positions.

Part of ``monitor.pipeline`` (flow drawn in ``monitor/pipeline/__init__.py``). Reads the store
only (it works while ``watch`` holds the lock); numpy and pyarrow, never pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from monitor.analysis.overlap import AREAS_RING, SIGHTING_COLUMNS, Overlap, overlap, seen_in, slot_coverage
from monitor.clock import utcnow
from monitor.grid import slot_end
from monitor.pipeline.shared import zone_set_for
from monitor.settings.table import Settings
from monitor.sources.opensky import NAME as OPENSKY
from monitor.sources.registry import COMBINED, LABELS
from monitor.store.db import Store
from monitor.store.positions import iter_positions
from monitor.store.snapshots import poll_rows, source_health, status_counts

__all__ = ["HEALTH_HOURS", "SourceLine", "SourcesOverview", "sources_overview"]

HEALTH_HOURS = 24  # errors and cooldowns are counted over the last day, whatever the window


@dataclass(frozen=True)
class SourceLine:
    """One source (or the combined view): health, then what it saw over the window."""

    source: str
    label: str
    configured: bool
    last_ok: datetime | None  # API time of the newest successful poll (ok, or an explicit empty)
    last_ok_age_s: float | None
    last_attempt: datetime | None
    last_status: str | None
    last_error: str | None
    statuses_24h: dict[str, int]  # poll attempts of the last 24 h by status
    cooldown_until: datetime | None  # a recorded 429's window still ahead
    grid_coverage: float | None  # share of the window's grid slots with a successful poll
    aircraft: dict[str, int]  # area -> aircraft seen with a fresh position
    median_position_age_s: float | None


@dataclass(frozen=True)
class SourcesOverview:
    now: datetime
    start: datetime
    end: datetime
    step_s: int
    fir: str
    sources: tuple[SourceLine, ...]  # the networks, configured first
    combined: SourceLine | None  # the combined view, when the store holds one
    overlaps: tuple[Overlap, ...]  # the FIR, then the ring


def _slot_holding(t: datetime, step_s: int) -> datetime:
    return datetime.fromtimestamp(slot_end(int(t.timestamp()), step_s), UTC)


def _line(
    store: Store,
    settings: Settings,
    name: str,
    configured: bool,
    start: datetime,
    end: datetime,
    now: datetime,
    fir: str,
) -> tuple[SourceLine, dict[str, frozenset[str]]]:
    auth = settings.authenticated if name == OPENSKY else None  # OpenSky keeps a budget per credential
    health = source_health(store, name, now, authenticated=auth)
    step_s = settings.collect_combined_step_s
    upto = end + timedelta(seconds=1)  # times are stored in whole seconds: the one of ``end`` is in
    polls = poll_rows(store, start, upto, [name])
    good = [t for _, t, status, _ in polls if status in ("ok", "empty")]
    seen = seen_in(iter_positions(store, start, upto, SIGHTING_COLUMNS, sources=[name]), fir)
    ages = seen.position_age_s
    line = SourceLine(
        source=name,
        label=LABELS.get(name, name),
        configured=configured,
        last_ok=health.last_ok,
        last_ok_age_s=(now - health.last_ok).total_seconds() if health.last_ok else None,
        last_attempt=health.last_attempt,
        last_status=health.last_status,
        last_error=settings.redact(health.last_error) if health.last_error else None,
        statuses_24h=status_counts(store, name, now - timedelta(hours=HEALTH_HOURS), now + timedelta(seconds=1)),
        cooldown_until=health.cooldown_until,
        grid_coverage=slot_coverage(good, start, _slot_holding(end, step_s), step_s),  # now's slot counts
        aircraft={area: len(hexes) for area, hexes in seen.aircraft.items()},
        # the combined view's positions are placed at their slot's end: their age there says nothing of the feed
        median_position_age_s=float(np.median(ages)) if len(ages) and name != COMBINED else None,
    )
    return line, seen.aircraft


def sources_overview(
    settings: Settings, hours: float = 24.0, clock: Callable[[], datetime] = utcnow
) -> SourcesOverview:
    """Every configured source, and every other source the store polled in the window, with the
    combined view when the store holds one. Raises NotAStore when there is no store."""
    now = clock()
    start, end = now - timedelta(hours=hours), now
    step = settings.collect_combined_step_s
    fir = zone_set_for(settings).fir.code
    configured = list(settings.collect_sources)
    with Store.open_existing(settings.store_db, redact=settings.redact) as store:
        polled = {str(r["source"]) for r in store.query("SELECT DISTINCT source FROM snapshots")}
        others = sorted(
            s for s in polled - {COMBINED, *configured} if poll_rows(store, start, end + timedelta(seconds=1), [s])
        )
        lines, sets = [], {}
        for name in [*configured, *others]:
            line, aircraft = _line(store, settings, name, name in configured, start, end, now, fir)
            lines.append(line)
            sets[name] = aircraft
        combined = None
        if COMBINED in polled:
            combined, _ = _line(store, settings, COMBINED, len(configured) > 1, start, end, now, fir)
    overlaps = tuple(overlap(area, {n: a[area] for n, a in sets.items()}) for area in (fir, AREAS_RING))
    return SourcesOverview(now, start, end, step, fir, tuple(lines), combined, overlaps)
