"""Version 3: sync trust state (DESIGN §5) — the installations a hub accepts packages from, and a station's hub.

Local trust state, never synced and never in the outbox: each installation decides for itself whom it trusts.
"""

from __future__ import annotations

VERSION = 3

SQL = """
-- On a hub: the stations (or district hubs) it has enrolled after the operator compared the fingerprint.
CREATE TABLE enrolled_installations (
    installation_id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    unit_id TEXT,
    operator TEXT,
    signing_public BLOB NOT NULL,
    encryption_public BLOB NOT NULL,
    enrolled_at TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    revoked_at TEXT,
    note TEXT
);

-- On a station (or a district hub joining the city): the hub it reports to, taken from the hub's invite.
CREATE TABLE trusted_hubs (
    installation_id TEXT PRIMARY KEY,
    role TEXT,
    unit_id TEXT,
    signing_public BLOB,
    encryption_public BLOB,
    joined_at TEXT
);
"""
