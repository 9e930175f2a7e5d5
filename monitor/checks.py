"""Checks of backfilled data: control areas far from Venezuela, and reference values published by
others, loaded from ``config/checks.toml``.

Place in the flow: ``pipeline.backfill`` counts each day's aircraft in the control areas (a drop
there is the network's coverage, not Venezuela's airspace), and ``pipeline.report`` puts each
reference value that falls in a report's span beside its own count ("cross-checks"). The values
live in the file, each with its source, never in code. Times must carry a zone (converted to UTC);
errors are :class:`ConfigError` naming the file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.tomlfile import read_toml

__all__ = ["MEASURES", "Checks", "Control", "Reference", "load_checks"]

MEASURES = ("airborne",)  # what a reference value counts: aircraft airborne in the zone at that instant


@dataclass(frozen=True)
class Control:
    """An area far from Venezuela whose traffic the day's health line reports."""

    name: str
    box: tuple[float, float, float, float]  # (west, south, east, north), degrees


@dataclass(frozen=True)
class Reference:
    """A value someone published for one instant (UTC), with where it comes from."""

    time: datetime
    zone: str
    measure: str
    value: float
    what: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Checks:
    controls: tuple[Control, ...] = ()
    references: tuple[Reference, ...] = ()


def _box(path: Path, where: str, raw: Any) -> tuple[float, float, float, float]:
    ok = isinstance(raw, list) and len(raw) == 4 and all(isinstance(x, int | float) for x in raw)
    if ok:
        west, south, east, north = (float(x) for x in raw)
        if -180 <= west < east <= 180 and -90 <= south < north <= 90:
            return west, south, east, north
    raise ConfigError(
        f"{path}: {where}: box must be [west, south, east, north] in degrees, west < east and south < north; "
        f"got {raw!r}",
        key=str(path),
    )


def _text(path: Path, where: str, entry: dict[str, Any], key: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{path}: {where}: {key} must be a non-empty string", key=str(path))
    return value


def load_checks(path: Path) -> Checks:
    """The control areas and reference values of ``path``. Raises ConfigError for a missing or bad file."""
    raw = read_toml(path, "checks file", "checks.file", "VZMON_CHECKS_FILE")
    unknown = set(raw) - {"control", "reference"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}: use [[control]] and [[reference]]")
    controls = []
    for i, entry in enumerate(raw.get("control", []), 1):
        where = f"[[control]] {i}"
        if set(entry) - {"name", "box"}:
            raise ConfigError(f"{path}: {where}: unknown key(s) {', '.join(sorted(set(entry) - {'name', 'box'}))}")
        controls.append(Control(_text(path, where, entry, "name"), _box(path, where, entry.get("box"))))
    if len({c.name for c in controls}) != len(controls):
        raise ConfigError(f"{path}: two [[control]] areas share a name", key=str(path))
    references = []
    keys = {"time", "zone", "measure", "value", "what", "source", "note"}
    for i, entry in enumerate(raw.get("reference", []), 1):
        where = f"[[reference]] {i}"
        if set(entry) - keys:
            raise ConfigError(f"{path}: {where}: unknown key(s) {', '.join(sorted(set(entry) - keys))}")
        time = entry.get("time")
        if not isinstance(time, datetime) or time.tzinfo is None:
            raise ConfigError(f"{path}: {where}: time must be a TOML datetime with a zone (e.g. 2025-11-30T09:00:00Z)")
        measure = entry.get("measure", "airborne")
        if measure not in MEASURES:
            raise ConfigError(f"{path}: {where}: measure must be one of {', '.join(MEASURES)}, got {measure!r}")
        value = entry.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: {where}: value must be a number of aircraft (0 or more)")
        references.append(
            Reference(
                time=time.astimezone(UTC),
                zone=_text(path, where, entry, "zone"),
                measure=measure,
                value=float(value),
                what=_text(path, where, entry, "what"),
                source=_text(path, where, entry, "source"),
                note=_text(path, where, entry, "note", required=False),
            )
        )
    return Checks(tuple(controls), tuple(sorted(references, key=lambda r: r.time)))
