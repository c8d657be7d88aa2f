"""Drill-down, coverage, the late list and batch pressing: every number opens exactly the records behind it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app import demo
from app.clock import today
from app.errors import ValidationError
from app.problems import ProblemInput
from app.services import Services
from app.stats import (
    DIMENSION_NOTES,
    DIMENSIONS,
    EXTRA_DEFINITIONS,
    FIGURES,
    KEYS,
    NON_ADDITIVE_DIMENSIONS,
    Period,
    dimension_note,
)
from app.stats_drill import Drill, coverage, department_ranking, drill, overdue_list
from app.visits import VisitInput
from tests.unit.conftest import (
    GONGXIN,
    JINSHUI,
    RENSHE,
    ZHONGYUAN,
    World,
    copy_template,
    table_counts,
    workdays_in,
)

RATES = ("solve_rate", "satisfaction_rate", "avg_workdays_to_solve")
COUNTS = tuple(k for k in KEYS if k not in RATES)
KINDS = {"work_groups": "work_groups", "cadres": "cadres", "enterprises_covered": "enterprises",
         "enterprise_visits": "visit_pairs", "enterprises_visited": "enterprises", "visits": "visits",
         "symposia": "visits"}
SHIQU = "U410103"  # 二七区: a unit with no records


def ago(days: int) -> str:
    return (today() - timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- the small demo plus a second district

@pytest.fixture(scope="module")
def demo_svc(template_db, tmp_path_factory):
    """The small demo (one 金水区 station) plus a few 中原区 records: a 座谈会 with enterprises of both districts and
    two cadres, a problem raised there and left overdue, and one registered without a visit."""
    path = copy_template(template_db, tmp_path_factory.mktemp("drill_demo"))
    svc = Services.open(path)
    demo.generate(svc, size="small", seed=7)
    w = World(svc, _n=900)
    wang = w.cadre("王五", ZHONGYUAN)
    z1 = w.enterprise("中原测试一号有限公司", unit_id=ZHONGYUAN)
    z2 = w.enterprise("中原测试二号有限公司", unit_id=ZHONGYUAN)
    jin = svc.store.scalar("SELECT id FROM enterprises WHERE unit_id = ? ORDER BY name LIMIT 1", (JINSHUI,))
    svc.people.assign(wang, z1, start_date=ago(300))
    svc.visits.create(VisitInput(
        kind="座谈会", visit_date=ago(45), enterprise_ids=[z1, z2, jin], cadre_ids=[w.me, wang],
        summary="召开企业座谈会。", problems=[ProblemInput(enterprise_id=z1, category_code="labour",
                                                   description="企业反映用工紧张。")]))
    pid = svc.store.scalar("SELECT id FROM problems WHERE enterprise_id = ?", (z1,))
    w.assign(pid, ago(44), lead=RENSHE, deadline=ago(40))
    w.step(pid, "督办", ago(35), reply_by=ago(30))
    other = w.problem(z1, registered_on=ago(25), category="finance")
    w.assign(other, ago(25), lead=GONGXIN, deadline=ago(24))
    w.resolve(other, ago(10))  # resolved after its deadline: a missed deadline, not overdue
    w.problem(z2, registered_on=ago(5))  # no visit, no 包联: the cadre breakdown's （未指定） row
    yield svc
    svc.close()


CASES = {
    "all": (Period(), None),
    "dated": (Period(date.fromisoformat(ago(200)), date.fromisoformat(ago(20))), None),
    "jinshui": (Period(), JINSHUI),
    "zhongyuan-dated": (Period(date.fromisoformat(ago(100)), date.fromisoformat(ago(8))), ZHONGYUAN),
}


@pytest.mark.parametrize("case", CASES)
def test_headline_drill_counts_equal_numbers(demo_svc, case):
    period, unit = CASES[case]
    head = demo_svc.stats.headline(period, unit)
    assert head["problems_collected"] and head["enterprise_visits"]
    for figure in COUNTS:
        d = drill(demo_svc, figure, period, unit)
        assert isinstance(d, Drill) and d.figure == figure
        assert d.count == len(d.ids) == head[figure], figure
        assert len(set(d.ids)) == len(d.ids), figure
        assert d.kind == KINDS.get(figure, "problems")
    pairs = drill(demo_svc, "enterprise_visits", period, unit).ids
    assert all(isinstance(p, tuple) and len(p) == 2 for p in pairs)
    assert len({e for _, e in pairs}) == head["enterprises_visited"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_breakdown_row_drill_counts_equal_numbers(demo_svc, case, dimension):
    period, unit = CASES[case]
    rows = demo_svc.stats.breakdown(dimension, period, unit)
    assert rows
    for row in rows:
        for figure in COUNTS:
            d = drill(demo_svc, figure, period, unit, dimension, row["key"])
            assert d.count == row[figure], (row["label"], figure)
            assert row["label"] in d.title


def test_unspecified_rows_drill(demo_svc):
    """None keys (（未指定）): the department of unassigned problems, the cadre of a problem with neither visit nor
    包联."""
    by_dept = {r["key"]: r for r in demo_svc.stats.breakdown("department")}
    pending = [r[0] for r in demo_svc.store.query("SELECT id FROM problems WHERE lead_unit_id IS NULL AND deleted = 0")]
    assert by_dept[None]["problems_collected"] == len(pending) > 0
    d = drill(demo_svc, "problems_collected", Period(), None, "department", None)
    assert sorted(d.ids) == sorted(pending) and "（未指定）" in d.title
    by_cadre = {r["key"]: r for r in demo_svc.stats.breakdown("cadre")}
    assert by_cadre[None]["problems_collected"] == 1
    assert drill(demo_svc, "problems_collected", Period(), None, "cadre", None).count == 1


def test_drill_lists_match_independent_queries(demo_svc):
    open_late = {r[0] for r in demo_svc.store.query(
        "SELECT id FROM problems WHERE deleted = 0 AND status IN ('已交办', '办理中') AND deadline < ?",
        (today().isoformat(),))}
    assert set(drill(demo_svc, "overdue", Period()).ids) == open_late
    assert len(open_late) == demo_svc.stats.headline()["overdue"] > 0
    symposia = {r[0] for r in demo_svc.store.query("SELECT id FROM visits WHERE kind = '座谈会' AND deleted = 0")}
    assert set(drill(demo_svc, "symposia", Period()).ids) == symposia


def test_rates_drill_to_numerators(demo_svc):
    period = CASES["dated"][0]
    solved = drill(demo_svc, "problems_solved", period)
    for rate in ("solve_rate", "avg_workdays_to_solve"):
        d = drill(demo_svc, rate, period)
        assert d.ids == solved.ids and d.kind == "problems" and d.figure == rate
        assert "已解决问题" in d.title
    assert "解决率的分子" in drill(demo_svc, "solve_rate", period).title
    satisfied = drill(demo_svc, "satisfaction_rate", period)
    assert "满意率的分子" in satisfied.title
    expected = {r[0] for r in demo_svc.store.query(
        "SELECT DISTINCT p.id FROM problems p JOIN problem_events ev ON ev.problem_id = p.id AND ev.kind = '回访' "
        "WHERE p.deleted = 0 AND json_extract(ev.data, '$.verdict') IN ('满意', '基本满意') "
        "AND p.registered_on BETWEEN ? AND ? AND ev.on_date <= ?",
        (period.start.isoformat(), period.cutoff.isoformat(), period.cutoff.isoformat()))}
    assert set(satisfied.ids) == expected and expected
    # the extra figures count and list alike
    counts = demo_svc.stats.counts(None, period)["all"]
    for figure in EXTRA_DEFINITIONS:
        assert drill(demo_svc, figure, period).count == counts[figure], figure


def test_drill_title_and_errors(svc, world):
    ent = world.enterprise()
    pid = world.problem(ent, registered_on="2026-03-02")
    world.assign(pid, "2026-03-02", lead=RENSHE, deadline="2026-03-06")
    period = Period(date(2026, 1, 1), date(2026, 6, 30))
    d = drill(svc, "overdue", period, JINSHUI)
    assert d.title == "金水区 · 逾期未办结（2026-01-01 至 2026-06-30）" and d.ids == [pid]
    d = drill(svc.ctx, "overdue", period, JINSHUI, "department", RENSHE)
    assert d.title == "金水区 · 市人社局 · 逾期未办结（2026-01-01 至 2026-06-30）" and d.ids == [pid]
    assert drill(svc, "overdue", period, None, "department", GONGXIN).ids == []
    assert drill(svc, "work_groups", period, None, "category", "labour").ids == []  # the row shows 0 too
    assert drill(svc, "problems_collected", Period(None, date(2026, 6, 30))).title.endswith("（累计至 2026-06-30）")
    with pytest.raises(ValueError):
        drill(svc, "colour", period)
    with pytest.raises(ValueError):
        drill(svc, "overdue", period, None, "colour")


def test_missed_deadline_resolved_late_is_counted_and_listed(svc, world):
    ent = world.enterprise()
    late = world.problem(ent, registered_on="2026-03-02")
    world.assign(late, "2026-03-02", deadline="2026-03-06")
    world.step(late, "延期", "2026-03-05", note="需协调用地。", deadline="2026-03-20", approver="王局长")
    world.resolve(late, "2026-03-12")  # within the extension, after the original deadline
    on_time = world.problem(ent, registered_on="2026-03-02")
    world.assign(on_time, "2026-03-02", deadline="2026-03-06")
    world.resolve(on_time, "2026-03-05")
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    h = svc.stats.headline(period)
    assert (h["missed_deadline"], h["overdue"], h["problems_solved"]) == (1, 0, 2)
    assert drill(svc, "missed_deadline", period).ids == [late]
    # at 03-09 the original deadline had passed (missed) but not the extended one (not overdue)
    mid = Period(date(2026, 3, 1), date(2026, 3, 9))
    assert svc.stats.headline(mid)["missed_deadline"] == 1 and drill(svc, "overdue", mid).ids == []


# ---------------------------------------------------------------- the cadre dimension

def test_cadre_dimension(svc, world):
    li = world.cadre("李四", JINSHUI)
    a, b = world.enterprise("甲公司测试有限公司"), world.enterprise("乙公司测试有限公司")
    svc.people.assign(li, b, start_date="2026-01-01")
    world.visit([a, b], kind="座谈会", visit_date="2026-03-10", cadre_ids=[world.me, li],
                problems=[ProblemInput(enterprise_id=a, category_code="labour", description="招工难。")])
    world.visit([a], visit_date="2026-03-12")  # 张三 alone
    world.problem(b, registered_on="2026-03-13")  # no visit: 李四 包联 b
    world.problem(a, registered_on="2026-03-13")  # no visit, nobody 包联 a: （未指定）
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    head = svc.stats.headline(period)
    rows = {r["key"]: r for r in svc.stats.breakdown("cadre", period)}
    me, mine = rows[world.me], rows[li]
    assert (me["visits"], me["enterprise_visits"], me["symposia"], me["problems_collected"]) == (2, 3, 1, 1)
    assert (mine["visits"], mine["enterprise_visits"], mine["symposia"], mine["problems_collected"]) == (1, 2, 1, 2)
    assert mine["enterprises_covered"] == 1 and mine["label"] == "李四（金水）"
    assert rows[None]["problems_collected"] == 1
    assert (head["visits"], head["problems_collected"]) == (2, 3)
    assert sum(r["visits"] for r in rows.values()) == 3 > head["visits"]  # not additive
    assert all(r["additive"] is False for r in rows.values())
    assert "cadre" in NON_ADDITIVE_DIMENSIONS and "合计" in DIMENSION_NOTES["cadre"]
    assert dimension_note("cadre") == DIMENSION_NOTES["cadre"] and dimension_note(None) == ""
    assert all("additive" not in r for r in svc.stats.breakdown("unit", period))  # other rows unchanged
    assert set(drill(svc, "visits", period, None, "cadre", li).ids) == set(
        r[0] for r in svc.store.query("SELECT id FROM visits WHERE kind = '座谈会'"))


# ---------------------------------------------------------------- coverage

AT = date(2026, 3, 31)


def test_coverage_definitions(svc, world):
    li = world.cadre("李四", JINSHUI)
    idle = world.cadre("赵六", JINSHUI)
    gone = world.cadre("钱七", JINSHUI)
    svc.people.update_cadre(gone, active=False)
    e = {k: world.enterprise(f"{k}测试企业有限公司") for k in ("旧访", "近访", "正好", "未访", "无包联", "注销", "停产", "失联")}
    z = world.enterprise("中原失联测试有限公司", unit_id=ZHONGYUAN, status="失联")
    zc = world.enterprise("中原包联测试有限公司", unit_id=ZHONGYUAN)
    for k in ("旧访", "近访", "正好", "未访", "注销"):
        svc.people.assign(world.me, e[k], start_date="2026-01-01")
    svc.people.assign(li, zc, start_date="2026-01-01")
    world.visit([e["旧访"]], visit_date=(AT - timedelta(days=31)).isoformat(), cadre_ids=[li])  # 02-28
    world.visit([e["近访"]], visit_date=(AT - timedelta(days=29)).isoformat())  # 03-02
    world.visit([e["正好"]], visit_date=(AT - timedelta(days=30)).isoformat())  # 03-01: exactly 30 days
    svc.visits.create(VisitInput(kind="实地走访", visit_date="2026-03-05", enterprise_ids=[e["停产"]],
                                 cadre_ids=[world.me], summary="企业设备检修。", statuses_seen={e["停产"]: "停产"}))
    svc.enterprises.update(e["失联"], {"status": "失联"})
    svc.enterprises.update(e["注销"], {"status": "注销"})
    c = coverage(svc, AT, JINSHUI, not_visited_days=30)
    assert c["assigned_not_visited"]["ids"] == [e["未访"], e["旧访"]]  # never visited first, then the oldest
    assert c["cadres_without_visit_this_month"]["ids"] == sorted([li, idle], key=lambda i: svc.people.cadre(i)["name"])
    assert set(c["enterprises_lost_or_stopped"]["ids"]) == {e["停产"], e["失联"]}
    for key in ("assigned_not_visited", "cadres_without_visit_this_month", "enterprises_lost_or_stopped"):
        assert c[key]["count"] == len(c[key]["ids"]) and c[key]["definition"]
    assert "30 天" in c["assigned_not_visited"]["definition"]
    everywhere = coverage(svc.ctx, AT, None, not_visited_days=30)
    assert set(everywhere["assigned_not_visited"]["ids"]) == {e["未访"], e["旧访"], zc}
    assert set(everywhere["enterprises_lost_or_stopped"]["ids"]) == {e["停产"], e["失联"], z}
    # a visit after `at` does not count; a wider window drops the 31-day-old visit
    assert coverage(svc, AT, JINSHUI, not_visited_days=31)["assigned_not_visited"]["ids"] == [e["未访"]]
    before = coverage(svc, date(2026, 2, 27), JINSHUI, 30)["assigned_not_visited"]  # 注销 stays out
    assert set(before["ids"]) == {e[k] for k in ("旧访", "近访", "正好", "未访")} and before["count"] == 4
    assert li not in coverage(svc, date(2026, 2, 28), JINSHUI)["cadres_without_visit_this_month"]["ids"]


# ---------------------------------------------------------------- the late list and the ranking

@pytest.fixture
def late(svc, world):
    """Problems of two departments overdue at 2026-03-31, one extended, one resolved, one not assigned."""
    ent = world.enterprise("逾期测试企业有限公司")
    p = {}
    for name, lead, deadline in (("r1", RENSHE, "2026-03-10"), ("r2", RENSHE, "2026-03-20"),
                                 ("g1", GONGXIN, "2026-03-16"), ("g2", GONGXIN, "2026-03-25")):
        p[name] = world.problem(ent, registered_on="2026-03-02")
        world.assign(p[name], "2026-03-02", lead=lead, deadline=deadline)
    world.step(p["g2"], "延期", "2026-03-20", note="需要协调。", deadline="2026-03-27", approver="李局长")
    world.step(p["r1"], "催办", "2026-03-11")
    world.step(p["r1"], "督办", "2026-03-16", reply_by="2026-03-20")
    p["done"] = world.problem(ent, registered_on="2026-03-02")
    world.assign(p["done"], "2026-03-02", lead=GONGXIN, deadline="2026-03-06")
    world.resolve(p["done"], "2026-03-09")
    p["pending"] = world.problem(ent, registered_on="2026-03-02")
    return p


def test_overdue_list(svc, late):
    rows = overdue_list(svc, AT)
    # 市工信局 (sort 101) before 市人社局 (104); within each, the longest overdue first
    order = [r["id"] for r in rows]
    assert order == [late["g1"], late["g2"], late["r1"], late["r2"]]
    by_id = {r["id"]: r for r in rows}
    for key, deadline in (("r1", "2026-03-10"), ("r2", "2026-03-20"), ("g1", "2026-03-16"), ("g2", "2026-03-27")):
        r = by_id[late[key]]
        d = date.fromisoformat(deadline)
        assert r["deadline"] == deadline
        assert r["days_overdue"] == workdays_in(d, AT) and r["calendar_days_overdue"] == (AT - d).days
    g2 = by_id[late["g2"]]
    assert g2["original_deadline"] == "2026-03-25" and g2["department"] == "市工信局" and g2["department_id"] == GONGXIN
    r1 = by_id[late["r1"]]
    assert (r1["urge_count"], r1["supervise_count"], r1["level"]) == (1, 1, "区县级")
    assert r1["record_no"].startswith("WT2026-") and r1["enterprise"] == "逾期测试企业有限公司"
    assert [r["id"] for r in overdue_list(svc, date(2026, 3, 17))] == [late["g1"], late["r1"]]
    assert overdue_list(svc, AT, ZHONGYUAN) == []
    assert len(rows) == svc.stats.headline(Period(None, AT))["overdue"]


def test_department_ranking(svc, world, late):
    ent = world.enterprise("科技局测试企业有限公司")
    slow = world.problem(ent, registered_on="2026-03-02")
    world.assign(slow, "2026-03-02", lead="D03", deadline="2026-03-05")
    world.resolve(slow, "2026-03-30")
    period = Period(date(2026, 3, 1), AT)
    ranking = department_ranking(svc, period)
    assert [r["key"] for r in ranking] == [GONGXIN, RENSHE, "D03"]
    gx, rs, kj = ranking
    assert (gx["overdue"], gx["open"], gx["solved"], gx["collected"]) == (2, 2, 1, 3)
    assert (rs["overdue"], rs["open"], rs["solved"]) == (2, 2, 0)
    assert gx["avg_workdays_to_solve"] == workdays_in(date(2026, 3, 2), date(2026, 3, 9))
    assert rs["avg_workdays_to_solve"] is None and gx["label"] == "市工信局"
    assert gx["max_days_overdue"] == workdays_in(date(2026, 3, 16), AT)
    assert rs["max_days_overdue"] == workdays_in(date(2026, 3, 10), AT)
    assert (kj["overdue"], kj["max_days_overdue"], kj["solved"]) == (0, 0, 1)
    assert None not in {r["key"] for r in ranking}  # the unassigned problem has no department
    by_dept = {r["key"]: r for r in svc.stats.breakdown("department", period)}
    for r in ranking:
        assert r["overdue"] == by_dept[r["key"]]["overdue"] and r["solved"] == by_dept[r["key"]]["problems_solved"]
    # equal overdue: the slower department first
    world.resolve(late["g1"], "2026-03-31")
    world.resolve(late["r2"], "2026-03-31")
    assert [r["key"] for r in department_ranking(svc, period)][:2] == [RENSHE, GONGXIN]


# ---------------------------------------------------------------- batch 催办/督办

def test_batch_supervise_one_transaction(svc, late):
    ids = [late["r1"], late["r2"], late["g1"]]
    statements: list[str] = []
    svc.store.conn.set_trace_callback(statements.append)
    try:
        out = svc.problems.take_step_batch(ids, "督办", on_date="2026-03-31", note="请书面回复。",
                                           reply_by="2026-04-03")
    finally:
        svc.store.conn.set_trace_callback(None)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert statements.count("COMMIT") == 1
    assert out["count"] == 3 and out["ids"] == ids and len(out["event_ids"]) == 3
    events = svc.store.query("SELECT problem_id, data FROM problem_events WHERE kind = '督办' AND on_date = '2026-03-31'")
    assert sorted(r[0] for r in events) == sorted(ids)
    assert [svc.problems.get(i)["supervise_count"] for i in ids] == [2, 1, 1]
    assert svc.problems.get(late["g1"])["status"] == "已交办"


def test_batch_rolls_back_when_one_is_not_allowed(svc, late):
    before = table_counts(svc.store)
    bad = svc.problems.get(late["done"])["record_no"]
    with pytest.raises(ValidationError) as exc:
        svc.problems.take_step_batch([late["r1"], late["done"], late["g1"]], "催办", on_date="2026-03-31",
                                     note="请加快办理。")
    assert bad in exc.value.message and "均未保存" in exc.value.message and "已办结" in exc.value.message
    assert table_counts(svc.store) == before
    assert svc.problems.get(late["r1"])["urge_count"] == 1
    with pytest.raises(ValidationError):  # 督办 needs the reply date for every problem
        svc.problems.take_step_batch([late["r2"]], "督办", on_date="2026-03-31", note="请回复。")
    with pytest.raises(ValidationError):
        svc.problems.take_step_batch([late["r2"]], "办结", on_date="2026-03-31", note="已办结。", outcome="已解决")
    with pytest.raises(ValidationError):
        svc.problems.take_step_batch([], "催办")
    assert table_counts(svc.store) == before
    out = svc.problems.take_step_batch([late["r2"], late["r2"]], "催办", on_date="2026-03-31")
    assert out["count"] == 1 and svc.problems.get(late["r2"])["urge_count"] == 1


def test_figures_table_is_complete():
    assert set(COUNTS) <= set(FIGURES) and set(EXTRA_DEFINITIONS) <= set(FIGURES)
    assert {f.kind for f in FIGURES.values()} == {"problems", "visits", "visit_pairs", "enterprises", "cadres",
                                                   "work_groups"}
