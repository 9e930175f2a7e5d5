"""README stays true: quick start, every command, exit codes and the settings table."""

from __future__ import annotations

import re

import pytest

from monitor import cli
from monitor.settings.readme import settings_table_markdown
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return list(sub.choices)


def test_quick_start_has_exactly_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    commands = [line for b in blocks for line in b.strip().splitlines()]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/vzmon collect",
        "./scripts/check",
    ]


def test_ci_runs_the_readme_test_command():
    assert "exec ./scripts/check" in (ROOT / ".ci" / "run").read_text()
    assert "CI_REQUIRE_CHROMIUM=1" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_and_is_in_the_readme(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out  # runnable examples in the epilog
    assert f"`vzmon {command}`" in README


def test_exit_codes_in_readme_match_the_cli():
    table = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert codes == {cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_LOCKED, cli.EXIT_TEMPFAIL}
    assert "exit codes:" in cli.EPILOG


def test_readme_settings_table_is_generated_from_the_specs():
    block = README.split("<!-- settings-table", 1)[1].split("-->", 1)[1].split("<!-- /settings-table -->")[0]
    assert block.strip() == settings_table_markdown().strip(), (
        "README settings table is stale; regenerate it with: .venv/bin/python scripts/readme_settings.py"
    )


def test_changelog_exists_with_an_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text or re.search(r"## \[\d+\.\d+\.\d+\]", text)


def test_every_dependency_is_explained_in_the_readme():
    """A library in pyproject.toml (runtime or tests) has a row saying why it is there."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    names = {re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower() for req in wanted}
    section = README.split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    explained = {
        name.strip().lower()
        for row in section.splitlines()
        if row.startswith("| ") and not row.startswith("| library")
        for name in re.sub(r"\(.*?\)", "", row.split("|")[1]).split(",")
    }
    assert names - explained == set(), "add a row to README's Dependencies table"


def test_readme_states_how_many_tests_share_the_false_alarm_budget():
    """The README's account of the drop test names the number of tests the budget is split over."""
    from monitor.alerts.detect import DROP_TESTS

    text = " ".join(README.split())
    assert f"The false-alarm budget is shared by the {DROP_TESTS} tests" in text
