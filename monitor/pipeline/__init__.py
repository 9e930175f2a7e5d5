"""Pipeline: the only package that wires the steps together; ``cli`` calls one module per command.

    settings ──► geo zones (pipeline.shared) ─► polling box
                                                     │
    sources: OpenSky /states/all ◄───────────────────┘     (sources.simulated: the demo's replies)
         │ Reply (canonical schema)
         ▼
    ingest: dedupe ──► geo.fence (a zone per position) ──► counts ──► store (one transaction)
                                                                        │
         ┌──────────────────────────────┬───────────────────────────────┼──────────────────┐
         ▼                              ▼                               ▼                  ▼
    alerts.rules ──► outbox       analysis (windows, hourly,       export (CSV,      status, plan
    ──► alerts.deliver            flights, stats, verdict)         Parquet)
        ──► channels                 ──► report (charts, build)

Modules, one per command: ``collect`` (one poll: fetch, ingest, alerts), ``watch`` (the loop),
``status``, ``plan``, ``alerts`` (the rules after each poll; list, send, test), ``report``,
``demo``, ``export``, ``events``, ``zones``; and what they share: ``shared`` (the zones the
settings describe) and ``locking`` (the store's lock). A command module imports another's public
functions only where one step is another's part (``collect`` ends with ``alerts.run_alerts``;
``watch`` repeats ``collect.poll_once``; ``demo`` ends with ``report.report``). This file imports
nothing, so each command loads only what it uses.
"""

__all__: list[str] = []
