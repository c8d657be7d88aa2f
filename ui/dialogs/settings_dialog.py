"""设置: 常规 (warning thresholds) and 备份与恢复 (the backups of this database: take one, restore one)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.backups import AUTO_INTERVAL_MINUTES, reason_label
from app.clock import SHANGHAI
from app.errors import AppError
from app.services import Services
from ui.errors import show_error
from ui.settings import DUE_SOON_WORKDAYS, NOT_VISITED_DAYS, PreserveGeometry, Settings

log = logging.getLogger(__name__)


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def confirm(parent: QWidget, title: str, text: str, yes: str) -> bool:
    """Ask before something weighty (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes_button


class BackupPanel(QWidget):
    """The list of backups with 立即备份, 恢复所选… and 打开备份文件夹. `restored` is True after a restore."""

    def __init__(self, services: Services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.restored = False
        intro = QLabel(f"程序自动备份数据库：每 {AUTO_INTERVAL_MINUTES} 分钟（有改动时）、退出时，以及每次导入、导出、升级和恢复之前。"
                       "保留最近 48 小时的全部备份，以及最近 14 天每天、8 周每周、12 个月每月最新的一份。\n"
                       f"备份文件夹：{services.backups.folder}")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("backup_table")
        self.table.setHorizontalHeaderLabels(["备份时间", "类型", "大小"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.backup_button = QPushButton("立即备份")
        self.restore_button = QPushButton("恢复所选备份…")
        self.folder_button = QPushButton("打开备份文件夹")
        self.backup_button.clicked.connect(self.backup_now)
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.folder_button.clicked.connect(self._open_folder)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.backup_button, self.restore_button, self.folder_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        enabled = services.backups.enabled
        self.backup_button.setEnabled(enabled)
        self.folder_button.setEnabled(enabled)
        self.refresh()

    def refresh(self) -> None:
        self.backups = self.services.backups.list()
        self.table.setRowCount(len(self.backups))
        for row, b in enumerate(self.backups):
            when = b.taken_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            for col, text in enumerate((when, reason_label(b.reason), _size(b.size))):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None)

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def backup_now(self) -> None:
        try:
            made = self.services.backups.take("manual")
        except AppError as exc:
            show_error(self, exc)
            return
        self.refresh()
        if made is not None:
            self.status.setText(f"已备份：{made.path.name}（{_size(made.size)}）")

    def restore_selected(self) -> bool:
        chosen = self.selected()
        if chosen is None:
            return False
        when = chosen.taken_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        text = (f"用 {when} 的备份（{reason_label(chosen.reason)}）替换当前的全部数据？\n\n"
                "恢复前会先把当前数据备份一份（“恢复前备份”），如有需要可以再恢复回来。\n"
                "恢复后程序会重新载入。已经导出的同步文件不受影响，之后的同步会接着进行。")
        if not confirm(self, "恢复备份", text, "恢复"):
            return False
        try:
            self.services.backups.restore(chosen.path)
        except AppError as exc:
            show_error(self, exc)
            self.refresh()
            return False
        self.restored = True
        self.status.setText(f"已用 {when} 的备份恢复。")
        return True

    def _open_folder(self) -> None:
        folder = self.services.backups.folder
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class SettingsDialog(PreserveGeometry, QDialog):
    """工具 → 设置…; closes itself after a restore so the window can reload (`restored`)."""

    def __init__(self, services: Services, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("设置")
        self.settings = settings
        self.tabs = QTabWidget()
        general = QWidget()
        form = QFormLayout(general)
        self.not_visited = QSpinBox()
        self.not_visited.setRange(1, 365)
        self.not_visited.setSuffix(" 天")
        self.not_visited.setValue(settings.get(NOT_VISITED_DAYS))
        self.due_soon = QSpinBox()
        self.due_soon.setRange(1, 30)
        self.due_soon.setSuffix(" 个工作日")
        self.due_soon.setValue(settings.get(DUE_SOON_WORKDAYS))
        form.addRow("超过多少天未走访即提示“未走访”：", self.not_visited)
        form.addRow("距办理期限不足多少工作日即提示“即将到期”：", self.due_soon)
        self.not_visited.valueChanged.connect(lambda v: settings.set(NOT_VISITED_DAYS, v))
        self.due_soon.valueChanged.connect(lambda v: settings.set(DUE_SOON_WORKDAYS, v))
        self.backup_panel = BackupPanel(services)
        self.tabs.addTab(general, "常规")
        self.tabs.addTab(self.backup_panel, "备份与恢复")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        self.backup_panel.restore_button.clicked.connect(self._close_if_restored)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs)
        lay.addWidget(buttons)
        self.resize(640, 460)
        self.init_geometry(settings)

    @property
    def restored(self) -> bool:
        return self.backup_panel.restored

    def show_backups(self) -> None:
        self.tabs.setCurrentWidget(self.backup_panel)

    def _close_if_restored(self) -> None:
        if self.restored:
            self.accept()
