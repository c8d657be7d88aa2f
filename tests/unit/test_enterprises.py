"""Enterprises: USCC checks and normalisation, duplicates, validation, filters, search, 包联 history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.clock import today
from app.enterprises import EnterpriseFilter
from app.errors import DuplicateError, NotFoundError, ValidationError
from app.problems import ProblemFilter
from tests.unit.conftest import JINSHUI, ZHONGYUAN, make_uscc

REAL = "914403001922038216"  # a real USCC (Shenzhen region code: warns, does not refuse, in 金水区)


def _create(svc, **data):
    base = {"uscc": make_uscc(900), "name": "郑州测试机械有限公司", "unit_id": JINSHUI}
    return svc.enterprises.create({**base, **data})


@pytest.mark.parametrize(("raw", "stored"), [
    ("９１４４０３００１９２２０３８２１６", "914403001922038216"),
    ("91440300708461136t", "91440300708461136T"),
    (" 9144 0300 7084 6113 6T ", "91440300708461136T"),
    ("91350100m000100y43", "91350100M000100Y43"),
])
def test_uscc_normalised_on_create(svc, raw, stored):
    res = _create(svc, uscc=raw)
    assert svc.enterprises.get(res.id)["uscc"] == stored
    assert svc.enterprises.by_uscc(raw)["id"] == res.id


def test_region_mismatch_only_warns(svc):
    res = _create(svc, uscc=REAL)
    assert any("行政区划" in w for w in res.warnings)
    assert svc.enterprises.get(res.id)["uscc"] == REAL
    local = _create(svc, uscc=make_uscc(1, "410105"))
    assert all("行政区划" not in w for w in local.warnings)


def test_duplicate_uscc_refused_naming_existing(svc):
    first = _create(svc, uscc=REAL, name="深圳样例科技有限公司")
    before = svc.store.scalar("SELECT count(*) FROM enterprises")
    with pytest.raises(DuplicateError) as err:
        _create(svc, uscc="９１４４０３００１９２２０３８２１６", name="另一家公司", unit_id=ZHONGYUAN)
    e = err.value
    assert e.field == "uscc" and e.existing_id == first.id
    assert "深圳样例科技有限公司" in e.message and "金水区" in e.message and REAL in e.message
    assert svc.store.scalar("SELECT count(*) FROM enterprises") == before
    # editing the enterprise itself keeps its own USCC; editing another one onto it is refused
    svc.enterprises.update(first.id, {"uscc": REAL.lower(), "address": "新地址"})
    other = _create(svc, uscc=make_uscc(5))
    with pytest.raises(DuplicateError):
        svc.enterprises.update(other.id, {"uscc": REAL})


@pytest.mark.parametrize("bad", ["914403001922038217", "91440300192203821", "", "   ", "9144030019220382I6"])
def test_invalid_uscc_refused(svc, bad):
    with pytest.raises(ValidationError) as err:
        _create(svc, uscc=bad)
    assert err.value.field == "uscc"
    assert svc.store.scalar("SELECT count(*) FROM enterprises") == 0


@pytest.mark.parametrize(("data", "field", "word"), [
    ({"name": ""}, "name", "企业名称"),
    ({"name": "   "}, "name", "企业名称"),
    ({"name": "甲"}, "name", "企业名称"),
    ({"unit_id": None}, "unit_id", "区县"),
    ({"unit_id": "U999999"}, "unit_id", "区县"),
    ({"contact_phone": "abc"}, "contact_phone", "联系电话"),
    ({"contact_phone": "12"}, "contact_phone", "联系电话"),
    ({"scale": "巨型"}, "scale", "企业规模"),
    ({"status": "倒闭"}, "status", "经营状态"),
])
def test_validation_names_the_field(svc, data, field, word):
    with pytest.raises(ValidationError) as err:
        _create(svc, **data)
    assert err.value.field == field and word in err.value.message


@pytest.mark.parametrize("phone", ["13812345678", "0371-67891234", "0371 6789 1234", "+8613812345678"])
def test_phone_accepted(svc, phone):
    res = _create(svc, contact_phone=phone)
    assert svc.enterprises.get(res.id)["contact_phone"] == phone


def test_update_and_archive(svc, world):
    ent = world.enterprise("郑州老名字有限公司", tags=["专精特新"])
    svc.enterprises.update(ent, {"name": "郑州新名字有限公司", "tags": ["专精特新", "高新技术企业"], "scale": "中型"})
    e = svc.enterprises.get(ent)
    assert e["name"] == "郑州新名字有限公司" and e["tag_list"] == ["专精特新", "高新技术企业"] and e["scale"] == "中型"
    assert e["uscc"] == make_uscc(1)  # untouched fields kept
    assert svc.enterprises.list_ids(EnterpriseFilter(text="新名字")) == [ent]
    assert svc.enterprises.list_ids(EnterpriseFilter(text="老名字")) == []
    with pytest.raises(ValidationError):
        svc.enterprises.update(ent, {"name": ""})
    svc.enterprises.set_archived(ent, True)
    assert ent not in svc.enterprises.list_ids(EnterpriseFilter())
    assert ent in svc.enterprises.list_ids(EnterpriseFilter(include_archived=True))
    svc.enterprises.set_archived(ent, False)
    assert ent in svc.enterprises.list_ids(EnterpriseFilter())
    svc.enterprises.set_status(ent, "停产")
    assert svc.enterprises.get(ent)["status"] == "停产"
    with pytest.raises(ValidationError):
        svc.enterprises.set_status(ent, "倒闭")
    with pytest.raises(NotFoundError):
        svc.enterprises.get("no-such-id")
    actions = [h["action"] for h in svc.enterprises.history(ent)]
    assert {"新建企业", "修改企业信息", "归档企业", "取消归档企业", "更新企业经营状态"} <= set(actions)


def test_filters(svc, world):
    a = world.enterprise("甲科技有限公司", tags=["专精特新", "三高企业"])
    b = world.enterprise("乙机械有限公司", tags=["高新技术企业"], status="停产")
    c = world.enterprise("丙食品有限公司", unit_id=ZHONGYUAN)
    d = world.enterprise("丁物流有限公司")
    ids = svc.enterprises.list_ids
    assert set(ids(EnterpriseFilter(unit_id=JINSHUI))) == {a, b, d}
    assert ids(EnterpriseFilter(unit_id=ZHONGYUAN)) == [c]
    assert ids(EnterpriseFilter(tag="专精特新")) == [a]
    assert ids(EnterpriseFilter(tag="专精")) == []  # a tag matches whole, not by substring
    assert ids(EnterpriseFilter(status="停产")) == [b]
    assert svc.enterprises.count(EnterpriseFilter(unit_id=JINSHUI)) == 3
    svc.people.assign(world.me, a, start_date="2026-01-05")
    ended = svc.people.assign(world.me, b, start_date="2026-01-05")
    svc.people.end_assignment(ended, "2026-02-01")
    assert ids(EnterpriseFilter(cadre_id=world.me)) == [a]  # only current 包联
    t = today()
    world.visit([a], visit_date=(t - timedelta(days=5)).isoformat())
    world.visit([b], visit_date=(t - timedelta(days=45)).isoformat())
    assert set(ids(EnterpriseFilter(not_visited_days=30))) == {b, c, d}  # b visited too long ago, c/d never
    assert set(ids(EnterpriseFilter(not_visited_days=60))) == {c, d}
    assert ids(EnterpriseFilter(not_visited_days=30, cadre_id=world.me)) == []
    rows = svc.enterprises.rows([a, b])
    assert rows[a]["days_since_visit"] == 5 and rows[b]["days_since_visit"] == 45
    assert rows[a]["cadres"] == "张三" and rows[b]["cadres"] is None


def test_search(svc, world):
    yutong = world.enterprise("郑州宇通客车股份有限公司")
    other = world.enterprise("郑州通宇化工有限公司")  # same characters, other order: no 宇通 bigram
    third = world.enterprise("河南中原用具有限公司", address="工业路8号")
    assert svc.enterprises.list_ids(EnterpriseFilter(text="宇通")) == [yutong]
    assert [r["id"] for r in svc.enterprises.search("宇通")] == [yutong]
    assert svc.enterprises.list_ids(EnterpriseFilter(text="宇通客车")) == [yutong]
    assert svc.enterprises.list_ids(EnterpriseFilter(text="zzyt")) == [yutong]  # pinyin initials
    assert svc.enterprises.list_ids(EnterpriseFilter(text="ZZYT")) == [yutong]
    assert set(svc.enterprises.list_ids(EnterpriseFilter(text="郑州"))) == {yutong, other}
    assert svc.enterprises.list_ids(EnterpriseFilter(text="宇")) and third not in svc.enterprises.list_ids(
        EnterpriseFilter(text="宇"))
    prefix = make_uscc(1)[:10]
    assert yutong in svc.enterprises.list_ids(EnterpriseFilter(text=prefix))
    assert svc.enterprises.list_ids(EnterpriseFilter(text=make_uscc(2).lower())) == [other]
    assert svc.enterprises.list_ids(EnterpriseFilter(text="不存在的企业")) == []


def test_search_full_width_uscc(svc, world):
    ent = world.enterprise("郑州宇通客车股份有限公司")
    full = "".join(chr(ord(c) + 0xFEE0) for c in make_uscc(1))  # ９１４１… as typed with a full-width IME
    assert svc.enterprises.list_ids(EnterpriseFilter(text=full)) == [ent]


def test_problem_search_finds_two_character_words(svc, world):
    ent = world.enterprise("郑州宇通客车股份有限公司")
    hit = world.problem(ent, description="企业用工缺口约200人，希望协助招聘。", category="labour")
    miss = world.problem(ent, description="工人用餐不便，食堂场地不足。", category="other")
    fin = world.problem(ent, description="希望对接银行解决融资问题。", category="finance")
    search = svc.problems.list_ids
    assert search(ProblemFilter(text="用工")) == [hit]
    assert search(ProblemFilter(text="融资")) == [fin]
    assert set(search(ProblemFilter(text="宇通"))) == {hit, miss, fin}  # enterprise name is indexed too
    assert search(ProblemFilter(text="用工 招聘")) == [hit]
    assert search(ProblemFilter(text="用工 融资")) == []


def test_assignment_history(svc, world):
    ent = world.enterprise()
    li = world.cadre("李四")
    first = svc.people.assign(world.me, ent, start_date="2026-01-05", role="包联干部")
    with pytest.raises(ValidationError) as err:
        svc.people.assign(world.me, ent, start_date="2026-02-01")
    assert err.value.field == "cadre_id"
    svc.people.assign(li, ent, start_date="2026-01-10")  # a second cadre may 包联 the same enterprise
    with pytest.raises(ValidationError) as err:
        svc.people.end_assignment(first, "2026-01-01")  # before its start
    assert err.value.field == "end_date"
    svc.people.end_assignment(first, "2026-03-31", note="岗位调整")
    with pytest.raises(ValidationError):
        svc.people.end_assignment(first, "2026-04-01")  # already ended
    history = svc.people.assignments_of_enterprise(ent)
    ended = [a for a in history if a["id"] == first]
    assert len(ended) == 1 and ended[0]["end_date"] == "2026-03-31" and ended[0]["note"] == "岗位调整"
    current = svc.people.assignments_of_enterprise(ent, history=False)
    assert [a["cadre_name"] for a in current] == ["李四"]
    assert ent not in svc.people.enterprises_of_cadre(world.me)
    again = svc.people.assign(world.me, ent, start_date="2026-04-01")  # re-assign after the end is allowed
    assert again != first
    history = svc.people.assignments_of_enterprise(ent)
    assert len(history) == 3 and {a["id"] for a in history} >= {first, again}
    assert ent in svc.people.enterprises_of_cadre(world.me)
    assert {h["action"] for h in svc.enterprises.history(ent)} >= {"建立包联关系", "结束包联关系"}
    with pytest.raises(NotFoundError):
        svc.people.assign(world.me, "no-such-enterprise", start_date="2026-01-05")
