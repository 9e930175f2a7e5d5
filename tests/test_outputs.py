"""Files users keep: written aside and renamed into place, never deleted or overwritten unasked.

Covers ``monitor.outputs`` directly, then ``vzmon export``, ``vzmon report`` and ``vzmon zones
--map`` end to end: folders that are not vzmon's are refused, previous outputs are replaced whole,
a SIGKILL at any moment leaves the previous complete output or the new complete one, and
unwritable or full disks give one line naming the path.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from monitor.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from monitor.errors import ConfigError
from monitor.outputs import MARKER, Layout, atomic_file, staged_folder
from monitor.store.frames import read_positions

ANY_TXT = Layout("report", holds=lambda e: e.suffix == ".txt", signed=lambda _: False)
OTHER = Layout("export", holds=lambda e: True, signed=lambda _: False)

VZMON = Path(sys.executable).parent / "vzmon"


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256), hidden files included."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _no_leftovers(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if ".partial-" in p.name or ".tmp-" in p.name or ".old-" in p.name]


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


# ---------------------------------------------------------------------------- monitor.outputs


def test_a_file_is_replaced_only_when_it_is_complete(tmp_path):
    target = tmp_path / "counts.csv"
    target.write_text("old,complete\n")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("new,but cut")
        raise RuntimeError("killed half way")
    assert target.read_text() == "old,complete\n"
    _no_leftovers(tmp_path)
    with atomic_file(target) as tmp:
        tmp.write_text("new,complete\n")
    assert target.read_text() == "new,complete\n"
    _no_leftovers(tmp_path)


def test_a_folder_of_the_users_is_refused_before_anything_is_written(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.docx").write_text("years of work")
    before = _tree(docs)
    refused = pytest.raises(ConfigError, match=r"holds files vzmon did not write \(e\.g\. thesis\.docx\)")
    with refused, staged_folder(docs, ANY_TXT, "--out"):
        raise AssertionError("never reached")
    assert _tree(docs) == before
    _no_leftovers(tmp_path)


def test_a_previous_output_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("first")
        (stage / "b.txt").write_text("first")
    with staged_folder(out, ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert (out / "a.txt").read_text() == "second"
    assert json.loads((out / MARKER).read_text())["kind"] == "report"
    _no_leftovers(tmp_path)


def test_an_output_of_another_kind_is_refused(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("x")
    refused = pytest.raises(ConfigError, match="holds vzmon's report output")
    with refused, staged_folder(out, OTHER, "--out"):
        pass


def test_a_failure_while_filling_leaves_the_previous_folder(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("first")
    before = _tree(out)
    with pytest.raises(RuntimeError), staged_folder(out, ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("half")
        raise RuntimeError("disk trouble")
    assert _tree(out) == before
    _no_leftovers(tmp_path)


def test_a_folder_caught_between_two_renames_is_put_back(tmp_path):
    """Where the system cannot swap folders atomically, a run killed between its two renames leaves
    the previous folder aside; the next run restores it before anything else."""
    out = tmp_path / "out"
    aside = tmp_path / f".out.old-{_dead_pid()}-abc123"
    aside.mkdir()
    (aside / MARKER).write_text('{"kind": "report"}')
    (aside / "a.txt").write_text("previous")
    partial = tmp_path / f".out.partial-{_dead_pid()}-def456"
    partial.mkdir()
    (partial / "a.txt").write_text("cut")
    with pytest.raises(RuntimeError), staged_folder(out, ANY_TXT, "--out"):
        raise RuntimeError("stop before replacing")
    assert (out / "a.txt").read_text() == "previous"
    _no_leftovers(tmp_path)


# ---------------------------------------------------------------------------- vzmon export


def test_export_refuses_a_folder_of_documents_and_deletes_nothing(demo_env, tmp_path, capsys):
    docs = tmp_path / "Documents"
    (docs / "taxes").mkdir(parents=True)
    (docs / "taxes" / "2025.pdf").write_text("keep")
    (docs / "notes.txt").write_text("keep")
    before = _tree(docs)
    assert main(["export", "positions", "--format", "parquet", "--out", str(docs)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert f"{docs} holds files vzmon did not write" in err and "--out" in err and err.count("\n") == 0
    assert _tree(docs) == before


def _export_positions(out: Path, *extra: str) -> list[str]:
    return ["export", "positions", "--format", "parquet", "--out", str(out), *extra]


def test_export_replaces_its_own_previous_export(demo_env, tmp_path):
    out = tmp_path / "positions"
    assert main(_export_positions(out, "--from", "2025-11-20", "--to", "2025-11-23")) == EXIT_OK
    assert main(_export_positions(out, "--from", "2025-11-28", "--to", "2025-11-30")) == EXIT_OK
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["date=2025-11-28", "date=2025-11-29"]
    _no_leftovers(tmp_path)


def test_export_replaces_an_export_made_before_folders_were_marked(demo_env, tmp_path):
    out = tmp_path / "positions"
    assert main(_export_positions(out, "--from", "2025-11-20", "--to", "2025-11-21")) == EXIT_OK
    (out / MARKER).unlink()  # as the first release wrote it
    assert main(_export_positions(out, "--from", "2025-11-28", "--to", "2025-11-29")) == EXIT_OK
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["date=2025-11-28"]


def test_export_streams_the_same_rows_as_reading_everything(demo_env, tmp_path):
    from monitor.store.db import Store

    csv = tmp_path / "positions.csv"
    folder = tmp_path / "positions"
    span = ["--from", "2025-11-27", "--to", "2025-12-01"]
    assert main(["export", "positions", "--out", str(csv), *span]) == EXIT_OK
    assert main(_export_positions(folder, *span)) == EXIT_OK
    with Store(demo_env / "demo" / "demo.sqlite") as store:
        whole = read_positions(store, pd.Timestamp("2025-11-27", tz="UTC"), pd.Timestamp("2025-12-01", tz="UTC"))
    streamed = pd.read_csv(csv)
    assert len(streamed) == len(whole) > 3_000
    assert streamed["time"].iloc[0].endswith("Z") and streamed["snapshot_id"].tolist() == whole["snapshot_id"].tolist()
    table = pq.read_table(folder)
    assert table.num_rows == len(whole)
    assert sorted(table.column("icao24").to_pylist()) == sorted(whole["icao24"].tolist())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["positions", "--format", "parquet", "--out", "{file}"], "is a file, but a folder is needed here"),
        (["counts", "--out", "{folder}"], "is a folder; give a file path"),
        (["polls", "--format", "parquet", "--out", "{folder}"], "is a folder; give a file path"),
    ],
)
def test_export_to_a_path_of_the_wrong_kind_is_a_usage_error(demo_env, tmp_path, capsys, args, expected):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "keep.txt").write_text("keep")
    (tmp_path / "file").write_text("keep")
    argv = ["export", *(a.format(file=tmp_path / "file", folder=tmp_path / "folder") for a in args)]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert expected in err and err.count("\n") == 0
    assert (tmp_path / "file").read_text() == "keep" and (tmp_path / "folder" / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("what", ["counts", "positions-parquet"])
def test_export_into_an_unwritable_folder_names_the_path(demo_env, unwritable_dir, capsys, what):
    out = unwritable_dir / "sub" / "out"
    argv = ["export", "counts", "--out", str(out)] if what == "counts" else _export_positions(out)
    assert main(argv) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert f"cannot write {out}" in err and "--out" in err and err.count("\n") == 0
    assert "unexpected error" not in err


def test_export_on_a_full_disk_says_so_and_keeps_the_previous_export(demo_env, small_disk, capsys):
    out = small_disk / "counts.csv"
    assert main(["export", "counts", "--from", "2025-11-29", "--to", "2025-11-30", "--out", str(out)]) == EXIT_OK
    before = out.read_bytes()
    filler = small_disk.fill()
    assert main(["export", "counts", "--out", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"no space left on the disk holding {out}" in err and "unexpected" not in err
    filler.unlink()
    assert out.read_bytes() == before
    _no_leftovers(small_disk.path)


def test_outputs_dir_that_is_a_file_is_a_usage_error(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "outputs"
    afile.write_text("not a folder")
    monkeypatch.setenv("VZMON_OUTPUTS", str(afile))
    assert main(["status"]) == EXIT_USAGE
    assert "VZMON_OUTPUTS" in capsys.readouterr().err and afile.read_text() == "not a folder"


# ---------------------------------------------------------------------------- report and map


def test_report_refuses_a_folder_of_the_users_before_working(demo_env, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "draft.md").write_text("my article")
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_USAGE
    assert "holds files vzmon did not write (e.g. draft.md)" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["draft.md"]


def test_report_into_an_unwritable_folder_names_the_path(demo_env, unwritable_dir, capsys):
    out = unwritable_dir / "report"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert f"cannot write {out}" in err and err.count("\n") == 0


def test_report_on_a_full_disk_keeps_the_previous_report(demo_env, small_disk, capsys):
    out = small_disk / "report"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_OK
    before = _tree(out)
    filler = small_disk.fill()
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"no space left on the disk holding {out}" in err
    filler.unlink()
    assert _tree(out) == before
    _no_leftovers(small_disk.path)


def test_zones_map_with_an_unknown_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["zones", "--map", "zones.txt"])
    assert info.value.code == EXIT_USAGE
    assert "end the path in .png, .svg or .pdf" in capsys.readouterr().err


def test_zones_map_into_an_unwritable_folder_names_the_path(unwritable_dir, capsys):
    target = unwritable_dir / "zones.png"
    assert main(["zones", "--map", str(target)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert f"cannot write {target}" in err and "--map" in err and err.count("\n") == 0


def test_zones_map_is_written_whole(tmp_path):
    target = tmp_path / "zones.svg"
    assert main(["zones", "--map", str(target)]) == EXIT_OK
    assert target.read_text(encoding="utf-8").rstrip().endswith("</svg>")
    _no_leftovers(tmp_path)


# ---------------------------------------------------------------------------- SIGKILL at any moment


def _env(outputs: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VZMON_", "OPENSKY_"))}
    env.update(VZMON_CONFIG=os.devnull, VZMON_OUTPUTS=str(outputs), VZMON_DB=str(db))
    return env


def _kill_when(argv: list[str], env: dict[str, str], ready: Callable[[], bool]) -> bool:
    """Run vzmon; SIGKILL it as soon as ``ready()`` holds. False when it finished first."""
    proc = subprocess.Popen([str(VZMON), *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None:
            if ready():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            assert time.monotonic() < deadline, "vzmon neither finished nor reached the point to kill it"
            time.sleep(0.002)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _partials(parent: Path) -> list[Path]:
    return [p for p in parent.glob(".*") if ".partial-" in p.name or ".tmp-" in p.name]


def _stage_holds(parent: Path, pattern: str, at_least: int) -> Callable[[], bool]:
    """Whether a folder being written beside the output holds ``at_least`` files matching ``pattern``
    (False while it moves: the writer renames it into place when done)."""

    def ready() -> bool:
        try:
            return any(len(list(p.glob(pattern))) >= at_least for p in _partials(parent) if p.is_dir())
        except OSError:
            return False

    return ready


@pytest.mark.slow
def test_a_killed_parquet_export_leaves_the_previous_complete_export(filled_store, tmp_path):
    env = _env(tmp_path, filled_store)
    out = tmp_path / "positions"
    argv = ["export", "positions", "--format", "parquet", "--out", str(out)]
    assert subprocess.run([str(VZMON), *argv], env=env, capture_output=True).returncode == 0
    complete = _tree(out)
    days = len([p for p in out.iterdir() if p.is_dir()])
    assert days >= 28
    points = [lambda: bool(_partials(tmp_path))] + [
        _stage_holds(tmp_path, "date=*/*.parquet", n) for n in (1, days // 3, days // 2, days - 1)
    ]
    killed = 0
    for ready in points:
        killed += _kill_when(argv, env, ready)
        assert _tree(out) == complete  # the previous export, every byte of it
    assert killed >= 3, "the export finished before most kill points: the test did not test"
    assert subprocess.run([str(VZMON), *argv], env=env, capture_output=True).returncode == 0
    assert _tree(out).keys() == complete.keys()
    _no_leftovers(tmp_path)


def _temp_file_reaches(parent: Path, size: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return any(p.stat().st_size >= size for p in _partials(parent) if p.is_file())
        except OSError:
            return False

    return ready


@pytest.mark.slow
def test_a_killed_csv_export_leaves_the_previous_complete_file(filled_store, tmp_path):
    env = _env(tmp_path, filled_store)
    out = tmp_path / "positions.csv"
    argv = ["export", "positions", "--out", str(out)]
    out.write_text("snapshot_id,time,icao24\n1,2025-11-01T00:00:00Z,abc123\n")  # a previous export (short)
    complete = out.read_bytes()
    killed = 0
    for size in (1, 100_000, 1_000_000):
        killed += _kill_when(argv, env, _temp_file_reaches(tmp_path, size))
        assert out.read_bytes() == complete
    assert killed >= 2


@pytest.mark.slow
def test_a_killed_report_leaves_the_previous_complete_report(demo, tmp_path):
    env = _env(demo, demo / "demo" / "demo.sqlite")
    out = tmp_path / "report"
    argv = ["report", "--event", "trump-post-airspace-closed", "--out", str(out)]
    assert subprocess.run([str(VZMON), *argv], env=env, capture_output=True).returncode == 0
    complete = _tree(out)
    points = [lambda: bool(_partials(tmp_path))] + [_stage_holds(tmp_path, "*.png", n) for n in (1, 3, 5)]
    killed = sum(_kill_when(argv, env, ready) for ready in points)
    assert _tree(out) == complete
    assert killed >= 3


# ---------------------------------------------------------------------------- what a review found


def test_a_folder_with_a_hand_written_report_md_is_not_taken_for_a_report(demo_env, tmp_path, capsys):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "report.md").write_text("# My thesis\n\nChapter 1.\n")
    (thesis / "metrics.csv").write_text("chapter,pages\n1,40\n")
    before = _tree(thesis)
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(thesis)]) == EXIT_USAGE
    assert "holds files vzmon did not write" in capsys.readouterr().err
    assert _tree(thesis) == before


def test_another_dataset_partitioned_by_date_is_not_taken_for_an_export(demo_env, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.dataset as ds

    sales = tmp_path / "sales"
    table = pa.table({"amount": [1.0, 2.0], "date": ["2024-01-01", "2024-01-02"]})
    ds.write_dataset(table, sales, format="parquet", partitioning=["date"], partitioning_flavor="hive")
    before = _tree(sales)
    assert main(_export_positions(sales)) == EXIT_USAGE
    assert "holds files vzmon did not write" in capsys.readouterr().err
    assert _tree(sales) == before


def test_a_file_added_to_vzmon_s_report_folder_is_never_deleted(demo_env, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out)]) == EXIT_OK
    (out / "my-notes.md").write_text("what I saw")
    assert main(["report", "--event", "trump-post-airspace-closed", "--out", str(out), "--days", "5"]) == EXIT_USAGE
    assert "my-notes.md" in capsys.readouterr().err
    assert (out / "my-notes.md").read_text() == "what I saw"


def test_an_output_path_that_is_a_link_is_written_where_it_points(demo_env, tmp_path):
    real = tmp_path / "bigdisk" / "positions"
    span = ["--from", "2025-11-28", "--to", "2025-11-30"]
    assert main(_export_positions(real, *span)) == EXIT_OK
    link = tmp_path / "positions_link"
    link.symlink_to(real, target_is_directory=True)
    assert main(_export_positions(link, "--from", "2025-11-20", "--to", "2025-11-21")) == EXIT_OK
    assert link.is_symlink() and sorted(p.name for p in real.iterdir() if p.is_dir()) == ["date=2025-11-20"]
    _no_leftovers(tmp_path)
    csv = tmp_path / "counts.csv"
    target = tmp_path / "bigdisk" / "counts.csv"
    csv.symlink_to(target)
    assert main(["export", "counts", "--out", str(csv), *span]) == EXIT_OK
    assert csv.is_symlink() and target.read_text().startswith("snapshot_id,time,zone")


def test_export_never_overwrites_a_file_it_did_not_write(demo_env, tmp_path, capsys):
    thesis = tmp_path / "thesis.docx"
    thesis.write_bytes(b"PK\x03\x04 years of work")
    assert main(["export", "polls", "--out", str(thesis)]) == EXIT_USAGE
    assert "exists and vzmon did not write it" in capsys.readouterr().err
    assert thesis.read_bytes() == b"PK\x03\x04 years of work"
    previous = tmp_path / "polls.csv"
    assert main(["export", "polls", "--out", str(previous)]) == EXIT_OK
    assert main(["export", "polls", "--out", str(previous), "--from", "2025-11-29"]) == EXIT_OK  # its own: replaced


def test_zones_map_never_overwrites_an_image_it_did_not_draw(tmp_path, capsys):
    photo = tmp_path / "holiday.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n a photo")
    assert main(["zones", "--map", str(photo)]) == EXIT_USAGE
    assert photo.read_bytes() == b"\x89PNG\r\n\x1a\n a photo"
    ours = tmp_path / "zones.png"
    assert main(["zones", "--map", str(ours)]) == EXIT_OK
    assert main(["zones", "--map", str(ours)]) == EXIT_OK  # a map vzmon drew is redrawn


def test_temporary_files_of_a_killed_export_are_cleaned_up(demo_env, tmp_path):
    out = tmp_path / "counts.csv"
    stale = tmp_path / f".counts.csv.tmp-{_dead_pid()}-abc123"
    stale.write_text("half of an export")
    assert main(["export", "counts", "--out", str(out)]) == EXIT_OK
    assert not stale.exists()
    _no_leftovers(tmp_path)


def test_a_name_with_pattern_characters_touches_only_its_own_working_copies(tmp_path):
    other = tmp_path / ".reports.old-1-abc123"  # another output's working copy
    other.mkdir()
    (other / MARKER).write_text('{"kind": "report"}')
    with staged_folder(tmp_path / "r*", ANY_TXT, "--out") as stage:
        (stage / "a.txt").write_text("x")
    assert other.exists() and not (tmp_path / "reports").exists()


def test_an_empty_range_exports_a_header_not_an_empty_file(demo_env, tmp_path):
    out = tmp_path / "positions.csv"
    assert main(["export", "positions", "--out", str(out), "--from", "2030-01-01", "--to", "2030-01-02"]) == EXIT_OK
    assert out.read_text().startswith("snapshot_id,time,icao24,")


def test_out_as_the_current_folder(demo_env, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(_export_positions(Path("."), "--from", "2025-11-29", "--to", "2025-11-30")) == EXIT_OK
    assert [p.name for p in here.iterdir() if p.is_dir()] == ["date=2025-11-29"]


def _without_root_powers() -> list[str]:
    """A prefix that runs a command as root without the power to ignore file permissions."""
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop root's file-permission override")
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--event", "trump-post-airspace-closed", "--out", "{locked}"],
        ["export", "positions", "--format", "parquet", "--out", "{locked}"],
        ["export", "polls", "--out", "{locked}/x.csv"],
        ["zones", "--map", "{locked}/z.png"],
        ["--db", "{locked}/m.sqlite", "status"],
    ],
    ids=["report", "export-folder", "export-file", "map", "status"],
)
def test_a_folder_without_permission_is_one_line_naming_it(demo, tmp_path, argv):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o000)
    try:
        env = _env(tmp_path / "outputs", demo / "demo" / "demo.sqlite")
        args = [a.format(locked=locked) for a in argv]
        done = subprocess.run(
            [*_without_root_powers(), str(VZMON), *args], env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        locked.chmod(0o755)
    err = done.stderr.strip()
    assert done.returncode in (EXIT_FAILED, EXIT_USAGE), err
    assert "unexpected error" not in err and err.count("\n") == 0 and str(locked) in err
    assert "permission denied" in err.lower()
