"""The TOML files users edit (settings, events, checks) read with one set of errors.

Place in the flow: shared vocabulary; ``settings.load``, ``events`` and ``checks`` read their file
through :func:`read_toml`. Each failure is a :class:`ConfigError` naming the file and the fix.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

__all__ = ["read_toml"]


def read_toml(path: Path, what: str, setting: str, env: str) -> dict[str, Any]:
    """The document of the ``what`` (e.g. "events file") at ``path``; ``setting`` and ``env`` name
    where the path comes from, for the fix. Raises ConfigError when it is missing, unreadable, not
    UTF-8 or not valid TOML."""
    where = f"{setting} ({env})"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found; set {where}", key=setting) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}", key=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text; save it as UTF-8", key=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} {path}: {exc.strerror}; fix {where}", key=setting) from None
