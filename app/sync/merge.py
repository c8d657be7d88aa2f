"""Apply verified operations to the database by the rules of DESIGN §5 (the caller holds the transaction).

* Idempotent: each operation is (origin, seq); `sync_seen` keeps the intervals already held, so an operation seen
  before (in this or any earlier package) is skipped. Own operations coming back are skipped too.
* Any order: an operation whose record — or a record it points to — is not here yet waits in `waiting_ops` and
  is retried after every import; it is never dropped.
* Per-field merge with old values: a field whose current value is the sender's old value takes the new one; a
  field changed on both sides is a conflict. The provisional winner is the later write ((at, origin, seq), the
  same whatever the arrival order) and the loser is kept in `sync_conflicts` for a person to decide.
* Deletes are tombstones; deleting twice is a no-op; an edit the deleter never saw is a conflict on `deleted`
  (the record stays deleted — never a silent undelete) and the edit's values are still merged into it.
* Append-only tables (events, audit) never conflict. A problem's status columns are the fold of its events, so
  they are recomputed from the merged events (lifecycle.replay), never merged field by field.
* The same enterprise (USCC) or department (name) created on two PCs is merged: the later id becomes an alias
  of the kept one.

State ops (down packages: reference data and events decided at a hub) are upserts by id with no seq bookkeeping.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from app import lifecycle as lc
from app.clock import now_utc
from app.problems import STATE_FIELDS, load_events, with_merged_units
from app.sync import intervals
from app.textsearch import SEARCH_KINDS, reindex_stored
from db.changes import APPEND_ONLY, SYNC_COLUMNS, SYNCED_TABLES

_CHUNK = 500
DERIVED = {"problems": frozenset(STATE_FIELDS)}
# Natural keys (unique among live rows): a second record with the same key is merged into the first.
NATURAL_KEYS = {"enterprises": "uscc", "units": "name"}
# Soft references (no SQL foreign key) that still have to be present before a row is usable.
_SOFT_REFS = {"attachments": ("owner_table", "owner_id")}


def op_key(op: dict) -> str:
    return f"{op['origin']}:{op['seq']}"


@dataclass
class Summary:
    applied: int = 0
    skipped: int = 0
    waiting: int = 0
    conflicts: int = 0
    released: int = 0  # earlier waiting operations that could be applied now
    new_ops: list[dict] = field(default_factory=list)  # ops held for the first time (for relaying)


class Schema:
    """Columns and foreign keys of the synced tables, read from the database itself."""

    def __init__(self, conn: sqlite3.Connection):
        self.columns: dict[str, tuple[str, ...]] = {}
        self.required: dict[str, frozenset[str]] = {}
        self.defaults: dict[str, dict] = {}
        self.parents: dict[str, tuple[tuple[str, str], ...]] = {}
        for table in SYNCED_TABLES:
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            self.columns[table] = tuple(r[1] for r in info)
            self.required[table] = frozenset(r[1] for r in info if r[3] and r[4] is None and not r[5])
            # Column defaults as values (PRAGMA gives SQL literals), so a row inserted from an operation that left
            # them out looks in memory exactly as it will in the table.
            self.defaults[table] = {r[1]: conn.execute(f"SELECT {r[4]}").fetchone()[0] for r in info
                                    if r[4] is not None}
            fks = conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()
            self.parents[table] = tuple((r[3], r[2]) for r in fks)  # (column, parent table)

    def shape_problem(self, op: dict) -> str | None:
        """Why an operation does not fit the tables (None when it does). Checked for every op before any write."""
        table, cols = op["table_name"], self.columns.get(op["table_name"], ())
        new, old = op["new"], op["old"]
        for values in (new, old):
            if values is None:
                continue
            unknown = sorted(set(values) - set(cols))
            if unknown:
                return f"表 {table} 没有字段 {unknown[:3]}"
            if any(v is not None and not isinstance(v, (str, int, float)) for v in values.values()):
                return "字段值应为文字或数字"
        if op["op"] == "insert":
            if not new:
                return "新增记录缺少内容"
            if new.get("id") != op["row_id"]:
                return "新增记录的 id 与操作不一致"
            missing = sorted(self.required[table] - set(new))
            if missing:
                return f"新增记录缺少必填字段 {missing[:3]}"
        elif table in APPEND_ONLY:
            return f"表 {table} 只能新增，不能修改或删除"
        elif op["op"] == "update":
            restore = new == {"deleted": 0} and old == {"deleted": 1}
            if not new or (set(new) & set(SYNC_COLUMNS) and not restore) or set(old or {}) - set(new):
                return "修改操作的字段不对"
        elif new != {"deleted": 1}:
            return "删除操作的内容不对"
        return None


class Merger:
    def __init__(self, conn: sqlite3.Connection, *, me: str, package_id: str, via: str | None,
                 relay: bool, schema: Schema | None = None):
        self.conn = conn
        self.me = me
        self.package_id = package_id
        self.via = via
        self.relay = relay
        self.schema = schema or Schema(conn)
        self.now = now_utc()
        self.rows: dict[tuple[str, str], dict | None] = {}
        self.new_rows: dict[tuple[str, str], dict] = {}
        self.new_keys: dict[tuple[str, str], dict] = {}  # (table, natural key) of rows inserted in this import
        self.changed: set[tuple[str, str]] = set()
        self.versions: dict[tuple[str, str, str], tuple[str, str, int]] = {}
        self.aliases: dict[tuple[str, str], str] = {}
        self.new_aliases: list[tuple[str, str, str]] = []
        self.conflicts: list[tuple] = []
        self.replay: set[str] = set()
        self.seen: dict[str, list[list[int]]] = {}
        self.summary = Summary()

    # ---------------------------------------------------------------- loading state in bulk
    def _load_rows(self, wanted: dict[str, set[str]]) -> None:
        for table, ids in wanted.items():
            ids = [i for i in ids if (table, i) not in self.rows]
            for i in ids:
                self.rows[(table, i)] = None
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for r in self.conn.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk):
                    self.rows[(table, r["id"])] = dict(r)

    def _load_aliases(self) -> None:
        for t, f, to in self.conn.execute("SELECT table_name, from_id, to_id FROM sync_aliases"):
            self.aliases[(t, f)] = to

    def _load_seen(self, origins) -> None:
        for origin in origins:
            if origin not in self.seen:
                raw = self.conn.execute("SELECT ranges FROM sync_seen WHERE origin = ?", (origin,)).fetchone()
                self.seen[origin] = json.loads(raw[0]) if raw else []

    def _resolve(self, table: str, row_id):
        return self.aliases.get((table, row_id), row_id)

    def _prefetch(self, ops: list[dict]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for op in ops:
            table = op["table_name"]
            wanted[table].add(self._resolve(table, op["row_id"]))
            if op["op"] == "insert":
                for col, parent in self.schema.parents[table]:
                    value = op["new"].get(col)
                    if value is not None:
                        wanted[parent].add(self._resolve(parent, value))
                if table in _SOFT_REFS:
                    t_col, id_col = _SOFT_REFS[table]
                    if op["new"].get(t_col) in SYNCED_TABLES and op["new"].get(id_col):
                        wanted[op["new"][t_col]].add(op["new"][id_col])
        self._load_rows(wanted)

    def _version(self, table: str, row_id: str, name: str) -> tuple[str, str, int]:
        key = (table, row_id, name)
        if key not in self.versions:
            r = self.conn.execute("SELECT at, origin, seq FROM field_versions WHERE table_name = ? AND row_id = ?"
                                  " AND field = ?", key).fetchone()
            self.versions[key] = tuple(r) if r else ("", "", 0)
        return self.versions[key]

    # ---------------------------------------------------------------- the merge
    def apply(self, ops: list[dict], *, state: bool = False) -> Summary:
        """Apply `ops` (in time order, each origin's in seq order), then retry whatever waits.
        state=True: upserts by id (a down package), no seq bookkeeping."""
        self._load_aliases()
        waiting = [json.loads(p) | {"_package": pkg} for p, pkg in
                   self.conn.execute("SELECT payload, package_id FROM waiting_ops ORDER BY origin, seq")]
        fresh: list[dict] = []
        if state:
            fresh = ops
        else:
            self._load_seen({op["origin"] for op in ops})
            for op in ops:
                if op["origin"] == self.me or intervals.contains(self.seen[op["origin"]], op["seq"]):
                    self.summary.skipped += 1
                else:
                    fresh.append(op)
                    intervals.add(self.seen[op["origin"]], op["seq"])
                self.summary.new_ops = fresh
        self._load_seen({op["origin"] for op in waiting})
        # Time order across origins: a hub's edit was made after the station operations it had seen, so applying
        # it after them keeps its old values meaningful (per origin, seq order is enforced in _apply_one).
        fresh = sorted(fresh, key=lambda o: (o["at"], o["origin"], o["seq"]))
        self._prefetch(fresh + waiting)
        pending = fresh + waiting
        applied_waiting = []
        while pending:
            deferred = []
            for op in pending:
                reason = self._apply_one(op, state=state)
                if reason is None:
                    if "_package" in op:
                        applied_waiting.append(op)
                    else:
                        self.summary.applied += 1
                else:
                    op["_reason"] = reason
                    deferred.append(op)
            if len(deferred) == len(pending):
                break
            pending = deferred
            self._prefetch(pending)
        self.summary.released = len(applied_waiting)
        # A state op (down package) that cannot apply names a record the recipient never had: nothing to wait for.
        left = [] if state else [op for op in pending if "_package" not in op and "_reason" in op]
        self._write(applied_waiting, left)
        return self.summary

    def _apply_one(self, op: dict, *, state: bool) -> str | None:
        """Apply one operation to the in-memory rows; returns why it must wait, or None."""
        table = op["table_name"]
        if not state and intervals.prefix_end(self.seen[op["origin"]]) < op["seq"] - 1:
            # One installation's operations apply in its own order, so its later edit never meets a base
            # value it has not arrived at yet (that would look like a conflict with itself).
            return f"等待该安装更早的操作（序号 {intervals.prefix_end(self.seen[op['origin']]) + 1} 起）"
        row_id = self._resolve(table, op["row_id"])
        current = self.rows.get((table, row_id))
        if op["op"] == "insert":
            missing = self._missing_parent(table, op["new"])
            if missing:
                return missing
            if current is not None:
                if state and table not in APPEND_ONLY:
                    self._overwrite(table, row_id, current, op["new"])
                elif not state:
                    self._merge_duplicate(table, current, op)
                return None
            if table in NATURAL_KEYS and not state:
                twin = self._twin(table, op["new"])
                if twin is not None:
                    self.aliases[(table, row_id)] = twin["id"]
                    self.new_aliases.append((table, row_id, twin["id"]))
                    self._merge_duplicate(table, twin, op)
                    return None
            row = {**self.schema.defaults[table], **op["new"]}
            self.rows[(table, row_id)] = row
            self.new_rows[(table, row_id)] = row
            if table in NATURAL_KEYS and row.get(NATURAL_KEYS[table]):
                self.new_keys[(table, row[NATURAL_KEYS[table]])] = row
            if table == "problem_events":
                self.replay.add(row["problem_id"])
            elif table == "problems":
                self.replay.add(row_id)
            return None
        if current is None:
            return "记录尚未到达"
        if op["op"] == "delete":
            self._delete(table, row_id, current, op)
        else:
            self._update(table, row_id, current, op)
        return None

    def _missing_parent(self, table: str, new: dict) -> str | None:
        for col, parent in self.schema.parents[table]:
            value = new.get(col)
            if value is not None:
                resolved = self._resolve(parent, value)
                if resolved != value:
                    new[col] = resolved
                if self.rows.get((parent, resolved)) is None:
                    return f"所需记录尚未到达（{parent} {value}）"
        if table in _SOFT_REFS:
            t_col, id_col = _SOFT_REFS[table]
            owner_table, owner_id = new.get(t_col), new.get(id_col)
            if owner_table in SYNCED_TABLES and owner_id:
                resolved = self._resolve(owner_table, owner_id)
                new[id_col] = resolved
                if self.rows.get((owner_table, resolved)) is None:
                    return f"所需记录尚未到达（{owner_table} {owner_id}）"
        return None

    def _twin(self, table: str, new: dict) -> dict | None:
        """A live record here with the same natural key (the same enterprise or department made on two PCs)."""
        key = NATURAL_KEYS[table]
        value = new.get(key)
        if not value or new.get("deleted"):
            return None
        row = self.new_keys.get((table, value))
        if row is not None and not row["deleted"] and row.get(key) == value:
            return row
        r = self.conn.execute(f"SELECT * FROM {table} WHERE {key} = ? AND deleted = 0", (value,)).fetchone()
        if r is None:
            return None
        return self.rows.setdefault((table, r["id"]), dict(r))

    def _touch(self, table: str, row_id: str, current: dict, op: dict) -> None:
        current["rev"] = max(current["rev"], op["rev"])
        if op["at"] >= current["updated_at"]:
            current["updated_at"], current["updated_by"] = op["at"], op["origin"]
        if (table, row_id) not in self.new_rows:
            self.changed.add((table, row_id))
        if table == "problems":
            self.replay.add(row_id)

    def _set(self, table: str, row_id: str, current: dict, name: str, value, stamp: tuple) -> None:
        current[name] = value
        self.versions[(table, row_id, name)] = stamp

    def _conflict(self, table: str, row_id: str, name: str, kept, other, kept_op: str, other_op: str) -> None:
        # One entry per field and pair of installations that both changed it, and one per record "deleted while
        # someone else edited it": how many writes each side made, and in which order they arrived, does not
        # change what a person has to decide (the entry shows the latest values).
        sides = "deleted" if name == "deleted" else "|".join(sorted({kept_op.split(":")[0], other_op.split(":")[0]}))
        pair = f"{sides}|{table}|{row_id}|{name}"
        self.conflicts.append((table, row_id, name, _dumps(kept), _dumps(other), kept_op, other_op, pair))

    def _withdraw_deleted_conflict(self, table: str, row_id: str, editor: str) -> None:
        """The installation whose edit the deleter missed deleted the record too: nobody wants it kept."""
        pair = f"deleted|{table}|{row_id}|deleted"
        self.conflicts = [c for c in self.conflicts if not (c[-1] == pair and c[6].split(":")[0] == editor)]
        self.conn.execute("DELETE FROM sync_conflicts WHERE pair = ? AND resolved_at IS NULL AND other_op LIKE ?",
                          (pair, f"{editor}:%"))

    def _update(self, table: str, row_id: str, current: dict, op: dict) -> None:
        stamp = (op["at"], op["origin"], op["seq"])
        derived = DERIVED.get(table, ())
        old = op["old"] or {}
        for name, value in op["new"].items():
            if name in derived or current.get(name) == value:
                continue
            if current.get(name) == old.get(name, value):  # unchanged here since the sender's base
                self._set(table, row_id, current, name, value, stamp)
                continue
            theirs = self._version(table, row_id, name)
            theirs_key = f"{theirs[1]}:{theirs[2]}" if theirs[1] else ""
            if stamp > theirs:
                self._conflict(table, row_id, name, value, current.get(name), op_key(op), theirs_key)
                self._set(table, row_id, current, name, value, stamp)
            else:
                self._conflict(table, row_id, name, current.get(name), value, theirs_key, op_key(op))
        if current["deleted"]:
            deleter = self._version(table, row_id, "deleted")
            self._conflict(table, row_id, "deleted", 1, 0, f"{deleter[1]}:{deleter[2]}" if deleter[1] else "",
                           op_key(op))
        self._touch(table, row_id, current, op)

    def _delete(self, table: str, row_id: str, current: dict, op: dict) -> None:
        stamp = (op["at"], op["origin"], op["seq"])
        if current["deleted"]:  # deleted on both sides: nothing to decide, but keep the bookkeeping order-free
            if stamp > self._version(table, row_id, "deleted"):
                self.versions[(table, row_id, "deleted")] = stamp
            self._withdraw_deleted_conflict(table, row_id, op["origin"])
            self._touch(table, row_id, current, op)
            return
        derived = DERIVED.get(table, ())
        for name, seen in (op["old"] or {}).items():
            if name == "deleted" or name in derived or current.get(name) == seen:
                continue
            writer = self._version(table, row_id, name)
            if writer[1] and writer[1] != op["origin"]:  # changed by someone the deleter had not heard from
                self._conflict(table, row_id, "deleted", 1, 0, op_key(op), f"{writer[1]}:{writer[2]}")
        self._set(table, row_id, current, "deleted", 1, stamp)
        self._touch(table, row_id, current, op)

    def _merge_duplicate(self, table: str, current: dict, op: dict) -> None:
        """The same record inserted again (a USCC twin, or an id already here): fill what is empty here and list
        real differences as conflicts (the record here keeps its values)."""
        row_id = current["id"]
        changed = False
        for name, value in op["new"].items():
            if name in SYNC_COLUMNS or name in DERIVED.get(table, ()) or value is None or value == "":
                continue
            mine = current.get(name)
            if mine is None or mine == "":
                self._set(table, row_id, current, name, value, (op["at"], op["origin"], op["seq"]))
                changed = True
            elif mine != value:
                self._conflict(table, row_id, name, mine, value, "", op_key(op))
        if changed and (table, row_id) not in self.new_rows:
            self.changed.add((table, row_id))

    def _overwrite(self, table: str, row_id: str, current: dict, new: dict) -> None:
        if any(current.get(k) != v for k, v in new.items()):
            current.update(new)
            self.changed.add((table, row_id))

    # ---------------------------------------------------------------- writing it all down
    def _write(self, released: list[dict], waiting: list[dict]) -> None:
        conn = self.conn
        conn.execute("PRAGMA defer_foreign_keys = ON")
        # Grouped by the columns a row names: columns it leaves out get their SQL defaults, as at the origin.
        by_shape: dict[tuple, list[dict]] = defaultdict(list)
        for (table, _), row in self.new_rows.items():
            by_shape[(table, tuple(row))].append(row)
        for (table, cols), rows in by_shape.items():
            conn.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                             [tuple(r[c] for c in cols) for r in rows])
        changed: dict[str, list[dict]] = defaultdict(list)
        for table, row_id in self.changed:
            changed[table].append(self.rows[(table, row_id)])
        for table, rows in changed.items():
            cols = [c for c in self.schema.columns[table] if c != "id"]
            conn.executemany(f"UPDATE {table} SET {','.join(c + ' = ?' for c in cols)} WHERE id = ?",
                             [(*(r.get(c) for c in cols), r["id"]) for r in rows])
        conn.executemany("INSERT OR REPLACE INTO field_versions (table_name, row_id, field, at, origin, seq)"
                         " VALUES (?,?,?,?,?,?)",
                         [(*k, *v) for k, v in self.versions.items() if v[1]])
        conn.executemany("INSERT OR IGNORE INTO sync_aliases (table_name, from_id, to_id) VALUES (?,?,?)",
                         self.new_aliases)
        conn.executemany("INSERT INTO sync_conflicts (table_name, row_id, field, kept_value, other_value, kept_op,"
                         " other_op, pair, detected_at, package_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
                         " ON CONFLICT(pair) WHERE resolved_at IS NULL DO UPDATE SET kept_value = excluded.kept_value,"
                         " other_value = excluded.other_value, kept_op = excluded.kept_op,"
                         " other_op = excluded.other_op, package_id = excluded.package_id",
                         [(*c, self.now, self.package_id) for c in self.conflicts])
        self.summary.conflicts = len({c[-1] for c in self.conflicts})
        conn.executemany("DELETE FROM waiting_ops WHERE origin = ? AND seq = ?",
                         [(op["origin"], op["seq"]) for op in released])
        conn.executemany("INSERT OR IGNORE INTO waiting_ops (origin, seq, payload, reason, package_id, since)"
                         " VALUES (?,?,?,?,?,?)",
                         [(op["origin"], op["seq"], _dumps(_clean(op)), op["_reason"], self.package_id, self.now)
                          for op in waiting])
        self.summary.waiting = len(waiting)
        conn.executemany("INSERT INTO sync_seen (origin, ranges, via) VALUES (?,?,?) ON CONFLICT(origin) DO UPDATE"
                         " SET ranges = excluded.ranges, via = coalesce(sync_seen.via, excluded.via)",
                         [(o, json.dumps(r), self.via) for o, r in self.seen.items()])
        if self.relay and self.summary.new_ops:
            conn.executemany("INSERT OR IGNORE INTO relay_ops (origin, seq, table_name, row_id, op, rev, at, old, new)"
                             " VALUES (?,?,?,?,?,?,?,?,?)",
                             [(op["origin"], op["seq"], op["table_name"], op["row_id"], op["op"], op["rev"], op["at"],
                               None if op["old"] is None else _dumps(op["old"]), _dumps(op["new"]))
                              for op in self.summary.new_ops])
        self._replay_problems()
        self._reindex()

    def _replay_problems(self) -> None:
        for pid in self.replay:
            row = self.conn.execute("SELECT level FROM problems WHERE id = ?", (pid,)).fetchone()
            if row is None:
                continue
            events = load_events(self.conn, pid)
            if not events:
                continue
            try:
                state = with_merged_units(self.conn, lc.replay(events))
            except (KeyError, ValueError, TypeError):
                continue  # an event set that does not fold (e.g. no 登记 yet): keep the stored columns
            sets = ", ".join(f"{k} = ?" for k in state)
            self.conn.execute(f"UPDATE problems SET {sets} WHERE id = ?", (*state.values(), pid))

    def _reindex(self) -> None:
        # Each record once, however many of its rows (a visit's enterprises) arrived.
        records = set()
        for table, row_id in set(self.new_rows) | self.changed:
            if table in SEARCH_KINDS:
                records.add((SEARCH_KINDS[table], row_id))
            elif table == "visit_enterprises":
                records.add(("visit", self.rows[(table, row_id)]["visit_id"]))
        for kind, row_id in records:
            reindex_stored(self.conn, kind, row_id)


def _clean(op: dict) -> dict:
    return {k: v for k, v in op.items() if not k.startswith("_")}


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
