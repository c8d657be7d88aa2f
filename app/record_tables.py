"""The list of records behind a number (a drill-down), as plain columns and rows for a screen or a spreadsheet.

`record_table(services, kind, ids)` keeps the order of `ids` and returns one row per id, so the list's length is
always the number that was clicked. Rows are read through the services' own `rows()` methods, in chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

CHUNK = 2000

# kind -> [(key, header)]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "problems": [("record_no", "编号"), ("enterprise", "企业"), ("title", "问题"), ("status", "状态"),
                 ("level", "层级"), ("lead_unit", "责任单位"), ("registered_on", "登记日期"), ("deadline", "办理时限"),
                 ("resolved_on", "办结日期"), ("outcome", "办理结果")],
    "visits": [("record_no", "编号"), ("visit_date", "走访日期"), ("kind", "方式"), ("enterprise_names", "企业"),
               ("cadre_names", "干部"), ("problems", "问题数")],
    "visit_pairs": [("record_no", "走访编号"), ("visit_date", "走访日期"), ("kind", "方式"), ("enterprise", "企业"),
                    ("unit", "企业所属单位")],
    "enterprises": [("name", "企业名称"), ("uscc", "统一社会信用代码"), ("unit", "所属单位"), ("status", "经营状态"),
                    ("cadres", "包联干部"), ("last_visit", "最近走访"), ("days_since_visit", "距今天数")],
    "cadres": [("name", "姓名"), ("unit", "单位"), ("work_group", "工作组"), ("role", "服务角色"), ("post", "职务"),
               ("assignments", "包联企业数"), ("visits_year", "今年走访次数")],
    "work_groups": [("name", "工作组"), ("unit_name", "单位"), ("leader_name", "组长"), ("members", "成员数")],
}

# Which record a row opens when double-clicked: (bus signal name, key of the id in the row).
OPENS = {"problems": ("open_problem", "id"), "visits": ("open_visit", "id"), "visit_pairs": ("open_visit", "visit_id"),
         "enterprises": ("open_enterprise", "id")}


@dataclass(frozen=True)
class RecordTable:
    kind: str
    columns: list[tuple[str, str]]
    rows: list[dict]
    notes: tuple[str, ...] = ()  # extra lines above an xlsx header (e.g. the ledger's filter); not in CSV


def record_table(services, kind: str, ids: list) -> RecordTable:
    if kind not in COLUMNS:
        raise ValueError(kind)
    if kind == "visit_pairs":
        rows = _pairs(services, ids)
    elif kind == "work_groups":
        wanted = set(ids)
        by_id = {g["id"]: g for g in services.people.work_groups() if g["id"] in wanted}
        rows = [by_id[i] for i in ids if i in by_id]
    else:
        fetch = {"problems": services.problems.rows, "visits": services.visits.rows,
                 "enterprises": services.enterprises.rows, "cadres": services.people.cadre_rows}[kind]
        found: dict = {}
        for start in range(0, len(ids), CHUNK):
            found.update(fetch(list(ids[start:start + CHUNK])))
        rows = [found[i] for i in ids if i in found]
    return RecordTable(kind, COLUMNS[kind], rows)


def _pairs(services, pairs: list) -> list[dict]:
    visit_ids = list(dict.fromkeys(v for v, _ in pairs))
    ent_ids = list(dict.fromkeys(e for _, e in pairs))
    visits: dict = {}
    ents: dict = {}
    for start in range(0, len(visit_ids), CHUNK):
        visits.update(services.visits.rows(visit_ids[start:start + CHUNK]))
    for start in range(0, len(ent_ids), CHUNK):
        ents.update(services.enterprises.rows(ent_ids[start:start + CHUNK]))
    out = []
    for vid, eid in pairs:
        v, e = visits.get(vid), ents.get(eid)
        if v is None or e is None:
            continue
        out.append({"visit_id": vid, "enterprise_id": eid, "record_no": v["record_no"], "visit_date": v["visit_date"],
                    "kind": v["kind"], "enterprise": e["name"], "unit": e["unit"]})
    return out


_NUMERIC = {"problems", "assignments", "visits_year", "members", "days_since_visit", "open_problems",
            "overdue_workdays", "seq"}
_DATES = {"registered_on", "deadline", "resolved_on", "visit_date", "last_visit", "original_deadline",
          "start_date"}


def write_xlsx(path, title: str, table: RecordTable):
    """The list as an .xlsx (header frozen, widths set, numbers and dates typed; app/xlsx.py)."""
    from app.xlsx import Column, Sheet, write_workbook

    columns = [Column(header, "int" if key in _NUMERIC else "date" if key in _DATES else "text", key=key)
               for key, header in table.columns]
    notes = [f"{title}　共 {len(table.rows)} 条", *table.notes]
    return write_workbook(path, [Sheet(title, columns, table.rows, notes=notes)])
