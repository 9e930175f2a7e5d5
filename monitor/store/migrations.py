"""The store's schema, as the ordered migrations that build it; each is applied once, in a
transaction, and recorded in ``schema_migrations``.

Place in the flow: ``store.db.Store`` applies what a store lacks when it opens it for writing. A
migration is never edited once released: a change to the schema is a new migration at the end.

``archive_days`` (migration 6) records each day ``vzmon backfill`` read from an archive: complete
(its snapshots are stored, all in the one transaction that wrote this row), partial (stored the
same way, but no release passed the day's checks: read again by the next run) or failed (nothing
of it is stored), with its release, what was read and the day's health figures; ``archive_aircraft``
and ``archive_legs`` hold what the day's traces say of the aircraft seen over the zones, and
``archive_military`` the positions of military aircraft (adsb.lol's ``dbFlags``), kept out of the
snapshots so that the counts are of civil traffic.

``snapshots_utc`` and ``zone_counts_utc`` (migration 7) are views of the two tables with their
times as ISO 8601 UTC text, for people reading the store with sqlite3 or Datasette.

``alerts.source`` (migration 5) is the source (or combined view) an alert judged; alerts stored
before it have none, and count as the first configured source's (the one earlier vzmons judged).

``zone_hours`` (migration 4) keeps, per source, UTC hour and zone, how many successful polls the
hour had and the sum of their airborne counts: the alert rules read weeks of hourly means from it
in a few milliseconds instead of grouping every poll's counts (``store.snapshots.record_poll``
adds to it in the poll's own transaction).
"""

from __future__ import annotations

from monitor.counts import SNAPSHOT_STATUSES

__all__ = ["APPLICATION_ID", "BLOCK_FORMAT", "MIGRATIONS"]

BLOCK_FORMAT = "arrow-batch+zstd/1"  # see store.positions.encode_block
# a block row whose positions moved into the day's Parquet file (store.dataset): no data, the count kept
COMPACTED_FORMAT = "parquet-positions/1"
# The blocks not compacted yet (the open days'), walked on their partial index (migration 8's
# ``position_blocks_held``; the format is a literal so that SQLite can match the index's WHERE):
# ``SELECT ... FROM {HELD_BLOCKS} AND ...``. A query on it must not have a WHERE that is false
# whatever the row (no source to read): SQLite then has no plan for the forced index.
HELD_BLOCKS = (
    "position_blocks b INDEXED BY position_blocks_held CROSS JOIN snapshots s ON s.id = b.snapshot_id "
    f"WHERE b.format != '{COMPACTED_FORMAT}'"
)
# SQLite's application_id of a vzmon store ("VZMN"), so another program's database is never taken for one
APPLICATION_ID = 0x565A4D4E

_STATUS_LIST = ", ".join(f"'{s}'" for s in SNAPSHOT_STATUSES)

# (version, name, SQL). Append only: a released migration is never edited.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "snapshots, positions, zone counts",
        f"""
CREATE TABLE zone_sets (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    ring_nm REAL NOT NULL,
    codes TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    api_time INTEGER,
    status TEXT NOT NULL CHECK (status IN ({_STATUS_LIST})),
    http_status INTEGER,
    credits_charged INTEGER NOT NULL DEFAULT 0,
    credits_remaining INTEGER,
    n_states INTEGER,
    n_malformed INTEGER,
    duration_ms INTEGER,
    attempts INTEGER,
    authenticated INTEGER,
    retry_at INTEGER,
    box TEXT,
    zone_set_id INTEGER REFERENCES zone_sets(id),
    duplicate_of INTEGER REFERENCES snapshots(id),
    simulated INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE UNIQUE INDEX snapshots_one_per_api_time ON snapshots(source, api_time) WHERE status IN ('ok', 'empty');
CREATE INDEX snapshots_by_requested_at ON snapshots(requested_at);
CREATE INDEX snapshots_by_api_time ON snapshots(api_time);
CREATE TABLE position_blocks (
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id),
    n_positions INTEGER NOT NULL,
    format TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE zone_counts (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    zone TEXT NOT NULL,
    airborne INTEGER NOT NULL,
    on_ground INTEGER NOT NULL,
    stale INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, zone)
) WITHOUT ROWID;
""",
    ),
    (
        2,
        "alerts outbox and deliveries",
        """
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('drop', 'zero', 'recovery', 'outage', 'outage_end', 'test')),
    zone TEXT,
    created_at INTEGER NOT NULL,
    poll_time INTEGER,
    observed REAL,
    expected REAL,
    line TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX alerts_by_created_at ON alerts(created_at);
CREATE TABLE deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER,
    PRIMARY KEY (alert_id, channel)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
""",
    ),
    (
        3,
        "store identity, block formats and the vzmon that wrote each schema version",
        f"""
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE block_formats (
    format TEXT PRIMARY KEY,
    since_version TEXT NOT NULL
);
INSERT INTO block_formats (format, since_version) VALUES ('{BLOCK_FORMAT}', '0.1.0');
PRAGMA application_id = {APPLICATION_ID}
""",
    ),
    (
        4,
        "hourly airborne totals per source and zone, for the alert baselines",
        """
CREATE TABLE zone_hours (
    source TEXT NOT NULL,
    hour INTEGER NOT NULL,
    zone TEXT NOT NULL,
    n INTEGER NOT NULL,
    airborne REAL NOT NULL,
    PRIMARY KEY (source, hour, zone)
) WITHOUT ROWID;
INSERT INTO zone_hours (source, hour, zone, n, airborne)
    SELECT s.source, s.api_time / 3600, z.zone, COUNT(*), SUM(z.airborne)
    FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id
    WHERE s.status = 'ok' AND s.api_time IS NOT NULL
    GROUP BY s.source, s.api_time / 3600, z.zone
""",
    ),
    (
        5,
        "the source (or combined view) each alert judged",
        """
ALTER TABLE alerts ADD COLUMN source TEXT
""",
    ),
    (
        6,
        "backfilled archive days, their aircraft, legs and military positions",
        """
CREATE TABLE archive_days (
    source TEXT NOT NULL,
    day INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('complete', 'partial', 'failed')),
    release TEXT,
    location TEXT,
    step_s INTEGER NOT NULL,
    zone_set_id INTEGER REFERENCES zone_sets(id),
    stored_at INTEGER NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    members INTEGER NOT NULL DEFAULT 0,
    heatmaps INTEGER NOT NULL DEFAULT 0,
    trace_dirs INTEGER NOT NULL DEFAULT 0,
    traces INTEGER NOT NULL DEFAULT 0,
    traces_kept INTEGER NOT NULL DEFAULT 0,
    snapshots INTEGER NOT NULL DEFAULT 0,
    gaps INTEGER NOT NULL DEFAULT 0,
    health TEXT,
    warnings TEXT,
    error TEXT,
    PRIMARY KEY (source, day)
) WITHOUT ROWID;
CREATE TABLE archive_aircraft (
    source TEXT NOT NULL,
    day INTEGER NOT NULL,
    icao24 TEXT NOT NULL,
    registration TEXT,
    typecode TEXT,
    description TEXT,
    db_flags INTEGER,
    military INTEGER NOT NULL,
    no_db INTEGER NOT NULL,
    PRIMARY KEY (source, day, icao24)
) WITHOUT ROWID;
CREATE TABLE archive_legs (
    source TEXT NOT NULL,
    day INTEGER NOT NULL,
    icao24 TEXT NOT NULL,
    leg INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    callsign TEXT,
    takeoff_time INTEGER,
    takeoff_lon REAL,
    takeoff_lat REAL,
    landing_time INTEGER,
    landing_lon REAL,
    landing_lat REAL,
    PRIMARY KEY (source, day, icao24, leg)
) WITHOUT ROWID;
CREATE TABLE archive_military (
    source TEXT NOT NULL,
    time INTEGER NOT NULL,
    icao24 TEXT NOT NULL,
    zone TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    baro_altitude_m REAL,
    on_ground INTEGER NOT NULL,
    callsign TEXT,
    PRIMARY KEY (source, time, icao24)
) WITHOUT ROWID
""",
    ),
    (
        7,
        "readable views: times as ISO 8601 UTC, for sqlite3 and Datasette users",
        """
CREATE VIEW snapshots_utc AS
    SELECT id, source, status,
        strftime('%Y-%m-%dT%H:%M:%SZ', requested_at, 'unixepoch') AS requested_at_utc,
        strftime('%Y-%m-%dT%H:%M:%SZ', api_time, 'unixepoch') AS api_time_utc,
        http_status, credits_charged, credits_remaining, n_states, n_malformed, duration_ms, attempts,
        authenticated, strftime('%Y-%m-%dT%H:%M:%SZ', retry_at, 'unixepoch') AS retry_at_utc, box, duplicate_of,
        simulated, error
    FROM snapshots;
CREATE VIEW zone_counts_utc AS
    SELECT s.source, strftime('%Y-%m-%dT%H:%M:%SZ', s.api_time, 'unixepoch') AS time_utc, z.zone, z.airborne,
        z.on_ground, z.stale, z.snapshot_id
    FROM zone_counts z JOIN snapshots s ON s.id = z.snapshot_id
""",
    ),
    (
        8,
        "closed days' positions as Parquet files beside the store (store.dataset)",
        f"""
CREATE TABLE compacted_days (
    source TEXT NOT NULL,
    day INTEGER NOT NULL,
    file TEXT NOT NULL,
    format TEXT NOT NULL,
    n_snapshots INTEGER NOT NULL,
    n_positions INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    compacted_at INTEGER NOT NULL,
    PRIMARY KEY (source, day)
) WITHOUT ROWID;
CREATE VIEW compacted_days_utc AS
    SELECT source, strftime('%Y-%m-%d', day, 'unixepoch') AS date, file, format, n_snapshots, n_positions, bytes,
        strftime('%Y-%m-%dT%H:%M:%SZ', compacted_at, 'unixepoch') AS compacted_at_utc
    FROM compacted_days;
INSERT INTO block_formats (format, since_version) VALUES ('{COMPACTED_FORMAT}', '0.1.0');
CREATE INDEX position_blocks_held ON position_blocks (snapshot_id) WHERE format != '{COMPACTED_FORMAT}'
""",
    ),
)
