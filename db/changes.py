"""ChangeWriter: the only way services write syncable rows — each change also lands in outbox and audit_log.

Callers hold a transaction (Store.transaction()); the writer never commits, so a row, its outbox
operation and its audit entry are saved together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from app.clock import now_utc
from app.errors import NotFoundError
from app.ids import uuid7

SYNCED_TABLES = frozenset({
    "units", "vocabulary", "deadline_templates", "work_groups", "cadres", "enterprises", "assignments",
    "visits", "visit_enterprises", "visit_cadres", "visit_attendees", "problems", "problem_events", "audit_log",
    "attachments",
})
SYNC_COLUMNS = ("id", "origin", "rev", "updated_at", "updated_by", "deleted")
# Tables whose rows are written once and never edited (DESIGN §5: they never conflict).
APPEND_ONLY = frozenset({"problem_events", "audit_log"})


@dataclass(frozen=True)
class Actor:
    """Who makes a change: this installation and the person at the keyboard."""

    installation_id: str
    operator: str


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class ChangeWriter:
    def __init__(self, conn: sqlite3.Connection, actor: Actor):
        self.conn = conn
        self.actor = actor

    def _check(self, table: str) -> None:
        if table not in SYNCED_TABLES:
            raise ValueError(f"not a synced table: {table}")

    def _outbox(self, table: str, row_id: str, op: str, rev: int, at: str, old: dict | None,
                new: dict | None) -> int:
        return self.conn.execute(
            "INSERT INTO outbox (origin, table_name, row_id, op, rev, at, old, new) VALUES (?,?,?,?,?,?,?,?)",
            (self.actor.installation_id, table, row_id, op, rev, at,
             None if old is None else _dumps(old), None if new is None else _dumps(new)),
        ).lastrowid

    def _versions(self, table: str, row_id: str, fields: list[str], at: str, seq: int) -> None:
        """Who wrote these fields last: when another installation changed the same field, the sync merge picks the
        same provisional winner whatever order the packages arrive in (app/sync/merge.py)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO field_versions (table_name, row_id, field, at, origin, seq) VALUES (?,?,?,?,?,?)",
            [(table, row_id, k, at, self.actor.installation_id, seq) for k in fields])

    def _audit(self, action: str, table: str, row_id: str, at: str, before: dict | None, after: dict | None):
        audit_id = uuid7()
        row = {
            "id": audit_id, "origin": self.actor.installation_id, "rev": 1, "updated_at": at,
            "updated_by": self.actor.installation_id, "deleted": 0, "at": at, "operator": self.actor.operator,
            "action": action, "table_name": table, "row_id": row_id,
            "before": None if before is None else _dumps(before), "after": None if after is None else _dumps(after),
        }
        self._raw_insert("audit_log", row)
        self._outbox("audit_log", audit_id, "insert", 1, at, None, None)  # append-only: see insert()

    def record_access(self, action: str, table: str, row_id: str, fields: list[str]) -> None:
        """Audit a read of personal data (reveal, export, print): DESIGN §7 wants these logged too."""
        self._check(table)
        self._audit(action, table, row_id, now_utc(), None, {"accessed_fields": sorted(fields)})

    def annotate(self, action: str, table: str, row_id: str, details: dict) -> None:
        """Audit an action on a record that does not change the record itself (e.g. a scan attached to a visit),
        so the record's history shows it."""
        self._check(table)
        self.current(table, row_id)
        self._audit(action, table, row_id, now_utc(), None, details)

    def _raw_insert(self, table: str, row: dict) -> None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values()))

    def insert(self, table: str, values: dict, *, action: str, audit: bool = True) -> str:
        """Insert a new row (id made here unless given); returns its id."""
        self._check(table)
        at = now_utc()
        row = {"id": values.get("id") or uuid7(), "origin": self.actor.installation_id, "rev": 1, "updated_at": at,
               "updated_by": self.actor.installation_id, "deleted": 0}
        row.update({k: v for k, v in values.items() if k not in SYNC_COLUMNS})
        self._raw_insert(table, row)
        # Append-only rows never change, so the row in its table *is* the operation's payload: the
        # outbox only points at it (new = NULL) instead of storing a second copy of every event and
        # audit entry. Other inserts keep their values, because the row may be edited before export.
        self._outbox(table, row["id"], "insert", 1, at, None, None if table in APPEND_ONLY else row)
        if audit:
            self._audit(action, table, row["id"], at, None, {k: v for k, v in row.items() if k not in SYNC_COLUMNS})
        return row["id"]

    def insert_many(self, table: str, values_list: list[dict], *, action: str) -> list[str]:
        """insert() for many rows with executemany (a roster import writes tens of thousands): the same rows, outbox
        operations (in the same order: each row's, then its audit entry's) and audit entries; returns the ids."""
        self._check(table)
        if table in APPEND_ONLY:
            raise ValueError(f"{table} is append-only: use insert()")
        at = now_utc()
        me = self.actor.installation_id
        by_columns: dict[tuple, list[tuple]] = {}
        audits: list[tuple] = []
        ops: list[tuple] = []
        ids: list[str] = []
        for values in values_list:
            row = {"id": values.get("id") or uuid7(), "origin": me, "rev": 1, "updated_at": at, "updated_by": me,
                   "deleted": 0}
            row.update({k: v for k, v in values.items() if k not in SYNC_COLUMNS})
            by_columns.setdefault(tuple(row), []).append(tuple(row.values()))
            audit_id = uuid7()
            after = _dumps({k: v for k, v in row.items() if k not in SYNC_COLUMNS})
            audits.append((audit_id, me, 1, at, me, 0, at, self.actor.operator, action, table, row["id"], None, after))
            ops.append((me, table, row["id"], "insert", 1, at, None, _dumps(row)))
            ops.append((me, "audit_log", audit_id, "insert", 1, at, None, None))
            ids.append(row["id"])
        for columns, rows in by_columns.items():
            self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                  f"({', '.join('?' for _ in columns)})", rows)
        self.conn.executemany(
            "INSERT INTO audit_log (id, origin, rev, updated_at, updated_by, deleted, at, operator, action, table_name,"
            " row_id, before, after) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", audits)
        self.conn.executemany(
            "INSERT INTO outbox (origin, table_name, row_id, op, rev, at, old, new) VALUES (?,?,?,?,?,?,?,?)", ops)
        return ids

    def current(self, table: str, row_id: str) -> sqlite3.Row:
        self._check(table)
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"记录不存在（{table} {row_id}）")
        return row

    def update(self, table: str, row_id: str, changes: dict, *, action: str) -> dict:
        """Change some fields; returns {field: (old, new)} of what really changed (nothing written if empty)."""
        self._check(table)
        if table in APPEND_ONLY:
            raise ValueError(f"{table} is append-only")
        current = self.current(table, row_id)
        diff = {k: (current[k], v) for k, v in changes.items() if k not in SYNC_COLUMNS and current[k] != v}
        if not diff:
            return {}
        at = now_utc()
        rev = current["rev"] + 1
        sets = ", ".join(f"{k} = ?" for k in diff)
        self.conn.execute(
            f"UPDATE {table} SET {sets}, rev = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            (*(new for _, new in diff.values()), rev, at, self.actor.installation_id, row_id),
        )
        old = {k: o for k, (o, _) in diff.items()}
        new = {k: n for k, (_, n) in diff.items()}
        seq = self._outbox(table, row_id, "update", rev, at, old, new)
        self._versions(table, row_id, list(diff), at, seq)
        self._audit(action, table, row_id, at, old, new)
        return diff

    def delete(self, table: str, row_id: str, *, action: str) -> bool:
        """Tombstone a row (synced rows are never removed). Deleting twice is a no-op; returns False then."""
        self._check(table)
        current = self.current(table, row_id)
        if current["deleted"]:
            return False
        at = now_utc()
        rev = current["rev"] + 1
        self.conn.execute(
            f"UPDATE {table} SET deleted = 1, rev = ?, updated_at = ?, updated_by = ? WHERE id = ?",
            (rev, at, self.actor.installation_id, row_id),
        )
        # The delete carries the row as the deleter saw it: a receiver can tell an edit the deleter never saw
        # (a conflict, not a silent undelete) from one it did, whatever order the two arrive in.
        seen = {k: v for k, v in dict(current).items() if k not in SYNC_COLUMNS}
        seq = self._outbox(table, row_id, "delete", rev, at, {**seen, "deleted": 0}, {"deleted": 1})
        self._versions(table, row_id, ["deleted"], at, seq)
        self._audit(action, table, row_id, at, {"deleted": 0}, {"deleted": 1})
        return True

    def restore(self, table: str, row_id: str, *, action: str) -> bool:
        """Undo a tombstone — only as a person's decision on a sync conflict; False if the row is not deleted."""
        self._check(table)
        current = self.current(table, row_id)
        if not current["deleted"]:
            return False
        at = now_utc()
        rev = current["rev"] + 1
        self.conn.execute(f"UPDATE {table} SET deleted = 0, rev = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                          (rev, at, self.actor.installation_id, row_id))
        seq = self._outbox(table, row_id, "update", rev, at, {"deleted": 1}, {"deleted": 0})
        self._versions(table, row_id, ["deleted"], at, seq)
        self._audit(action, table, row_id, at, {"deleted": 1}, {"deleted": 0})
        return True
