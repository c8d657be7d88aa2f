"""The rosters as rows keyed by the import's field keys, so that exporting and importing again changes nothing."""

from __future__ import annotations

import json

_ENTERPRISES = (
    "SELECT e.id, e.name, e.uscc, u.name AS unit, e.township, e.address, e.industry, e.scale, e.tags, e.legal_rep, "
    "e.contact_name, e.contact_phone, e.status, e.note FROM enterprises e JOIN units u ON u.id = e.unit_id "
    "WHERE e.deleted = 0 AND e.archived = 0 ORDER BY u.sort, e.name_initials, e.name, e.id")
_CADRES = (
    "SELECT c.id, c.name, u.name AS unit, g.name AS work_group, c.role, c.rank, c.post, c.phone FROM cadres c "
    "JOIN units u ON u.id = c.unit_id LEFT JOIN work_groups g ON g.id = c.work_group_id AND g.deleted = 0 "
    "WHERE c.deleted = 0 AND c.active = 1 ORDER BY u.sort, g.name, c.name, c.id")
_ASSIGNMENTS = (
    "SELECT a.id, e.name AS enterprise, e.uscc, eu.name AS enterprise_unit, c.name AS cadre, cu.name AS cadre_unit, "
    "a.role, a.start_date, a.note FROM assignments a JOIN enterprises e ON e.id = a.enterprise_id "
    "JOIN units eu ON eu.id = e.unit_id JOIN cadres c ON c.id = a.cadre_id JOIN units cu ON cu.id = c.unit_id "
    "WHERE a.deleted = 0 AND a.end_date IS NULL AND e.deleted = 0 AND c.deleted = 0 "
    "ORDER BY eu.sort, e.name_initials, e.name, c.name, a.id")


def roster_rows(ctx, kind: str) -> list[dict]:
    if kind == "enterprises":
        rows = [dict(r) for r in ctx.store.query(_ENTERPRISES)]
        for r in rows:
            r["tags"] = "、".join(json.loads(r["tags"] or "[]"))
        return rows
    sql = {"cadres": _CADRES, "assignments": _ASSIGNMENTS}[kind]
    return [dict(r) for r in ctx.store.query(sql)]
