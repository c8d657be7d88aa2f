"""Killing a child process that works on a database (SIGKILL at chosen moments), the checks made afterwards, and
the deterministic workload of user actions that tests/integration/test_kill_edits.py runs in its child.

The child is `python -c <script>` with tests/integration on its path, so a child script can `import killer` and
perform exactly the actions the parent later checks for (the plan is a pure function of its length and seed).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- the child process

def spawn(script: str, *args, data_dir: Path) -> subprocess.Popen:
    """Start `python -c script args…` on the project (stdin is a pipe: a child may wait on it to be killed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT), str(HERE))), "ZHUQI_DATA_DIR": str(data_dir),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(child: subprocess.Popen) -> None:
    line = child.stdout.readline().strip()
    if line != "ready":
        child.kill()
        raise AssertionError(f"the child did not start: {line!r}\n{child.stderr.read()}")


def kill_after(child: subprocess.Popen, delay: float) -> tuple[list[str], str, bool]:
    """Once the child said "ready", let it work `delay` seconds, then SIGKILL it (no cleanup, no rollback by
    Python). Returns its stdout lines after "ready", its stderr, and whether it was still running when killed."""
    try:
        wait_ready(child)
        time.sleep(delay)
        running = child.poll() is None
        child.kill()
    finally:
        out, err = child.communicate(timeout=60)
    return out.splitlines(), err, running


def kill_at_pause(child: subprocess.Popen, marker: str, timeout: float = 60) -> tuple[list[str], str]:
    """Read the child's lines until one starts with `marker` (the child then waits on its stdin), and SIGKILL it
    there: a kill at an exact point of the code instead of a random moment."""
    seen = []
    watchdog = threading.Timer(timeout, child.kill)  # a child that never gets there must not hang the test
    watchdog.start()
    try:
        wait_ready(child)
        while line := child.stdout.readline():
            seen.append(line.rstrip("\n"))
            if line.startswith(marker):
                child.kill()
                break
    finally:
        watchdog.cancel()
        out, err = child.communicate(timeout=60)
    seen += out.splitlines()
    assert any(s.startswith(marker) for s in seen), f"the child never reached {marker!r}: {seen}\n{err}"
    return seen, err


# ---------------------------------------------------------------- checks on a database left by a killed process

def check_database(db: Path) -> None:
    """SQLite's own checks: the file, the foreign keys and the full-text index are sound."""
    conn = sqlite3.connect(db)
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # FTS5's own consistency check (raises when the index and its shadow tables disagree); changes nothing.
        from app.textsearch import FTS_TABLES

        for table in FTS_TABLES.values():
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
    finally:
        conn.close()


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


# ---------------------------------------------------------------- the workload of test_kill_edits.py

SEED = 20261122
JINSHUI_REGION = "410105"
LEAD_UNIT = "D05"  # 市人社局
CATEGORIES = ("labour", "finance", "land", "policy", "utilities", "approval")


def mark(n: int) -> str:
    """The text every action writes into its records, so the parent can find them."""
    return f"动作 {n}"


def enterprise_name(n: int) -> str:
    return f"动作{n}号测试企业有限公司"


def problem_text(n: int, i: int, k: int) -> str:
    return f"动作 {n} 问题 {i}/{k}：企业反映用工紧张，希望协调招聘。"


@dataclass(frozen=True)
class Action:
    """One user action (one transaction). References to earlier records are by the number of the action that made
    them: `ents` (enterprise actions), `visit` (a visit action), `problem` = (visit action, i, k), `attach`."""

    n: int
    kind: str  # ent | edit | visit | vtext | step | attach | detach | assign
    ents: tuple[int, ...] = ()
    problems: tuple[tuple[int, str], ...] = ()  # visit: (enterprise action, category) per problem
    attendees: int = 0
    visit: int = 0
    problem: tuple[int, int, int] = (0, 0, 0)
    step: str = ""
    attach: int = 0


@dataclass
class _Sim:
    ents: list[int] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    pending: list[tuple[int, int, int]] = field(default_factory=list)
    assigned: list[tuple[int, int, int]] = field(default_factory=list)
    attached: list[int] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)


def plan(count: int, seed: int = SEED) -> list[Action]:
    """The first `count` actions of the workload: always the same for the same seed."""
    rng = random.Random(seed)
    sim = _Sim()
    out: list[Action] = []
    for n in range(1, count + 1):
        weights = {"ent": 2}
        if sim.ents:
            weights.update(edit=2, visit=5)
        if sim.unassigned:
            weights["assign"] = 1
        if sim.visits:
            weights.update(vtext=1, attach=1)
        if sim.pending or sim.assigned:
            weights["step"] = 3
        if sim.attached:
            weights["detach"] = 1
        kind = "ent" if n <= 3 else rng.choices(list(weights), list(weights.values()))[0]
        if kind == "ent":
            sim.ents.append(n)
            sim.unassigned.append(n)
            out.append(Action(n, kind))
        elif kind == "edit":
            out.append(Action(n, kind, ents=(rng.choice(sim.ents),)))
        elif kind == "assign":
            ent = sim.unassigned.pop(rng.randrange(len(sim.unassigned)))
            out.append(Action(n, kind, ents=(ent,)))
        elif kind == "visit":
            ents = tuple(rng.sample(sim.ents, min(len(sim.ents), rng.choice((1, 1, 2)))))
            k = rng.choice((0, 1, 2, 3, 3))
            problems = tuple((rng.choice(ents), rng.choice(CATEGORIES)) for _ in range(k))
            sim.visits.append(n)
            sim.pending += [(n, i, k) for i in range(1, k + 1)]
            out.append(Action(n, kind, ents=ents, problems=problems, attendees=rng.randrange(3)))
        elif kind == "vtext":
            out.append(Action(n, kind, visit=rng.choice(sim.visits)))
        elif kind == "step":
            pool = rng.choice([p for p in (sim.pending, sim.assigned) if p])
            problem = pool.pop(rng.randrange(len(pool)))
            if pool is sim.pending:
                sim.assigned.append(problem)
                out.append(Action(n, kind, problem=problem, step="交办"))
            else:
                out.append(Action(n, kind, problem=problem, step="办结"))
        elif kind == "attach":
            sim.attached.append(n)
            out.append(Action(n, kind, visit=rng.choice(sim.visits)))
        elif kind == "detach":
            out.append(Action(n, kind, attach=sim.attached.pop(rng.randrange(len(sim.attached)))))
    return out


def _id(conn, sql: str, *params) -> str:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, (sql, params)
    return row[0]


def perform(services, a: Action, files: Path) -> None:
    """Carry out one action through the real services (the child calls this; one action = one transaction)."""
    from app import uscc
    from app.problems import ProblemInput
    from app.visits import Attendee, VisitInput

    conn = services.store.conn

    def ent_id(m: int) -> str:
        return _id(conn, "SELECT id FROM enterprises WHERE name = ?", enterprise_name(m))

    me = services.installation
    if a.kind == "ent":
        services.enterprises.create({
            "uscc": uscc.make(f"91{JINSHUI_REGION}MA{a.n:07d}"), "name": enterprise_name(a.n), "unit_id": me.unit_id,
            "address": f"金水区测试路{a.n}号", "contact_name": "张经理", "contact_phone": "13800000000",
            "note": mark(a.n)})
    elif a.kind == "edit":
        services.enterprises.update(ent_id(a.ents[0]), {"note": mark(a.n), "address": f"金水区改址路{a.n}号"})
    elif a.kind == "assign":
        services.people.assign(me.cadre_id, ent_id(a.ents[0]), note=mark(a.n))
    elif a.kind == "visit":
        ids = [ent_id(m) for m in a.ents]
        k = len(a.problems)
        services.visits.create(VisitInput(
            kind="实地走访", visit_date=_today(), enterprise_ids=ids, cadre_ids=[me.cadre_id], summary=mark(a.n),
            attendees=[Attendee(name=f"参会人{a.n}-{j}", title="经理", enterprise_id=ids[0])
                       for j in range(1, a.attendees + 1)],
            problems=[ProblemInput(enterprise_id=ent_id(m), category_code=cat, description=problem_text(a.n, i, k))
                      for i, (m, cat) in enumerate(a.problems, start=1)]))
    elif a.kind == "vtext":
        vid = _id(conn, "SELECT id FROM visits WHERE summary = ?", mark(a.visit))
        services.visits.update_text(vid, follow_up=mark(a.n))
    elif a.kind == "step":
        pid = _id(conn, "SELECT id FROM problems WHERE description = ?", problem_text(*a.problem))
        if a.step == "交办":
            services.problems.take_step(pid, "交办", note=mark(a.n), lead_unit_id=LEAD_UNIT)
        else:
            services.problems.take_step(pid, "办结", note=mark(a.n), outcome="已解决")
    elif a.kind == "attach":
        vid = _id(conn, "SELECT id FROM visits WHERE summary = ?", mark(a.visit))
        scan = files / f"扫描件{a.n}.pdf"
        scan.write_bytes(scan_bytes(a.n))
        services.attachments.add("visits", vid, scan, note=mark(a.n))
    elif a.kind == "detach":
        services.attachments.remove(_id(conn, "SELECT id FROM attachments WHERE note = ?", mark(a.attach)))
    else:
        raise ValueError(a.kind)


def warm_up() -> None:
    """Load what the first action would load lazily (the pinyin table for enterprise initials takes a while), so
    that the kills fall among actions rather than into the child's start-up."""
    import app.problems  # noqa: F401
    import app.visits  # noqa: F401
    from app.textsearch import initials

    initials("预热拼音")


def scan_bytes(n: int) -> bytes:
    return b"%PDF-1.4\n% scan of action " + str(n).encode() + b"\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def _today() -> str:
    from app.clock import today

    return today().isoformat()


# ---------------------------------------------------------------- what the parent finds of each action

def _json(text: str | None) -> dict:
    return json.loads(text) if text else {}


def present_actions(conn, actions: list[Action]) -> set[int]:
    """The numbers of the actions whose marker is in the database (found in bulk, not one query per action)."""
    def numbers(sql: str) -> set[str]:
        return {r[0] for r in conn.execute(sql) if r[0]}

    ents = numbers("SELECT name FROM enterprises")
    edits = {_json(r[0]).get("note") for r in conn.execute(
        "SELECT after FROM audit_log WHERE action = '修改企业信息' AND table_name = 'enterprises'")}
    visits = numbers("SELECT summary FROM visits")
    vtexts = {_json(r[0]).get("follow_up") for r in conn.execute(
        "SELECT after FROM audit_log WHERE action = '修改走访记录' AND table_name = 'visits'")}
    events = numbers("SELECT note FROM problem_events")
    attachments = {r[0]: r[1] for r in conn.execute("SELECT note, deleted FROM attachments")}
    assigns = numbers("SELECT note FROM assignments")
    found = set()
    for a in actions:
        m = mark(a.n)
        hit = {"ent": enterprise_name(a.n) in ents, "edit": m in edits, "visit": m in visits, "vtext": m in vtexts,
               "step": m in events, "attach": m in attachments, "assign": m in assigns,
               "detach": attachments.get(mark(a.attach)) == 1}[a.kind]
        if hit:
            found.add(a.n)
    return found


def markers_in_database(conn) -> set[int]:
    """Every action number any marker in the database names (to see that nothing beyond the plan's prefix exists)."""
    texts = [r[0] for r in conn.execute(
        "SELECT summary FROM visits UNION ALL SELECT follow_up FROM visits UNION ALL SELECT note FROM enterprises "
        "UNION ALL SELECT note FROM problem_events UNION ALL SELECT note FROM attachments "
        "UNION ALL SELECT note FROM assignments UNION ALL SELECT description FROM problems")]
    out = set()
    for t in texts:
        if t and t.startswith("动作 "):
            out.add(int(t.split()[1].rstrip("：")))
    return out


class Checker:
    """Checks a station database after a kill: each action whole, and the bookkeeping every change carries."""

    def __init__(self, conn):
        self.conn = conn
        self.me = conn.execute("SELECT value FROM settings WHERE key = 'installation.id'").fetchone()[0]
        self.failures: list[str] = []
        # The outbox has no index by row (export reads it by seq): group it once.
        self.ops: dict[tuple[str, str], list[sqlite3.Row]] = {}
        for r in conn.execute("SELECT * FROM outbox ORDER BY seq"):
            self.ops.setdefault((r["table_name"], r["row_id"]), []).append(r)
        self._maps: dict[tuple, dict] = {}

    def fail(self, what: str) -> None:
        self.failures.append(what)

    def one(self, sql: str, *params):
        return self.conn.execute(sql, params).fetchone()

    def by(self, table: str, column: str, value: str) -> sqlite3.Row | None:
        """The row of `table` whose unindexed `column` (a marker) is `value`: the table is read once per check."""
        key = (table, column)
        if key not in self._maps:
            self._maps[key] = {r[column]: r for r in self.conn.execute(f"SELECT * FROM {table}")}  # noqa: S608
        return self._maps[key].get(value)

    def outbox(self, table: str, row_id: str, op: str | None = None) -> list[sqlite3.Row]:
        return [r for r in self.ops.get((table, row_id), []) if op is None or r["op"] == op]

    def audit(self, table: str, row_id: str, action: str) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM audit_log WHERE table_name = ? AND row_id = ? AND action = ?",
                                 (table, row_id, action)).fetchall()

    def inserted(self, table: str, row_id: str, action: str | None, what: str) -> None:
        """The row's insert went to the outbox (and, for audited inserts, to the audit log)."""
        if not self.outbox(table, row_id, "insert"):
            self.fail(f"{what}: {table} {row_id} has no outbox insert")
        if action and not self.audit(table, row_id, action):
            self.fail(f"{what}: {table} {row_id} has no audit entry “{action}”")

    def indexed(self, kind: str, row_id: str, what: str) -> None:
        if not self.one("SELECT 1 FROM search_rows WHERE kind = ? AND row_id = ?", kind, row_id):
            self.fail(f"{what}: {kind} {row_id} is missing from the search index")

    def changed_with(self, table: str, audit_action: str, key: str, value: str, what: str) -> None:
        """An edit action: its audit entry and the outbox update made at the same moment carry the new value."""
        cache = (table, audit_action, key)
        if cache not in self._maps:
            self._maps[cache] = {}
            for r in self.conn.execute("SELECT * FROM audit_log WHERE table_name = ? AND action = ?",
                                       (table, audit_action)):
                self._maps[cache].setdefault(_json(r["after"]).get(key), []).append(r)
        rows = self._maps[cache].get(value, [])
        if len(rows) != 1:
            self.fail(f"{what}: {len(rows)} audit entries carry {key} = {value}")
            return
        ops = [o for o in self.outbox(table, rows[0]["row_id"], "update") if o["at"] == rows[0]["at"]]
        if len(ops) != 1 or _json(ops[0]["new"]).get(key) != value:
            self.fail(f"{what}: the outbox has no update of {table} {rows[0]['row_id']} with {key} = {value}")

    # -- one action ----------------------------------------------------------------------------------------------
    def action(self, a: Action) -> None:
        what = f"action {a.n} ({a.kind})"
        m = mark(a.n)
        if a.kind == "ent":
            row = self.by("enterprises", "name", enterprise_name(a.n))
            self.inserted("enterprises", row["id"], "新建企业", what)
            self.indexed("enterprise", row["id"], what)
        elif a.kind == "edit":
            self.changed_with("enterprises", "修改企业信息", "note", m, what)
        elif a.kind == "assign":
            row = self.by("assignments", "note", m)
            self.inserted("assignments", row["id"], "建立包联关系", what)
        elif a.kind == "vtext":
            self.changed_with("visits", "修改走访记录", "follow_up", m, what)
        elif a.kind == "visit":
            self._visit(a, what)
        elif a.kind == "step":
            event = self.by("problem_events", "note", m)
            if event["kind"] != a.step:
                self.fail(f"{what}: the event is a {event['kind']}, not a {a.step}")
            self.inserted("problem_events", event["id"], None, what)
            if not self.audit("problems", event["problem_id"], f"问题{a.step}"):
                self.fail(f"{what}: the problem's change has no audit entry 问题{a.step}")
        elif a.kind == "attach":
            row = self.by("attachments", "note", m)
            self.inserted("attachments", row["id"], "添加附件", what)
            if not self.one("SELECT 1 FROM blobs WHERE sha256 = ?", row["sha256"]):
                self.fail(f"{what}: the attachment's content is missing")
            if not [r for r in self.audit("visits", row["owner_id"], "添加附件：扫描件")
                    if _json(r["after"]).get("attachment_id") == row["id"]]:
                self.fail(f"{what}: the visit's history does not show the attachment")
        elif a.kind == "detach":
            row = self.by("attachments", "note", mark(a.attach))
            if len(self.outbox("attachments", row["id"], "delete")) != 1 or not self.audit(
                    "attachments", row["id"], "删除附件"):
                self.fail(f"{what}: the tombstone has no outbox delete or no audit entry")
            if not [r for r in self.audit("visits", row["owner_id"], "删除附件：扫描件")
                    if _json(r["after"]).get("attachment_id") == row["id"]]:
                self.fail(f"{what}: the visit's history does not show the removal")

    def _visit(self, a: Action, what: str) -> None:
        visit = self.by("visits", "summary", mark(a.n))
        vid = visit["id"]
        self.inserted("visits", vid, "登记走访", what)
        self.indexed("visit", vid, what)
        want_ents = sorted(enterprise_name(m) for m in a.ents)
        ves = self.conn.execute("SELECT ve.id, e.name FROM visit_enterprises ve JOIN enterprises e ON "
                                "e.id = ve.enterprise_id WHERE ve.visit_id = ?", (vid,)).fetchall()
        if sorted(r["name"] for r in ves) != want_ents:
            self.fail(f"{what}: visit enterprises {[r['name'] for r in ves]} instead of {want_ents}")
        cadres = self.conn.execute("SELECT id FROM visit_cadres WHERE visit_id = ?", (vid,)).fetchall()
        attendees = self.conn.execute("SELECT id FROM visit_attendees WHERE visit_id = ?", (vid,)).fetchall()
        if len(cadres) != 1 or len(attendees) != a.attendees:
            self.fail(f"{what}: {len(cadres)} cadres and {len(attendees)} attendees instead of 1 and {a.attendees}")
        for table, rows in (("visit_enterprises", ves), ("visit_cadres", cadres), ("visit_attendees", attendees)):
            for r in rows:
                self.inserted(table, r["id"], None, what)
        k = len(a.problems)
        problems = self.conn.execute("SELECT * FROM problems WHERE visit_id = ?", (vid,)).fetchall()
        want = sorted(problem_text(a.n, i, k) for i in range(1, k + 1))
        if sorted(p["description"] for p in problems) != want:
            self.fail(f"{what}: problems {[p['description'] for p in problems]} instead of {want}")
        for p in problems:
            self.inserted("problems", p["id"], "登记问题", what)
            self.indexed("problem", p["id"], what)
            first = self.conn.execute("SELECT * FROM problem_events WHERE problem_id = ? AND kind = '登记'",
                                      (p["id"],)).fetchall()
            if len(first) != 1:
                self.fail(f"{what}: problem {p['description']} has {len(first)} 登记 events")
            for e in first:
                self.inserted("problem_events", e["id"], None, what)

    # -- the whole database ----------------------------------------------------------------------------------------
    def bookkeeping(self) -> int:
        """Every change of this installation went through the outbox, with the right revisions; nothing points at
        a row that is not there; record numbers have no gaps; each problem's row is the fold of its events. Returns
        how many rows this installation has made."""
        from app import lifecycle as lc
        from db.changes import SYNCED_TABLES

        conn = self.conn
        ops = {key: revs for key, rows in self.ops.items() if (revs := [r["rev"] for r in rows if r["origin"] == self.me])}
        mine = 0
        for table in sorted(SYNCED_TABLES):
            for row_id, rev in conn.execute(f"SELECT id, rev FROM {table} WHERE origin = ?", (self.me,)):  # noqa: S608
                mine += 1
                revs = ops.pop((table, row_id), None)
                if revs != list(range(1, rev + 1)):
                    self.fail(f"{table} {row_id} is at rev {rev} but its outbox operations have revs {revs}")
        for (table, row_id), revs in ops.items():
            self.fail(f"outbox operations {revs} for {table} {row_id}, which is not in the database")
        for r in conn.execute("SELECT table_name, row_id, at FROM outbox WHERE origin = ? AND op != 'insert'",
                              (self.me,)):
            if not self.one("SELECT 1 FROM audit_log WHERE table_name = ? AND row_id = ? AND at = ?", *r):
                self.fail(f"the change of {r[0]} {r[1]} at {r[2]} has no audit entry")
        for r in conn.execute("SELECT table_name, row_id, action FROM audit_log"):
            if r[0] in SYNCED_TABLES and not self.one(f"SELECT 1 FROM {r[0]} WHERE id = ?", r[1]):  # noqa: S608
                self.fail(f"the audit entry “{r[2]}” points at {r[0]} {r[1]}, which is not there")
        year = _today()[:4]
        for prefix, table in (("ZF", "visits"), ("WT", "problems")):
            counter = self.one("SELECT value FROM settings WHERE key = ?", f"counter.{prefix}.{year}")
            count = self.one(f"SELECT count(*) FROM {table}")[0]  # noqa: S608
            if int(counter[0] if counter else 0) != count:
                self.fail(f"record number counter {prefix} is {counter and counter[0]} for {count} {table}")
        for p in conn.execute("SELECT * FROM problems").fetchall():
            events = [dict(e) for e in conn.execute(
                "SELECT * FROM problem_events WHERE problem_id = ? AND deleted = 0 ORDER BY on_date, at, id",
                (p["id"],))]
            try:
                state = lc.replay(events, p["level"])
            except ValueError as exc:
                self.fail(f"problem {p['description'][:12]}: its events do not fold ({exc})")
                continue
            diff = {k: (p[k], v) for k, v in state.items() if p[k] != v}
            if diff:
                self.fail(f"problem {p['description'][:12]} differs from the fold of its events: {diff}")
        return mine
