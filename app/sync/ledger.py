"""What the 数据同步 screen and `sync status` show: packages sent and received, pending work, conflicts, waits."""

from __future__ import annotations

import json

from app.clock import local_date_of
from app.installation import ROLES
from app.sync import intervals
from app.sync.keys import fingerprint

TABLE_LABELS = {
    "units": "单位", "vocabulary": "词表", "deadline_templates": "办理时限模板", "work_groups": "工作组",
    "cadres": "干部", "enterprises": "企业", "assignments": "包联关系", "visits": "走访记录",
    "visit_enterprises": "走访企业", "visit_cadres": "走访干部", "visit_attendees": "企业参加人员",
    "problems": "问题", "problem_events": "问题办理记录", "audit_log": "操作记录", "attachments": "附件",
}
FIELD_LABELS = {
    "name": "名称", "uscc": "统一社会信用代码", "address": "地址", "industry": "行业", "scale": "规模",
    "township": "乡镇（街道）", "tags": "标签", "legal_rep": "法定代表人", "contact_name": "联系人",
    "contact_phone": "联系电话", "status": "状态", "archived": "归档", "note": "备注", "title": "标题",
    "description": "问题描述", "request": "企业诉求", "category_code": "问题类别", "severity": "紧急程度",
    "summary": "走访情况", "policies": "宣讲政策", "follow_up": "后续跟进", "post": "职务", "phone": "电话",
    "rank": "职级", "role": "角色", "unit_id": "单位", "work_group_id": "工作组", "active": "在岗",
    "deleted": "删除", "end_date": "结束日期", "start_date": "开始日期", "visit_date": "走访日期",
}
_RECORD_LABEL = {
    "enterprises": "SELECT name FROM enterprises WHERE id = ?",
    "cadres": "SELECT name FROM cadres WHERE id = ?",
    "visits": "SELECT record_no || ' ' || visit_date FROM visits WHERE id = ?",
    "problems": "SELECT record_no || ' ' || title FROM problems WHERE id = ?",
    "work_groups": "SELECT name FROM work_groups WHERE id = ?",
    "units": "SELECT name FROM units WHERE id = ?",
}


def installation_label(services, installation_id: str | None) -> str:
    if not installation_id:
        return ""
    store = services.store
    if installation_id == services.installation.id:
        return "本机"
    row = (store.one("SELECT role, unit_id FROM enrolled_installations WHERE installation_id = ?", (installation_id,))
           or store.one("SELECT role, unit_id FROM trusted_hubs WHERE installation_id = ?", (installation_id,)))
    if row is None:
        return f"安装 {installation_id[-8:]}"
    unit = store.scalar("SELECT name FROM units WHERE id = ?", (row["unit_id"],)) or row["unit_id"]
    return f"{unit} {ROLES.get(row['role'], row['role'])}"


def hub_info(services) -> dict | None:
    row = services.store.one("SELECT * FROM trusted_hubs ORDER BY joined_at DESC LIMIT 1")
    if row is None:
        return None
    unit = services.store.scalar("SELECT name FROM units WHERE id = ?", (row["unit_id"],)) or row["unit_id"]
    return {"installation_id": row["installation_id"], "role": row["role"],
            "role_label": ROLES.get(row["role"], row["role"]), "unit": unit, "joined_at": row["joined_at"],
            "signing_fingerprint": fingerprint(bytes(row["signing_public"]))}


def pending(services) -> dict:
    """Operations our hub has not acknowledged yet (own and relayed), and when we last exported / were acked."""
    store = services.store
    hub = hub_info(services)
    acks = {}
    if hub is not None:
        acks = {o: json.loads(r) for o, r in store.query("SELECT origin, ranges FROM sync_acks WHERE hub = ?",
                                                           (hub["installation_id"],))}
    if hub is None:  # nobody to report to (a city hub, or not joined yet): nothing is "unacknowledged"
        return {"operations": 0, "last_export": store.scalar("SELECT max(created_at) FROM packages_out"),
                "last_acknowledged": None}
    me = services.installation.id
    own = store.scalar("SELECT count(*) FROM outbox WHERE seq > ?", (intervals.prefix_end(acks.get(me, [])),))
    relayed = 0
    for origin, n_total in store.query("SELECT origin, count(*) FROM relay_ops GROUP BY origin"):
        held = sum(last - first + 1 for first, last in acks.get(origin, []))
        relayed += max(0, n_total - held)
    return {"operations": own + relayed,
            "last_export": store.scalar("SELECT max(created_at) FROM packages_out"),
            "last_acknowledged": store.scalar("SELECT max(at) FROM sync_acks")}


def entries(services, limit: int = 500) -> list[dict]:
    out = []
    for r in services.store.query("SELECT * FROM packages_out ORDER BY created_at DESC LIMIT ?", (limit,)):
        out.append({"direction": "out", "package_id": r["package_id"], "file_name": r["file_name"], "kind": r["kind"],
                    "peer_id": r["recipient"], "peer_label": installation_label(services, r["recipient"]),
                    "created_at": r["created_at"], "at": r["created_at"], "operations": r["operations"],
                    "status": ("已确认" if r["acknowledged_at"] else "待确认") if r["kind"] == "up" else "已下发",
                    "note": "，".join(n for n in ("全量导出" if r["full"] else "",
                                                 f"{local_date_of(r['acknowledged_at'])} 确认"
                                                 if r["acknowledged_at"] else "") if n)})
    for r in services.store.query("SELECT * FROM packages_in ORDER BY imported_at DESC LIMIT ?", (limit,)):
        notes = [f"新增/修改 {r['applied']} 条"]
        if r["skipped"]:
            notes.append(f"已有 {r['skipped']} 条")
        if r["waiting"]:
            notes.append(f"等待 {r['waiting']} 条")
        if r["conflicts"]:
            notes.append(f"冲突 {r['conflicts']} 处")
        out.append({"direction": "in", "package_id": r["package_id"], "file_name": r["file_name"], "kind": r["kind"],
                    "peer_id": r["source"], "peer_label": installation_label(services, r["source"]),
                    "created_at": r["created_at"], "at": r["imported_at"], "operations": r["operations"],
                    "status": "有缺口" if r["chain"] == "gap" else "已导入", "note": "，".join(notes)})
    out.sort(key=lambda e: e["at"], reverse=True)
    return out[:limit]


def _record_label(services, table: str, row_id: str) -> str:
    sql = _RECORD_LABEL.get(table)
    label = services.store.scalar(sql, (row_id,)) if sql else None
    return label or f"{TABLE_LABELS.get(table, table)} {row_id[-8:]}"


def _show(raw: str | None, name: str) -> str:
    value = None if raw is None else json.loads(raw)
    if name == "deleted":
        return "已删除" if value else "保留（对方在删除后仍有修改）"
    if value is None or value == "":
        return "（空）"
    return str(value)


def _current(services, conflict) -> str:
    """What the record holds now (later edits may have changed it since the conflict was found)."""
    table, name = conflict["table_name"], conflict["field"]
    if name not in _columns(services, table):
        return _show(conflict["kept_value"], name)
    row = services.store.one(f"SELECT {name} FROM {table} WHERE id = ?", (conflict["row_id"],))  # noqa: S608
    return _show(conflict["kept_value"], name) if row is None else _show(json.dumps(row[0]), name)


def _columns(services, table: str) -> set[str]:
    if table not in TABLE_LABELS:
        return set()
    return {r[1] for r in services.store.query(f"PRAGMA table_info({table})")}


def _source(services, op_key: str) -> str:
    origin = op_key.split(":")[0] if op_key else ""
    return installation_label(services, origin) if origin else "原始录入"


def conflicts(services, *, resolved: bool = False) -> list[dict]:
    cond = "resolved_at IS NOT NULL" if resolved else "resolved_at IS NULL"
    out = []
    for r in services.store.query(f"SELECT * FROM sync_conflicts WHERE {cond} ORDER BY detected_at, id"):
        out.append({
            "id": r["id"], "table": r["table_name"], "table_label": TABLE_LABELS.get(r["table_name"], r["table_name"]),
            "row_id": r["row_id"], "record_label": _record_label(services, r["table_name"], r["row_id"]),
            "field": r["field"], "field_label": FIELD_LABELS.get(r["field"], r["field"]),
            "current_value": _current(services, r) if not r["resolved_at"] else _show(r["kept_value"], r["field"]),
            "other_value": _show(r["other_value"], r["field"]),
            "current_source": _source(services, r["kept_op"]), "other_source": _source(services, r["other_op"]),
            "detected_at": r["detected_at"], "resolved_at": r["resolved_at"], "resolution": r["resolution"],
        })
    return out


def waiting(services) -> list[dict]:
    out = []
    for r in services.store.query("SELECT * FROM waiting_ops ORDER BY since, origin, seq"):
        op = json.loads(r["payload"])
        out.append({"origin": r["origin"], "origin_label": installation_label(services, r["origin"]), "seq": r["seq"],
                    "table_label": TABLE_LABELS.get(op["table_name"], op["table_name"]), "row_id": op["row_id"],
                    "reason": r["reason"], "since": r["since"]})
    return out
