"""Version 5: lists, search and detail panels that stay instant with ten cities' records (issue #8).

- enterprise_facts (db/facts.py): 最近走访 / 未办结问题 / 包联干部 per enterprise, kept by triggers, so lists sort and
  filter by them through an index instead of a correlated subquery per enterprise.
- One FTS5 table per kind instead of one shared table filtered by a stored `kind` (which read every match's
  stored row), and search_rows readable by docid: a search reads rowids only (app/textsearch.py).
- Indexes in the order the enterprise list sorts, holding the columns its filters read, so opening the list walks
  an index instead of sorting every row; audit_log by row id for an enterprise's 操作记录.
- Search text read the new way (app/textsearch.normalized, initials): full-width letters as ASCII, brackets between
  characters ignored, Latin words kept in a name's sort key (ABC 科技 under A). Only enterprises that read
  differently (and their visits and problems) are re-indexed; name_initials is local sort data, recomputed here for
  names with Latin letters or digits (not a user's edit: no outbox).
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

from app.textsearch import FTS_TABLES, initials, refresh_normalized
from db import facts

VERSION = 5
LOCAL_ONLY = True  # nothing here travels in packages: they keep schema_version 4 (db.store.synced_version)

# The enterprise list's order and each plain column it sorts by, with the columns its common filters read (so the
# walk needs no table row). Ties sort by name: (column, name_initials, name, id) is one index walk.
_ENTERPRISE_TAIL = "name_initials, name, id, archived, unit_id, deleted"
_ENTERPRISE_SORTS = ("uscc", "status", "industry", "scale", "township")

SQL = f"""
CREATE INDEX enterprises_list ON enterprises({_ENTERPRISE_TAIL}) WHERE deleted = 0;
""" + "".join(f"CREATE INDEX enterprises_by_{col} ON enterprises({col}, {_ENTERPRISE_TAIL}) WHERE deleted = 0;\n"
              for col in _ENTERPRISE_SORTS) + """
CREATE INDEX visits_list ON visits(visit_date, record_no, id, kind, deleted) WHERE deleted = 0;
CREATE INDEX problems_list ON problems(registered_on, id, enterprise_id, status, deadline, deleted) WHERE deleted = 0;
CREATE INDEX enterprises_deleted ON enterprises(id) WHERE deleted = 1;
CREATE INDEX audit_log_row_id ON audit_log(row_id, at);
CREATE UNIQUE INDEX search_rows_docid ON search_rows(docid);
""" + "".join(f"CREATE VIRTUAL TABLE {table} USING fts5(uni, bi, words, tokenize = 'unicode61');\n"
              f"INSERT INTO {table} (rowid, uni, bi, words) SELECT rowid, uni, bi, words FROM search_index "
              f"WHERE kind = '{kind}';\n" for kind, table in FTS_TABLES.items()) + """
DROP TABLE search_index;
"""


def after(conn: sqlite3.Connection) -> None:
    facts.create(conn)
    latin = re.compile(r"[0-9A-Za-z]")
    renamed = [(initials(name), row_id) for row_id, name in conn.execute("SELECT id, name FROM enterprises")
               if latin.search(unicodedata.normalize("NFKC", name))]
    conn.executemany("UPDATE enterprises SET name_initials = ? WHERE id = ?", renamed)
    refresh_normalized(conn)
