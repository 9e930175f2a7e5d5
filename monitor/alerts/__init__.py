"""Alerts: tell people, within a poll of it happening, when traffic collapses, when it recovers, and
when vzmon itself is blind.

- ``rules``: drop, zero, recovery and outage, from recent counts and polls (pure, numpy only).
- ``baseline``: what a count should be at a poll (same hour of the week, or yesterday).
- ``deliver``: the outbox worked through, every channel tried once per run, outcomes recorded.
- ``channels``: log, jsonl, webhook, email, found through one registry.
"""

__all__: list[str] = []
