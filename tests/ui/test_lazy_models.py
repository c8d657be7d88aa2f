"""The lazy list models (ui/models/lazy_table.py and the enterprise, visit, problem and cadre lists over it) on a
database big enough that rows are fetched page by page: the model tester, the rows shown after every sort, after
filtering, and after edits made elsewhere (through the services, then the refresh the views use)."""

from __future__ import annotations

import random
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from pypinyin import Style, lazy_pinyin
from PySide6.QtCore import QPersistentModelIndex, Qt

from app import lifecycle as lc
from app.clock import today
from app.demo import generate
from app.enterprises import SCALES, STATUSES, EnterpriseFilter
from app.people import RANKS, ROLES
from app.problems import ProblemFilter, ProblemInput
from app.services import Services
from app.uscc import make
from app.visits import KINDS, VisitFilter, VisitInput
from ui.models import enterprise_model, people_model, problem_model, visit_model
from ui.models.enterprise_model import EnterpriseSource, EnterpriseTableModel
from ui.models.lazy_table import OBJECT_ROLE, PAGE_SIZE, SORT_ROLE, LazyTableModel
from ui.models.people_model import CadreEnterpriseModel, CadreFilter, CadreTableModel, WorkGroupTableModel
from ui.models.problem_model import ProblemTableModel
from ui.models.visit_model import VisitTableModel

ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
DISPLAY = Qt.ItemDataRole.DisplayRole

EXTRA_ENTERPRISES = 320
EXTRA_VISITS = 90
EXTRA_PROBLEMS = 170
EXTRA_CADRES = 230
ARCHIVED_EVERY = 29  # every 29th extra enterprise is archived

PLACES = ("郑州", "河南", "金水", "中原", "嵩山", "黄河", "中州", "豫", "郑东", "北龙湖", "安阳", "百花")
BRANDS = ("宇通", "华瑞", "恒通", "达信", "兴泰", "宏昌", "科创", "新材", "智能", "精密", "长城", "银都", "瑞祥", "博远",
          "鼎盛", "汇丰", "乐器", "重工", "朝阳", "万家", "安泰", "佳和", "润泽", "凯达")
TRADES = ("机械制造", "电子科技", "食品", "物流", "建筑工程", "软件", "商贸", "医药", "新能源", "包装材料", "餐饮管理")
INDUSTRIES = ("制造业", "建筑业", "批发和零售业", "信息传输、软件和信息技术服务业", "住宿和餐饮业", "")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红晓东海燕"
POSTS = ("科员", "副科长", "科长", "副主任", "主任", "四级主任科员", "")
SUMMARIES = ("了解企业生产经营情况，宣讲惠企政策。", "座谈用工需求和招聘计划。", "调研企业融资需求，对接银行。",
             "现场查看新厂房建设进度。", "了解企业订单和出口情况。")
DESCRIPTIONS = ("企业反映招工困难，缺少熟练技工。", "企业希望对接银行，解决流动资金紧张。", "新厂房用电增容审批较慢。",
                "园区道路破损，影响物流车辆通行。", "申请高新技术企业认定需要指导。")


def pinyin_key(name: str | None) -> str:
    """What a user sorts Chinese names by: the pinyin initial of each character (Latin letters, digits as they are)."""
    spelled = "".join(lazy_pinyin(unicodedata.normalize("NFKC", name or ""), style=Style.FIRST_LETTER))
    return "".join(ch for ch in spelled.lower() if ch.isascii() and ch.isalnum())


# --- The database: the small demo plus enough extra rows that every list has more rows than a page ---------------
def _add_bulk(svc: Services) -> None:
    rnd = random.Random(20260308)
    t = today()
    districts = [u for u in svc.reference.districts() if u.id != "U410100"]
    cats = [code for code, _name in svc.reference.vocabulary("problem_category")]
    leads = [u.id for u in svc.reference.departments()[:8]]
    me = svc.installation.cadre_id
    existing = {r[0] for r in svc.store.query("SELECT name FROM enterprises")}
    with svc.ctx.writing():
        new_ents: list[str] = []
        while len(new_ents) < EXTRA_ENTERPRISES:
            name = f"{rnd.choice(PLACES)}{rnd.choice(BRANDS)}{rnd.choice(TRADES)}有限公司"
            if name in existing:
                continue
            existing.add(name)
            unit = rnd.choice(districts)
            region = (unit.region_codes[0] if unit.region_codes else "410105")[:6].ljust(6, "0")
            n = len(new_ents)
            new_ents.append(svc.enterprises.create({
                "name": name, "unit_id": unit.id, "uscc": make(f"91{region}MB{n:07d}"),
                "status": rnd.choice(STATUSES), "industry": rnd.choice(INDUSTRIES),
                "scale": rnd.choice((*SCALES, None)), "contact_name": rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                "contact_phone": f"138{rnd.randrange(10**8):08d}", "township": rnd.choice(("", "花园路街道")),
            }).id)
        for n, ent in enumerate(new_ents):
            if n % ARCHIVED_EVERY == ARCHIVED_EVERY - 1:
                svc.enterprises.set_archived(ent, True)
        live = [e for n, e in enumerate(new_ents) if n % ARCHIVED_EVERY != ARCHIVED_EVERY - 1]

        groups = [g["id"] for g in svc.people.work_groups()]
        cadres = []
        for n in range(EXTRA_CADRES):
            name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + (rnd.choice(GIVEN) if n % 3 else "")
            cadres.append(svc.people.add_cadre(
                name, rnd.choice(districts).id, role=rnd.choice(ROLES), rank=rnd.choice((*RANKS, None)),
                post=rnd.choice(POSTS), phone=f"139{rnd.randrange(10**8):08d}",
                work_group_id=rnd.choice((*groups, None, None))))
        for n, cadre in enumerate(cadres):
            if n % 17 == 0:
                svc.people.update_cadre(cadre, active=False)
            elif n % 3 == 0:
                svc.people.assign(cadre, rnd.choice(live), start_date=(t - timedelta(days=200)).isoformat())
        active = [c for n, c in enumerate(cadres) if n % 17]

        for n in range(EXTRA_VISITS):
            ents = rnd.sample(live, rnd.choice((1, 1, 1, 2, 3)))
            day = t - timedelta(days=rnd.randrange(1, 300))
            problems = [ProblemInput(enterprise_id=ents[0], category_code=rnd.choice(cats),
                                     description=rnd.choice(DESCRIPTIONS)) for _ in range(n % 3 == 0)]
            svc.visits.create(VisitInput(
                kind=rnd.choice(KINDS), visit_date=day, enterprise_ids=ents,
                cadre_ids=[me, *rnd.sample(active, rnd.choice((0, 1, 2)))], summary=rnd.choice(SUMMARIES),
                problems=problems))

        for n in range(EXTRA_PROBLEMS):
            day = t - timedelta(days=rnd.randrange(40, 330))
            fate = n % 4
            pid = svc.problems.register(ProblemInput(  # a station handles 区县级 problems; 市级 ones wait for the city
                enterprise_id=rnd.choice(live), category_code=rnd.choice(cats), registered_on=day,
                description=f"{rnd.choice(DESCRIPTIONS)}（第{n + 1}号）", level=lc.LEVELS[n % 8 == 0 and fate == 0]))
            if fate >= 1:
                svc.problems.take_step(pid, "交办", on_date=day + timedelta(days=2), lead_unit_id=rnd.choice(leads))
            if fate >= 2:
                svc.problems.take_step(pid, "办结", on_date=day + timedelta(days=rnd.randrange(5, 35)),
                                       note="已协调解决。", outcome=rnd.choice(lc.OUTCOMES))
            if fate >= 3 and n % 8 == 3:
                svc.problems.take_step(pid, "回访", on_date=day + timedelta(days=38), method="电话", verdict="满意")


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("lazy") / "zhuqi.db"
    svc = Services.open(path)
    try:
        generate(svc, size="small", seed=4)
        _add_bulk(svc)
        svc.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        svc.close()
    return path


@pytest.fixture
def big(big_db, tmp_path):
    """Services over the test's own copy of the big database."""
    copy = tmp_path / "big.db"
    shutil.copyfile(big_db, copy)
    svc = Services.open(copy)
    yield svc
    svc.close()


# --- Reading what a model shows ------------------------------------------------------------------------------
def shown_ids(model) -> list[str]:
    return [model.index(r, 0).data(OBJECT_ROLE) for r in range(model.rowCount())]


def column(model, col: int, role: int = DISPLAY) -> list:
    return [model.index(r, col).data(role) for r in range(model.rowCount())]


def col_of(model, key: str) -> int:
    return [c.key for c in model.columns].index(key)


def scattered(n: int) -> list[int]:
    """Every row once, in an order that jumps across pages (last, first, middle …) as a scrolling view would not."""
    order = list(range(n))
    random.Random(n).shuffle(order)
    return [n - 1, 0, n // 2, *order]


# --- Ordering rules: what a user expects each column's sort to give ---------------------------------------------
def _empty(v) -> bool:
    return v is None or v == ""


def _check_grouped(values: list, where: str) -> list:
    """Each value forms one contiguous run; returns the runs' values in order."""
    runs: list = []
    for v in values:
        if not runs or runs[-1] != v:
            assert v not in runs, f"{where}: {v!r} appears in two places"
            runs.append(v)
    return runs


def _check_monotone(keys: list, descending: bool, where: str) -> None:
    present = [k for k in keys if not _empty(k)]
    for a, b in zip(present, present[1:], strict=False):
        assert (a >= b) if descending else (a <= b), f"{where}: {a!r} before {b!r}"
    flags = [_empty(k) for k in keys]  # blanks all at one end
    if any(flags) and not all(flags):
        first, last = flags.index(True), len(flags) - 1 - flags[::-1].index(True)
        assert all(flags[first:last + 1]) and (first == 0 or last == len(flags) - 1), f"{where}: blanks scattered"


def natural(values, descending, where):
    _check_monotone(values, descending, where)


def pinyin(values, descending, where):
    _check_monotone([pinyin_key(v) if not _empty(v) else v for v in values], descending, where)


def grouped(values, descending, where):
    _check_grouped(values, where)


def ranked(order: tuple) -> Callable:
    def check(values, descending, where):
        _check_monotone([None if _empty(v) else order.index(v) for v in values], descending, where)
    return check


def unit_order(svc: Services) -> Callable:
    order = tuple(u.name for u in svc.reference.units())
    return ranked(order)


# Ordering rule of each sortable column; the SORT_ROLE values of the rows are checked against it.
ENTERPRISE_RULES = {"name": pinyin, "uscc": natural, "unit": "unit", "status": grouped, "industry": grouped,
                    "cadres": grouped, "last_visit": natural, "open_problems": natural}
VISIT_RULES = {"record_no": natural, "visit_date": natural, "kind": grouped, "enterprises": natural,
               "problems": natural}
PROBLEM_RULES = {"record_no": natural, "title": grouped, "status": grouped, "deadline": natural,
                 "enterprise": grouped, "category": grouped, "level": ranked(lc.LEVELS), "lead_unit": grouped,
                 "registered_on": natural, "resolved_on": natural}
CADRE_RULES = {"name": pinyin, "unit": "unit", "work_group": grouped, "role": ranked(ROLES), "rank": ranked(RANKS),
               "post": grouped, "assignments": natural, "visits_year": natural, "active": ranked((True, False))}


@dataclass
class ListCase:
    """One list: how to build its model, what each sortable column's order must be, and how to read a record."""

    name: str
    make: Callable[[Services], LazyTableModel]
    rules: dict
    truth: Callable[[Services, str], dict]  # the record as the services give it, by column key
    checked: tuple[str, ...]  # columns whose text is compared with `truth`


def _enterprise_truth(svc, ent_id):
    e = svc.enterprises.get(ent_id)
    return {"name": e["name"], "uscc": e["uscc"] or "", "unit": e["unit_name"],
            "status": e["status"] + ("（已归档）" if e["archived"] else "")}


def _visit_truth(svc, vid):
    v = svc.visits.get(vid)
    return {"record_no": v["record_no"], "visit_date": v["visit_date"], "kind": v["kind"],
            "problems": str(len(v["problems"]))}


def _problem_truth(svc, pid):
    p = svc.problems.get(pid)
    return {"record_no": p["record_no"], "title": p["title"], "status": p["status"],
            "enterprise": p["enterprise_name"], "level": p["level"], "lead_unit": p["lead_unit_name"] or "",
            "registered_on": p["registered_on"], "resolved_on": p["resolved_on"] or ""}


def _cadre_truth(svc, cid):
    c = svc.people.cadre(cid)
    return {"name": c["name"], "unit": svc.reference.unit(c["unit_id"]).name, "post": c["post"] or "",
            "rank": c["rank"] or "", "role": c["role"], "active": "在岗" if c["active"] else "离岗"}


CASES = {
    "enterprises": ListCase("enterprises", lambda s: EnterpriseTableModel(s.enterprises), ENTERPRISE_RULES,
                            _enterprise_truth, ("name", "uscc", "unit", "status")),
    "enterprises+archived": ListCase(
        "enterprises+archived", lambda s: EnterpriseTableModel(s.enterprises, EnterpriseFilter(include_archived=True)),
        ENTERPRISE_RULES, _enterprise_truth, ("name", "uscc", "unit", "status")),
    "visits": ListCase("visits", lambda s: VisitTableModel(s.visits), VISIT_RULES, _visit_truth,
                       ("record_no", "visit_date", "kind", "problems")),
    "problems": ListCase("problems", lambda s: ProblemTableModel(s.problems), PROBLEM_RULES, _problem_truth,
                         ("record_no", "title", "status", "enterprise", "level", "lead_unit", "registered_on",
                          "resolved_on")),
    "cadres": ListCase("cadres", lambda s: CadreTableModel(s.people, CadreFilter(include_inactive=True)),
                       CADRE_RULES, _cadre_truth, ("name", "unit", "post", "rank", "role", "active")),
    # The base model with a small page and cache, so reading the list evicts and refetches rows.
    "lazy-small-cache": ListCase(
        "lazy-small-cache",
        lambda s: LazyTableModel(enterprise_model.COLUMNS, EnterpriseSource(s.enterprises), page_size=37,
                                 cache_rows=80),
        dict(ENTERPRISE_RULES), _enterprise_truth, ("name", "uscc", "unit")),
}


def rule_of(case: ListCase, key: str, svc: Services) -> Callable:
    rule = case.rules[key]
    return unit_order(svc) if rule == "unit" else rule


def check_rows_against_services(model, case: ListCase, svc: Services, rows: list[int] | None = None) -> None:
    cols = {k: col_of(model, k) for k in case.checked}
    for r in rows if rows is not None else scattered(model.rowCount()):
        record_id = model.index(r, 0).data(OBJECT_ROLE)
        truth = case.truth(svc, record_id)
        shown = {k: model.index(r, c).data(DISPLAY) for k, c in cols.items()}
        assert shown == {k: truth[k] for k in cols}, f"{case.name} row {r} ({record_id})"


# --- The model tester -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_models_pass_the_model_tester_on_many_rows(qtmodeltester, big, case):
    model = CASES[case].make(big)
    assert model.rowCount() > PAGE_SIZE  # the list really is fetched page by page
    qtmodeltester.check(model)
    model.sort(0, DESC)
    qtmodeltester.check(model)
    model.refresh()
    qtmodeltester.check(model)


def test_cadre_enterprise_model_passes_the_model_tester(qtmodeltester, big):
    cadre = big.store.scalar("SELECT cadre_id FROM assignments WHERE deleted = 0 AND end_date IS NULL "
                             "GROUP BY cadre_id ORDER BY count(*) DESC, cadre_id LIMIT 1")
    model = CadreEnterpriseModel(big.enterprises, cadre)
    expected = big.enterprises.list_ids(EnterpriseFilter(cadre_id=cadre, include_archived=True))
    assert model.rowCount() == len(expected) > 1
    qtmodeltester.check(model)
    assert shown_ids(model) == expected
    assert column(model, 0) == [big.enterprises.get(i)["name"] + ("（已归档）" if big.enterprises.get(i)["archived"]
                                                                   else "") for i in expected]
    model.sort(1, DESC)
    qtmodeltester.check(model)


def test_work_group_model_passes_the_model_tester(qtmodeltester, big):
    model = WorkGroupTableModel(big.people.work_group_rows())
    assert model.rowCount() > 1
    qtmodeltester.check(model)
    members = col_of(model, "active_members")
    for order in (ASC, DESC):
        model.sort(members, order)
        qtmodeltester.check(model)
        natural(column(model, members, SORT_ROLE), order == DESC, f"work groups by members {order.name}")


def test_rows_are_fetched_a_page_at_a_time(big):
    model = EnterpriseTableModel(big.enterprises)
    assert model.cached_row_count() <= PAGE_SIZE
    assert model.index(0, 0).data()
    assert 0 < model.cached_row_count() <= PAGE_SIZE < model.rowCount()
    last = model.rowCount() - 1
    assert model.index(last, 0).data() == big.enterprises.get(model.id_at(last))["name"]
    assert model.cached_row_count() <= 2 * PAGE_SIZE


# --- Rows shown -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_rows_shown_are_the_records(big, case):
    model = CASES[case].make(big)
    check_rows_against_services(model, CASES[case], big)


def test_list_holds_exactly_the_records_of_its_filter(big):
    cases = [
        (EnterpriseTableModel(big.enterprises),
         {r[0] for r in big.store.query("SELECT id FROM enterprises WHERE deleted = 0 AND archived = 0")}),
        (EnterpriseTableModel(big.enterprises, EnterpriseFilter(include_archived=True)),
         {r[0] for r in big.store.query("SELECT id FROM enterprises WHERE deleted = 0")}),
        (VisitTableModel(big.visits), {r[0] for r in big.store.query("SELECT id FROM visits WHERE deleted = 0")}),
        (ProblemTableModel(big.problems), {r[0] for r in big.store.query("SELECT id FROM problems WHERE deleted = 0")}),
        (CadreTableModel(big.people), {r[0] for r in big.store.query(
            "SELECT id FROM cadres WHERE deleted = 0 AND active = 1")}),
    ]
    for model, expected in cases:
        ids = shown_ids(model)
        assert len(ids) == len(set(ids)) == len(expected), type(model).__name__
        assert set(ids) == expected, type(model).__name__


# --- Sorting ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_every_sortable_column_both_directions(big, case):
    spec = CASES[case]
    model = spec.make(big)
    everyone = sorted(shown_ids(model))
    sortable = [i for i, c in enumerate(model.columns) if c.sortable]
    assert {model.columns[i].key for i in sortable} == set(spec.rules)
    for col in sortable:
        key = model.columns[col].key
        orders = {}
        for order in (ASC, DESC):
            model.sort(col, order)
            assert model.sort_column() == col and model.sort_order() == order
            ids = shown_ids(model)
            assert sorted(ids) == everyone, f"{case}.{key}: rows lost or repeated"
            values = column(model, col, SORT_ROLE)
            rule_of(spec, key, big)(values, order == DESC, f"{case}.{key} {order.name}")
            orders[order] = values
        if spec.rules[key] in (grouped, natural) or spec.rules[key] == "unit":
            runs_up = _check_grouped([v for v in orders[ASC] if not _empty(v)], key)
            runs_down = _check_grouped([v for v in orders[DESC] if not _empty(v)], key)
            assert runs_down == runs_up[::-1], f"{case}.{key}: descending is not ascending reversed"
    # what is shown after all that sorting is still each row's own record
    check_rows_against_services(model, spec, big, rows=scattered(model.rowCount())[:60])


def test_name_sort_descending_is_ascending_reversed(big):
    model = EnterpriseTableModel(big.enterprises, EnterpriseFilter(include_archived=True))
    model.sort(enterprise_model.NAME, ASC)
    up = shown_ids(model)
    model.sort(enterprise_model.NAME, DESC)
    assert shown_ids(model) == up[::-1]
    cadres = CadreTableModel(big.people, CadreFilter(include_inactive=True))
    cadres.sort(people_model.NAME, ASC)
    up = column(cadres, people_model.NAME)
    cadres.sort(people_model.NAME, DESC)
    assert [pinyin_key(n) for n in column(cadres, people_model.NAME)] == [pinyin_key(n) for n in up[::-1]]


def test_natural_orders_before_any_sort(big):
    enterprises = EnterpriseTableModel(big.enterprises)
    assert enterprises.sort_column() == -1
    pinyin(column(enterprises, enterprise_model.NAME), False, "enterprises natural")
    visits = VisitTableModel(big.visits)
    natural(column(visits, visit_model.COL_DATE, SORT_ROLE), True, "visits natural: newest first")
    problems = ProblemTableModel(big.problems)
    natural(column(problems, problem_model.REGISTERED, SORT_ROLE), True, "problems natural: newest first")
    cadres = CadreTableModel(big.people)
    pinyin(column(cadres, people_model.NAME), False, "cadres natural")


def test_cadre_sort_keeps_ties_in_name_order(big):
    model = CadreTableModel(big.people, CadreFilter(include_inactive=True))
    model.sort(people_model.ROLE, ASC)
    roles, names = column(model, people_model.ROLE, SORT_ROLE), column(model, people_model.NAME)
    for role in set(roles):
        same = [pinyin_key(n) for r, n in zip(roles, names, strict=True) if r == role]
        assert same == sorted(same), role


@pytest.mark.parametrize("col", [enterprise_model.STATUS, enterprise_model.UNIT, enterprise_model.INDUSTRY],
                         ids=["status", "unit", "industry"])
def test_enterprise_sort_keeps_ties_in_pinyin_order(big, col):
    model = EnterpriseTableModel(big.enterprises)
    model.sort(col, ASC)
    values, names = column(model, col, SORT_ROLE), column(model, enterprise_model.NAME)
    for value in set(values):
        same = [pinyin_key(n) for v, n in zip(values, names, strict=True) if v == value]
        assert same == sorted(same), value


def test_problem_enterprise_column_sorts_by_pinyin(big):
    model = ProblemTableModel(big.problems)
    model.sort(problem_model.ENTERPRISE, ASC)
    pinyin(column(model, problem_model.ENTERPRISE), False, "problems.enterprise")


def test_selection_follows_the_record_through_a_sort(big):
    model = EnterpriseTableModel(big.enterprises)
    target = model.id_at(PAGE_SIZE + 17)
    held = QPersistentModelIndex(model.index(PAGE_SIZE + 17, enterprise_model.USCC))
    for col in (enterprise_model.USCC, enterprise_model.STATUS, enterprise_model.NAME):
        for order in (DESC, ASC):
            model.sort(col, order)
            assert held.isValid() and held.column() == enterprise_model.USCC
            assert model.id_at(held.row()) == target
            assert held.data(OBJECT_ROLE) == target
            assert held.data() == big.enterprises.get(target)["uscc"]


# --- Filtering --------------------------------------------------------------------------------------------------
def test_enterprise_filters_keep_the_sort(big):
    model = EnterpriseTableModel(big.enterprises)
    model.sort(enterprise_model.USCC, DESC)
    model.set_filter(EnterpriseFilter(text="科技"))
    assert model.sort_column() == enterprise_model.USCC and model.sort_order() == DESC
    ids = shown_ids(model)
    assert ids == big.enterprises.list_ids(EnterpriseFilter(text="科技"), "uscc", True)
    assert len(ids) > 5 and all("科技" in n for n in column(model, enterprise_model.NAME))
    natural(column(model, enterprise_model.USCC), True, "filtered uscc")

    model.set_filter(EnterpriseFilter(status="停产", unit_id="U410105"))
    assert model.rowCount() == big.enterprises.count(EnterpriseFilter(status="停产", unit_id="U410105")) > 0
    assert set(column(model, enterprise_model.STATUS)) == {"停产"}
    assert set(column(model, enterprise_model.UNIT)) == {"金水区"}

    model.set_filter(EnterpriseFilter(text="不存在的企业名称"))
    assert model.rowCount() == 0
    model.set_filter(EnterpriseFilter())
    assert model.rowCount() > PAGE_SIZE
    check_rows_against_services(model, CASES["enterprises"], big, rows=scattered(model.rowCount())[:50])


def test_enterprise_text_filter_across_pages(big):
    model = EnterpriseTableModel(big.enterprises)
    model.set_filter(EnterpriseFilter(text="有限公司"))
    assert model.rowCount() > PAGE_SIZE
    assert shown_ids(model) == big.enterprises.list_ids(EnterpriseFilter(text="有限公司"))
    names = column(model, enterprise_model.NAME)
    assert all("有限公司" in n for n in names)
    pinyin(names, False, "有限公司 by name")


def test_visit_filters(big):
    model = VisitTableModel(big.visits)
    model.sort(visit_model.COL_RECORD_NO, ASC)
    model.set_filter(VisitFilter(kind="座谈会"))
    assert model.sort_column() == visit_model.COL_RECORD_NO
    assert model.rowCount() == big.visits.count(VisitFilter(kind="座谈会")) > 0
    assert set(column(model, visit_model.COL_KIND)) == {"座谈会"}
    natural(column(model, visit_model.COL_RECORD_NO), False, "座谈会 by record_no")
    model.set_filter(VisitFilter(text="订单"))
    summaries = [big.visits.get(i)["summary"] for i in shown_ids(model)]
    assert summaries and all("订单" in s for s in summaries)
    assert model.filter.text == "订单"


def test_problem_filters(big):
    model = ProblemTableModel(big.problems)
    model.sort(problem_model.DEADLINE, ASC)
    model.set_filter(ProblemFilter(statuses=(lc.ASSIGNED, lc.IN_PROGRESS)))
    assert model.rowCount() == big.problems.count(ProblemFilter(statuses=(lc.ASSIGNED, lc.IN_PROGRESS))) > 0
    assert set(column(model, problem_model.STATUS)) <= {lc.ASSIGNED, lc.IN_PROGRESS}
    natural(column(model, problem_model.DEADLINE, SORT_ROLE), False, "handling by deadline")
    model.set_filter(ProblemFilter(text="招工"))
    assert model.rowCount() > 0
    for pid in shown_ids(model):
        p = big.problems.get(pid)
        assert "招工" in p["title"] + p["description"] + p["enterprise_name"]


def test_cadre_filters(big):
    model = CadreTableModel(big.people)
    everyone = model.rowCount()
    model.set_filter(CadreFilter(include_inactive=True))
    assert model.rowCount() > everyone
    assert "离岗" in column(model, people_model.STATUS)
    model.set_filter(CadreFilter(text="王"))
    names = column(model, people_model.NAME)
    assert names and all("王" in n for n in names)
    model.set_filter(CadreFilter(role="首席服务官", include_inactive=True))
    assert set(column(model, people_model.ROLE)) == {"首席服务官"}


# --- Edits made elsewhere, then the views' refresh ----------------------------------------------------------------
def test_enterprise_list_after_edits_elsewhere(big):
    svc = big
    model = EnterpriseTableModel(svc.enterprises)
    model.sort(enterprise_model.NAME, ASC)
    before = shown_ids(model)
    column(model, enterprise_model.NAME)  # every row fetched and cached
    deep = before[PAGE_SIZE + 5]  # on the second page
    archived, deleted = before[3], before[-2]

    new = svc.enterprises.create({"name": "阿坝新创科技有限公司", "unit_id": "U410105",
                                  "uscc": make("91410105MC0000001")}).id
    svc.enterprises.update(deep, {"name": "中牟县重新命名机械有限公司", "status": "停产"})
    svc.enterprises.set_archived(archived, True)
    with svc.ctx.writing() as w:  # a tombstone, as a sync package from another installation applies it
        w.delete("enterprises", deleted, action="删除企业")

    model.refresh()
    ids = shown_ids(model)
    assert model.sort_column() == enterprise_model.NAME and model.sort_order() == ASC
    assert set(ids) == set(before) - {archived, deleted} | {new}
    assert ids[0] == new and model.index(0, enterprise_model.NAME).data() == "阿坝新创科技有限公司"
    row = model.row_of(deep)
    assert model.index(row, enterprise_model.NAME).data() == "中牟县重新命名机械有限公司"
    assert model.index(row, enterprise_model.STATUS).data() == "停产"
    assert model.row_of(archived) is None and model.row_of(deleted) is None
    pinyin(column(model, enterprise_model.NAME), False, "after edits")

    model.set_filter(EnterpriseFilter(include_archived=True))
    assert model.index(model.row_of(archived), enterprise_model.STATUS).data().endswith("（已归档）")
    assert model.row_of(deleted) is None


def test_visit_list_after_edits_elsewhere(big):
    svc = big
    model = VisitTableModel(svc.visits)
    before = shown_ids(model)
    column(model, visit_model.COL_SUMMARY)
    old = before[PAGE_SIZE + 3]
    ent = svc.enterprises.list_ids(EnterpriseFilter())[0]
    new = svc.visits.create(VisitInput(kind="电话沟通", visit_date=today(), enterprise_ids=[ent],
                                       cadre_ids=[svc.installation.cadre_id], summary="电话回访用工需求落实情况。"))
    svc.visits.update_text(old, summary="更正后的走访情况。")
    assert model.row_of(new) is None  # nothing changes until the view refreshes
    model.refresh()
    assert shown_ids(model)[0] == new and model.rowCount() == len(before) + 1
    assert model.index(0, visit_model.COL_KIND).data() == "电话沟通"
    assert model.index(0, visit_model.COL_SUMMARY).data() == "电话回访用工需求落实情况。"
    assert model.index(model.row_of(old), visit_model.COL_SUMMARY).data() == "更正后的走访情况。"
    model.set_filter(VisitFilter(text="更正"))
    assert shown_ids(model) == [old]


def test_problem_list_after_edits_elsewhere(big):
    svc = big
    pending = ProblemFilter(statuses=(lc.PENDING,))
    model = ProblemTableModel(svc.problems, pending)
    model.sort(problem_model.RECORD_NO, DESC)
    before = shown_ids(model)
    assert before
    ent = svc.enterprises.list_ids(EnterpriseFilter())[5]
    new = svc.problems.register(ProblemInput(enterprise_id=ent, category_code="finance",
                                             description="企业希望延长贷款期限。"))
    handed = next(p for p in reversed(before) if "交办" in svc.problems.allowed_steps(p))  # not a 市级 one
    svc.problems.take_step(handed, "交办", lead_unit_id="D05")
    model.refresh()
    ids = shown_ids(model)
    assert set(ids) == set(before) - {handed} | {new}
    assert ids[0] == new  # the newest number first
    assert model.index(0, problem_model.TITLE).data() == "企业希望延长贷款期限"
    assert model.index(0, problem_model.STATUS).data() == lc.PENDING

    everything = ProblemTableModel(svc.problems)
    row = everything.row_of(handed)
    assert everything.index(row, problem_model.STATUS).data() == lc.ASSIGNED
    assert everything.index(row, problem_model.LEAD_UNIT).data() == svc.reference.unit("D05").name


def test_cadre_list_after_edits_elsewhere(big):
    svc = big
    model = CadreTableModel(svc.people)
    model.sort(people_model.NAME, ASC)
    before = shown_ids(model)
    column(model, people_model.NAME)
    leaving, renamed = before[10], before[PAGE_SIZE + 1]
    new = svc.people.add_cadre("阿依古丽", "U410105", role="服务专员")
    svc.people.update_cadre(leaving, active=False)
    svc.people.update_cadre(renamed, name="欧阳明", post="科长")
    model.refresh()
    ids = shown_ids(model)
    assert set(ids) == set(before) - {leaving} | {new}
    assert ids[0] == new and model.index(0, people_model.NAME).data() == "阿依古丽"
    row = model.row_of(renamed)
    assert (model.index(row, people_model.NAME).data(), model.index(row, people_model.POST).data()) == ("欧阳明", "科长")
    pinyin(column(model, people_model.NAME), False, "cadres after edits")


def test_a_model_read_before_a_delete_shows_no_stale_row_after_refresh(big):
    model = LazyTableModel(enterprise_model.COLUMNS, EnterpriseSource(big.enterprises), page_size=25, cache_rows=50)
    ids = shown_ids(model)
    gone = ids[120]
    with big.ctx.writing() as w:
        w.delete("enterprises", gone, action="删除企业")
    # Not yet refreshed: the row is still listed; once fetched, a vanished record shows as empty, never as another.
    shown = model.index(120, enterprise_model.NAME).data()
    assert shown in ("", big.store.scalar("SELECT name FROM enterprises WHERE id = ?", (gone,)))
    model.refresh()
    assert model.row_of(gone) is None and model.rowCount() == len(ids) - 1
    check_rows_against_services(model, CASES["lazy-small-cache"], big, rows=list(range(100, 140)))


def test_main_window_lists_follow_data_changed(qtbot, big, ui_settings, tasks):
    """The main window refreshes the page on screen at once and the others when next shown (ui/main_window.py)."""
    from ui.main_window import MainWindow

    window = MainWindow(big, ui_settings, tasks)
    qtbot.addWidget(window)
    pages = {key: window.show_page(key) for key in ("visits", "problems", "people", "enterprises")}
    ents = pages["enterprises"].model
    archived = ents.id_at(PAGE_SIZE + 2)
    new = big.enterprises.create({"name": "阿坝数据服务有限公司", "unit_id": "U410105",
                                  "uscc": make("91410105MC0000002")}).id
    big.enterprises.set_archived(archived, True)
    cadre = big.people.add_cadre("阿布都", "U410105")
    ent = big.enterprises.list_ids(EnterpriseFilter())[1]
    visit = big.visits.create(VisitInput(kind="实地走访", visit_date=today(), enterprise_ids=[ent],
                                         cadre_ids=[big.installation.cadre_id], summary="现场查看安全生产。"))
    problem = big.problems.register(ProblemInput(enterprise_id=ent, category_code="labour",
                                                 description="企业急需焊工。"))
    assert pages["problems"].model.row_of(problem) is None
    window.bus.data_changed.emit()

    assert ents.row_of(new) is not None and ents.row_of(archived) is None
    assert ents.index(ents.row_of(new), enterprise_model.NAME).data() == "阿坝数据服务有限公司"
    problems = pages["problems"].model  # the 问题 page listens to data_changed itself
    assert problems.index(problems.row_of(problem), problem_model.TITLE).data() == "企业急需焊工"
    for key, record in (("visits", visit), ("people", cadre)):
        view = window.show_page(key)
        assert view.model.row_of(record) is not None, key
