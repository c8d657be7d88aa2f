"""Statistics with the city's 口径 (DESIGN §3): headline figures and breakdowns, shared by stations and hubs.

Every figure is defined once here, with its Chinese definition in DEFINITIONS, printed beside the
numbers on screens and reports. A station's figures for its own records equal a hub's for the same
records because both run this code on the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from app.clock import parse_date, today
from app.context import Context
from app.lifecycle import SOLVED_OUTCOME, UNSATISFIED

STATS_VERSION = "2026.1"

DEFINITIONS: dict[str, str] = {
    "work_groups": "工作组：统计截止日在册的工作组个数",
    "cadres": "助企干部：在册（在岗）的助企干部人数",
    "enterprises_covered": "包联企业：统计期内存在有效包联关系的企业数（按企业去重）",
    "enterprise_visits": "走访企业家次：统计期内走访记录×所涉企业的对数（一次座谈会涉及 5 家企业计 5 家次）",
    "enterprises_visited": "走访企业数：统计期内被走访过的企业数（按企业去重）",
    "visits": "走访次数：统计期内的走访记录条数（含座谈会）",
    "symposia": "召开座谈会：统计期内方式为“座谈会”的走访记录场数",
    "problems_collected": "收集问题：统计期内登记的企业问题（诉求）件数",
    "problems_resolved": "办结问题：收集问题中截止日前已办结的件数（含已解释说明、长期推进）",
    "problems_solved": "已解决：收集问题中截止日前办结且办理结果为“已解决”的件数",
    "solve_rate": "解决率：已解决 ÷ 收集问题，保留一位小数，截断不四舍五入（与市“万人助万企”办口径一致）",
    "overdue": "逾期未办结：截止日时处于交办、办理中且已超过（含批准延期后的）办理时限的件数",
    "missed_deadline": "超期办理：收集问题中超过首次交办时限才办结或截止日仍未办结的件数（延期不改变原时限，逾期后办结仍计超期）",
    "due_soon": "即将到期：截止日时正在办理、3 个工作日内到期的件数",
    "avg_workdays_to_solve": "平均解决用时：已解决问题从登记到办结的工作日数平均值（按法定节假日及调休计算）",
    "satisfaction_rate": "满意率：回访中企业评价为“满意”或“基本满意”的次数占回访总次数的比例（不满意后重办的，两次回访都计入），保留一位小数，截断",
    "urged": "催办：统计期内登记的问题中被催办过的件数",
    "supervised": "督办：统计期内登记的问题中被督办过的件数",
}

KEYS = tuple(DEFINITIONS)
DIMENSIONS = ("unit", "category", "department", "level", "month")
DIMENSION_LABELS = {"unit": "单位", "category": "问题类别", "department": "责任单位", "level": "问题层级",
                    "month": "月份"}


def truncated_percent(numerator: int, denominator: int) -> str:
    """'99.7%' for 11423/11449: one decimal, truncated (never rounded up), integer arithmetic only."""
    if denominator <= 0:
        return "—"
    tenths = numerator * 1000 // denominator
    return f"{tenths // 10}.{tenths % 10}%"


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None  # the cut-off (截止日); None = today

    @property
    def cutoff(self) -> date:
        return min(self.end, today()) if self.end else today()

    def label(self) -> str:
        if self.start is None:
            return f"累计至 {self.cutoff.isoformat()}"
        return f"{self.start.isoformat()} 至 {self.cutoff.isoformat()}"


def _in(period: Period, day: str | None) -> bool:
    if not day:
        return False
    if period.start and day < period.start.isoformat():
        return False
    return day <= period.cutoff.isoformat()


class StatsService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def definitions(self) -> dict[str, str]:
        return dict(DEFINITIONS)

    def headline(self, period: Period = Period(), unit_id: str | None = None) -> dict:
        """The headline figures for a period and optional district (by the enterprise's or cadre's unit)."""
        groups = self._grouped(period, unit_id, "all")
        return self._finish(groups.get("all", _empty()), "all")

    def breakdown(self, dimension: str, period: Period = Period(), unit_id: str | None = None) -> list[dict]:
        """Figures grouped by unit/category/department/level/month; each row has `key` and `label`."""
        if dimension not in DIMENSIONS:
            raise ValueError(dimension)
        groups = self._grouped(period, unit_id, dimension)
        labels = self._labels(dimension)
        rows = [self._finish(acc, key, labels.get(key, key or "（未指定）")) for key, acc in groups.items()]
        order = self._order(dimension)
        rows.sort(key=lambda r: (order.get(r["key"], 10_000), str(r["key"])))
        return rows

    # -- internals ---------------------------------------------------------------------------------
    def _labels(self, dimension: str) -> dict:
        store = self.ctx.store
        if dimension in ("unit", "department"):
            return {r[0]: r[1] for r in store.query("SELECT id, name FROM units")}
        if dimension == "category":
            return {r[0]: r[1] for r in store.query("SELECT code, name FROM vocabulary WHERE kind='problem_category'")}
        return {}

    def _order(self, dimension: str) -> dict:
        store = self.ctx.store
        if dimension in ("unit", "department"):
            return {r[0]: r[1] for r in store.query("SELECT id, sort FROM units")}
        if dimension == "category":
            return {r[0]: r[1] for r in store.query("SELECT code, sort FROM vocabulary WHERE kind='problem_category'")}
        if dimension == "level":
            return {"区县级": 0, "市级": 1, "省级": 2}
        return {}

    def _grouped(self, period: Period, unit_id: str | None, dim: str) -> dict:
        store = self.ctx.store
        cal = self.ctx.calendar
        cutoff = period.cutoff.isoformat()
        start = period.start.isoformat() if period.start else "0000-00-00"
        acc: dict = defaultdict(_empty)

        def key_for(unit: str | None, month: str | None = None, problem: dict | None = None):
            if dim == "all":
                return "all"
            if dim == "unit":
                return unit
            if dim == "month":
                return month
            if problem is None:
                return None  # a non-problem figure has no category/department/level
            return {"category": problem["category_code"], "department": problem["lead_unit_id"],
                    "level": problem["level"]}[dim]

        unit_clause = " AND unit_id = ?" if unit_id else ""
        uparams = (unit_id,) if unit_id else ()
        # People and coverage: figures at the cut-off.
        for r in store.query(f"SELECT unit_id, count(*) FROM work_groups WHERE deleted = 0{unit_clause} GROUP BY unit_id",
                             uparams):
            k = key_for(r[0])
            if k is not None:
                acc[k]["work_groups"] += r[1]
        for r in store.query(
                f"SELECT unit_id, count(*) FROM cadres WHERE deleted = 0 AND active = 1{unit_clause} GROUP BY unit_id",
                uparams):
            k = key_for(r[0])
            if k is not None:
                acc[k]["cadres"] += r[1]
        for r in store.query(
                "SELECT e.unit_id, count(DISTINCT a.enterprise_id) FROM assignments a JOIN enterprises e "
                "ON e.id = a.enterprise_id WHERE a.deleted = 0 AND e.deleted = 0 AND a.start_date <= ? "
                "AND (a.end_date IS NULL OR a.end_date >= ?)" + (" AND e.unit_id = ?" if unit_id else "")
                + " GROUP BY e.unit_id", (cutoff, start, *uparams)):
            k = key_for(r[0])
            if k is not None:
                acc[k]["enterprises_covered"] += r[1]
        # Visits: 家次 = visit × enterprise pairs, by the enterprise's unit; meetings by the visit.
        visited: dict = defaultdict(set)
        for r in store.query(
                "SELECT v.id, v.kind, v.visit_date, e.unit_id, ve.enterprise_id FROM visits v "
                "JOIN visit_enterprises ve ON ve.visit_id = v.id AND ve.deleted = 0 "
                "JOIN enterprises e ON e.id = ve.enterprise_id "
                "WHERE v.deleted = 0 AND v.visit_date >= ? AND v.visit_date <= ?"
                + (" AND e.unit_id = ?" if unit_id else ""), (start, cutoff, *uparams)):
            k = key_for(r["unit_id"], r["visit_date"][:7])
            if k is None:
                continue
            acc[k]["enterprise_visits"] += 1
            visited[k].add(r["enterprise_id"])
            acc[k]["_visit_ids"].add(r["id"])
            if r["kind"] == "座谈会":
                acc[k]["_symposium_ids"].add(r["id"])
        for k, ents in visited.items():
            acc[k]["enterprises_visited"] = len(ents)
        # Problems registered in the period, judged as at the cut-off.
        rows = store.query(
            "SELECT p.registered_on, p.resolved_on, p.outcome, p.status, p.deadline, p.original_deadline, "
            "p.satisfaction, p.category_code, p.lead_unit_id, p.level, p.urge_count, p.supervise_count, "
            "e.unit_id, coalesce(r.revisits, 0) AS revisits, coalesce(r.satisfied, 0) AS satisfied "
            "FROM problems p JOIN enterprises e ON e.id = p.enterprise_id "
            # Every 回访 counts (a 不满意 later redone still counted as one unsatisfied verdict).
            "LEFT JOIN (SELECT problem_id, count(*) AS revisits, "
            f"  sum(json_extract(data, '$.verdict') != '{UNSATISFIED}') AS satisfied FROM problem_events "
            "  WHERE kind = '回访' AND deleted = 0 AND on_date <= ? GROUP BY problem_id) r ON r.problem_id = p.id "
            "WHERE p.deleted = 0 AND p.registered_on >= ? AND p.registered_on <= ?"
            + (" AND e.unit_id = ?" if unit_id else ""), (cutoff, start, cutoff, *uparams))
        soon_limit = cal.add_workdays(period.cutoff, 3).isoformat()
        for r in rows:
            p = dict(r)
            k = key_for(p["unit_id"], p["registered_on"][:7], p)
            a = acc[k]
            a["problems_collected"] += 1
            resolved = p["resolved_on"] if p["resolved_on"] and p["resolved_on"] <= cutoff else None
            if resolved:
                a["problems_resolved"] += 1
                if p["outcome"] == SOLVED_OUTCOME:
                    a["problems_solved"] += 1
                    a["_solve_days"] += max(0, cal.workdays_between(parse_date(p["registered_on"]),
                                                                    parse_date(resolved)))
            elif p["deadline"] and p["status"] != "待交办":
                if p["deadline"] < cutoff:
                    a["overdue"] += 1
                elif p["deadline"] <= soon_limit:
                    a["due_soon"] += 1
            original = p["original_deadline"]
            if original and ((resolved and resolved > original) or (not resolved and cutoff > original)):
                a["missed_deadline"] += 1
            a["_revisited"] += p["revisits"]
            a["_satisfied"] += p["satisfied"]
            a["urged"] += 1 if p["urge_count"] else 0
            a["supervised"] += 1 if p["supervise_count"] else 0
        return acc

    def _finish(self, a: dict, key, label: str | None = None) -> dict:
        out = {k: a[k] for k in KEYS if not k.startswith("_") and k in a}
        out["visits"] = len(a["_visit_ids"])
        out["symposia"] = len(a["_symposium_ids"])
        out["solve_rate"] = truncated_percent(a["problems_solved"], a["problems_collected"])
        out["satisfaction_rate"] = truncated_percent(a["_satisfied"], a["_revisited"])
        solved = a["problems_solved"]
        out["avg_workdays_to_solve"] = round(a["_solve_days"] / solved, 1) if solved else None
        out = {k: out[k] for k in KEYS}
        if key != "all":
            out = {"key": key, "label": label, **out}
        return out


def _empty() -> dict:
    d: dict = dict.fromkeys(KEYS, 0)
    d.update(_visit_ids=set(), _symposium_ids=set(), _solve_days=0, _revisited=0, _satisfied=0)
    return d
