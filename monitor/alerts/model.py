"""What the alert rules take and give: the rules' thresholds, a poll, a past alert, a new alert.

Place in the flow: ``pipeline.alerts`` builds :class:`AlertRules` from the settings and reads
:class:`Poll` and :class:`PastAlert` rows from the store; ``alerts.rules`` returns :class:`Alert`
objects, which the outbox stores. Plain data, no dependencies beyond the baseline's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.alerts.baseline import BaselineRules

__all__ = ["KINDS", "Alert", "AlertRules", "PastAlert", "Poll", "ZoneRule"]

KINDS = ("drop", "zero", "recovery", "outage", "outage_end", "test")


@dataclass(frozen=True)
class ZoneRule:
    drop_fraction: float = 0.5
    consecutive: int = 3  # polls a window needs at least
    min_expected: float = 2.0
    enabled: bool = True


@dataclass(frozen=True)
class AlertRules:
    zones: tuple[str, ...]  # zones watched, the FIR first
    default: ZoneRule = ZoneRule()
    per_zone: Mapping[str, ZoneRule] = field(default_factory=dict)
    zero_consecutive: int = 2
    zero_min_expected: float = 3.0
    outage_min: float = 30.0
    cooldown_min: float = 360.0
    budget_per_30d: float = 0.5  # false drop and zero alerts per zone per 30 days of normal traffic, by the model
    recovery_fraction: float = 0.8
    source_label: str = "OpenSky"  # the source judged, as the outage alert names it
    source: str = "opensky"  # the source (or ``combined``) judged, as stored with each alert
    view: str | None = None  # named in traffic alerts' lines when several sources are configured
    several: bool = False  # several sources configured: an outage line names its source
    baseline: BaselineRules = field(default_factory=BaselineRules)

    def rule(self, zone: str) -> ZoneRule:
        return self.per_zone.get(zone, self.default)


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str
    zone: str | None
    poll_time: datetime
    line: str
    payload: dict[str, Any]
    observed: float | None = None
    expected: float | None = None


@dataclass(frozen=True)
class PastAlert:
    kind: str
    zone: str | None
    created_at: datetime
    began: datetime | None = None  # a drop's or zero's: when the window that established it began


@dataclass(frozen=True)
class Poll:
    snapshot_id: int
    time: datetime
    status: str
    retry_at: datetime | None
