"""Regenerate the settings table in README.md from monitor.settings (tests/test_docs.py checks it)."""

from __future__ import annotations

from pathlib import Path

from monitor.settings.readme import settings_table_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split("<!-- settings-table", 1)
    marker, after = rest.split("-->", 1)
    _, tail = after.split("<!-- /settings-table -->", 1)
    table = settings_table_markdown().strip()
    new = f"{head}<!-- settings-table{marker}-->\n{table}\n<!-- /settings-table -->{tail}"
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
