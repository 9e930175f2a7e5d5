"""README's settings table, generated from the declarations (``tests/test_docs.py`` keeps README in
step; ``scripts/readme_settings.py`` rewrites it)."""

from __future__ import annotations

from monitor.settings.table import SPECS

__all__ = ["settings_table_markdown"]


def settings_table_markdown() -> str:
    """README's settings table, generated from ``SPECS``."""
    rows = ["| setting (`settings.toml`) | environment variable | default | meaning |", "|---|---|---|---|"]
    for spec in SPECS:
        default = spec.default
        if spec.shown_default:
            shown = spec.shown_default
        elif default is None or default == "" or default == ():
            shown = "(none)"
        else:
            shown = f"`{default}`"
        key = f"`{spec.key}`" + (" (env only)" if spec.secret else "")
        rows.append(f"| {key} | `{spec.env_name}` | {shown} | {spec.help} |")
    rows.append(
        "| (settings file) | `VZMON_CONFIG` | `config/settings.toml` of the checkout | "
        "Settings file to read; `--config` overrides it. |"
    )
    return "\n".join(rows)
