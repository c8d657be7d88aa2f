"""AttachmentsPanel: the 附件（扫描件）list of one visit or problem, with 添加扫描件/查看/另存为/删除."""

from __future__ import annotations

import html
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.attachments import OWNERS, TYPES, human_size, safe_filename
from app.errors import AppError
from app.services import Services
from ui.errors import show_error
from ui.models.enterprise_model import plain_tip
from ui.models.enterprise_tabs import Column, RecordListModel, local_time

log = logging.getLogger(__name__)

OPEN_FILTER = "扫描件 (*.pdf *.jpg *.jpeg *.png *.tif *.tiff);;所有文件 (*)"
SAVE_FILTERS = {
    mime: f"{label} 文件 (*{ext})"
    for (label, mime, _), ext in zip(TYPES, (".pdf", ".jpg", ".png", ".tif"), strict=True)
}
VISIBLE_ROWS = 5
VIEW_COPIES_MAX_AGE_S = 24 * 3600
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class AttachmentTableModel(RecordListModel):
    """Attachments of one record, newest first (AttachmentService.list rows)."""

    COLUMNS = (
        Column("filename", "文件名"),
        Column("type", "类型", width=48),
        Column("size", "大小", align=_RIGHT, width=72),
        Column("added_at", "添加时间", width=122),
    )

    def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
        if key == "size":
            return human_size(int(value or 0))
        if key == "added_at":
            return local_time(value)
        return super().display(key, value, row)

    def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
        lines = [
            row.get("filename") or "",
            f"{row.get('kind') or ''}，{human_size(int(row.get('size') or 0))}",
            f"添加：{local_time(row.get('added_at'))} {row.get('operator') or ''}",
        ]
        if row.get("note"):
            lines.append(f"说明：{row['note']}")
        lines.append(f"SHA-256：{row.get('sha256') or ''}")
        return plain_tip("\n".join(lines))


class AttachmentsPanel(QWidget):
    """Attachments of the record given to set_owner(); `changed` fires after an add or delete here."""

    changed = Signal()
    message = Signal(str)  # a short status line after an action ("已添加扫描件：…")

    def __init__(self, services: Services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.owner_table: str | None = None
        self.owner_id: str | None = None
        self._last_dir = ""

        self.model = AttachmentTableModel(parent=self)
        self.table = QTableView()
        self.table.setObjectName("attachments_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i, column in enumerate(AttachmentTableModel.COLUMNS):
            if column.width:
                header.resizeSection(i, column.width)
        self.table.doubleClicked.connect(lambda _index: self.view_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        delete_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete_key.activated.connect(self.delete_selected)

        self.empty_label = QLabel("（无）打印的表格签字后扫描，可在这里添加扫描件。")
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setProperty("role", "hint")

        self.add_button = QPushButton("添加扫描件…")
        self.add_button.setToolTip("选择签字后扫描的 PDF、JPG、PNG 或 TIFF 文件（不超过 25 MB）")
        self.view_button = QPushButton("查看")
        self.view_button.setToolTip("用本机的看图或 PDF 程序打开（双击列表行也可以）")
        self.save_button = QPushButton("另存为…")
        self.delete_button = QPushButton("删除")
        self.add_button.clicked.connect(lambda: self.add_file())
        self.view_button.clicked.connect(lambda: self.view_selected())
        self.save_button.clicked.connect(lambda: self.save_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self.add_button, self.view_button, self.save_button, self.delete_button):
            button.setStyleSheet("padding: 3px 10px;")
            buttons.addWidget(button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(4)
        layout.addWidget(self.table)
        layout.addWidget(self.empty_label)
        layout.addLayout(buttons)
        self.refresh()

    # --- public -----------------------------------------------------------------------------------
    def set_owner(self, owner_table: str, owner_id: str | None) -> None:
        """Show the attachments of record `owner_id` of `owner_table` ("visits", "problems"); None: nothing."""
        if owner_table not in OWNERS:
            raise ValueError(f"attachments cannot belong to {owner_table}")
        self.owner_table, self.owner_id = owner_table, owner_id
        self.refresh()

    def refresh(self) -> None:
        """Re-read the list, keeping the selected attachment."""
        keep = self.selected_id()
        rows: list[dict] = []
        if self.owner_table and self.owner_id:
            try:
                rows = self.services.attachments.list(self.owner_table, self.owner_id)
            except AppError as exc:
                log.warning("Could not list attachments: %s", exc.message)
        self.model.set_rows(rows)
        self._fit_height()
        self.table.setVisible(bool(rows))
        self.empty_label.setVisible(not rows)
        ids = [r["id"] for r in rows]
        if keep in ids:
            self.select(keep)
        self._update_buttons()

    def attachment_ids(self) -> list[str]:
        return [self.model.id_at(r) for r in range(self.model.rowCount())]

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.id_at(index.row())

    def select(self, attachment_id: str) -> None:
        for row in range(self.model.rowCount()):
            if self.model.id_at(row) == attachment_id:
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
                )
                return

    # --- actions ----------------------------------------------------------------------------------
    def add_file(self, path: str | None = None) -> str | None:
        """添加扫描件: ask for a file (unless `path` is given) and attach it; returns the new attachment id."""
        if not (self.owner_table and self.owner_id):
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "添加扫描件", self._last_dir, OPEN_FILTER)
            if not path:
                return None
        self._last_dir = str(Path(path).parent)
        try:
            att_id = self.services.attachments.add(self.owner_table, self.owner_id, path)
        except AppError as exc:
            show_error(self, exc)
            return None
        self.refresh()
        self.select(att_id)
        self.message.emit(f"已添加扫描件：{Path(path).name}")
        self.changed.emit()
        return att_id

    def view_selected(self) -> Path | None:
        """查看: copy the file into the data folder's tmp and open it with the system's viewer (no network)."""
        row = self._selected_row()
        if row is None:
            return None
        try:
            folder = self._view_folder()
        except OSError as exc:
            show_error(self, AppError(f"无法创建查看附件用的临时文件夹：{exc.strerror or exc}"))
            return None
        dest = folder / f"{row['id'][-8:]}-{safe_filename(row['filename'])}"
        try:
            self.services.attachments.export(row["id"], dest, action="查看附件")
        except AppError as exc:
            show_error(self, exc)
            return None
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(dest))):
            self.message.emit(f"没有找到能打开“{row['filename']}”的程序，文件在：{dest}")
        return dest

    def save_selected(self, dest: str | None = None) -> Path | None:
        """另存为…: write a copy of the file where the user chooses."""
        row = self._selected_row()
        if row is None:
            return None
        if dest is None:
            start = str(Path(self._last_dir or Path.home()) / safe_filename(row["filename"]))
            dest, _ = QFileDialog.getSaveFileName(
                self, "附件另存为", start, SAVE_FILTERS.get(row["mime"], "所有文件 (*)")
            )
            if not dest:
                return None
        try:
            saved = self.services.attachments.export(row["id"], dest)
        except AppError as exc:
            show_error(self, exc)
            return None
        self._last_dir = str(saved.parent)
        self.message.emit(f"附件已保存到：{saved}")
        return saved

    def delete_selected(self) -> bool:
        """删除 (after confirming): the attachment leaves the list; the record's history keeps it."""
        row = self._selected_row()
        if row is None:
            return False
        # Rich text with the user's file name escaped: QMessageBox.question would guess the format otherwise.
        question = (
            f"<p>删除附件“{html.escape(row['filename'])}”？</p>"
            "<p>删除后列表中不再显示，操作记录中仍保留添加和删除的记录。</p>"
        )
        answer = QMessageBox.question(
            self,
            "删除附件",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            self.services.attachments.remove(row["id"])
        except AppError as exc:
            show_error(self, exc)
            return False
        self.refresh()
        self.message.emit(f"已删除附件：{row['filename']}")
        self.changed.emit()
        return True

    # --- helpers ----------------------------------------------------------------------------------
    def _selected_row(self) -> dict | None:
        att_id = self.selected_id()
        if att_id is None:
            return None
        return next(
            (self.model.row_dict(r) for r in range(self.model.rowCount()) if self.model.id_at(r) == att_id), None
        )

    def _update_buttons(self) -> None:
        has_owner = bool(self.owner_table and self.owner_id)
        selected = self.selected_id() is not None
        self.add_button.setEnabled(has_owner)
        for button in (self.view_button, self.save_button, self.delete_button):
            button.setEnabled(has_owner and selected)

    def _fit_height(self) -> None:
        rows = max(1, min(self.model.rowCount(), VISIBLE_ROWS))
        header = self.table.horizontalHeader().sizeHint().height()
        frame = 2 * self.table.frameWidth()
        self.table.setFixedHeight(header + rows * self.table.verticalHeader().defaultSectionSize() + frame + 2)

    def _view_folder(self) -> Path:
        """tmp/attachments in the data folder; copies older than a day are removed (scans hold personal data)."""
        path = self.services.store.path
        base = Path(tempfile.gettempdir()) / "zhuqi-desk" if path == ":memory:" else Path(path).parent / "tmp"
        folder = base / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        cutoff = time.time() - VIEW_COPIES_MAX_AGE_S
        for old in folder.iterdir():
            try:
                if old.is_file() and old.stat().st_mtime < cutoff:
                    old.unlink()
            except OSError:  # still open in a viewer on Windows: try again next time
                continue
        return folder
