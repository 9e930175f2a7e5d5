"""The layout holds: layers checked by import-linter (pyproject.toml), no printing outside ``cli``,
a docstring on every module, ``__init__`` files that do no work, and modules of a sane size."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODULES = sorted(p for top in ("monitor", "geo") for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_layers_hold():
    """cli > pipeline > (report | alerts | combine) > ingest > (analysis | store) > sources > geo > vocabulary,
    report and alerts independent, geo independent of monitor: import-linter's contracts."""
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_module_prints_or_exits_outside_the_cli(path):
    if path.parts[-2] == "cli" or path.name == "__main__.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("print", "exit"):
            raise AssertionError(f"{_rel(path)}:{node.lineno} calls {node.func.id}()")
        if isinstance(node, ast.Attribute) and node.attr == "argv":
            raise AssertionError(f"{_rel(path)}:{node.lineno} reads sys.argv")


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_every_module_starts_with_a_docstring(path):
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), _rel(path)


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "__init__.py"], ids=_rel)
def test_package_inits_do_no_work(path):
    """An ``__init__`` has its docstring, ``__all__`` and at most constants: importing a package loads
    nothing else, so each command imports only what it uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body[1:]:
        if path.parent.name == "cli" and isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
            continue  # the cli package's __init__ is the entry point (main), not a container
        ok = isinstance(node, ast.Assign | ast.AnnAssign) or (
            isinstance(node, ast.ImportFrom) and node.module == "__future__"
        )
        assert ok, f"{_rel(path)}:{node.lineno} does work at import"


# Long by nature, with one job: the table of every setting (one declaration each, with its meaning).
ONE_JOB_TABLES: set[str] = set()


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_module_grows_past_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 400 or _rel(path) in ONE_JOB_TABLES, f"{_rel(path)} has {lines} lines: split it by job"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_module_imports_another_modules_internals(path):
    """``from monitor.x import _y`` reaches into x's internals: use (or add) a public name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("monitor", "geo")):
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            assert not private, f"{_rel(path)}:{node.lineno} imports {private} from {node.module}"
