"""Shared fixtures. Real parts everywhere: SQLite files, HTTP over loopback, shapely, matplotlib.

Only seams are faked: clock, sleep and base URLs. ``../shared`` (real captures, the community FIR
dataset) is optional; tests that read it skip cleanly when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VZMON_*/OPENSKY_* variable from the developer's shell leaks into a test.

    VZMON_CONFIG points at an empty settings file so the checkout's config/settings.toml (and its
    outputs/ store) is never touched by tests.
    """
    for name in list(os.environ):
        if name.startswith(("VZMON_", "OPENSKY_", "SMTP_")):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-settings.toml"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("VZMON_CONFIG", str(empty))
    monkeypatch.setenv("VZMON_OUTPUTS", str(tmp_path / "outputs"))


def shared_file(*parts: str) -> Path:
    """A file under ../shared, or skip the test when the folder or file is absent."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared is optional)")
    return path


@pytest.fixture(scope="session")
def zone_set():
    from geo.zoneset import load_zone_set

    return load_zone_set()


@pytest.fixture(scope="session")
def fence(zone_set):
    from geo.fence import fence_for

    return fence_for(zone_set)


@pytest.fixture
def fake_opensky():
    """A fresh OpenSky-speaking server on 127.0.0.1 serving tests/data/opensky_states_region.json."""
    from tests.fake_opensky import FakeOpenSky

    with FakeOpenSky() as server:
        yield server


@pytest.fixture
def states_payload() -> dict:
    import json

    return json.loads((DATA / "opensky_states_region.json").read_text(encoding="utf-8"))


@pytest.fixture
def opensky_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_opensky) -> Path:
    """Point vzmon at the fake server and a store in tmp_path; no retry waits. Returns the store path."""
    db = tmp_path / "store" / "monitor.sqlite"
    monkeypatch.setenv("OPENSKY_API_URL", fake_opensky.api_url)
    monkeypatch.setenv("OPENSKY_TOKEN_URL", fake_opensky.token_url)
    monkeypatch.setenv("VZMON_DB", str(db))
    monkeypatch.setenv("VZMON_OPENSKY_BACKOFF_S", "0")
    return db


@pytest.fixture
def settings(opensky_env):
    from monitor.settings import load_settings

    return load_settings()


@pytest.fixture
def store(tmp_path: Path):
    from monitor.store import Store

    with Store(tmp_path / "unit.sqlite") as s:
        yield s


def with_credentials(monkeypatch: pytest.MonkeyPatch, client_id: str = "vzmon-test", secret: str = "s3cret-value"):
    monkeypatch.setenv("OPENSKY_CLIENT_ID", client_id)
    monkeypatch.setenv("OPENSKY_CLIENT_SECRET", secret)


@pytest.fixture(autouse=True)
def _restore_logging():
    """main() installs a stderr handler on the root logger; drop it after each test."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
