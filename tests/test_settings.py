"""Settings: precedence flag > env > file > default, paths relative to the file, secrets from env only."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from pathlib import Path

import pytest

from monitor.errors import ConfigError
from monitor.settings.load import load_settings
from monitor.settings.secret import Secret
from monitor.settings.table import DEFAULT_API_URL, DEFAULT_TOKEN_URL, SPECS, Settings
from tests.conftest import ROOT


def _config(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / "conf" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_real_opensky_endpoints(tmp_path):
    s = load_settings(_config(tmp_path, ""), env={})
    assert s.opensky_api_url == DEFAULT_API_URL == "https://opensky-network.org/api"
    assert s.opensky_token_url == DEFAULT_TOKEN_URL
    assert DEFAULT_TOKEN_URL.startswith("https://auth.opensky-network.org/auth/realms/opensky-network/")
    assert s.zones_ring_nm == 120.0 and s.account_type == "anonymous" and not s.authenticated


def test_flag_beats_env_beats_file_beats_default(tmp_path):
    cfg = _config(tmp_path, '[store]\ndb = "file.sqlite"\n[zones]\nring_nm = 60\n[watch]\ninterval_s = 30\n')
    env = {"VZMON_DB": "/env/env.sqlite", "VZMON_WATCH_INTERVAL_S": "45"}
    s = load_settings(cfg, {"store.db": "/flag/flag.sqlite"}, env=env)
    assert s.store_db == Path("/flag/flag.sqlite")  # flag
    assert s.watch_interval_s == 45.0  # env over file
    assert s.zones_ring_nm == 60.0  # file over default
    assert s.opensky_retries == 3  # default
    s = load_settings(cfg, env={})
    assert s.store_db == cfg.parent / "file.sqlite"
    assert s.watch_interval_s == 30.0


def test_relative_paths_in_the_file_resolve_against_its_folder(tmp_path, monkeypatch):
    cfg = _config(tmp_path, '[store]\noutputs_dir = "../out"\ndb = "data/m.sqlite"\n')
    monkeypatch.chdir("/")
    s = load_settings(cfg, env={})
    assert s.store_outputs_dir == (tmp_path / "out").resolve()
    assert s.store_db == (cfg.parent / "data" / "m.sqlite").resolve()


def test_relative_path_from_env_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(_config(tmp_path, ""), env={"VZMON_DB": "here.sqlite"})
    assert s.store_db == tmp_path / "here.sqlite"


def test_config_file_comes_from_vzmon_config(tmp_path):
    cfg = _config(tmp_path, "[zones]\nring_nm = 30\n")
    assert load_settings(env={"VZMON_CONFIG": str(cfg)}).zones_ring_nm == 30.0


def test_missing_config_file_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="VZMON_CONFIG"):
        load_settings(env={"VZMON_CONFIG": str(tmp_path / "nope.toml")})
    with pytest.raises(ConfigError, match="--config"):
        load_settings(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[zones]\nring_nm = 'wide'\n", "zones.ring_nm"),
        ("[zones]\nring_nm = 900\n", "zones.ring_nm"),
        ("[opensky]\nretries = 2.5\n", "opensky.retries"),
        ("[opensky]\naccount = 'gold'\n", "opensky.account"),
        ("[opensky]\napi_url = 'ftp://x'\n", "opensky.api_url"),
        ("[zones]\nringnm = 100\n", "zones.ringnm"),
        ("[opensky]\nclient_secret = 'x'\n", "opensky.client_secret"),
        ("zones = 3\n", "zones"),
        ("[report]\nbaseline_weeks = 1\n", "report.baseline_weeks"),
    ],
    ids=[
        "not-a-number",
        "out-of-range",
        "not-whole",
        "bad-choice",
        "bad-url",
        "unknown-key",
        "secret-in-file",
        "not-a-table",
        "one-baseline-week",
    ],
)
def test_bad_settings_file_error_names_the_key(tmp_path, text, key):
    cfg = _config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert info.value.key == key
    assert key in str(info.value) and "\n" not in str(info.value)


def test_invalid_toml_names_the_file(tmp_path):
    cfg = _config(tmp_path, "[zones\nring_nm = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_settings(cfg, env={})
    assert str(cfg) in str(info.value)


def test_a_settings_file_that_is_not_utf8_names_the_file(tmp_path):
    cfg = tmp_path / "settings.toml"
    cfg.write_bytes('[alerts]\nemail_from = "Sé <a@example.org>"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_settings(cfg, env={})
    assert str(cfg) in str(info.value)


def test_bad_env_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="VZMON_ZONES_RING_NM"):
        load_settings(_config(tmp_path, ""), env={"VZMON_ZONES_RING_NM": "lots"})


def test_credentials_from_env_and_secret_never_shown(tmp_path):
    env = {"OPENSKY_CLIENT_ID": "me-api-client", "OPENSKY_CLIENT_SECRET": "topsecret"}
    s = load_settings(_config(tmp_path, ""), env=env)
    assert s.authenticated and s.account_type == "standard"
    assert s.opensky_client_secret == Secret("topsecret")
    assert "topsecret" not in repr(s) and "topsecret" not in str(s.opensky_client_secret)


def test_credentials_json_from_the_account_page(tmp_path):
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"clientId": "me-api-client", "clientSecret": "topsecret"}))
    s = load_settings(_config(tmp_path, ""), env={"OPENSKY_CREDENTIALS": str(creds)})
    assert s.opensky_client_id == "me-api-client"
    assert s.opensky_client_secret is not None and s.opensky_client_secret.reveal() == "topsecret"


@pytest.mark.parametrize(
    "content", ["{", '{"client_id": "a", "client_secret": "b"}', '{"clientId": "", "clientSecret": 1}']
)
def test_bad_credentials_json_names_the_variable(tmp_path, content):
    creds = tmp_path / "credentials.json"
    creds.write_text(content)
    with pytest.raises(ConfigError, match="OPENSKY_CREDENTIALS") as info:
        load_settings(_config(tmp_path, ""), env={"OPENSKY_CREDENTIALS": str(creds)})
    assert "clientId and clientSecret" in str(info.value)


def test_half_set_credentials_name_the_missing_variable(tmp_path):
    with pytest.raises(ConfigError, match="OPENSKY_CLIENT_SECRET"):
        load_settings(_config(tmp_path, ""), env={"OPENSKY_CLIENT_ID": "me"})


def test_extra_zone_file_without_values_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"zones\.extra_values"):
        load_settings(_config(tmp_path, '[zones]\nextra_file = "x.geojson"\n'), env={})


def test_every_settings_field_is_a_declared_setting():
    fields = {f.name for f in dataclasses.fields(Settings)} - {"config_path"}
    assert {s.field for s in SPECS} == fields


def test_shipped_settings_file_documents_every_setting_with_its_default():
    text = (ROOT / "config" / "settings.toml").read_text(encoding="utf-8")
    tomllib.loads(text)  # valid TOML as shipped
    sections: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]", line):
            current = m.group(1)
        elif m := re.match(r"^# (\w+) = (.*)$", line):
            sections[f"{current}.{m.group(1)}"] = m.group(2)
    for spec in SPECS:
        if spec.secret:
            assert spec.env_name in text, spec.key
            continue
        assert spec.key in sections, f"{spec.key} missing from config/settings.toml"
        short = spec.env_name.removeprefix("VZMON_ALERTS")
        assert spec.env_name in text or (short != spec.env_name and short in text), spec.env_name
        shown = tomllib.loads(f"v = {sections[spec.key]}")["v"]
        if spec.default is None or spec.is_path:
            continue
        assert spec.parse(shown) == spec.default, spec.key


def test_every_form_a_server_may_echo_a_secret_in_is_redacted(tmp_path):
    secret = "s3cr3t/v@lue+&=~ñ"
    hook = "https://hooks.slack.com/services/T0000A1B2/B0000C3D4/XXSECRETTOKENXX"
    env = {"OPENSKY_CLIENT_ID": "me-api-client", "OPENSKY_CLIENT_SECRET": secret, "VZMON_WEBHOOK_URL": hook}
    s = load_settings(_config(tmp_path, ""), env=env)
    from urllib.parse import quote, quote_plus

    forms = [
        secret,
        quote(secret, safe=""),
        quote(secret, safe="").lower(),
        quote(secret, safe="~").replace("~", "%7E"),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        json.dumps(hook)[1:-1].replace("/", "\\/"),
        "XXSECRETTOKENXX",
        "B0000C3D4/XXSECRETTOKENXX",
    ]
    for form in forms:
        text = f"server said: {form} (end)"
        assert s.redact(text) != text and form not in s.redact(text), form
