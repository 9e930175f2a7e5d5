"""The package as users install it: every module folder is in the wheel, with the data it reads."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def _listed() -> set[str]:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(doc["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_listed_for_the_wheel():
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("monitor", "geo")
        for p in (ROOT / top).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert folders <= _listed(), f"add to [tool.setuptools] packages in pyproject.toml: {sorted(folders - _listed())}"


def test_the_default_events_and_zones_ship_inside_the_packages():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = doc["tool"]["setuptools"]
    assert setuptools["package-dir"]["monitor.config"] == "config"
    assert "*.toml" in setuptools["package-data"]["monitor.config"]
    assert (ROOT / "config" / "events.toml").is_file()
    assert "*.geojson" in setuptools["package-data"]["geo.data"]


def test_the_version_is_written_once():
    from monitor import __version__

    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in doc["project"]["dynamic"] and "version" not in doc["project"]
    assert doc["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "monitor.__version__"}
    assert __version__.count(".") == 2
