"""``vzmon zones``: the table, JSON, the map file, and bad zone settings."""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import pytest

from monitor.cli import EXIT_OK, EXIT_USAGE, main


def test_zones_prints_area_bbox_and_polling_box(capsys):
    assert main(["zones"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "SVZM  Maiquetía FIR: 1,205,869 km² (geodesic, WGS 84), lon -73.39…-59.82, lat 0.65…15.68" in out
    for code in ("ring:SKED", "ring:TNCF", "ring:TJZS", "ring:TTZP", "ring:SYGC", "ring:SBAZ"):
        assert code in out
    assert "polling box: lamin=-1.36 lomin=-75.42 lamax=17.7 lomax=-57.8  (335.8 sq°, 3 credits" in out


def test_zones_json_lists_every_zone(capsys):
    assert main(["zones", "--json"]) == EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert [z["code"] for z in doc["zones"]] == [
        "SVZM",
        *(f"ring:{c}" for c in ("SKED", "TNCF", "TJZS", "TTZP", "SYGC", "SBAZ")),
    ]
    assert doc["polling_box"]["credits_per_poll"] == 3
    assert list(doc["polling_box"])[:4] == ["lamin", "lomin", "lamax", "lomax"]
    assert doc["warning"] is None


def test_wide_ring_warns_about_the_credit_step(monkeypatch, capsys):
    monkeypatch.setenv("VZMON_ZONES_RING_NM", "250")
    assert main(["zones"]) == EXIT_OK
    assert "warning: the 250 NM ring makes the polling box" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_zones_map_is_written(tmp_path, capsys, suffix):
    path = tmp_path / "maps" / f"zones.{suffix}"
    assert main(["zones", "--map", str(path)]) == EXIT_OK
    assert path.stat().st_size > 50_000
    assert f"map written: {path}" in capsys.readouterr().out
    if suffix == "png":
        height, width = mpimg.imread(path).shape[:2]
        assert width > 1500 and height > 1200
    else:
        text = path.read_text(encoding="utf-8")
        assert "ring:TNCF" in text and "Natural Earth" in text


def test_bad_zone_file_setting_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "zones.geojson"
    bad.write_text("{oops")
    monkeypatch.setenv("VZMON_ZONES_EXTRA_FILE", str(bad))
    monkeypatch.setenv("VZMON_ZONES_EXTRA_VALUES", "A")
    assert main(["zones"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not JSON" in err and str(bad) in err
