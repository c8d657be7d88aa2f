"""EnterpriseTableModel: the enterprise list (SQL-sorted, lazily fetched) for the enterprises view."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.enterprises import EnterpriseFilter, EnterpriseService
from app.privacy import mask_name, mask_phone
from ui.models.lazy_table import Column, LazyTableModel

NAME, USCC, UNIT, STATUS, INDUSTRY, TAGS, CADRES, LAST_VISIT, OPEN_PROBLEMS, CONTACT, PHONE = range(11)

_CENTER = Qt.AlignmentFlag.AlignCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

COLUMNS = (
    Column("name", "企业名称", width=220),  # the view gives it the width the others leave
    Column("uscc", "统一社会信用代码", width=156),
    Column("unit", "所属单位", width=78),
    Column("status", "经营状态", align=_CENTER, width=70),
    Column("industry", "行业", width=80),
    Column("tags", "标签", width=86, sortable=False),
    Column("cadres", "包联干部", width=66),
    Column("last_visit", "最近走访", width=158),
    Column("open_problems", "未办结问题", align=_RIGHT, width=76),
    Column("contact_name", "联系人", width=50, sortable=False),
    Column("contact_phone", "联系电话", width=102, sortable=False),
)

STATUS_COLOURS = {"停产": QColor("#b26a00"), "失联": QColor("#c62828"), "注销": QColor("#7b8794")}
ARCHIVED_COLOUR = QColor("#9aa5b1")
NOT_VISITED_BACKGROUND = QColor("#fff6e0")
NOT_VISITED_DAYS_DEFAULT = 30


def plain_tip(text: str | None, limit: int = 500) -> str | None:
    """A tooltip showing user text literally (Qt would render text that looks like HTML as markup)."""
    if not text:
        return None
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "…"
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


class EnterpriseSource:
    """RowSource over EnterpriseService for one EnterpriseFilter."""

    def __init__(self, service: EnterpriseService, enterprise_filter: EnterpriseFilter | None = None):
        self.service = service
        self.filter = enterprise_filter or EnterpriseFilter()

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        return self.service.list_ids(self.filter, sort_key or "name", descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.service.rows(ids)


def last_visit_text(last_visit: str | None, days: int | None) -> str:
    """ "2026-03-02（12天前）", "2026-03-14（今天）" or "从未走访"."""
    if not last_visit:
        return "从未走访"
    if days is None:
        return last_visit[:10]
    ago = "今天" if days <= 0 else f"{days}天前"
    return f"{last_visit[:10]}（{ago}）"


class EnterpriseTableModel(LazyTableModel):
    """Columns 企业名称 … 联系电话; personal data masked; status coloured; long-unvisited rows tinted."""

    def __init__(
        self,
        service: EnterpriseService,
        enterprise_filter: EnterpriseFilter | None = None,
        parent: Any = None,
        *,
        not_visited_days: int = NOT_VISITED_DAYS_DEFAULT,
    ):
        super().__init__(COLUMNS, EnterpriseSource(service, enterprise_filter), parent)
        self.not_visited_days = not_visited_days

    # --- Filter ---------------------------------------------------------------------------------
    @property
    def filter(self) -> EnterpriseFilter:
        """A copy of the filter being shown."""
        return replace(self.source.filter)  # type: ignore[attr-defined]

    def set_filter(self, enterprise_filter: EnterpriseFilter) -> None:
        """Show the enterprises matching `enterprise_filter`, keeping the sort order."""
        self.set_source(EnterpriseSource(self.source.service, replace(enterprise_filter)))  # type: ignore[attr-defined]

    def set_not_visited_days(self, days: int) -> None:
        """Threshold (days) from which a row is tinted as not visited."""
        if days != self.not_visited_days:
            self.not_visited_days = days
            if self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def is_not_visited(self, row: dict[str, Any]) -> bool:
        days = row.get("days_since_visit")
        return bool(row) and (days is None or days >= self.not_visited_days)

    # --- Hooks ----------------------------------------------------------------------------------
    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if not row:
            return ""
        if key == "last_visit":
            return last_visit_text(value, row.get("days_since_visit"))
        if key == "contact_name":
            return mask_name(value)
        if key == "contact_phone":
            return mask_phone(value)
        if key == "status" and row.get("archived"):
            return f"{value or ''}（已归档）"
        if key == "open_problems":
            return str(value or 0)
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return ARCHIVED_COLOUR if row.get("archived") else None

    def background(self, row: dict[str, Any]) -> QColor | None:
        if row.get("archived") or not self.is_not_visited(row):
            return None
        return NOT_VISITED_BACKGROUND

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if not row:
            return None
        if key == "last_visit" and self.is_not_visited(row):
            days = row.get("days_since_visit")
            return "从未走访" if days is None else f"已 {days} 天未走访"
        if key in ("name", "tags", "cadres", "industry", "unit"):
            return plain_tip(row.get(key))
        if key == "contact_name" and row.get("contact_name"):
            return "在详情中点击“显示”查看完整联系人"
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and index.column() == STATUS
            and 0 <= index.row() < self.rowCount()
        ):
            row = self.row_dict(index.row())
            if not row.get("archived") and row.get("status") in STATUS_COLOURS:
                return STATUS_COLOURS[row["status"]]
        return super().data(index, role)
