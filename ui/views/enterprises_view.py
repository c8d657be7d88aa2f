"""EnterprisesView: the 企业 page — search and filters over the enterprise list, with the detail panel below."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.enterprises import STATUSES, EnterpriseFilter
from app.errors import AppError
from app.services import Services
from ui.bus import AppBus
from ui.dialogs.enterprise_dialog import EnterpriseDialog, plain_label
from ui.errors import show_error
from ui.list_export import export_button
from ui.models.enterprise_model import COLUMNS, NAME, EnterpriseTableModel
from ui.settings import NOT_VISITED_DAYS, Key, Settings, splitter_key
from ui.views.enterprise_detail import EnterpriseDetail
from ui.widgets.cadre_filter import MINE, CadreFilter
from ui.widgets.search_box import SearchBox
from ui.widgets.tables import make_table, select_record

log = logging.getLogger(__name__)

VIEW_NAME = "EnterprisesView"
SPLITTER_NAME = "enterprise_split"
SEARCH_PLACEHOLDER = "搜索企业名称、信用代码或拼音首字母（Ctrl+F）"
NAME_MIN_WIDTH = 180
HEADER_STATE: Key[bytes] = Key(f"columns/{VIEW_NAME}/{len(COLUMNS)}", b"", bytes, "企业列表的列宽和排序")


class EnterprisesView(QWidget):
    """List of enterprises with filters, actions and the detail of the selected one."""

    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(VIEW_NAME)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tasks = tasks
        self._drill: EnterpriseFilter | None = None
        self._drill_title = ""
        self._refreshes = 0  # counts refresh() calls, so a save refreshes once whoever listens to data_changed
        self._build()
        self._connect()
        self._restore_state()
        self._update_counts()
        self._update_buttons()

    # --- Building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.search_box = SearchBox(placeholder=SEARCH_PLACEHOLDER)
        self.new_button = QPushButton("新建企业")
        self.new_button.setProperty("role", "primary")
        self.new_button.setToolTip("新建企业（Ctrl+Shift+E）")
        self.edit_button = QPushButton("编辑")
        self.edit_button.setToolTip("编辑选中的企业（Ctrl+E）")
        self.archive_button = QPushButton("归档")
        self.visit_button = QPushButton("登记走访")
        self.visit_button.setToolTip("为选中的企业登记一次走访")
        self.import_button = QPushButton("导入名单…")
        self.import_button.setToolTip("从 Excel 或 CSV 导入企业名单、干部名单或包联名单：先逐行预览，确认后再写入")
        self.export_button = export_button(self, [("导出…", self.export_list)],
                                           "把列表中的全部企业（按当前筛选和排序）导出为 Excel 或 CSV；"
                                           "含完整联系人信息，导出会记入操作记录")
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addSpacing(12)
        for button in (self.new_button, self.edit_button, self.archive_button, self.visit_button):
            top.addWidget(button)
        top.addSpacing(12)
        top.addWidget(self.import_button)
        top.addWidget(self.export_button)

        ref = self.services.reference
        self.unit_combo = QComboBox()
        self.unit_combo.addItem("全部", None)
        for unit in ref.districts():
            self.unit_combo.addItem(unit.name, unit.id)
        self.tag_combo = QComboBox()
        self.tag_combo.addItem("全部", None)
        for tag in ref.names("enterprise_tag"):
            self.tag_combo.addItem(tag, tag)
        self.status_combo = QComboBox()
        self.status_combo.addItem("全部", None)
        for status in STATUSES:
            self.status_combo.addItem(status, status)
        self.cadre_combo = CadreFilter(self.services.people, mine=bool(self.services.installation.cadre_id))
        self.not_visited_check = QCheckBox("未走访")
        self.not_visited_spin = QSpinBox()
        self.not_visited_spin.setRange(1, 3650)
        self.not_visited_spin.setSuffix(" 天以上")
        self.not_visited_spin.setValue(self.settings.get(NOT_VISITED_DAYS))
        self.not_visited_spin.setToolTip("勾选“未走访”后只列出这么多天内没有走访过的企业；超过天数的行以浅黄色标出")
        self.archived_check = QCheckBox("含已归档")
        self.count_label = plain_label()
        filters = QHBoxLayout()
        for caption, combo in (
            ("所属单位", self.unit_combo), ("标签", self.tag_combo), ("经营状态", self.status_combo),
            ("包联干部", self.cadre_combo),
        ):  # fmt: skip
            label = plain_label(caption)
            label.setBuddy(combo)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            filters.addWidget(label)
            filters.addWidget(combo)
            filters.addSpacing(8)
        filters.addWidget(self.not_visited_check)
        filters.addWidget(self.not_visited_spin)
        filters.addSpacing(8)
        filters.addWidget(self.archived_check)
        filters.addStretch(1)
        filters.addWidget(self.count_label)

        self.banner = QFrame()
        self.banner.setProperty("role", "card")
        self.banner_label = plain_label()
        self.clear_banner_button = QPushButton("清除")
        self.clear_banner_button.setToolTip("清除这个筛选，显示全部企业")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(10, 4, 6, 4)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.clear_banner_button)
        self.banner.hide()

        self.model = EnterpriseTableModel(
            self.services.enterprises, self._control_filter(), self, not_visited_days=self.not_visited_spin.value()
        )
        self.table = make_table(self.model)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.installEventFilter(self)
        self.detail = EnterpriseDetail(self.services, self.bus, self.settings)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName(SPLITTER_NAME)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.search_box.search_changed.connect(lambda _text: self._apply())
        for combo in (self.unit_combo, self.tag_combo, self.status_combo, self.cadre_combo):
            combo.currentIndexChanged.connect(lambda _i: self._apply())
        self.not_visited_check.toggled.connect(lambda _on: self._apply())
        self.not_visited_spin.valueChanged.connect(self._not_visited_days_changed)
        self.archived_check.toggled.connect(lambda _on: self._apply())
        self.clear_banner_button.clicked.connect(self.clear_filters)
        self.new_button.clicked.connect(self.new_enterprise)
        self.edit_button.clicked.connect(self.edit_enterprise)
        self.archive_button.clicked.connect(self.toggle_archived)
        self.visit_button.clicked.connect(self.log_visit)
        self.import_button.clicked.connect(lambda: self.import_roster())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self.detail.changed.connect(self._changed)
        self.splitter.splitterMoved.connect(lambda *_: self._save_state())
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+E"), self, self.edit_enterprise, context=context)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize:
            self._fit_name_column()
        return super().eventFilter(watched, event)

    def _fit_name_column(self) -> None:
        """Give 企业名称 the width the other columns leave (at least NAME_MIN_WIDTH)."""
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(i) for i in range(1, self.model.columnCount()) if not header.isSectionHidden(i))
        scrollbar = self.table.verticalScrollBar().sizeHint().width()
        available = self.table.width() - 2 * self.table.frameWidth() - scrollbar - others
        header.resizeSection(NAME, max(NAME_MIN_WIDTH, available))

    # --- Filters -----------------------------------------------------------------------------------
    def _control_filter(self) -> EnterpriseFilter:
        cadre = self.cadre_combo.currentData()
        if cadre == MINE:
            cadre = self.services.installation.cadre_id
        base = self._drill or EnterpriseFilter()
        return replace(
            base,
            text=self.search_box.search_text(),
            unit_id=self.unit_combo.currentData(),
            tag=self.tag_combo.currentData(),
            status=self.status_combo.currentData(),
            cadre_id=cadre,
            not_visited_days=self.not_visited_spin.value() if self.not_visited_check.isChecked() else None,
            include_archived=self.archived_check.isChecked(),
        )

    def current_filter(self) -> EnterpriseFilter:
        """The filter the list shows now (drill-down base plus the controls)."""
        return self.model.filter

    def _apply(self) -> None:
        selected = self.selected_id()
        self.model.set_filter(self._control_filter())
        self._after_reload(selected)

    def _not_visited_days_changed(self, days: int) -> None:
        self.model.set_not_visited_days(days)
        if self.not_visited_check.isChecked():
            self._apply()

    def _set_controls(self, f: EnterpriseFilter) -> None:
        """Show `f` in the controls (adding combo entries for values they lack), without re-querying."""
        widgets = (self.search_box, self.unit_combo, self.tag_combo, self.status_combo, self.cadre_combo,
                   self.not_visited_check, self.not_visited_spin, self.archived_check)  # fmt: skip
        for w in widgets:
            w.blockSignals(True)
        try:
            self.search_box.setText(f.text)
            self.search_box.flush()
            unit_names = self.services.reference.unit_names()
            _select_data(self.unit_combo, f.unit_id, lambda v: unit_names.get(v, v))
            _select_data(self.tag_combo, f.tag, str)
            _select_data(self.status_combo, f.status, str)
            cadre = f.cadre_id
            if cadre and cadre == self.services.installation.cadre_id:
                cadre = MINE
            self.cadre_combo.select(cadre)
            self.not_visited_check.setChecked(f.not_visited_days is not None)
            if f.not_visited_days is not None:
                self.not_visited_spin.setValue(f.not_visited_days)
            self.archived_check.setChecked(f.include_archived)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self.model.set_not_visited_days(self.not_visited_spin.value())

    def apply_filter(self, title: str, f: EnterpriseFilter) -> None:
        """Drill-down from elsewhere: show `f` with a banner "筛选：{title}（共 N 家） [清除]"."""
        self._drill = replace(f)
        self._drill_title = title
        self._set_controls(f)
        self.banner.show()
        self._apply()

    def clear_filters(self) -> None:
        """Back to the whole list: no drill-down, search or filters."""
        self._drill = None
        self._drill_title = ""
        self.banner.hide()
        self._set_controls(EnterpriseFilter(not_visited_days=None))
        self._apply()

    def refresh(self) -> None:
        """Re-query the list (keeping filters, sort and selection) and the detail panel."""
        self._refreshes += 1
        selected = self.selected_id()
        self.cadre_combo.refresh()
        self.model.refresh()
        self._after_reload(selected)

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    # --- Selection ---------------------------------------------------------------------------------
    def print_current(self, jobs) -> None:
        """Ctrl+P: the 企业服务档案 of the selected enterprise."""
        from ui.print_menu import print_enterprise

        print_enterprise(self, self.services, jobs, self.selected_id())

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_row(self) -> dict:
        index = self.table.currentIndex()
        return self.model.row_dict(index.row()) if index.isValid() else {}

    def _select(self, ent_id: str | None) -> bool:
        return select_record(self.table, ent_id)

    def _after_reload(self, selected: str | None) -> None:
        before = self.detail.refreshes
        if not self._select(selected):
            self.table.clearSelection()
            self.detail.set_enterprise(None)
        elif self.detail.refreshes == before:  # selecting the row did not show it already (it stayed current)
            self.detail.set_enterprise(selected)
        self._update_counts()
        self._update_buttons()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.set_enterprise(self.model.id_at(current.row()) if current.isValid() else None)
        self._update_buttons()

    def _double_clicked(self, index: QModelIndex) -> None:
        self.detail.set_enterprise(self.model.id_at(index.row()))
        sizes = self.splitter.sizes()
        if len(sizes) == 2 and sizes[1] < 80:
            total = sum(sizes)
            self.splitter.setSizes([total * 3 // 5, total * 2 // 5])
        self.detail.tabs.setFocus()

    def open_enterprise(self, ent_id: str) -> None:
        """Select `ent_id` in the list (clearing filters that hide it) and show its detail."""
        if self.model.row_of(ent_id) is None:
            try:
                archived = bool(self.services.enterprises.get(ent_id)["archived"])
            except AppError as exc:
                show_error(self, exc)
                return
            self._drill = None
            self.banner.hide()
            self._set_controls(EnterpriseFilter(include_archived=archived))
            self._apply()
        before = self.detail.refreshes
        self._select(ent_id)
        if self.detail.refreshes == before or self.detail.ent_id != ent_id:  # selecting it did not show it
            self.detail.set_enterprise(ent_id)
        self._update_buttons()

    def _update_counts(self) -> None:
        n = self.model.rowCount()
        self.count_label.setText(f"共 {n} 家")
        if self._drill is not None:
            self.banner_label.setText(f"筛选：{self._drill_title}（共 {n} 家）")

    def _update_buttons(self) -> None:
        row = self.selected_row()
        for button in (self.edit_button, self.archive_button, self.visit_button):
            button.setEnabled(bool(row))
        self.archive_button.setText("取消归档" if row.get("archived") else "归档")
        self.visit_button.setEnabled(bool(row) and not row.get("archived"))

    # --- Actions -----------------------------------------------------------------------------------
    def new_enterprise(self) -> EnterpriseDialog:
        """Open the 新建企业 dialog (window-modal); the list shows the new enterprise after 保存."""
        return self._open_dialog(None)

    def edit_enterprise(self) -> EnterpriseDialog | None:
        ent_id = self.selected_id()
        return self._open_dialog(ent_id) if ent_id else None

    def _open_dialog(self, ent_id: str | None) -> EnterpriseDialog:
        dialog = EnterpriseDialog(self.services, self.settings, self, ent_id=ent_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._saved(dialog.saved_id, dialog.warnings, editing=ent_id is not None))
        dialog.open_existing.connect(self.open_enterprise)
        dialog.open()
        return dialog

    def _saved(self, ent_id: str | None, warnings: tuple[str, ...], *, editing: bool) -> None:
        if not ent_id:
            return
        name = self.services.enterprises.get(ent_id)["name"]
        message = f"已保存企业“{name}”" if editing else f"已新建企业“{name}”"
        if warnings:
            message += "（提示：" + "；".join(warnings) + "）"
        self._changed(message)
        if self.model.row_of(ent_id) is None:
            self.open_enterprise(ent_id)  # hidden by the filters: show it anyway
        else:
            self._select(ent_id)

    def toggle_archived(self) -> None:
        row = self.selected_row()
        if not row:
            return
        archive = not row.get("archived")
        try:
            self.services.enterprises.set_archived(row["id"], archive)
        except AppError as exc:
            show_error(self, exc)
            return
        if archive:
            hint = "" if self.archived_check.isChecked() else "，勾选“含已归档”可查看"
            self._changed(f"已归档企业“{row['name']}”{hint}")
        else:
            self._changed(f"已取消归档企业“{row['name']}”")

    def export_list(self):
        """导出…: every enterprise of the list (filters and sort as shown), not only the rows loaded."""
        from app.list_export import list_table
        from ui.list_export import export_list

        ids = self.model.ids()
        title = f"企业列表（{self._drill_title}）" if self._drill is not None else "企业列表"
        return export_list(self, self.services, self.settings, self.tasks, self.bus, title,
                           lambda svc: list_table(svc, "enterprises", ids))

    def import_roster(self):
        """导入名单…: the dialog announces the imported rows on the bus (the main window refreshes the lists)."""
        from ui.dialogs.roster_import_dialog import open_roster_import

        return open_roster_import(self, self.services, self.bus, self.settings, self.tasks)

    def log_visit(self) -> None:
        ent_id = self.selected_id()
        if ent_id:
            self.bus.new_visit.emit(ent_id)

    def _changed(self, message: str) -> None:
        """After a save: tell the other views, refresh (unless a data_changed listener already did) and say so."""
        before = self._refreshes
        self.bus.data_changed.emit()
        if self._refreshes == before:
            self.refresh()
        self.bus.status_message.emit(message)

    # --- State -------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        self.splitter.setSizes([460, 300])
        state = self.settings.get(splitter_key(VIEW_NAME, SPLITTER_NAME))
        if state:
            self.splitter.restoreState(QByteArray(state))
        header = self.settings.get(HEADER_STATE)
        if header:
            self.table.horizontalHeader().restoreState(QByteArray(header))

    def _save_state(self) -> None:
        self.settings.set(splitter_key(VIEW_NAME, SPLITTER_NAME), self.splitter.saveState().data())
        self.settings.set(HEADER_STATE, self.table.horizontalHeader().saveState().data())

    def hideEvent(self, event) -> None:
        self._save_state()
        super().hideEvent(event)


def _select_data(combo: QComboBox, value: Any, label_of) -> None:
    """Select the item holding `value` (None: the first, 全部), adding one when the combo lacks it."""
    if value is None:
        combo.setCurrentIndex(0)
        return
    index = combo.findData(value)
    if index < 0:
        try:
            combo.addItem(label_of(value), value)
        except AppError:
            combo.addItem(str(value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
