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


@pytest.mark.network
def test_live_archive_release_of_2025_11_29_starts_with_valid_tar_headers():
    """adsb.lol's release of 2025-11-29 is found by the real defaults, and its first MiB (one Range
    request, through GitHub's redirect) holds ustar headers with valid checksums and ``./`` names."""
    import tarfile
    from datetime import date

    import requests

    from monitor.sources.archive.release import candidates
    from monitor.sources.http import USER_AGENT

    window = 1 << 20
    with requests.Session() as session:
        found = candidates(date(2025, 11, 29), session)
        first = found[0]
        assert first.tag.startswith("v2025.11.29-planes-readsb-") and first.preferred
        assert first.total is not None and first.total > 1_000_000_000
        headers = {"User-Agent": USER_AGENT, "Range": f"bytes=0-{window - 1}", "Accept-Encoding": "identity"}
        with session.get(first.urls[0], headers=headers, timeout=(10, 60), stream=True) as response:
            assert response.status_code == 206, response.status_code
            assert response.headers["Content-Range"] == f"bytes 0-{window - 1}/{first.sizes[0]}"
            head = response.raw.read(window)
    assert len(head) == window
    offset, names = 0, []
    while offset + 512 <= len(head) and head[offset : offset + 512] != bytes(512):
        block = head[offset : offset + 512]
        assert block[257:262] == b"ustar"
        info = tarfile.TarInfo.frombuf(block, tarfile.ENCODING, "surrogateescape")  # checks the checksum
        names.append(block[:100].rstrip(b"\0"))  # as written: frombuf turns the first "./" into "."
        offset += 512 + -(-info.size // 512) * 512
    assert names and all(name.startswith(b"./") for name in names), names[:5]
