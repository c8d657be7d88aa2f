"""The problem workflow of DESIGN §3 as data and pure functions: which step is allowed, and what it changes.

A problem's status, deadlines and outcome are a fold over its events (`replay`); the problems row
caches that fold so lists and statistics need no replay. `apply_step` is the single rule both the
service and the replay use, so the cache and the log cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.errors import TransitionError

# Statuses in workflow order.
PENDING, ASSIGNED, IN_PROGRESS, RESOLVED, REVISITED, CLOSED = "待交办", "已交办", "办理中", "已办结", "已回访", "已销号"
STATUSES = (PENDING, ASSIGNED, IN_PROGRESS, RESOLVED, REVISITED, CLOSED)
HANDLING = frozenset({ASSIGNED, IN_PROGRESS})  # with a responsible unit and a running deadline
UNRESOLVED = frozenset({PENDING, ASSIGNED, IN_PROGRESS})
DONE = frozenset({RESOLVED, REVISITED, CLOSED})  # 办结 reached (counts for solve statistics)

OUTCOMES = ("已解决", "已解释说明", "长期推进")
SOLVED_OUTCOME = "已解决"
LEVELS = ("区县级", "市级", "省级")
SEVERITIES = ("一般", "重大")
REVISIT_METHODS = ("电话", "上门", "书面")
VERDICTS = ("满意", "基本满意", "不满意")
UNSATISFIED = "不满意"

REGISTER = "登记"


@dataclass(frozen=True)
class Step:
    kind: str
    label: str  # button text
    from_statuses: frozenset[str]
    to_status: str | None  # None: status unchanged
    hint: str  # what the step is for, shown in its form


STEPS: dict[str, Step] = {
    s.kind: s
    for s in (
        Step("交办", "交办", frozenset({PENDING}), ASSIGNED, "指定牵头单位、协办单位和办理时限"),
        Step("接收", "接收", frozenset({ASSIGNED}), IN_PROGRESS, "责任单位确认接收，开始办理"),
        Step("进展", "登记进展", frozenset({ASSIGNED, IN_PROGRESS}), IN_PROGRESS, "记录办理进展"),
        Step("延期", "延期", frozenset({ASSIGNED, IN_PROGRESS}), None, "经批准延长办理时限，原时限保留用于统计"),
        Step("催办", "催办", frozenset({ASSIGNED, IN_PROGRESS}), None, "提醒责任单位加快办理"),
        Step("督办", "督办", frozenset({ASSIGNED, IN_PROGRESS}), None, "对逾期问题发督办单，限期回复"),
        Step("上报", "上报", frozenset({PENDING, ASSIGNED, IN_PROGRESS}), PENDING, "提级至上一级协调解决"),
        Step("办结", "办结", frozenset({ASSIGNED, IN_PROGRESS}), RESOLVED, "填写办理结果"),
        Step("回访", "回访", frozenset({RESOLVED}), REVISITED, "向企业核实办理结果和满意度"),
        Step("销号", "销号", frozenset({REVISITED}), CLOSED, "企业认可后销号归档"),
        Step("重办", "重办", frozenset({RESOLVED, REVISITED}), ASSIGNED, "企业不满意或结果不实，重新交办"),
    )
}
STEP_ORDER = tuple(STEPS)


def allowed_steps(state: Mapping) -> list[str]:
    """Step kinds allowed from a problem's current state, in workflow order."""
    status = state["status"]
    out = []
    for kind, step in STEPS.items():
        if status not in step.from_statuses:
            continue
        if kind == "销号" and state.get("satisfaction") == UNSATISFIED:
            continue  # an unsatisfied enterprise's problem is redone, never closed
        if kind == "重办" and status == REVISITED and state.get("satisfaction") != UNSATISFIED:
            continue
        if kind == "上报" and state.get("level") == LEVELS[-1]:
            continue
        out.append(kind)
    return out


def check_allowed(state: Mapping, kind: str) -> Step:
    if kind not in STEPS:
        raise TransitionError(f"未知的办理环节“{kind}”。")
    allowed = allowed_steps(state)
    if kind in allowed:
        return STEPS[kind]
    status = state["status"]
    if kind == "销号" and status == REVISITED:
        reason = "企业回访结果为“不满意”，须先重办"
    elif kind == "上报" and state.get("level") == LEVELS[-1]:
        reason = "问题已是省级，不能再上报"
    else:
        reason = f"当前状态为“{status}”，不能进行“{kind}”"
    if allowed:
        hint = "可进行的操作：" + "、".join(allowed) + "。"
    else:
        hint = "该问题已销号，不能再办理。" if status == CLOSED else "当前没有可进行的操作。"
    raise TransitionError(f"{reason}。{hint}", allowed=tuple(allowed))


def new_state(registered_on: str, level: str = LEVELS[0]) -> dict:
    return {
        "status": PENDING, "level": level, "registered_on": registered_on, "lead_unit_id": None,
        "assist_unit_ids": "[]", "template_id": None, "assigned_on": None, "original_deadline": None,
        "deadline": None, "first_progress_on": None, "resolved_on": None, "outcome": None, "outcome_note": None,
        "satisfaction": None, "closed_on": None, "reopen_count": 0, "urge_count": 0, "supervise_count": 0,
    }


def apply_step(state: Mapping, kind: str, on_date: str, data: Mapping, note: str = "") -> dict:
    """The problem state after a step taken on `on_date` (data holds what the step's form gave)."""
    s = dict(state)
    step = STEPS[kind]
    if step.to_status:
        s["status"] = step.to_status
    if kind == "交办":
        s["lead_unit_id"] = data["lead_unit_id"]
        s["assist_unit_ids"] = json.dumps(list(data.get("assist_unit_ids", [])), ensure_ascii=False)
        s["template_id"] = data.get("template_id")
        s["assigned_on"] = on_date
        s["deadline"] = data["deadline"]
        # The first deadline ever set stays the yardstick: a missed deadline stays missed.
        s["original_deadline"] = s["original_deadline"] or data["deadline"]
    elif kind in ("接收", "进展"):
        if kind == "进展" and not s["first_progress_on"]:
            s["first_progress_on"] = on_date
    elif kind == "延期":
        s["deadline"] = data["deadline"]
    elif kind == "催办":
        s["urge_count"] = s["urge_count"] + 1
    elif kind == "督办":
        s["supervise_count"] = s["supervise_count"] + 1
    elif kind == "上报":
        s["level"] = data["level"]
        s["lead_unit_id"] = None
        s["assist_unit_ids"] = "[]"
        s["deadline"] = None
    elif kind == "办结":
        s["resolved_on"] = on_date
        s["outcome"] = data["outcome"]
        s["outcome_note"] = note
    elif kind == "回访":
        s["satisfaction"] = data["verdict"]
    elif kind == "销号":
        s["closed_on"] = on_date
    elif kind == "重办":
        s["reopen_count"] = s["reopen_count"] + 1
        s["resolved_on"] = None
        s["outcome"] = None
        s["outcome_note"] = None
        s["satisfaction"] = None
        s["deadline"] = data["deadline"]
        s["assigned_on"] = on_date
    return s


def replay(events: Iterable[Mapping], level: str = LEVELS[0]) -> dict:
    """Fold a problem's events (登记 first, in time order) into its state."""
    state: dict | None = None
    for ev in events:
        data = ev["data"]
        if isinstance(data, str):
            data = json.loads(data or "{}")
        if ev["kind"] == REGISTER:
            state = new_state(ev["on_date"], data.get("level", level))
            continue
        if state is None:
            raise ValueError("problem events must start with 登记")
        state = apply_step(state, ev["kind"], ev["on_date"], data, ev.get("note") or "")
    if state is None:
        raise ValueError("no events")
    return state
