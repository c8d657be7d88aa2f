"""工作台: what a cadre needs to see on opening the app — my enterprises, this month, what is late."""

from __future__ import annotations

from dataclasses import dataclass

from app.context import Context
from app.enterprises import EnterpriseFilter, EnterpriseService
from app.problems import ProblemFilter, ProblemService
from app.visits import VisitFilter, VisitService

NOT_VISITED_DAYS = 30
DUE_SOON_WORKDAYS = 3


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    hint: str


@dataclass(frozen=True)
class Overview:
    tiles: list[Tile]
    overdue: list[str]  # problem ids, earliest deadline first
    due_soon: list[str]  # problem ids, earliest deadline first
    not_visited: list[str]  # enterprise ids, longest without a visit first
    recent_visits: list[str]  # visit ids, newest first


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

    def overview(self, *, not_visited_days: int = NOT_VISITED_DAYS, due_within: int = DUE_SOON_WORKDAYS,
                 recent: int = 8) -> Overview:
        """Everything the 工作台 shows, each figure queried once: a tile whose list is shown anyway (逾期, 即将到期,
        久未走访) counts that list instead of asking the database a second time."""
        cadre = self.scope_cadre()
        mine = "我包联的" if cadre else "全部"
        overdue = self.problems.list_ids(self.problem_filter("overdue"), "deadline", False)
        due_soon = self.problems.list_ids(self.problem_filter("due_soon", due_within=due_within), "deadline", False)
        not_visited = self.enterprises.list_ids(
            self.enterprise_filter("not_visited", not_visited_days=not_visited_days), "last_visit")
        recent_visits = self.visits.list_ids(VisitFilter(cadre_id=cadre), "visit_date", True, limit=recent) if recent else []
        tiles = [
            Tile("my_enterprises", tile_label("my_enterprises"),
                 self.enterprises.count(self.enterprise_filter("my_enterprises")), f"{mine}在册企业"),
            Tile("visits_month", tile_label("visits_month"), self.visits.this_month_count(cadre), "本月走访记录（含座谈会）"),
            Tile("in_progress", tile_label("in_progress"), self.problems.count(self.problem_filter("in_progress")),
                 "待交办、已交办、办理中"),
            Tile("overdue", tile_label("overdue"), len(overdue), "超过办理时限仍未办结"),
            Tile("due_soon", tile_label("due_soon"), len(due_soon), f"{due_within} 个工作日内到期"),
            Tile("not_visited", tile_label("not_visited", not_visited_days), len(not_visited),
                 f"超过 {not_visited_days} 天未走访的包联企业"),
        ]
        return Overview(tiles, overdue, due_soon, not_visited, recent_visits)


TILE_KEYS = ("my_enterprises", "visits_month", "in_progress", "overdue", "due_soon", "not_visited")


def tile_label(key: str, not_visited_days: int = NOT_VISITED_DAYS) -> str:
    """The caption of a 工作台 tile (also the title of the list it opens)."""
    if key == "not_visited":
        return f"{not_visited_days}天未走访"
    return {"my_enterprises": "包联企业", "visits_month": "本月走访", "in_progress": "办理中问题",
            "overdue": "逾期问题", "due_soon": "即将到期"}[key]
