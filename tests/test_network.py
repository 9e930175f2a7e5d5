"""Live smoke test against the real OpenSky API. Opt-in: .venv/bin/pytest -m network (needs internet)."""

from __future__ import annotations

import pytest

from geo.zoneset import load_zone_set
from monitor.errors import RateLimited
from monitor.settings.table import DEFAULT_API_URL, DEFAULT_TOKEN_URL
from monitor.sources.opensky.client import OpenSkyClient
from monitor.sources.opensky.parse import parse_states
from monitor.store.frames import positions_frame


@pytest.mark.network
def test_live_anonymous_poll_of_the_polling_box_parses():
    box = load_zone_set().polling_box
    with OpenSkyClient(DEFAULT_API_URL, DEFAULT_TOKEN_URL, retries=1) as client:
        try:
            reply = client.fetch_states(box)
        except RateLimited as exc:
            pytest.skip(f"this IP is rate-limited until {exc.retry_at}")
    parsed = parse_states(reply.doc)
    assert parsed.fields_per_row in (17, 18)
    assert reply.credits_remaining is None or reply.credits_remaining >= 0
    if len(parsed.table):
        lat = positions_frame(parsed.table)["latitude"].dropna()
        assert lat.between(box.south, box.north).all()
