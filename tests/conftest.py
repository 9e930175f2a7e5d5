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
