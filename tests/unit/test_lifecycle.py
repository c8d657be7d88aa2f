"""The problem workflow (DESIGN §3): the transition table, and the steps as the service records them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import lifecycle as lc
from app.errors import TransitionError, ValidationError
from app.problems import STATE_FIELDS, ProblemInput
from app.services import Services
from tests.unit.conftest import GONGXIN, JINSHUI, RENSHE, World, copy_template

ALL_STEPS = ("交办", "接收", "进展", "延期", "催办", "督办", "上报", "办结", "回访", "销号", "重办")
HANDLING_STEPS = {"进展", "延期", "催办", "督办", "上报", "办结"}

# The expected workflow, written out by hand from DESIGN §3 (not derived from app.lifecycle):
# (status, satisfaction, level) -> allowed step kinds.
EXPECTED: dict[tuple[str, str | None, str], set[str]] = {
    ("待交办", None, "区县级"): {"交办", "上报"},
    ("待交办", None, "市级"): {"交办", "上报"},
    ("待交办", None, "省级"): {"交办"},
    ("已交办", None, "区县级"): {"接收"} | HANDLING_STEPS,
    ("已交办", None, "省级"): {"接收"} | HANDLING_STEPS - {"上报"},
    ("办理中", None, "区县级"): set(HANDLING_STEPS),
    ("办理中", None, "省级"): HANDLING_STEPS - {"上报"},
    ("已办结", None, "区县级"): {"回访", "重办"},
    ("已回访", "满意", "区县级"): {"销号"},
    ("已回访", "基本满意", "区县级"): {"销号"},
    ("已回访", "不满意", "区县级"): {"重办"},
    ("已销号", "满意", "区县级"): set(),
}


def _state(status, satisfaction, level) -> dict:
    return {**lc.new_state("2025-03-03", level), "status": status, "satisfaction": satisfaction}


def test_table_covers_every_status_and_step():
    assert set(lc.STATUSES) == {k[0] for k in EXPECTED}
    assert set(lc.STEPS) == set(ALL_STEPS)


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: "-".join(str(p) for p in k))
def test_allowed_steps_match_table(key):
    state = _state(*key)
    assert set(lc.allowed_steps(state)) == EXPECTED[key]
    assert list(lc.allowed_steps(state)) == [k for k in ALL_STEPS if k in EXPECTED[key]]  # workflow order


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: "-".join(str(p) for p in k))
@pytest.mark.parametrize("kind", ALL_STEPS)
def test_each_transition_allowed_or_refused(key, kind):
    state = _state(*key)
    status = key[0]
    if kind in EXPECTED[key]:
        assert lc.check_allowed(state, kind).kind == kind
        return
    with pytest.raises(TransitionError) as err:
        lc.check_allowed(state, kind)
    msg = err.value.message
    assert set(err.value.allowed) == EXPECTED[key]
    for allowed in EXPECTED[key]:
        assert f"{allowed}" in msg.split("可进行的操作：")[-1]
    if kind == "销号" and key[1] == "不满意":
        assert "不满意" in msg and "重办" in msg
    elif kind == "上报" and key[2] == "省级":
        assert "省级" in msg
    else:
        assert f"“{status}”" in msg and kind in msg


def test_unknown_step_refused():
    with pytest.raises(TransitionError):
        lc.check_allowed(_state("待交办", None, "区县级"), "作废")


# ---------------------------------------------------------------- through the service

def _events(svc, pid) -> list[dict]:
    return [dict(r) for r in svc.store.query(
        "SELECT kind, on_date, from_status, to_status, note, data FROM problem_events WHERE problem_id = ? "
        "ORDER BY on_date, at", (pid,))]


def _status(svc, pid) -> str:
    return svc.problems.get(pid)["status"]


def test_happy_path(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    assert _status(svc, pid) == "待交办"
    world.assign(pid, "2025-03-04", assist_unit_ids=[GONGXIN, RENSHE])
    p = svc.problems.get(pid)
    assert p["status"] == "已交办" and p["lead_unit_id"] == RENSHE and p["lead_unit_name"] == "市人社局"
    assert p["assist_unit_names"] == ["市工信局"]  # the lead unit is not also an assisting unit
    world.step(pid, "接收", "2025-03-05")
    assert _status(svc, pid) == "办理中"
    world.step(pid, "进展", "2025-03-06", note="已联系人社局组织专场招聘会。")
    assert svc.problems.get(pid)["first_progress_on"] == "2025-03-06"
    world.resolve(pid, "2025-03-10")
    p = svc.problems.get(pid)
    assert (p["status"], p["outcome"], p["resolved_on"]) == ("已办结", "已解决", "2025-03-10")
    world.revisit(pid, "2025-03-11")
    assert _status(svc, pid) == "已回访"
    world.step(pid, "销号", "2025-03-12")
    p = svc.problems.get(pid)
    assert p["status"] == "已销号" and p["closed_on"] == "2025-03-12"
    assert svc.problems.allowed_steps(pid) == []
    assert [e["kind"] for e in _events(svc, pid)] == ["登记", "交办", "接收", "进展", "办结", "回访", "销号"]
    with pytest.raises(TransitionError):
        world.step(pid, "进展", "2025-03-13", note="再次进展")


def test_unsatisfied_revisit_reopens(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    world.assign(pid, "2025-03-04")
    first = svc.problems.get(pid)
    world.resolve(pid, "2025-03-07", outcome="已解释说明", note="已向企业解释政策。")
    world.revisit(pid, "2025-03-10", verdict="不满意", method="上门")
    with pytest.raises(TransitionError) as err:
        world.step(pid, "销号", "2025-03-10")
    assert "重办" in err.value.allowed and "销号" not in err.value.allowed
    with pytest.raises(ValidationError) as verr:
        world.step(pid, "重办", "2025-03-11")  # a reason is required
    assert verr.value.field == "note"
    world.step(pid, "重办", "2025-03-11", note="企业不认可解释，重新办理。")
    p = svc.problems.get(pid)
    assert p["status"] == "已交办" and p["reopen_count"] == 1
    assert p["outcome"] is None and p["satisfaction"] is None and p["resolved_on"] is None
    assert p["assigned_on"] == "2025-03-11"
    assert p["deadline"] == "2025-03-20" and p["deadline"] != first["deadline"]  # 7 working days from 03-11
    assert p["original_deadline"] == first["original_deadline"] == "2025-03-13"
    # a second round: resolved again, unsatisfied again, redone again
    world.resolve(pid, "2025-03-14")
    world.revisit(pid, "2025-03-17", verdict="不满意")
    world.step(pid, "重办", "2025-03-18", note="企业仍不认可。")
    p = svc.problems.get(pid)
    assert (p["status"], p["reopen_count"]) == ("已交办", 2)
    assert [e["kind"] for e in _events(svc, pid)].count("重办") == 2


def test_escalation_hands_the_problem_to_the_hub_above(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    with pytest.raises(ValidationError) as err:
        world.step(pid, "上报", "2025-03-04", level="市级")  # needs a reason
    assert err.value.field == "note"
    with pytest.raises(ValidationError) as err:
        world.step(pid, "上报", "2025-03-04", level="区县级", note="需市级协调")
    assert err.value.field == "level"
    world.step(pid, "上报", "2025-03-04", level="市级", note="涉及市级审批权限。")
    p = svc.problems.get(pid)
    assert (p["level"], p["status"]) == ("市级", "待交办")
    # The station no longer handles it: the city hub does, and the outcome comes back by sync.
    assert svc.problems.allowed_steps(pid) == []
    with pytest.raises(TransitionError) as err:
        world.assign(pid, "2025-03-05")
    assert "上级汇总端" in err.value.message and "交办" in err.value.message


def test_city_hub_handles_city_level_then_escalates_to_province(tmp_path):
    city = Services.open(tmp_path / "city.db")
    city.initialise(role="city", unit_name="郑州市", operator="市助企办")
    ent = city.enterprises.create({"uscc": "914403001922038216", "name": "郑州测试企业有限公司",
                                   "unit_id": JINSHUI}).id
    pid = city.problems.register(ProblemInput(ent, "land", "工业用地指标不足。", level="市级",
                                              registered_on="2025-03-03"))
    city.problems.take_step(pid, "交办", on_date="2025-03-04", lead_unit_id=RENSHE)
    city.problems.take_step(pid, "上报", on_date="2025-03-06", level="省级", note="需省级协调。")
    p = city.problems.get(pid)
    assert (p["level"], p["status"], p["lead_unit_id"], p["deadline"]) == ("省级", "待交办", None, None)
    assert "交办" in city.problems.allowed_steps(pid)  # the city tracks 省级 problems itself
    with pytest.raises(TransitionError):
        city.problems.take_step(pid, "上报", on_date="2025-03-07", level="省级", note="再上报")
    assert [(e["from_status"], e["to_status"]) for e in _events(city, pid) if e["kind"] == "上报"] == [
        ("已交办", "待交办")]
    city.close()


def test_extension_keeps_original_deadline(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    world.assign(pid, "2025-03-03")
    d = svc.problems.get(pid)["deadline"]
    assert d == "2025-03-12"
    bad = [
        ({"deadline": "2025-03-22", "note": "需要更多时间"}, "approver"),
        ({"deadline": "2025-03-22", "approver": "王局长"}, "note"),
        ({"deadline": "2025-03-12", "approver": "王局长", "note": "理由"}, "deadline"),
        ({"deadline": "2025-03-10", "approver": "王局长", "note": "理由"}, "deadline"),
        ({"approver": "王局长", "note": "理由"}, "deadline"),
    ]
    for form, field in bad:
        with pytest.raises(ValidationError) as err:
            world.step(pid, "延期", "2025-03-05", **form)
        assert err.value.field == field, form
    assert svc.problems.get(pid)["deadline"] == d
    world.step(pid, "延期", "2025-03-05", note="涉及跨部门审批。", deadline="2025-03-22", approver="王局长")
    p = svc.problems.get(pid)
    assert (p["deadline"], p["original_deadline"], p["status"]) == ("2025-03-22", d, "已交办")
    ev = _events(svc, pid)[-1]
    assert ev["kind"] == "延期" and (ev["from_status"], ev["to_status"]) == ("已交办", "已交办")
    assert json.loads(ev["data"]) == {"deadline": "2025-03-22", "approver": "王局长", "previous_deadline": d}


def test_resolve_requires_outcome_and_note(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    world.assign(pid, "2025-03-04")
    with pytest.raises(ValidationError) as err:
        world.step(pid, "办结", "2025-03-05", note="已办理")
    assert err.value.field == "outcome"
    with pytest.raises(ValidationError) as err:
        world.step(pid, "办结", "2025-03-05", note="已办理", outcome="差不多")
    assert err.value.field == "outcome"
    with pytest.raises(ValidationError) as err:
        world.step(pid, "办结", "2025-03-05", note="  ", outcome="已解决")
    assert err.value.field == "note"
    with pytest.raises(ValidationError) as err:
        world.step(pid, "进展", "2025-03-05")
    assert err.value.field == "note"
    assert _status(svc, pid) == "已交办"


def test_revisit_requires_method_and_verdict(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    world.assign(pid, "2025-03-04")
    world.resolve(pid, "2025-03-05")
    for form, field in (({"verdict": "满意"}, "method"), ({"method": "电话"}, "verdict"),
                        ({"method": "微信", "verdict": "满意"}, "method")):
        with pytest.raises(ValidationError) as err:
            world.step(pid, "回访", "2025-03-06", **form)
        assert err.value.field == field
    assert _status(svc, pid) == "已办结"


def test_assign_requires_existing_lead_unit(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    for lead in (None, "", "no-such-unit"):
        with pytest.raises(ValidationError) as err:
            world.step(pid, "交办", "2025-03-04", lead_unit_id=lead)
        assert err.value.field == "lead_unit_id"
    assert _status(svc, pid) == "待交办"


def test_event_dates_in_order_and_not_future(svc, world):
    from app.clock import today

    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    with pytest.raises(ValidationError) as err:
        world.assign(pid, "2025-03-02")  # before the 登记 event
    assert err.value.field == "on_date"
    world.assign(pid, "2025-03-10")
    with pytest.raises(ValidationError) as err:
        world.step(pid, "接收", "2025-03-09")
    assert err.value.field == "on_date"
    with pytest.raises(ValidationError) as err:
        world.step(pid, "接收", (today() + timedelta(days=1)).isoformat())
    assert err.value.field == "on_date"
    with pytest.raises(ValidationError):
        world.step(pid, "接收", "2025-02-30")
    world.step(pid, "接收", "2025-03-10")  # same day as the last event is fine
    assert _status(svc, pid) == "办理中"
    assert len(_events(svc, pid)) == 3


def test_registration_date_not_in_future(svc, world):
    from app.clock import today

    with pytest.raises(ValidationError) as err:
        world.problem(world.enterprise(), registered_on=(today() + timedelta(days=1)).isoformat())
    assert err.value.field == "registered_on"


def test_each_step_writes_exactly_one_event(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    plan = [
        ("交办", {"lead_unit_id": RENSHE}, "待交办", "已交办"),
        ("催办", {}, "已交办", "已交办"),
        ("接收", {}, "已交办", "办理中"),
        ("督办", {"reply_by": "2025-03-20"}, "办理中", "办理中"),
        ("进展", {"note": "正在协调"}, "办理中", "办理中"),
        ("办结", {"outcome": "长期推进", "note": "纳入长期推进事项"}, "办理中", "已办结"),
        ("重办", {"note": "结果不实"}, "已办结", "已交办"),
        ("办结", {"outcome": "已解决", "note": "已解决"}, "已交办", "已办结"),
        ("回访", {"method": "书面", "verdict": "基本满意"}, "已办结", "已回访"),
        ("销号", {}, "已回访", "已销号"),
    ]
    day = date(2025, 3, 4)
    for kind, form, frm, to in plan:
        n = len(_events(svc, pid))
        world.step(pid, kind, day.isoformat(), **form)
        events = _events(svc, pid)
        assert len(events) == n + 1
        assert (events[-1]["kind"], events[-1]["from_status"], events[-1]["to_status"]) == (kind, frm, to)
        assert events[-1]["on_date"] == day.isoformat()
        day += timedelta(days=1)
    p = svc.problems.get(pid)
    assert (p["urge_count"], p["supervise_count"], p["reopen_count"]) == (1, 1, 1)
    assert {k: p[k] for k in STATE_FIELDS} == svc.problems.replayed_state(pid)


# ---------------------------------------------------------------- cache == replay, for random walks

@pytest.fixture(scope="module")
def walk_world(template_db, tmp_path_factory):
    s = Services.open(copy_template(template_db, tmp_path_factory.mktemp("walk")))
    yield World(s)  # one world for all examples, so enterprise numbers (and USCCs) never repeat
    s.close()


def _form(kind: str, p: dict, day: date, draw) -> dict:
    if kind == "交办":
        explicit = draw(st.booleans())
        form = {"lead_unit_id": draw(st.sampled_from([RENSHE, GONGXIN, "U410105"])),
                "assist_unit_ids": draw(st.lists(st.sampled_from([RENSHE, GONGXIN, "D01"]), max_size=2))}
        if explicit:
            form["deadline"] = (day + timedelta(days=draw(st.integers(0, 40)))).isoformat()
        return form
    if kind == "进展":
        return {"note": "进展情况"}
    if kind == "延期":
        cur = date.fromisoformat(p["deadline"])
        return {"deadline": (cur + timedelta(days=draw(st.integers(1, 20)))).isoformat(), "approver": "王局长",
                "note": "延期理由"}
    if kind == "督办":
        return {"reply_by": (day + timedelta(days=draw(st.integers(0, 5)))).isoformat()}
    if kind == "上报":
        higher = lc.LEVELS[lc.LEVELS.index(p["level"]) + 1:]
        return {"level": draw(st.sampled_from(higher)), "note": "需上级协调"}
    if kind == "办结":
        return {"outcome": draw(st.sampled_from(lc.OUTCOMES)), "note": "办理结果"}
    if kind == "回访":
        return {"method": draw(st.sampled_from(lc.REVISIT_METHODS)), "verdict": draw(st.sampled_from(lc.VERDICTS))}
    if kind == "重办":
        return {"note": "重新办理"}
    return {}


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_cached_row_equals_replay_for_random_walks(walk_world, data):
    world = walk_world
    walk_svc = world.svc
    pid = world.problem(world.enterprise(), registered_on="2024-06-03",
                        severity=data.draw(st.sampled_from(["一般", "重大"])),
                        level=data.draw(st.sampled_from(["区县级", "市级"])))
    day = date(2024, 6, 3)
    for _ in range(data.draw(st.integers(1, 14))):
        allowed = walk_svc.problems.allowed_steps(pid)
        if not allowed:
            break
        kind = data.draw(st.sampled_from(allowed))
        day += timedelta(days=data.draw(st.integers(0, 6)))
        before = walk_svc.problems.get(pid)
        n = walk_svc.store.scalar("SELECT count(*) FROM problem_events WHERE problem_id = ?", (pid,))
        form = _form(kind, before, day, data.draw)
        note = form.pop("note", "")
        walk_svc.problems.take_step(pid, kind, on_date=day.isoformat(), note=note, **form)
        after = walk_svc.problems.get(pid)
        assert walk_svc.store.scalar("SELECT count(*) FROM problem_events WHERE problem_id = ?", (pid,)) == n + 1
        assert {k: after[k] for k in STATE_FIELDS} == walk_svc.problems.replayed_state(pid)
        expected_status = lc.STEPS[kind].to_status or before["status"]
        assert after["status"] == expected_status
        if after["original_deadline"]:
            assert before["original_deadline"] in (None, after["original_deadline"])  # set once, never moved
