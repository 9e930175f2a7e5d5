"""Two sources in one store are never mixed: every number of one source is the same as with that
source alone in its own store; a read that would add two networks' views up is refused, naming them."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import EXIT_OK, EXIT_USAGE, main
from monitor.combine import combine_pending
from monitor.errors import ConfigError
from monitor.grid import slot_ends
from monitor.pipeline.demo import fill_simulated
from monitor.pipeline.export import export
from monitor.pipeline.report import report
from monitor.pipeline.shared import zone_set_for
from monitor.settings.load import load_settings
from monitor.sources.simulated.scenario import Effect, Scenario, default_routes
from monitor.store.db import Store
from monitor.store.frames import count_frame, poll_frame

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
    # the combined view beside them: per-source numbers must not move
    with Store(both) as store:
        combine_pending(store, zone_set_for(settings), ["opensky", "adsblol"], 300, EVENT + timedelta(days=5), 10**6)
    return settings, env, tmp, both, alone, alone_lol


def _slot(times: pd.Series) -> pd.Series:
    """The grid slot (``monitor.grid``, 5 minutes) each time falls in, as its end."""
    epochs = times.to_numpy(dtype="datetime64[s]").astype("int64")
    return pd.Series(pd.to_datetime(slot_ends(epochs, 300), unit="s", utc=True), index=times.index)


def _copy(db: Path, to: Path, drop_combined: bool = False) -> Path:
    """A copy of ``db`` marked as collected (simulated data is credited as simulated), optionally
    without its combined view."""
    shutil.copyfile(db, to)
    with Store(to) as store, store.transaction() as conn:
        conn.execute("UPDATE snapshots SET simulated = 0")
        if drop_combined:
            combined = "SELECT id FROM snapshots WHERE source = 'combined'"
            for table in ("position_blocks", "zone_counts"):
                conn.execute(f"DELETE FROM {table} WHERE snapshot_id IN ({combined})")
            conn.execute("DELETE FROM zone_hours WHERE source = 'combined'")
            conn.execute("DELETE FROM snapshots WHERE source = 'combined'")
    return to


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


def test_a_report_reads_the_configured_source_and_refuses_an_absent_one(stores):
    settings, env, tmp, both, _, _ = stores
    default = report(settings, "drop", db=both, out_dir=tmp / "configured")  # collect.sources = opensky
    assert default.data.made_from.source == "opensky"
    with pytest.raises(ConfigError, match=r"no polls of source 'adsbfi'.*it holds adsblol, combined, opensky"):
        report(settings, "drop", db=both, out_dir=tmp / "absent", source="adsbfi")
    elsewhere = load_settings(env={**env, "VZMON_SOURCES": "adsbfi"})
    with pytest.raises(ConfigError, match=r"holds polls of adsblol, opensky .*choose one with --source"):
        report(elsewhere, "drop", db=both, out_dir=tmp / "mixed")
    assert not (tmp / "mixed").exists() and not (tmp / "absent").exists()


def test_with_several_sources_configured_a_report_reads_the_combined_view_and_credits_each(stores, monkeypatch, capsys):
    settings, env, tmp, both, alone, _ = stores
    several = load_settings(env={**env, "VZMON_SOURCES": "opensky,adsblol"})
    # before the second source was added the windows hold one source and no combined view: read it
    assert report(several, "drop", db=alone, out_dir=tmp / "before-adsblol").data.made_from.source == "opensky"
    not_built = _copy(both, tmp / "not-built.sqlite", drop_combined=True)
    with pytest.raises(ConfigError, match=r"no combined view .*\(it holds adsblol, opensky\): `vzmon collect`"):
        report(several, "drop", db=not_built, out_dir=tmp / "not-built")
    real = _copy(both, tmp / "as-if-real.sqlite")
    result = report(several, "drop", db=real, out_dir=tmp / "combined")
    made = result.data.made_from
    assert (made.source, made.parts) == ("combined", ("adsblol", "opensky"))
    assert result.data.sources == "adsb.lol and OpenSky combined"
    text = (tmp / "combined" / "report.md").read_text(encoding="utf-8")
    assert "The OpenSky Network" in text and "adsb.lol (https://adsb.lol), under the ODbL 1.0" in text
    assert "the combined view of adsb.lol /v2/point, OpenSky /states/all" in text
    combined = pd.read_csv(tmp / "combined" / "metrics.csv")
    asked = _metrics(settings, real, tmp / "asked-combined", "combined")
    pd.testing.assert_frame_equal(combined, asked)
    lol = _metrics(settings, both, tmp / "lol", "adsblol")
    for name, value in {**env, "VZMON_SOURCES": "opensky,adsblol", "VZMON_DB": str(real)}.items():
        monkeypatch.setenv(name, value)
    for view in ("combined", "adsblol"):  # the command line, as a journalist runs it
        assert main(["report", "--event", "drop", "--source", view, "--out", str(tmp / f"cli-{view}")]) == EXIT_OK
    assert "report:" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(tmp / "cli-combined" / "metrics.csv"), combined)
    cli_lol = pd.read_csv(tmp / "cli-adsblol" / "metrics.csv")
    assert not cli_lol["before"].equals(combined["before"])
    air = lambda m: m[(m["measure"] == "airborne") & (m["zone"] == "SVZM")]["before"].item()  # noqa: E731
    assert air(combined) > air(lol) and air(combined) > air(_metrics(settings, both, tmp / "os", "opensky"))


def test_the_combined_view_counts_at_least_what_each_source_saw_in_the_slot(stores):
    _, _, _, both, _, _ = stores
    span = (EVENT - timedelta(days=4), EVENT + timedelta(days=4))
    per, ok = {}, {}
    with Store.open_existing(both) as store:
        for source in ("opensky", "adsblol", "combined"):
            counts = count_frame(store, *span, [source])  # every aircraft is in one zone, one state
            seen = counts.groupby("snapshot_id").agg(
                time=("time", "first"), n=("airborne", "sum"), g=("on_ground", "sum"), s=("stale", "sum")
            )
            per[source] = (seen["n"] + seen["g"] + seen["s"]).groupby(_slot(seen["time"])).max()
            polls = poll_frame(store, *span, [source])
            ok[source] = set(_slot(polls.loc[polls["status"].isin(["ok", "empty"]), "time"]))
        gaps = poll_frame(store, *span, ["combined"]).query("status == 'error'")["time"]
    full = pd.DataFrame(per).dropna()
    assert len(full) > 1000
    # every aircraft either saw counts (in one zone, placed by its freshest position), once
    assert (full["combined"] >= full[["adsblol", "opensky"]].max(axis=1)).all()
    assert (full["combined"] < full["adsblol"] + full["opensky"]).mean() > 0.5
    # a slot is combined exactly when both sources polled successfully in it; otherwise it is a gap
    final = max(ok["combined"] | set(gaps))  # the last slot is not final: no source polled past it
    both_ok = {slot for slot in ok["opensky"] & ok["adsblol"] if slot <= final}
    assert ok["combined"] == both_ok
    assert len(gaps) > 100 and not set(gaps) & both_ok


def test_a_report_where_no_source_has_data_reads_none_of_them(stores):
    settings, _, tmp, both, _, _ = stores
    result = report(settings, "late", db=both, out_dir=tmp / "late")
    assert result.data.n_positions == 0 and all(c.status == "insufficient" for c in result.data.changes)
    assert "not enough data" in result.data.verdict


def test_exports_keep_sources_apart(stores, monkeypatch, capsys):
    settings, env, tmp, both, alone, _ = stores
    counts = export(settings, "counts", "csv", out=tmp / "counts.csv", db=both)
    table = pd.read_csv(counts.path)
    assert set(table["source"]) == {"opensky", "adsblol", "combined"}
    hourly_beside = export(settings, "hourly", "csv", out=tmp / "h1.csv", db=both, source="opensky")
    hourly_alone = export(settings, "hourly", "csv", out=tmp / "h2.csv", db=alone)
    pd.testing.assert_frame_equal(pd.read_csv(hourly_beside.path), pd.read_csv(hourly_alone.path))
    for name, value in {**env, "VZMON_DB": str(both)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VZMON_SOURCES", "adsbfi")  # configured, but not in the store: which of the two?
    assert main(["export", "hourly", "--out", str(tmp / "h3.csv")]) == EXIT_USAGE
    assert "choose one with --source" in capsys.readouterr().err
    assert main(["export", "positions", "--source", "adsblol", "--out", str(tmp / "p.csv")]) == EXIT_OK
    shutil.rmtree(tmp / "beside", ignore_errors=True)


def test_a_network_drawn_only_beside_the_windows_is_credited(stores):
    """The charts draw two days either side of the windows: a network whose polls lie only there is
    on the per-source chart, so its credit (adsb.lol's ODbL attribution) is on it and in the report."""
    settings, _, tmp, _, alone, _ = stores
    db = tmp / "beside.sqlite"
    shutil.copyfile(alone, db)
    after_windows = EVENT + timedelta(days=7, hours=1)  # the "drop" report's after window ends 7 days after
    fill_simulated(
        settings, db, dataclasses.replace(_scenario(seed=9, interval_s=3600, keep=1.0), start=after_windows,
                                          end=after_windows + timedelta(hours=20)), source="adsblol",
    )  # fmt: skip
    _copy(db, db.with_suffix(".real"))
    result = report(settings, "drop", db=db.with_suffix(".real"), out_dir=tmp / "beside")
    assert result.data.credited is not None and "adsblol" in result.data.credited.networks
    text = (tmp / "beside" / "report.md").read_text(encoding="utf-8")
    assert "adsb.lol (https://adsb.lol), under the ODbL 1.0" in text and "The OpenSky Network" in text


def test_the_demo_runs_whatever_sources_are_configured(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VZMON_OUTPUTS", str(tmp_path))
    monkeypatch.setenv("VZMON_SOURCES", "opensky,adsblol")  # the demo's store holds only its own source
    assert main(["demo", "--interval", "3600"]) == EXIT_OK
    assert "report:" in capsys.readouterr().out
