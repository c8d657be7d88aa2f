"""RosterPreviewModel: the rows of a roster import's preview (行号, 结果, 名称, 说明) for the 导入名单 dialog.

The preview's RowPlans stay in one list; the model shows them through a list of indices, so filtering (全部 / 新增 /
… / 有提示) and sorting 50,000 rows rebuild one list of ints and never copy the rows.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from app.roster.plan import ACTIONS, RowPlan
from ui.models.enterprise_model import plain_tip
from ui.models.lazy_table import OBJECT_ROLE, SORT_ROLE, Column

AnyIndex = QModelIndex | QPersistentModelIndex

ROW, ACTION, LABEL, MESSAGES = range(4)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
COLUMNS = (
    Column("row", "行号", align=_RIGHT, width=64),
    Column("action", "结果", align=_CENTER, width=76),
    Column("label", "名称", width=280),
    Column("messages", "说明"),
)

WARNINGS = "warnings"  # the 有提示 filter: rows that are imported but carry a warning
FILTERS = (("全部", None), ("新增", "new"), ("更新", "update"), ("无变化", "unchanged"), ("错误", "error"),
           ("有提示", WARNINGS))

# Subtle colours: the 结果 word says it in colour, the row's background only for rows that need a look.
ACTION_COLOURS = {"new": QColor("#2e7d32"), "update": QColor("#1f5fa8"), "unchanged": QColor("#7b8794"),
                  "error": QColor("#c62828")}
ERROR_BACKGROUND = QColor("#fdeeee")
WARNING_BACKGROUND = QColor("#fff5df")
NEW_BACKGROUND = QColor("#f1f8f1")
_ORDER = {"error": 0, "new": 1, "update": 2, "unchanged": 3}


def messages_text(plan: RowPlan) -> str:
    return "；".join(plan.messages)


def matches(plan: RowPlan, key: str | None) -> bool:
    """Whether the row passes the filter `key` (None: every row; WARNINGS: rows with a warning, not errors)."""
    if key is None:
        return True
    if key == WARNINGS:
        return bool(plan.warnings) and not plan.errors
    return plan.action == key


class RosterPreviewModel(QAbstractTableModel):
    """Read-only list of a Preview's RowPlans with a filter; ObjectRole is the Excel row number."""

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.columns = COLUMNS
        self._plans: list[RowPlan] = []
        self._shown: list[int] = []  # indices into _plans, in display order
        self._filter: str | None = None
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)
        self._bold = QFont()
        self._bold.setBold(True)

    # --- API ---------------------------------------------------------------------------------------
    def set_plans(self, plans: list[RowPlan]) -> None:
        """Show these rows (the filter and sort stay)."""
        self.beginResetModel()
        self._plans = list(plans)
        self._shown = self._order(self._filtered())
        self.endResetModel()

    def set_filter(self, key: str | None) -> None:
        if key == self._filter:
            return
        self.beginResetModel()
        self._filter = key
        self._shown = self._order(self._filtered())
        self.endResetModel()

    def filter_key(self) -> str | None:
        return self._filter

    def plan_at(self, row: int) -> RowPlan | None:
        return self._plans[self._shown[row]] if 0 <= row < len(self._shown) else None

    def plans(self) -> list[RowPlan]:
        """The rows shown, in display order."""
        return [self._plans[i] for i in self._shown]

    def total(self) -> int:
        return len(self._plans)

    def sort_column(self) -> int:
        return self._sort[0]

    def sort_order(self) -> Qt.SortOrder:
        return self._sort[1]

    # --- Qt interface ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section].header
            return None
        return super().headerData(section, orientation, role)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._shown)):
            return None
        plan = self._plans[self._shown[index.row()]]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ROW:
                return str(plan.row)
            if column == ACTION:
                return ACTIONS.get(plan.action, plan.action)
            if column == LABEL:
                return plan.label
            if column == MESSAGES:
                return messages_text(plan)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return ACTION_COLOURS.get(plan.action) if column == ACTION else None
        if role == Qt.ItemDataRole.BackgroundRole:
            if plan.errors:
                return ERROR_BACKGROUND
            if plan.warnings:
                return WARNING_BACKGROUND
            return NEW_BACKGROUND if plan.action == "new" else None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold if column == ACTION and plan.action == "error" else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return COLUMNS[column].align
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (MESSAGES, LABEL) and (plan.messages or plan.label):
                lines = [f"第 {plan.row} 行　{plan.label}".rstrip()] + plan.messages
                return plain_tip("\n".join(lines), limit=2000)
            return None
        if role == SORT_ROLE:
            return self._sort_value(plan, column)
        if role == OBJECT_ROLE:
            return plan.row
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_rows = [self._shown[i.row()] if 0 <= i.row() < len(self._shown) else None for i in old]
        self._sort = (column, order)
        self._shown = self._order(self._shown)
        positions = {plan_index: pos for pos, plan_index in enumerate(self._shown)}
        new = [QModelIndex() if r is None else self.index(positions[r], i.column()) for i, r in zip(old, old_rows,
                                                                                                      strict=True)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # --- helpers -----------------------------------------------------------------------------------
    def _filtered(self) -> list[int]:
        key = self._filter
        if key is None:
            return list(range(len(self._plans)))
        return [i for i, p in enumerate(self._plans) if matches(p, key)]

    def _order(self, indices: list[int]) -> list[int]:
        column, order = self._sort
        plans = self._plans
        if column < 0:
            return sorted(indices)  # the file's order
        # The row number breaks ties, so equal cells keep the file's order.
        keyed = sorted(indices, key=lambda i: (self._sort_value(plans[i], column), plans[i].row))
        if order == Qt.SortOrder.DescendingOrder:
            keyed.reverse()
        return keyed

    @staticmethod
    def _sort_value(plan: RowPlan, column: int) -> Any:
        if column == ROW:
            return plan.row
        if column == ACTION:
            return _ORDER.get(plan.action, 9)
        if column == LABEL:
            return plan.label
        return messages_text(plan)
