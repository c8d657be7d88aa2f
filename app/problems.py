"""Problems (企业问题/诉求): registration, every workflow step as an event, and the list queries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from app import lifecycle as lc
from app.clock import now_utc, parse_date, today
from app.context import Context
from app.errors import AppError, NotFoundError, TransitionError, ValidationError
from app.reference import ReferenceService
from app.textsearch import like_pattern, match_clause, reindex
from app.validate import a_date, choice, text
from db.changes import ChangeWriter

# The highest level each role handles itself; above it a problem belongs to the next hub up.
# The city tracks 省级 problems too: the province does not run this app.
OWN_LEVEL = {"station": "区县级", "district": "区县级", "city": "省级"}

# Columns of the problems row that mirror the event fold (lifecycle.replay).
STATE_FIELDS = tuple(lc.new_state("2000-01-01"))


def load_events(conn, pid: str) -> list[dict]:
    """A problem's events in the order the state is folded (also after a sync merge brought some from elsewhere)."""
    rows = conn.execute(
        "SELECT * FROM problem_events WHERE problem_id = ? AND deleted = 0 ORDER BY on_date, at, id", (pid,))
    out = []
    for r in rows:
        d = dict(r)  # the store's connections return sqlite3.Row
        d["data"] = json.loads(d["data"] or "{}")
        out.append(d)
    return out


def with_merged_units(conn, state: dict) -> dict:
    """The folded state with unit ids that a sync merge folded into another unit (the same department made on two
    PCs: sync_aliases) replaced by the unit this database keeps — events keep the ids they were written with."""
    ids = [state.get("lead_unit_id"), *json.loads(state.get("assist_unit_ids") or "[]")]
    ids = [i for i in ids if i]
    if not ids:
        return state
    marks = ",".join("?" * len(ids))
    alias = dict(conn.execute(f"SELECT from_id, to_id FROM sync_aliases WHERE table_name = 'units' AND from_id IN"
                              f" ({marks})", ids).fetchall())
    if not alias:
        return state
    out = dict(state)
    if out.get("lead_unit_id"):
        out["lead_unit_id"] = alias.get(out["lead_unit_id"], out["lead_unit_id"])
    out["assist_unit_ids"] = json.dumps([alias.get(u, u) for u in json.loads(out["assist_unit_ids"] or "[]")],
                                        ensure_ascii=False)
    return out


# Steps that can be taken on many problems at once (the late list's 批量催办/督办).
BATCH_STEPS = ("催办", "督办")


@dataclass
class _PreparedStep:
    """A checked workflow step, ready to be written (take_step and take_step_batch)."""

    pid: str
    kind: str
    day: str
    note: str
    data: dict
    from_status: str
    to_status: str
    changes: dict
    warnings: list[str]


@dataclass
class ProblemInput:
    enterprise_id: str
    category_code: str
    description: str
    request: str = ""
    title: str = ""
    severity: str = "一般"
    level: str = "区县级"
    registered_on: str | date | None = None
    visit_id: str | None = None


@dataclass
class ProblemFilter:
    text: str = ""
    statuses: tuple[str, ...] = ()
    overdue: bool = False  # being handled and past the (possibly extended) deadline
    due_within: int | None = None  # being handled, deadline within N working days from today
    enterprise_id: str | None = None
    lead_unit_id: str | None = None
    category_code: str | None = None
    level: str | None = None
    unit_id: str | None = None  # enterprise's district
    cadre_id: str | None = None  # problems of enterprises this cadre 包联
    ids: list[str] | None = field(default=None)


SORT_COLUMNS = {
    "record_no": "p.record_no", "title": "p.title", "enterprise": "e.name_initials", "category": "p.category_code",
    "status": "p.status", "lead_unit": "lu.name", "deadline": "p.deadline", "registered_on": "p.registered_on",
    "level": "p.level", "resolved_on": "p.resolved_on",
}


class ProblemService:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.reference = ReferenceService(ctx)

    # -- registration ------------------------------------------------------------------------------
    def clean_input(self, p: ProblemInput, *, prefix: str = "") -> dict:
        """Validate a new problem; `prefix` (e.g. "问题2：") tells the user which one in a multi-problem form."""
        cats = dict(self.ctx.store.query(
            "SELECT code, name FROM vocabulary WHERE kind = 'problem_category' AND deleted = 0"))
        if p.category_code not in cats:
            raise ValidationError(f"{prefix}请选择问题类别。", field="category_code")
        description = text(p.description, f"{prefix}问题描述", "description", required=True, max_len=4000)
        title = text(p.title, f"{prefix}问题标题", "title", max_len=60) or _title_from(description)
        registered = a_date(p.registered_on or today(), f"{prefix}登记日期", "registered_on", not_future=True)
        if not self.ctx.store.one("SELECT 1 FROM enterprises WHERE id = ? AND deleted = 0", (p.enterprise_id,)):
            raise ValidationError(f"{prefix}请选择问题所属企业。", field="enterprise_id")
        return {
            "enterprise_id": p.enterprise_id, "visit_id": p.visit_id, "category_code": p.category_code,
            "title": title, "description": description,
            "request": text(p.request, f"{prefix}企业诉求", "request", max_len=2000),
            "severity": choice(p.severity, lc.SEVERITIES, f"{prefix}问题性质", "severity"),
            "level": choice(p.level, lc.LEVELS, f"{prefix}问题层级", "level"),
            "registered_on": registered,
        }

    def register_with(self, w: ChangeWriter, clean: dict, record_no: str) -> str:
        """Insert a cleaned problem and its 登记 event inside the caller's transaction (visit saves use this)."""
        state = lc.new_state(clean["registered_on"], clean["level"])
        row = {**state, **clean, "record_no": record_no}
        pid = w.insert("problems", row, action="登记问题")
        self._event(w, pid, lc.REGISTER, clean["registered_on"], None, lc.PENDING, "", {"level": clean["level"]},
                    audit=False)  # the problem's own insert is the audit entry
        self._reindex(w, pid, row)
        return pid

    def register(self, p: ProblemInput) -> str:
        clean = self.clean_input(p)
        with self.ctx.writing() as w:
            record_no = self.ctx.next_number("WT", parse_date(clean["registered_on"]).year)
            return self.register_with(w, clean, record_no)

    def _reindex(self, w: ChangeWriter, pid: str, row: dict) -> None:
        ent = w.conn.execute("SELECT name FROM enterprises WHERE id = ?", (row["enterprise_id"],)).fetchone()
        reindex(w.conn, "problem", pid, row["title"], row["description"], row["request"], ent[0] if ent else "",
                row["record_no"])

    def _event(self, w: ChangeWriter, pid: str, kind: str, on_date: str, from_status: str | None,
               to_status: str | None, note: str, data: dict, *, audit: bool = True) -> str:
        return w.insert("problem_events", {
            "problem_id": pid, "kind": kind, "at": now_utc(), "on_date": on_date, "actor": w.actor.operator,
            "from_status": from_status, "to_status": to_status, "note": note,
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
        }, action=f"问题{kind}", audit=audit)

    # -- workflow ----------------------------------------------------------------------------------
    def owns(self, problem: dict) -> bool:
        """Whether this installation handles the problem: after 上报 the higher hub does (DESIGN §3)."""
        mine = OWN_LEVEL.get(self.ctx.installation.role, lc.LEVELS[0])
        return lc.LEVELS.index(problem["level"]) <= lc.LEVELS.index(mine)

    def allowed_steps(self, pid: str) -> list[str]:
        problem = self.get(pid)
        return lc.allowed_steps(problem) if self.owns(problem) else []

    def take_step(self, pid: str, kind: str, *, on_date=None, note: str = "", **form) -> list[str]:
        """Record one workflow step. Returns warnings (e.g. deadline beyond the calendar)."""
        prepared = self._prepare_step(pid, kind, on_date, note, form)
        with self.ctx.writing() as w:
            self._write_step(w, prepared)
        return prepared.warnings

    def take_step_batch(self, pids: list[str], kind: str, *, on_date=None, note: str = "", **form) -> dict:
        """催办 or 督办 many problems in one transaction: every problem gets its event, or (when the step is not
        allowed for one of them) none does — the ValidationError names that problem's record number.
        Returns {"count": n, "ids": [...], "event_ids": [...], "warnings": [...]}."""
        if kind not in BATCH_STEPS:
            raise ValidationError(f"批量办理只能进行{'或'.join(BATCH_STEPS)}，不能批量“{kind}”。", field="kind")
        ids = list(dict.fromkeys(p for p in pids if p))
        if not ids:
            raise ValidationError(f"请先选择要{kind}的问题。", field="ids")
        event_ids: list[str] = []
        warnings: list[str] = []
        with self.ctx.writing() as w:
            prepared = []
            for pid in ids:  # check every problem before writing anything
                try:
                    prepared.append(self._prepare_step(pid, kind, on_date, note, form))
                except AppError as exc:
                    no = self.ctx.store.scalar("SELECT record_no FROM problems WHERE id = ?", (pid,)) or pid
                    raise ValidationError(f"问题 {no} 不能{kind}：{exc.message}本次批量{kind}的 {len(ids)} 件问题"
                                          "均未保存，请取消选择该问题后重试。", field=exc.field or "ids") from exc
            for p in prepared:
                event_ids.append(self._write_step(w, p))
                warnings += [w_ for w_ in p.warnings if w_ not in warnings]
        return {"count": len(ids), "ids": ids, "event_ids": event_ids, "warnings": warnings}

    def _prepare_step(self, pid: str, kind: str, on_date, note: str, form: dict) -> _PreparedStep:
        """Check a step and work out what it writes (nothing is written)."""
        current = self.get(pid)
        if not self.owns(current):
            raise TransitionError(
                f"该问题已上报至{current['level']}，由上级汇总端交办和办理，本机不能进行“{kind}”；"
                "办理结果将通过下发的同步文件返回本机。")
        step = lc.check_allowed(current, kind)
        last = self.ctx.store.scalar("SELECT max(on_date) FROM problem_events WHERE problem_id = ? AND deleted = 0",
                                     (pid,))
        day = a_date(on_date or today(), "办理日期", "on_date", not_future=True, not_before=parse_date(last))
        note = text(note, "说明", "note", max_len=4000)
        data, warnings = self._step_data(current, kind, parse_date(day), note, form)
        new = lc.apply_step(current, kind, day, data, note)
        changes = {k: new[k] for k in STATE_FIELDS if new[k] != current[k]}
        return _PreparedStep(pid, kind, day, note, data, current["status"], step.to_status or current["status"],
                             changes, warnings)

    def _write_step(self, w: ChangeWriter, s: _PreparedStep) -> str:
        """Write a prepared step inside the caller's transaction; returns the event id."""
        # One audit entry per step: the problem's change when there is one, else the event itself.
        event_id = self._event(w, s.pid, s.kind, s.day, s.from_status, s.to_status, s.note, s.data,
                               audit=not s.changes)
        if s.changes:
            w.update("problems", s.pid, s.changes, action=f"问题{s.kind}")
        return event_id

    def _deadline(self, start: date, form: dict, current: dict, warnings: list[str]) -> tuple[str, str | None]:
        """Deadline from an explicit date, else from the template's working days after `start`."""
        template_id = form.get("template_id")
        if form.get("deadline"):
            deadline = a_date(form["deadline"], "办理时限", "deadline", not_before=start)
        else:
            tpl = (self.reference.template(template_id) if template_id
                   else self.reference.template_for(current["category_code"], current["severity"]))
            template_id = tpl["id"]
            deadline = self.ctx.calendar.add_workdays(start, int(tpl["solve_days"])).isoformat()
        warn = self.ctx.calendar.range_warning(parse_date(deadline))
        if warn:
            warnings.append(warn)
        return deadline, template_id

    def _unit_exists(self, unit_id: str | None, label: str, field_name: str) -> str:
        if not unit_id or not self.ctx.store.one("SELECT 1 FROM units WHERE id = ? AND deleted = 0", (unit_id,)):
            raise ValidationError(f"请选择{label}。", field=field_name)
        return unit_id

    def _step_data(self, cur: dict, kind: str, day: date, note: str, form: dict) -> tuple[dict, list[str]]:
        warnings: list[str] = []
        if kind == "交办":
            lead = self._unit_exists(form.get("lead_unit_id"), "牵头单位", "lead_unit_id")
            assist = [u for u in dict.fromkeys(form.get("assist_unit_ids") or []) if u != lead]
            for u in assist:
                self._unit_exists(u, "协办单位", "assist_unit_ids")
            deadline, tpl = self._deadline(day, form, cur, warnings)
            return {"lead_unit_id": lead, "assist_unit_ids": assist, "deadline": deadline, "template_id": tpl}, warnings
        if kind == "重办":
            if not note:
                raise ValidationError("请填写重办原因。", field="note")
            deadline, tpl = self._deadline(day, form, cur, warnings)
            return {"deadline": deadline, "template_id": tpl}, warnings
        if kind == "进展" and not note:
            raise ValidationError("请填写办理进展情况。", field="note")
        if kind == "延期":
            new = a_date(form.get("deadline"), "延期后的办理时限", "deadline")
            if new <= cur["deadline"]:
                raise ValidationError(f"延期后的办理时限必须晚于当前时限 {cur['deadline']}。", field="deadline")
            approver = text(form.get("approver"), "批准人", "approver", required=True, max_len=30)
            if not note:
                raise ValidationError("请填写延期理由。", field="note")
            warn = self.ctx.calendar.range_warning(parse_date(new))
            if warn:
                warnings.append(warn)
            return {"deadline": new, "approver": approver, "previous_deadline": cur["deadline"]}, warnings
        if kind == "督办":
            reply_by = a_date(form.get("reply_by"), "要求回复日期", "reply_by", not_before=day)
            overdue_days = 0
            if cur["deadline"] and day.isoformat() > cur["deadline"]:
                overdue_days = self.ctx.calendar.workdays_between(parse_date(cur["deadline"]), day)
            return {"reply_by": reply_by, "overdue_workdays": overdue_days}, warnings
        if kind == "上报":
            level = choice(form.get("level"), lc.LEVELS, "上报层级", "level")
            if lc.LEVELS.index(level) <= lc.LEVELS.index(cur["level"]):
                raise ValidationError(f"只能上报到比“{cur['level']}”更高的层级。", field="level")
            if not note:
                raise ValidationError("请填写上报理由（需要上级协调的事项）。", field="note")
            return {"level": level, "from_level": cur["level"]}, warnings
        if kind == "办结":
            outcome = choice(form.get("outcome"), lc.OUTCOMES, "办理结果", "outcome")
            if not note:
                raise ValidationError("请填写办理结果说明。", field="note")
            return {"outcome": outcome}, warnings
        if kind == "回访":
            method = choice(form.get("method"), lc.REVISIT_METHODS, "回访方式", "method")
            verdict = choice(form.get("verdict"), lc.VERDICTS, "企业评价", "verdict")
            return {"method": method, "verdict": verdict}, warnings
        return {}, warnings

    # -- queries -----------------------------------------------------------------------------------
    def get(self, pid: str) -> dict:
        row = self.ctx.store.one(
            "SELECT p.*, e.name AS enterprise_name, e.uscc AS enterprise_uscc, e.unit_id AS enterprise_unit_id, "
            "lu.name AS lead_unit_name, v.record_no AS visit_record_no FROM problems p "
            "JOIN enterprises e ON e.id = p.enterprise_id LEFT JOIN units lu ON lu.id = p.lead_unit_id "
            "LEFT JOIN visits v ON v.id = p.visit_id WHERE p.id = ? AND p.deleted = 0", (pid,))
        if row is None:
            raise NotFoundError(f"问题不存在或已删除：{pid}")
        d = dict(row)
        names = dict(self.ctx.store.query("SELECT id, name FROM units"))
        d["assist_unit_names"] = [names.get(u, u) for u in json.loads(d["assist_unit_ids"] or "[]")]
        d["category_name"] = self.ctx.store.scalar(
            "SELECT name FROM vocabulary WHERE kind = 'problem_category' AND code = ?", (d["category_code"],))
        d.update(self.deadline_facts(d))
        return d

    def deadline_facts(self, p: dict, on: date | None = None) -> dict:
        """overdue / days overdue / missed original deadline, for one problem as of `on` (default today)."""
        on = on or today()
        cal = self.ctx.calendar
        handling = p["status"] in lc.HANDLING
        deadline = parse_date(p["deadline"])
        overdue = bool(handling and deadline and on > deadline)
        original = parse_date(p["original_deadline"])
        done = parse_date(p["resolved_on"])
        missed = bool(original and ((done and done > original) or (not done and on > original)))
        return {
            "overdue": overdue,
            "overdue_workdays": cal.workdays_between(deadline, on) if overdue else 0,
            "missed_deadline": missed,
            "workdays_left": cal.workdays_between(on, deadline) if handling and deadline and not overdue else None,
        }

    def events(self, pid: str) -> list[dict]:
        return load_events(self.ctx.store.conn, pid)

    def replayed_state(self, pid: str) -> dict:
        """The state as the event log says it is (tests and sync use this to check the cached row)."""
        return with_merged_units(self.ctx.store.conn, lc.replay(self.events(pid)))

    def _where(self, f: ProblemFilter) -> tuple[str, list]:
        # A problem of a deleted enterprise is not listed. The few deleted enterprises are read once (a partial index)
        # instead of joining every problem to its enterprise.
        clauses = ["p.deleted = 0", "p.enterprise_id NOT IN (SELECT id FROM enterprises WHERE deleted = 1)"]
        params: list = []
        if f.statuses:
            clauses.append(f"p.status IN ({','.join('?' for _ in f.statuses)})")
            params += list(f.statuses)
        if f.overdue:
            clauses.append("p.status IN ('已交办','办理中') AND p.deadline < ?")
            params.append(today().isoformat())
        if f.due_within is not None:
            limit = self.ctx.calendar.add_workdays(today(), f.due_within).isoformat()
            clauses.append("p.status IN ('已交办','办理中') AND p.deadline >= ? AND p.deadline <= ?")
            params += [today().isoformat(), limit]
        for col, value in (("p.enterprise_id", f.enterprise_id), ("p.lead_unit_id", f.lead_unit_id),
                           ("p.category_code", f.category_code), ("p.level", f.level)):
            if value:
                clauses.append(f"{col} = ?")
                params.append(value)
        if f.unit_id:
            clauses.append("p.enterprise_id IN (SELECT id FROM enterprises WHERE unit_id = ?)")
            params.append(f.unit_id)
        if f.cadre_id:
            clauses.append("p.enterprise_id IN (SELECT enterprise_id FROM assignments WHERE cadre_id = ? "
                           "AND deleted = 0 AND end_date IS NULL)")
            params.append(f.cadre_id)
        if f.ids is not None:
            clauses.append("p.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(f.ids))
        if f.text.strip():
            match = match_clause("p.id", "problem", f.text)
            if match is None:
                clauses.append("(p.title LIKE ? ESCAPE '\\' OR p.record_no LIKE ? ESCAPE '\\')")
                params += [like_pattern(f.text.strip())] * 2
            else:
                clauses.append(match[0])
                params += match[1]
        return " AND ".join(clauses), params

    def list_ids(self, f: ProblemFilter, sort_key: str | None = "registered_on", descending: bool = True,
                 limit: int | None = None) -> list[str]:
        return self.ctx.store.column(*self.list_query(f, sort_key, descending), limit)

    def list_query(self, f: ProblemFilter, sort_key: str | None = "registered_on", descending: bool = True) -> tuple:
        """(SQL, parameters) of the ordered ids: list_ids runs it; tests read its EXPLAIN QUERY PLAN."""
        where, params = self._where(f)
        order = SORT_COLUMNS.get(sort_key or "registered_on", "p.registered_on")
        d = "DESC" if descending else "ASC"
        keys = f"{order} {d}, e.name {d}" if order == "e.name_initials" else f"{order} {d}"  # names by pinyin
        # Ties in the same direction, so problems_list serves the default order without a sort.
        joins = (" JOIN enterprises e ON e.id = p.enterprise_id" if order.startswith("e.") else "") + (
            " LEFT JOIN units lu ON lu.id = p.lead_unit_id" if order.startswith("lu.") else "")
        return f"SELECT p.id FROM problems p{joins} WHERE {where} ORDER BY {keys}, p.id {d}", tuple(params)

    def count(self, f: ProblemFilter) -> int:
        where, params = self._where(f)
        return self.ctx.store.scalar(f"SELECT count(*) FROM problems p WHERE {where}", tuple(params))

    def status_counts(self, f: ProblemFilter) -> dict[str, int]:
        base = ProblemFilter(**{**f.__dict__, "statuses": ()})
        where, params = self._where(base)
        rows = self.ctx.store.query(
            f"SELECT p.status, count(*) FROM problems p WHERE {where} GROUP BY p.status", tuple(params))
        return {r[0]: r[1] for r in rows}

    def rows(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        rows = self.ctx.store.query(
            "SELECT p.id, p.record_no, p.title, p.status, p.level, p.severity, p.registered_on, p.deadline, "
            "p.original_deadline, p.resolved_on, p.outcome, p.satisfaction, p.category_code, p.urge_count, "
            "p.supervise_count, e.name AS enterprise, lu.name AS lead_unit, v.name AS category "
            "FROM problems p JOIN enterprises e ON e.id = p.enterprise_id LEFT JOIN units lu ON lu.id = p.lead_unit_id "
            "LEFT JOIN vocabulary v ON v.kind = 'problem_category' AND v.code = p.category_code "
            "WHERE p.id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))
        out = {}
        for r in rows:
            d = dict(r)
            d.update(self.deadline_facts(d))
            out[d["id"]] = d
        return out


def _title_from(description: str) -> str:
    first = description.strip().splitlines()[0] if description.strip() else ""
    for stop in "。；;！!？?":
        first = first.split(stop)[0]
    return first[:30] + ("…" if len(first) > 30 else "")
