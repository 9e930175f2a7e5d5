"""Settings: every knob, its default, env var and meaning; the only reader of env and settings files.

Place in the flow: ``cli`` calls :func:`load_settings` once and passes the frozen :class:`Settings`
down as an argument. No other module reads ``os.environ`` or a settings file.

Precedence, highest first: command-line flag > environment variable > settings file > default.
The settings file is ``--config``, else ``$VZMON_CONFIG``, else ``config/settings.toml`` of the
source checkout when the package runs from one. Relative paths written in a settings file resolve
against that file's folder, so cron (cwd ``/``) finds the same files as an interactive shell;
relative paths from flags or env vars resolve against the working directory.

Secrets (the OpenSky client id/secret, SMTP password, webhook URLs) come only from environment
variables or the OpenSky ``credentials.json``; a settings file that sets one is rejected. They are
held in :class:`Secret`, whose repr never shows the value.

Each setting is declared once, as a field of :class:`Settings` (``setting(...)``: type, default,
parser, meaning, environment variable); ``SPECS`` is read from those fields. README's settings
table is generated from ``SPECS`` by :func:`settings_table_markdown`, and ``tests/test_docs.py``
keeps the two in step.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from monitor.errors import ConfigError

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URL",
    "SPECS",
    "Secret",
    "Settings",
    "Spec",
    "load_settings",
    "settings_table_markdown",
]

DEFAULT_API_URL = "https://opensky-network.org/api"
DEFAULT_TOKEN_URL = "https://auth.opensky-network.org/auth/realms/opensky-network/protocol/openid-connect/token"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_TYPES = ("auto", "anonymous", "standard", "feeder")
CHANNELS = ("log", "jsonl", "webhook", "email")
WEBHOOK_FORMATS = ("json", "slack", "discord", "ntfy")
SMTP_SECURITY = ("starttls", "tls", "none")
REDACTED = "<redacted>"
MIN_SECRET_LEN = 4  # shorter values would garble every message they were removed from
MIN_TOKEN_SEGMENT = 8  # a webhook path segment this long may be a token on its own (Slack's T.../B.../...)


class Secret:
    """A secret string whose repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _default_outputs() -> Path:
    """``outputs/`` of the source checkout, else the XDG data folder (``~/.local/share/vzmon``)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "outputs"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vzmon"


# ---- value parsers: raw value (TOML value or env string) -> typed value, ValueError on bad input


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r}")
    return v.strip()


def _url(v: Any) -> str:
    s = _str(v).rstrip("/")
    if not s.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL, got {s!r}")
    try:
        parts = urlsplit(s)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in 0-65535)
    except ValueError as exc:
        raise ValueError(f"expected an http(s) URL ({exc}), got {s!r}") from None
    if not parts.hostname or any(c.isspace() or not c.isprintable() for c in s) or not _valid_host(parts.hostname):
        raise ValueError(f"expected an http(s) URL with a valid host name, got {s!r}")
    return s


_HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def _valid_host(host: str) -> bool:
    """A host name an HTTP client can connect to: an IP address, or dot-separated labels of 1 to 63
    letters, digits, hyphens (not at the ends) or underscores, 253 characters at most (in IDNA)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _float_range(lo: float, hi: float, lo_open: bool = False) -> Callable[[Any], float]:
    def parse(v: Any) -> float:
        if isinstance(v, bool):
            raise ValueError(f"expected a number, got {v!r}")
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {v!r}") from None
        if not (lo < x if lo_open else lo <= x) or x > hi:
            bracket = "(" if lo_open else "["
            raise ValueError(f"{x:g} is outside {bracket}{lo:g}, {hi:g}]")
        return x

    return parse


def _int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(v: Any) -> int:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError(f"expected a whole number, got {v!r}")
        try:
            x = int(v)
        except (TypeError, ValueError):
            raise ValueError(f"expected a whole number, got {v!r}") from None
        if not lo <= x <= hi:
            raise ValueError(f"{x} is outside [{lo}, {hi}]")
        return x

    return parse


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        s = _str(v).lower()
        if s not in options:
            raise ValueError(f"{s!r} is not one of {', '.join(options)}")
        return s

    return parse


def _str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        items = [p.strip() for p in v.split(",")]
    elif isinstance(v, list) and all(isinstance(p, str) for p in v):
        items = [p.strip() for p in v]
    else:
        raise ValueError(f"expected a list of strings, got {v!r}")
    return tuple(p for p in items if p)


def _path(v: Any) -> Path | None:
    s = _str(v)
    return Path(s).expanduser() if s else None


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return v.strip().lower() in ("1", "true", "yes", "on")
    raise ValueError(f"expected true or false, got {v!r}")


def _channels(v: Any) -> tuple[str, ...]:
    items = _str_list(v)
    bad = [c for c in items if c not in CHANNELS]
    if bad:
        raise ValueError(f"unknown channel(s) {', '.join(bad)}; use {', '.join(CHANNELS)}")
    return tuple(dict.fromkeys(items))


def _zone_rules(v: Any) -> dict[str, dict[str, Any]]:
    """Per-zone alert rules: a TOML table (or JSON in the env var) of zone -> {drop_fraction, consecutive,
    min_expected, enabled}."""
    if isinstance(v, str):
        try:
            v = json.loads(v) if v.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValueError(f'expected JSON like {{"ring:TJZS": {{"enabled": false}}}}: {exc.msg}') from None
    if not isinstance(v, dict):
        raise ValueError(f"expected a table of zone -> rules, got {v!r}")
    parsers = {
        "drop_fraction": _float_range(0.0, 1.0, lo_open=True),
        "consecutive": _int_range(1, 100),
        "min_expected": _float_range(0.0, 10_000),
        "enabled": _bool,
    }
    out: dict[str, dict[str, Any]] = {}
    for zone, rules in v.items():
        if not isinstance(rules, dict):
            raise ValueError(f"rules for {zone} must be a table, got {rules!r}")
        unknown = set(rules) - set(parsers)
        if unknown:
            raise ValueError(f"unknown rule(s) {', '.join(sorted(unknown))} for {zone}; known: {', '.join(parsers)}")
        out[str(zone)] = {k: parsers[k](x) for k, x in rules.items()}
    return out


def _lower_escapes(text: str) -> str:
    """``text`` with its %XX escapes in lower-case hex (servers echo either)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def _level(v: Any) -> str:
    return _choice("debug", "info", "warning", "error")(v).upper()


@dataclass(frozen=True)
class Spec:
    """One setting: TOML ``section.key``, default, env var, parser and meaning."""

    key: str
    default: Any
    parse: Callable[[Any], Any]
    help: str
    env: str = ""
    is_path: bool = False
    secret: bool = False  # env only, never from a settings file
    shown_default: str = ""  # how README shows a default that is computed

    @property
    def field(self) -> str:
        return self.key.replace(".", "_")

    @property
    def env_name(self) -> str:
        return self.env or "VZMON_" + self.field.upper()


SPEC = "vzmon.setting"  # the dataclass field metadata key that holds a setting's declaration


def setting(
    default: Any,
    parse: Callable[[Any], Any],
    help: str,
    *,
    env: str = "",
    is_path: bool = False,
    secret: bool = False,
    shown_default: str = "",
) -> Any:
    """Declare one :class:`Settings` field as a setting: its default, the parser of a raw value
    (TOML value or env string; ValueError on bad input), its meaning and how it is set. ``secret``:
    environment only, never in a settings file, never in a repr."""
    declared = {
        "default": default,
        "parse": parse,
        "help": help,
        "env": env,
        "is_path": is_path,
        "secret": secret,
        "shown_default": shown_default,
    }
    return field(metadata={SPEC: declared}, repr=not secret)


def _spec(f: Field[Any]) -> Spec:
    section, _, name = f.name.partition("_")
    return Spec(key=f"{section}.{name}", **f.metadata[SPEC])


@dataclass(frozen=True)
class Settings:
    """Every setting, resolved and validated; paths are absolute. Each field is declared once, here:
    its type, default, parser, meaning and environment variable (``setting(...)``); the TOML key is
    the field name with the first ``_`` as the dot (``opensky_api_url`` is ``opensky.api_url``)."""

    config_path: Path | None
    store_outputs_dir: Path = setting(
        None,
        _path,
        "Folder for charts, reports and exports (and the store by default).",
        env="VZMON_OUTPUTS",
        is_path=True,
        shown_default="`outputs/` of the checkout, else `~/.local/share/vzmon`",
    )
    store_db: Path = setting(
        None, _path, "The SQLite store.", env="VZMON_DB", is_path=True, shown_default="`<outputs_dir>/monitor.sqlite`"
    )
    opensky_api_url: str = setting(DEFAULT_API_URL, _url, "OpenSky REST root.", env="OPENSKY_API_URL")
    opensky_token_url: str = setting(DEFAULT_TOKEN_URL, _url, "OpenSky OAuth2 token endpoint.", env="OPENSKY_TOKEN_URL")
    opensky_client_id: str | None = setting(
        None, _str, "OAuth2 API client id (env only).", env="OPENSKY_CLIENT_ID", secret=True
    )
    opensky_client_secret: Secret | None = setting(
        None, _str, "OAuth2 API client secret (env only).", env="OPENSKY_CLIENT_SECRET", secret=True
    )
    opensky_credentials: Path | None = setting(
        None,
        _path,
        "`credentials.json` from the OpenSky account page (keys `clientId`, `clientSecret`).",
        env="OPENSKY_CREDENTIALS",
        is_path=True,
    )
    opensky_account: str = setting(
        "auto",
        _choice(*ACCOUNT_TYPES),
        "Credit tier: `anonymous` 400/day, `standard` 4000, `feeder` 8000; `auto` = standard with credentials.",
    )
    opensky_daily_credits: int = setting(0, _int_range(0, 1_000_000), "Daily credit budget; 0 = the account tier's.")
    opensky_budget_share: float = setting(
        0.9, _float_range(0.05, 1.0), "Share of the daily credits `watch` plans to spend (the rest is headroom)."
    )
    opensky_connect_timeout_s: float = setting(10.0, _float_range(0.1, 300), "TCP connect timeout, seconds.")
    opensky_read_timeout_s: float = setting(30.0, _float_range(0.1, 600), "Read timeout per response, seconds.")
    opensky_retries: int = setting(3, _int_range(0, 10), "Retries after a connection error or 5xx, per poll.")
    opensky_backoff_s: float = setting(2.0, _float_range(0, 120), "First retry wait, seconds; doubles each retry.")
    opensky_max_poll_s: float = setting(
        150.0,
        _float_range(5, 3600),
        "A poll (token, request, retries, reading the answer) gives up after this many seconds: a gap.",
    )
    opensky_stale_after_s: int = setting(
        15,
        _int_range(1, 3600),
        "A position older than this at the response `time` is flagged `stale` (kept, not dropped).",
    )
    zones_ring_nm: float = setting(120.0, _float_range(0, 300), "Width of the ring around the FIR, NM; 0 = no ring.")
    zones_fir_file: Path | None = setting(
        None, _path, "GeoJSON to take the FIR from instead of the built-in SVZM.", is_path=True
    )
    zones_fir_property: str = setting("id", _str, "Feature property that selects the FIR in `fir_file`.")
    zones_fir_value: str = setting("", _str, "Value of `fir_property` of the FIR feature.")
    zones_extra_file: Path | None = setting(
        None, _path, "GeoJSON with further zones, counted after the FIR and ring.", is_path=True
    )
    zones_extra_property: str = setting("id", _str, "Feature property that selects zones in `extra_file`.")
    zones_extra_values: tuple[str, ...] = setting(
        (), _str_list, "Values of `extra_property` to load as zones (comma list in env)."
    )
    watch_interval_s: float = setting(
        0.0,
        _float_range(0, 86_400),
        "Seconds between `watch` polls; 0 = the shortest the daily credit budget sustains.",
    )
    events_file: Path = setting(
        None,
        _path,
        "Events to compare around (`vzmon events`, `vzmon report --event`).",
        is_path=True,
        shown_default="`events.toml` beside the settings file, else the shipped `config/events.toml`",
    )
    report_window_days: float = setting(7.0, _float_range(0.25, 120), "Days on each side of an event, before cuts.")
    report_min_coverage: float = setting(
        0.5,
        _float_range(0.0, 1.0),
        "An hour counts when at least this share of its expected polls succeeded; others are gaps.",
    )
    report_min_days: float = setting(
        2.0, _float_range(0.5, 60), "Days of usable matched hours (hours / 24) each side needs for a verdict."
    )
    report_interval_s: float = setting(
        0.0,
        _float_range(0, 86_400),
        "Expected seconds between polls, for coverage; 0 = the median spacing of recorded polls.",
    )
    demo_db: Path = setting(
        None,
        _path,
        "Store for `vzmon demo` (never the real one).",
        is_path=True,
        shown_default="`<outputs_dir>/demo/demo.sqlite`",
    )
    alerts_enabled: bool = setting(True, _bool, "Evaluate alert rules after every poll (`collect`, `watch`).")
    alerts_channels: tuple[str, ...] = setting(
        ("log",), _channels, "Where alerts go: log, jsonl, webhook, email (comma list in env)."
    )
    alerts_drop_fraction: float = setting(
        0.5, _float_range(0.0, 1.0, lo_open=True), "Drop: airborne count below this share of the baseline ..."
    )
    alerts_consecutive: int = setting(3, _int_range(1, 100), "... for this many successful polls in a row.")
    alerts_min_expected: float = setting(
        5.0, _float_range(0.0, 10_000), "No drop alert for a zone whose baseline expects fewer aircraft than this."
    )
    alerts_zero_consecutive: int = setting(
        2, _int_range(1, 100), "Zero: no aircraft in the FIR for this many polls ..."
    )
    alerts_zero_min_expected: float = setting(
        3.0, _float_range(0.0, 10_000), "... where the baseline expects at least this."
    )
    alerts_outage_min: float = setting(
        30.0, _float_range(1, 100_000), "Outage: no successful poll for this many minutes."
    )
    alerts_cooldown_min: float = setting(
        360.0,
        _float_range(0, 100_000),
        "Per rule and zone: after a drop (or zero) alert, no new drop (or zero) alert there for this many minutes.",
    )
    alerts_zones: tuple[str, ...] = setting((), _str_list, "Zones watched; empty = the FIR and its ring sectors.")
    alerts_zone_rules: dict[str, dict[str, Any]] = setting(
        {},
        _zone_rules,
        "Per-zone overrides of drop_fraction, consecutive, min_expected, enabled (TOML table; JSON in env).",
    )
    alerts_jsonl_file: Path = setting(
        None, _path, "File the jsonl channel appends to.", is_path=True, shown_default="`<outputs_dir>/alerts.jsonl`"
    )
    alerts_webhook_url: Secret | None = setting(
        None, _url, "Webhook URL (env only: it often embeds a token).", env="VZMON_WEBHOOK_URL", secret=True
    )
    alerts_webhook_format: str = setting(
        "json", _choice(*WEBHOOK_FORMATS), "Webhook payload: json (vzmon's), slack, discord or ntfy."
    )
    alerts_smtp_host: str = setting("", _str, "SMTP server for the email channel.")
    alerts_smtp_port: int = setting(587, _int_range(1, 65_535), "SMTP port (587 STARTTLS, 465 TLS).")
    alerts_smtp_security: str = setting("starttls", _choice(*SMTP_SECURITY), "starttls, tls or none.")
    alerts_smtp_user: str = setting("", _str, "SMTP login user; empty = no login.")
    alerts_smtp_password: Secret | None = setting(
        None, _str, "SMTP password (env only).", env="VZMON_SMTP_PASSWORD", secret=True
    )
    alerts_smtp_ca_file: Path | None = setting(
        None, _path, "Extra CA certificate(s) to trust for the SMTP server (PEM).", is_path=True
    )
    alerts_email_from: str = setting("", _str, "Sender address of alert emails.")
    alerts_email_to: tuple[str, ...] = setting((), _str_list, "Recipients of alert emails (comma list in env).")
    alerts_timeout_s: float = setting(10.0, _float_range(0.1, 300), "Timeout of one delivery attempt, seconds.")
    alerts_max_attempts: int = setting(
        12, _int_range(1, 1000), "Delivery attempts per alert and channel before giving up."
    )
    alerts_retry_base_s: float = setting(
        60.0,
        _float_range(0, 86_400),
        "First wait before retrying a failed delivery; doubles each attempt (at most 6 h).",
    )
    log_level: str = setting("INFO", _level, "Log level on stderr: debug, info, warning, error.")

    @property
    def authenticated(self) -> bool:
        return self.opensky_client_id is not None and self.opensky_client_secret is not None

    @property
    def account_type(self) -> str:
        """The credit tier in force: ``auto`` resolves to standard with credentials, else anonymous.
        Without credentials it is anonymous whatever ``opensky.account`` says: calls are anonymous."""
        if not self.authenticated:
            return "anonymous"
        return "standard" if self.opensky_account == "auto" else self.opensky_account

    @functools.cached_property
    def _redactions(self) -> tuple[str, ...]:
        """Every configured secret in the forms a server or library may echo it: as is, URL-encoded,
        form-encoded, JSON-escaped, HTML-escaped, base64 (SMTP AUTH, HTTP Basic); longest first."""
        values = [
            s.reveal() if isinstance(s, Secret) else s
            for s in (
                self.opensky_client_id,
                self.opensky_client_secret,
                self.alerts_smtp_password,
                self.alerts_webhook_url,
            )
            if s
        ]
        if self.alerts_webhook_url is not None:  # Slack, Discord and ntfy put the token in the path
            parts = urlsplit(self.alerts_webhook_url.reveal())
            segments = [seg for seg in parts.path.split("/") if len(seg) >= MIN_TOKEN_SEGMENT]
            values += [parts.path.strip("/"), parts.query, parts.password or "", *segments]
        import html  # only when a secret is configured

        forms: set[str] = set()
        for value in values:
            if len(value) < MIN_SECRET_LEN:
                continue
            raw = value.encode("utf-8")
            encoded = {quote(value, safe=""), quote_plus(value)}
            encoded |= {e.replace("~", "%7E") for e in encoded}  # older encoders escape ~ too
            encoded |= {_lower_escapes(e) for e in encoded}  # %2f as well as %2F
            forms.update({value, html.escape(value), *encoded})
            for js in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
                forms.update({js[1:-1], js[1:-1].replace("/", "\\/")})  # JSON may escape slashes
            forms.add(base64.b64encode(raw).decode("ascii"))
        if self.alerts_smtp_password is not None and self.alerts_smtp_user:
            user, password = self.alerts_smtp_user.encode("utf-8"), self.alerts_smtp_password.reveal().encode("utf-8")
            forms.add(base64.b64encode(b"\0" + user + b"\0" + password).decode("ascii"))  # AUTH PLAIN
        if self.opensky_client_id and self.opensky_client_secret is not None:
            pair = f"{self.opensky_client_id}:{self.opensky_client_secret.reveal()}".encode()
            forms.add(base64.b64encode(pair).decode("ascii"))  # HTTP Basic
        return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LEN), key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every configured secret (in every form of :attr:`_redactions`) replaced by
        ``<redacted>``. Every message, log line and stored error passes through this."""
        for secret in self._redactions:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    @property
    def charts_dir(self) -> Path:
        return self.store_outputs_dir / "charts"

    @property
    def reports_dir(self) -> Path:
        return self.store_outputs_dir / "reports"

    @property
    def lock_path(self) -> Path:
        """The store's lock file, beside the store's real path: two paths to one store (a symlink)
        share one lock."""
        real = Path(os.path.realpath(self.store_db))
        return real.with_name(real.name + ".lock")


SPECS: tuple[Spec, ...] = tuple(_spec(f) for f in fields(Settings) if SPEC in f.metadata)
_SPEC_BY_KEY = {s.key: s for s in SPECS}


def default_events_file() -> Path:
    """The events shipped with vzmon: the checkout's ``config/events.toml``, or the copy installed
    with the package (``monitor.config``) when vzmon runs from a wheel."""
    checkout = PROJECT_ROOT / "config" / "events.toml"
    if checkout.is_file():
        return checkout
    return Path(str(resources.files("monitor.config").joinpath("events.toml")))


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
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}", key=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"settings file {path} is not UTF-8 text; save it as UTF-8", key=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"settings file {path} cannot be read: {exc.strerror}", key=str(path)) from None
    flat: dict[str, Any] = {}
    for section, table in doc.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: top-level key {section!r} must be a [section] table", key=section)
        for name, value in table.items():
            key = f"{section}.{name}"
            if key not in _SPEC_BY_KEY:
                known = ", ".join(s.key for s in SPECS if s.key.startswith(section + ".")) or "none"
                raise ConfigError(f"{path}: unknown setting {key} (known in [{section}]: {known})", key=key)
            if _SPEC_BY_KEY[key].secret:
                raise ConfigError(
                    f"{path}: {key} is a secret; set it in the environment as {_SPEC_BY_KEY[key].env_name}", key=key
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

    outputs = values["store_outputs_dir"] or _default_outputs()
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
    if values["events_file"] is None:
        beside = config_path.parent / "events.toml" if config_path else None
        values["events_file"] = beside if beside and beside.is_file() else default_events_file()

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
