"""StatsTableModel: a breakdown (one row per unit/category/...) with a totals row that adds up to the headline."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.stats import truncated_percent
from ui.models.lazy_table import OBJECT_ROLE, SORT_ROLE

# (key, header) of the columns a breakdown shows; None values print as "—".
COLUMNS = (
    ("label", "项目"),
    ("enterprises_covered", "包联企业"),
    ("enterprise_visits", "走访家次"),
    ("symposia", "座谈会"),
    ("problems_collected", "收集问题"),
    ("problems_solved", "已解决"),
    ("solve_rate", "解决率"),
    ("overdue", "逾期"),
    ("missed_deadline", "超期办理"),
    ("avg_workdays_to_solve", "平均用时(工作日)"),
    ("satisfaction_rate", "满意率"),
)
ADDITIVE = ("enterprises_covered", "enterprise_visits", "symposia", "problems_collected", "problems_solved",
            "overdue", "missed_deadline")


class StatsTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []
        self._total: dict | None = None

    def set_rows(self, rows: list[dict], headline: dict | None) -> None:
        """Rows of StatsService.breakdown plus a 合计 row built from the headline (same 口径)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._total = None
        if rows and headline is not None:
            total = {"key": None, "label": "合计", **headline}
            total["solve_rate"] = truncated_percent(headline["problems_solved"], headline["problems_collected"])
            self._total = total
        self.endResetModel()

    def rows(self) -> list[dict]:
        return list(self._rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return len(self._rows) + (1 if self._total else 0)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def _row(self, r: int) -> dict:
        return self._rows[r] if r < len(self._rows) else self._total  # type: ignore[return-value]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._row(index.row())
        key = COLUMNS[index.column()][0]
        value = row.get(key)
        if role == Qt.ItemDataRole.DisplayRole:
            return "—" if value is None else str(value)
        if role == SORT_ROLE:
            return value
        if role == OBJECT_ROLE:
            return row.get("key")
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row is self._total:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None
