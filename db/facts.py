"""enterprise_facts: per-enterprise figures the lists sort and filter by (最近走访, 未办结问题, 包联干部), kept by triggers.

Computing them per row in every list query meant a correlated subquery for each of 126k enterprises (1.5 s to
sort by 最近走访 at ten cities' scale). Triggers keep the table right whoever writes — the services, the sync merge
or a bulk import — so no code path can forget it. Like the search index it is derived local data: never synced,
rebuilt by `rebuild()`. Each trigger recomputes only the figure its table feeds, for the enterprises the changed
row belongs to, and only when a column the figure reads has changed (the sync merge updates every column).
"""

from __future__ import annotations

import sqlite3

from app.lifecycle import UNRESOLVED

_OPEN = ", ".join(f"'{s}'" for s in sorted(UNRESOLVED))

# Each figure as an expression of the enterprise id `{e}`: the one definition the triggers and rebuild() share.
FIGURES = {
    "last_visit": ("(SELECT max(v.visit_date) FROM visit_enterprises ve JOIN visits v ON v.id = ve.visit_id "
                   "WHERE ve.enterprise_id = {e} AND ve.deleted = 0 AND v.deleted = 0)"),
    "open_problems": ("(SELECT count(*) FROM problems p WHERE p.enterprise_id = {e} AND p.deleted = 0 "
                      f"AND p.status IN ({_OPEN}))"),
    "cadres": ("(SELECT group_concat(name, '、') FROM (SELECT c.name FROM assignments a JOIN cadres c ON c.id = a.cadre_id "
               "WHERE a.enterprise_id = {e} AND a.deleted = 0 AND a.end_date IS NULL ORDER BY a.start_date, c.name))"),
}

TABLE = """
CREATE TABLE enterprise_facts (
    enterprise_id TEXT PRIMARY KEY,
    last_visit TEXT,                      -- newest visit_date of a live visit, NULL if never visited
    open_problems INTEGER NOT NULL DEFAULT 0,
    cadres TEXT                           -- current 包联干部 names, joined with 、
) WITHOUT ROWID;
CREATE INDEX enterprise_facts_last_visit ON enterprise_facts(last_visit);
CREATE INDEX enterprise_facts_open ON enterprise_facts(open_problems);
CREATE INDEX enterprise_facts_cadres ON enterprise_facts(cadres);
"""


def _set(figures: tuple[str, ...], ids_sql: str) -> str:
    """UPDATE statement recomputing `figures` for the enterprises whose ids `ids_sql` selects."""
    sets = ", ".join(f"{f} = {FIGURES[f].format(e='enterprise_facts.enterprise_id')}" for f in figures)
    return f"UPDATE enterprise_facts SET {sets} WHERE enterprise_id IN ({ids_sql});"


def _trigger(name: str, event: str, table: str, when: str | None, body: str) -> str:
    cond = f" WHEN {when}" if when else ""
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{cond} BEGIN {body} END;"


def _changed(*cols: str) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)


ALL = tuple(FIGURES)
_NEW_ROW = ("INSERT OR REPLACE INTO enterprise_facts (enterprise_id, last_visit, open_problems, cadres) VALUES "
            "(NEW.id, " + ", ".join(FIGURES[f].format(e="NEW.id") for f in ALL) + ");")

TRIGGERS = [
    _trigger("facts_enterprise_insert", "INSERT", "enterprises", None, _NEW_ROW),
    _trigger("facts_enterprise_delete", "DELETE", "enterprises", None,
             "DELETE FROM enterprise_facts WHERE enterprise_id = OLD.id;"),
    # 最近走访: a visit's date or deletion, or which enterprises it covers.
    _trigger("facts_ve_insert", "INSERT", "visit_enterprises", None,
             _set(("last_visit",), "NEW.enterprise_id")),
    _trigger("facts_ve_update", "UPDATE", "visit_enterprises", _changed("deleted", "enterprise_id", "visit_id"),
             _set(("last_visit",), "OLD.enterprise_id, NEW.enterprise_id")),
    _trigger("facts_ve_delete", "DELETE", "visit_enterprises", None, _set(("last_visit",), "OLD.enterprise_id")),
    _trigger("facts_visit_insert", "INSERT", "visits", None,
             _set(("last_visit",), "SELECT enterprise_id FROM visit_enterprises WHERE visit_id = NEW.id")),
    _trigger("facts_visit_update", "UPDATE", "visits", _changed("visit_date", "deleted"),
             _set(("last_visit",), "SELECT enterprise_id FROM visit_enterprises WHERE visit_id = NEW.id")),
    _trigger("facts_visit_delete", "DELETE", "visits", None,
             _set(("last_visit",), "SELECT enterprise_id FROM visit_enterprises WHERE visit_id = OLD.id")),
    # 未办结问题
    _trigger("facts_problem_insert", "INSERT", "problems", None, _set(("open_problems",), "NEW.enterprise_id")),
    _trigger("facts_problem_update", "UPDATE", "problems", _changed("status", "deleted", "enterprise_id"),
             _set(("open_problems",), "OLD.enterprise_id, NEW.enterprise_id")),
    _trigger("facts_problem_delete", "DELETE", "problems", None, _set(("open_problems",), "OLD.enterprise_id")),
    # 包联干部: assignments, and a cadre's name
    _trigger("facts_assignment_insert", "INSERT", "assignments", None, _set(("cadres",), "NEW.enterprise_id")),
    _trigger("facts_assignment_update", "UPDATE", "assignments",
             _changed("deleted", "end_date", "enterprise_id", "cadre_id", "start_date"),
             _set(("cadres",), "OLD.enterprise_id, NEW.enterprise_id")),
    _trigger("facts_assignment_delete", "DELETE", "assignments", None, _set(("cadres",), "OLD.enterprise_id")),
    _trigger("facts_cadre_rename", "UPDATE", "cadres", _changed("name"),
             _set(("cadres",), "SELECT enterprise_id FROM assignments WHERE cadre_id = NEW.id")),
]


def create(conn: sqlite3.Connection) -> None:
    """The table, its indexes and triggers (inside the caller's transaction), filled from the stored rows."""
    for statement in (*filter(str.strip, TABLE.split(";")), *TRIGGERS):
        conn.execute(statement)
    rebuild(conn)


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every enterprise's figures from the stored rows, set-based (a few seconds at ten cities' scale)."""
    conn.execute("DELETE FROM enterprise_facts")
    conn.execute(
        "INSERT INTO enterprise_facts (enterprise_id, last_visit, open_problems, cadres) "
        "SELECT e.id, lv.d, coalesce(op.n, 0), ("
        + FIGURES["cadres"].format(e="e.id") + ") FROM enterprises e "
        "LEFT JOIN (SELECT ve.enterprise_id AS id, max(v.visit_date) AS d FROM visit_enterprises ve "
        "           JOIN visits v ON v.id = ve.visit_id WHERE ve.deleted = 0 AND v.deleted = 0 "
        "           GROUP BY ve.enterprise_id) lv ON lv.id = e.id "
        "LEFT JOIN (SELECT enterprise_id AS id, count(*) AS n FROM problems WHERE deleted = 0 "
        f"           AND status IN ({_OPEN}) GROUP BY enterprise_id) op ON op.id = e.id")
