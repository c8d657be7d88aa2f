"""The records behind a number: a list whose length is the number clicked, each row opening its record."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.record_tables import OPENS, RecordTable, record_table
from ui.errors import show_error
from ui.settings import PreserveGeometry

ROW_ROLE = Qt.ItemDataRole.UserRole + 1


class DrillDialog(PreserveGeometry, QDialog):
    def __init__(self, services, bus, settings, title: str, kind: str, ids: list, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("DrillDialog")
        self.setWindowTitle(title)
        self.services, self.bus = services, bus
        self.table_data: RecordTable = record_table(services, kind, ids)
        data = self.table_data
        self.count_label = QLabel(f"{title}　共 {len(data.rows)} 条")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self.count_label.setWordWrap(True)
        self.table = QTableWidget(len(data.rows), len(data.columns))
        self.table.setObjectName("drill_table")
        self.table.setHorizontalHeaderLabels([h for _, h in data.columns])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(False)
        for r, row in enumerate(data.rows):
            for c, (key, _) in enumerate(data.columns):
                value = row.get(key)
                item = QTableWidgetItem("" if value is None else str(value))
                if isinstance(value, int | float):
                    item.setData(Qt.ItemDataRole.EditRole, value)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 0:
                    item.setData(ROW_ROLE, r)  # survives sorting: which record the row shows
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        for c in range(len(data.columns)):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), 320))
        self.table.cellDoubleClicked.connect(self.open_row)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.clicked.connect(lambda: self.export())
        close = QPushButton("关闭")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        hint = QLabel("双击一行打开该记录" if data.kind in OPENS else "")
        hint.setProperty("role", "hint")
        buttons.addWidget(hint)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.count_label)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self.resize(960, 560)
        self.init_geometry(settings)

    def row_at(self, table_row: int) -> dict:
        """The record of a table row (sorting changes the order: the first cell keeps the row's index)."""
        item = self.table.item(table_row, 0)
        index = item.data(ROW_ROLE) if item else None
        return self.table_data.rows[index if index is not None else table_row]

    def open_row(self, table_row: int, _column: int = 0) -> None:
        opens = OPENS.get(self.table_data.kind)
        if opens is None:
            return
        signal, key = opens
        getattr(self.bus, signal).emit(self.row_at(table_row)[key])

    def export(self, path: str | None = None) -> str | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "导出 Excel", f"{self.windowTitle()}.xlsx", "Excel 工作簿 (*.xlsx)")
            if not path:
                return None
        from app.record_tables import write_xlsx

        try:
            write_xlsx(path, self.windowTitle(), self.table_data)
        except Exception as exc:  # noqa: BLE001 - shown to the user in one place
            show_error(self, exc)
            return None
        return path
