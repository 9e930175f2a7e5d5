"""Pipeline: the only package that wires the steps together. ``cli`` calls one function per command.

    settings ──► geo zones ──► polling box
                                   │
    OpenSky /states/all ◄──────────┘            (simulate: the demo's replies, same path)
         │ reply
         ▼
    opensky.parse_states ──► geo.fence (zone per position) ──► counts.count_zone_index
                                                                   │
                                   store.record_poll (one transaction) ◄┘
                                          │
                                          ├──► status, plan                         (polling)
                                          ├──► events + flights + analysis ──► charts ──► report   (reporting)
                                          ├──► export (CSV / Parquet)               (exporting)
                                          └──► alerts ──► notify

Modules: ``polling`` (collect, watch, status, plan, zones), ``alerting`` (rules after each poll,
outbox, delivery), ``reporting`` (events, report, demo), ``exporting`` (export). This file only
re-exports them.
"""

from monitor.pipeline.alerting import AlertRun, deliver_due, list_alerts, run_alerts, send_test
from monitor.pipeline.exporting import EXPORTS, ExportResult, export
from monitor.pipeline.locking import store_lock
from monitor.pipeline.polling import (
    ACCOUNT_CREDITS,
    PlanReport,
    PollResult,
    StatusReport,
    ZoneCount,
    ZonesSummary,
    client_for,
    collect_once,
    describe_zones,
    ingest_reply,
    plan,
    poll_interval,
    status,
    watch,
    zone_set_for,
)
from monitor.pipeline.reporting import DemoResult, ReportResult, fill_simulated, list_events, report, run_demo

__all__ = [
    "ACCOUNT_CREDITS",
    "EXPORTS",
    "AlertRun",
    "DemoResult",
    "ExportResult",
    "PlanReport",
    "PollResult",
    "ReportResult",
    "StatusReport",
    "ZoneCount",
    "ZonesSummary",
    "client_for",
    "collect_once",
    "deliver_due",
    "describe_zones",
    "export",
    "fill_simulated",
    "ingest_reply",
    "list_alerts",
    "list_events",
    "plan",
    "poll_interval",
    "report",
    "run_alerts",
    "run_demo",
    "send_test",
    "status",
    "store_lock",
    "watch",
    "zone_set_for",
]
