"""Statistics with the city's 口径: truncated percentages, 家次 vs enterprises, solve rate, periods, breakdowns."""

from __future__ import annotations

from datetime import date

import pytest

from app.stats import DIMENSIONS, Period, truncated_percent
from tests.unit.conftest import GONGXIN, JINSHUI, RENSHE, ZHONGYUAN

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
APRIL = Period(date(2026, 4, 1), date(2026, 4, 30))
SPRING = Period(date(2026, 3, 1), date(2026, 4, 30))

REQUIRED = ("work_groups", "cadres", "enterprises_covered", "enterprise_visits", "symposia", "problems_collected",
            "problems_solved", "solve_rate", "overdue")


@pytest.mark.parametrize(("num", "den", "text"), [
    (11423, 11449, "99.7%"),
    (608, 616, "98.7%"),
    (2, 3, "66.6%"),
    (1, 3, "33.3%"),
    (1, 1, "100.0%"),
    (0, 5, "0.0%"),
    (999, 1000, "99.9%"),
    (9999, 10000, "99.9%"),  # 99.99 is truncated, never rounded up to 100.0
    (1, 7, "14.2%"),
])
def test_truncated_percent(num, den, text):
    assert truncated_percent(num, den) == text


@pytest.mark.parametrize("num", [0, 3])
def test_truncated_percent_zero_denominator(num):
    assert truncated_percent(num, 0) == "—"


def test_visits_count_pairs_and_distinct_enterprises(svc, world):
    a, b, c = world.enterprise(), world.enterprise(), world.enterprise()
    world.visit([a, b, c], kind="座谈会", visit_date="2026-03-10")
    world.visit([a], kind="实地走访", visit_date="2026-03-12")
    h = svc.stats.headline(MARCH)
    assert (h["enterprise_visits"], h["enterprises_visited"], h["symposia"], h["visits"]) == (4, 3, 1, 2)
    assert h["problems_collected"] == 0 and h["solve_rate"] == "—"


@pytest.fixture
def scene(svc, world):
    """Four enterprises, four visits and five problems in March/April 2026 (see the expected figures below)."""
    e = {k: world.enterprise(f"{k}公司测试有限公司") for k in "ABC"}
    e["D"] = world.enterprise("D公司测试有限公司", unit_id=ZHONGYUAN)
    svc.people.add_work_group("金水区第一工作组", JINSHUI)
    world.cadre("李四", JINSHUI)
    wang = world.cadre("王五", ZHONGYUAN)
    svc.people.assign(world.me, e["A"], start_date="2026-01-01")
    b = svc.people.assign(world.me, e["B"], start_date="2026-01-01")
    svc.people.end_assignment(b, "2026-02-01")
    svc.people.assign(wang, e["D"], start_date="2026-03-01")
    world.visit([e["A"], e["B"], e["C"]], kind="座谈会", visit_date="2026-03-10")
    world.visit([e["A"]], visit_date="2026-03-12")
    world.visit([e["D"]], visit_date="2026-03-15", cadre_ids=[wang])
    world.visit([e["C"]], visit_date="2026-04-02")
    p = {}
    p[1] = world.problem(e["A"], registered_on="2026-03-10", category="labour")
    world.assign(p[1], "2026-03-10", lead=RENSHE)
    world.resolve(p[1], "2026-03-13")
    world.revisit(p[1], "2026-03-16", verdict="满意")
    p[2] = world.problem(e["B"], registered_on="2026-03-11", category="finance")
    world.assign(p[2], "2026-03-11", lead=GONGXIN)
    world.resolve(p[2], "2026-03-12", outcome="已解释说明", note="已向企业解释说明政策。")
    world.revisit(p[2], "2026-03-16", verdict="不满意")
    p[3] = world.problem(e["C"], registered_on="2026-03-12", category="labour")
    world.assign(p[3], "2026-03-12", lead=RENSHE)  # deadline 2026-03-20, never resolved
    world.step(p[3], "催办", "2026-03-23")
    p[4] = world.problem(e["D"], registered_on="2026-03-20", category="finance", level="市级")
    p[5] = world.problem(e["A"], registered_on="2026-04-03", category="labour")
    world.assign(p[5], "2026-04-03")
    world.resolve(p[5], "2026-04-08")
    return {"e": e, "p": p}


def test_headline_march(svc, scene):
    h = svc.stats.headline(MARCH)
    assert set(REQUIRED) <= set(h)
    assert h["work_groups"] == 1 and h["cadres"] == 3
    assert h["enterprises_covered"] == 2  # A (张三) and D (王五); B's assignment ended before March
    assert (h["enterprise_visits"], h["enterprises_visited"], h["visits"], h["symposia"]) == (5, 4, 3, 1)
    assert (h["problems_collected"], h["problems_resolved"], h["problems_solved"]) == (4, 2, 1)
    assert h["solve_rate"] == "25.0%"
    assert h["overdue"] == 1 and h["missed_deadline"] == 1 and h["urged"] == 1
    assert h["satisfaction_rate"] == "50.0%"
    assert h["avg_workdays_to_solve"] == 3.0  # 2026-03-10 (Tue) -> 03-13 (Fri)


def test_explained_outcome_is_resolved_not_solved(svc, world):
    ent = world.enterprise()
    for outcome in ("已解释说明", "长期推进", "已解决"):
        pid = world.problem(ent, registered_on="2025-06-02")
        world.assign(pid, "2025-06-02")
        world.resolve(pid, "2025-06-03", outcome=outcome, note="办理结果说明。")
        assert svc.problems.get(pid)["status"] == "已办结"
    h = svc.stats.headline(Period(date(2025, 6, 1), date(2025, 6, 30)))
    assert (h["problems_collected"], h["problems_resolved"], h["problems_solved"], h["solve_rate"]) == (
        3, 3, 1, "33.3%")


def test_period_filtering(svc, scene):
    h = svc.stats.headline(APRIL)
    assert (h["visits"], h["enterprise_visits"], h["symposia"]) == (1, 1, 0)
    assert (h["problems_collected"], h["problems_solved"], h["solve_rate"]) == (1, 1, "100.0%")
    # cut-off before p1 was resolved: p1 counts as collected, not resolved; p2 (resolved 03-12) counts
    h = svc.stats.headline(Period(date(2026, 3, 1), date(2026, 3, 12)))
    assert (h["problems_collected"], h["problems_resolved"], h["problems_solved"]) == (3, 1, 0)
    assert h["overdue"] == 0 and h["missed_deadline"] == 0
    assert (h["visits"], h["enterprise_visits"]) == (2, 4)
    both = svc.stats.headline(SPRING)
    assert both["problems_collected"] == 5 and both["problems_solved"] == 2 and both["solve_rate"] == "40.0%"
    assert both["enterprise_visits"] == 6 and both["enterprises_visited"] == 4  # C visited in March and April
    assert svc.stats.headline(Period(date(2025, 1, 1), date(2025, 12, 31)))["problems_collected"] == 0


def test_unit_filter(svc, scene):
    h = svc.stats.headline(MARCH, unit_id=JINSHUI)
    assert (h["enterprise_visits"], h["enterprises_visited"], h["visits"], h["symposia"]) == (4, 3, 2, 1)
    assert (h["problems_collected"], h["problems_solved"], h["solve_rate"]) == (3, 1, "33.3%")
    assert (h["cadres"], h["work_groups"], h["enterprises_covered"]) == (2, 1, 1)
    z = svc.stats.headline(MARCH, unit_id=ZHONGYUAN)
    assert (z["enterprise_visits"], z["visits"], z["problems_collected"], z["cadres"], z["work_groups"]) == (
        1, 1, 1, 1, 0)
    assert z["solve_rate"] == "0.0%" and z["enterprises_covered"] == 1


ADDITIVE = {
    "unit": ("work_groups", "cadres", "enterprises_covered", "enterprise_visits", "enterprises_visited",
             "problems_collected", "problems_resolved", "problems_solved", "overdue", "missed_deadline",
             "due_soon", "urged", "supervised"),
    "month": ("enterprise_visits", "visits", "symposia", "problems_collected", "problems_resolved",
              "problems_solved", "overdue", "missed_deadline", "due_soon", "urged", "supervised"),
}
PROBLEM_KEYS = ("problems_collected", "problems_resolved", "problems_solved", "overdue", "missed_deadline",
                "due_soon", "urged", "supervised")


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_breakdown_sums_equal_headline(svc, scene, dimension):
    head = svc.stats.headline(SPRING)
    rows = svc.stats.breakdown(dimension, SPRING)
    assert rows and all("key" in r and "label" in r for r in rows)
    for key in ADDITIVE.get(dimension, PROBLEM_KEYS):
        assert sum(r[key] for r in rows) == head[key], key
    for r in rows:
        assert r["solve_rate"] == truncated_percent(r["problems_solved"], r["problems_collected"])


def test_breakdown_rows(svc, scene):
    by_unit = {r["label"]: r for r in svc.stats.breakdown("unit", MARCH)}
    assert by_unit["金水区"]["problems_collected"] == 3 and by_unit["中原区"]["problems_collected"] == 1
    assert by_unit["金水区"]["solve_rate"] == "33.3%"
    by_cat = {r["key"]: r for r in svc.stats.breakdown("category", SPRING)}
    assert by_cat["labour"]["label"] == "用工人才"
    assert (by_cat["labour"]["problems_collected"], by_cat["labour"]["problems_solved"]) == (3, 2)
    assert (by_cat["finance"]["problems_collected"], by_cat["finance"]["problems_solved"]) == (2, 0)
    by_level = [(r["key"], r["problems_collected"]) for r in svc.stats.breakdown("level", SPRING)]
    assert by_level == [("区县级", 4), ("市级", 1)]
    by_month = {r["key"]: r for r in svc.stats.breakdown("month", SPRING)}
    assert set(by_month) == {"2026-03", "2026-04"}
    assert (by_month["2026-03"]["visits"], by_month["2026-04"]["visits"]) == (3, 1)
    assert (by_month["2026-03"]["problems_collected"], by_month["2026-04"]["problems_collected"]) == (4, 1)
    by_dept = {r["key"]: r for r in svc.stats.breakdown("department", SPRING)}
    assert by_dept[RENSHE]["label"] == "市人社局" and by_dept[RENSHE]["problems_collected"] == 3
    assert by_dept[None]["problems_collected"] == 1  # p4 not yet assigned to a department
    with pytest.raises(ValueError):
        svc.stats.breakdown("colour", SPRING)


def test_satisfaction_rate(svc, world):
    ent = world.enterprise()
    for verdict in ("满意", "基本满意", "不满意"):
        pid = world.problem(ent, registered_on="2026-03-02")
        world.assign(pid, "2026-03-02")
        world.resolve(pid, "2026-03-03")
        world.revisit(pid, "2026-03-04", verdict=verdict)
    world.problem(ent, registered_on="2026-03-02")  # not revisited: not in the denominator
    h = svc.stats.headline(MARCH)
    assert h["satisfaction_rate"] == "66.6%"
    assert h["problems_collected"] == 4 and h["problems_solved"] == 3 and h["solve_rate"] == "75.0%"
