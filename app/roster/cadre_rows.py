"""Cadre roster rows: match each to a cadre by name within the unit (the phone tells two namesakes apart), say what
importing it would change; work groups named in the file that do not exist yet are created with it."""

from __future__ import annotations

import re
from collections import defaultdict

from app.errors import ValidationError
from app.people import CADRE_RULES
from app.reference import ReferenceService, UnitMatcher
from app.roster.plan import RowPlan
from app.roster.values import phone_text, plain_text, shown
from app.validate import name_key, text

ACTION = "导入干部名单"
LABELS = {"name": "姓名", "unit_id": "单位", "work_group": "工作组", "role": "服务角色", "rank": "职级", "post": "职务",
          "phone": "联系电话"}


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def plan(ctx, plans: list[RowPlan]) -> None:
    reference = ReferenceService(ctx)
    units = UnitMatcher(reference.units())
    default_unit = reference.unit(ctx.installation.unit_id)
    cadres = [dict(r) for r in ctx.store.query(
        "SELECT c.id, c.name, c.unit_id, c.role, c.rank, c.post, c.phone, g.name AS work_group "
        "FROM cadres c LEFT JOIN work_groups g ON g.id = c.work_group_id AND g.deleted = 0 WHERE c.deleted = 0")]
    by_name: dict[tuple, list[dict]] = defaultdict(list)
    for c in cadres:
        by_name[(c["unit_id"], name_key(c["name"]))].append(c)
    groups = {(r["unit_id"], r["name"]) for r in ctx.store.query(
        "SELECT unit_id, name FROM work_groups WHERE deleted = 0")}
    new_groups: set[tuple] = set()
    seen: dict[tuple, RowPlan] = {}

    for p in plans:
        values = _values(p, units, default_unit)
        unit_id, name = values.get("unit_id"), values.get("name")
        if p.errors:
            continue
        key = (unit_id, name_key(name), _digits(values.get("phone")))
        if key in seen:
            p.errors.append(f"与第 {seen[key].row} 行重复（同一单位、同名同电话），本行未导入")
            seen[key].warnings.append(f"第 {p.row} 行与本行重复，只导入本行")
            continue
        seen[key] = p
        group = values.get("work_group")
        if group and (unit_id, group) not in groups and (unit_id, group) not in new_groups:
            new_groups.add((unit_id, group))
            p.notes.append(f"将新建工作组“{group}”")
        target = _match(p, values, by_name.get((unit_id, name_key(name)), []))
        if p.errors:
            continue
        if target is None:
            p.planned, p.values = "new", values
            continue
        changes = {k: v for k, v in values.items() if k != "name" and v not in (None, "") and v != target.get(k)
                   and plain_text(target.get(k)) != v}  # spacing alone is no change
        p.target_id = target["id"]
        if changes:
            p.planned, p.values = "update", changes
            p.notes.append("将更新：" + "、".join(LABELS[k] for k in changes))
        else:
            p.planned = "unchanged"


def _values(p: RowPlan, units: UnitMatcher, default_unit) -> dict:
    f = p.fields
    values: dict = {}
    name = plain_text(f.get("name"))
    p.label = name
    if not name:
        p.errors.append("未填写姓名")
    else:
        _rule(p, values, "name", name)
    unit = default_unit
    if "unit" in f:
        unit = units.match(plain_text(f["unit"]))
        if unit is None:
            p.errors.append(f"单位“{shown(f['unit'])}”无法识别：请填写开发区、区县（市）或部门的标准名称")
    if unit is not None:
        values["unit_id"] = unit.id
    if "work_group" in f:
        try:
            values["work_group"] = text(plain_text(f["work_group"]), "工作组", "work_group", max_len=60)
        except ValidationError as exc:
            p.errors.append(exc.message.rstrip("。"))
    if "post" in f:
        _rule(p, values, "post", plain_text(f["post"]))
    for key in ("role", "rank"):
        if key in f:
            _rule(p, values, key, plain_text(f[key]), blocking=False)
    if "phone" in f:
        phone, repaired = phone_text(f["phone"])
        if repaired:
            p.warnings.append("联系电话" + repaired)
        _rule(p, values, "phone", phone, blocking=False)
    return values


def _rule(p: RowPlan, values: dict, key: str, value: str, *, blocking: bool = True) -> None:
    try:
        values[key] = CADRE_RULES[key](value)
    except ValidationError as exc:
        if blocking:
            p.errors.append(exc.message.rstrip("。"))
        else:
            p.warnings.append(exc.message.rstrip("。") + "；该项未导入")


def _match(p: RowPlan, values: dict, namesakes: list[dict]) -> dict | None:
    if len(namesakes) <= 1:
        return namesakes[0] if namesakes else None
    phone = _digits(values.get("phone"))
    same_phone = [c for c in namesakes if phone and _digits(c["phone"]) == phone]
    if len(same_phone) == 1:
        return same_phone[0]
    p.errors.append(f"本单位有 {len(namesakes)} 名干部叫“{values['name']}”，请填写联系电话以区分")
    return None


def write(w, plans: list[RowPlan]) -> tuple[int, int]:
    created = updated = 0
    group_ids = {(r["unit_id"], r["name"]): r["id"] for r in w.conn.execute(
        "SELECT id, unit_id, name FROM work_groups WHERE deleted = 0")}

    def group_id(unit_id: str, name: str | None) -> str | None:
        if not name:
            return None
        if (unit_id, name) not in group_ids:
            group_ids[(unit_id, name)] = w.insert("work_groups", {"name": name, "unit_id": unit_id}, action=ACTION)
        return group_ids[(unit_id, name)]

    for p in plans:
        if p.action not in ("new", "update"):
            continue
        record = dict(p.values)
        if "work_group" in record:
            unit_id = record.get("unit_id") or w.current("cadres", p.target_id)["unit_id"]
            record["work_group_id"] = group_id(unit_id, record.pop("work_group"))
        if p.action == "new":
            record.setdefault("role", "助企干部")
            w.insert("cadres", record, action=ACTION)
            created += 1
        else:
            w.update("cadres", p.target_id, record, action=ACTION)
            updated += 1
    return created, updated
