"""Version 2: attachments (scans of signed forms) and the content-addressed blob store they point at."""

from __future__ import annotations

VERSION = 2

# The sync columns of DESIGN §4, as 0001 has them (copied: a migration never changes once released).
SYNC = """
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
"""

SQL = f"""
-- One row per file attached to a record; the content itself lives in blobs, named by its SHA-256.
CREATE TABLE attachments (
    {SYNC},
    owner_table TEXT NOT NULL CHECK (owner_table IN ('visits', 'problems', 'enterprises')),
    owner_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    filename TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT '扫描件',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attachments_owner ON attachments(owner_table, owner_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);

-- File contents by hash, inside the database so backups and transactions cover them. Not a synced-rows
-- table: packages carry blobs by hash. Never deleted when an attachment is, so history can still show it.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""
