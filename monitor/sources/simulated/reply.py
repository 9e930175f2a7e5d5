"""A simulated reply as a :class:`~monitor.sources.base.Reply`: read by OpenSky's own parser, like a
real one, and stored under the source name ``demo``, marked simulated.

Place in the flow: ``pipeline.demo`` turns each ``simulated.flights`` reply into a ``Reply`` here
and feeds it through ``ingest``.
"""

from __future__ import annotations

from typing import Any

from geo.bounds import BBox
from monitor.sources.base import Reply
from monitor.sources.opensky.parse import parse_states

__all__ = ["DEMO", "simulated_reply"]

DEMO = "demo"  # the source name simulated polls are stored under


def simulated_reply(doc: dict[str, Any], box: BBox, stale_after_s: int = 15) -> Reply:
    """A simulated ``/states/all`` reply as a :class:`Reply` of source ``demo``, read by OpenSky's
    parser like a real one; it "costs" what a real call over ``box`` would."""
    parsed = parse_states(doc, stale_after_s)
    return Reply(
        source=DEMO,
        api_time=parsed.api_time,
        positions=parsed.table,
        malformed=parsed.malformed_rows,
        http_status=200,
        credits_charged=box.credits,
    )
