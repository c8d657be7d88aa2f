"""VisitTableModel: the 走访记录 list (lazy, sorted in SQL) over VisitService with a settable VisitFilter."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt

from app.visits import VisitFilter, VisitService
from ui.models.lazy_table import Column, LazyTableModel

NAMES_SHOWN = 1
TOOLTIP_CHARS = 400

COLUMNS = (
    Column("record_no", "记录编号", width=140),
    Column("visit_date", "日期", width=92),
    Column("kind", "方式", width=72),
    Column("enterprises", "走访企业", width=250),  # sorts by the number of enterprises
    Column("cadre_names", "参加干部", width=96, sortable=False),
    Column("problems", "问题数", align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, width=56),
    Column("summary_head", "走访情况", sortable=False),
)
COL_RECORD_NO, COL_DATE, COL_KIND, COL_ENTERPRISES, COL_CADRES, COL_PROBLEMS, COL_SUMMARY = range(len(COLUMNS))


def enterprise_names(names: str | None, count: int | None) -> str:
    """'甲' for one enterprise, '甲等3家' when more took part (the full list is the cell's tooltip)."""
    parts = [n for n in (names or "").split("、") if n]
    count = count or len(parts)
    if count <= NAMES_SHOWN:
        return "、".join(parts)
    return f"{'、'.join(parts[:NAMES_SHOWN])}等{count}家"


def plain_tooltip(text: str | None) -> str | None:
    """User text as a tooltip that Qt can never take for rich text (tooltips auto-detect HTML)."""
    if not text:
        return None
    if len(text) > TOOLTIP_CHARS:
        text = text[:TOOLTIP_CHARS] + "…"
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


class VisitSource:
    """RowSource over VisitService for one filter; newest visits first by default."""

    def __init__(self, visits: VisitService, visit_filter: VisitFilter | None = None):
        self.visits = visits
        self.filter = replace(visit_filter) if visit_filter is not None else VisitFilter()

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        if sort_key is None:
            return self.visits.list_ids(self.filter, "visit_date", True)
        return self.visits.list_ids(self.filter, sort_key, descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.visits.rows(ids)


class VisitTableModel(LazyTableModel):
    """Columns 记录编号, 日期, 方式, 走访企业, 参加干部, 问题数, 走访情况; `set_filter` re-queries."""

    def __init__(self, visits: VisitService, visit_filter: VisitFilter | None = None, parent: QObject | None = None,
                 *, sort_column: int = -1, sort_order: Qt.SortOrder = Qt.SortOrder.AscendingOrder):
        super().__init__(COLUMNS, VisitSource(visits, visit_filter), parent, sort_column=sort_column,
                         sort_order=sort_order)
        self._visits = visits

    @property
    def filter(self) -> VisitFilter:
        """A copy of the filter in force."""
        return replace(self.source.filter)  # type: ignore[attr-defined]

    def set_filter(self, visit_filter: VisitFilter) -> None:
        self.set_source(VisitSource(self._visits, visit_filter))

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "enterprises":
            return enterprise_names(row.get("enterprise_names"), value)
        return super().display(key, value, row)

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "enterprises" and (row.get("enterprises") or 0) > NAMES_SHOWN:
            return plain_tooltip(row.get("enterprise_names"))
        if key == "summary_head":
            return plain_tooltip(row.get("summary"))
        return None
