"""Benchmark: classify 1,000,000 uniformly random points in the polling box against every zone.

Baseline, run in the same process on the same points and zones: geopandas
``sjoin(points, zones, predicate="within")``. Both answers are compared point by point.
Targets (issue 2): at least 5 million points/s on one core and at least 5x the baseline.
"""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np

from benchmarks._common import best_of, machine, max_rss_mb, traced_peak_mb
from geo.fence import Fence
from geo.zones import OUTSIDE
from geo.zoneset import load_zone_set


def sjoin_codes(zones: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    joined = gpd.sjoin(points, zones, predicate="within", how="left")
    # A point on a shared edge could match twice; keep the highest-priority zone (lowest rank).
    joined = joined.sort_values("rank").loc[~joined.index.duplicated(keep="first")].sort_index()
    codes: np.ndarray = joined["code"].fillna(OUTSIDE).to_numpy(dtype=object)
    return codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    zone_set = load_zone_set()
    build_s, fence = best_of(lambda: Fence(zone_set), repeat=3)
    box = zone_set.polling_box
    rng = np.random.default_rng(2025)
    x = rng.uniform(box.west, box.east, args.points)
    y = rng.uniform(box.south, box.north, args.points)

    ours_s, idx = best_of(lambda: fence.classify_index(x, y), repeat=args.repeat)
    ours = np.asarray(fence.codes, dtype=object)[idx]
    zones = gpd.GeoDataFrame(
        {"code": [z.code for z in zone_set.zones], "rank": range(len(zone_set.zones))},
        geometry=[z.geometry for z in zone_set.zones],
        crs="EPSG:4326",
    )
    base_s, base = best_of(lambda: sjoin_codes(zones, x, y), repeat=max(1, args.repeat // 2))
    mismatches = int(np.sum(ours != base))
    ours_mb = traced_peak_mb(lambda: fence.classify_index(x, y))
    base_mb = traced_peak_mb(lambda: sjoin_codes(zones, x, y))

    rate = args.points / ours_s
    print("bench_fence: classify random points in the polling box against every zone")
    print(f"  machine        {machine()}")
    print(
        f"  zones          {len(zone_set.zones)} ({', '.join(z.code for z in zone_set.zones)}); grid "
        f"{fence.grid.shape[1]}x{fence.grid.shape[0]} cells of {fence.cell_deg}°, {fence.mixed_share:.1%} on a "
        f"boundary; built in {build_s * 1e3:.0f} ms"
    )
    print(f"  points         {args.points:,} uniform in {box}")
    print(f"  vzmon Fence    {ours_s * 1e3:8.1f} ms  {rate / 1e6:6.1f} M points/s  peak heap {ours_mb:7.1f} MB")
    print(
        f"  geopandas sjoin{base_s * 1e3:8.1f} ms  {args.points / base_s / 1e6:6.2f} M points/s  peak heap "
        f"{base_mb:7.1f} MB"
    )
    print(f"  ratio          {base_s / ours_s:.1f}x faster than sjoin(predicate='within')")
    print(f"  agreement      {args.points - mismatches:,}/{args.points:,} points get the same zone")
    print(f"  max RSS        {max_rss_mb():.0f} MB (whole process)")
    ok = mismatches == 0 and rate >= 5e6 and base_s / ours_s >= 5
    print(f"  targets        >= 5 M points/s and >= 5x sjoin: {'met' if ok else 'NOT met'}")
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
