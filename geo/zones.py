"""Zones: the monitored FIR, the ring sectors around it and any user zones, loaded and validated.

Place in the flow: ``geo`` answers "which zone is this position in?" for ``monitor``. This module
owns the :class:`Zone` type, the shipped SVZM data and the reading of user zone files;
``geo.ring`` builds the ring around a FIR, ``geo.zoneset`` assembles both into the zones the
monitor counts, and ``geo.fence`` classifies positions. ``geo`` imports nothing from ``monitor``.

Every geometry is WGS 84 longitude/latitude (EPSG:4326, shapely x = lon, y = lat).

Zone files are GeoJSON FeatureCollections; bad ones raise :class:`ZoneFileError`, whose message
names the file and the problem in one line.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo.bounds import BBox

__all__ = [
    "DEFAULT_RING_NM",
    "FIR_CODE",
    "MAX_RING_NM",
    "OUTSIDE",
    "RING_FILE",
    "UNKNOWN",
    "CutLine",
    "Zone",
    "ZoneFileError",
    "ZoneSource",
    "builtin_fir",
    "builtin_ring",
    "builtin_ring_cuts",
    "check_not_swapped",
    "load_zone_file",
    "ring_cuts_from",
]

FIR_CODE = "SVZM"
OUTSIDE = "outside"  # a position inside no zone
UNKNOWN = "unknown"  # no position (NaN latitude or longitude)
DEFAULT_RING_NM = 120.0
MAX_RING_NM = 300.0  # up to this width the published cut lines and borders used as cuts reach beyond the ring
RING_FILE = "svzm_ring_120nm.geojson"  # the ring sectors at DEFAULT_RING_NM, shipped precomputed

ZoneKind = Literal["fir", "ring", "extra"]
# GeoJSON "crs" names that mean WGS 84 longitude/latitude (RFC 7946 drops the member; old files keep it).
_WGS84_NAMES = frozenset(
    name.lower()
    for name in (
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "urn:ogc:def:crs:EPSG::4326",
        "urn:ogc:def:crs:EPSG:6.6:4326",
        "EPSG:4326",
        "CRS84",
        "OGC:CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "https://www.opengis.net/def/crs/EPSG/0/4326",
    )
)
RESERVED_CODES = frozenset({OUTSIDE, UNKNOWN})


class ZoneFileError(ValueError):
    """A zone file cannot be used. ``str(err)`` is one line naming the file and what to fix."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"zone file {self.path}: {problem}")


@dataclass(frozen=True)
class Zone:
    """One named area. ``geometry`` is a (Multi)Polygon in lon/lat degrees, EPSG:4326."""

    code: str
    name: str
    geometry: Polygon | MultiPolygon = field(repr=False)
    kind: ZoneKind
    neighbour: str | None = None

    @property
    def bbox(self) -> BBox:
        return BBox(*shapely.bounds(self.geometry).tolist())

    @property
    def area_km2(self) -> float:
        """Geodesic area on the WGS 84 ellipsoid, km²."""
        from pyproj import Geod  # only where areas are shown: polling never loads pyproj

        area, _ = Geod(ellps="WGS84").geometry_area_perimeter(self.geometry)
        return abs(area) / 1e6


@dataclass(frozen=True)
class CutLine:
    """A line that separates two ring sectors, starting on the FIR border and running outwards."""

    between: tuple[str, str]
    description: str
    line: LineString = field(repr=False)


@dataclass(frozen=True)
class ZoneSource:
    """Where to take zones from a user GeoJSON: features whose ``property`` is one of ``values``."""

    path: Path
    property: str = "id"
    values: tuple[str, ...] = ()


def _shipped_geometry(geometry: dict[str, Any]) -> BaseGeometry:
    """A geometry of the shipped files, parsed by GEOS (several times faster than building it from
    Python lists: the ring is thousands of vertices, read on every cron run)."""
    geom: BaseGeometry = shapely.from_geojson(json.dumps(geometry))
    return geom


def _data_text(name: str) -> str:
    return resources.files("geo").joinpath("data", name).read_text(encoding="utf-8")


@functools.cache
def builtin_fir() -> Zone:
    """The Maiquetía FIR (SVZM) shipped in ``geo/data/svzm_fir.geojson`` (see SOURCES.md there)."""
    doc = json.loads(_data_text("svzm_fir.geojson"))
    feature = doc["features"][0]
    geom = _shipped_geometry(feature["geometry"])
    if not isinstance(geom, Polygon):  # the build script writes exactly one Polygon
        raise TypeError(f"svzm_fir.geojson holds a {geom.geom_type}, expected a Polygon")
    return Zone(code=FIR_CODE, name=feature["properties"]["name"], geometry=geom, kind="fir")


@functools.cache
def builtin_ring(ring_nm: float) -> tuple[Zone, ...] | None:
    """The ring sectors around the built-in SVZM as shipped for the default width
    (``geo/data/svzm_ring_120nm.geojson``, built by ``scripts/build_zones.py`` with
    ``geo.ring.ring_sectors``); None for another width, which ``geo.ring`` computes."""
    if ring_nm != DEFAULT_RING_NM:
        return None
    doc = json.loads(_data_text(RING_FILE))
    zones = []
    for f in doc["features"]:
        geom = _shipped_geometry(f["geometry"])
        if not isinstance(geom, Polygon | MultiPolygon):
            raise TypeError(f"{RING_FILE} holds a {geom.geom_type}, expected a (Multi)Polygon")
        p = f["properties"]
        zones.append(Zone(code=p["code"], name=p["name"], geometry=geom, kind="ring", neighbour=p["neighbour"]))
    return tuple(zones)


@functools.cache
def builtin_ring_cuts() -> tuple[tuple[CutLine, ...], tuple[tuple[str, LineString], ...]]:
    """Cut lines between ring sectors, and the SVZM border parts labelled by the neighbour across.

    Both come from ``geo/data/svzm_ring_cuts.geojson``.
    """
    return ring_cuts_from(json.loads(_data_text("svzm_ring_cuts.geojson")))


def ring_cuts_from(doc: Mapping[str, Any]) -> tuple[tuple[CutLine, ...], tuple[tuple[str, LineString], ...]]:
    """Cut lines (features with ``role`` "cut") and labelled border parts (the others) of a cuts
    GeoJSON document, as ``geo/data/svzm_ring_cuts.geojson`` holds them."""
    cuts: list[CutLine] = []
    borders: list[tuple[str, LineString]] = []
    for f in doc["features"]:
        props, line = f["properties"], LineString(f["geometry"]["coordinates"])
        if props["role"] == "cut":
            a, b = props["between"].split("|")
            cuts.append(CutLine(between=(a, b), description=props["description"], line=line))
        else:
            borders.append((props["neighbour"], line))
    return tuple(cuts), tuple(borders)


def _read_geojson(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (some Windows tools write one) is fine
    except FileNotFoundError:
        raise ZoneFileError(path, "file not found; fix the path in the zones settings") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ZoneFileError(path, f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZoneFileError(path, f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ZoneFileError(path, "not a GeoJSON FeatureCollection (needs type FeatureCollection and a features list)")
    crs = doc.get("crs")
    if crs is not None:
        props = crs.get("properties") if isinstance(crs, dict) else None
        name = props.get("name") if isinstance(props, dict) else crs if isinstance(crs, str) else None
        if not isinstance(name, str) or name.strip().lower() not in _WGS84_NAMES:
            raise ZoneFileError(
                path,
                f"CRS is {name or json.dumps(crs)}, not WGS 84; reproject to EPSG:4326 lon/lat "
                "(e.g. ogr2ogr -t_srs EPSG:4326)",
            )
    return doc


def _check_coordinates(path: Path, label: str, geom: Polygon | MultiPolygon) -> None:
    xmin, ymin, xmax, ymax = shapely.bounds(geom).tolist()
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise ZoneFileError(path, f"feature {label}: coordinates are not finite numbers")
    if max(abs(xmin), abs(xmax)) > 180 or max(abs(ymin), abs(ymax)) > 180:
        raise ZoneFileError(
            path,
            f"feature {label}: coordinates up to {max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)):.0f} are not "
            "degrees; the file looks projected, reproject to EPSG:4326 lon/lat",
        )
    if max(abs(ymin), abs(ymax)) > 90:
        raise ZoneFileError(
            path,
            f"feature {label}: latitude {max(abs(ymin), abs(ymax)):.2f} is beyond ±90; coordinates look "
            "like lat/lon swapped, GeoJSON wants [longitude, latitude]",
        )


def check_not_swapped(path: Path, zone: Zone, near: BBox, near_what: str) -> None:
    """Refuse a zone that lies far from ``near`` but would lie next to it with lat/lon swapped.

    The one check for both a user FIR (``near``: around the built-in SVZM) and extra zones
    (``near``: around the FIR and ring). Raises :class:`ZoneFileError` naming the file and feature.
    """
    b = zone.bbox
    if b.intersects(near):
        return
    if b.west >= -90 and b.east <= 90 and BBox(b.south, b.west, b.north, b.east).intersects(near):
        raise ZoneFileError(
            path,
            f"feature {zone.code}: lies at lon {b.west:.1f}…{b.east:.1f}, lat {b.south:.1f}…{b.north:.1f}, far from "
            f"{near_what}; read as lat/lon it would lie next to it: coordinates look like lat/lon swapped, "
            "GeoJSON wants [longitude, latitude]",
        )


def load_zone_file(source: ZoneSource, kind: ZoneKind = "extra") -> list[Zone]:
    """Load the features of ``source.path`` whose ``source.property`` is one of ``source.values``.

    Zones come back in the order of ``source.values``; each zone's code is its property value.
    Raises :class:`ZoneFileError` for a missing or non-JSON file, a non-WGS 84 CRS, no feature
    selected, a value selected twice, a non-polygon or invalid geometry, or coordinates that are
    not lon/lat degrees (projected, or lat/lon swapped).
    """
    path = source.path
    doc = _read_geojson(path)
    if not source.values:
        raise ZoneFileError(path, f"no values given to select features by property {source.property!r}")
    by_value: dict[str, list[dict[str, Any]]] = {}
    for f in doc["features"]:
        props = f.get("properties") if isinstance(f, dict) else None
        value = props.get(source.property) if isinstance(props, dict) else None
        if value is not None:
            by_value.setdefault(str(value), []).append(f)
    missing = [v for v in source.values if v not in by_value]
    if missing:
        seen = sorted(by_value)[:8]
        hint = f"values present include {', '.join(seen)}" if seen else f"no feature has property {source.property!r}"
        raise ZoneFileError(path, f"no feature selected for {source.property}={', '.join(missing)} ({hint})")
    reserved = sorted(RESERVED_CODES & set(source.values))
    if reserved:
        raise ZoneFileError(path, f"{', '.join(reserved)} is reserved for positions in no zone; select another feature")
    repeated = sorted({v for v in source.values if source.values.count(v) > 1})
    if repeated:
        raise ZoneFileError(path, f"{source.property}={', '.join(repeated)} is selected more than once")
    zones: list[Zone] = []
    for value in source.values:
        features = by_value[value]
        if len(features) > 1:
            raise ZoneFileError(path, f"{len(features)} features have {source.property}={value}; make it unique")
        f = features[0]
        geometry = f.get("geometry")
        if not isinstance(geometry, dict):
            raise ZoneFileError(path, f"feature {value}: has no geometry")
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise ZoneFileError(
                path, f"feature {value}: geometry is {geometry.get('type')!r}, a zone needs a Polygon or MultiPolygon"
            )
        if not isinstance(geometry.get("coordinates"), list) or not geometry["coordinates"]:
            raise ZoneFileError(path, f"feature {value}: unreadable geometry (no list of coordinates)")
        try:
            geom = shape(geometry)
        except (AttributeError, KeyError, TypeError, ValueError, IndexError, shapely.errors.ShapelyError) as exc:
            why = f"{exc.__class__.__name__}: {exc}"
            raise ZoneFileError(path, f"feature {value}: unreadable geometry ({why})") from None
        if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
            raise ZoneFileError(
                path, f"feature {value}: geometry is {geom.geom_type}, a zone needs a Polygon or MultiPolygon"
            )
        _check_coordinates(path, value, geom)
        if not geom.is_valid:
            raise ZoneFileError(
                path,
                f"feature {value}: invalid geometry ({shapely.is_valid_reason(geom)}); "
                "repair it, e.g. with shapely.make_valid",
            )
        props = f.get("properties")
        name = str(props.get("name") or value) if isinstance(props, dict) else value
        zones.append(Zone(code=value, name=name, geometry=geom, kind=kind))
    return zones
