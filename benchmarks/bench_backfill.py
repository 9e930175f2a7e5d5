"""Benchmark: ``vzmon backfill`` of one day of adsb.lol's archive at the real scale, from its local tar parts.

The day (built once into ``benchmarks/.cache/backfill-v<VERSION>-.../``, ~3 GB, in a child process;
bump ``VERSION`` whenever the generator changes and the day is rebuilt; delete the folder to rebuild
by hand) is a GNU tar of ``./`` names split into ``.tar.aa`` (2,000,000,000 bytes, as the release
scripts split) and ``.tar.ab``, laid out as readsb writes a day (history.md §A.2-A.4), heatmaps first
(the order in a real tar is readdir's):
- 70,000 ``traces/xx/trace_full_<hex>.json`` over all 256 folders, gzip level 9, one point per line as
  readsb's ``sprintTracePoint`` prints them (the text of ``tests.trace_writer``): 14 elements, a
  point every 9-15 s, details (callsign, squawk, ...) every 4th point, taxi points at each end of a leg.
  - Far away: FAR_POOL distinct traces of ~36 KB gzip (~220 KB of JSON) whose bytes repeat under
    the other ~67,800 distinct names (68,000 distinct gzip-9 traces would take half an hour to make).
    That does not flatter the reader: nothing is cached from one member to the next, each is still
    gunzipped whole and its whole text scanned by the prefilter (a far-away trace never matches,
    so the scan runs to its end): the work a distinct trace of that size costs.
  - Near the box: NEAR distinct traces that fly 17.75-17.98 N (south of Hispaniola and Puerto Rico),
    within the prefilter's one-degree margin but never inside the box: parsed in full, then dropped.
  - Over the box: distinct aircraft-days (domestic legs between the box's airports, Bogotá's
    included; flights abroad; overflights such as Miami-São Paulo), added until their time over
    the box averages BOX_AT_ONCE aircraft at a time, as the heatmaps say. ~300 at a time over a
    box of this size means ~1,900 such traces a day, not 300 (a leg spends 1-3 hours over it);
    2 % military (dbFlags 1), 5 % without a database entry, 5 % MLAT.
- 48 ``heatmap/NN.bin.ttf`` of 60 slices of 30 s: ~7,000 aircraft per slice worldwide (the traced
  ones at the first point of each slice, as readsb takes them; the rest far away, built with numpy),
  an info record (callsign, squawk) once a minute per aircraft before its position, gzip level 9.

Measured in this process, one run:
1. ``pipeline.backfill`` of the day from its two parts into a new store in a temporary folder with
   ``--workers`` processes (2, the cores here): wall and CPU seconds, MB/s of tar, peak memory. This
   process: VmHWM, reset before the run (what ``getrusage(RUSAGE_SELF).ru_maxrss`` gives a fresh
   process). Its other processes (workers, multiprocessing's resource tracker, a forkserver if it
   uses one): each one's VmHWM read from /proc every 0.25 s, and ``getrusage(RUSAGE_CHILDREN)``
   (which sees spawned workers once they end, but never a forkserver's: they are its children).
   Also the sampled peak of all of them at once (RSS and PSS), and the CPU other processes on the
   machine took meanwhile. The day is checked: 1,440 snapshots, 0 gaps, every aircraft over the box
   kept, every position stored.
2. The straightforward path on a sample of the day's members (stratified: the day's mix of far, near
   and over-the-box traces): gunzip, ``json.loads``, a box test of every point, one process; each
   class's mean CPU time x the day's members of that class = the day. The vzmon reader
   (``traces.read_trace`` with the prefilter) on the same sample, one process: its rate per core.
3. The 48 heatmaps alone to snapshots (``day.half_hour_snapshots``, as the backfill reads them).
Targets (issue): <= 60 s wall on 2 cores, <= 300 MB peak RSS per day (all processes at once), >= 5x
the straightforward path.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import json
import math
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks._common import machine

CACHE = Path(__file__).resolve().parent / ".cache"
VERSION = "3"  # bump whenever the generator below changes: the cached day is then rebuilt
SEED = 2025
DAY = date(2025, 11, 29)
TAG = f"v{DAY:%Y.%m.%d}-planes-readsb-prod-0"
SPLIT_AT = 2_000_000_000
TRACES = 70_000
FAR_POOL = 300
NEAR = 300
BOX_AT_ONCE = 300
WORLD_AT_ONCE = 7_000
GZIP_LEVEL = 9  # readsb's, for traces and heatmaps alike
DAY_S = 86_400
SLICE_S = 30
SLICES = DAY_S // SLICE_S
PER_FILE = 60  # slices in a half hour's heatmap
SPEED_MPS = 230.0
M_PER_DEG = 111_195.0
MARKER = 0x0E7F7C9D
GROUND = -123
ENTRY = np.dtype([("hex", "<i4"), ("lat", "<i4"), ("lon", "<i4"), ("alt", "<i2"), ("gs", "<i2")])  # heatEntry
# one traced aircraft in one slice, as its heatmap record will say it
ROW = np.dtype([("slice", "<i4"), ("hex", "<i8"), ("lat", "<i4"), ("lon", "<i4"), ("alt", "<i2"), ("gs", "<i2"),
                ("cs", "S8"), ("squawk", "<i2")])  # fmt: skip
MIDNIGHT = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp()
MTIME = int(MIDNIGHT) + DAY_S + 900  # readsb gzips the day's files after midnight

# fmt: off
IN_BOX = {  # (lat, lon) of the airports the traffic over the box flies between
    "SKBO": (4.7016, -74.1469), "SVMI": (10.6031, -66.9906), "SVMC": (10.5582, -71.7279),
    "SVVA": (10.1497, -67.9284), "SVBC": (10.1071, -64.6892), "SVPR": (8.2885, -62.7604),
    "SVMG": (10.9126, -63.9666), "SKBQ": (10.8896, -74.7808), "SKCC": (7.9276, -72.5115),
    "TTPP": (10.5954, -61.3372), "TNCC": (12.1889, -68.9598), "TNCA": (12.5014, -70.0152),
    "SYCJ": (6.4986, -58.2541), "SVBI": (8.6150, -70.2142),
}
ABROAD = {
    "KMIA": (25.7959, -80.2870), "MPTO": (9.0714, -79.3835), "SBGR": (-23.4356, -46.4731),
    "LEMD": (40.4719, -3.5626), "MDSD": (18.4297, -69.6689), "SEQM": (-0.1292, -78.3575),
    "SPJC": (-12.0219, -77.1143), "KJFK": (40.6413, -73.7781), "MMUN": (21.0365, -86.8771),
}
OVERFLIGHTS = [("KMIA", "SBGR"), ("KJFK", "SBGR"), ("MMUN", "SBGR"), ("LEMD", "SPJC"), ("MDSD", "SBGR"),
               ("LEMD", "SEQM")]
TYPES = [("A320", "AIRBUS A-320"), ("B738", "BOEING 737-800"), ("E190", "EMBRAER ERJ-190"),
         ("A319", "AIRBUS A-319"), ("B763", "BOEING 767-300"), ("AT72", "ATR ATR-72"), ("B38M", "BOEING 737 MAX 8")]
# fmt: on


@dataclass(frozen=True)
class Leg:
    """One flight on a straight line at SPEED_MPS (10 minutes added for climb and descent)."""

    frm: tuple[float, float]  # (lat, lon)
    to: tuple[float, float]
    depart_s: float  # s after 00:00 UTC
    cruise_ft: int
    callsign: str
    squawk: str  # four octal digits

    @property
    def duration_s(self) -> float:
        return _distance_m(self.frm, self.to) / SPEED_MPS + 600.0


@dataclass(frozen=True)
class Aircraft:
    """One aircraft-day: address, database facts, legs; ``kind`` is far, near or box."""

    address: int
    kind: str
    legs: tuple[Leg, ...]
    seed: int
    r: str | None = None
    t: str | None = None
    desc: str | None = None
    db_flags: int | None = None
    mlat: bool = False

    @property
    def name(self) -> str:
        return f"traces/{self.address & 0xFF:02x}/trace_full_{self.address:06x}.json"


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot((b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2)), b[0] - a[0]) * M_PER_DEG


def _heading(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.degrees(math.atan2((b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2)), b[0] - a[0])) % 360


def _box() -> tuple[float, float, float, float]:
    from geo.zoneset import load_zone_set

    b = load_zone_set().polling_box
    return b.west, b.south, b.east, b.north


def _inside(lon: npt.NDArray[Any], lat: npt.NDArray[Any], box: tuple[float, float, float, float]) -> Any:
    west, south, east, north = box
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def _squawk(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(0, 8**4)):04o}"


# ---------------------------------------------------------------- the sky


def _far_leg(rng: np.random.Generator, start: tuple[float, float], depart_s: float, hours: float, cs: str) -> Leg:
    """A leg far from the box, mostly east-west: it stays 20 degrees of latitude away from it."""
    heading = math.radians(rng.choice([90.0, 270.0]) + rng.uniform(-25, 25))
    deg = SPEED_MPS * hours * 3600 / M_PER_DEG
    end = (start[0] + deg * math.cos(heading), start[1] + deg * math.sin(heading) / math.cos(math.radians(start[0])))
    return Leg(start, end, depart_s, int(rng.integers(300, 400)) * 100, cs, _squawk(rng))


def _far_aircraft(rng: np.random.Generator, address: int, kind: str) -> Aircraft:
    """Two legs far away (~36 KB of gzip); a ``near`` one flies its second leg just north of the box.
    Starts within 120 degrees of Greenwich: no leg crosses the antimeridian."""
    lat = float(rng.uniform(33, 52)) * float(rng.choice([1, 1, 1, -1]))
    callsign = f"{rng.choice(['DLH', 'UAL', 'CES'])}{int(rng.integers(1, 9999))}"
    start, depart_s = (lat, float(rng.uniform(-120, 120))), float(rng.uniform(600, 30_000))
    first = _far_leg(rng, start, depart_s, float(rng.uniform(1.2, 2.0)), callsign)
    after = first.depart_s + first.duration_s + float(rng.uniform(3_600, 7_200))
    if kind == "near":
        band, lon0 = float(rng.uniform(17.75, 17.98)), float(rng.uniform(-75.9, -66))
        second = Leg((band, lon0), (band, lon0 + float(rng.uniform(6, 9))), after, 35_000, "JBU1851", _squawk(rng))
    else:
        second = _far_leg(rng, first.to, after, float(rng.uniform(1.2, 2.0)), first.callsign[:-1] + "1")
    t, desc = TYPES[int(rng.integers(len(TYPES)))]
    return Aircraft(address, kind, (first, second), int(rng.integers(1 << 62)), f"N{int(rng.integers(100, 999))}XX",
                    t, desc, 0)  # fmt: skip


def _seconds_over(leg: Leg, box: tuple[float, float, float, float]) -> float:
    """Seconds of the leg's flight over the box within the day (its line sampled every ~30 s)."""
    f = np.linspace(0, 1, max(int(leg.duration_s / 30), 2))
    lat, lon = leg.frm[0] + f * (leg.to[0] - leg.frm[0]), leg.frm[1] + f * (leg.to[1] - leg.frm[1])
    return float(np.mean(_inside(lon, lat, box) & (leg.depart_s + f * leg.duration_s < DAY_S))) * leg.duration_s


def _departure(rng: np.random.Generator) -> float:
    """A first departure before 21 UTC, busier in Venezuela's day (10-04 UTC) than its night."""
    hours = np.arange(21)
    weight = np.where((hours >= 10) | (hours < 4), 1.0, 0.25)
    return float(rng.choice(hours, p=weight / weight.sum()) * 3600 + rng.uniform(0, 3600))


def _box_legs(rng: np.random.Generator) -> list[Leg]:
    """One aircraft's legs of the day: domestic hops, a flight abroad and back, or an overflight."""
    airports = list(IN_BOX.values())
    kind = rng.choice(["domestic", "abroad", "overflight"], p=[0.55, 0.3, 0.15])
    t = _departure(rng)
    legs: list[Leg] = []
    if kind == "domestic":
        here = airports[int(rng.integers(len(airports)))]
        prefix = str(rng.choice(["AVA", "LAE", "VCV", "CNS", "LPE", "RCU", "KRE", "BWA", "INC", "ARE"]))
        while t < 23 * 3600 and len(legs) < 6:
            there = airports[int(rng.integers(len(airports)))]
            if there != here:
                cruise = int(rng.integers(300, 380) if _distance_m(here, there) > 600_000 else rng.integers(180, 280))
                legs.append(Leg(here, there, t, cruise * 100, f"{prefix}{int(rng.integers(100, 9999))}", _squawk(rng)))
                t += legs[-1].duration_s + float(rng.uniform(35, 80)) * 60
                here = there
    elif kind == "abroad":
        home = airports[int(rng.integers(len(airports)))]
        away = list(ABROAD.values())[int(rng.integers(len(ABROAD)))]
        cs = f"{rng.choice(['AAL', 'CMP', 'IBE', 'DAL', 'TPU', 'ROT', 'AVA'])}{int(rng.integers(100, 9999))}"
        legs.append(Leg(home, away, t, int(rng.integers(330, 400)) * 100, cs, _squawk(rng)))
        back = t + legs[0].duration_s + float(rng.uniform(60, 120)) * 60
        if back < 22 * 3600:
            legs.append(Leg(away, home, back, legs[0].cruise_ft, cs[:-1] + "7", _squawk(rng)))
    else:
        a, b = OVERFLIGHTS[int(rng.integers(len(OVERFLIGHTS)))]
        ends = (ABROAD[a], ABROAD[b]) if rng.random() < 0.5 else (ABROAD[b], ABROAD[a])
        cs = f"{rng.choice(['AAL', 'LAN', 'TAM', 'GLO', 'UAL', 'IBE'])}{int(rng.integers(100, 9999))}"
        legs.append(Leg(*ends, t, int(rng.integers(330, 400)) * 100, cs, _squawk(rng)))
    return legs


def _box_fleet(rng: np.random.Generator, box: tuple[float, float, float, float]) -> list[Aircraft]:
    """Aircraft-days over the box (addresses set later) until their time over it averages BOX_AT_ONCE."""
    fleet: list[Aircraft] = []
    total = 0.0
    while total < BOX_AT_ONCE * DAY_S:
        legs = _box_legs(rng)
        over = sum(_seconds_over(leg, box) for leg in legs)
        if over <= 0:
            continue
        total += over
        facts: dict[str, Any] = {}
        if rng.random() < 0.02:  # military: its own callsigns, dbFlags 1
            legs = [
                Leg(g.frm, g.to, g.depart_s, g.cruise_ft, f"RCH{int(rng.integers(100, 999))}", "4000") for g in legs
            ]
            facts = {"r": f"0{int(rng.integers(1, 9))}-{int(rng.integers(1000, 9999))}", "t": "C17",
                     "desc": "BOEING C-17 Globemaster", "db_flags": 1}  # fmt: skip
        elif rng.random() < 0.95:  # the others have no database entry
            t, desc = TYPES[int(rng.integers(len(TYPES)))]
            facts = {"r": f"YV{int(rng.integers(1000, 3999))}", "t": t, "desc": desc, "db_flags": 0}
        fleet.append(Aircraft(0, "box", tuple(legs), int(rng.integers(1 << 62)), mlat=bool(rng.random() < 0.05),
                              **facts))  # fmt: skip
    return fleet


# ---------------------------------------------------------------- the traces


def _number(fmt: str, value: float | None) -> str:
    return "null" if value is None else fmt % value


def _point_text(p: list[Any]) -> str:
    """One point as readsb's ``sprintTracePoint`` prints it (json_out.c; the same text as
    ``tests.trace_writer.point_text``): a new line, 14 values, a comma."""
    dt, lat, lon, alt, gs, track, flags, vrate, details, source, geom_alt, geom_rate, ias, roll = p
    alt_text = '"ground"' if alt == "ground" else _number("%d", alt)
    details_text = "null" if details is None else json.dumps(details, separators=(",", ":"))
    return (
        f"\n[{dt:.2f},{lat:f},{lon:f},{alt_text},{_number('%.1f', gs)},{_number('%.1f', track)},{flags:d},"
        f'{_number("%d", vrate)},{details_text},"{source}",{_number("%d", geom_alt)},{_number("%d", geom_rate)},'
        f"{_number('%d', ias)},{_number('%.1f', roll)}],"
    )


def _details(rng: np.random.Generator, p: list[Any], leg: Leg, source: str) -> dict[str, Any]:
    """An aircraft.json-like object, as readsb keeps on every 4th point (fields of the real ac671b trace)."""
    out: dict[str, Any] = {"type": source, "flight": leg.callsign.ljust(8)}
    if p[3] != "ground":
        tas = int(p[4] + rng.normal(0, 3))
        out.update(
            alt_geom=p[10], ias=p[12], tas=tas, mach=round(tas / 661.5 * (1 - p[3] / 200_000), 3),
            wd=250 + int(rng.integers(0, 3)), ws=31 + int(rng.integers(0, 2)), track=round(p[5], 2),
            track_rate=float(rng.choice([0.0, 0.0, 0.03, -0.03])), roll=p[13],
            mag_heading=round((p[5] + 2.3 + rng.normal(0, 0.5)) % 360, 2),
            true_heading=round((p[5] - 1.1 + rng.normal(0, 0.5)) % 360, 2), baro_rate=p[7], geom_rate=p[11],
        )  # fmt: skip
    out.update(squawk=leg.squawk, emergency="none", category="A3", nav_qnh=1013.6,
               nav_altitude_mcp=leg.cruise_ft + 8, nav_altitude_fms=leg.cruise_ft, nic=8, rc=186, version=2,
               nic_baro=1, nac_p=10, nac_v=2, sil=3, sil_type="perhour", gva=2, sda=2, alert=0, spi=0)  # fmt: skip
    return out


def _taxi(rng: np.random.Generator, t: float, at: tuple[float, float], flags: int, source: str) -> list[Any]:
    return [t, at[0] + rng.normal(0, 2e-4), at[1] + rng.normal(0, 2e-4), "ground", round(float(rng.uniform(5, 18)), 1),
            round(float(rng.uniform(0, 360)), 1), flags, None, None, source, None, None, None, None]  # fmt: skip


def _leg_points(rng: np.random.Generator, leg: Leg, new_leg: bool, source: str) -> list[list[Any]]:
    """The leg's points as readsb's 14 values (details left None): taxi out, the flight, taxi in."""
    dur, cruise = leg.duration_s, leg.cruise_ft
    rows = [_taxi(rng, leg.depart_s + dt, leg.frm, 2 if k == 0 and new_leg else 0, source)
            for k, dt in enumerate((-300, -240, -180, -120, -60))]  # fmt: skip
    t = leg.depart_s + np.concatenate([[0.0], np.cumsum(rng.uniform(9, 15, int(dur / 9) + 2))])
    t = t[t <= leg.depart_s + dur]
    n, f = len(t), (t - leg.depart_s) / dur
    lat = leg.frm[0] + f * (leg.to[0] - leg.frm[0]) + rng.normal(0, 5e-6, n)
    lon = leg.frm[1] + f * (leg.to[1] - leg.frm[1]) + rng.normal(0, 5e-6, n)
    up, down = (t - leg.depart_s) / 1_500 * cruise, (leg.depart_s + dur - t) / 1_800 * cruise
    alt = np.maximum(np.round(np.minimum(np.minimum(up, down), cruise) / 25) * 25, 100).astype(int)
    climbing = (up < cruise) & (up < down)
    descending = (down < cruise) & ~climbing
    level = rng.choice([0, 0, 0, 64, -64], n)
    vrate = np.where(climbing, 1_400.0, np.where(descending, -1_200.0, level))
    vrate[climbing | descending] += rng.normal(0, 250, int((climbing | descending).sum()))
    vrate = (vrate // 64 * 64).astype(int)
    gs = 160 + alt / cruise * 300 + rng.normal(0, 0.7, n)
    track = (_heading(leg.frm, leg.to) + rng.normal(0, 0.3, n)) % 360
    geom = alt + 1_100 + rng.integers(-2, 3, n) * 25
    ias = (280 - alt / 1_000 + rng.normal(0, 1, n)).astype(int)
    roll = rng.choice([0.0, 0.0, 0.2, -0.2, 0.5], n)
    for i in range(n):
        rows.append([float(t[i]), float(lat[i]), float(lon[i]), int(alt[i]), float(gs[i]), float(track[i]), 0,
                     int(vrate[i]), None, source, int(geom[i]), int(vrate[i]) // 32 * 32, int(ias[i]),
                     float(roll[i])])  # fmt: skip
    rows += [_taxi(rng, leg.depart_s + dur + dt, leg.to, 0, source) for dt in (60, 120, 180)]
    return rows


def _trace(a: Aircraft) -> tuple[bytes, list[list[Any]], list[int]]:
    """The aircraft's history-day trace as readsb writes it (JSON text), its points within the day,
    and the leg of each."""
    rng = np.random.default_rng(a.seed)
    source = "mlat" if a.mlat else "adsb_icao"
    points: list[list[Any]] = []
    legs: list[int] = []
    for k, leg in enumerate(a.legs):
        for p in _leg_points(rng, leg, k > 0, source):
            if 0 <= p[0] < DAY_S:  # a history file holds the day's points only
                points.append(p)
                legs.append(k)
    for k, p in enumerate(points):
        if k % 4 == 0:  # getStateAll: details on every 4th stored point
            p[8] = _details(rng, p, a.legs[legs[k]], source)
    head = f'{{"icao":"{a.address:06x}"'
    if a.r:
        head += f',\n"r":"{a.r}"'
    if a.t:
        head += f',\n"t":"{a.t}"'
    if a.r or a.t or a.db_flags:
        head += f',\n"dbFlags":{a.db_flags or 0:d}'
    if a.desc:
        head += f',"desc":"{a.desc}"'
    if not (a.r or a.t or a.db_flags or a.desc):
        head += ',\n"noRegData":true'
    body = "".join(_point_text(p) for p in points).removesuffix(",")
    return f'{head},\n"timestamp": {MIDNIGHT:.3f},\n"trace":[ {body} ]\n }}\n'.encode(), points, legs


def _aircraft_job(a: Aircraft) -> tuple[Aircraft, bytes, int, npt.NDArray[np.void], int]:
    """Generation job: the trace's gzip bytes and JSON size; for a traced aircraft (not a far one)
    also its heatmap rows (the first point of each 30 s slice, as readsb takes it) and its points
    inside the box."""
    text, points, legs = _trace(a)
    packed = gzip.compress(text, compresslevel=GZIP_LEVEL, mtime=MTIME)
    if a.kind == "far":
        return a, packed, len(text), np.zeros(0, ROW), 0
    t = np.array([p[0] for p in points])
    lat, lon = np.round([p[1] for p in points], 6), np.round([p[2] for p in points], 6)  # as %f prints them
    inside = int(np.count_nonzero(_inside(lon, lat, _box())))
    starts = np.arange(SLICES) * SLICE_S
    at = np.searchsorted(t, starts)
    ok = at < len(t)
    ok[ok] &= t[at[ok]] < starts[ok] + SLICE_S
    idx = at[ok]
    rows = np.zeros(len(idx), ROW)
    rows["slice"], rows["hex"] = np.flatnonzero(ok), a.address | ((5 << 27) if a.mlat else 0)
    rows["lat"], rows["lon"] = np.round(lat[idx] * 1e6), np.round(lon[idx] * 1e6)
    rows["alt"] = [GROUND if points[i][3] == "ground" else round(points[i][3] / 25) for i in idx]
    rows["gs"] = [round(points[i][4] * 10) for i in idx]
    rows["cs"] = [a.legs[legs[i]].callsign.ljust(8).encode() for i in idx]
    rows["squawk"] = [int(a.legs[legs[i]].squawk) for i in idx]  # octal digits read as a decimal number
    return a, packed, len(text), rows, inside


# ---------------------------------------------------------------- the heatmaps


def _world(rng: np.random.Generator, addresses: npt.NDArray[np.int64], at_once: float) -> dict[str, npt.NDArray[Any]]:
    """The far-away aircraft of the heatmaps: each flies a straight line for part of the day, so that
    ``at_once`` fly at any time; always 15 degrees of latitude or more from the box."""
    n = len(addresses)
    duration = rng.uniform(0.4, 1.6, n) * at_once * DAY_S / (n - at_once)
    start = rng.uniform(-duration, DAY_S)
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    prefix = np.char.add(np.char.add(rng.choice(letters, n), rng.choice(letters, n)), rng.choice(letters, n))
    kind = rng.choice([0, 5, 3], n, p=[0.96, 0.03, 0.01])  # ADS-B, MLAT, TIS-B
    return {
        "hex": addresses | (kind << 27), "start": start, "end": start + duration,
        "lat": rng.choice([1, 1, 1, -1], n) * rng.uniform(33, 55, n), "lon": rng.uniform(-180, 180, n),
        "vlat": rng.uniform(-6e-4, 6e-4, n), "vlon": rng.choice([-1, 1], n) * rng.uniform(5e-4, 3e-3, n),
        "alt": rng.integers(1_100, 1_560, n), "gs": rng.integers(3_800, 5_000, n),
        "cs": np.char.ljust(np.char.add(prefix, rng.integers(1, 9999, n).astype(str)), 8).astype("S8"),
        "squawk": rng.integers(0, 8, (n, 4)) @ np.array([1000, 100, 10, 1]),  # octal digits read as decimal
    }  # fmt: skip


def _heatmap_job(job: tuple[int, dict[str, npt.NDArray[Any]], npt.NDArray[np.void]]) -> tuple[int, bytes, list[int]]:
    """Generation job: half hour ``hh``'s heatmap (gzip bytes) from the far-away aircraft flying in it
    and the traced ones' rows; and the aircraft in each slice."""
    hh, far, traced = job
    index = np.zeros(PER_FILE, ENTRY)
    body: list[bytes] = []
    at = PER_FILE
    world = []
    for k in range(PER_FILE):
        g = hh * PER_FILE + k
        t = g * SLICE_S
        on = (far["start"] <= t) & (t < far["end"])
        dt = t - far["start"][on]
        mine = traced[traced["slice"] == g]
        hexes = np.concatenate([far["hex"][on], mine["hex"]])
        lat = np.concatenate([np.round((far["lat"][on] + far["vlat"][on] * dt) * 1e6), mine["lat"]])
        lon = np.concatenate([np.round(((far["lon"][on] + far["vlon"][on] * dt + 180) % 360 - 180) * 1e6), mine["lon"]])
        alt, gs = np.concatenate([far["alt"][on], mine["alt"]]), np.concatenate([far["gs"][on], mine["gs"]])
        cs, squawk = np.concatenate([far["cs"][on], mine["cs"]]), np.concatenate([far["squawk"][on], mine["squawk"]])
        address = hexes & 0xFFFFFF
        order = np.argsort((address * 2_654_435_761) & 0xFFFFFFFF, kind="stable")  # readsb's table order
        hexes, lat, lon, alt, gs, cs, squawk, address = (
            x[order] for x in (hexes, lat, lon, alt, gs, cs, squawk, address)
        )
        info = ((address + g) & 1) == 0  # at most once a minute per aircraft, just before its position
        n = len(hexes)
        records = np.zeros(1 + n + int(info.sum()), ENTRY)
        start_ms = int((MIDNIGHT + t) * 1000)
        low = start_ms & 0xFFFFFFFF
        records[0] = (MARKER, start_ms >> 32, low - (1 << 32) if low >= 1 << 31 else low, SLICE_S * 1000, 0)
        pos = 1 + np.arange(n) + np.cumsum(info)
        records["hex"][pos] = hexes.astype(np.uint32).view(np.int32)
        records["lat"][pos], records["lon"][pos], records["alt"][pos], records["gs"][pos] = lat, lon, alt, gs
        where = pos[info] - 1
        words = np.frombuffer(cs[info].tobytes(), dtype=[("lon", "<i4"), ("alt", "<i2"), ("gs", "<i2")])
        records["hex"][where], records["lat"][where] = address[info], (1 << 30) | squawk[info]
        records["lon"][where], records["alt"][where], records["gs"][where] = words["lon"], words["alt"], words["gs"]
        index[k]["hex"] = at
        at += len(records)
        body.append(records.tobytes())
        world.append(n)
    raw = index.tobytes() + b"".join(body)
    return hh, gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=MTIME), world


# ---------------------------------------------------------------- the day on disk


class _SplitWriter(io.RawIOBase):
    """One stream written into two files, the first ending at ``at`` bytes (``split -b``)."""

    def __init__(self, first: Path, second: Path, at: int) -> None:
        self._files = [first.open("wb"), second.open("wb")]
        self._at = at
        self.written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.written

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        head = max(min(self._at - self.written, len(view)), 0)
        if head:
            self._files[0].write(view[:head])
        if head < len(view):
            self._files[1].write(view[head:])
        self.written += len(view)
        return len(view)

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _add(tar: tarfile.TarFile, name: str, data: bytes | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.mtime, info.uname, info.gname = MTIME, "root", "root"
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def key() -> str:
    return f"backfill-v{VERSION}-{TRACES}-{SEED}"


def build_day(folder: Path, workers: int) -> None:
    """Write the day's two tar parts, ``manifest.json`` (what it holds and the truth the backfill is
    checked against) and ``names.json`` (its trace members by kind) into ``folder``."""
    started = time.perf_counter()
    rng = np.random.default_rng(SEED)
    box = _box()
    fleet = _box_fleet(rng, box)
    addresses = rng.choice(np.arange(1, 0xFFFFFF, dtype=np.int64), TRACES, replace=False)
    n_box = len(fleet)
    fleet = [Aircraft(int(addresses[i]), a.kind, a.legs, a.seed, a.r, a.t, a.desc, a.db_flags, a.mlat)
             for i, a in enumerate(fleet)]  # fmt: skip
    near = [_far_aircraft(rng, int(addresses[n_box + i]), "near") for i in range(NEAR)]
    pool = [_far_aircraft(rng, 0xF00000 + i, "far") for i in range(FAR_POOL)]  # bytes reused under far names
    far_addresses = addresses[n_box + NEAR :]
    far_pool_of = rng.integers(0, FAR_POOL, len(far_addresses)).tolist()
    print(f"  building the day in {folder} ({n_box:,} aircraft over the box, {workers} processes)", flush=True)

    data: dict[str, bytes] = {}
    pool_bytes = [b""] * FAR_POOL
    traced: list[npt.NDArray[np.void]] = []
    ratios: list[float] = []
    military_hex: list[int] = []
    kept = 0
    with ProcessPoolExecutor(workers) as ex:
        for a, packed, raw_size, rows, inside in ex.map(_aircraft_job, [*fleet, *near, *pool], chunksize=8):
            if a.kind == "far":
                pool_bytes[a.address - 0xF00000] = packed
                ratios.append(raw_size / len(packed))
                continue
            if a.kind == "near" and inside:
                raise RuntimeError(f"{a.name}: a trace meant to stay near the box has {inside} points inside it")
            data[a.name] = packed
            traced.append(rows)
            kept += a.kind == "box" and inside > 0
            if a.db_flags == 1:
                military_hex.append(a.address)
        print(f"  traces made ({time.perf_counter() - started:.0f} s)", flush=True)
        rows = np.concatenate(traced)
        world = _world(rng, far_addresses, WORLD_AT_ONCE - len(rows) / SLICES)
        jobs = []
        for hh in range(48):
            on = (world["start"] < (hh + 1) * 1800) & (world["end"] > hh * 1800)
            mine = rows[(rows["slice"] >= hh * PER_FILE) & (rows["slice"] < (hh + 1) * PER_FILE)]
            jobs.append((hh, {k: v[on] for k, v in world.items()}, mine))

        folder.mkdir(parents=True)
        aa, ab = folder / f"{TAG}.tar.aa", folder / f"{TAG}.tar.ab"
        out = _SplitWriter(aa, ab, SPLIT_AT)
        per_slice: list[int] = []
        heatmap_bytes = 0
        far_names = [f"traces/{x & 0xFF:02x}/trace_full_{x:06x}.json" for x in far_addresses.tolist()]
        folders: dict[str, list[tuple[str, bytes]]] = {f"{x:02x}": [] for x in range(256)}
        for name, packed in [*data.items(), *zip(far_names, (pool_bytes[i] for i in far_pool_of), strict=True)]:
            folders[name.split("/")[1]].append((name, packed))
        with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
            _add(tar, ".")
            _add(tar, "./heatmap")
            for hh, packed, n_world in ex.map(_heatmap_job, [jobs[h] for h in rng.permutation(48)]):
                _add(tar, f"./heatmap/{hh:02d}.bin.ttf", packed)
                heatmap_bytes += len(packed)
                per_slice.extend(n_world)
            print(f"  heatmaps made ({time.perf_counter() - started:.0f} s)", flush=True)
            _add(tar, "./acas")
            _add(tar, "./acas/acas.csv.gz", gzip.compress(b"time,hex,ra\n" * 400, mtime=MTIME))
            _add(tar, "./traces")
            for xx in rng.permutation(sorted(folders)).tolist():  # readdir order: no sort
                _add(tar, f"./traces/{xx}")
                for k in rng.permutation(len(folders[xx])).tolist():
                    _add(tar, f"./{folders[xx][k][0]}", folders[xx][k][1])
            _add(tar, "./README.txt", f"globe_history {DAY} {TAG} (vzmon's benchmark: synthetic)\n".encode())
        out.close()

    inside = _inside(rows["lon"] * 1e-6, rows["lat"] * 1e-6, box)  # as the heatmap reader tests it
    on_grid = (rows["slice"] * SLICE_S) % 60 == 0
    military = np.isin(rows["hex"] & 0xFFFFFF, military_hex)
    at_once = np.bincount(rows["slice"][inside], minlength=SLICES)
    sizes = [len(b) for b in data.values()] + [len(pool_bytes[i]) for i in far_pool_of]
    manifest = {
        "key": key(), "parts": [aa.name, ab.name], "bytes": aa.stat().st_size + ab.stat().st_size,
        "box_aircraft": n_box, "kept": kept, "military_aircraft": len(military_hex),
        "civil_positions": int(np.count_nonzero(inside & on_grid & ~military)),
        "military_positions": int(np.count_nonzero(inside & on_grid & military)),
        "box_at_once": [float(at_once.mean()), int(at_once.min()), int(at_once.max())],
        "world_at_once": [float(np.mean(per_slice)), int(np.min(per_slice)), int(np.max(per_slice))],
        "trace_gz_mean": float(np.mean(sizes)), "trace_bytes": int(np.sum(sizes)),
        "far_gz_mean": float(np.mean([len(b) for b in pool_bytes])), "far_json_to_gz": float(np.mean(ratios)),
        "heatmap_bytes": heatmap_bytes, "seconds": time.perf_counter() - started,
    }  # fmt: skip
    names = {"box": [a.name for a in fleet], "near": [a.name for a in near], "far": far_names}
    (folder / "names.json").write_text(json.dumps(names), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def cached_day() -> tuple[Path, dict[str, Any], bool]:
    """The day's folder and manifest, built first (in a child process) if absent; True if built now.
    Raises SystemExit when the disk has less than twice the day free."""
    folder = CACHE / key()
    if not (folder / "manifest.json").is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        need = TRACES * 37_000 + 48 * 8_500_000
        free = shutil.disk_usage(CACHE).free
        if free < 2 * need:
            raise SystemExit(
                f"bench_backfill: the day takes ~{need / 1e9:.1f} GB and {CACHE} has {free / 1e9:.1f} GB free: free "
                f"at least {2 * need / 1e9:.1f} GB (twice the day), e.g. by removing old folders in {CACHE}"
            )
        for old in CACHE.glob("backfill-v*"):  # this benchmark's days of other generator versions, or cut short
            if old.is_dir() and old.name != key():
                print(f"  removing {old} (another version of this benchmark's day)")
                shutil.rmtree(old)
        partial = CACHE / f"{key()}.partial"
        if partial.exists():
            shutil.rmtree(partial)
        # in a child process, so that this one's memory is that of a backfill only
        root = Path(__file__).resolve().parents[1]
        subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_backfill", "--build", str(partial)], cwd=root, check=True
        )
        partial.rename(folder)
        built = True
    else:
        built = False
    return folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")), built


# ---------------------------------------------------------------- measuring


def _busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores; steal included), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Watch:
    """While running: this process and its descendants (workers, resource tracker) read from /proc
    every ``every`` s: each one's peak RSS (VmHWM) and CPU seconds, and the peak of their RSS and PSS
    summed at one time; and the machine's busy CPU seconds."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self.procs: dict[int, dict[str, Any]] = {}
        self.sum_rss_kb = self.sum_pss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Watch:
        Path("/proc/self/clear_refs").write_text("5")  # resets this process's VmHWM to its RSS now
        self.busy_s = _busy_s()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.busy_s = _busy_s() - self.busy_s

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    @staticmethod
    def _family() -> list[int]:
        parent: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    parent[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        found = frontier = [os.getpid()]
        while frontier:
            frontier = [pid for pid, pp in parent.items() if pp in frontier]
            found = found + frontier
        return found

    def _sample(self) -> None:
        rss = pss = 0
        for pid in self._family():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            vm = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith("Vm")}
            if "VmRSS" not in vm:
                continue
            p = self.procs.setdefault(pid, {"hwm_kb": 0, "cpu_s": 0.0})
            p["hwm_kb"] = max(p["hwm_kb"], vm["VmHWM"])
            p["cpu_s"] = (int(stat[11]) + int(stat[12])) / self._tick
            rss += vm["VmRSS"]
            pss += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
        self.sum_rss_kb, self.sum_pss_kb = max(self.sum_rss_kb, rss), max(self.sum_pss_kb, pss)


def _settings(out: Path) -> Any:
    from monitor.settings.load import load_settings

    return load_settings(env={"VZMON_CONFIG": os.devnull, "VZMON_OUTPUTS": str(out)})


def run_backfill(parts: list[Path], out: Path, workers: int, profile: bool = False) -> dict[str, Any]:
    """One backfill of the day into a new store under ``out``: its time, CPU, memory and what it stored."""
    from monitor.pipeline.backfill import SOURCE, backfill
    from monitor.store.archive import stored_day
    from monitor.store.db import Store

    settings = _settings(out)
    profiler = cProfile.Profile() if profile else None
    before = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with Watch() as watch:
        if profiler is not None:
            profiler.enable()
        results = backfill(settings, None, None, archive=parts, workers=workers)
        if profiler is not None:
            profiler.disable()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Store.open_existing(settings.store_db) as store:
        day = stored_day(store, SOURCE, DAY)
        civil = int(store.scalar("SELECT COALESCE(SUM(n_positions), 0) FROM position_blocks"))
        military = int(store.scalar("SELECT COUNT(*) FROM archive_military"))
        store_mb = store.size_bytes() / 1e6
        parquet_mb = int(store.scalar("SELECT COALESCE(SUM(bytes), 0) FROM compacted_days")) / 1e6
        free = int(store.scalar("PRAGMA freelist_count")) * int(store.scalar("PRAGMA page_size"))
        live_mb = store_mb - free / 1e6  # pages compaction freed are reused by the next days
    me = os.getpid()
    cpu_main = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    children = sorted((p for pid, p in watch.procs.items() if pid != me), key=lambda p: -p["cpu_s"])
    cpu_reaped = ended.ru_utime + ended.ru_stime - reaped.ru_utime - reaped.ru_stime  # exact, for children that ended
    cpu_children = max(sum(p["cpu_s"] for p in children), cpu_reaped)
    return {
        "results": results, "day": day, "civil": civil, "military": military, "wall": wall,
        "cpu_main": cpu_main, "cpu_children": cpu_children, "others_s": watch.busy_s - cpu_main - cpu_children,
        "main_hwm_mb": watch.procs[me]["hwm_kb"] / 1024, "children": children,
        "sum_rss_mb": watch.sum_rss_kb / 1024, "sum_pss_mb": watch.sum_pss_kb / 1024, "profile": profiler,
        "reaped_maxrss_mb": ended.ru_maxrss / 1024 if cpu_reaped > 0 else None, "store_mb": store_mb,
        "parquet_mb": parquet_mb, "live_mb": live_mb,
    }  # fmt: skip


def read_members(folder: Path, manifest: dict[str, Any], wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    """The day's members named in ``wanted``, and its heatmaps, streamed from its parts."""
    from monitor.sources.archive.day import half_hour_of
    from monitor.sources.archive.tarstream import members

    parts = [(folder / p).open("rb") for p in manifest["parts"]]
    try:
        yield from members(parts, lambda n: n in wanted or half_hour_of(n) is not None, str(DAY))
    finally:
        for f in parts:
            f.close()


def straightforward(data: bytes, box: tuple[float, float, float, float]) -> bool:
    """The straightforward path: gunzip, parse the whole JSON, test every point against the box."""
    west, south, east, north = box
    doc = json.loads(gzip.decompress(data))
    return any(west <= p[2] <= east and south <= p[1] <= north for p in doc["trace"])


def cpu_per_member(sample: dict[str, list[bytes]], fn: Any) -> dict[str, float]:
    """Mean CPU seconds per member of each class of ``sample`` through ``fn(data)`` (best of 2)."""
    out = {}
    for cls, blobs in sample.items():
        best = math.inf
        for _ in range(2):
            started = time.process_time()
            for data in blobs:
                fn(data)
            best = min(best, time.process_time() - started)
        out[cls] = best / len(blobs)
    return out


def _top(profiler: cProfile.Profile, n: int, by: str = "tottime") -> str:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(by).print_stats(n)
    lines = [line for line in text.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(
        "    " + line.replace(str(Path(__file__).resolve().parents[1]) + "/", "") for line in lines[start:]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="trace readers for the backfill (default 2)")
    parser.add_argument("--sample", type=int, default=3_000, help="members in the baseline's sample (default 3,000)")
    parser.add_argument("--profile", action="store_true", help="also print cProfile tables of the hot paths")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the child process that builds the day
    args = parser.parse_args(argv)
    if args.build:
        build_day(args.build, max(os.cpu_count() or 1, 1))
        return 0

    from monitor.checks import load_checks
    from monitor.sources.archive.day import half_hour_of, half_hour_snapshots
    from monitor.sources.archive.traces import prefilter, read_trace

    print("bench_backfill: one day of adsb.lol's archive at the real scale, backfilled from its local tar parts")
    print(f"  machine          {machine()}")
    folder, manifest, built = cached_day()
    parts = [folder / p for p in manifest["parts"]]
    n_box = manifest["box_aircraft"]
    counts = {"far": TRACES - n_box - NEAR, "near": NEAR, "box": n_box}
    print(
        f"  day              {TAG}: {TRACES:,} traces ({counts['far']:,} far away repeating the bytes of {FAR_POOL} "
        f"of {manifest['far_gz_mean'] / 1e3:.1f} KB, JSON {manifest['far_json_to_gz']:.1f}x that; {NEAR} near the box; "
        f"{n_box:,} over it), mean {manifest['trace_gz_mean'] / 1e3:.1f} KB; 48 heatmaps of "
        f"{manifest['heatmap_bytes'] / 48e6:.1f} MB; {manifest['bytes'] / 1e9:.2f} GB in 2 parts"
    )
    w, b = manifest["world_at_once"], manifest["box_at_once"]
    print(
        f"  slices           {w[0]:,.0f} aircraft worldwide (min {w[1]:,}, max {w[2]:,}), {b[0]:.0f} over the box "
        f"(min {b[1]}, max {b[2]}); an info record a minute per aircraft"
    )
    print(
        f"  cache            {folder} ({'built now' if built else 'reused'}; generating it took "
        f"{manifest['seconds']:.0f} s)"
    )

    with tempfile.TemporaryDirectory(prefix="bench_backfill-") as tmp:
        checks = load_checks(_settings(Path(tmp) / "a").checks_file)
        run = run_backfill(parts, Path(tmp) / "a", args.workers)
        profiled = run_backfill(parts, Path(tmp) / "b", args.workers, profile=True) if args.profile else None
    day = run["day"]
    cpu_total = run["cpu_main"] + run["cpu_children"]
    print(
        f"  backfill         {run['wall']:.1f} s wall; CPU {cpu_total:.1f} s (this process {run['cpu_main']:.1f} s, "
        f"its {args.workers} workers and helpers {run['cpu_children']:.1f} s); "
        f"{manifest['bytes'] / 1e6 / run['wall']:.0f} MB/s of tar; other processes took {run['others_s']:.1f} CPU-s"
    )
    if run["others_s"] > 0.05 * (os.cpu_count() or 1) * run["wall"]:
        print(
            f"  warning          other processes took {run['others_s']:.0f} CPU-s during the backfill: its wall time "
            "(and the ratio) say more about them than about vzmon; run again on a quiet machine"
        )
    children = " + ".join(f"{p['hwm_kb'] / 1024:.0f}" for p in run["children"])
    if run["reaped_maxrss_mb"] is None:
        reaped = "RUSAGE_CHILDREN saw none of them"
    elif built:
        reaped = "RUSAGE_CHILDREN's ru_maxrss counts the build's process too"
    else:
        reaped = (
            f"RUSAGE_CHILDREN's ru_maxrss {run['reaped_maxrss_mb']:.0f} MB, no worker's: a spawned worker is forked "
            "from this process before its exec, and Linux keeps the larger RSS"
        )
    print(
        f"  peak RSS         this process {run['main_hwm_mb']:.0f} MB (VmHWM reset before the run = ru_maxrss of "
        f"RUSAGE_SELF); its workers and helpers {children} MB (each one's VmHWM via /proc; {reaped}); all at once "
        f"{run['sum_rss_mb']:.0f} MB (PSS {run['sum_pss_mb']:.0f} MB)"
    )
    ok = (
        day is not None
        and (day.status, day.snapshots, day.gaps, day.traces_kept) == ("complete", 1_440, 0, manifest["kept"])
        and (run["civil"], run["military"]) == (manifest["civil_positions"], manifest["military_positions"])
    )
    if day is None:
        print(f"  checks           the day was not stored: {run['results']}")
    else:
        print(
            f"  checks           {day.snapshots:,} snapshots, {day.gaps} gaps; {day.traces_kept:,} traces kept, of the "
            f"{manifest['kept']:,} aircraft with a point over the box ({n_box:,} made for it); positions "
            f"{run['civil']:,} civil + {run['military']:,} military (truth {manifest['civil_positions']:,} + "
            f"{manifest['military_positions']:,}): {'right' if ok else 'WRONG'}"
        )
        print(
            f"  store            {run['live_mb']:.1f} MB of SQLite in use for the day (its snapshots, counts and "
            f"archive tables; the file is {run['store_mb']:.1f} MB, the rest pages its compaction freed for the next "
            f"days) and {run['parquet_mb']:.1f} MB of Parquet (its positions, compacted as the day is stored)"
        )

    box = _box()
    names = json.loads((folder / "names.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(1)
    picked = {c: set(rng.choice(names[c], max(1, round(args.sample * n / TRACES)), replace=False).tolist())
              for c, n in counts.items()}  # fmt: skip
    del names
    sample: dict[str, list[bytes]] = {c: [] for c in counts}
    heatmaps: dict[int, bytes] = {}
    for name, data in read_members(folder, manifest, set().union(*picked.values())):
        hh = half_hour_of(name)
        if hh is not None:
            heatmaps[hh] = data
        else:
            sample[next(c for c in counts if name in picked[c])].append(data)
    pattern = prefilter(box)

    def vzmon(data: bytes) -> object:
        return read_trace(data, "bench", DAY, box, pattern)

    base = cpu_per_member(sample, lambda d: straightforward(d, box))
    ours = cpu_per_member(sample, vzmon)
    base_day, ours_day = sum(base[c] * counts[c] for c in counts), sum(ours[c] * counts[c] for c in counts)
    sampled = ", ".join(f"{len(sample[c])} {c}" for c in counts)
    print(
        f"  baseline         gunzip + json.loads + box test, 1 process, CPU per member ({sampled}): "
        + ", ".join(f"{c} {base[c] * 1e3:.2f} ms" for c in counts)
        + f"; x the day's members of each = {base_day:.0f} s ({manifest['trace_bytes'] / 1e6 / base_day:.1f} MB/s)"
    )
    print(
        "  prefilter path   read_trace on the same sample, 1 process: "
        + ", ".join(f"{c} {ours[c] * 1e3:.2f} ms" for c in counts)
        + f"; the day's traces {ours_day:.0f} CPU-s ({manifest['trace_bytes'] / 1e6 / ours_day:.0f} MB/s of gzip a "
        f"core), {base_day / ours_day:.1f}x the baseline"
    )
    ratio = base_day / run["wall"]
    print(
        f"  ratio            {ratio:.1f}x: the straightforward path's day on 1 core ({base_day:.0f} s) over the "
        f"backfill's wall on {args.workers} ({run['wall']:.1f} s); {base_day / cpu_total:.1f}x per CPU second"
    )

    areas = {"box": box, **{c.name: c.box for c in checks.controls}}

    def decode() -> None:
        for hh in range(48):
            half_hour_snapshots(hh, heatmaps[hh], DAY, 60, box, TAG, areas, strict=True)

    started = time.process_time()
    decode()
    print(
        f"  heatmaps alone   the 48 heatmaps ({manifest['heatmap_bytes'] / 1e6:.0f} MB) to snapshots every 60 s: "
        f"{time.process_time() - started:.1f} CPU-s"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(decode)
        print("  profile          the 48 heatmaps (cProfile, by own time)\n" + _top(profiler, 8))
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [vzmon(d) for blobs in sample.values() for d in blobs])
        print("  profile          read_trace on the sample (cProfile, by own time)\n" + _top(profiler, 8))
        if profiled is not None and profiled["profile"] is not None:
            print(f"  profile          the backfill's own process, {profiled['wall']:.1f} s wall (by cumulative time)")
            print(_top(profiled["profile"], 25, "cumulative"))

    met = run["wall"] <= 60 and run["sum_rss_mb"] <= 300 and ratio >= 5 and ok
    print(
        f"  targets (<= 60 s wall on 2 cores, <= 300 MB peak RSS of all its processes at once, >= 5x the "
        f"straightforward path, the day stored right): {'met' if met else 'NOT met'} ({run['wall']:.1f} s, "
        f"{run['sum_rss_mb']:.0f} MB, {ratio:.1f}x, {'right' if ok else 'WRONG'})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
