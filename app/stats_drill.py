"""The records behind the statistics, for the hub dashboards: drill-down of any figure, visit coverage, the late list
and the ranking of responsible departments.

Every list here comes from the counting rule of app/stats.py (StatsService.record_ids over FIGURES), so the length of
a drill-down list is the number that was clicked. All functions take the Services or their Context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from app.clock import parse_date
from app.context import Context
from app.stats import (
    DIMENSIONS,
    EXTRA_DEFINITIONS,
    FIGURES,
    KEYS,
    RATE_NUMERATORS,
    Period,
    StatsService,
    figure_label,
    truncated_percent,
)

UNSPECIFIED = "（未指定）"

# What a rate's or an average's list shows (its numerator's records), said in the list's title.
RATE_TITLES = {
    "solve_rate": "解决率的分子：已解决问题",
    "avg_workdays_to_solve": "平均解决用时所计的已解决问题",
    "satisfaction_rate": "满意率的分子：回访评价满意或基本满意的问题（满意率按回访次数计）",
}

COVERAGE_DEFINITIONS = {
    "assigned_not_visited": "包联企业超过 N 天未走访：截至统计日有有效包联关系、最近一次走访早于统计日前 N 天的企业"
                            "（从未走访的也计入；按企业所属单位；不含已注销、已归档的企业）",
    "cadres_without_visit_this_month": "本月没有走访的助企干部：在册（在岗）干部中，统计日所在月 1 日至统计日"
                                       "没有参加任何走访记录的人（按干部所属单位）",
    "enterprises_lost_or_stopped": "失联或停产企业：当前经营状态为“失联”或“停产”的企业（经营状态随走访记录更新；"
                                   "按企业所属单位；不含已归档的企业）",
}
LOST_OR_STOPPED = ("失联", "停产")
CANCELLED = "注销"


@dataclass(frozen=True)
class Drill:
    """The records behind one number: `kind` says what `ids` are (problems, visits, visit_pairs — (visit_id,
    enterprise_id) tuples —, enterprises, cadres, work_groups); len(ids) is the number for a count figure."""

    kind: str
    ids: list
    title: str
    figure: str

    @property
    def count(self) -> int:
        return len(self.ids)


def _ctx(services_or_ctx) -> Context:
    return services_or_ctx if isinstance(services_or_ctx, Context) else services_or_ctx.ctx


def _unit_name(ctx: Context, unit_id: str | None) -> str | None:
    if not unit_id:
        return None
    return ctx.store.scalar("SELECT name FROM units WHERE id = ?", (unit_id,)) or unit_id


def drill(services_or_ctx, figure: str, period: Period, unit_id: str | None = None, dimension: str | None = None,
          key=None) -> Drill:
    """The records behind `figure` for the headline (dimension None) or one breakdown row (dimension and the row's
    `key`; key None is the "（未指定）" row). A count figure lists exactly the records it counts; a rate or an
    average (solve_rate, satisfaction_rate, avg_workdays_to_solve) lists its numerator's records, as the title says.
    Also takes the EXTRA_DEFINITIONS figures (open, satisfied_problems, revisited_problems)."""
    ctx = _ctx(services_or_ctx)
    if figure not in KEYS and figure not in EXTRA_DEFINITIONS:
        raise ValueError(f"unknown figure: {figure}")
    if dimension is not None and dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension: {dimension}")
    stats = StatsService(ctx)
    listed = RATE_NUMERATORS.get(figure, figure)
    ids = stats.record_ids(listed, period, unit_id, dimension, key)
    parts = [_unit_name(ctx, unit_id)]
    if dimension is not None:
        parts.append(stats.labels(dimension).get(key, key or UNSPECIFIED))
    parts.append(RATE_TITLES.get(figure) or figure_label(figure))
    title = " · ".join(p for p in parts if p) + f"（{period.label()}）"
    return Drill(kind=FIGURES[listed].kind, ids=ids, title=title, figure=figure)


# -- coverage ------------------------------------------------------------------------------------------
def coverage(services_or_ctx, at: date, unit_id: str | None = None, not_visited_days: int = 30) -> dict:
    """Who and what is not being looked after as of `at`:
    {"assigned_not_visited" | "cadres_without_visit_this_month" | "enterprises_lost_or_stopped":
     {"count": n, "ids": [...], "kind": "enterprises" | "cadres", "definition": str}, "at": iso date,
     "not_visited_days": N}. count == len(ids); definitions in COVERAGE_DEFINITIONS (N filled in)."""
    ctx = _ctx(services_or_ctx)
    store = ctx.store
    days = int(not_visited_days)
    params = {"at": at.isoformat(), "since": (at - timedelta(days=days)).isoformat(),
              "month_start": at.replace(day=1).isoformat(), "unit": unit_id}
    eunit = " AND e.unit_id = :unit" if unit_id else ""
    not_visited = [r[0] for r in store.query(
        "SELECT e.id, (SELECT max(v.visit_date) FROM visit_enterprises ve JOIN visits v ON v.id = ve.visit_id "
        "  AND v.deleted = 0 AND v.visit_date <= :at WHERE ve.enterprise_id = e.id AND ve.deleted = 0) AS last "
        "FROM enterprises e WHERE e.deleted = 0 AND e.archived = 0 AND e.status != :cancelled"
        f"{eunit} AND EXISTS (SELECT 1 FROM assignments a WHERE a.enterprise_id = e.id AND a.deleted = 0 "
        "  AND a.start_date <= :at AND (a.end_date IS NULL OR a.end_date >= :at)) "
        "AND (last IS NULL OR last < :since) ORDER BY last IS NOT NULL, last, e.name, e.id",
        {**params, "cancelled": CANCELLED})]
    idle_cadres = [r[0] for r in store.query(
        "SELECT c.id FROM cadres c LEFT JOIN units u ON u.id = c.unit_id WHERE c.deleted = 0 AND c.active = 1"
        + (" AND c.unit_id = :unit" if unit_id else "")
        + " AND NOT EXISTS (SELECT 1 FROM visit_cadres vc JOIN visits v ON v.id = vc.visit_id AND v.deleted = 0 "
        "  WHERE vc.cadre_id = c.id AND vc.deleted = 0 AND v.visit_date >= :month_start AND v.visit_date <= :at) "
        "ORDER BY u.sort, c.name, c.id", params)]
    marks = ", ".join(f"'{s}'" for s in LOST_OR_STOPPED)
    lost = [r[0] for r in store.query(
        f"SELECT e.id FROM enterprises e WHERE e.deleted = 0 AND e.archived = 0 AND e.status IN ({marks}){eunit} "
        "ORDER BY e.status, e.name, e.id", params)]

    def item(key: str, kind: str, ids: list) -> dict:
        return {"count": len(ids), "ids": ids, "kind": kind,
                "definition": COVERAGE_DEFINITIONS[key].replace(" N ", f" {days} ")}

    return {
        "assigned_not_visited": item("assigned_not_visited", "enterprises", not_visited),
        "cadres_without_visit_this_month": item("cadres_without_visit_this_month", "cadres", idle_cadres),
        "enterprises_lost_or_stopped": item("enterprises_lost_or_stopped", "enterprises", lost),
        "at": at.isoformat(),
        "not_visited_days": days,
    }


# -- late problems -------------------------------------------------------------------------------------
def _problem_facts(ctx: Context, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    return [dict(r) for r in ctx.store.query(
        "SELECT p.id, p.record_no, p.title, p.status, p.level, p.registered_on, p.deadline, p.original_deadline, "
        "p.urge_count, p.supervise_count, p.enterprise_id, e.name AS enterprise, p.lead_unit_id AS department_id, "
        "u.name AS department, u.sort AS department_sort FROM problems p JOIN enterprises e ON e.id = p.enterprise_id "
        "LEFT JOIN units u ON u.id = p.lead_unit_id WHERE p.id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),))]


def overdue_list(services_or_ctx, at: date, unit_id: str | None = None) -> list[dict]:
    """Open problems past their (possibly extended) deadline at `at` — the 逾期未办结 figure of Period(None, at), all
    problems registered up to `at` — one dict each: id, record_no, title, status, level, registered_on,
    enterprise_id, enterprise, department_id, department (lead unit name, "（未指定）" if none), deadline,
    original_deadline, days_overdue (working days after the deadline), calendar_days_overdue, urge_count,
    supervise_count (totals so far). Sorted by department (unit order), then days overdue, longest first."""
    ctx = _ctx(services_or_ctx)
    cal = ctx.calendar
    period = Period(None, at)
    cutoff = period.cutoff
    rows = _problem_facts(ctx, StatsService(ctx).record_ids("overdue", period, unit_id))
    for r in rows:
        deadline = parse_date(r["deadline"])
        r["days_overdue"] = cal.workdays_between(deadline, cutoff)
        r["calendar_days_overdue"] = (cutoff - deadline).days
        r["department"] = r["department"] or UNSPECIFIED
    rows.sort(key=lambda r: (r["department_id"] is None, r["department_sort"] if r["department_sort"] is not None
                             else 10_000, r["department"], -r["days_overdue"], -r["calendar_days_overdue"],
                             r["record_no"]))
    for r in rows:
        del r["department_sort"]
    return rows


def department_ranking(services_or_ctx, period: Period, unit_id: str | None = None) -> list[dict]:
    """Per lead department (problems registered in the period, judged at its cut-off — the 口径 of the breakdown by
    责任单位, whose overdue/solved figures these equal): {key, label, collected, open, overdue, due_soon, solved,
    solve_rate, avg_workdays_to_solve, max_days_overdue (working days, 0 if none), urged, supervised}. Problems
    not yet assigned (no department) are left out. Sorted by overdue, then average days to solve, both descending."""
    ctx = _ctx(services_or_ctx)
    stats = StatsService(ctx)
    cal = ctx.calendar
    cutoff = period.cutoff
    counts = stats.counts("department", period, unit_id)
    labels = stats.labels("department")
    longest: dict = {}
    for r in _problem_facts(ctx, stats.record_ids("overdue", period, unit_id)):
        days = cal.workdays_between(parse_date(r["deadline"]), cutoff)
        longest[r["department_id"]] = max(longest.get(r["department_id"], 0), days)
    rows = []
    for key, c in counts.items():
        if key is None:
            continue
        rows.append({
            "key": key, "label": labels.get(key, key), "collected": c["problems_collected"], "open": c["open"],
            "overdue": c["overdue"], "due_soon": c["due_soon"], "solved": c["problems_solved"],
            "solve_rate": truncated_percent(c["problems_solved"], c["problems_collected"]),
            "avg_workdays_to_solve": c["avg_workdays_to_solve"], "max_days_overdue": longest.get(key, 0),
            "urged": c["urged"], "supervised": c["supervised"],
        })
    rows.sort(key=lambda r: (-r["overdue"], -(r["avg_workdays_to_solve"] or 0.0), -r["max_days_overdue"],
                             r["label"]))
    return rows
