"""vzmon as real processes: like cron, two at once, killed with SIGKILL mid-write, stopped with SIGTERM."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fake_opensky import FakeOpenSky, Fault

VZMON = Path(sys.executable).parent / "vzmon"


@pytest.fixture(scope="module")
def exe() -> Path:
    if not VZMON.exists():
        pytest.fail(f"{VZMON} not found: install the project first (pip install -e '.[dev]')")
    return VZMON


def _env(server: FakeOpenSky, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VZMON_", "OPENSKY_"))}
    env.update(
        OPENSKY_API_URL=server.api_url,
        OPENSKY_TOKEN_URL=server.token_url,
        VZMON_DB=str(db),
        VZMON_CONFIG=os.devnull,
        VZMON_OPENSKY_BACKOFF_S="0",
        **extra,
    )
    return env


def _statuses(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT status FROM snapshots ORDER BY id")]


def test_collect_runs_under_cron_conditions(exe, tmp_path, fake_opensky):
    """env -i (no PATH, no HOME), cwd /, absolute path; relative paths resolve against the settings file."""
    conf = tmp_path / "conf"
    conf.mkdir()
    settings = conf / "settings.toml"
    settings.write_text(
        '[store]\noutputs_dir = "../outputs"\ndb = "../outputs/monitor.sqlite"\n'
        f'[opensky]\napi_url = "{fake_opensky.api_url}"\ntoken_url = "{fake_opensky.token_url}"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        ["env", "-i", f"VZMON_CONFIG={settings}", str(exe), "collect"],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert " · ok · SVZM 20 airborne/2 on ground" in result.stdout
    assert _statuses(tmp_path / "outputs" / "monitor.sqlite") == ["ok"]
    assert not Path("/outputs/monitor.sqlite").exists()


def test_python_dash_m_monitor_runs_the_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "usage: vzmon" in result.stdout


def test_two_concurrent_collects_never_write_together(exe, tmp_path, fake_opensky):
    db = tmp_path / "m.sqlite"
    env = _env(fake_opensky, db)
    env["VZMON_OPENSKY_READ_TIMEOUT_S"] = "600"  # the held answer never times out, however slow the machine
    held = Fault(hold=threading.Event())  # the first run holds the lock while its answer is held
    fake_opensky.faults.append(held)
    first = subprocess.Popen([str(exe), "collect"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert held.reached.wait(120), "first collect never reached the server"
        # it returns while the first still holds the lock: it did not wait for it
        second = subprocess.run([str(exe), "collect"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        assert held.hold is not None
        held.hold.set()
    assert second.returncode == 73
    assert "another vzmon run holds the lock" in second.stderr
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert _statuses(db) == ["ok"]
    assert len(fake_opensky.states_requests()) == 1


def _big_doc(n: int) -> dict:
    """``n`` states spread over the polling box, built from the fixture's rows."""
    base = json.loads((Path(__file__).parent / "data" / "opensky_states_region.json").read_text())
    rows = [r for r in base["states"] if r[5] is not None]
    states = []
    for i in range(n):
        row = list(rows[i % len(rows)])
        row[0] = f"{0x100000 + i:06x}"
        row[5] = -75.0 + (i * 0.00171) % 17.0
        row[6] = -1.0 + (i * 0.00093) % 18.5
        states.append(row)
    return {"time": base["time"], "states": states}


def _wal_stamp(wal: Path) -> tuple[int, int]:
    try:
        st = wal.stat()
    except FileNotFoundError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)


def _check_store(db: Path) -> int:
    """Integrity holds and no poll is half-written; returns the number of stored data snapshots."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT s.id, s.n_states, s.n_malformed, b.n_positions, "
            "(SELECT COUNT(*) FROM zone_counts z WHERE z.snapshot_id = s.id) "
            "FROM snapshots s LEFT JOIN position_blocks b ON b.snapshot_id = s.id WHERE s.status = 'ok'"
        ).fetchall()
    for sid, n_states, n_malformed, n_block, n_counts in rows:
        assert n_block == n_states - n_malformed, f"snapshot {sid}: block has {n_block} of {n_states} positions"
        assert n_counts == 9, f"snapshot {sid}: {n_counts} zone counts"
    return len(rows)


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_sound_store_and_the_next_run_succeeds(exe, tmp_path):
    """Kill collect in start-up, while it waits for its answer, while it reads it, and the instant it
    starts writing its transaction (each moment known from what the server or the file saw); until
    at least two kills rolled back a transaction in progress."""
    db = tmp_path / "m.sqlite"
    wal = Path(f"{db}-wal")
    ticks = itertools.count(int(time.time()) - 1800, 10)  # every request a new API time, all within the hour
    with FakeOpenSky(_big_doc(150_000), clock=lambda: float(next(ticks))) as server:
        env = _env(server, db)
        first = subprocess.run([str(exe), "collect"], env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        kept = _check_store(db)
        rolled_back_mid_write = 0
        moments = itertools.cycle(("start-up", "fetch", "parse", "write", "write"))
        attempts = 0
        while attempts < 10 or (rolled_back_mid_write < 2 and attempts < 40):
            attempts += 1
            moment = next(moments)
            stamp = _wal_stamp(wal)
            held = Fault(hold=threading.Event())
            if moment == "fetch":
                server.faults.append(held)  # the answer waits until the kill
            server.answered.clear()
            proc = subprocess.Popen(
                [str(exe), "collect"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            wrote = False
            try:
                if moment == "fetch":
                    assert held.reached.wait(60), "collect never asked for the states"
                elif moment == "parse":
                    assert server.answered.wait(60), "collect never got its answer"  # killed decoding/classifying
                elif moment == "write":
                    deadline = time.monotonic() + 60
                    while proc.poll() is None and time.monotonic() < deadline:
                        if _wal_stamp(wal) != stamp:  # the poll's transaction has begun writing pages
                            wrote = True
                            break
                        time.sleep(0.0005)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            finally:
                assert held.hold is not None
                held.hold.set()
                server.faults.clear()
            now = _check_store(db)
            assert now >= kept  # every earlier snapshot is still there
            if wrote and now == kept:
                rolled_back_mid_write += 1
            kept = now
        print(f"kills that rolled back a transaction in progress: {rolled_back_mid_write} of {attempts}")
        assert rolled_back_mid_write >= 2, "no kill landed inside a write transaction; the test lost its point"
        result = subprocess.run([str(exe), "collect"], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert _check_store(db) == kept + 1


def test_watch_finishes_the_poll_in_progress_on_sigterm_and_exits_0(exe, tmp_path, fake_opensky):
    db = tmp_path / "m.sqlite"
    held = Fault(hold=threading.Event())
    fake_opensky.faults.append(held)
    proc = subprocess.Popen(
        [str(exe), "watch", "--interval", "60"],
        env=_env(fake_opensky, db, VZMON_OPENSKY_READ_TIMEOUT_S="600"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        assert held.reached.wait(120), "watch never reached the server"
        proc.send_signal(signal.SIGTERM)  # the poll is waiting on the server's held answer
        seen = []
        for line in proc.stderr:  # watch says it got the signal before the poll ends
            seen.append(line)
            if "SIGTERM received" in line:
                break
        assert any("SIGTERM received" in line for line in seen), seen
    finally:
        assert held.hold is not None
        held.hold.set()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert " · ok · SVZM" in out
    assert _statuses(db) == ["ok"]


def test_watch_stops_on_sigint_while_waiting(exe, tmp_path, fake_opensky):
    db = tmp_path / "m.sqlite"
    proc = subprocess.Popen(
        [str(exe), "watch", "--interval", "600"],
        env=_env(fake_opensky, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert " · ok · " in first
    proc.send_signal(signal.SIGINT)  # during a 600 s wait: returning at all means it stopped waiting
    proc.communicate(timeout=120)
    assert proc.returncode == 0


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="no pthread_kill to aim a signal at one thread")
def test_a_stop_signal_handed_to_another_thread_ends_the_wait_at_once():
    """The kernel may hand SIGINT or SIGTERM to any thread of the process that does not block it
    (numpy's OpenBLAS starts one), and Python runs the handler in the main thread only, when it
    next runs bytecode: a main thread asleep in ``stop.wait`` would sleep on to the end of the wait
    (once, under load, a SIGINT to ``vzmon watch`` went unanswered for 120 s). Sent here to a helper
    thread, SIGTERM must end the main thread's wait at once, through the wakeup fd."""
    from monitor.cli.watch import stopped_by_signals

    stop, go = threading.Event(), threading.Event()

    def send() -> None:
        go.wait()  # it runs again once the main thread gives up the GIL: asleep in its wait below
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    with stopped_by_signals(stop):
        sender = threading.Thread(target=send)
        sender.start()
        go.set()
        ended = stop.wait(30)  # a handler run in the main thread alone would come at the end of this
        sender.join()
    assert ended
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and signal.set_wakeup_fd(-1) == -1  # all put back
