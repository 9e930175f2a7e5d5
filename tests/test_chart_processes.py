"""A report's charts drawn in two processes (``report.charts.draw``): the same files as in one, the
helper's errors raised by the report, its charts drawn by the report when it dies or gets stuck,
and one process where there is one core or no fork."""

from __future__ import annotations

import errno
import gc
import logging
import os
import re
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import monitor.pipeline.report as report_module
from monitor.errors import OutputError
from monitor.report.charts.base import Chart
from monitor.report.charts.draw import HELPER_SLOWER, share, two_cores
from tests.storekit import three_day_report_store

START = datetime(2025, 11, 20, tzinfo=UTC)
SPAN = {"start": START + timedelta(hours=7), "end": START + timedelta(days=3) - timedelta(hours=7)}
NOW = datetime(2026, 1, 1, tzinfo=UTC)
forking = pytest.mark.skipif(not two_cores(), reason="charts are drawn in two processes on Linux with 2+ cores only")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return three_day_report_store(tmp_path_factory.mktemp("charts"), START)


def _report(store: tuple[Path, Path], out: Path) -> report_module.ReportResult:
    from monitor.settings.load import load_settings

    db, events = store
    settings = load_settings(
        env={"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(out.parent), "VZMON_EVENTS_FILE": str(events)}
    )
    return report_module.report(settings, "e", db=db, out_dir=out, now=NOW, **SPAN)


def _helpers_chart(monkeypatch: pytest.MonkeyPatch, draw) -> str:  # type: ignore[no-untyped-def]
    """Make the first chart the helper process draws in these reports call ``draw``; its stem."""
    shown = [c for c in report_module.CHARTS if c.stem != "military"]
    theirs = share(shown)[1][0]
    patched = tuple(replace(c, draw=draw) if c.stem == theirs.stem else c for c in report_module.CHARTS)
    monkeypatch.setattr(report_module, "CHARTS", patched)
    return theirs.stem


def test_charts_are_shared_so_both_processes_finish_together():
    def chart(stem: str, cost: float) -> Chart:
        return Chart(stem, lambda _: stem, lambda _c, _s: [], cost=cost)

    mine, theirs = share([chart("a", 1.0), chart("b", 1.0), chart("c", 0.6), chart("d", 0.5), chart("e", 0.3)])
    assert [c.stem for c in mine] == ["a", "c", "e"] and [c.stem for c in theirs] == ["b", "d"]
    here, there = sum(c.cost for c in mine), sum(c.cost for c in theirs) * HELPER_SLOWER
    assert abs(here - there) <= 0.5


@forking
def test_charts_drawn_in_two_processes_are_those_drawn_in_one(store, tmp_path, monkeypatch):
    two = _report(store, tmp_path / "two")
    monkeypatch.setattr(report_module, "draw_charts", _one_process_draw())
    one = _report(store, tmp_path / "one")
    assert two.helper_private_bytes > 0 and one.helper_private_bytes == 0  # a helper drew, then none
    assert gc.get_freeze_count() == 0  # what was frozen for the fork is collected again here
    assert list(two.charts) == list(one.charts)  # the registry's order, whoever drew them
    for title, paths in two.charts.items():
        assert [p.name for p in paths] == [p.name for p in one.charts[title]]
        png = next(p for p in paths if p.suffix == ".png")
        assert png.read_bytes() == (tmp_path / "one" / png.name).read_bytes(), title
    assert (two.out_dir / "report.md").read_text() == (one.out_dir / "report.md").read_text()


def _one_process_draw():  # type: ignore[no-untyped-def]
    import monitor.report.charts.draw as draw_module

    def draw(*args, **kwargs):  # type: ignore[no-untyped-def]
        with pytest.MonkeyPatch.context() as m:
            m.setattr(draw_module, "two_cores", lambda: False)
            return draw_module.draw_charts(*args, **kwargs)

    return draw


@forking
def test_an_error_in_the_helper_is_raised_by_the_report_and_leaves_no_report(store, tmp_path, monkeypatch):
    def full_disk(_inputs, _stem):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    _helpers_chart(monkeypatch, full_disk)
    out = tmp_path / "reports" / "e"
    # the helper's error as it was raised there, so the report names it as it would its own
    with pytest.raises(
        OutputError, match=r"no space left on the disk holding .* choose another folder with --out"
    ) as e:
        _report(store, out)
    assert "raised in the process drawing charts" in "".join(getattr(e.value.__cause__, "__notes__", []))
    assert not out.exists()


class Picky(Exception):
    """An error whose constructor needs more than it keeps in ``args``: it pickles, but does not
    come back from the pickle."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(why)
        self.path = path


@forking
def test_an_error_that_does_not_unpickle_is_raised_as_its_text(store, tmp_path, monkeypatch):
    def picky(_inputs, _stem):  # type: ignore[no-untyped-def]
        raise Picky("/x", "the helper's own words")

    _helpers_chart(monkeypatch, picky)
    out = tmp_path / "reports" / "e"
    with pytest.raises(RuntimeError, match=r"Picky: the helper's own words \(raised in the process drawing charts\)"):
        _report(store, out)
    assert not out.exists()


def _only_in_the_helper(monkeypatch: pytest.MonkeyPatch, action) -> str:  # type: ignore[no-untyped-def]
    """Make the first of the helper's charts run ``action`` in the helper, and draw as usual here."""
    parent = os.getpid()
    real = {c.stem: c for c in report_module.CHARTS}

    def draw(inputs, stem):  # type: ignore[no-untyped-def]
        if os.getpid() != parent:
            action()
        return real[stem.name].draw(inputs, stem)

    return _helpers_chart(monkeypatch, draw)


@forking
def test_a_killed_helper_s_charts_are_drawn_here(store, tmp_path, monkeypatch, caplog):
    stem = _only_in_the_helper(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    with caplog.at_level(logging.WARNING, logger="monitor.report.charts.draw"):
        result = _report(store, tmp_path / "e")
    assert re.search(rf"charts {stem}.* ended by signal 9: drawn here", caplog.text)
    assert result.helper_private_bytes == 0
    assert {p.name for paths in result.charts.values() for p in paths} >= {f"{stem}.png", f"{stem}.svg"}


@forking
def test_a_stuck_helper_is_killed_and_its_charts_drawn_here(store, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("monitor.report.charts.draw.PATIENCE", (1.0, 0.0))  # stuck after a second
    stem = _only_in_the_helper(monkeypatch, signal.pause)  # waits for a signal: the SIGKILL
    with caplog.at_level(logging.WARNING, logger="monitor.report.charts.draw"):
        result = _report(store, tmp_path / "e")
    assert re.search(rf"charts {stem}.* did not finish in time: drawn here", caplog.text)
    assert {p.name for paths in result.charts.values() for p in paths} >= {f"{stem}.png", f"{stem}.svg"}


def test_a_fork_refused_draws_every_chart_here(store, tmp_path, monkeypatch):
    def refused() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    monkeypatch.setattr("monitor.report.charts.draw.two_cores", lambda: True)
    result = _report(store, tmp_path / "one")
    assert result.helper_private_bytes == 0 and gc.get_freeze_count() == 0  # nothing left frozen
    assert {p.name for paths in result.charts.values() for p in paths} >= {"maps.png", "maps.svg", "heatmap.png"}


def test_one_core_draws_every_chart_here(store, tmp_path, monkeypatch):
    def no_fork() -> int:
        raise AssertionError("forked with one core")

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    monkeypatch.setattr(os, "fork", no_fork)
    result = _report(store, tmp_path / "one")
    assert result.helper_private_bytes == 0
    assert {p.name for paths in result.charts.values() for p in paths} >= {"maps.png", "maps.svg", "heatmap.png"}
