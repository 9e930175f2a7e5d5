"""Setting values: each parser turns a raw value (a TOML value or an environment string) into a
typed one, or raises ValueError saying what was expected; and the fixed choices some settings take.

Place in the flow: ``settings.table`` names a parser for each setting; ``settings.load`` applies it.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ACCOUNT_TYPES",
    "CHANNELS",
    "SMTP_SECURITY",
    "SOURCES",
    "WEBHOOK_FORMATS",
    "boolean",
    "channels",
    "choice",
    "float_range",
    "int_range",
    "level",
    "off_or_range",
    "path",
    "sources",
    "str_list",
    "text",
    "url",
    "valid_host",
    "zone_rules",
]

ACCOUNT_TYPES = ("auto", "anonymous", "standard", "feeder")
CHANNELS = ("log", "jsonl", "webhook", "email")
SOURCES = ("opensky", "adsblol", "adsbfi")  # the pollable sources (``sources.registry``; a test keeps them equal)
WEBHOOK_FORMATS = ("json", "slack", "discord", "ntfy")
SMTP_SECURITY = ("starttls", "tls", "none")


def text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {v!r}")
    return v.strip()


def url(v: Any) -> str:
    s = text(v).rstrip("/")
    if not s.startswith(("http://", "https://")):
        raise ValueError(f"expected an http(s) URL, got {s!r}")
    try:
        parts = urlsplit(s)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in 0-65535)
    except ValueError as exc:
        raise ValueError(f"expected an http(s) URL ({exc}), got {s!r}") from None
    if not parts.hostname or any(c.isspace() or not c.isprintable() for c in s) or not valid_host(parts.hostname):
        raise ValueError(f"expected an http(s) URL with a valid host name, got {s!r}")
    return s


_HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def valid_host(host: str) -> bool:
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


def float_range(lo: float, hi: float, lo_open: bool = False) -> Callable[[Any], float]:
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


def off_or_range(lo: int, hi: int) -> Callable[[Any], int]:
    """0 (off), or a whole number in [lo, hi]."""
    inner = int_range(lo, hi)

    def parse(v: Any) -> int:
        if int_range(0, hi)(v) == 0:
            return 0
        try:
            return inner(v)
        except ValueError:
            raise ValueError(f"{v!r} is neither 0 (off) nor in [{lo}, {hi}]") from None

    return parse


def int_range(lo: int, hi: int) -> Callable[[Any], int]:
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


def choice(*options: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        s = text(v).lower()
        if s not in options:
            raise ValueError(f"{s!r} is not one of {', '.join(options)}")
        return s

    return parse


def str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        items = [p.strip() for p in v.split(",")]
    elif isinstance(v, list) and all(isinstance(p, str) for p in v):
        items = [p.strip() for p in v]
    else:
        raise ValueError(f"expected a list of strings, got {v!r}")
    return tuple(p for p in items if p)


def path(v: Any) -> Path | None:
    s = text(v)
    return Path(s).expanduser() if s else None


def boolean(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return v.strip().lower() in ("1", "true", "yes", "on")
    raise ValueError(f"expected true or false, got {v!r}")


def channels(v: Any) -> tuple[str, ...]:
    items = str_list(v)
    bad = [c for c in items if c not in CHANNELS]
    if bad:
        raise ValueError(f"unknown channel(s) {', '.join(bad)}; use {', '.join(CHANNELS)}")
    return tuple(dict.fromkeys(items))


def sources(v: Any) -> tuple[str, ...]:
    """Sources to poll, in order, each once; at least one."""
    items = tuple(dict.fromkeys(s.lower() for s in str_list(v)))
    bad = [s for s in items if s not in SOURCES]
    if bad:
        raise ValueError(f"unknown source(s) {', '.join(bad)}; use {', '.join(SOURCES)}")
    if not items:
        raise ValueError(f"name at least one source: {', '.join(SOURCES)}")
    return items


def zone_rules(v: Any) -> dict[str, dict[str, Any]]:
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
        "drop_fraction": float_range(0.0, 1.0, lo_open=True),
        "consecutive": int_range(1, 100),
        "min_expected": float_range(0.0, 10_000),
        "enabled": boolean,
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


def level(v: Any) -> str:
    return choice("debug", "info", "warning", "error")(v).upper()
