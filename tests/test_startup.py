"""A CLI that starts in a blink: each command, run as a real process, loads only what it uses.

Cron runs ``vzmon collect`` every few minutes and people type ``vzmon status`` by hand, so neither
may load pandas, scipy, matplotlib or geopandas. The check is on what the process imported (its
``sys.modules`` at exit), never on a timing; ``benchmarks/bench_startup.py`` measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_opensky import FakeOpenSky

HEAVY = ("pandas", "scipy", "matplotlib", "geopandas")
# Run main() as the vzmon script does (argv from the command line), then list the modules loaded.
PROBE = (
    "import atexit, json, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv[0] = 'vzmon'\n"
    "from monitor.cli import main\n"
    "sys.exit(main())\n"
)


def _loaded(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, set[str]]:
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args], env=env, capture_output=True, text=True, timeout=120
    )
    return done.returncode, {m.split(".")[0] for m in json.loads(out.read_text())}


@pytest.fixture(scope="module")
def server():
    with FakeOpenSky() as s:
        yield s


@pytest.fixture
def env(tmp_path, server) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VZMON_", "OPENSKY_"))}
    return {
        **base,
        "VZMON_CONFIG": os.devnull,
        "VZMON_OUTPUTS": str(tmp_path / "outputs"),
        "OPENSKY_API_URL": server.api_url,
        "OPENSKY_TOKEN_URL": server.token_url,
        "VZMON_ALERTS_CHANNELS": "log,jsonl",
    }


@pytest.mark.slow
def test_polling_never_loads_the_analysis_libraries(tmp_path, env):
    for args in (["collect"], ["collect", "--json"], ["watch", "--max-polls", "1", "--interval", "10"]):
        code, loaded = _loaded(tmp_path, env, *args)
        assert code == 0, args
        assert not loaded & {*HEAVY}, f"vzmon {' '.join(args)} loaded {sorted(loaded & {*HEAVY})}"
        assert {"pyarrow", "shapely", "requests"} <= loaded  # the probe sees what it should


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [["--help"], ["status"], ["status", "--json"], ["plan"], ["events"], ["alerts"], ["zones"], ["collect", "--help"]],
    ids=lambda a: " ".join(a),
)
def test_quick_commands_load_none_of_the_analysis_libraries(tmp_path, env, args):
    assert _loaded(tmp_path, env, "collect")[0] == 0  # a store with data, an alert history
    code, loaded = _loaded(tmp_path, env, *args)
    assert code == 0, args
    assert not loaded & {*HEAVY}, f"vzmon {' '.join(args)} loaded {sorted(loaded & {*HEAVY})}"


@pytest.mark.slow
def test_status_and_help_load_no_arrow_and_no_geometry(tmp_path, env):
    assert _loaded(tmp_path, env, "collect")[0] == 0
    for args in (["--help"], ["status"]):
        code, loaded = _loaded(tmp_path, env, *args)
        assert code == 0
        assert not loaded & {"pyarrow", "numpy", "shapely", "pyproj", "requests"}, (args, loaded)


@pytest.mark.slow
def test_the_commands_that_draw_do_load_them(tmp_path, env):
    """The probe is not blind: a command that needs matplotlib shows it."""
    code, loaded = _loaded(tmp_path, env, "zones", "--map", str(tmp_path / "z.png"))
    assert code == 0 and "matplotlib" in loaded
