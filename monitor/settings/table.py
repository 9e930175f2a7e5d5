"""The settings table: every setting declared once, as a field of :class:`Settings` with its default,
parser, meaning and environment variable (``setting(...)``); ``SPECS`` is read from those fields.

Place in the flow: ``settings.load`` resolves each of ``SPECS`` from flags, the environment, the
settings file and the defaults, and builds the frozen :class:`Settings` every command gets.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.settings import values as v
from monitor.settings.secret import Secret, redact, redaction_forms

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URL",
    "PROJECT_ROOT",
    "SPECS",
    "SPEC_BY_KEY",
    "Settings",
    "Spec",
    "default_outputs",
    "setting",
    "shipped_config",
]

DEFAULT_API_URL = "https://opensky-network.org/api"
DEFAULT_TOKEN_URL = "https://auth.opensky-network.org/auth/realms/opensky-network/protocol/openid-connect/token"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_outputs() -> Path:
    """``outputs/`` of the source checkout, else the XDG data folder (``~/.local/share/vzmon``)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "outputs"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vzmon"


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
        v.path,
        "Folder for charts, reports and exports (and the store by default).",
        env="VZMON_OUTPUTS",
        is_path=True,
        shown_default="`outputs/` of the checkout, else `~/.local/share/vzmon`",
    )
    store_db: Path = setting(
        None, v.path, "The SQLite store.", env="VZMON_DB", is_path=True, shown_default="`<outputs_dir>/monitor.sqlite`"
    )
    opensky_api_url: str = setting(DEFAULT_API_URL, v.url, "OpenSky REST root.", env="OPENSKY_API_URL")
    opensky_token_url: str = setting(
        DEFAULT_TOKEN_URL, v.url, "OpenSky OAuth2 token endpoint.", env="OPENSKY_TOKEN_URL"
    )
    opensky_client_id: str | None = setting(
        None, v.text, "OAuth2 API client id (env only).", env="OPENSKY_CLIENT_ID", secret=True
    )
    opensky_client_secret: Secret | None = setting(
        None, v.text, "OAuth2 API client secret (env only).", env="OPENSKY_CLIENT_SECRET", secret=True
    )
    opensky_credentials: Path | None = setting(
        None,
        v.path,
        "`credentials.json` from the OpenSky account page (keys `clientId`, `clientSecret`).",
        env="OPENSKY_CREDENTIALS",
        is_path=True,
    )
    opensky_account: str = setting(
        "auto",
        v.choice(*v.ACCOUNT_TYPES),
        "Credit tier: `anonymous` 400/day, `standard` 4000, `feeder` 8000; `auto` = standard with credentials.",
    )
    opensky_daily_credits: int = setting(0, v.int_range(0, 1_000_000), "Daily credit budget; 0 = the account tier's.")
    opensky_budget_share: float = setting(
        0.9, v.float_range(0.05, 1.0), "Share of the daily credits `watch` plans to spend (the rest is headroom)."
    )
    opensky_connect_timeout_s: float = setting(10.0, v.float_range(0.1, 300), "TCP connect timeout, seconds.")
    opensky_read_timeout_s: float = setting(30.0, v.float_range(0.1, 600), "Read timeout per response, seconds.")
    opensky_retries: int = setting(3, v.int_range(0, 10), "Retries after a connection error or 5xx, per poll.")
    opensky_backoff_s: float = setting(2.0, v.float_range(0, 120), "First retry wait, seconds; doubles each retry.")
    opensky_max_poll_s: float = setting(
        150.0,
        v.float_range(5, 3600),
        "A poll (token, request, retries, reading the answer) gives up after this many seconds: a gap.",
    )
    opensky_stale_after_s: int = setting(
        15,
        v.int_range(1, 3600),
        "A position older than this at the response `time` is flagged `stale` (kept, not dropped).",
    )
    collect_sources: tuple[str, ...] = setting(
        ("opensky",),
        v.sources,
        "Sources `collect` polls, in order (comma list): `opensky`, `adsblol`, `adsbfi`.",
        env="VZMON_SOURCES",
        shown_default="`opensky`",
    )
    collect_combined_step_s: int = setting(
        300,
        v.int_range(60, 3600),
        "Grid step of the combined view (s): with several sources, an aircraft counts at grid time t when any "
        "source saw it in (t - step, t]. Keep it at least the slowest source's polling interval.",
        env="VZMON_COMBINED_STEP_S",
    )
    adsblol_api_url: str = setting("https://api.adsb.lol", v.url, "adsb.lol API root (`/v2/point/...` is added).")
    adsblol_spacing_s: float = setting(
        4.0, v.float_range(4.0, 3600), "Least seconds between the starts of two adsb.lol requests (at least 4)."
    )
    adsblol_cooldown_s: float = setting(
        900.0, v.float_range(60, 7 * 86_400), "After a 429 from adsb.lol, no request for this many seconds."
    )
    adsbfi_api_url: str = setting("https://opendata.adsb.fi/api", v.url, "adsb.fi API root (`/v2/lat/...` is added).")
    adsbfi_spacing_s: float = setting(
        1.0, v.float_range(1.0, 3600), "Least seconds between the starts of two adsb.fi requests (at least 1)."
    )
    adsbfi_cooldown_s: float = setting(
        900.0, v.float_range(60, 7 * 86_400), "After a 429 from adsb.fi, no request for this many seconds."
    )
    zones_ring_nm: float = setting(120.0, v.float_range(0, 300), "Width of the ring around the FIR, NM; 0 = no ring.")
    zones_fir_file: Path | None = setting(
        None, v.path, "GeoJSON to take the FIR from instead of the built-in SVZM.", is_path=True
    )
    zones_fir_property: str = setting("id", v.text, "Feature property that selects the FIR in `fir_file`.")
    zones_fir_value: str = setting("", v.text, "Value of `fir_property` of the FIR feature.")
    zones_extra_file: Path | None = setting(
        None, v.path, "GeoJSON with further zones, counted after the FIR and ring.", is_path=True
    )
    zones_extra_property: str = setting("id", v.text, "Feature property that selects zones in `extra_file`.")
    zones_extra_values: tuple[str, ...] = setting(
        (), v.str_list, "Values of `extra_property` to load as zones (comma list in env)."
    )
    watch_interval_s: float = setting(
        0.0,
        v.float_range(0, 86_400),
        "Seconds between `watch` polls; 0 = the shortest the daily credit budget sustains.",
    )
    events_file: Path = setting(
        None,
        v.path,
        "Events to compare around (`vzmon events`, `vzmon report --event`).",
        is_path=True,
        shown_default="`events.toml` beside the settings file, else the shipped `config/events.toml`",
    )
    checks_file: Path = setting(
        None,
        v.path,
        "Control areas for `vzmon backfill`'s health lines and published values for the reports' cross-checks.",
        is_path=True,
        shown_default="`checks.toml` beside the settings file, else the shipped `config/checks.toml`",
    )
    backfill_step_s: int = setting(
        60,
        v.int_range(30, 3600),
        "Grid step of backfilled snapshots (s): a multiple of the archive heatmaps' 30 s slices.",
    )
    backfill_workers: int = setting(0, v.int_range(0, 64), "Processes that read a day's traces; 0 = one per CPU core.")
    backfill_raw_url: str = setting(
        "https://raw.githubusercontent.com",
        v.url,
        "Where the archive's release lists are read (`/adsblol/globe_history_<year>/main/PREFERRED_RELEASES.txt`).",
    )
    backfill_download_url: str = setting(
        "https://github.com",
        v.url,
        "Where the archive's days are downloaded (`/adsblol/globe_history_<year>/releases/download/...`).",
    )
    report_window_days: float = setting(7.0, v.float_range(0.25, 120), "Days on each side of an event, before cuts.")
    report_baseline_weeks: int = setting(
        0,
        v.off_or_range(2, 52),
        "Compare with the same hours of the week over this many weeks before the event (weeks as the "
        "units of noise; at least 2); 0 = the window before the event, matched day by day.",
    )
    report_min_coverage: float = setting(
        0.5,
        v.float_range(0.0, 1.0),
        "An hour counts when at least this share of its expected polls succeeded; others are gaps.",
    )
    report_min_days: float = setting(
        2.0, v.float_range(0.5, 60), "Days of usable matched hours (hours / 24) each side needs for a verdict."
    )
    report_interval_s: float = setting(
        0.0,
        v.float_range(0, 86_400),
        "Expected seconds between polls, for coverage; 0 = the median spacing of recorded polls.",
    )
    demo_db: Path = setting(
        None,
        v.path,
        "Store for `vzmon demo` (never the real one).",
        is_path=True,
        shown_default="`<outputs_dir>/demo/demo.sqlite`",
    )
    alerts_enabled: bool = setting(True, v.boolean, "Evaluate alert rules after every poll (`collect`, `watch`).")
    alerts_channels: tuple[str, ...] = setting(
        ("log",), v.channels, "Where alerts go: log, jsonl, webhook, email (comma list in env)."
    )
    alerts_drop_fraction: float = setting(
        0.5,
        v.float_range(0.0, 1.0, lo_open=True),
        "Drop: a window of polls (15 min to 6 h) saw at most this share of the baseline ...",
    )
    alerts_consecutive: int = setting(3, v.int_range(1, 100), "... over at least this many successful polls ...")
    alerts_false_alarms_per_30d: float = setting(
        0.5,
        v.float_range(0.001, 100),
        "... and is less likely than this many false alarms per zone per 30 days of normal traffic allow "
        "(the statistical test's budget; lower is stricter and slower).",
    )
    alerts_min_expected: float = setting(
        2.0, v.float_range(0.0, 10_000), "No drop alert over a window whose baseline expects fewer aircraft than this."
    )
    alerts_recovery_fraction: float = setting(
        0.8,
        v.float_range(0.0, 1.0, lo_open=True),
        "Recovery: a window after the drop began consistent with traffic back at this share of the pre-drop "
        "baseline, and surely above the drop threshold or the level of the hours before it.",
    )
    alerts_zero_consecutive: int = setting(
        2, v.int_range(1, 100), "Zero: no aircraft in the FIR for this many polls ..."
    )
    alerts_zero_min_expected: float = setting(
        3.0, v.float_range(0.0, 10_000), "... where the baseline expects at least this."
    )
    alerts_outage_min: float = setting(
        30.0, v.float_range(1, 100_000), "Outage: no successful poll for this many minutes."
    )
    alerts_cooldown_min: float = setting(
        360.0,
        v.float_range(0, 100_000),
        "Per rule and zone: after a drop (or zero) alert, no new drop (or zero) alert there for this many minutes.",
    )
    alerts_zones: tuple[str, ...] = setting((), v.str_list, "Zones watched; empty = the FIR and its ring sectors.")
    alerts_zone_rules: dict[str, dict[str, Any]] = setting(
        {},
        v.zone_rules,
        "Per-zone overrides of drop_fraction, consecutive, min_expected, enabled (TOML table; JSON in env).",
    )
    alerts_jsonl_file: Path = setting(
        None, v.path, "File the jsonl channel appends to.", is_path=True, shown_default="`<outputs_dir>/alerts.jsonl`"
    )
    alerts_webhook_url: Secret | None = setting(
        None, v.url, "Webhook URL (env only: it often embeds a token).", env="VZMON_WEBHOOK_URL", secret=True
    )
    alerts_webhook_format: str = setting(
        "json", v.choice(*v.WEBHOOK_FORMATS), "Webhook payload: json (vzmon's), slack, discord or ntfy."
    )
    alerts_smtp_host: str = setting("", v.text, "SMTP server for the email channel.")
    alerts_smtp_port: int = setting(587, v.int_range(1, 65_535), "SMTP port (587 STARTTLS, 465 TLS).")
    alerts_smtp_security: str = setting("starttls", v.choice(*v.SMTP_SECURITY), "starttls, tls or none.")
    alerts_smtp_user: str = setting("", v.text, "SMTP login user; empty = no login.")
    alerts_smtp_password: Secret | None = setting(
        None, v.text, "SMTP password (env only).", env="VZMON_SMTP_PASSWORD", secret=True
    )
    alerts_smtp_ca_file: Path | None = setting(
        None, v.path, "Extra CA certificate(s) to trust for the SMTP server (PEM).", is_path=True
    )
    alerts_email_from: str = setting("", v.text, "Sender address of alert emails.")
    alerts_email_to: tuple[str, ...] = setting((), v.str_list, "Recipients of alert emails (comma list in env).")
    alerts_timeout_s: float = setting(10.0, v.float_range(0.1, 300), "Timeout of one delivery attempt, seconds.")
    alerts_max_attempts: int = setting(
        12, v.int_range(1, 1000), "Delivery attempts per alert and channel before giving up."
    )
    alerts_retry_base_s: float = setting(
        60.0,
        v.float_range(0, 86_400),
        "First wait before retrying a failed delivery; doubles each attempt (at most 6 h).",
    )
    log_level: str = setting("INFO", v.level, "Log level on stderr: debug, info, warning, error.")

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
        return redaction_forms(
            [self.opensky_client_id, self.opensky_client_secret, self.alerts_smtp_password, self.alerts_webhook_url],
            webhook_url=self.alerts_webhook_url,
            smtp=(self.alerts_smtp_user, self.alerts_smtp_password),
            client=(self.opensky_client_id, self.opensky_client_secret),
        )

    def redact(self, text: str) -> str:
        """``text`` with every configured secret (in every form :func:`redaction_forms` lists)
        replaced by ``<redacted>``. Every message, log line and stored error passes through this."""
        return redact(text, self._redactions)

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
SPEC_BY_KEY = {s.key: s for s in SPECS}


def shipped_config(name: str) -> Path:
    """A file vzmon ships in ``config/`` (``events.toml``, ``checks.toml``): the checkout's, or the
    copy installed with the package (``monitor.config``) when vzmon runs from a wheel."""
    checkout = PROJECT_ROOT / "config" / name
    if checkout.is_file():
        return checkout
    return Path(str(resources.files("monitor.config").joinpath(name)))
