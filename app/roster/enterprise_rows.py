"""Enterprise roster rows: check each against the enterprise rules, match it to a record (by credit code, otherwise
by exact name within its unit) and say what importing it would change; then write the accepted rows.

A blank cell never clears a stored value: offices send partial lists, and an empty 联系电话 column must not wipe
the phones already kept.
"""

from __future__ import annotations

import json
from collections import defaultdict

from app import uscc as uscc_rules
from app.enterprises import FIELD_RULES, NO_USCC_WARNING, clean_tags, search_parts
from app.errors import ValidationError
from app.reference import ReferenceService, UnitMatcher
from app.roster.plan import RowPlan
from app.roster.values import code_text, phone_text, plain_text, shown, split_list
from app.textsearch import index_new, initials, reindex_named_after, reindex_stored
from app.validate import name_key

ACTION = "导入企业名单"
LABELS = {"name": "企业名称", "uscc": "统一社会信用代码", "unit_id": "所属区县", "township": "乡镇街道", "address": "地址",
          "industry": "行业", "scale": "企业规模", "tags": "企业类别", "legal_rep": "法定代表人", "contact_name": "联系人",
          "contact_phone": "联系电话", "status": "经营状态", "note": "备注"}
TEXT_FIELDS = ("township", "address", "industry", "legal_rep", "contact_name", "note")
CHOICE_FIELDS = ("scale", "status")  # an unknown value is left out with a warning, the row still imports
_INDEXED = {"name", "uscc", "address", "industry", "township"}
_STORED = ("id", "uscc", "name", "unit_id", "township", "address", "industry", "scale", "tags", "legal_rep",
           "contact_name", "contact_phone", "status", "note")


def plan(ctx, plans: list[RowPlan]) -> None:
    reference = ReferenceService(ctx)
    units = UnitMatcher(reference.units())
    home = reference.unit(ctx.installation.unit_id)
    default_unit = home if home.is_district else None  # a district's own roster need not name the district
    existing = [dict(r) for r in ctx.store.query(f"SELECT {', '.join(_STORED)} FROM enterprises WHERE deleted = 0")]
    by_code = {r["uscc"]: r for r in existing if r["uscc"]}
    by_name: dict[tuple, list[dict]] = defaultdict(list)
    for r in existing:
        by_name[(r["unit_id"], name_key(r["name"]))].append(r)
    first_with_code: dict[str, RowPlan] = {}
    first_with_name: dict[tuple, RowPlan] = {}

    for p in plans:
        values = _values(p, units, default_unit)
        code, unit_id, name = values.get("uscc"), values.get("unit_id"), values.get("name")
        key = (unit_id, name_key(name)) if unit_id and name else None
        if p.errors:
            continue
        # The same enterprise twice in the file: the first good row is imported, later ones are not.
        earlier = first_with_code.get(code) if code else first_with_name.get(key) if key else None
        if earlier is not None:
            what = "统一社会信用代码" if code else "企业名称（同一区县）"
            p.errors.append(f"与第 {earlier.row} 行的{what}重复，本行未导入")
            earlier.warnings.append(f"第 {p.row} 行与本行重复，只导入本行")
            continue
        if code:
            first_with_code[code] = p
        if key:
            first_with_name[key] = p
        target = _match(p, code, name, key, by_code, by_name)
        if p.errors:
            continue
        if target is None:
            p.planned, p.values = "new", values
            continue
        changes = _changes(values, target)
        p.target_id = target["id"]
        if changes:
            p.planned, p.values = "update", changes
            p.notes.append("将更新：" + "、".join(LABELS[k] for k in changes))
        else:
            p.planned = "unchanged"


def _values(p: RowPlan, units: UnitMatcher, default_unit) -> dict:
    """The row's cells as record values (only the filled ones); problems go to p.errors / p.warnings."""
    f = p.fields
    values: dict = {}
    name = plain_text(f.get("name"))
    p.label = name
    if not name:
        p.errors.append("未填写企业名称")
    else:
        _rule(p, values, "name", name)
    unit = default_unit
    if "unit" in f:
        unit = units.match(plain_text(f["unit"]))
        if unit is None:
            p.errors.append(f"所属区县“{shown(f['unit'])}”无法识别：请填写开发区或区县（市）的名称，如“金水区”“郑州高新区”")
    elif unit is None:
        p.errors.append("未填写所属区县")
    if unit is not None:
        values["unit_id"] = unit.id
    if "uscc" in f:
        code, lost = code_text(f["uscc"])
        if lost:
            p.errors.append("统一社会信用代码" + lost)
        else:
            try:
                checked = uscc_rules.validate(code, region_codes=unit.region_codes if unit else None)
                values["uscc"] = checked.code
                p.warnings.extend(checked.warnings)
            except ValidationError as exc:
                p.errors.append(exc.message)
    elif name:
        p.warnings.append(NO_USCC_WARNING + "（按企业名称在所属区县内匹配）")
    for key in TEXT_FIELDS:
        if key in f:
            _rule(p, values, key, plain_text(f[key]))
    for key in CHOICE_FIELDS:
        if key in f:
            _rule(p, values, key, plain_text(f[key]), blocking=False)
    if "contact_phone" in f:
        phone, repaired = phone_text(f["contact_phone"])
        if repaired:
            p.warnings.append("联系电话" + repaired)
        _rule(p, values, "contact_phone", phone, blocking=False)
    if "tags" in f:
        values["tags"] = clean_tags(split_list(f["tags"]))
    return values


def _rule(p: RowPlan, values: dict, key: str, value: str, *, blocking: bool = True) -> None:
    try:
        values[key] = FIELD_RULES[key](value)
    except ValidationError as exc:
        if blocking:
            p.errors.append(exc.message.rstrip("。"))
        else:  # the rest of the row is still good: import it without this value
            p.warnings.append(exc.message.rstrip("。") + "；该项未导入")


def _match(p: RowPlan, code, name, key, by_code: dict, by_name: dict) -> dict | None:
    if code and code in by_code:
        return by_code[code]
    same_name = by_name.get(key, []) if key else []
    if not same_name:
        return None
    if code:  # a code the database does not know, for a name it knows
        without_code = [r for r in same_name if not r["uscc"]]
        if len(same_name) == 1 and without_code:
            return without_code[0]  # the code fills in the record imported without one
        other = next(r["uscc"] for r in same_name if r["uscc"])
        p.errors.append(f"本区县已登记同名企业“{name}”，其统一社会信用代码为 {other}，与本行的 {code} 不同，请核对")
        return None
    if len(same_name) > 1:
        p.errors.append(f"本区县已登记 {len(same_name)} 家名为“{name}”的企业，请填写统一社会信用代码以区分")
        return None
    return same_name[0]


def _changes(values: dict, stored: dict) -> dict:
    changes = {}
    for key, value in values.items():
        current = json.loads(stored["tags"] or "[]") if key == "tags" else stored.get(key)
        if value in (None, "", []) or value == current:
            continue
        if isinstance(value, str) and isinstance(current, str) and plain_text(current) == value:
            continue  # only spacing differs (typed "金水路 2 号", read "金水路2号"): keep what was typed
        changes[key] = value
    return changes


def write(w, plans: list[RowPlan]) -> tuple[int, int]:
    """Write the new and changed rows with the writer of one transaction; returns (created, updated)."""
    records = []
    for p in plans:
        if p.action == "new":
            record = dict(p.values)
            record["tags"] = json.dumps(record.get("tags", []), ensure_ascii=False)
            record.setdefault("status", "在营")
            record["name_initials"] = initials(record["name"])
            records.append(record)
    ids = w.insert_many("enterprises", records, action=ACTION)  # tens of thousands at once: batched
    index_new(w.conn, "enterprise", [(i, search_parts(r), r["name"]) for i, r in zip(ids, records, strict=True)])
    updated = 0
    for p in plans:
        if p.action == "update":
            changes = dict(p.values)
            if "tags" in changes:
                changes["tags"] = json.dumps(changes["tags"], ensure_ascii=False)
            if "name" in changes:
                changes["name_initials"] = initials(changes["name"])
            w.update("enterprises", p.target_id, changes, action=ACTION)
            if _INDEXED & changes.keys():
                reindex_stored(w.conn, "enterprise", p.target_id)
            if "name" in changes:
                reindex_named_after(w.conn, p.target_id)
            updated += 1
    return len(ids), updated
