"""Cadres, work groups and 包联 assignments (with their history: an assignment is ended, never removed)."""

from __future__ import annotations

from app.clock import today
from app.context import Context
from app.errors import NotFoundError, ValidationError
from app.validate import a_date, choice, phone, text

RANKS = ("县处级", "科级", "一般干部")
ROLES = ("首席服务官", "金牌店小二", "星级服务员", "服务专员", "工作组组长", "助企干部")


class PeopleService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- cadres ------------------------------------------------------------------------------------
    def _cadre_values(self, name, unit_id, role, rank, post, phone_no, work_group_id) -> dict:
        values = {
            "name": text(name, "姓名", "name", required=True, max_len=30),
            "unit_id": unit_id,
            "role": choice(role or "助企干部", ROLES, "服务角色", "role"),
            "rank": choice(rank, RANKS, "职级", "rank", required=False),
            "post": text(post, "职务", "post", max_len=60),
            "phone": phone(phone_no, "联系电话", "phone"),
            "work_group_id": work_group_id or None,
        }
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
                                            "role": text(role, "包联角色", "role", required=True, max_len=30),
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
