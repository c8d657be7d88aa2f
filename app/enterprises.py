"""Enterprises: create/edit/archive with USCC checks, and the filtered, sorted list queries behind the GUI."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

from app import uscc as uscc_rules
from app.clock import parse_date, today
from app.context import Context
from app.errors import DuplicateError, NotFoundError, ValidationError
from app.textsearch import initials, like_pattern, match_clause, reindex, reindex_named_after
from app.validate import choice, phone, text

STATUSES = ("在营", "停产", "失联", "注销")
SCALES = ("大型", "中型", "小型", "微型")

_FIELDS = ("uscc", "name", "unit_id", "township", "address", "industry", "scale", "tags", "legal_rep",
           "contact_name", "contact_phone", "status", "note")

# 最近走访 / 包联干部 / 未办结问题 come from enterprise_facts (db/facts.py), which triggers keep current: a join by
# primary key instead of a correlated subquery per enterprise.
FACTS_JOIN = "JOIN enterprise_facts f ON f.enterprise_id = e.id"

SORT_COLUMNS = {
    "name": "e.name", "uscc": "e.uscc", "unit": "u.sort", "status": "e.status", "industry": "e.industry",
    "scale": "e.scale", "last_visit": "f.last_visit", "cadres": "f.cadres", "township": "e.township",
    "open_problems": "f.open_problems",
}


def _name(value) -> str:
    name = text(value, "企业名称", "name", required=True, max_len=100)
    if len(name) < 2:
        raise ValidationError("“企业名称”至少 2 个字。", field="name")
    return name


# The rule of each plain field (the dialog and the roster import check the same way). uscc, unit and tags need more
# than the value itself and are checked in EnterpriseService._clean.
FIELD_RULES = {
    "name": _name,
    "township": lambda v: text(v, "乡镇街道", "township", max_len=50),
    "address": lambda v: text(v, "地址", "address", max_len=200),
    "industry": lambda v: text(v, "行业", "industry", max_len=50),
    "scale": lambda v: choice(v, SCALES, "企业规模", "scale", required=False),
    "legal_rep": lambda v: text(v, "法定代表人", "legal_rep", max_len=30),
    "contact_name": lambda v: text(v, "联系人", "contact_name", max_len=30),
    "contact_phone": lambda v: phone(v, "联系电话", "contact_phone"),
    "status": lambda v: choice(v or "在营", STATUSES, "经营状态", "status"),
    "note": lambda v: text(v, "备注", "note", max_len=2000),
}


def search_parts(record: dict) -> tuple:
    """What an enterprise's search row holds (app/textsearch.py _STORED_SOURCES reads the same from the table)."""
    return (record["name"], record.get("uscc"), record.get("address"), record.get("industry"), record.get("township"))


NO_USCC_WARNING = "未填写统一社会信用代码：企业只能按名称识别，请尽快补全"


def clean_tags(tags) -> list[str]:
    """Tags as a sorted list without blanks or repeats (given as a list or as its JSON text)."""
    if isinstance(tags, str):
        tags = json.loads(tags)
    return sorted({t.strip() for t in tags or [] if t and t.strip()})


@dataclass
class EnterpriseFilter:
    text: str = ""
    unit_id: str | None = None
    tag: str | None = None
    status: str | None = None
    cadre_id: str | None = None  # enterprises this cadre currently 包联
    not_visited_days: int | None = None  # no visit in the last N days (or never)
    include_archived: bool = False
    ids: list[str] | None = field(default=None)  # restrict to these (drill-down lists)


@dataclass(frozen=True)
class SaveResult:
    id: str
    warnings: tuple[str, ...] = ()


class EnterpriseService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- validation --------------------------------------------------------------------------------
    def _clean(self, data: dict, *, editing_id: str | None = None) -> tuple[dict, list[str]]:
        warnings: list[str] = []
        unit_id = data.get("unit_id")
        unit = self.ctx.store.one("SELECT name, region_codes FROM units WHERE id = ? AND deleted = 0", (unit_id,))
        if unit is None:
            raise ValidationError("请选择企业所属的开发区或区县（市）。", field="unit_id")
        if editing_id and not uscc_rules.normalize(data.get("uscc") or "") and not self.ctx.store.scalar(
                "SELECT uscc FROM enterprises WHERE id = ?", (editing_id,)):
            # Imported from a roster without a credit code: editing other fields must not wait for one.
            code = None
            warnings.append(NO_USCC_WARNING)
        else:
            checked = uscc_rules.validate(data.get("uscc") or "",
                                          region_codes=json.loads(unit["region_codes"] or "[]"))
            warnings.extend(checked.warnings)
            code = checked.code
            dup = self.ctx.store.one(
                "SELECT e.id, e.name, u.name AS unit FROM enterprises e JOIN units u ON u.id = e.unit_id "
                "WHERE e.uscc = ? AND e.deleted = 0 AND e.id != ?", (code, editing_id or ""))
            if dup is not None:
                raise DuplicateError(
                    f"统一社会信用代码 {code} 已登记为企业“{dup['name']}”（{dup['unit']}），不能重复登记。",
                    field="uscc", existing_id=dup["id"])
        clean = {"uscc": code, "unit_id": unit_id, "tags": json.dumps(clean_tags(data.get("tags")), ensure_ascii=False)}
        clean.update({key: rule(data.get(key)) for key, rule in FIELD_RULES.items()})
        return clean, warnings

    def check(self, data: dict, *, editing_id: str | None = None) -> tuple[str, ...]:
        """Validate without saving (the dialog's inline check); returns warnings, raises on errors."""
        return tuple(self._clean(data, editing_id=editing_id)[1])

    def _reindex(self, conn, ent_id: str, clean: dict) -> None:
        reindex(conn, "enterprise", ent_id, *search_parts(clean), initials_of=clean["name"])

    # -- commands ----------------------------------------------------------------------------------
    def create(self, data: dict) -> SaveResult:
        clean, warnings = self._clean(data)
        clean["name_initials"] = initials(clean["name"])
        with self.ctx.writing() as w:
            ent_id = w.insert("enterprises", clean, action="新建企业")
            self._reindex(w.conn, ent_id, clean)
        return SaveResult(ent_id, tuple(warnings))

    def update(self, ent_id: str, data: dict) -> SaveResult:
        current = self.get(ent_id)
        merged = {k: current.get(k) for k in _FIELDS} | {k: v for k, v in data.items() if k in _FIELDS}
        clean, warnings = self._clean(merged, editing_id=ent_id)
        clean["name_initials"] = initials(clean["name"])
        with self.ctx.writing() as w:
            w.update("enterprises", ent_id, clean, action="修改企业信息")
            self._reindex(w.conn, ent_id, clean)
            if clean["name"] != current["name"]:
                reindex_named_after(w.conn, ent_id)
        return SaveResult(ent_id, tuple(warnings))

    def set_archived(self, ent_id: str, archived: bool) -> None:
        self.get(ent_id)
        with self.ctx.writing() as w:
            w.update("enterprises", ent_id, {"archived": 1 if archived else 0},
                     action="归档企业" if archived else "取消归档企业")

    def set_status(self, ent_id: str, status: str, *, writer=None) -> None:
        choice(status, STATUSES, "经营状态", "status")
        if writer is not None:
            writer.update("enterprises", ent_id, {"status": status}, action="更新企业经营状态")
            return
        with self.ctx.writing() as w:
            w.update("enterprises", ent_id, {"status": status}, action="更新企业经营状态")

    def record_reveal(self, ent_id: str, fields: list[str]) -> None:
        """The user asked to see masked contact data in full: leave a trace in 操作记录."""
        self.get(ent_id)
        with self.ctx.writing() as w:
            w.record_access("查看企业联系人信息", "enterprises", ent_id, fields)

    # -- queries -----------------------------------------------------------------------------------
    def get(self, ent_id: str) -> dict:
        row = self.ctx.store.one(
            "SELECT e.*, u.name AS unit_name, f.last_visit FROM enterprises e "
            f"JOIN units u ON u.id = e.unit_id LEFT {FACTS_JOIN} WHERE e.id = ? AND e.deleted = 0", (ent_id,))
        if row is None:
            raise NotFoundError(f"企业不存在或已删除：{ent_id}")
        d = dict(row)
        d["tag_list"] = json.loads(d["tags"] or "[]")
        return d

    def by_uscc(self, code: str) -> dict | None:
        row = self.ctx.store.one("SELECT id FROM enterprises WHERE uscc = ? AND deleted = 0",
                                 (uscc_rules.normalize(code),))
        return None if row is None else self.get(row["id"])

    def _where(self, f: EnterpriseFilter) -> tuple[str, list]:
        clauses = ["e.deleted = 0"]
        params: list = []
        if not f.include_archived:
            clauses.append("e.archived = 0")
        if f.unit_id:
            clauses.append("e.unit_id = ?")
            params.append(f.unit_id)
        if f.status:
            clauses.append("e.status = ?")
            params.append(f.status)
        if f.tag:
            clauses.append("EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = ?)")
            params.append(f.tag)
        if f.cadre_id:
            clauses.append("e.id IN (SELECT a.enterprise_id FROM assignments a WHERE a.cadre_id = ? "
                           "AND a.deleted = 0 AND a.end_date IS NULL)")  # a cadre's few: the list starts from them
            params.append(f.cadre_id)
        if f.not_visited_days is not None:
            since = (today() - timedelta(days=f.not_visited_days)).isoformat()
            clauses.append("coalesce((SELECT f.last_visit FROM enterprise_facts f WHERE f.enterprise_id = e.id), '') < ?")
            params.append(since)
        if f.ids is not None:
            clauses.append("e.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(f.ids))
        if f.text.strip():
            needle = unicodedata.normalize("NFKC", f.text).strip()
            match = match_clause("e.id", "enterprise", needle)
            if match is None:  # nothing indexable (e.g. punctuation): plain substring match
                clauses.append("(e.name LIKE ? ESCAPE '\\' OR e.uscc LIKE ? ESCAPE '\\')")
                params += [like_pattern(needle), like_pattern(needle.upper())]
            else:  # words, pinyin initials, the start of a credit code (indexed as a word): all in the index
                clauses.append(match[0])
                params += match[1]
        return " AND ".join(clauses), params

    def list_ids(self, f: EnterpriseFilter, sort_key: str | None = "name", descending: bool = False,
                 limit: int | None = None) -> list[str]:
        return self.ctx.store.column(*self.list_query(f, sort_key, descending), limit)

    def list_query(self, f: EnterpriseFilter, sort_key: str | None = "name", descending: bool = False) -> tuple:
        """(SQL, parameters) of the ordered ids: list_ids runs it; tests read its EXPLAIN QUERY PLAN."""
        where, params = self._where(f)
        order = SORT_COLUMNS.get(sort_key or "name", "e.name")
        d = "DESC" if descending else "ASC"
        # Chinese names sort by pinyin initials, not by code point; ties by name, then id, all one direction so the
        # enterprises_list index serves the default order without a sort.
        keys = [f"e.name_initials {d}", f"e.name {d}", f"e.id {d}"]
        if order != "e.name":
            keys.insert(0, f"{order} {d}")
        joins = (" JOIN units u ON u.id = e.unit_id" if order.startswith("u.") else "") + (
            f" LEFT {FACTS_JOIN}" if order.startswith("f.") else "")
        return f"SELECT e.id FROM enterprises e{joins} WHERE {where} ORDER BY {', '.join(keys)}", tuple(params)

    def count(self, f: EnterpriseFilter) -> int:
        where, params = self._where(f)
        return self.ctx.store.scalar(f"SELECT count(*) FROM enterprises e WHERE {where}", tuple(params))

    def rows(self, ids: list[str]) -> dict[str, dict]:
        """List-row data for a page of ids (what the enterprise table shows)."""
        if not ids:
            return {}
        sql = ("SELECT e.id, e.name, e.uscc, e.status, e.industry, e.scale, e.township, e.tags, e.contact_name, "
               "e.contact_phone, e.archived, u.name AS unit, f.last_visit, f.cadres, f.open_problems "
               f"FROM enterprises e JOIN units u ON u.id = e.unit_id LEFT {FACTS_JOIN} "
               "WHERE e.id IN (SELECT value FROM json_each(?))")
        out = {}
        now = today()
        for r in self.ctx.store.query(sql, (json.dumps(ids),)):
            d = dict(r)
            d["tags"] = "、".join(json.loads(d["tags"] or "[]"))
            last = parse_date(d["last_visit"])
            d["days_since_visit"] = None if last is None else (now - last).days
            out[d["id"]] = d
        return out

    def search(self, text_query: str, limit: int = 20, unit_id: str | None = None) -> list[dict]:
        """Quick picker search (name, USCC, pinyin initials): a few rows, best first."""
        ids = self.list_ids(EnterpriseFilter(text=text_query, unit_id=unit_id), "name", limit=limit)
        rows = self.rows(ids)
        return [rows[i] for i in ids if i in rows][:limit]

    def history(self, ent_id: str) -> list[dict]:
        """操作记录: audit entries of the enterprise and of its assignments, newest first."""
        return [dict(r) for r in self.ctx.store.query(
            "SELECT at, operator, action, table_name, before, after FROM audit_log WHERE deleted = 0 AND "
            "(row_id = ? OR row_id IN (SELECT id FROM assignments WHERE enterprise_id = ?)) ORDER BY at DESC",
            (ent_id, ent_id))]
