"""Run every benchmark in this folder, one after the other, in separate processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = [
    "bench_startup", "bench_fence", "bench_ingest", "bench_combine", "bench_alerts", "bench_flights", "bench_report",
    "bench_backfill",
]  # fmt: skip


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    status = 0
    for name in BENCHES:
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *sys.argv[1:]], cwd=root, check=False)
        status = status or result.returncode
        print()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
