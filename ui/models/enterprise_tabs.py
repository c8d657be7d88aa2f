"""Table models for the enterprise detail tabs: 走访记录, 问题, 包联干部 and 操作记录."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app import lifecycle as lc
from app.clock import SHANGHAI
from app.privacy import mask_name, mask_phone
from app.problems import ProblemFilter, ProblemService
from app.visits import VisitFilter, VisitService
from ui.models.enterprise_model import plain_tip
from ui.models.lazy_table import OBJECT_ROLE, SORT_ROLE, Column, LazyTableModel

AnyIndex = QModelIndex | QPersistentModelIndex

_CENTER = Qt.AlignmentFlag.AlignCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
GREY = QColor("#8492a6")
RED = QColor("#c62828")
AMBER = QColor("#b26a00")
GREEN = QColor("#2e7d32")


# --- 走访记录 -------------------------------------------------------------------------------------
class _VisitSource:
    def __init__(self, service: VisitService, enterprise_id: str):
        self.service = service
        self.filter = VisitFilter(enterprise_id=enterprise_id)

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        if sort_key is None:  # natural order: newest first
            return self.service.list_ids(self.filter, "visit_date", True)
        return self.service.list_ids(self.filter, sort_key, descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.service.rows(ids)


class VisitTabModel(LazyTableModel):
    """Visits of one enterprise, newest first."""

    COLUMNS = (
        Column("visit_date", "走访日期", width=96),
        Column("record_no", "记录编号", width=170),
        Column("kind", "走访方式", width=80),
        Column("cadre_names", "走访干部", width=120, sortable=False),
        Column("problems", "问题数", align=_RIGHT, width=60),
        Column("summary_head", "走访情况", sortable=False),
    )

    def __init__(self, service: VisitService, enterprise_id: str, parent: Any = None):
        super().__init__(self.COLUMNS, _VisitSource(service, enterprise_id), parent)

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "summary_head":
            return plain_tip(row.get("summary"))
        if key == "cadre_names":
            return plain_tip(row.get(key))
        return None


# --- 问题 -----------------------------------------------------------------------------------------
class _ProblemSource:
    def __init__(self, service: ProblemService, enterprise_id: str):
        self.service = service
        self.filter = ProblemFilter(enterprise_id=enterprise_id)

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        if sort_key is None:
            return self.service.list_ids(self.filter, "registered_on", True)
        return self.service.list_ids(self.filter, sort_key, descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.service.rows(ids)


class ProblemTabModel(LazyTableModel):
    """Problems of one enterprise; overdue ones red, pending amber, finished grey."""

    COLUMNS = (
        Column("record_no", "问题编号", width=170),
        Column("title", "问题", width=220),
        Column("category", "类别", width=80),
        Column("status", "状态", align=_CENTER, width=70),
        Column("lead_unit", "牵头单位", width=120),
        Column("registered_on", "登记日期", width=96),
        Column("deadline", "办理时限"),
    )
    STATUS_COLUMN = 3

    def __init__(self, service: ProblemService, enterprise_id: str, parent: Any = None):
        super().__init__(self.COLUMNS, _ProblemSource(service, enterprise_id), parent)

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "deadline" and value:
            if row.get("overdue"):
                return f"{value}（逾期 {row.get('overdue_workdays', 0)} 个工作日）"
            if row.get("workdays_left") is not None:
                return f"{value}（剩 {row['workdays_left']} 个工作日）"
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        if row.get("overdue"):
            return RED
        if row.get("status") in lc.DONE:
            return GREY
        return None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "title":
            return plain_tip(row.get("title"))
        if row.get("overdue"):
            return "已超过办理时限，需催办或督办"
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.column() == self.STATUS_COLUMN:
            row = self.row_dict(index.row())
            if not row.get("overdue"):
                status = row.get("status")
                if status == lc.PENDING:
                    return AMBER
                if status in lc.DONE:
                    return GREEN
        return super().data(index, role)


# --- In-memory lists (包联干部, 操作记录) ------------------------------------------------------------
class RecordListModel(QAbstractTableModel):
    """A short list of dicts in memory with Columns, SORT_ROLE/OBJECT_ROLE and sorting in Python."""

    COLUMNS: tuple[Column, ...] = ()
    ID_KEY = "id"

    def __init__(self, rows: Sequence[dict[str, Any]] = (), parent: Any = None):
        super().__init__(parent)
        self.columns = self.COLUMNS
        self._rows: list[dict[str, Any]] = list(rows)

    # hooks
    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        return "" if value is None else str(value)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        return None

    # API
    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_dict(self, row: int) -> dict[str, Any]:
        return self._rows[row] if 0 <= row < len(self._rows) else {}

    def id_at(self, row: int) -> str | None:
        return self.row_dict(row).get(self.ID_KEY)

    # Qt interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].header
            return None
        return super().headerData(section, orientation, role)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows) and 0 <= index.column() < len(self.columns)):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(column.key, row.get(column.key), row)
        if role == SORT_ROLE:
            return row.get(column.key)
        if role == OBJECT_ROLE:
            return row.get(self.ID_KEY)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.align
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(column.key, row)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        key = self.columns[column].key
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_rows = [self._rows[i.row()] if 0 <= i.row() < len(self._rows) else None for i in old]
        self._rows.sort(
            key=lambda r: (r.get(key) is None, str(r.get(key) or "")),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        positions = {id(r): i for i, r in enumerate(self._rows)}
        new = [
            QModelIndex() if r is None else self.index(positions[id(r)], i.column())
            for i, r in zip(old, old_rows, strict=True)
        ]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()


class AssignmentTableModel(RecordListModel):
    """包联 of one enterprise, current first; ended ones grey."""

    COLUMNS = (
        Column("cadre_name", "包联干部", width=90),
        Column("role", "包联角色", width=100),
        Column("cadre_role", "服务角色", width=100),
        Column("unit_name", "干部单位", width=100),
        Column("start_date", "开始日期", width=96),
        Column("end_date", "结束日期", width=96),
        Column("state", "状态", align=_CENTER, width=70),
        Column("note", "备注"),
    )

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "state":
            return "已结束" if row.get("end_date") else "包联中"
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return GREY if row.get("end_date") else None

    def is_current(self, row: int) -> bool:
        r = self.row_dict(row)
        return bool(r) and not r.get("end_date")


# --- 操作记录 -------------------------------------------------------------------------------------
FIELD_LABELS = {
    "name": "企业名称",
    "uscc": "统一社会信用代码",
    "unit_id": "所属单位",
    "township": "乡镇街道",
    "address": "地址",
    "industry": "行业",
    "scale": "企业规模",
    "tags": "标签",
    "legal_rep": "法定代表人",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "status": "经营状态",
    "archived": "归档",
    "note": "备注",
    "cadre_id": "包联干部",
    "role": "包联角色",
    "start_date": "开始日期",
    "end_date": "结束日期",
}
_HIDDEN_FIELDS = {"name_initials", "enterprise_id"}
_MASKS: dict[str, Callable[[str | None], str]] = {"contact_name": mask_name, "contact_phone": mask_phone}


def local_time(stamp: str | None) -> str:
    """A UTC stamp of the audit log as Beijing time, "2026-03-14 09:05"."""
    if not stamp:
        return ""
    try:
        dt = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _value_text(key: str, value: Any, names: dict[str, str]) -> str:
    if value is None or value == "":
        return "（空）"
    if key == "archived":
        return "已归档" if value else "未归档"
    if key in ("unit_id", "cadre_id"):
        return names.get(str(value), str(value))
    if key == "tags":
        try:
            tags = json.loads(value) if isinstance(value, str) else list(value)
        except ValueError:
            return str(value)
        return "、".join(tags) if tags else "（空）"
    if key in _MASKS:
        return _MASKS[key](str(value))
    return str(value)


def referenced_ids(entries: Sequence[dict[str, Any]], key: str) -> set[str]:
    """The values of `key` (e.g. cadre_id) in the before/after of audit entries: the names describe_change needs."""
    found: set[str] = set()
    for entry in entries:
        for side in ("before", "after"):
            try:
                data = json.loads(entry.get(side) or "null")
            except ValueError:
                continue
            if isinstance(data, dict) and data.get(key):
                found.add(str(data[key]))
    return found


def describe_change(entry: dict[str, Any], names: dict[str, str]) -> str:
    """Readable text of one audit entry: "经营状态：在营 → 停产；地址：…" (personal data masked).

    `names` maps unit and cadre ids to their names.
    """
    before = json.loads(entry.get("before") or "null") or {}
    after = json.loads(entry.get("after") or "null") or {}
    parts = []
    if "accessed_fields" in after:  # a reveal of personal data, not a change
        return "查看完整信息：" + "、".join(FIELD_LABELS.get(k, k) for k in after["accessed_fields"])
    if not before:  # an insert: list what was filled in, in form order
        for key in FIELD_LABELS:
            value = after.get(key)
            if value in (None, "", "[]", 0):
                continue
            parts.append(f"{FIELD_LABELS[key]}：{_value_text(key, value, names)}")
        return "；".join(parts)
    order = list(FIELD_LABELS)
    for key in sorted(after, key=lambda k: order.index(k) if k in order else len(order)):
        if key in _HIDDEN_FIELDS:
            continue
        label = FIELD_LABELS.get(key, key)
        old, new = _value_text(key, before.get(key), names), _value_text(key, after.get(key), names)
        parts.append(f"{label}：{old} → {new}")
    return "；".join(parts)


class HistoryTableModel(RecordListModel):
    """操作记录 of one enterprise (its own changes and its 包联), newest first."""

    COLUMNS = (
        Column("time", "时间", width=130),
        Column("operator", "操作人", width=80),
        Column("action", "操作", width=110),
        Column("changes", "变更内容"),
    )
    ID_KEY = "at"

    def set_entries(self, entries: Sequence[dict[str, Any]], names: dict[str, str]) -> None:
        """Show audit entries from EnterpriseService.history, formatting times and field changes."""
        self.set_rows([{**e, "time": local_time(e.get("at")), "changes": describe_change(e, names)} for e in entries])

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        return plain_tip(row.get("changes"), limit=2000) if key == "changes" else None
