"""Cadres, work groups and 包联 assignments (with their history: an assignment is ended, never removed)."""

from __future__ import annotations

import json
import unicodedata
from functools import lru_cache

from app.clock import today
from app.context import Context
from app.errors import NotFoundError, ValidationError
from app.textsearch import initials
from app.validate import a_date, choice, phone, text

RANKS = ("县处级", "科级", "一般干部")
ROLES = ("首席服务官", "金牌店小二", "星级服务员", "服务专员", "工作组组长", "助企干部")

NO_GROUP = "-"
"""cadre_ids(work_group_id=NO_GROUP): the cadres who belong to no work group."""
UNCHANGED = object()
"""update_work_group(leader_cadre_id=UNCHANGED): keep the current leader."""

# Current 包联 (not ended) of enterprises that still exist, and visits (次) a cadre took part in this year.
ASSIGNMENTS_SQL = ("(SELECT count(*) FROM assignments a JOIN enterprises e ON e.id = a.enterprise_id "
                   "WHERE a.cadre_id = c.id AND a.deleted = 0 AND a.end_date IS NULL AND e.deleted = 0)")
VISITS_YEAR_SQL = ("(SELECT count(DISTINCT v.id) FROM visit_cadres vc JOIN visits v ON v.id = vc.visit_id "
                   "WHERE vc.cadre_id = c.id AND vc.deleted = 0 AND v.deleted = 0 "
                   "AND v.visit_date BETWEEN '{year}-01-01' AND '{year}-12-31')")


# The rule of each plain cadre field (the dialog and the roster import check the same way).
CADRE_RULES = {
    "name": lambda v: text(v, "姓名", "name", required=True, max_len=30),
    "role": lambda v: choice(v or "助企干部", ROLES, "服务角色", "role"),
    "rank": lambda v: choice(v, RANKS, "职级", "rank", required=False),
    "post": lambda v: text(v, "职务", "post", max_len=60),
    "phone": lambda v: phone(v, "联系电话", "phone"),
}


def assignment_role(value) -> str:
    return text(value, "包联角色", "role", required=True, max_len=30)


def _rank_of(column: str, values: tuple[str, ...]) -> str:
    cases = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(values))
    return f"CASE {column} {cases} END"


# cadre_ids sort keys (the cadre list's column keys); "name" sorts by pinyin initials in Python.
CADRE_SORT = {
    "unit": "printf('%08d|%s', u.sort, u.name)",
    "work_group": "g.id",  # groups in the order they were set up (uuid7 ids): 第一组, 第二组, 第三组
    "role": _rank_of("c.role", ROLES),
    "rank": _rank_of("c.rank", RANKS),
    "post": "c.post",
    "assignments": ASSIGNMENTS_SQL,
    "visits_year": VISITS_YEAR_SQL,
    "active": "CASE WHEN c.active = 1 THEN 0 ELSE 1 END",
}


@lru_cache(maxsize=65536)
def _name_initials(name: str) -> str:
    """Pinyin initials of a cadre's name, kept for the names a hub has (initials() keeps only 4,096 texts)."""
    return initials(name)


def _cadre_matches(row, needle: str) -> bool:
    name = row["name"] or ""
    if needle in name.lower() or needle in (row["post"] or "").lower():
        return True
    if needle.isascii():
        if needle.isalpha() and initials(name).startswith(needle):
            return True
        digits = "".join(ch for ch in (row["phone"] or "") if ch.isdigit())
        if needle.isdigit() and len(needle) >= 4 and needle in digits:
            return True
    return False


class PeopleService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- cadres ------------------------------------------------------------------------------------
    def _cadre_values(self, name, unit_id, role, rank, post, phone_no, work_group_id) -> dict:
        given = {"name": name, "role": role, "rank": rank, "post": post, "phone": phone_no}
        values = {key: rule(given[key]) for key, rule in CADRE_RULES.items()}
        values.update(unit_id=unit_id, work_group_id=work_group_id or None)
        if not self.ctx.store.one("SELECT 1 FROM units WHERE id = ? AND deleted = 0", (unit_id,)):
            raise ValidationError("请选择干部所在单位。", field="unit_id")
        if work_group_id and not self.ctx.store.one("SELECT 1 FROM work_groups WHERE id = ? AND deleted = 0",
                                                    (work_group_id,)):
            raise ValidationError("所选工作组不存在。", field="work_group_id")
        return values

    def add_cadre(self, name: str, unit_id: str, *, role: str = "助企干部", rank: str | None = None,
                  post: str | None = None, phone: str | None = None, work_group_id: str | None = None) -> str:
        values = self._cadre_values(name, unit_id, role, rank, post, phone, work_group_id)
        with self.ctx.writing() as w:
            return w.insert("cadres", values, action="新增助企干部")

    def update_cadre(self, cadre_id: str, **fields) -> None:
        cur = self.cadre(cadre_id)
        merged = {**cur, **fields}
        values = self._cadre_values(merged["name"], merged["unit_id"], merged["role"], merged["rank"],
                                    merged["post"], merged["phone"], merged["work_group_id"])
        if "active" in fields:
            values["active"] = 1 if fields["active"] else 0
        with self.ctx.writing() as w:
            w.update("cadres", cadre_id, values, action="修改助企干部")

    def cadre(self, cadre_id: str) -> dict:
        row = self.ctx.store.one("SELECT * FROM cadres WHERE id = ? AND deleted = 0", (cadre_id,))
        if row is None:
            raise NotFoundError(f"助企干部不存在：{cadre_id}")
        return dict(row)

    def cadres(self, unit_id: str | None = None, *, active_only: bool = True) -> list[dict]:
        sql = ("SELECT c.*, u.name AS unit_name, g.name AS group_name FROM cadres c JOIN units u ON u.id = c.unit_id "
               "LEFT JOIN work_groups g ON g.id = c.work_group_id WHERE c.deleted = 0")
        params: list = []
        if unit_id:
            sql += " AND c.unit_id = ?"
            params.append(unit_id)
        if active_only:
            sql += " AND c.active = 1"
        return [dict(r) for r in self.ctx.store.query(sql + " ORDER BY c.name", tuple(params))]

    def find_cadres(self, text: str, *, limit: int = 50, active_only: bool = True,
                    unit_id: str | None = None) -> list[dict]:
        """Cadres for a typed name, unit name or the start of the name's pinyin initials (李娜: 李, 娜, 李娜, l, ln),
        at most `limit`: `unit_id`'s cadres first, then exact names, names starting with the text, the rest, each by
        name. Empty text: the first `limit` cadres in that order. For pickers over a city hub's 50,000 cadres (what
        `cadres()` lists whole)."""
        needle = unicodedata.normalize("NFKC", text or "").strip().lower()
        clauses, params = ["c.deleted = 0"], []
        if active_only:
            clauses.append("c.active = 1")
        if needle.isascii() and needle.isalpha():
            names = [n for n in self._names(active_only) if _name_initials(n).startswith(needle)]
            if not names:
                return []
            clauses.append("c.name IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(names))
        elif needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("(c.name LIKE ? ESCAPE '\\' OR u.name LIKE ? ESCAPE '\\')")
            params += [f"%{escaped}%"] * 2
        rows = self.ctx.store.query(
            "SELECT c.id, c.name, c.role, c.post, c.unit_id, u.name AS unit_name FROM cadres c "
            f"JOIN units u ON u.id = c.unit_id WHERE {' AND '.join(clauses)} ORDER BY c.unit_id IS ? DESC, "
            "c.name = ? DESC, substr(c.name, 1, length(?)) = ? DESC, c.name, u.sort, c.id LIMIT ?",
            (*params, unit_id, needle, needle, needle, int(limit)))
        return [dict(r) for r in rows]

    def _names(self, active_only: bool) -> list[str]:
        active = " AND active = 1" if active_only else ""
        return [r[0] for r in self.ctx.store.query(f"SELECT DISTINCT name FROM cadres WHERE deleted = 0{active}")]

    def cadre_names(self, ids) -> dict[str, str]:
        """{id: name} of these cadres (deleted ones too: the 操作记录 names whoever acted then)."""
        ids = list(dict.fromkeys(i for i in ids if i))
        if not ids:
            return {}
        return dict(self.ctx.store.query("SELECT id, name FROM cadres WHERE id IN (SELECT value FROM json_each(?))",
                                         (json.dumps(ids),)))

    # -- work groups -------------------------------------------------------------------------------
    def add_work_group(self, name: str, unit_id: str, leader_cadre_id: str | None = None, note: str = "") -> str:
        name = text(name, "工作组名称", "name", required=True, max_len=60)
        if self.ctx.store.one("SELECT 1 FROM work_groups WHERE name = ? AND unit_id = ? AND deleted = 0",
                              (name, unit_id)):
            raise ValidationError(f"工作组“{name}”已存在。", field="name")
        with self.ctx.writing() as w:
            return w.insert("work_groups", {"name": name, "unit_id": unit_id, "leader_cadre_id": leader_cadre_id,
                                            "note": text(note, "备注", "note", max_len=500)},
                            action="新增工作组")

    def set_group_leader(self, group_id: str, cadre_id: str | None) -> None:
        with self.ctx.writing() as w:
            w.update("work_groups", group_id, {"leader_cadre_id": cadre_id}, action="设置工作组组长")

    def work_groups(self, unit_id: str | None = None) -> list[dict]:
        sql = ("SELECT g.*, u.name AS unit_name, c.name AS leader_name, "
               "(SELECT count(*) FROM cadres m WHERE m.work_group_id = g.id AND m.deleted = 0) AS members "
               "FROM work_groups g JOIN units u ON u.id = g.unit_id LEFT JOIN cadres c ON c.id = g.leader_cadre_id "
               "WHERE g.deleted = 0")
        params: tuple = ()
        if unit_id:
            sql += " AND g.unit_id = ?"
            params = (unit_id,)
        return [dict(r) for r in self.ctx.store.query(sql + " ORDER BY g.name", params)]

    # -- 包联 assignments ---------------------------------------------------------------------------
    def assign(self, cadre_id: str, enterprise_id: str, *, role: str = "包联干部", start_date=None,
               note: str = "") -> str:
        start = a_date(start_date or today(), "包联开始日期", "start_date")
        self.cadre(cadre_id)
        ent = self.ctx.store.one("SELECT name FROM enterprises WHERE id = ? AND deleted = 0", (enterprise_id,))
        if ent is None:
            raise NotFoundError(f"企业不存在：{enterprise_id}")
        if self.ctx.store.one("SELECT 1 FROM assignments WHERE cadre_id = ? AND enterprise_id = ? AND deleted = 0 "
                              "AND end_date IS NULL", (cadre_id, enterprise_id)):
            raise ValidationError(f"该干部已在包联“{ent['name']}”。", field="cadre_id")
        with self.ctx.writing() as w:
            return w.insert("assignments", {"cadre_id": cadre_id, "enterprise_id": enterprise_id,
                                            "role": assignment_role(role),
                                            "start_date": start, "note": text(note, "备注", "note", max_len=500)},
                            action="建立包联关系")

    def end_assignment(self, assignment_id: str, end_date=None, note: str | None = None) -> None:
        row = self.ctx.store.one("SELECT * FROM assignments WHERE id = ? AND deleted = 0", (assignment_id,))
        if row is None:
            raise NotFoundError("包联关系不存在。")
        if row["end_date"]:
            raise ValidationError(f"该包联关系已于 {row['end_date']} 结束。", field="end_date")
        end = a_date(end_date or today(), "包联结束日期", "end_date")
        if end < row["start_date"]:
            raise ValidationError(f"“包联结束日期”不能早于开始日期 {row['start_date']}。", field="end_date")
        changes = {"end_date": end}
        if note is not None:
            changes["note"] = text(note, "备注", "note", max_len=500)
        with self.ctx.writing() as w:
            w.update("assignments", assignment_id, changes, action="结束包联关系")

    def assignments_of_enterprise(self, enterprise_id: str, *, history: bool = True) -> list[dict]:
        sql = ("SELECT a.*, c.name AS cadre_name, c.role AS cadre_role, c.phone AS cadre_phone, u.name AS unit_name "
               "FROM assignments a JOIN cadres c ON c.id = a.cadre_id JOIN units u ON u.id = c.unit_id "
               "WHERE a.enterprise_id = ? AND a.deleted = 0")
        if not history:
            sql += " AND a.end_date IS NULL"
        return [dict(r) for r in self.ctx.store.query(sql + " ORDER BY a.end_date IS NOT NULL, a.start_date DESC",
                                                      (enterprise_id,))]

    def enterprises_of_cadre(self, cadre_id: str) -> list[str]:
        return [r[0] for r in self.ctx.store.query(
            "SELECT enterprise_id FROM assignments WHERE cadre_id = ? AND deleted = 0 AND end_date IS NULL",
            (cadre_id,))]

    # -- the 干部 page: list ids and rows, work-group edits -------------------------------------------
    def cadre_ids(self, text: str = "", unit_id: str | None = None, work_group_id: str | None = None,
                  role: str | None = None, include_inactive: bool = False, sort_key: str | None = "name",
                  descending: bool = False) -> list[str]:
        """Ids of the cadres matching the filters, in list order.

        `text` matches the name, the post, the phone or the pinyin initials of the name (王磊 -> wl);
        `work_group_id` NO_GROUP lists cadres in no group. Sorting is by `sort_key` (a CADRE_SORT key),
        ties and the natural order by pinyin initials of the name; empty values sort last.
        """
        clauses, params = ["c.deleted = 0"], []
        if unit_id:
            clauses.append("c.unit_id = ?")
            params.append(unit_id)
        if work_group_id == NO_GROUP:
            clauses.append("c.work_group_id IS NULL")
        elif work_group_id:
            clauses.append("c.work_group_id = ?")
            params.append(work_group_id)
        if role:
            clauses.append("c.role = ?")
            params.append(role)
        if not include_inactive:
            clauses.append("c.active = 1")
        expr = CADRE_SORT.get(sort_key or "name", "NULL").format(year=today().year)
        rows = self.ctx.store.query(
            f"SELECT c.id, c.name, c.post, c.phone, {expr} AS sort_value FROM cadres c "
            f"JOIN units u ON u.id = c.unit_id LEFT JOIN work_groups g ON g.id = c.work_group_id "
            f"WHERE {' AND '.join(clauses)}", tuple(params))
        needle = unicodedata.normalize("NFKC", text or "").strip().lower()
        if needle:
            rows = [r for r in rows if _cadre_matches(r, needle)]
        rows = sorted(rows, key=lambda r: (initials(r["name"]), r["name"], r["id"]))
        if expr == "NULL":  # by name
            return [r["id"] for r in (reversed(rows) if descending else rows)]
        present = [r for r in rows if r["sort_value"] not in (None, "")]
        empty = [r for r in rows if r["sort_value"] in (None, "")]
        present.sort(key=lambda r: r["sort_value"], reverse=descending)  # stable: ties stay in name order
        return [r["id"] for r in present + empty]

    def cadre_rows(self, ids: list[str]) -> dict[str, dict]:
        """List-row data for a page of cadre ids: unit and group names, 包联 and this year's visit counts."""
        if not ids:
            return {}
        sql = (f"SELECT c.id, c.name, c.unit_id, c.work_group_id, c.role, c.rank, c.post, c.phone, c.active, "
               f"u.name AS unit, g.name AS work_group, (g.leader_cadre_id = c.id) AS is_leader, "
               f"{ASSIGNMENTS_SQL} AS assignments, {VISITS_YEAR_SQL.format(year=today().year)} AS visits_year "
               "FROM cadres c JOIN units u ON u.id = c.unit_id LEFT JOIN work_groups g ON g.id = c.work_group_id "
               "WHERE c.deleted = 0 AND c.id IN (SELECT value FROM json_each(?))")
        out = {}
        for r in self.ctx.store.query(sql, (json.dumps(ids),)):
            d = dict(r)
            d["active"] = bool(d["active"])
            d["is_leader"] = bool(d["is_leader"])
            out[d["id"]] = d
        return out

    def cadre_units(self) -> list[str]:
        """Ids of the units that have cadres or work groups (for the 单位 filter), in reference order."""
        return [r[0] for r in self.ctx.store.query(
            "SELECT u.id FROM units u WHERE u.deleted = 0 AND ("
            "EXISTS (SELECT 1 FROM cadres c WHERE c.unit_id = u.id AND c.deleted = 0) OR "
            "EXISTS (SELECT 1 FROM work_groups g WHERE g.unit_id = u.id AND g.deleted = 0)) ORDER BY u.sort, u.name")]

    def work_group(self, group_id: str) -> dict:
        row = self.ctx.store.one(
            "SELECT g.*, u.name AS unit_name, c.name AS leader_name FROM work_groups g JOIN units u ON u.id = g.unit_id "
            "LEFT JOIN cadres c ON c.id = g.leader_cadre_id WHERE g.id = ? AND g.deleted = 0", (group_id,))
        if row is None:
            raise NotFoundError(f"工作组不存在：{group_id}")
        return dict(row)

    def work_group_rows(self, unit_id: str | None = None) -> list[dict]:
        """work_groups() plus `active_members` (在岗 members), by unit and in the order the groups were set up
        (uuid7 ids; code-point order of names would put 第三组 before 第二组)."""
        unit_sort = {r[0]: r[1] for r in self.ctx.store.query("SELECT id, sort FROM units")}
        rows = sorted(self.work_groups(unit_id), key=lambda r: (unit_sort.get(r["unit_id"], 0), r["unit_name"], r["id"]))
        active = dict(self.ctx.store.query(
            "SELECT work_group_id, count(*) FROM cadres WHERE deleted = 0 AND active = 1 "
            "AND work_group_id IS NOT NULL GROUP BY work_group_id"))
        for r in rows:
            r["active_members"] = active.get(r["id"], 0)
        return rows

    def update_work_group(self, group_id: str, *, name: str | None = None, note: str | None = None,
                          unit_id: str | None = None, leader_cadre_id: str | None | object = UNCHANGED) -> None:
        """Rename, re-note, move (only while it has no members) or re-lead a group, in one change.

        Arguments left out (None, or UNCHANGED for the leader) keep their value; leader None removes it.
        The leader must be a cadre of the group's unit.
        """
        cur = self.work_group(group_id)
        changes: dict = {}
        if name is not None:
            name = text(name, "工作组名称", "name", required=True, max_len=60)
            changes["name"] = name
        if note is not None:
            changes["note"] = text(note, "备注", "note", max_len=500)
        target_unit = cur["unit_id"]
        if unit_id is not None and unit_id != cur["unit_id"]:
            if not self.ctx.store.one("SELECT 1 FROM units WHERE id = ? AND deleted = 0", (unit_id,)):
                raise ValidationError("请选择工作组所在单位。", field="unit_id")
            if self.ctx.store.one("SELECT 1 FROM cadres WHERE work_group_id = ? AND deleted = 0", (group_id,)):
                raise ValidationError("工作组已有成员，不能改到其他单位；请先调整成员的工作组。", field="unit_id")
            changes["unit_id"] = target_unit = unit_id
        if "name" in changes and self.ctx.store.one(
                "SELECT 1 FROM work_groups WHERE name = ? AND unit_id = ? AND deleted = 0 AND id != ?",
                (changes["name"], target_unit, group_id)):
            raise ValidationError(f"工作组“{changes['name']}”已存在。", field="name")
        if leader_cadre_id is not UNCHANGED:
            leader = leader_cadre_id or None
            if leader is not None:
                row = self.ctx.store.one("SELECT unit_id FROM cadres WHERE id = ? AND deleted = 0", (leader,))
                if row is None:
                    raise ValidationError("所选组长不存在。", field="leader_cadre_id")
                if row["unit_id"] != target_unit:
                    raise ValidationError("组长应是工作组所在单位的干部。", field="leader_cadre_id")
            changes["leader_cadre_id"] = leader
        with self.ctx.writing() as w:
            w.update("work_groups", group_id, changes, action="修改工作组")
