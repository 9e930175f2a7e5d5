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


def _loaded(tmp_path: Path, env: dict[str, str], *args: str, whole: bool = False) -> tuple[int, set[str]]:
    """The exit code and the packages loaded (``whole``: every module, by its full name)."""
    out = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args], env=env, capture_output=True, text=True, timeout=120
    )
    names = json.loads(out.read_text())
    return done.returncode, set(names) if whole else {m.split(".")[0] for m in names}


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
def test_a_collect_with_no_closed_day_to_compact_loads_no_parquet(tmp_path, env):
    """Each cron run asks whether a closed day waits for compaction; the answer is SQL alone."""
    for _ in range(2):
        code, loaded = _loaded(tmp_path, env, "collect", whole=True)
        assert code == 0
        assert not loaded & {"pyarrow.parquet", "pyarrow.compute", "monitor.store.dataset"}, sorted(loaded)
        assert "monitor.store.compacted" in loaded  # it did ask


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["status"],
        ["status", "--json"],
        ["sources"],
        ["sources", "--json"],
        ["plan"],
        ["events"],
        ["alerts"],
        ["zones"],
        ["collect", "--help"],
    ],
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


# Every path of the commands that keep pandas out, run in one process as the vzmon script runs them:
# a path that reaches for pandas (through pyarrow's shim, say) fails here, not in a user's cron.
SCENARIOS = (
    "import json, os, sys\n"
    "out = sys.argv.pop(1)\n"
    "from monitor.cli import main\n"
    "runs = json.loads(sys.argv.pop(1))\n"
    "codes = []\n"
    "for args in runs:\n"
    "    sys.argv = ['vzmon', *args]\n"
    "    try:\n"
    "        codes.append(main())\n"
    "    except SystemExit as exc:  # argparse's usage errors\n"
    "        codes.append(exc.code)\n"
    "json.dump({'codes': codes, 'pandas': 'pandas' in sys.modules}, open(out, 'w'))\n"
)


@pytest.mark.slow
def test_every_path_of_the_lean_commands_runs_without_pandas(tmp_path, env, server):
    from tests.fake_opensky import Fault

    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("my notes", encoding="utf-8")
    runs = [
        (["collect"], 0),
        (["collect", "--json"], 0),
        (["collect", "--dry-run"], 0),
        (["collect"], 75),  # not JSON
        (["collect"], 75),  # broke off
        (["collect"], 75),  # 503
        (["collect"], 75),  # a reply from the far future
        (["watch", "--max-polls", "1"], 0),
        (["status"], 0),
        (["status", "--json", "--check"], 0),
        (["plan"], 0),
        (["plan", "--json"], 0),
        (["events"], 0),
        (["events", "--json"], 0),
        (["alerts"], 0),
        (["alerts", "send"], 0),
        (["alerts", "test"], 0),
        (["zones"], 0),
        (["zones", "--json"], 0),
        (["--db", str(not_a_store), "status"], 2),
        (["--config", str(tmp_path / "missing.toml"), "status"], 2),
        (["collect", "--interval", "-1"], 2),
        (["collect"], 75),  # 429
        (["collect"], 75),  # still rate-limited: skipped
        (["status"], 0),
    ]
    server.faults.clear()
    server.faults.extend(
        [
            Fault(),  # answered normally: the first three polls
            Fault(),
            Fault(),
            Fault(body="<html>busy</html>", content_type="text/html"),
            Fault(body='{"time": 1764424800, "states": []}' * 50, truncate=True),
            Fault(status=503, body="down"),
            Fault(doc={"time": 4_102_444_800, "states": []}),
        ]
    )
    out = tmp_path / "scenarios.json"
    env = {**env, "VZMON_OPENSKY_RETRIES": "0", "VZMON_OPENSKY_BACKOFF_S": "0"}
    script = SCENARIOS

    def run(batch: list[tuple[list[str], int]]) -> tuple[dict[str, object], str]:
        done = subprocess.run(
            [sys.executable, "-c", script, str(out), json.dumps([args for args, _ in batch])],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(out.read_text()), done.stderr

    first, err = run(runs[:-3])
    server.faults.append(Fault(status=429, headers={"X-Rate-Limit-Retry-After-Seconds": "3600"}, body=""))
    second, err2 = run(runs[-3:])
    codes = [*first["codes"], *second["codes"]]  # type: ignore[misc]
    assert codes == [code for _, code in runs], list(zip([a for a, _ in runs], codes, strict=True))
    assert first["pandas"] is False and second["pandas"] is False
    assert "unexpected error" not in err + err2
