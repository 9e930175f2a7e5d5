"""Pipeline: the only package that wires the steps together; ``cli`` calls one module per command.

    settings ──► geo zones (pipeline.shared) ─► polling box, covering circles
                                                     │
    sources: OpenSky /states/all, adsb.lol, adsb.fi ◄┘     (sources.simulated: the demo's replies)
         │ Reply (canonical schema)        sources.archive: a past day's tar ─► DayRead (snapshots, traces)
         ▼                                                                          │ ingest.prepare_day
    ingest: dedupe ──► geo.fence (a zone per position) ──► counts ──► store (one transaction; a day: one)
                          ▲                                             │
    combine: every source's positions on a grid ─► a Reply of "combined" ◄┤ (several sources)
                                                                        │
         ┌──────────────────────────────┬───────────────────────────────┼──────────────────┐
         ▼                              ▼                               ▼                  ▼
    alerts.rules ──► outbox       analysis (windows, hourly,       export (CSV,      status, plan,
    ──► alerts.deliver            flights, stats, verdict,         Parquet)          sources
        ──► channels              overlap) ──► report (charts, build)

Modules, one per command: ``collect`` (one poll of each source: fetch, ingest, combine, alerts),
``watch`` (the loop), ``backfill`` (past days from adsb.lol's archive, each whole or not at all),
``status``, ``sources`` (who sees what), ``plan``, ``alerts`` (the rules after each poll; list,
send, test), ``report``, ``demo``, ``export``, ``events``, ``zones``; and what they share:
``shared`` (the zones the settings describe, the view a command reads) and
``locking`` (the store's lock). A command module imports another's public
functions only where one step is another's part (``collect`` ends with ``alerts.run_alerts``;
``watch`` repeats ``collect.poll_once``; ``demo`` ends with ``report.report``). This file imports
nothing, so each command loads only what it uses.
"""

__all__: list[str] = []
