"""Table models of the 数据同步 screen: sync ledger, import results, conflicts, waiting operations, enrolled
installations — short in-memory lists of the SyncService's plain dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ui.models.enterprise_model import plain_tip
from ui.models.enterprise_tabs import RecordListModel, local_time
from ui.models.lazy_table import Column

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
GREY = QColor("#8492a6")
RED = QColor("#c62828")
AMBER = QColor("#b26a00")
GREEN = QColor("#2e7d32")

DIRECTIONS = {"out": "发出", "in": "收到"}
KINDS = {"up": "上报", "down": "下发"}
IMPORT_STATUS = {"imported": "已导入", "already": "已导入过", "rejected": "被拒绝"}
RESOLUTIONS = {"current": "保留当前值", "other": "改用另一值"}
_TIME_KEYS = frozenset({"at", "created_at", "detected_at", "resolved_at", "since", "enrolled_at", "revoked_at"})


def value_text(value: Any) -> str:
    """A field value of a conflict as one line ("（空）" for nothing)."""
    if value is None or value == "":
        return "（空）"
    return " ".join(str(value).split())


class _SyncListModel(RecordListModel):
    """RecordListModel showing UTC stamps as Beijing time and long text in full in the tooltip."""

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key in _TIME_KEYS:
            return local_time(value)
        return super().display(key, value, row)

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        text = self.display(key, row.get(key), row)
        return plain_tip(text) if len(text) > 20 else None


class LedgerModel(_SyncListModel):
    """同步记录: packages written and received, newest first (rows of SyncService.ledger)."""

    ID_KEY = "package_id"
    COLUMNS = (
        Column("at", "时间", width=130),
        Column("direction", "方向", width=50),
        Column("kind", "类型", width=50),
        Column("peer_label", "对方", width=180),
        Column("file_name", "文件", width=300),
        Column("operations", "修改条数", align=_RIGHT, width=70),
        Column("status", "状态", width=70),
        Column("note", "备注"),
    )

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "direction":
            return DIRECTIONS.get(value, value or "")
        if key == "kind":
            return KINDS.get(value, value or "")
        if key == "note":
            return (value or "").strip("，, ")
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        status = row.get("status") or ""
        if "缺口" in status:
            return RED
        if status == "待确认":
            return AMBER
        return None

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Only the 状态 cell is coloured: a whole amber list of 待确认 would shout."""
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and \
                self.columns[index.column()].key != "status":
            return None
        return super().data(index, role)


class ImportResultModel(_SyncListModel):
    """One row per file of the last import (ImportResult.as_dict()); rejected files in red."""

    ID_KEY = "file"
    COLUMNS = (
        Column("file_name", "文件", width=280),
        Column("status", "结果", width=80),
        Column("message", "说明"),
    )

    def set_rows(self, rows) -> None:
        out = []
        for r in rows:
            name = Path(str(r.get("file") or "")).name
            message = str(r.get("message") or "")
            if message.startswith(f"{name}："):  # the file is in its own column
                message = message[len(name) + 1:]
            out.append({**r, "file_name": name, "message": message})
        super().set_rows(out)

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "status":
            return IMPORT_STATUS.get(value, value or "")
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return {"rejected": RED, "already": GREY, "imported": GREEN}.get(row.get("status"))

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "file_name":
            return plain_tip(row.get("file"))
        return super().tooltip(key, row)


class ConflictModel(_SyncListModel):
    """冲突: a field changed on both sides — the value the record has now beside the other one."""

    COLUMNS = (
        Column("record", "记录", width=220),
        Column("field_label", "字段", width=90),
        Column("current_value", "当前值", width=200),
        Column("other_value", "另一值", width=200),
        Column("other_source", "另一值来自", width=140),
        Column("detected_at", "发现时间", width=130),
        Column("resolution", "处理结果"),
    )

    def set_rows(self, rows) -> None:
        super().set_rows([{**r, "record": f"{r.get('table_label') or ''} · {r.get('record_label') or r.get('row_id')}"}
                          for r in rows])

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key in ("current_value", "other_value"):
            return value_text(value)
        if key == "resolution":
            if not row.get("resolved_at"):
                return "待处理"
            return f"{RESOLUTIONS.get(value, value or '已处理')}（{local_time(row['resolved_at'])}）"
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return GREY if row.get("resolved_at") else None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key == "current_value":
            source = row.get("current_source")
            return plain_tip(f"{value_text(row.get(key))}" + (f"\n来自：{source}" if source else ""))
        if key == "other_value":
            return plain_tip(value_text(row.get(key)))
        return super().tooltip(key, row)


class WaitingModel(_SyncListModel):
    """等待中的操作: operations held until the record they need arrives."""

    ID_KEY = "key"
    COLUMNS = (
        Column("origin_label", "来源", width=180),
        Column("seq", "序号", align=_RIGHT, width=60),
        Column("table_label", "内容", width=90),
        Column("row_id", "记录标识", width=250),
        Column("since", "等待自", width=130),
        Column("reason", "原因"),
    )

    def set_rows(self, rows) -> None:
        super().set_rows([{**r, "key": f"{r.get('origin')}:{r.get('seq')}",
                           "origin_label": r.get("origin_label") or r.get("origin")} for r in rows])


class EnrolledModel(_SyncListModel):
    """已登记的安装 of a hub; revoked ones grey, with when and why."""

    ID_KEY = "installation_id"
    COLUMNS = (
        Column("unit", "单位", width=120),
        Column("role_label", "角色", width=90),
        Column("operator", "操作人", width=80),
        Column("signing_fingerprint", "签名密钥指纹", width=170),
        Column("enrolled_at", "登记时间", width=130),
        Column("state", "状态"),
    )

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "state":
            if row.get("revoked_at"):
                note = f"：{row['note']}" if row.get("note") else ""
                return f"已撤销（{local_time(row['revoked_at'])}）{note}"
            return "正常"
        return super().display(key, value, row)

    def foreground(self, row: dict[str, Any]) -> QColor | None:
        return GREY if row.get("revoked_at") else None

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        if key in ("unit", "operator"):
            return plain_tip(f"安装标识：{row.get('installation_id')}")
        return super().tooltip(key, row)
