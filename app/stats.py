"""Statistics with the city's 口径 (DESIGN §3): headline figures, breakdowns and the records behind each count.

Every figure is defined once here, with its Chinese definition in DEFINITIONS, printed beside the
numbers on screens and reports. A station's figures for its own records equal a hub's for the same
records because both run this code on the same rows. Each count figure is one SQL predicate over one
kind of record (FIGURES): the same predicate counts it and lists its records (record_ids, used by the
drill-down in app/stats_drill.py), so a number and its list cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from app.clock import parse_date, today
from app.context import Context
from app.lifecycle import PENDING, SOLVED_OUTCOME, UNSATISFIED
from app.visits import SYMPOSIUM

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

# Figures that are not on the headline but can be listed (drill-down) and counted the same way.
EXTRA_DEFINITIONS: dict[str, str] = {
    "open": "在办：截止日时已交办、有办理时限且尚未办结的件数（统计期内登记的问题；含逾期和即将到期）",
    "satisfied_problems": "回访满意的问题：截止日前至少一次回访评价为“满意”或“基本满意”的问题件数",
    "revisited_problems": "已回访问题：截止日前回访过的问题件数",
}

KEYS = tuple(DEFINITIONS)
DIMENSIONS = ("unit", "category", "department", "level", "month", "cadre")
DIMENSION_LABELS = {"unit": "单位", "category": "问题类别", "department": "责任单位", "level": "问题层级",
                    "month": "月份", "cadre": "助企干部"}
# Dimensions whose rows may share records (a visit with three cadres is in three cadres' rows): their rows do not add
# up to the headline, so no 合计 row is shown, and every row carries "additive": False.
NON_ADDITIVE_DIMENSIONS = frozenset({"cadre"})
DIMENSION_NOTES: dict[str, str] = {
    "unit": "按单位：企业的数字按企业所属单位，工作组和干部按其所属单位。",
    "category": "按问题类别：只统计问题的数字。",
    "department": "按责任单位：只统计问题的数字，按问题当前的牵头单位；尚未交办的问题计入“（未指定）”。",
    "level": "按问题层级：只统计问题的数字，按问题当前的层级（上报后为上级层级）。",
    "month": "按月份：走访按走访日期、问题按登记日期所在月份。",
    "cadre": "按助企干部：走访次数、走访企业家次、走访企业数、座谈会按该干部参加的走访记录统计；"
             "问题按登记该问题的走访记录的参加干部统计，未关联走访记录的问题按登记当日有效的包联干部统计，"
             "两者都没有的计入“（未指定）”；包联企业按该干部统计期内有效的包联关系统计。"
             "一次走访有多名干部参加、一家企业有多名包联干部时，每名干部各计一次，"
             "因此各行相加可能大于总数，本表不设合计行；总数以总体数字为准。",
}


def dimension_note(dimension: str | None) -> str:
    """The 口径 note printed beside a breakdown (empty for the headline)."""
    return DIMENSION_NOTES.get(dimension or "", "")


def figure_label(figure: str) -> str:
    """'逾期未办结' for 'overdue': the name part of the figure's definition."""
    text = DEFINITIONS.get(figure) or EXTRA_DEFINITIONS[figure]
    return text.split("：", 1)[0]


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


# -- the counting rule -------------------------------------------------------------------------------
# Every count figure is "the records of one source that satisfy a predicate", counted per group key. The tables
# below are the only definition: StatsService counts them (count(DISTINCT id) grouped by the dimension's key) and
# lists them (record_ids, the drill-down) from the same SQL, so a number and the list behind it cannot disagree.
# Parameters: :start (period start or 0000-00-00), :cutoff (截止日), :soon (3 working days after it), :unit.

ALL = "'all'"
RESOLVED = "(ifnull(p.resolved_on, '') != '' AND p.resolved_on <= :cutoff)"  # 办结 by the cut-off
HANDLED = f"(ifnull(p.deadline, '') != '' AND p.status != '{PENDING}')"  # assigned, with a running deadline
UNRESOLVED_HANDLED = f"(NOT {RESOLVED} AND {HANDLED})"


@dataclass(frozen=True)
class _Source:
    tables: str  # FROM ... JOIN ...
    where: str
    unit: str  # the column the unit filter applies to
    keys: dict  # dimension -> SQL of the record's group key; a dimension not listed does not count these records
    joins: dict = field(default_factory=dict)  # dimension -> extra JOIN its key needs


@dataclass(frozen=True)
class _Figure:
    source: str
    kind: str  # what the records are: problems, visits, visit_pairs, enterprises, cadres, work_groups
    ids: tuple[str, ...]  # the columns naming one record (two for a visit × enterprise pair)
    when: str = "1"  # the predicate
    order: str = ""  # ORDER BY of the list (columns fixed by the record)


# The problems a cadre is counted for: those registered on a visit the cadre took part in; a problem without a visit,
# those of the enterprises the cadre 包联 on the day it was registered.
_PROBLEM_CADRES = (
    "SELECT p2.id AS problem_id, vc.cadre_id FROM problems p2 "
    "JOIN visit_cadres vc ON vc.visit_id = p2.visit_id AND vc.deleted = 0 "
    "WHERE p2.deleted = 0 AND p2.registered_on >= :start AND p2.registered_on <= :cutoff "
    "UNION "
    "SELECT p2.id, a.cadre_id FROM problems p2 JOIN assignments a ON a.enterprise_id = p2.enterprise_id "
    "AND a.deleted = 0 AND a.start_date <= p2.registered_on AND (a.end_date IS NULL OR a.end_date >= p2.registered_on) "
    "WHERE p2.deleted = 0 AND p2.visit_id IS NULL AND p2.registered_on >= :start AND p2.registered_on <= :cutoff"
)

SOURCES: dict[str, _Source] = {
    # People and coverage: figures at the cut-off.
    "work_groups": _Source("work_groups w", "w.deleted = 0", "w.unit_id", {"all": ALL, "unit": "w.unit_id"}),
    "cadres": _Source("cadres c", "c.deleted = 0 AND c.active = 1", "c.unit_id", {"all": ALL, "unit": "c.unit_id"}),
    "assignments": _Source(
        "assignments a JOIN enterprises e ON e.id = a.enterprise_id",
        "a.deleted = 0 AND e.deleted = 0 AND a.start_date <= :cutoff AND (a.end_date IS NULL OR a.end_date >= :start)",
        "e.unit_id", {"all": ALL, "unit": "e.unit_id", "cadre": "a.cadre_id"}),
    # Visits: 家次 = visit × enterprise pairs, by the enterprise's unit.
    "visit_pairs": _Source(
        "visits v JOIN visit_enterprises ve ON ve.visit_id = v.id AND ve.deleted = 0 "
        "JOIN enterprises e ON e.id = ve.enterprise_id",
        "v.deleted = 0 AND v.visit_date >= :start AND v.visit_date <= :cutoff",
        "e.unit_id", {"all": ALL, "unit": "e.unit_id", "month": "substr(v.visit_date, 1, 7)", "cadre": "vc.cadre_id"},
        {"cadre": "LEFT JOIN visit_cadres vc ON vc.visit_id = v.id AND vc.deleted = 0"}),
    # Problems registered in the period, judged as at the cut-off. Every 回访 counts for the satisfaction rate
    # (a 不满意 later redone still counts as one unsatisfied verdict).
    "problems": _Source(
        "problems p JOIN enterprises e ON e.id = p.enterprise_id "
        "LEFT JOIN (SELECT problem_id, count(*) AS revisits, "
        f"  sum(json_extract(data, '$.verdict') != '{UNSATISFIED}') AS satisfied FROM problem_events "
        "  WHERE kind = '回访' AND deleted = 0 AND on_date <= :cutoff GROUP BY problem_id) r ON r.problem_id = p.id",
        "p.deleted = 0 AND p.registered_on >= :start AND p.registered_on <= :cutoff",
        "e.unit_id", {"all": ALL, "unit": "e.unit_id", "month": "substr(p.registered_on, 1, 7)",
                      "category": "p.category_code", "department": "p.lead_unit_id", "level": "p.level",
                      "cadre": "pc.cadre_id"},
        {"cadre": f"LEFT JOIN ({_PROBLEM_CADRES}) pc ON pc.problem_id = p.id"}),
}

_P = ("p.id",)
_P_ORDER = "p.registered_on DESC, p.record_no"
_SOLVED = f"{RESOLVED} AND p.outcome = '{SOLVED_OUTCOME}'"

FIGURES: dict[str, _Figure] = {
    "work_groups": _Figure("work_groups", "work_groups", ("w.id",), order="w.name"),
    "cadres": _Figure("cadres", "cadres", ("c.id",), order="c.name"),
    "enterprises_covered": _Figure("assignments", "enterprises", ("a.enterprise_id",), order="e.name"),
    "enterprise_visits": _Figure("visit_pairs", "visit_pairs", ("v.id", "ve.enterprise_id"),
                                 order="v.visit_date DESC, v.record_no, e.name"),
    "enterprises_visited": _Figure("visit_pairs", "enterprises", ("ve.enterprise_id",), order="e.name"),
    "visits": _Figure("visit_pairs", "visits", ("v.id",), order="v.visit_date DESC, v.record_no"),
    "symposia": _Figure("visit_pairs", "visits", ("v.id",), f"v.kind = '{SYMPOSIUM}'",
                        order="v.visit_date DESC, v.record_no"),
    "problems_collected": _Figure("problems", "problems", _P, order=_P_ORDER),
    "problems_resolved": _Figure("problems", "problems", _P, RESOLVED, _P_ORDER),
    "problems_solved": _Figure("problems", "problems", _P, _SOLVED, _P_ORDER),
    "overdue": _Figure("problems", "problems", _P, f"{UNRESOLVED_HANDLED} AND p.deadline < :cutoff",
                       "p.deadline, p.record_no"),
    "missed_deadline": _Figure(
        "problems", "problems", _P,
        f"ifnull(p.original_deadline, '') != '' AND (({RESOLVED} AND p.resolved_on > p.original_deadline) "
        f"OR (NOT {RESOLVED} AND :cutoff > p.original_deadline))", _P_ORDER),
    "due_soon": _Figure("problems", "problems", _P,
                        f"{UNRESOLVED_HANDLED} AND p.deadline >= :cutoff AND p.deadline <= :soon",
                        "p.deadline, p.record_no"),
    "urged": _Figure("problems", "problems", _P, "p.urge_count != 0", _P_ORDER),
    "supervised": _Figure("problems", "problems", _P, "p.supervise_count != 0", _P_ORDER),
    # Not headline figures: listed and counted for the dashboards.
    "open": _Figure("problems", "problems", _P, UNRESOLVED_HANDLED, "p.deadline, p.record_no"),
    "satisfied_problems": _Figure("problems", "problems", _P, "ifnull(r.satisfied, 0) > 0", _P_ORDER),
    "revisited_problems": _Figure("problems", "problems", _P, "ifnull(r.revisits, 0) > 0", _P_ORDER),
}

# A rate or average lists the records of its numerator (the figure named here).
RATE_NUMERATORS = {"solve_rate": "problems_solved", "avg_workdays_to_solve": "problems_solved",
                   "satisfaction_rate": "satisfied_problems"}


def _params(ctx: Context, period: Period, unit_id: str | None) -> dict:
    return {"start": period.start.isoformat() if period.start else "0000-00-00",
            "cutoff": period.cutoff.isoformat(),
            "soon": ctx.calendar.add_workdays(period.cutoff, 3).isoformat(), "unit": unit_id}


def _from(source: _Source, dim: str, unit_id: str | None) -> str:
    unit = f" AND {source.unit} = :unit" if unit_id else ""
    return f"FROM {source.tables} {source.joins.get(dim, '')} WHERE {source.where}{unit}"


def _id_expr(fig: _Figure) -> str:
    return " || '|' || ".join(fig.ids)


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
        """Figures grouped by unit/category/department/level/month/cadre; each row has `key` and `label`
        (rows of a NON_ADDITIVE_DIMENSIONS dimension also carry "additive": False)."""
        if dimension not in DIMENSIONS:
            raise ValueError(dimension)
        groups = self._grouped(period, unit_id, dimension)
        labels = self.labels(dimension)
        rows = [self._finish(acc, key, labels.get(key, key or "（未指定）"), dimension) for key, acc in groups.items()]
        order = self._order(dimension)
        rows.sort(key=lambda r: (order.get(r["key"], 10_000), str(r["key"])))
        return rows

    def counts(self, dimension: str | None, period: Period = Period(), unit_id: str | None = None) -> dict:
        """{group key: {figure: count}} for every count figure in FIGURES (headline ones and EXTRA_DEFINITIONS
        ones such as "open"), plus "avg_workdays_to_solve"; dimension None gives the key "all"."""
        dim = dimension or "all"
        if dim != "all" and dim not in DIMENSIONS:
            raise ValueError(dimension)
        out = {}
        for key, a in self._grouped(period, unit_id, dim).items():
            solved = a["problems_solved"]
            out[key] = {**{k: a[k] for k in FIGURES},
                        "avg_workdays_to_solve": round(a["_solve_days"] / solved, 1) if solved else None}
        return out

    def record_ids(self, figure: str, period: Period = Period(), unit_id: str | None = None,
                   dimension: str | None = None, key=None) -> list:
        """The records a count figure counts (for the headline, or for one breakdown row: dimension + its key; key
        None is the "（未指定）" row). Ids are strings, (visit_id, enterprise_id) tuples for enterprise_visits.
        The list's length is the figure (the same SQL as the counting)."""
        fig = FIGURES[figure]
        source = SOURCES[fig.source]
        dim = dimension or "all"
        if dim != "all" and dim not in DIMENSIONS:
            raise ValueError(dimension)
        if dim not in source.keys:
            return []  # the breakdown row shows 0 for this figure
        params = _params(self.ctx, period, unit_id)
        match = ""
        if dim != "all":
            match = f" AND {source.keys[dim]} IS :key"
            params["key"] = key
        ids = ", ".join(fig.ids)
        sql = (f"SELECT {ids} {_from(source, dim, unit_id)} AND ({fig.when}){match} "
               f"GROUP BY {ids} ORDER BY {fig.order or ids}, {ids}")
        rows = self.ctx.store.query(sql, params)
        return [tuple(r) for r in rows] if len(fig.ids) > 1 else [r[0] for r in rows]

    def labels(self, dimension: str) -> dict:
        """Row labels of a breakdown by key (a key not here is shown as itself, None as "（未指定）")."""
        store = self.ctx.store
        if dimension in ("unit", "department"):
            return {r[0]: r[1] for r in store.query("SELECT id, name FROM units")}
        if dimension == "category":
            return {r[0]: r[1] for r in store.query("SELECT code, name FROM vocabulary WHERE kind='problem_category'")}
        if dimension == "cadre":
            return {r[0]: f"{r[1]}（{r[2]}）" if r[2] else r[1] for r in store.query(
                "SELECT c.id, c.name, coalesce(u.short_name, u.name) FROM cadres c LEFT JOIN units u ON u.id = c.unit_id")}
        return {}

    # -- internals ---------------------------------------------------------------------------------
    def _order(self, dimension: str) -> dict:
        store = self.ctx.store
        if dimension in ("unit", "department"):
            return {r[0]: r[1] for r in store.query("SELECT id, sort FROM units")}
        if dimension == "category":
            return {r[0]: r[1] for r in store.query("SELECT code, sort FROM vocabulary WHERE kind='problem_category'")}
        if dimension == "level":
            return {"区县级": 0, "市级": 1, "省级": 2}
        if dimension == "cadre":
            rows = store.query("SELECT c.id FROM cadres c LEFT JOIN units u ON u.id = c.unit_id "
                               "ORDER BY u.sort, c.name, c.id")
            return {r[0]: i for i, r in enumerate(rows)}
        return {}

    def _grouped(self, period: Period, unit_id: str | None, dim: str) -> dict:
        """{group key: accumulator} counted from SOURCES/FIGURES (the rule record_ids lists)."""
        store = self.ctx.store
        cal = self.ctx.calendar
        params = _params(self.ctx, period, unit_id)
        acc: dict = defaultdict(_empty)
        for name, source in SOURCES.items():
            if dim not in source.keys:
                continue
            figures = [(k, f) for k, f in FIGURES.items() if f.source == name]
            cols = [f"count(DISTINCT CASE WHEN {f.when} THEN {_id_expr(f)} END) AS {k}" for k, f in figures]
            if name == "problems":
                cols += ["sum(ifnull(r.revisits, 0)) AS _revisited", "sum(ifnull(r.satisfied, 0)) AS _satisfied"]
            base = _from(source, dim, unit_id)
            for r in store.query(f"SELECT {source.keys[dim]} AS k, {', '.join(cols)} {base} GROUP BY 1", params):
                a = acc[r["k"]]
                for k in r.keys()[1:]:
                    a[k] += r[k] or 0
            if name == "problems":
                # Working days from registration to 办结 of the solved problems (the calendar is Python).
                solved = FIGURES["problems_solved"]
                spans: dict = {}
                for r in store.query(f"SELECT {source.keys[dim]} AS k, p.registered_on, p.resolved_on, "
                                     f"count(DISTINCT p.id) AS n {base} AND ({solved.when}) GROUP BY 1, 2, 3", params):
                    span = (r["registered_on"], r["resolved_on"])
                    if span not in spans:
                        spans[span] = max(0, cal.workdays_between(parse_date(span[0]), parse_date(span[1])))
                    acc[r["k"]]["_solve_days"] += spans[span] * r["n"]
        return acc

    def _finish(self, a: dict, key, label: str | None = None, dimension: str | None = None) -> dict:
        out = {k: a[k] for k in KEYS if k in FIGURES}
        out["solve_rate"] = truncated_percent(a["problems_solved"], a["problems_collected"])
        out["satisfaction_rate"] = truncated_percent(a["_satisfied"], a["_revisited"])
        solved = a["problems_solved"]
        out["avg_workdays_to_solve"] = round(a["_solve_days"] / solved, 1) if solved else None
        out = {k: out[k] for k in KEYS}
        if key != "all":
            out = {"key": key, "label": label, **out}
            if dimension in NON_ADDITIVE_DIMENSIONS:
                out["additive"] = False
        return out


def _empty() -> dict:
    d: dict = dict.fromkeys(FIGURES, 0)
    d.update(_solve_days=0, _revisited=0, _satisfied=0)
    return d
