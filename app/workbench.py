"""工作台: what a cadre needs to see on opening the app — my enterprises, this month, what is late."""

from __future__ import annotations

from dataclasses import dataclass

from app.context import Context
from app.enterprises import EnterpriseFilter, EnterpriseService
from app.problems import ProblemFilter, ProblemService
from app.visits import VisitService

NOT_VISITED_DAYS = 30
DUE_SOON_WORKDAYS = 3


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    hint: str


class WorkbenchService:
    def __init__(self, ctx: Context, enterprises: EnterpriseService, problems: ProblemService, visits: VisitService):
        self.ctx = ctx
        self.enterprises = enterprises
        self.problems = problems
        self.visits = visits

    def scope_cadre(self) -> str | None:
        """A station shows the operator's own 包联 work; hubs (no operator cadre) see everything."""
        inst = self.ctx.installation
        return inst.cadre_id if inst.role == "station" else None

    def enterprise_filter(self, key: str, *, not_visited_days: int = NOT_VISITED_DAYS) -> EnterpriseFilter:
        cadre = self.scope_cadre()
        if key == "my_enterprises":
            return EnterpriseFilter(cadre_id=cadre)
        if key == "not_visited":
            return EnterpriseFilter(cadre_id=cadre, not_visited_days=not_visited_days, status=None)
        raise KeyError(key)

    def problem_filter(self, key: str, *, due_within: int = DUE_SOON_WORKDAYS) -> ProblemFilter:
        cadre = self.scope_cadre()
        if key == "in_progress":
            return ProblemFilter(statuses=("待交办", "已交办", "办理中"), cadre_id=cadre)
        if key == "overdue":
            return ProblemFilter(overdue=True, cadre_id=cadre)
        if key == "due_soon":
            return ProblemFilter(due_within=due_within, cadre_id=cadre)
        raise KeyError(key)

    def tiles(self, *, not_visited_days: int = NOT_VISITED_DAYS, due_within: int = DUE_SOON_WORKDAYS) -> list[Tile]:
        cadre = self.scope_cadre()
        mine = "我包联的" if cadre else "全部"
        return [
            Tile("my_enterprises", "包联企业", self.enterprises.count(self.enterprise_filter("my_enterprises")),
                 f"{mine}在册企业"),
            Tile("visits_month", "本月走访", self.visits.this_month_count(cadre), "本月走访记录（含座谈会）"),
            Tile("in_progress", "办理中问题", self.problems.count(self.problem_filter("in_progress")),
                 "待交办、已交办、办理中"),
            Tile("overdue", "逾期问题", self.problems.count(self.problem_filter("overdue")), "超过办理时限仍未办结"),
            Tile("due_soon", "即将到期", self.problems.count(self.problem_filter("due_soon", due_within=due_within)),
                 f"{due_within} 个工作日内到期"),
            Tile("not_visited", f"{not_visited_days}天未走访",
                 self.enterprises.count(self.enterprise_filter("not_visited", not_visited_days=not_visited_days)),
                 f"超过 {not_visited_days} 天未走访的包联企业"),
        ]
