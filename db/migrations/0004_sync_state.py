"""Version 4: the state of data sync (DESIGN §5) — what arrived, what was sent and acknowledged, what waits,
what conflicts. Local bookkeeping: none of these tables travels in packages or writes the outbox."""

from __future__ import annotations

import sqlite3

VERSION = 4

SQL = """
-- Operations this database holds from other installations, per origin, as a list of [first, last] seq
-- intervals (JSON). An operation counts as held once applied *or* waiting, so a package seen twice is a no-op.
CREATE TABLE sync_seen (
    origin TEXT PRIMARY KEY,
    ranges TEXT NOT NULL DEFAULT '[]',
    via TEXT                          -- the installation whose package brought it (routes down packages)
);

-- On a district hub: received operations, kept verbatim to relay up to the city with their origin.
-- `new` is NULL for append-only inserts: the row in its table is the payload (as in the outbox).
CREATE TABLE relay_ops (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    op TEXT NOT NULL,
    rev INTEGER NOT NULL,
    at TEXT NOT NULL,
    old TEXT,
    new TEXT,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;

-- Operations whose record (or a record they point to) has not arrived yet; retried after every import.
CREATE TABLE waiting_ops (
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    package_id TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (origin, seq)
) WITHOUT ROWID;

-- Who wrote each field last (updates only; a field without a row here still has its inserted value), so a
-- field changed on both sides gets the same provisional winner whatever order the packages arrive in.
CREATE TABLE field_versions (
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    field TEXT NOT NULL,
    at TEXT NOT NULL,
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (table_name, row_id, field)
) WITHOUT ROWID;

-- Both-sides edits for a person to decide. The record holds the provisional winner; the loser is kept here.
CREATE TABLE sync_conflicts (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    field TEXT NOT NULL,
    kept_value TEXT,                  -- JSON: the value the record has (provisional winner)
    other_value TEXT,                 -- JSON: the losing value, never thrown away
    kept_op TEXT NOT NULL,            -- "origin:seq" of the winning write ("" for an inserted value)
    other_op TEXT NOT NULL,
    pair TEXT NOT NULL,               -- what conflicts: the field and the two installations (see merge.py)
    detected_at TEXT NOT NULL,
    package_id TEXT,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT CHECK (resolution IN ('current', 'other'))
);
CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, detected_at);
-- An open conflict is listed once; later writes of the same two sides update it (a resolved one stays as history).
CREATE UNIQUE INDEX sync_conflicts_pair ON sync_conflicts(pair) WHERE resolved_at IS NULL;

-- Records created twice (the same USCC on two PCs): the later id points at the one this database keeps.
CREATE TABLE sync_aliases (
    table_name TEXT NOT NULL,
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    PRIMARY KEY (table_name, from_id)
) WITHOUT ROWID;

-- Packages imported here (and their chain), for "已导入过", "same id, other content" and the ledger.
CREATE TABLE packages_in (
    package_id TEXT PRIMARY KEY,
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    previous_sha256 TEXT,
    chain TEXT NOT NULL,              -- 'ok', 'first', 'gap'
    operations INTEGER NOT NULL,
    applied INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    waiting INTEGER NOT NULL,
    conflicts INTEGER NOT NULL
);
CREATE INDEX packages_in_source ON packages_in(source, previous_sha256);

-- Packages written here.
CREATE TABLE packages_out (
    package_id TEXT PRIMARY KEY,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ranges TEXT NOT NULL,             -- JSON {origin: [[first, last], ...]}
    counts TEXT NOT NULL,
    operations INTEGER NOT NULL,
    full INTEGER NOT NULL DEFAULT 0,
    acknowledged_at TEXT
);

-- What a hub has acknowledged holding (from its down packages), per origin: interval lists as in sync_seen.
CREATE TABLE sync_acks (
    hub TEXT NOT NULL,
    origin TEXT NOT NULL,
    ranges TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (hub, origin)
) WITHOUT ROWID;
"""


def after(conn: sqlite3.Connection) -> None:
    # Reference data starts at version 1 (what ships in resources/); a hub raises it when it changes them.
    conn.execute("INSERT OR IGNORE INTO settings (key, value) VALUES ('reference.version', '1')")
