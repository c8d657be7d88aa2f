"""包联 list rows: an enterprise (credit code, or name within 所属区县) and one or more cadres (包联干部 张三、李四),
each pair a current 包联 to create, change (role, start date) or leave as it is. Enterprises and cadres must be on
the rosters already: the list links records, it does not invent them."""

from __future__ import annotations

from collections import defaultdict

from app.clock import today
from app.errors import ValidationError
from app.people import assignment_role
from app.reference import ReferenceService, UnitMatcher
from app.roster.plan import RowPlan
from app.roster.values import code_text, date_value, plain_text, shown, split_list
from app.validate import a_date, name_key, text

ACTION = "导入包联名单"


def plan(ctx, plans: list[RowPlan]) -> None:
    units = UnitMatcher(ReferenceService(ctx).units())
    ents = [dict(r) for r in ctx.store.query("SELECT id, uscc, name, unit_id FROM enterprises WHERE deleted = 0")]
    ent_by_code = {e["uscc"]: e for e in ents if e["uscc"]}
    ent_by_name: dict[str, list[dict]] = defaultdict(list)
    for e in ents:
        ent_by_name[name_key(e["name"])].append(e)
    cadre_by_name: dict[str, list[dict]] = defaultdict(list)
    for c in ctx.store.query("SELECT id, name, unit_id FROM cadres WHERE deleted = 0 AND active = 1"):
        cadre_by_name[name_key(c["name"])].append(dict(c))
    current = {(r["cadre_id"], r["enterprise_id"]): dict(r) for r in ctx.store.query(
        "SELECT id, cadre_id, enterprise_id, role, start_date, note FROM assignments "
        "WHERE deleted = 0 AND end_date IS NULL")}
    seen: dict[tuple, RowPlan] = {}

    for p in plans:
        f = p.fields
        ent = _enterprise(p, units, ent_by_code, ent_by_name)
        cadres = _cadres(p, units, cadre_by_name, ent)
        p.label = f"{plain_text(f.get('enterprise')) or (ent or {}).get('name', '')} — {'、'.join(split_list(f.get('cadre')))}"
        given = _given(p)
        if p.errors:
            continue
        for cadre in cadres:
            pair = (cadre["id"], ent["id"])
            if pair in seen:
                p.errors.append(f"“{cadre['name']}”包联该企业已写在第 {seen[pair].row} 行，本行未导入")
                break
            seen[pair] = p
            stored = current.get(pair)
            if stored is None:
                p.ops.append(("new", {"cadre_id": cadre["id"], "enterprise_id": ent["id"], "role": "包联干部",
                                      "start_date": today().isoformat()} | given, None))
                continue
            changes = {k: v for k, v in given.items() if v != stored[k]}
            p.ops.append(("update", changes, stored["id"]) if changes else ("unchanged", {}, stored["id"]))
            if changes:
                p.notes.append(f"将更新“{cadre['name']}”的" + "、".join(
                    {"role": "包联角色", "start_date": "开始日期", "note": "备注"}[k] for k in changes))
        if p.errors:
            p.ops.clear()
            continue
        actions = {op[0] for op in p.ops}
        p.planned = "new" if "new" in actions else "update" if "update" in actions else "unchanged"


def _enterprise(p: RowPlan, units: UnitMatcher, by_code: dict, by_name: dict) -> dict | None:
    f = p.fields
    if "uscc" in f:
        code, lost = code_text(f["uscc"])
        if lost:
            p.errors.append("统一社会信用代码" + lost)
            return None
        if code in by_code:
            return by_code[code]
        if "enterprise" not in f:
            p.errors.append(f"统一社会信用代码为 {code} 的企业尚未登记（请先导入企业名单）")
            return None
    name = plain_text(f.get("enterprise"))
    if not name:
        p.errors.append("未填写企业名称")
        return None
    found = by_name.get(name_key(name), [])
    if "enterprise_unit" in f:
        unit = units.match(plain_text(f["enterprise_unit"]))
        if unit is None:
            p.errors.append(f"所属区县“{shown(f['enterprise_unit'])}”无法识别")
            return None
        found = [e for e in found if e["unit_id"] == unit.id]
    if not found:
        p.errors.append(f"企业“{name}”尚未登记（请先导入企业名单）")
        return None
    if len(found) > 1:
        p.errors.append(f"有 {len(found)} 家企业名为“{name}”，请填写统一社会信用代码或所属区县以区分")
        return None
    return found[0]


def _cadres(p: RowPlan, units: UnitMatcher, by_name: dict, ent: dict | None) -> list[dict]:
    f = p.fields
    names = split_list(f.get("cadre"))
    if not names:
        p.errors.append("未填写包联干部")
        return []
    unit = None
    if "cadre_unit" in f:
        unit = units.match(plain_text(f["cadre_unit"]))
        if unit is None:
            p.errors.append(f"干部单位“{shown(f['cadre_unit'])}”无法识别")
            return []
    out = []
    for name in names:
        found = by_name.get(name_key(name), [])
        if unit is not None:
            found = [c for c in found if c["unit_id"] == unit.id]
        if len(found) > 1 and ent is not None:  # namesakes: the one in the enterprise's own unit
            found = [c for c in found if c["unit_id"] == ent["unit_id"]] or found
        if not found:
            p.errors.append(f"干部“{name}”尚未登记或已不在岗（请先导入干部名单）")
        elif len(found) > 1:
            p.errors.append(f"有 {len(found)} 名干部叫“{name}”，请填写“干部单位”以区分")
        else:
            out.append(found[0])
    return out


def _given(p: RowPlan) -> dict:
    """Role, start date and note as the row gives them (blank cells are left out)."""
    f = p.fields
    given: dict = {}
    try:
        if "role" in f:
            given["role"] = assignment_role(plain_text(f["role"]))
        if "start_date" in f:
            try:
                day = date_value(f["start_date"])
            except ValueError:
                raise ValidationError(f"“开始日期”不是有效日期：“{shown(f['start_date'])}”（格式：2026-03-15）") from None
            given["start_date"] = a_date(day, "开始日期", "start_date", not_future=True)
        if "note" in f:
            given["note"] = text(plain_text(f["note"]), "备注", "note", max_len=500)
    except ValidationError as exc:
        p.errors.append(exc.message.rstrip("。"))
    return given


def write(w, plans: list[RowPlan]) -> tuple[int, int]:
    created = updated = 0
    for p in plans:
        if p.action not in ("new", "update"):
            continue
        for action, values, target in p.ops:
            if action == "new":
                w.insert("assignments", values, action=ACTION)
                created += 1
            elif action == "update":
                w.update("assignments", target, values, action=ACTION)
                updated += 1
    return created, updated
