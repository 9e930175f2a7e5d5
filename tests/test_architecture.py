"""Imports flow one way: cli -> pipeline -> steps, steps only from earlier steps; geo never imports monitor."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

VOCABULARY = {"errors", "schema", "settings", "outputs"}
# Steps in flow order: a module may import vocabulary and modules of a lower rank only.
RANK = {
    "airlines": 1,
    "airports": 1,
    "opensky": 1,
    "simulate": 2,  # a second source: simulated replies
    "counts": 2,
    "store": 3,
    "events": 4,
    "flights": 5,
    "analysis": 6,
    "maps": 7,
    "charts": 8,
    "report": 9,
    "alerts": 10,
    "notify": 11,
    "pipeline": 20,
    "cli": 21,
    "__main__": 22,
    "__init__": 0,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_geo_imports_nothing_from_monitor():
    for path in (ROOT / "geo").glob("*.py"):
        bad = {m for m in _imports(path) if m == "monitor" or m.startswith("monitor.")}
        assert not bad, f"{path.name} imports {bad}"


MODULES = sorted([*(ROOT / "monitor").glob("*.py"), *(ROOT / "monitor" / "pipeline").glob("*.py")])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT / "monitor")))
def test_monitor_module_imports_only_earlier_steps(path):
    name = "pipeline" if path.parent.name == "pipeline" else path.stem
    targets = {m.split(".")[1] for m in _imports(path) if m.startswith("monitor.") and m.count(".") >= 1}
    targets = {t for t in targets if (ROOT / "monitor" / f"{t}.py").exists() or t == "pipeline"}
    if name == "pipeline":
        targets.discard("pipeline")  # the pipeline's own modules may use each other
    if name in VOCABULARY:
        assert targets <= VOCABULARY, f"{name} imports {targets - VOCABULARY}"
        return
    assert name in RANK, f"monitor/{name}.py has no place in the flow: add it to RANK in this test"
    for t in targets - VOCABULARY:
        assert RANK[t] < RANK[name], f"{name} (rank {RANK[name]}) imports {t} (rank {RANK[t]})"


def test_cli_only_talks_to_the_pipeline():
    targets = {m.split(".")[1] for m in _imports(ROOT / "monitor" / "cli.py") if m.startswith("monitor.")}
    assert targets <= {"pipeline", "errors", "settings"} | {"cli"}, targets


def test_no_module_prints_or_exits_outside_the_cli():
    for path in [*MODULES, *(ROOT / "geo").glob("*.py")]:
        if path.name in ("cli.py", "__main__.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "exit"):
                raise AssertionError(f"{path.name}:{node.lineno} calls {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr == "argv":
                raise AssertionError(f"{path.name}:{node.lineno} reads sys.argv")


def test_every_module_starts_with_a_docstring():
    for path in [*MODULES, *(ROOT / "geo").glob("*.py")]:
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), path
