"""ProblemTableModel: the 问题台账 list (ids sorted in SQL, rows fetched lazily), with overdue / due-soon colours."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app import lifecycle as lc
from app.problems import ProblemFilter, ProblemService
from ui.models.lazy_table import Column, LazyTableModel

CENTER = Qt.AlignmentFlag.AlignCenter

RECORD_NO, TITLE, STATUS, DEADLINE, ENTERPRISE, CATEGORY, LEVEL, LEAD_UNIT, REGISTERED, RESOLVED, OUTCOME = range(11)
COLUMNS = (
    Column("record_no", "编号", width=140),
    Column("title", "问题", width=200),
    Column("status", "状态", width=62, align=CENTER),
    Column("deadline", "办理时限", width=215),
    Column("enterprise", "企业", width=170),
    Column("category", "类别", width=80),
    Column("level", "层级", width=60, align=CENTER),
    Column("lead_unit", "牵头单位", width=110),
    Column("registered_on", "登记日期", width=92, align=CENTER),
    Column("resolved_on", "办结日期", width=92, align=CENTER),
    Column("outcome", "办理结果", width=86, sortable=False),
)

OVERDUE_TEXT = QColor("#c62828")
OVERDUE_BACK = QColor("#fdecea")
DUE_SOON_TEXT = QColor("#a15c00")
DUE_SOON_BACK = QColor("#fff4e0")
CLOSED_TEXT = QColor("#8a94a0")


def deadline_text(row: dict[str, Any]) -> str:
    """ "2026-12-01（逾期3个工作日）" / "（剩2个工作日）" / "（今日到期）"; "" before 交办."""
    deadline = row.get("deadline")
    if not deadline:
        return ""
    if row.get("overdue"):
        n = row.get("overdue_workdays") or 0
        return f"{deadline}（逾期{n}个工作日）" if n else f"{deadline}（已逾期）"
    left = row.get("workdays_left")
    if left is not None:
        return f"{deadline}（剩{left}个工作日）" if left else f"{deadline}（今日到期）"
    if row.get("missed_deadline") and row.get("status") in lc.DONE:
        return f"{deadline}（超期办结）"
    return deadline


def missed_text(row: dict[str, Any]) -> str | None:
    """The marker for a problem that missed its first deadline (kept even after an extension or 办结)."""
    if not row.get("missed_deadline"):
        return None
    return f"超期办理（原时限 {row.get('original_deadline') or row.get('deadline')}）"


class ProblemSource:
    """RowSource over ProblemService for one filter; natural order is newest registration first."""

    def __init__(self, problems: ProblemService, problem_filter: ProblemFilter):
        self.problems = problems
        self.filter = problem_filter

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        if sort_key is None:
            return self.problems.list_ids(self.filter, "registered_on", True)
        return self.problems.list_ids(self.filter, sort_key, descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.problems.rows(ids)


class ProblemTableModel(LazyTableModel):
    """Problems of a filter; overdue rows light red, due within `due_soon` working days amber, 已销号 grey."""

    def __init__(
        self,
        problems: ProblemService,
        problem_filter: ProblemFilter | None = None,
        parent: Any = None,
        *,
        due_soon: int = 3,
        sort_column: int = -1,
        sort_order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
    ):
        self.problems = problems
        self.due_soon = due_soon
        super().__init__(COLUMNS, ProblemSource(problems, problem_filter or ProblemFilter()), parent,
                         sort_column=sort_column, sort_order=sort_order)

    def set_filter(self, problem_filter: ProblemFilter) -> None:
        self.set_source(ProblemSource(self.problems, problem_filter))

    @property
    def filter(self) -> ProblemFilter:
        return self.source.filter  # type: ignore[attr-defined]

    # --- hooks ---------------------------------------------------------------------------------------
    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "deadline":
            return deadline_text(row)
        return super().display(key, value, row)

    def _due_soon(self, row: dict[str, Any]) -> bool:
        left = row.get("workdays_left")
        return left is not None and left <= self.due_soon

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        if row.get("status") == lc.CLOSED:
            return CLOSED_TEXT
        return None

    def background(self, row: dict[str, Any]) -> QColor | None:
        if row.get("overdue"):
            return OVERDUE_BACK
        if self._due_soon(row):
            return DUE_SOON_BACK
        return None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if not row:
            return None
        lines = []
        if key == "title":
            lines.append(row.get("title") or "")
        if row.get("overdue"):
            lines.append(f"已逾期 {row.get('overdue_workdays') or 0} 个工作日，请催办或督办")
        elif self._due_soon(row):
            lines.append(f"距办理时限还剩 {row.get('workdays_left')} 个工作日")
        missed = missed_text(row)
        if missed:
            lines.append(missed)
        if key == "deadline" and (row.get("urge_count") or row.get("supervise_count")):
            lines.append(f"催办 {row.get('urge_count') or 0} 次，督办 {row.get('supervise_count') or 0} 次")
        text = "\n".join(line for line in lines if line)
        return text or None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The deadline cell gets its own text colour; the rest of the row uses the row hooks.
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.column() == DEADLINE:
            row = self.row_dict(index.row())
            if row.get("status") != lc.CLOSED:
                if row.get("overdue"):
                    return OVERDUE_TEXT
                if self._due_soon(row):
                    return DUE_SOON_TEXT
        return super().data(index, role)
