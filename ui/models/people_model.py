"""Table models of the 干部 page: the cadre list (SQL-sorted, lazily fetched), work groups and a cadre's 包联 enterprises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from app.clock import today
from app.enterprises import EnterpriseFilter, EnterpriseService
from app.people import PeopleService
from app.privacy import mask_phone
from ui.models.enterprise_model import ARCHIVED_COLOUR, EnterpriseSource, last_visit_text, plain_tip
from ui.models.enterprise_tabs import RecordListModel
from ui.models.lazy_table import Column, LazyTableModel

_CENTER = Qt.AlignmentFlag.AlignCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
INACTIVE_COLOUR = QColor("#9aa5b1")

NAME, UNIT, GROUP, ROLE, RANK, POST, PHONE, ASSIGNMENTS, VISITS, STATUS = range(10)
CADRE_COLUMNS = (
    Column("name", "姓名", width=64),
    Column("unit", "单位", width=70),
    Column("work_group", "工作组", width=150),  # the view stretches it: group names are the long ones
    Column("role", "服务角色", width=84),
    Column("rank", "职级", width=74),
    Column("post", "职务", width=116),
    Column("phone", "联系电话", width=106, sortable=False),
    Column("assignments", "包联企业数", align=_RIGHT, width=78),
    Column("visits_year", "今年走访", align=_RIGHT, width=66),
    Column("active", "状态", align=_CENTER, width=46),
)


@dataclass(frozen=True)
class CadreFilter:
    """What the cadre list shows (the arguments of PeopleService.cadre_ids)."""

    text: str = ""
    unit_id: str | None = None
    work_group_id: str | None = None  # app.people.NO_GROUP: cadres in no group
    role: str | None = None
    include_inactive: bool = False


class CadreSource:
    """RowSource over PeopleService for one CadreFilter."""

    def __init__(self, service: PeopleService, cadre_filter: CadreFilter | None = None):
        self.service = service
        self.filter = cadre_filter or CadreFilter()

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        return self.service.cadre_ids(**asdict(self.filter), sort_key=sort_key or "name", descending=descending)

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return self.service.cadre_rows(ids)


class CadreTableModel(LazyTableModel):
    """Columns 姓名 … 状态; phones masked; 离岗 cadres greyed."""

    def __init__(self, service: PeopleService, cadre_filter: CadreFilter | None = None, parent: Any = None):
        super().__init__(CADRE_COLUMNS, CadreSource(service, cadre_filter), parent)

    @property
    def filter(self) -> CadreFilter:
        return self.source.filter  # type: ignore[attr-defined]

    def set_filter(self, cadre_filter: CadreFilter) -> None:
        """Show the cadres matching `cadre_filter`, keeping the sort order."""
        self.set_source(CadreSource(self.source.service, replace(cadre_filter)))  # type: ignore[attr-defined]

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if not row:
            return ""
        if key == "phone":
            return mask_phone(value)
        if key == "active":
            return "在岗" if value else "离岗"
        if key == "work_group":
            if not value:
                return "—"
            return f"{value}（组长）" if row.get("is_leader") else str(value)
        if key in ("assignments", "visits_year"):
            return str(value or 0)
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return INACTIVE_COLOUR if row and not row.get("active") else None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if not row:
            return None
        if key in ("name", "unit", "work_group", "post"):
            return plain_tip(row.get(key))
        if key == "phone" and row.get("phone"):
            return "编辑该干部可查看完整号码"
        if key == "visits_year":
            return f"{today().year} 年参加的走访和座谈会（次）"
        if key == "assignments":
            return "当前包联（未结束）的企业数"
        if key == "active" and not row.get("active"):
            return "已离岗：不再出现在走访和包联的干部选择中"
        return None


# --- 工作组 ---------------------------------------------------------------------------------------
GROUP_NAME, GROUP_UNIT, GROUP_LEADER, GROUP_MEMBERS, GROUP_NOTE = range(5)


class WorkGroupTableModel(RecordListModel):
    """Work groups (rows of PeopleService.work_group_rows): 名称, 单位, 组长, 成员数 (在岗), 备注."""

    COLUMNS = (
        Column("name", "名称", width=180),
        Column("unit_name", "单位", width=100),
        Column("leader_name", "组长", width=90),
        Column("active_members", "成员数", align=_RIGHT, width=70),
        Column("note", "备注"),
    )

    def row_of(self, group_id: str) -> int | None:
        for i in range(self.rowCount()):
            if self.id_at(i) == group_id:
                return i
        return None

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "leader_name" and not value:
            return "（未设）"
        if key == "note":
            return " ".join(str(value or "").split())  # one line in the list
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key in ("name", "note"):
            return plain_tip(row.get(key))
        if key == "active_members":
            inactive = (row.get("members") or 0) - (row.get("active_members") or 0)
            return f"在岗 {row.get('active_members') or 0} 人" + (f"，另有 {inactive} 人离岗" if inactive else "")
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Numbers sort as numbers (the base class compares text)."""
        if not 0 <= column < len(self.columns):
            return
        key = self.columns[column].key
        if key != "active_members":
            super().sort(column, order)
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_rows = [self._rows[i.row()] if 0 <= i.row() < len(self._rows) else None for i in old]
        self._rows.sort(key=lambda r: r.get(key) or 0, reverse=order == Qt.SortOrder.DescendingOrder)
        positions = {id(r): i for i, r in enumerate(self._rows)}
        new = [
            QModelIndex() if r is None else self.index(positions[id(r)], i.column())
            for i, r in zip(old, old_rows, strict=True)
        ]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()


# --- A cadre's 包联 enterprises (the side panel) ---------------------------------------------------
class CadreEnterpriseModel(LazyTableModel):
    """Enterprises a cadre currently 包联 (archived ones included, greyed): 企业名称, 最近走访."""

    COLUMNS = (
        Column("name", "企业名称", width=160),
        Column("last_visit", "最近走访"),
    )

    def __init__(self, service: EnterpriseService, cadre_id: str, parent: Any = None):
        source = EnterpriseSource(service, EnterpriseFilter(cadre_id=cadre_id, include_archived=True))
        super().__init__(self.COLUMNS, source, parent)

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "last_visit" and row:
            return last_visit_text(value, row.get("days_since_visit"))
        if key == "name" and row.get("archived"):
            return f"{value}（已归档）"
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return ARCHIVED_COLOUR if row.get("archived") else None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "name":
            return plain_tip(row.get("name"))
        return None
