"""The ring around a FIR: every point outside it within a distance, split into sectors.

Place in the flow: ``scripts/build_zones.py`` calls :func:`ring_sectors` for the built-in SVZM at
the default width and ships the result (``geo/data/svzm_ring_120nm.geojson``, so a cron run never
builds it); ``geo.zoneset`` calls it for other widths, and :func:`whole_ring` for a FIR from a
user file; ``geo.fence`` then classifies against the result.

Distances are metres on the ground, never degrees: the FIR is projected to an azimuthal
equidistant projection centred on its centroid (EPSG:4326 -> AEQD), buffered there, and projected
back. Over the ~1,100 km from the centre to the far edge of the ring, AEQD's scale error is at
most ~0.5 % across the radial direction, about 1 km on a 120 NM ring; ``tests/test_ring.py``
measures the true geodesic width.

Sectors are named ``ring:<ICAO>`` after the neighbouring FIR across the part of the SVZM border
the sector faces. The label means "across from this part of the SVZM border", not membership of
that FIR: beyond the cut lines' published stretch a sector may cover a third FIR's airspace.
Users who need exact FIR membership add real FIR polygons as extra zones.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from shapely.ops import polygonize

from geo.zones import MAX_RING_NM, CutLine, Zone, builtin_ring_cuts

RING_DECIMALS = 7  # 1 cm

__all__ = ["MAX_RING_NM", "METRES_PER_NM", "RING_PREFIX", "ring_sectors", "whole_ring"]

METRES_PER_NM = 1852.0
RING_PREFIX = "ring:"
# Segment length (degrees) before projecting: straight lon/lat edges stay straight in lon/lat.
_DENSIFY_DEG = 0.05
_QUAD_SEGS = 16


def _aeqd(geom: Polygon | MultiPolygon) -> tuple[Transformer, Transformer]:
    centre = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={centre.y:.6f} +lon_0={centre.x:.6f} +datum=WGS84 +units=m +no_defs")
    forward = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    backward = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    return forward, backward


def _project(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _polygonal(geom: shapely.Geometry, what: str) -> Polygon | MultiPolygon:
    """``geom`` as a valid (Multi)Polygon, dropping zero-area leftovers of overlay operations."""
    if not shapely.is_valid(geom):
        geom = shapely.make_valid(geom)
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon | MultiPolygon) and g.area > 0]
    merged = shapely.union_all(polys)
    if not isinstance(merged, Polygon | MultiPolygon):
        raise TypeError(f"{what} is a {merged.geom_type}, expected an area")
    return merged


def _buffer_metres(geom: Polygon | MultiPolygon, metres: float) -> Polygon | MultiPolygon:
    """``geom`` grown by ``metres`` on the ground, returned in lon/lat."""
    forward, backward = _aeqd(geom)
    grown = shapely.buffer(_project(shapely.segmentize(geom, _DENSIFY_DEG), forward), metres, quad_segs=_QUAD_SEGS)
    # Densify again before going back so long AEQD edges follow their true path in lon/lat.
    return _polygonal(_project(shapely.segmentize(grown, _DENSIFY_DEG * 111_000), backward), "buffer")


def _ring_area(fir: Polygon | MultiPolygon, ring_nm: float) -> Polygon | MultiPolygon:
    if not 0 < ring_nm <= MAX_RING_NM:
        raise ValueError(f"ring width {ring_nm} NM is outside (0, {MAX_RING_NM:g}] NM")
    return _polygonal(shapely.difference(_buffer_metres(fir, ring_nm * METRES_PER_NM), fir), "ring")


def whole_ring(fir: Polygon | MultiPolygon, ring_nm: float) -> Zone:
    """One unsplit ``ring`` zone: everything outside ``fir`` within ``ring_nm`` nautical miles."""
    return Zone(code="ring", name=f"{ring_nm:g} NM ring", geometry=_ring_area(fir, ring_nm), kind="ring")


def snapped(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` on a grid of 1e-7 degrees (1 cm): a ring comes out of a metric buffer whose last bits
    differ between GEOS builds; snapped, the ring computed here and the one shipped in ``geo/data``
    (written by ``scripts/build_zones.py`` from this function) are the same, byte for byte."""
    rounded = shapely.set_precision(geom, 10.0**-RING_DECIMALS)
    return rounded if shapely.is_valid(rounded) else shapely.make_valid(rounded)


def ring_sectors(
    fir: Polygon | MultiPolygon,
    ring_nm: float,
    cut_lines: tuple[tuple[CutLine, ...], tuple[tuple[str, LineString], ...]] | None = None,
) -> list[Zone]:
    """The ring around the built-in SVZM split into sectors by the published cut lines.

    Returns one zone per neighbour (``ring:SKED``, ``ring:TNCF``, ``ring:TJZS``, ``ring:TTZP``,
    ``ring:SYGC``, ``ring:SBAZ``), in the order the SVZM border meets them, west to east at sea.
    ``cut_lines``: the cuts and labelled border parts (default: ``geo.zones.builtin_ring_cuts``).
    """
    ring = _ring_area(fir, ring_nm)
    cuts, borders = cut_lines or builtin_ring_cuts()
    # Faces of the plane around the FIR, bounded by the FIR border, the cut lines and a frame.
    frame = box(*shapely.bounds(ring).tolist()).buffer(0.5, join_style="mitre")
    lines = [fir.boundary, frame.exterior, *(shapely.intersection(c.line, frame) for c in cuts)]
    noded = shapely.get_parts(shapely.union_all(lines))
    faces = [f for f in polygonize(list(noded)) if not fir.covers(f.representative_point())]
    labelled: dict[str, list[Polygon]] = {}
    for face in faces:
        shared = [(shapely.intersection(face.boundary, line.buffer(1e-7)).length, code) for code, line in borders]
        length, code = max(shared)
        if length == 0:
            if face.intersects(ring) and face.intersection(ring).area > 1e-9:
                raise ValueError(f"a ring face at {face.representative_point()} touches no part of the FIR border")
            continue
        labelled.setdefault(code, []).append(face)
    order = list(dict.fromkeys(code for code, _ in borders))
    sectors: list[Zone] = []
    for code in order:
        geom = _polygonal(snapped(shapely.intersection(ring, shapely.union_all(labelled[code]))), f"ring sector {code}")
        sectors.append(
            Zone(
                code=f"{RING_PREFIX}{code}",
                name=f"ring across the SVZM border from {code}",
                geometry=geom,
                kind="ring",
                neighbour=code,
            )
        )
    return sectors
