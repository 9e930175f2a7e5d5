"""Shared fixtures. Real parts everywhere: SQLite files, HTTP over loopback, shapely, matplotlib.

Only seams are faked: clock, sleep and base URLs. ``../shared`` (real captures, the community FIR
dataset) is optional; tests that read it skip cleanly when it is absent.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from datetime import UTC, datetime
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
def demo(tmp_path_factory):
    """One small demo run (30-minute polls) shared by the tests that need a filled store (read only!)."""
    out = tmp_path_factory.mktemp("outputs")
    mp = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith(("VZMON_", "OPENSKY_")):
            mp.delenv(name)
    mp.setenv("VZMON_CONFIG", os.devnull)
    mp.setenv("VZMON_OUTPUTS", str(out))
    from monitor.cli import EXIT_OK, main

    assert main(["demo", "--interval", "1800"]) == EXIT_OK
    mp.undo()
    return out


@pytest.fixture(scope="session")
def filled_store(tmp_path_factory) -> Path:
    """A store of November 2025 with ~500,000 positions (10-minute snapshots of ~120 aircraft), built
    with the benchmarks' generator in the store's own format; for tests that need long-running work."""
    from benchmarks.bench_report import build_store

    path = tmp_path_factory.mktemp("filled") / "monitor.sqlite"
    build_store(path, days=30, interval_s=600, scale=6.0, start=datetime(2025, 11, 1, tzinfo=UTC), quiet=True)
    return path


@pytest.fixture
def demo_env(demo, monkeypatch):
    monkeypatch.setenv("VZMON_OUTPUTS", str(demo))
    monkeypatch.setenv("VZMON_DB", str(demo / "demo" / "demo.sqlite"))
    return demo


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
    from monitor.settings.load import load_settings

    return load_settings()


@pytest.fixture
def store(tmp_path: Path):
    from monitor.store.db import Store

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


def _mount_tmpfs(target: Path, options: str) -> bool:
    """Mount a real tmpfs at ``target`` (needs root, as in CI); False where this machine cannot."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "vzmon-test", str(target)], capture_output=True)
    return done.returncode == 0


class SmallDisk:
    """A real small file system at ``path``; :meth:`fill` writes a file there until it is full."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def fill(self, name: str = "filler") -> Path:
        filler = self.path / name
        with contextlib.suppress(OSError), filler.open("wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
        return filler


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 32 MB file system (tmpfs) at ``tmp_path/disk``; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=32m"):
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield SmallDisk(disk)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def unwritable_dir(tmp_path: Path):
    """A folder nobody can write to, not even root: a read-only tmpfs when running as root, else a
    folder without write permission."""
    folder = tmp_path / "read-only"
    if os.geteuid() == 0:
        if not _mount_tmpfs(folder, "ro,size=64k"):
            pytest.skip("cannot make a folder read-only for root here")
    else:
        folder.mkdir()
        folder.chmod(0o555)
    try:
        try:
            (folder / "probe").write_text("x")
        except OSError:
            pass
        else:
            pytest.skip(f"{folder} is still writable here")
        yield folder
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o755)
