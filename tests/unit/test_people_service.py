"""PeopleService for the 干部 page: cadre list ids (search, filters, sort) and rows, work-group edits."""

from __future__ import annotations

from datetime import date

import pytest

from app.clock import today
from app.errors import NotFoundError, ValidationError
from app.people import NO_GROUP
from tests.unit.conftest import CITY, JINSHUI, ZHONGYUAN, table_counts


@pytest.fixture
def people(svc):
    return svc.people


@pytest.fixture
def staff(world, people):
    """金水区: 两个工作组, four cadres (one 离岗); 中原区: one cadre. The operator 张三 is in no group."""
    g1 = people.add_work_group("第一工作组", JINSHUI)
    g2 = people.add_work_group("第二工作组", JINSHUI)
    ids = {
        "wang": people.add_cadre(
            "王磊", JINSHUI, role="首席服务官", rank="县处级", post="副区长", phone="13812345678", work_group_id=g1
        ),
        "li": people.add_cadre("李娜", JINSHUI, role="服务专员", rank="科级", work_group_id=g1),
        "zhao": people.add_cadre("赵敏", JINSHUI, role="金牌店小二", rank="一般干部", work_group_id=g2),
        "old": people.add_cadre("钱老", JINSHUI, work_group_id=g2),
        "zy": people.add_cadre("孙强", ZHONGYUAN, post="科长"),
    }
    people.update_cadre(ids["old"], active=False)
    return {**ids, "g1": g1, "g2": g2, "me": world.me}


def _names(people, ids) -> list[str]:
    rows = people.cadre_rows(ids)
    return [rows[i]["name"] for i in ids]


def test_filters_and_inactive(people, staff):
    assert set(_names(people, people.cadre_ids())) == {"王磊", "李娜", "赵敏", "孙强", "张三"}
    assert "钱老" in _names(people, people.cadre_ids(include_inactive=True))
    assert set(_names(people, people.cadre_ids(unit_id=ZHONGYUAN))) == {"孙强"}
    assert _names(people, people.cadre_ids(work_group_id=staff["g1"])) == ["李娜", "王磊"]
    assert set(_names(people, people.cadre_ids(work_group_id=NO_GROUP))) == {"孙强", "张三"}
    assert _names(people, people.cadre_ids(role="金牌店小二")) == ["赵敏"]
    assert people.cadre_ids(unit_id=CITY) == []


def test_search_name_initials_post_and_phone(people, staff):
    assert _names(people, people.cadre_ids("王")) == ["王磊"]
    assert _names(people, people.cadre_ids("wl")) == ["王磊"]
    assert _names(people, people.cadre_ids("WL")) == ["王磊"]  # case and NFKC-normalised
    assert _names(people, people.cadre_ids("ＷＬ")) == ["王磊"]
    assert _names(people, people.cadre_ids("副区长")) == ["王磊"]
    assert _names(people, people.cadre_ids("5678")) == ["王磊"]
    assert people.cadre_ids("56") == []  # too few digits to search phones
    assert people.cadre_ids("钱") == []  # 离岗 hidden unless asked for
    assert _names(people, people.cadre_ids("钱", include_inactive=True)) == ["钱老"]
    assert people.cadre_ids("x'; DROP TABLE cadres; --") == []


def test_sorting(people, staff):
    by_name = _names(people, people.cadre_ids())
    assert by_name == ["李娜", "孙强", "王磊", "赵敏", "张三"]  # pinyin initials: ln, sq, wl, zm, zs
    assert _names(people, people.cadre_ids(descending=True)) == list(reversed(by_name))
    by_rank = _names(people, people.cadre_ids(sort_key="rank"))
    assert by_rank[:3] == ["王磊", "李娜", "赵敏"]  # 县处级, 科级, 一般干部, then no rank
    assert _names(people, people.cadre_ids(sort_key="rank", descending=True))[:3] == ["赵敏", "李娜", "王磊"]
    by_role = _names(people, people.cadre_ids(sort_key="role"))
    assert by_role[:3] == ["王磊", "赵敏", "李娜"]  # 首席服务官, 金牌店小二, 服务专员 (ROLES order)
    groups = _names(people, people.cadre_ids(sort_key="work_group"))
    assert groups[-2:] == ["孙强", "张三"]  # no group sorts last
    by_unit = _names(people, people.cadre_ids(sort_key="unit"))
    assert by_unit[0] == "孙强"  # 中原区 comes before 金水区 in the reference order
    actives = _names(people, people.cadre_ids(include_inactive=True, sort_key="active"))
    assert actives[-1] == "钱老"
    for key in ("post", "assignments", "visits_year", "unknown"):
        assert len(people.cadre_ids(sort_key=key)) == 5


def test_rows_count_current_assignments_and_this_years_visits(world, people, staff):
    e1, e2 = world.enterprise(), world.enterprise()
    a1 = people.assign(staff["wang"], e1, start_date="2025-01-02")
    people.assign(staff["wang"], e2, start_date="2025-01-02")
    people.end_assignment(a1, end_date="2025-06-30")
    this_year = today().replace(month=1, day=2)
    if this_year > today():  # pragma: no cover - only on 1 January
        this_year = today()
    world.visit([e2], visit_date=this_year.isoformat(), cadre_ids=[staff["wang"], staff["li"]])
    world.visit([e1, e2], visit_date=date(today().year - 1, 5, 5).isoformat(), cadre_ids=[staff["wang"]])
    rows = people.cadre_rows([staff["wang"], staff["li"], staff["old"], "missing"])
    wang = rows[staff["wang"]]
    assert (wang["assignments"], wang["visits_year"]) == (1, 1)
    assert (wang["unit"], wang["work_group"], wang["role"], wang["rank"]) == (
        "金水区",
        "第一工作组",
        "首席服务官",
        "县处级",
    )
    assert wang["phone"] == "13812345678" and wang["active"] is True and wang["is_leader"] is False
    assert (rows[staff["li"]]["assignments"], rows[staff["li"]]["visits_year"]) == (0, 1)
    assert rows[staff["old"]]["active"] is False
    assert "missing" not in rows
    assert people.cadre_rows([]) == {}
    order = people.cadre_ids(sort_key="assignments", descending=True)
    assert order[0] == staff["wang"]


def test_cadre_units(people, staff):
    assert people.cadre_units() == [ZHONGYUAN, JINSHUI]


def test_update_work_group(people, staff, svc):
    g1 = staff["g1"]
    people.update_work_group(g1, name="  金水区第一助企组 ", note="负责北片区")
    group = people.work_group(g1)
    assert (group["name"], group["note"], group["leader_cadre_id"]) == ("金水区第一助企组", "负责北片区", None)
    people.update_work_group(g1, leader_cadre_id=staff["wang"])
    assert people.work_group(g1)["leader_name"] == "王磊"
    assert people.cadre_rows([staff["wang"]])[staff["wang"]]["is_leader"] is True
    people.update_work_group(g1, note="")  # the leader is kept when not given
    assert people.work_group(g1)["leader_cadre_id"] == staff["wang"]
    people.update_work_group(g1, name="金水区第一助企组")  # no change: nothing written
    people.update_work_group(g1, leader_cadre_id=None)
    assert people.work_group(g1)["leader_cadre_id"] is None
    audit = svc.store.scalar("SELECT count(*) FROM audit_log WHERE action = '修改工作组'")
    assert audit == 4
    rows = {r["id"]: r for r in people.work_group_rows()}
    assert (rows[g1]["members"], rows[g1]["active_members"]) == (2, 2)
    assert (rows[staff["g2"]]["members"], rows[staff["g2"]]["active_members"]) == (2, 1)


def test_update_work_group_rejects_bad_input_and_saves_nothing(people, staff, svc):
    g1, g2 = staff["g1"], staff["g2"]
    before = table_counts(svc.store)
    cases = [
        (dict(name=" "), "name"),
        (dict(name="第二工作组"), "name"),
        (dict(leader_cadre_id=staff["zy"]), "leader_cadre_id"),  # 中原区 cadre
        (dict(leader_cadre_id="nobody"), "leader_cadre_id"),
        (dict(unit_id=ZHONGYUAN), "unit_id"),  # has members
        (dict(unit_id="U000000"), "unit_id"),
        (dict(note="长" * 501), "note"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as err:
            people.update_work_group(g1, **kwargs)
        assert err.value.field == field, kwargs
    assert table_counts(svc.store) == before
    with pytest.raises(NotFoundError):
        people.update_work_group("nope", name="x")
    people.update_work_group(g2, name="第二工作组")  # its own name is not a duplicate
    empty = people.add_work_group("空组", JINSHUI)
    people.update_work_group(empty, unit_id=ZHONGYUAN, leader_cadre_id=staff["zy"])
    assert people.work_group(empty)["unit_name"] == "中原区"
