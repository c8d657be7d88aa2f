"""Open problems by responsible department and age, for the dashboard's chart and the lists behind its bars.

The problems are those in 已交办/办理中 now; their age counts working days past the (approved) deadline at the
cut-off: 未超期, 1–10, more than 10 — the deadline the 逾期未办结 figure uses, so with today's cut-off the two
overdue bands of a department add up to its 逾期 count.
"""

from __future__ import annotations

from datetime import date

from app.clock import parse_date
from app.lifecycle import ASSIGNED, IN_PROGRESS

AGE_BANDS = ("未超期", "超期 1–10 个工作日", "超期 10 个工作日以上")
LONG_OVERDUE_WORKDAYS = 10


def open_problems_by_age(services, at: date, unit_id: str | None = None) -> dict:
    """{"chart": [{key, label, bands: [n, n, n]}] by department (most overdue first),
    "rows": [{id, department_id, department, band}]} for problems in 已交办/办理中 registered by `at`."""
    cal = services.ctx.calendar
    sql = ("SELECT p.id, p.deadline, p.lead_unit_id, u.name AS department FROM problems p "
           "JOIN enterprises e ON e.id = p.enterprise_id LEFT JOIN units u ON u.id = p.lead_unit_id "
           "WHERE p.deleted = 0 AND p.status IN (?, ?) AND p.registered_on <= ?"
           + (" AND e.unit_id = ?" if unit_id else ""))
    params = (ASSIGNED, IN_PROGRESS, at.isoformat(), *((unit_id,) if unit_id else ()))
    rows, chart = [], {}
    for r in services.store.query(sql, params):
        deadline = parse_date(r["deadline"])
        late = cal.workdays_between(deadline, at) if deadline and deadline < at else 0
        band = 0 if late <= 0 else (1 if late <= LONG_OVERDUE_WORKDAYS else 2)
        label = r["department"] or "（未指定）"
        rows.append({"id": r["id"], "department_id": r["lead_unit_id"], "department": label, "band": band})
        entry = chart.setdefault(r["lead_unit_id"], {"key": r["lead_unit_id"], "label": label, "bands": [0, 0, 0]})
        entry["bands"][band] += 1
    ordered = sorted(chart.values(), key=lambda c: (-(c["bands"][1] + c["bands"][2]), -sum(c["bands"]), c["label"]))
    return {"chart": ordered, "rows": rows}
