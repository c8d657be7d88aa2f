"""Version 1: every table of the cadre station, and the reference data every database starts with."""

from __future__ import annotations

import sqlite3

VERSION = 1

# Sync columns of DESIGN §4, shared by every row that travels in packages.
SYNC = """
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    rev INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
"""

SQL = f"""
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT
);

CREATE TABLE units (
    {SYNC},
    name TEXT NOT NULL,
    short_name TEXT,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES units(id),
    region_codes TEXT NOT NULL DEFAULT '[]',
    sort INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX units_name ON units(name) WHERE deleted = 0;

CREATE TABLE vocabulary (
    {SYNC},
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    extra TEXT,
    sort INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, code)
);

CREATE TABLE deadline_templates (
    {SYNC},
    name TEXT NOT NULL,
    category_code TEXT,
    severity TEXT NOT NULL,
    assign_days INTEGER NOT NULL,
    first_progress_days INTEGER NOT NULL,
    solve_days INTEGER NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    note TEXT
);

CREATE TABLE work_groups (
    {SYNC},
    unit_id TEXT NOT NULL REFERENCES units(id),
    name TEXT NOT NULL,
    leader_cadre_id TEXT REFERENCES cadres(id),
    note TEXT
);

CREATE TABLE cadres (
    {SYNC},
    name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    work_group_id TEXT REFERENCES work_groups(id),
    post TEXT,
    rank TEXT,
    role TEXT NOT NULL DEFAULT '助企干部',
    phone TEXT,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cadres_unit ON cadres(unit_id);
CREATE INDEX cadres_group ON cadres(work_group_id);

CREATE TABLE enterprises (
    {SYNC},
    uscc TEXT,
    name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    township TEXT,
    address TEXT,
    industry TEXT,
    scale TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    legal_rep TEXT,
    contact_name TEXT,
    contact_phone TEXT,
    status TEXT NOT NULL DEFAULT '在营',
    archived INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    name_initials TEXT
);
CREATE UNIQUE INDEX enterprises_uscc ON enterprises(uscc) WHERE deleted = 0 AND uscc IS NOT NULL;
CREATE INDEX enterprises_unit ON enterprises(unit_id, status);
CREATE INDEX enterprises_name ON enterprises(name);

CREATE TABLE assignments (
    {SYNC},
    cadre_id TEXT NOT NULL REFERENCES cadres(id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    role TEXT NOT NULL DEFAULT '包联干部',
    start_date TEXT NOT NULL,
    end_date TEXT,
    note TEXT
);
CREATE INDEX assignments_enterprise ON assignments(enterprise_id, end_date);
CREATE INDEX assignments_cadre ON assignments(cadre_id, end_date);

CREATE TABLE visits (
    {SYNC},
    record_no TEXT NOT NULL,
    kind TEXT NOT NULL,
    visit_date TEXT NOT NULL,
    start_time TEXT,
    unit_id TEXT REFERENCES units(id),
    location TEXT,
    summary TEXT NOT NULL DEFAULT '',
    policies TEXT NOT NULL DEFAULT '',
    follow_up TEXT NOT NULL DEFAULT ''
);
CREATE INDEX visits_date ON visits(visit_date);

CREATE TABLE visit_enterprises (
    {SYNC},
    visit_id TEXT NOT NULL REFERENCES visits(id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    status_seen TEXT,
    UNIQUE (visit_id, enterprise_id)
);
CREATE INDEX visit_enterprises_enterprise ON visit_enterprises(enterprise_id);

CREATE TABLE visit_cadres (
    {SYNC},
    visit_id TEXT NOT NULL REFERENCES visits(id),
    cadre_id TEXT NOT NULL REFERENCES cadres(id),
    UNIQUE (visit_id, cadre_id)
);
CREATE INDEX visit_cadres_cadre ON visit_cadres(cadre_id);

CREATE TABLE visit_attendees (
    {SYNC},
    visit_id TEXT NOT NULL REFERENCES visits(id),
    enterprise_id TEXT REFERENCES enterprises(id),
    name TEXT NOT NULL,
    title TEXT,
    phone TEXT
);
CREATE INDEX visit_attendees_visit ON visit_attendees(visit_id);

CREATE TABLE problems (
    {SYNC},
    record_no TEXT NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    visit_id TEXT REFERENCES visits(id),
    category_code TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    request TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT '一般',
    level TEXT NOT NULL DEFAULT '区县级',
    lead_unit_id TEXT REFERENCES units(id),
    assist_unit_ids TEXT NOT NULL DEFAULT '[]',
    template_id TEXT REFERENCES deadline_templates(id),
    status TEXT NOT NULL,
    registered_on TEXT NOT NULL,
    assigned_on TEXT,
    original_deadline TEXT,
    deadline TEXT,
    first_progress_on TEXT,
    resolved_on TEXT,
    outcome TEXT,
    outcome_note TEXT,
    satisfaction TEXT,
    closed_on TEXT,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    urge_count INTEGER NOT NULL DEFAULT 0,
    supervise_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX problems_status ON problems(status, deadline);
CREATE INDEX problems_enterprise ON problems(enterprise_id);
CREATE INDEX problems_lead ON problems(lead_unit_id);
CREATE INDEX problems_registered ON problems(registered_on);
CREATE INDEX problems_visit ON problems(visit_id);

CREATE TABLE problem_events (
    {SYNC},
    problem_id TEXT NOT NULL REFERENCES problems(id),
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    on_date TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX problem_events_problem ON problem_events(problem_id, at);
CREATE INDEX problem_events_kind ON problem_events(kind, on_date);

CREATE TABLE audit_log (
    {SYNC},
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    action TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_log_row ON audit_log(table_name, row_id, at);

-- Every local change, in order, for the sync export (issue #4 reads it; rows are never edited).
-- `new` holds the inserted or changed values; it is NULL for inserts into append-only tables
-- (problem_events, audit_log), whose rows never change: the exporter reads them from their table.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    rev INTEGER NOT NULL,
    at TEXT NOT NULL,
    old TEXT,
    new TEXT
);

-- Chinese full-text search (app/textsearch.py): `uni` single characters, `bi` the bigram stream
-- (so 用工 or 融资 match; trigram tokenizers cannot find two-character words), `words` Latin words,
-- digits and pinyin initials. Derived data: rebuilt locally, never synced.
CREATE VIRTUAL TABLE search_index USING fts5(
    kind UNINDEXED, row_id UNINDEXED, uni, bi, words, tokenize = 'unicode61'
);
-- Which FTS row holds a record: FTS5 cannot index `row_id`, so updates find the row through here.
CREATE TABLE search_rows (
    kind TEXT NOT NULL,
    row_id TEXT NOT NULL,
    docid INTEGER NOT NULL,
    PRIMARY KEY (kind, row_id)
) WITHOUT ROWID;
"""


def after(conn: sqlite3.Connection) -> None:
    from db.reference import seed_reference

    seed_reference(conn)
