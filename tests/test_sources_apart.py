"""Two sources in one store are never mixed: every number of one source is the same as with that
source alone in its own store; a read that would add two networks' views up is refused, naming them."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import EXIT_OK, EXIT_USAGE, main
from monitor.errors import ConfigError
from monitor.pipeline.demo import fill_simulated
from monitor.pipeline.export import export
from monitor.pipeline.report import report
from monitor.settings.load import load_settings
from monitor.sources.simulated.scenario import Effect, Scenario, default_routes

pytestmark = pytest.mark.slow

EVENT = datetime(2025, 11, 15, 12, tzinfo=UTC)


def _scenario(seed: int, interval_s: int, keep: float) -> Scenario:
    return Scenario(
        start=EVENT - timedelta(days=4), end=EVENT + timedelta(days=4), interval_s=interval_s,
        routes=default_routes(), effects=(Effect(EVENT, keep, kinds=("overflight",)),), seed=seed,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apart")
    events = tmp / "events.toml"
    late = EVENT + timedelta(days=30)  # long after both sources' data
    events.write_text(
        "".join(
            f'[[event]]\nid = "{eid}"\ntime = {t:%Y-%m-%dT%H:%M:%SZ}\nkind = "announcement"\ntitle = "{eid}"\n'
            'source = "https://example.org/test"\n\n'
            for eid, t in (("drop", EVENT), ("late", late))
        ),
        encoding="utf-8",
    )
    env = {"VZMON_CONFIG": "/dev/null", "VZMON_OUTPUTS": str(tmp), "VZMON_EVENTS_FILE": str(events)}
    settings = load_settings(env=env)
    both, alone, alone_lol = tmp / "both.sqlite", tmp / "alone.sqlite", tmp / "alone-lol.sqlite"
    # the other network sees a different sky at another cadence: any mixing would show
    fill_simulated(settings, both, _scenario(seed=3, interval_s=600, keep=0.4), source="opensky")
    fill_simulated(settings, both, _scenario(seed=9, interval_s=300, keep=1.0), source="adsblol")
    fill_simulated(settings, alone, _scenario(seed=3, interval_s=600, keep=0.4), source="opensky")
    fill_simulated(settings, alone_lol, _scenario(seed=9, interval_s=300, keep=1.0), source="adsblol")
    return settings, env, tmp, both, alone, alone_lol


def _metrics(settings, db: Path, out: Path, source: str | None) -> pd.DataFrame:
    report(settings, "drop", db=db, out_dir=out, source=source)
    return pd.read_csv(out / "metrics.csv")


def test_each_sources_report_is_the_same_beside_another_source_as_alone(stores):
    settings, _, tmp, both, alone, alone_lol = stores
    beside = _metrics(settings, both, tmp / "beside", "opensky")
    by_itself = _metrics(settings, alone, tmp / "by-itself", None)
    pd.testing.assert_frame_equal(beside, by_itself)
    other = _metrics(settings, both, tmp / "other", "adsblol")
    pd.testing.assert_frame_equal(other, _metrics(settings, alone_lol, tmp / "other-alone", None))
    fir = lambda m: m[(m["measure"] == "flights") & (m["flight_class"] == "overflight")]["change_pct"].item()  # noqa: E731
    assert fir(beside) < -40 and abs(fir(other)) < 25  # each its own sky


def test_a_report_over_two_sources_asks_which(stores):
    settings, _, tmp, both, _, _ = stores
    with pytest.raises(ConfigError, match=r"holds polls of adsblol, opensky .*choose one with --source"):
        report(settings, "drop", db=both, out_dir=tmp / "mixed")
    with pytest.raises(ConfigError, match=r"no polls of source 'adsbfi'.*it holds adsblol, opensky"):
        report(settings, "drop", db=both, out_dir=tmp / "absent", source="adsbfi")
    assert not (tmp / "mixed").exists()


def test_a_report_where_no_source_has_data_reads_none_of_them(stores):
    settings, _, tmp, both, _, _ = stores
    result = report(settings, "late", db=both, out_dir=tmp / "late")
    assert result.data.n_positions == 0 and all(c.status == "insufficient" for c in result.data.changes)
    assert "not enough data" in result.data.verdict


def test_exports_keep_sources_apart(stores, monkeypatch, capsys):
    settings, env, tmp, both, alone, _ = stores
    counts = export(settings, "counts", "csv", out=tmp / "counts.csv", db=both)
    table = pd.read_csv(counts.path)
    assert set(table["source"]) == {"opensky", "adsblol"}
    hourly_beside = export(settings, "hourly", "csv", out=tmp / "h1.csv", db=both, source="opensky")
    hourly_alone = export(settings, "hourly", "csv", out=tmp / "h2.csv", db=alone)
    pd.testing.assert_frame_equal(pd.read_csv(hourly_beside.path), pd.read_csv(hourly_alone.path))
    for name, value in {**env, "VZMON_DB": str(both)}.items():
        monkeypatch.setenv(name, value)
    assert main(["export", "hourly", "--out", str(tmp / "h3.csv")]) == EXIT_USAGE
    assert "choose one with --source" in capsys.readouterr().err
    assert main(["export", "positions", "--source", "adsblol", "--out", str(tmp / "p.csv")]) == EXIT_OK
    shutil.rmtree(tmp / "beside", ignore_errors=True)
