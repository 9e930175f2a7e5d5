"""``vzmon zones``: the zones, their areas and the polling box; ``--map`` draws them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "zones",
        help="list the zones, their areas and the polling box; optionally draw a map",
        description="List the FIR, the ring sectors and any user zones, with geodesic areas, bounding boxes and "
        "the OpenSky polling box with its credit cost per call.",
        epilog="example:\n  vzmon zones --map outputs/charts/zones.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--map", metavar="PATH", help="write a map of the zones (.png, .svg or .pdf)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run, pandas_free=_pandas_free)


def fmt_bbox(b: Any) -> str:
    return f"lon {b.west:.2f}…{b.east:.2f}, lat {b.south:.2f}…{b.north:.2f}"


def _pandas_free(args: argparse.Namespace) -> bool:
    """Listing the zones never loads pandas; drawing the map does (geopandas)."""
    return not args.map


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.zones import describe_zones

    summary = describe_zones(settings, Path(args.map) if args.map else None)
    zs, box = summary.zone_set, summary.polling_box
    if args.json:
        doc = {
            "zones": [
                {
                    "code": z.code,
                    "name": z.name,
                    "kind": z.kind,
                    "neighbour": z.neighbour,
                    "area_km2": round(z.area_km2, 1),
                    "bbox": [round(v, 6) for v in (z.bbox.west, z.bbox.south, z.bbox.east, z.bbox.north)],
                }
                for z in zs.zones
            ],
            "ring_nm": zs.ring_nm,
            "polling_box": {
                **box.opensky_params(),
                "area_sq_deg": round(box.area_sq_deg, 2),
                "credits_per_poll": box.credits,
            },
            "warning": summary.warning,
            "map": str(summary.map_path) if summary.map_path else None,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return EXIT_OK
    fir = zs.fir
    print(f"{fir.code}  {fir.name}: {fir.area_km2:,.0f} km² (geodesic, WGS 84), {fmt_bbox(fir.bbox)}")
    print(f"ring: {zs.ring_nm:g} NM around {fir.code}" if zs.ring else "ring: none (zones.ring_nm = 0)")
    print()
    print(f"{'code':<12} {'area km²':>11}  {'bbox (W, S, E, N)':<34} {'neighbour / kind'}")
    for z in zs.zones:
        b = z.bbox
        print(
            f"{z.code:<12} {z.area_km2:>11,.0f}  {b.west:7.2f} {b.south:6.2f} {b.east:7.2f} {b.north:6.2f}"
            f"{'':<6} {z.neighbour or z.kind}"
        )
    print()
    params = " ".join(f"{k}={v:g}" for k, v in box.opensky_params().items())
    print(f"polling box: {params}  ({box.area_sq_deg:.1f} sq°, {box.credits} credits per /states/all call)")
    if summary.warning:
        print(f"warning: {summary.warning}")
    if summary.map_path:
        print(f"map written: {summary.map_path}")
    return EXIT_OK
