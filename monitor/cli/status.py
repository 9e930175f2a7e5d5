"""``vzmon status``: is it alive? The last data and its age, counts, credits, rate-limit state, store."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.exits import EXIT_OK
from monitor.cli.render import age, iso

if TYPE_CHECKING:
    from monitor.settings.table import Settings

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="last data and its age, counts per zone, credits, rate-limit state, store size",
        description="Show the last successful snapshot and its age, the counts per zone in it, the credits left, "
        "whether the account is rate-limited and when the next poll is allowed, and the store's size and rows.",
        epilog="examples:\n  vzmon status\n  vzmon status --check --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--check", action="store_true", help="also run SQLite's integrity check")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run, pandas_free=True)  # never loads pandas (see cli.main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from monitor.pipeline.status import status

    st = status(settings, check=args.check)
    if args.json:
        doc = {
            "now": iso(st.now),
            "store": {"path": st.store_path, "bytes": st.store_bytes, "rows": st.rows, "integrity": st.integrity},
            "last_ok": {"api_time": iso(st.last_ok_time) if st.last_ok_time else None, "age_s": st.last_ok_age_s},
            "last_poll": {
                "time": iso(st.last_poll_time) if st.last_poll_time else None,
                "status": st.last_poll_status,
                "error": st.last_poll_error,
            },
            "zones": {c.zone: {"airborne": c.airborne, "on_ground": c.on_ground, "stale": c.stale} for c in st.counts},
            "credits_remaining": st.credits_remaining,
            "credits_seen_at": iso(st.credits_seen_at) if st.credits_seen_at else None,
            "rate_limited_until": iso(st.rate_limited_until) if st.rate_limited_until else None,
            "next_poll_allowed": iso(st.next_poll_allowed),
            "last_alert": {"time": iso(st.last_alert_time) if st.last_alert_time else None, "line": st.last_alert},
            "pending_deliveries": st.pending_deliveries,
            "view": st.view,
            "sources": {
                s.source: {
                    "last_ok": {"api_time": iso(s.last_ok_time) if s.last_ok_time else None, "age_s": s.last_ok_age_s},
                    "last_poll": {
                        "time": iso(s.last_poll_time) if s.last_poll_time else None,
                        "status": s.last_poll_status,
                        "error": s.last_poll_error,
                    },
                    "rate_limited_until": iso(s.rate_limited_until) if s.rate_limited_until else None,
                }
                for s in st.sources
            },
        }
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"now (UTC)            {iso(st.now)}")
    label = "last data (combined)" if st.view == "combined" else "last data"
    print(f"{label:<21}{iso(st.last_ok_time)}  (age {age(st.last_ok_age_s)})")
    print(
        f"last poll            {iso(st.last_poll_time)}  {st.last_poll_status or ''}"
        + (f"  {st.last_poll_error}" if st.last_poll_error and st.last_poll_status != "ok" else "")
    )
    if st.counts:
        print("aircraft at last data (airborne / on ground / stale):")
        for c in st.counts:
            print(f"  {c.zone:<12} {c.airborne:5d} {c.on_ground:5d} {c.stale:5d}")
    if st.sources:
        print("each source:")
    for src in st.sources:
        cooldown = f"  cooldown until {iso(src.rate_limited_until)}" if src.rate_limited_until else ""
        failed = (
            f"  {src.last_poll_error}" if src.last_poll_error and src.last_poll_status not in ("ok", "empty") else ""
        )
        print(
            f"  {src.source:<9}data {iso(src.last_ok_time)} (age {age(src.last_ok_age_s)}); "
            f"last poll {iso(src.last_poll_time)} {src.last_poll_status or ''}{cooldown}{failed}"
        )
    credits = "unknown" if st.credits_remaining is None else f"{st.credits_remaining} (as of {iso(st.credits_seen_at)})"
    print(f"credits left         {credits}")
    if st.rate_limited_until:
        print(f"rate limit           rate-limited until {iso(st.rate_limited_until)}")
    else:
        print("rate limit           not rate-limited")
    print(f"next poll allowed    {iso(st.next_poll_allowed)}")
    rows = ", ".join(f"{k} {v:,}" for k, v in st.rows.items())
    print(f"store                {st.store_path} ({st.store_bytes / 1e6:.1f} MB): {rows}")
    if st.integrity is not None:
        print(f"integrity check      {st.integrity}")
    last = f"{iso(st.last_alert_time)}  {st.last_alert}" if st.last_alert else "none"
    print(f"last alert           {last}")
    if st.pending_deliveries:
        print(f"alert deliveries     {st.pending_deliveries} pending (`vzmon alerts` shows why)")
    return EXIT_OK
