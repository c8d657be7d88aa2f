"""Visits (走访/座谈会): one save records the visit, its enterprises, cadres, attendees and the problems raised."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import date

from app.clock import parse_date, today
from app.context import Context
from app.enterprises import STATUSES as ENTERPRISE_STATUSES
from app.errors import NotFoundError, ValidationError
from app.problems import ProblemInput, ProblemService
from app.textsearch import like_pattern, match_clause, reindex
from app.validate import a_date, choice, phone, text

KINDS = ("实地走访", "座谈会", "电话沟通", "视频连线", "政策宣讲")
SYMPOSIUM = "座谈会"


@dataclass
class Attendee:
    name: str
    title: str = ""
    phone: str = ""
    enterprise_id: str | None = None


@dataclass
class VisitInput:
    kind: str
    visit_date: str | date
    enterprise_ids: list[str]
    cadre_ids: list[str]
    summary: str
    attendees: list[Attendee] = field(default_factory=list)
    policies: str = ""
    follow_up: str = ""
    location: str = ""
    start_time: str = ""
    problems: list[ProblemInput] = field(default_factory=list)
    # Enterprise status seen on the visit (e.g. 停产), applied to the enterprise in the same save.
    statuses_seen: dict[str, str] = field(default_factory=dict)


@dataclass
class VisitFilter:
    text: str = ""
    kind: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    enterprise_id: str | None = None
    cadre_id: str | None = None
    unit_id: str | None = None
    ids: list[str] | None = None


SORT_COLUMNS = {"visit_date": "v.visit_date", "record_no": "v.record_no", "kind": "v.kind",
                "enterprises": "enterprises", "problems": "problems"}


@contextlib.contextmanager
def _row(n: int):
    """Tag a ValidationError with the 1-based row (problem card / attendee line) the form should point at."""
    try:
        yield
    except ValidationError as exc:
        exc.row = n
        raise


class VisitService:
    def __init__(self, ctx: Context, problems: ProblemService):
        self.ctx = ctx
        self.problems = problems

    def _clean(self, v: VisitInput) -> dict:
        kind = choice(v.kind, KINDS, "走访方式", "kind")
        day = a_date(v.visit_date, "走访日期", "visit_date", not_future=True)
        ents = list(dict.fromkeys(e for e in v.enterprise_ids if e))
        if not ents:
            raise ValidationError("请至少选择一家走访企业。", field="enterprise_ids")
        found = {r[0] for r in self.ctx.store.query(
            "SELECT id FROM enterprises WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?))",
            (json.dumps(ents),))}
        if missing := [e for e in ents if e not in found]:
            raise ValidationError(f"所选企业不存在或已删除（{len(missing)} 家）。", field="enterprise_ids")
        cadres = list(dict.fromkeys(c for c in v.cadre_ids if c))
        if not cadres:
            raise ValidationError("请至少选择一名参加走访的干部。", field="cadre_ids")
        found_c = {r[0] for r in self.ctx.store.query(
            "SELECT id FROM cadres WHERE deleted = 0 AND id IN (SELECT value FROM json_each(?))",
            (json.dumps(cadres),))}
        if [c for c in cadres if c not in found_c]:
            raise ValidationError("所选干部不存在。", field="cadre_ids")
        summary = text(v.summary, "走访情况", "summary", required=True, max_len=20000)
        attendees = []
        for i, a in enumerate(v.attendees, start=1):
            with _row(i):
                name = text(a.name, f"企业参加人员第 {i} 行的姓名", "attendees", required=True, max_len=30)
                if a.enterprise_id and a.enterprise_id not in ents:
                    raise ValidationError(f"企业参加人员第 {i} 行所属企业不在本次走访企业中。", field="attendees")
                attendees.append({"name": name, "title": text(a.title, f"第 {i} 行职务", "attendees", max_len=30),
                                  "phone": phone(a.phone, f"企业参加人员第 {i} 行的电话", "attendees"),
                                  "enterprise_id": a.enterprise_id or (ents[0] if len(ents) == 1 else None)})
        for ent_id, status in v.statuses_seen.items():
            if ent_id not in ents:
                raise ValidationError("经营状态只能为本次走访的企业填写。", field="statuses_seen")
            choice(status, ENTERPRISE_STATUSES, "企业经营状态", "statuses_seen")
        return {"kind": kind, "visit_date": day, "enterprises": ents, "cadres": cadres, "summary": summary,
                "attendees": attendees,
                "policies": text(v.policies, "宣讲政策", "policies", max_len=10000),
                "follow_up": text(v.follow_up, "后续跟进", "follow_up", max_len=5000),
                "location": text(v.location, "走访地点", "location", max_len=200),
                "start_time": text(v.start_time, "时间", "start_time", max_len=20)}

    def create(self, v: VisitInput) -> str:
        """Save the whole visit form in one transaction: nothing is saved if any part is wrong."""
        clean = self._clean(v)
        problems = []
        for i, p in enumerate(v.problems, start=1):
            p.registered_on = p.registered_on or clean["visit_date"]
            with _row(i):
                if p.enterprise_id not in clean["enterprises"]:
                    raise ValidationError(f"问题{i}：所属企业不在本次走访企业中。", field="enterprise_id")
                problems.append(self.problems.clean_input(p, prefix=f"问题{i}："))
        year = parse_date(clean["visit_date"]).year
        unit_id = self.ctx.installation.unit_id
        with self.ctx.writing() as w:
            # Numbers are taken inside the same transaction, so a failed save leaves no gap.
            record_no = self.ctx.next_number("ZF", year)
            problem_nos = [self.ctx.next_number("WT", year) for _ in problems]
            vid = w.insert("visits", {
                "record_no": record_no, "kind": clean["kind"], "visit_date": clean["visit_date"],
                "start_time": clean["start_time"], "unit_id": unit_id, "location": clean["location"],
                "summary": clean["summary"], "policies": clean["policies"], "follow_up": clean["follow_up"],
            }, action="登记走访")
            for ent_id in clean["enterprises"]:
                w.insert("visit_enterprises", {"visit_id": vid, "enterprise_id": ent_id,
                                               "status_seen": v.statuses_seen.get(ent_id)},
                         action="登记走访企业", audit=False)
                if ent_id in v.statuses_seen:
                    w.update("enterprises", ent_id, {"status": v.statuses_seen[ent_id]}, action="走访更新企业经营状态")
            for cadre_id in clean["cadres"]:
                w.insert("visit_cadres", {"visit_id": vid, "cadre_id": cadre_id}, action="登记走访干部", audit=False)
            for a in clean["attendees"]:
                w.insert("visit_attendees", {"visit_id": vid, **a}, action="登记企业参加人员", audit=False)
            for cleaned, no in zip(problems, problem_nos, strict=True):
                self.problems.register_with(w, {**cleaned, "visit_id": vid}, no)
            names = [r[0] for r in w.conn.execute(
                "SELECT name FROM enterprises WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(clean["enterprises"]),))]
            reindex(w.conn, "visit", vid, clean["summary"], clean["policies"], " ".join(names), record_no)
        return vid

    def update_text(self, vid: str, *, summary: str | None = None, policies: str | None = None,
                    follow_up: str | None = None) -> None:
        """Correct the written parts of a saved visit (kept in 操作记录 with the old text)."""
        cur = self.get(vid)
        changes = {}
        if summary is not None:
            changes["summary"] = text(summary, "走访情况", "summary", required=True, max_len=20000)
        if policies is not None:
            changes["policies"] = text(policies, "宣讲政策", "policies", max_len=10000)
        if follow_up is not None:
            changes["follow_up"] = text(follow_up, "后续跟进", "follow_up", max_len=5000)
        with self.ctx.writing() as w:
            w.update("visits", vid, changes, action="修改走访记录")
            reindex(w.conn, "visit", vid, changes.get("summary", cur["summary"]),
                    changes.get("policies", cur["policies"]), " ".join(e["name"] for e in cur["enterprises"]),
                    cur["record_no"])

    def get(self, vid: str) -> dict:
        row = self.ctx.store.one("SELECT v.*, u.name AS unit_name FROM visits v LEFT JOIN units u ON u.id = v.unit_id "
                                 "WHERE v.id = ? AND v.deleted = 0", (vid,))
        if row is None:
            raise NotFoundError(f"走访记录不存在：{vid}")
        d = dict(row)
        d["enterprises"] = [dict(r) for r in self.ctx.store.query(
            "SELECT e.id, e.name, e.uscc, e.address, e.contact_name, e.contact_phone, ve.status_seen "
            "FROM visit_enterprises ve JOIN enterprises e ON e.id = ve.enterprise_id "
            "WHERE ve.visit_id = ? AND ve.deleted = 0 ORDER BY e.name", (vid,))]
        d["cadres"] = [dict(r) for r in self.ctx.store.query(
            "SELECT c.id, c.name, c.role, c.post, u.name AS unit_name FROM visit_cadres vc "
            "JOIN cadres c ON c.id = vc.cadre_id JOIN units u ON u.id = c.unit_id "
            "WHERE vc.visit_id = ? AND vc.deleted = 0 ORDER BY c.name", (vid,))]
        d["attendees"] = [dict(r) for r in self.ctx.store.query(
            "SELECT a.*, e.name AS enterprise_name FROM visit_attendees a LEFT JOIN enterprises e "
            "ON e.id = a.enterprise_id WHERE a.visit_id = ? AND a.deleted = 0 ORDER BY a.rowid", (vid,))]
        d["problems"] = [dict(r) for r in self.ctx.store.query(
            "SELECT p.id, p.record_no, p.title, p.description, p.request, p.status, p.deadline, p.category_code, "
            "v.name AS category, e.name AS enterprise_name FROM problems p "
            "JOIN enterprises e ON e.id = p.enterprise_id "
            "LEFT JOIN vocabulary v ON v.kind = 'problem_category' AND v.code = p.category_code "
            "WHERE p.visit_id = ? AND p.deleted = 0 ORDER BY p.record_no", (vid,))]
        return d

    def _where(self, f: VisitFilter) -> tuple[str, list]:
        clauses = ["v.deleted = 0"]
        params: list = []
        if f.kind:
            clauses.append("v.kind = ?")
            params.append(f.kind)
        if f.date_from:
            clauses.append("v.visit_date >= ?")
            params.append(f.date_from)
        if f.date_to:
            clauses.append("v.visit_date <= ?")
            params.append(f.date_to)
        if f.enterprise_id:
            clauses.append("v.id IN (SELECT visit_id FROM visit_enterprises WHERE enterprise_id = ? AND deleted = 0)")
            params.append(f.enterprise_id)
        if f.cadre_id:
            clauses.append("v.id IN (SELECT visit_id FROM visit_cadres WHERE cadre_id = ? AND deleted = 0)")
            params.append(f.cadre_id)
        if f.unit_id:
            clauses.append("v.id IN (SELECT ve.visit_id FROM visit_enterprises ve JOIN enterprises e "
                           "ON e.id = ve.enterprise_id WHERE e.unit_id = ? AND ve.deleted = 0)")
            params.append(f.unit_id)
        if f.ids is not None:
            clauses.append("v.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(f.ids))
        if f.text.strip():
            match = match_clause("v.id", "visit", f.text)
            if match is None:
                clauses.append("v.record_no LIKE ? ESCAPE '\\'")
                params.append(like_pattern(f.text.strip()))
            else:
                clauses.append(match[0])
                params += match[1]
        return " AND ".join(clauses), params

    def list_ids(self, f: VisitFilter, sort_key: str | None = "visit_date", descending: bool = True,
                 limit: int | None = None) -> list[str]:
        return self.ctx.store.column(*self.list_query(f, sort_key, descending), limit)

    def list_query(self, f: VisitFilter, sort_key: str | None = "visit_date", descending: bool = True) -> tuple:
        """(SQL, parameters) of the ordered ids: list_ids runs it; tests read its EXPLAIN QUERY PLAN."""
        where, params = self._where(f)
        order = SORT_COLUMNS.get(sort_key or "visit_date", "v.visit_date")
        extra = ""
        if order == "enterprises":
            extra = ", (SELECT count(*) FROM visit_enterprises ve WHERE ve.visit_id = v.id AND ve.deleted = 0) AS enterprises"
        elif order == "problems":
            extra = ", (SELECT count(*) FROM problems p WHERE p.visit_id = v.id AND p.deleted = 0) AS problems"
        direction = "DESC" if descending else "ASC"
        # Ties in the same direction, so visits_list serves the default order without a sort.
        sql = (f"SELECT v.id{extra} FROM visits v WHERE {where} "
               f"ORDER BY {order} {direction}, v.record_no {direction}, v.id {direction}")
        return sql, tuple(params)

    def count(self, f: VisitFilter) -> int:
        where, params = self._where(f)
        return self.ctx.store.scalar(f"SELECT count(*) FROM visits v WHERE {where}", tuple(params))

    def rows(self, ids: list[str]) -> dict[str, dict]:
        if not ids:
            return {}
        rows = self.ctx.store.query(
            "SELECT v.id, v.record_no, v.kind, v.visit_date, v.summary, "
            "(SELECT group_concat(e.name, '、') FROM visit_enterprises ve JOIN enterprises e ON e.id = ve.enterprise_id "
            " WHERE ve.visit_id = v.id AND ve.deleted = 0) AS enterprise_names, "
            "(SELECT count(*) FROM visit_enterprises ve WHERE ve.visit_id = v.id AND ve.deleted = 0) AS enterprises, "
            "(SELECT group_concat(c.name, '、') FROM visit_cadres vc JOIN cadres c ON c.id = vc.cadre_id "
            " WHERE vc.visit_id = v.id AND vc.deleted = 0) AS cadre_names, "
            "(SELECT count(*) FROM problems p WHERE p.visit_id = v.id AND p.deleted = 0) AS problems "
            "FROM visits v WHERE v.id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))
        out = {}
        for r in rows:
            d = dict(r)
            first = (d["summary"] or "").strip().splitlines()
            d["summary_head"] = (first[0][:40] + "…") if first and len(first[0]) > 40 else (first[0] if first else "")
            out[d["id"]] = d
        return out

    def this_month_count(self, cadre_id: str | None = None) -> int:
        start = today().replace(day=1).isoformat()
        return self.count(VisitFilter(date_from=start, cadre_id=cadre_id))
