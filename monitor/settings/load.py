"""Loading the settings: flags, environment, settings file and defaults, in that order; the only
reader of ``os.environ`` and of settings and credentials files.

Place in the flow: ``cli`` calls :func:`load_settings` once and passes the frozen ``Settings``
down. Relative paths written in a settings file resolve against that file's folder, so cron (cwd
``/``) finds the same files as an interactive shell; relative paths from flags or environment
variables resolve against the working directory. Secrets come only from the environment or the
OpenSky ``credentials.json``; a settings file that sets one is rejected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.settings.secret import Secret
from monitor.settings.table import (
    PROJECT_ROOT,
    SPEC_BY_KEY,
    SPECS,
    Settings,
    default_outputs,
    shipped_config,
)
from monitor.tomlfile import read_toml

__all__ = ["load_settings"]


def _find_config(flag: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if flag:
        path = Path(flag).expanduser().resolve()
        if not path.exists() or path.is_dir():
            raise ConfigError(f"settings file {path} not found; fix --config", key="--config")
        return path
    if env.get("VZMON_CONFIG"):
        path = Path(env["VZMON_CONFIG"]).expanduser().resolve()
        if not path.exists() or path.is_dir():  # /dev/null is fine: no settings file
            raise ConfigError(f"settings file {path} not found; fix VZMON_CONFIG", key="VZMON_CONFIG")
        return path
    default = PROJECT_ROOT / "config" / "settings.toml"
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    doc = read_toml(path, "settings file", "--config", "VZMON_CONFIG")
    flat: dict[str, Any] = {}
    for section, table in doc.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: top-level key {section!r} must be a [section] table", key=section)
        for name, value in table.items():
            key = f"{section}.{name}"
            if key not in SPEC_BY_KEY:
                known = ", ".join(s.key for s in SPECS if s.key.startswith(section + ".")) or "none"
                raise ConfigError(f"{path}: unknown setting {key} (known in [{section}]: {known})", key=key)
            if SPEC_BY_KEY[key].secret:
                raise ConfigError(
                    f"{path}: {key} is a secret; set it in the environment as {SPEC_BY_KEY[key].env_name}", key=key
                )
            flat[key] = value
    return flat


def _read_credentials(path: Path) -> tuple[str, str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        client_id, secret = doc["clientId"], doc["clientSecret"]
        if not (isinstance(client_id, str) and isinstance(secret, str) and client_id and secret):
            raise TypeError
    except FileNotFoundError:
        raise ConfigError(
            f"OpenSky credentials file {path} not found; fix OPENSKY_CREDENTIALS", key="OPENSKY_CREDENTIALS"
        ) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"OpenSky credentials file {path} (OPENSKY_CREDENTIALS) must be JSON with string keys clientId and "
            "clientSecret (download it again from the OpenSky account page)",
            key="OPENSKY_CREDENTIALS",
        ) from None
    return client_id, secret


def load_settings(
    config: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting. ``overrides`` maps ``section.key`` to command-line values.

    Raises :class:`ConfigError` naming the setting (and where its bad value came from).
    """
    env = os.environ if env is None else env
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    config_path = _find_config(config, env)
    from_file = _read_toml(config_path) if config_path else {}
    values: dict[str, Any] = {}
    for spec in SPECS:
        if spec.key in overrides:
            raw, origin, base = overrides[spec.key], f"flag for {spec.key}", Path.cwd()
        elif env.get(spec.env_name, "") != "":
            raw, origin, base = env[spec.env_name], f"environment variable {spec.env_name}", Path.cwd()
        elif spec.key in from_file:
            raw, origin = from_file[spec.key], f"{spec.key} in {config_path}"
            base = config_path.parent if config_path else Path.cwd()
        else:
            values[spec.field] = spec.default
            continue
        try:
            value = spec.parse(raw)
        except ValueError as exc:
            why = f"{str(exc).split(', got ')[0]} (the value is not shown: it is a secret)" if spec.secret else str(exc)
            raise ConfigError(f"bad value for {origin}: {why}", key=spec.key) from None
        if spec.is_path and value is not None and not value.is_absolute():
            value = (base / value).resolve()
        values[spec.field] = value

    outputs = values["store_outputs_dir"] or default_outputs()
    if outputs.exists() and not outputs.is_dir():
        raise ConfigError(
            f"store.outputs_dir (VZMON_OUTPUTS) is {outputs}, which is a file; set it to a folder",
            key="store.outputs_dir",
        )
    values["store_outputs_dir"] = outputs
    values["store_db"] = values["store_db"] or outputs / "monitor.sqlite"
    values["demo_db"] = values["demo_db"] or outputs / "demo" / "demo.sqlite"
    values["alerts_jsonl_file"] = values["alerts_jsonl_file"] or outputs / "alerts.jsonl"
    for key in ("alerts_webhook_url", "alerts_smtp_password"):
        values[key] = Secret(values[key]) if values[key] else None
    channels = values["alerts_channels"]
    if "webhook" in channels and values["alerts_webhook_url"] is None:
        raise ConfigError("alerts.channels has webhook but VZMON_WEBHOOK_URL is not set", key="VZMON_WEBHOOK_URL")
    if "email" in channels:
        for key, name in (
            ("alerts_smtp_host", "alerts.smtp_host"),
            ("alerts_email_from", "alerts.email_from"),
            ("alerts_email_to", "alerts.email_to"),
        ):
            if not values[key]:
                raise ConfigError(f"alerts.channels has email but {name} is empty; set it", key=name)
    for key, name in (("events_file", "events.toml"), ("checks_file", "checks.toml")):
        if values[key] is None:  # beside the settings file, else the one vzmon ships
            beside = config_path.parent / name if config_path else None
            values[key] = beside if beside and beside.is_file() else shipped_config(name)

    client_id, secret = values.pop("opensky_client_id"), values.pop("opensky_client_secret")
    if values["opensky_credentials"] is not None and not (client_id or secret):
        client_id, secret = _read_credentials(values["opensky_credentials"])
    if bool(client_id) != bool(secret):
        missing = "OPENSKY_CLIENT_SECRET" if client_id else "OPENSKY_CLIENT_ID"
        raise ConfigError(f"OpenSky credentials are half set: set {missing} too, or neither", key=missing)
    if values["zones_fir_file"] is not None and not values["zones_fir_value"]:
        raise ConfigError(
            "zones.fir_file is set but zones.fir_value is empty; name the FIR feature to use", key="zones.fir_value"
        )
    if values["zones_extra_file"] is not None and not values["zones_extra_values"]:
        raise ConfigError(
            "zones.extra_file is set but zones.extra_values is empty; list the features to load",
            key="zones.extra_values",
        )
    return Settings(
        config_path=config_path,
        opensky_client_id=client_id or None,
        opensky_client_secret=Secret(secret) if secret else None,
        **values,
    )
