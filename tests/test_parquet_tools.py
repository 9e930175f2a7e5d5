"""The Parquet dataset as other tools see it: the README's duckdb and pandas one-liners and its
hourly query run on a demo store's days, and the traffic export loads as traffic loads it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from monitor.analysis.hourly import hourly_airborne
from monitor.analysis.windows import Window
from monitor.cli import EXIT_USAGE, main
from monitor.store.db import Store
from monitor.store.frames import count_frame, read_positions

README = Path(__file__).resolve().parents[1] / "README.md"
DUCKDB = shutil.which("duckdb") or str(Path(sys.executable).with_name("duckdb"))


def _readme_line(starts: str) -> str:
    return next(line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith(starts))


def _hourly_sql() -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(r"```sql\n(.*?)```", text, re.S).group(1)


def _on_demo(command: str, demo: Path) -> str:
    """A README command pointed at the demo's store (its folder, its source)."""
    return command.replace("outputs/parquet/", f"{demo}/demo/parquet/").replace("'opensky'", "'demo'")


def _duckdb(sql: str) -> str:
    if not Path(DUCKDB).exists():
        pytest.skip("the duckdb command is not installed (pip install duckdb-cli)")
    done = subprocess.run([DUCKDB, "-csv", "-c", sql], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_store_keeps_its_closed_days_in_parquet(demo: Path):
    root = demo / "demo" / "parquet" / "positions"
    files = sorted(root.glob("source=demo/date=*/part-1.parquet"))
    assert len(files) >= 20
    meta = pq.read_schema(files[0]).metadata  # each file says whom its data comes from
    assert meta[b"vzmon.source"] == b"demo" and b"simulated" in meta[b"vzmon.data_credit"]
    with Store.open_existing(demo / "demo" / "demo.sqlite") as store:
        assert store.scalar("SELECT COUNT(*) FROM position_blocks WHERE length(data) > 0") == 0


def test_the_readme_duckdb_one_liner_runs_on_a_demo_store(demo: Path):
    line = _readme_line('duckdb -c "')
    sql = _on_demo(line[len('duckdb -c "') : -1], demo)
    out = pd.read_csv(io.StringIO(_duckdb(sql)))
    with Store.open_existing(demo / "demo" / "demo.sqlite") as store:
        stored = read_positions(store, columns=["icao24"])
    assert list(out.columns) == ["source", "date", "positions", "aircraft"]
    assert set(out["source"]) == {"demo"} and out["positions"].sum() == len(stored) > 10_000


def test_the_readme_pandas_one_liner_runs_on_a_demo_store(demo: Path):
    line = _readme_line('python -c "')
    code = _on_demo(line[len('python -c "') : -1], demo)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "SVZM" in done.stdout


def test_the_readme_hourly_query_gives_the_stores_hourly_means(demo: Path):
    view = (
        "CREATE VIEW positions AS SELECT * FROM read_parquet("
        f"'{demo}/demo/parquet/positions/*/*/*.parquet', hive_partitioning = true);"
    )
    out = pd.read_csv(io.StringIO(_duckdb(view + _on_demo(_hourly_sql(), demo))))
    out["hour"] = pd.to_datetime(out["hour"], utc=True)
    with Store.open_existing(demo / "demo" / "demo.sqlite") as store:
        counts = count_frame(store, out["hour"].min().to_pydatetime(), out["hour"].max().to_pydatetime(), ["demo"])
    window = Window("all", out["hour"].min().to_pydatetime(), out["hour"].max().to_pydatetime())
    expected = hourly_airborne(counts, window, ["SVZM"])["SVZM"].dropna()
    got = out.set_index("hour")["airborne_in_fir"].reindex(expected.index)
    assert len(expected) > 100
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_export_for_traffic_loads_as_traffic_loads_it(demo_env: Path, tmp_path: Path):
    out = tmp_path / "traffic"
    span = ["--from", "2025-11-28", "--to", "2025-11-30"]
    assert main(["export", "positions", "--format", "parquet", "--flavour", "traffic", "--out", str(out), *span]) == 0
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert files == ["2025-11-28.parquet", "2025-11-29.parquet"]
    day = pd.read_parquet(out / "2025-11-29.parquet")  # what Traffic.from_file does
    meta = pq.read_schema(out / "2025-11-29.parquet").metadata
    assert meta[b"vzmon.source"] == b"demo" and b"simulated" in meta[b"vzmon.data_credit"]  # whom it comes from
    assert list(day.columns) == [
        "timestamp", "icao24", "callsign", "latitude", "longitude", "altitude", "groundspeed", "track",
        "vertical_rate", "onground", "squawk", "geoaltitude", "last_position", "source",
    ]  # fmt: skip
    assert str(day["timestamp"].dtype).startswith("datetime64") and str(day["timestamp"].dt.tz) == "UTC"
    assert day["timestamp"].dt.date.astype(str).eq("2025-11-29").all()
    for column in ("latitude", "longitude", "altitude", "groundspeed", "track", "vertical_rate", "geoaltitude"):
        assert day[column].dtype == np.float64, column
    assert day["onground"].dtype == bool and set(day["source"]) == {"demo"}
    assert day[["latitude", "longitude"]].notna().all().all()
    # the units: feet, knots, feet a minute, from the store's metres and metres a second
    with Store.open_existing(demo_env / "demo" / "demo.sqlite") as store:
        stored = read_positions(store, pd.Timestamp("2025-11-29", tz="UTC"), pd.Timestamp("2025-11-30", tz="UTC"))
    stored = stored[stored["latitude"].notna() & stored["longitude"].notna()]
    assert len(day) == len(stored) > 500
    merged = day.merge(stored, left_on=["timestamp", "icao24"], right_on=["time", "icao24"])
    assert len(merged) == len(day)
    np.testing.assert_allclose(merged["altitude"], merged["baro_altitude_m"] / 0.3048, atol=0.06)
    np.testing.assert_allclose(merged["groundspeed"], merged["velocity_mps"] * 3600 / 1852, atol=0.06)
    np.testing.assert_allclose(merged["vertical_rate"], merged["vertical_rate_mps"] / 0.3048 * 60, atol=0.06)
    theirs, ours = merged["callsign_x"].fillna(""), merged["callsign_y"].fillna("").str.strip()
    assert (theirs == ours).all() and (theirs != "").any()


@pytest.mark.parametrize("args", [["counts", "--flavour", "traffic"], ["positions", "--flavour", "traffic"]])
def test_the_traffic_flavour_needs_positions_as_parquet(demo_env: Path, args, capsys):
    assert main(["export", *args]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--flavour traffic writes positions as Parquet" in err[0]
