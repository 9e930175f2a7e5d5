"""A real HTTP server on 127.0.0.1 that speaks the readsb-family "v2" protocol of adsb.lol and adsb.fi.

What it implements (facts from ../shared/reference/opensky.md §6.1-6.3 and history.md §C):
- ``GET /v2/point/{lat}/{lon}/{radius}`` (adsb.lol) and ``GET /v2/lat/{lat}/lon/{lon}/dist/{radius}``
  (adsb.lol's alias, adsb.fi's route; mount it under ``/api`` for adsb.fi); radius in nautical
  miles, at most 250 (more is 422, as adsb.lol's path validation answers), lat -90..90, lon
  -180..180.
- The answer is ``{"ac": [...], "now": <epoch ms>, "total", "ctime", "ptime", "msg"}``: every
  aircraft of the sky within the radius (haversine), each with ``dst`` (nm) and ``dir`` (degrees
  from the query point), as readsb lists them; an empty result is ``200 {"ac": []}``, not an
  error. Aircraft without a position are listed in every circle (readsb keeps them by other
  means; a client must not drop them silently).
- Scripted faults, consumed one per request: ``Fault`` from ``tests.fake_opensky``, played by its
  ``FaultHandler`` (status, body, delay, drop, hold, truncate, drip).
- Every request is recorded with its arrival time on the server's clock and its connection
  (``Seen.connection``: the client port), and the most requests ever in flight at once
  (``max_in_flight``), so a test can check the spacing, the one-at-a-time rule and that each
  request came on a new connection.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fake_opensky import Fault, FaultHandler, Loopback

__all__ = ["FakeReadsb", "Seen", "sky_aircraft"]

EARTH_NM = 6371.0088 / 1.852


@dataclass(frozen=True)
class Seen:
    path: str
    at: float  # server clock when the request arrived
    connection: int  # client port: a new one per new connection
    headers: dict[str, str]


def sky_aircraft(hex_: str, lat: float | None, lon: float | None, **fields: Any) -> dict[str, Any]:
    """One aircraft as readsb lists it; ``fields`` add or override (``alt_baro="ground"``, ...)."""
    ac: dict[str, Any] = {"hex": hex_, "type": "adsb_icao", "flight": f"{hex_[-4:].upper():<8}",
                          "alt_baro": 35000, "alt_geom": 35500, "gs": 450.0, "track": 180.0, "baro_rate": 0,
                          "seen_pos": 0.4, "seen": 0.2, "rssi": -20.0}  # fmt: skip
    if lat is not None and lon is not None:
        ac["lat"], ac["lon"] = lat, lon
    ac.update(fields)
    return ac


def _distance_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    dist = 2 * EARTH_NM * math.asin(math.sqrt(min(1.0, a)))
    east = math.sin(dl) * math.cos(p2)
    north = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    bearing = math.degrees(math.atan2(east, north))
    return dist, bearing % 360


class FakeReadsb(Loopback):
    """Start with ``with FakeReadsb(sky) as server:``; ``server.url`` is the API root (adsb.lol's
    ``https://api.adsb.lol``, or adsb.fi's ``https://opendata.adsb.fi/api`` with ``prefix="/api"``)."""

    def __init__(self, sky: list[dict[str, Any]], *, prefix: str = "", clock: Callable[[], float] = time.time) -> None:
        self.sky = sky
        self.prefix = prefix
        self.clock = clock
        self.faults: deque[Fault] = deque()
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def circle(self, lat: float, lon: float, radius: float) -> dict[str, Any]:
        """The answer to one circle query."""
        started = time.perf_counter()
        out = []
        for ac in self.sky:
            row = dict(ac)
            if "lat" in ac and "lon" in ac:
                dist, bearing = _distance_nm(lat, lon, ac["lat"], ac["lon"])
                if dist > radius:
                    continue
                row["dst"], row["dir"] = round(dist, 3), round(bearing, 1)
            out.append(row)
        now_ms = int(self.clock() * 1000)
        took = int((time.perf_counter() - started) * 1000)
        return {"ac": out, "msg": "No error", "now": now_ms, "total": len(out), "ctime": now_ms, "ptime": took}

    def _route(self, path: str) -> tuple[float, float, float] | None:
        parts = path.removeprefix(self.prefix).strip("/").split("/")
        try:
            if len(parts) == 5 and parts[:2] == ["v2", "point"]:
                return float(parts[2]), float(parts[3]), float(parts[4])
            if len(parts) == 7 and parts[:2] == ["v2", "lat"] and parts[3] == "lon" and parts[5] == "dist":
                return float(parts[2]), float(parts[4]), float(parts[6])
        except ValueError:
            return None
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(FaultHandler):
            def _fault(self) -> bool:
                with server.lock:
                    fault = server.faults.popleft() if server.faults else None
                return fault is not None and self.play(fault)

            def do_GET(self) -> None:
                with server.lock:
                    server.seen.append(Seen(self.path, server.clock(), self.client_address[1], dict(self.headers)))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if self._fault():
                        return
                    query = server._route(self.path)
                    if query is None:
                        self._send(404, '{"detail": "Not Found"}')
                        return
                    lat, lon, radius = query
                    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= radius <= 250):
                        self._send(422, '{"detail": "lat, lon or radius out of range"}')
                        return
                    self._send(200, json.dumps(server.circle(lat, lon, radius)))
                finally:
                    with server.lock:
                        server.in_flight -= 1

        return Handler
