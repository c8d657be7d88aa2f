"""PeopleView: the 干部 page — register 助企干部 and 工作组, see whom each cadre 包联 and open those enterprises."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QModelIndex, Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.enterprises import EnterpriseFilter
from app.errors import AppError, NotFoundError
from app.people import NO_GROUP, ROLES
from app.privacy import mask_phone
from app.services import Services
from ui.bus import AppBus
from ui.dialogs.cadre_dialog import CadreDialog, WorkGroupDialog
from ui.dialogs.enterprise_dialog import plain_label
from ui.errors import show_error
from ui.list_export import export_button
from ui.models.lazy_table import OBJECT_ROLE
from ui.models.people_model import (
    CADRE_COLUMNS,
    GROUP,
    INACTIVE_COLOUR,
    CadreEnterpriseModel,
    CadreFilter,
    CadreTableModel,
    WorkGroupTableModel,
)
from ui.settings import Key, Settings, splitter_key
from ui.widgets.search_box import SearchBox
from ui.widgets.tables import make_table, select_record, set_table_model

log = logging.getLogger(__name__)

VIEW_NAME = "PeopleView"
CADRE_SPLITTER = "cadre_split"
GROUP_SPLITTER = "group_split"
SEARCH_PLACEHOLDER = "搜索姓名、拼音首字母、职务或电话（Ctrl+F）"
CADRE_TAB, GROUP_TAB = range(2)
HEADER_STATE: Key[bytes] = Key(f"columns/{VIEW_NAME}/{len(CADRE_COLUMNS)}", b"", bytes, "干部列表的列宽和排序")


def _title_label() -> QLabel:
    label = plain_label()
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.2)
    font.setBold(True)
    label.setFont(font)
    return label


class CadrePanel(QWidget):
    """The selected cadre: who they are and the enterprises they currently 包联 (double-click opens one)."""

    def __init__(self, services: Services, bus: AppBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.cadre_id: str | None = None
        self.row: dict = {}
        self.placeholder = plain_label("在左侧列表中选择一名干部，\n这里显示他当前包联的企业。", role="hint")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label = _title_label()
        self.subtitle_label = plain_label(role="hint")
        self.subtitle_label.setWordWrap(True)
        self.phone_label = plain_label(role="hint")
        self.caption_label = plain_label()
        self.table = make_table()
        self.table.doubleClicked.connect(self._open)
        self.table.setToolTip("双击打开企业详情")
        self.show_button = QPushButton("查看包联企业")
        self.show_button.setToolTip("在“企业”页列出这名干部包联的企业")
        self.show_button.clicked.connect(self.show_enterprises)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.phone_label)
        layout.addSpacing(6)
        bar = QHBoxLayout()
        bar.addWidget(self.caption_label, 1)
        bar.addWidget(self.show_button)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        hint = plain_label("双击企业打开企业详情。包联关系在企业详情的“包联干部”中添加或结束。", role="hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        outer.addWidget(self.stack)

    def set_cadre(self, cadre_id: str | None) -> None:
        self.cadre_id = cadre_id
        self.refresh()

    def refresh(self) -> None:
        rows = self.services.people.cadre_rows([self.cadre_id]) if self.cadre_id else {}
        self.row = rows.get(self.cadre_id or "", {})
        if not self.row:
            self.cadre_id = None
            self.stack.setCurrentIndex(0)
            return
        r = self.row
        self.stack.setCurrentIndex(1)
        self.title_label.setText(r["name"] + ("（离岗）" if not r["active"] else ""))
        group = r.get("work_group") or "未分组"
        if r.get("is_leader"):
            group += "（组长）"
        roles = [r["role"], r.get("rank") or "", r.get("post") or ""]
        self.subtitle_label.setText(f"{r['unit']} · {group}\n" + " · ".join(p for p in roles if p))
        self.phone_label.setText(f"联系电话：{mask_phone(r.get('phone')) or '—'}　今年走访 {r['visits_year']} 次")
        set_table_model(self.table, CadreEnterpriseModel(self.services.enterprises, r["id"], self))
        self.caption_label.setText(f"当前包联企业（{self.table.model().rowCount()} 家）")
        self.show_button.setEnabled(self.table.model().rowCount() > 0)

    def _open(self, index: QModelIndex) -> None:
        ent_id = index.data(OBJECT_ROLE)
        if ent_id:
            self.bus.open_enterprise.emit(ent_id)

    def show_enterprises(self) -> None:
        if self.row:
            self.bus.show_enterprises.emit(f"{self.row['name']} 包联的企业", EnterpriseFilter(cadre_id=self.row["id"]))


class PeopleView(QWidget):
    """Two tabs: 助企干部 (list, filters, side panel of 包联 enterprises) and 工作组 (list and members)."""

    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(VIEW_NAME)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tasks = tasks
        self._refreshes = 0
        self._build()
        self._connect()
        self._restore_state()
        self._after_cadre_reload(None)
        self._after_group_reload(None)

    # --- Building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_cadre_tab(), "助企干部")
        self.tabs.addTab(self._build_group_tab(), "工作组")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(self.tabs)

    def _build_cadre_tab(self) -> QWidget:
        self.search_box = SearchBox(placeholder=SEARCH_PLACEHOLDER)
        self.new_button = QPushButton("新增干部")
        self.new_button.setProperty("role", "primary")
        self.edit_button = QPushButton("编辑")
        self.edit_button.setToolTip("编辑选中的干部（Ctrl+E，或双击）")
        self.active_button = QPushButton("设为离岗")
        self.import_button = QPushButton("导入名单…")
        self.import_button.setToolTip("从 Excel 或 CSV 导入干部名单、包联名单或企业名单：先逐行预览，确认后再写入")
        self.export_button = export_button(self, [("导出…", self.export_list)],
                                           "把列表中的全部干部（按当前筛选和排序）导出为 Excel 或 CSV；"
                                           "含完整联系电话，导出会记入操作记录")
        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addSpacing(12)
        for button in (self.new_button, self.edit_button, self.active_button):
            top.addWidget(button)
        top.addSpacing(12)
        top.addWidget(self.import_button)
        top.addWidget(self.export_button)

        self.unit_combo = QComboBox()
        self.group_combo = QComboBox()
        self.group_combo.setMaxVisibleItems(20)
        self.role_combo = QComboBox()
        self.role_combo.addItem("全部", None)
        for role in ROLES:
            self.role_combo.addItem(role, role)
        self.inactive_check = QCheckBox("含离岗")
        self.inactive_check.setToolTip("同时列出已离岗的干部（灰色显示）")
        self.count_label = plain_label()
        filters = QHBoxLayout()
        for caption, combo in (("单位", self.unit_combo), ("工作组", self.group_combo), ("服务角色", self.role_combo)):
            label = plain_label(caption)
            label.setBuddy(combo)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            filters.addWidget(label)
            filters.addWidget(combo)
            filters.addSpacing(8)
        filters.addWidget(self.inactive_check)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        self._fill_filter_combos()

        self.model = CadreTableModel(self.services.people, self._control_filter(), self)
        self.table = make_table(self.model)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(GROUP, QHeaderView.ResizeMode.Stretch)  # group names are the long ones
        header.setMinimumSectionSize(40)
        self.panel = CadrePanel(self.services, self.bus)
        self.cadre_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.cadre_splitter.setObjectName(CADRE_SPLITTER)
        self.cadre_splitter.addWidget(self.table)
        self.cadre_splitter.addWidget(self.panel)
        self.cadre_splitter.setStretchFactor(0, 3)
        self.cadre_splitter.setStretchFactor(1, 1)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.cadre_splitter, 1)
        return tab

    def _build_group_tab(self) -> QWidget:
        self.new_group_button = QPushButton("新建工作组")
        self.new_group_button.setProperty("role", "primary")
        self.edit_group_button = QPushButton("编辑")
        self.leader_button = QPushButton("设置组长")
        self.group_count_label = plain_label()
        top = QHBoxLayout()
        top.addWidget(self.new_group_button)
        top.addWidget(self.edit_group_button)
        top.addWidget(self.leader_button)
        top.addStretch(1)
        top.addWidget(self.group_count_label)

        self.group_model = WorkGroupTableModel(parent=self)
        self.group_table = make_table(self.group_model)
        self.group_title = _title_label()
        self.group_subtitle = plain_label(role="hint")
        self.group_subtitle.setWordWrap(True)
        self.member_list = QListWidget()
        self.member_list.setSpacing(2)
        self.member_list.setToolTip("双击成员在“助企干部”中查看")
        members = QWidget()
        members_layout = QVBoxLayout(members)
        members_layout.setContentsMargins(8, 0, 0, 0)
        members_layout.setSpacing(4)
        members_layout.addWidget(self.group_title)
        members_layout.addWidget(self.group_subtitle)
        members_layout.addWidget(self.member_list, 1)
        members_layout.addWidget(plain_label("成员在“助企干部”中编辑干部时选择工作组。", role="hint"))
        self.group_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.group_splitter.setObjectName(GROUP_SPLITTER)
        self.group_splitter.addWidget(self.group_table)
        self.group_splitter.addWidget(members)
        self.group_splitter.setStretchFactor(0, 3)
        self.group_splitter.setStretchFactor(1, 2)

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.group_splitter, 1)
        return tab

    def _fill_filter_combos(self) -> None:
        """(Re)load the 单位 and 工作组 choices from the data, keeping the current ones where possible."""
        names = self.services.reference.unit_names()
        unit_ids = self.services.people.cadre_units()
        own = self.services.installation.unit_id
        if own not in unit_ids:
            unit_ids.insert(0, own)
        current = self.unit_combo.currentData()
        self.unit_combo.blockSignals(True)
        try:
            self.unit_combo.clear()
            self.unit_combo.addItem("全部", None)
            for unit_id in unit_ids:
                self.unit_combo.addItem(names.get(unit_id, unit_id), unit_id)
            self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(current)) if current else 0)
        finally:
            self.unit_combo.blockSignals(False)
        self._fill_group_combo()

    def _fill_group_combo(self) -> None:
        """全部, 未分组 and the groups of the chosen unit (all groups when 全部), keeping the choice if it is there."""
        unit_id = self.unit_combo.currentData()
        groups = self.services.people.work_group_rows(unit_id)
        several_units = len({g["unit_id"] for g in groups}) > 1
        current = self.group_combo.currentData()
        self.group_combo.blockSignals(True)
        try:
            self.group_combo.clear()
            self.group_combo.addItem("全部", None)
            self.group_combo.addItem("未分组", NO_GROUP)
            for g in groups:
                self.group_combo.addItem(f"{g['name']}（{g['unit_name']}）" if several_units else g["name"], g["id"])
            index = self.group_combo.findData(current) if current else 0
            self.group_combo.setCurrentIndex(max(0, index))
        finally:
            self.group_combo.blockSignals(False)

    def _connect(self) -> None:
        self.search_box.search_changed.connect(lambda _text: self._apply())
        self.unit_combo.currentIndexChanged.connect(self._unit_changed)
        for combo in (self.group_combo, self.role_combo):
            combo.currentIndexChanged.connect(lambda _i: self._apply())
        self.inactive_check.toggled.connect(lambda _on: self._apply())
        self.new_button.clicked.connect(self.new_cadre)
        self.import_button.clicked.connect(lambda: self.import_roster())
        self.edit_button.clicked.connect(self.edit_cadre)
        self.active_button.clicked.connect(self.toggle_active)
        self.table.selectionModel().currentRowChanged.connect(self._cadre_current_changed)
        self.table.doubleClicked.connect(lambda _ix: self.edit_cadre())
        self.new_group_button.clicked.connect(self.new_group)
        self.edit_group_button.clicked.connect(self.edit_group)
        self.leader_button.clicked.connect(self.set_leader)
        self.group_table.selectionModel().currentRowChanged.connect(lambda *_: self._group_current_changed())
        self.group_table.doubleClicked.connect(lambda _ix: self.edit_group())
        self.member_list.itemDoubleClicked.connect(self._member_double_clicked)
        for splitter in (self.cadre_splitter, self.group_splitter):
            splitter.splitterMoved.connect(lambda *_: self._save_state())
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+E"), self, self._edit_current_tab, context=context)

    # --- Cadre list --------------------------------------------------------------------------------
    def _control_filter(self) -> CadreFilter:
        return CadreFilter(
            text=self.search_box.search_text(),
            unit_id=self.unit_combo.currentData(),
            work_group_id=self.group_combo.currentData(),
            role=self.role_combo.currentData(),
            include_inactive=self.inactive_check.isChecked(),
        )

    def current_filter(self) -> CadreFilter:
        return self.model.filter

    def _unit_changed(self, _index: int) -> None:
        self._fill_group_combo()
        self._apply()

    def _apply(self) -> None:
        selected = self.selected_id()
        self.model.set_filter(self._control_filter())
        self._after_cadre_reload(selected)

    def clear_filters(self) -> None:
        """Back to every 在岗 cadre: no search, unit, group or role filter."""
        widgets = (self.search_box, self.unit_combo, self.group_combo, self.role_combo, self.inactive_check)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.search_box.clear()
            self.search_box.flush()
            self.unit_combo.setCurrentIndex(0)
            self.role_combo.setCurrentIndex(0)
            self.inactive_check.setChecked(False)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._fill_group_combo()
        self.group_combo.setCurrentIndex(0)
        self._apply()

    def import_roster(self):
        """导入名单…: the dialog announces the imported rows on the bus (the main window refreshes the lists)."""
        from ui.dialogs.roster_import_dialog import open_roster_import

        return open_roster_import(self, self.services, self.bus, self.settings, self.tasks)

    def export_list(self):
        """导出…: every cadre of the list (filters and sort as shown), not only the rows loaded."""
        from app.list_export import list_table
        from ui.list_export import export_list

        ids = self.model.ids()
        return export_list(self, self.services, self.settings, self.tasks, self.bus, "助企干部",
                           lambda svc: list_table(svc, "cadres", ids))

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_row(self) -> dict:
        index = self.table.currentIndex()
        return self.model.row_dict(index.row()) if index.isValid() else {}

    def select_cadre(self, cadre_id: str) -> bool:
        """Show `cadre_id` in the 助企干部 tab, clearing filters that hide it."""
        self.tabs.setCurrentIndex(CADRE_TAB)
        if self.model.row_of(cadre_id) is None:
            try:
                active = self.services.people.cadre(cadre_id)["active"]
            except NotFoundError as exc:
                show_error(self, exc)
                return False
            self.clear_filters()
            if not active:
                self.inactive_check.setChecked(True)
        return self._select(cadre_id)

    def _select(self, cadre_id: str | None) -> bool:
        return select_record(self.table, cadre_id)

    def _after_cadre_reload(self, selected: str | None) -> None:
        if not self._select(selected):
            self.table.clearSelection()
            self.table.setCurrentIndex(QModelIndex())
            self.panel.set_cadre(None)
        else:
            self.panel.set_cadre(selected)
        n = self.model.rowCount()
        self.count_label.setText(f"共 {n} 人")
        self.tabs.setTabText(CADRE_TAB, f"助企干部（{n}）")
        self._update_cadre_buttons()

    def _cadre_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.panel.set_cadre(self.model.id_at(current.row()) if current.isValid() else None)
        self._update_cadre_buttons()

    def _update_cadre_buttons(self) -> None:
        row = self.selected_row()
        self.edit_button.setEnabled(bool(row))
        self.active_button.setEnabled(bool(row))
        inactive = bool(row) and not row.get("active")
        self.active_button.setText("恢复在岗" if inactive else "设为离岗")
        self.active_button.setToolTip(
            "恢复后可再在走访和包联中选择这名干部"
            if inactive
            else "离岗后不再出现在走访和包联的干部选择中，已有记录保留"
        )

    # --- Work groups -------------------------------------------------------------------------------
    def selected_group_id(self) -> str | None:
        index = self.group_table.currentIndex()
        return self.group_model.id_at(index.row()) if index.isValid() else None

    def selected_group(self) -> dict:
        index = self.group_table.currentIndex()
        return self.group_model.row_dict(index.row()) if index.isValid() else {}

    def select_group(self, group_id: str | None) -> bool:
        return select_record(self.group_table, group_id, scroll=False)

    def _after_group_reload(self, selected: str | None) -> None:
        if not self.select_group(selected):
            self.group_table.clearSelection()
            self.group_table.setCurrentIndex(QModelIndex())
        n = self.group_model.rowCount()
        self.group_count_label.setText(f"共 {n} 个工作组")
        self.tabs.setTabText(GROUP_TAB, f"工作组（{n}）")
        self._group_current_changed()

    def _group_current_changed(self) -> None:
        group = self.selected_group()
        self.edit_group_button.setEnabled(bool(group))
        self.leader_button.setEnabled(bool(group))
        self.member_list.clear()
        if not group:
            self.group_title.setText("")
            self.group_subtitle.setText("选择一个工作组查看成员。")
            return
        self.group_title.setText(group["name"])
        leader = group.get("leader_name") or "未设"
        self.group_subtitle.setText(f"{group['unit_name']} · 组长：{leader} · 在岗成员 {group['active_members']} 人")
        members = self.services.people.cadre_ids(work_group_id=group["id"], include_inactive=True, sort_key="role")
        rows = self.services.people.cadre_rows(members)
        members.sort(key=lambda i: not rows.get(i, {}).get("is_leader"))  # the leader first
        for cadre_id in members:
            r = rows.get(cadre_id)
            if not r:
                continue
            marks = ("（组长）" if r["is_leader"] else "") + ("（离岗）" if not r["active"] else "")
            extra = f" · {r['post']}" if r.get("post") else ""
            item = QListWidgetItem(f"{r['name']}{marks}　{r['role']}{extra}")
            item.setData(OBJECT_ROLE, cadre_id)
            if not r["active"]:
                item.setForeground(INACTIVE_COLOUR)
            self.member_list.addItem(item)
        if not members:
            self.member_list.addItem(QListWidgetItem("（暂无成员）"))

    def _member_double_clicked(self, item: QListWidgetItem) -> None:
        cadre_id = item.data(OBJECT_ROLE)
        if cadre_id:
            self.select_cadre(cadre_id)

    # --- Refreshing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-query both lists and the filter choices (keeping filters, sort and selections)."""
        self._refreshes += 1
        selected, group = self.selected_id(), self.selected_group_id()
        self._fill_filter_combos()
        self.model.set_filter(self._control_filter())
        self._after_cadre_reload(selected)
        self.group_model.set_rows(self.services.people.work_group_rows())
        self._after_group_reload(group)

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(CADRE_TAB)
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    # --- Actions -----------------------------------------------------------------------------------
    def _edit_current_tab(self) -> None:
        if self.tabs.currentIndex() == CADRE_TAB:
            self.edit_cadre()
        else:
            self.edit_group()

    def new_cadre(self) -> CadreDialog:
        """Open the 新增干部 dialog (window-modal); the list shows the new cadre after 保存."""
        return self._open_cadre_dialog(None)

    def edit_cadre(self) -> CadreDialog | None:
        cadre_id = self.selected_id()
        return self._open_cadre_dialog(cadre_id) if cadre_id else None

    def _open_cadre_dialog(self, cadre_id: str | None) -> CadreDialog:
        dialog = CadreDialog(self.services, self.settings, self, cadre_id=cadre_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._cadre_saved(dialog.saved_id, editing=cadre_id is not None))
        dialog.open()
        return dialog

    def _cadre_saved(self, cadre_id: str | None, *, editing: bool) -> None:
        if not cadre_id:
            return
        name = self.services.people.cadre(cadre_id)["name"]
        self._changed(f"已保存助企干部“{name}”" if editing else f"已新增助企干部“{name}”")
        if not self._select(cadre_id):
            self.select_cadre(cadre_id)  # hidden by the filters: show it anyway

    def toggle_active(self) -> None:
        row = self.selected_row()
        if not row:
            return
        activate = not row.get("active")
        try:
            self.services.people.update_cadre(row["id"], active=activate)
        except AppError as exc:
            show_error(self, exc)
            return
        if activate:
            self._changed(f"已恢复“{row['name']}”为在岗")
            return
        if not self.inactive_check.isChecked():
            self.inactive_check.blockSignals(True)
            self.inactive_check.setChecked(True)  # keep the row in sight (greyed) so it can be restored
            self.inactive_check.blockSignals(False)
        message = f"已将“{row['name']}”设为离岗"
        if row.get("assignments"):
            message += f"；仍包联 {row['assignments']} 家企业，可在企业详情的“包联干部”中结束或改由他人包联"
        self._changed(message)
        self._select(row["id"])

    def new_group(self) -> WorkGroupDialog:
        self.tabs.setCurrentIndex(GROUP_TAB)
        return self._open_group_dialog(None)

    def edit_group(self) -> WorkGroupDialog | None:
        group_id = self.selected_group_id()
        return self._open_group_dialog(group_id) if group_id else None

    def set_leader(self) -> WorkGroupDialog | None:
        """The group's dialog titled 设置组长, with the 组长 choice focused."""
        group_id = self.selected_group_id()
        if not group_id:
            return None
        dialog = self._open_group_dialog(group_id)
        dialog.setWindowTitle("设置组长")
        dialog.focus_field("leader_cadre_id")
        return dialog

    def _open_group_dialog(self, group_id: str | None) -> WorkGroupDialog:
        dialog = WorkGroupDialog(self.services, self.settings, self, group_id=group_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._group_saved(dialog.saved_id, editing=group_id is not None))
        dialog.open()
        return dialog

    def _group_saved(self, group_id: str | None, *, editing: bool) -> None:
        if not group_id:
            return
        name = self.services.people.work_group(group_id)["name"]
        self._changed(f"已保存工作组“{name}”" if editing else f"已新建工作组“{name}”")
        self.select_group(group_id)

    def _changed(self, message: str) -> None:
        """After a save: tell the other views, refresh (unless a data_changed listener already did) and say so."""
        before = self._refreshes
        self.bus.data_changed.emit()
        if self._refreshes == before:
            self.refresh()
        self.bus.status_message.emit(message)

    # --- State -------------------------------------------------------------------------------------
    def _restore_state(self) -> None:
        self.cadre_splitter.setSizes([910, 320])
        self.group_splitter.setSizes([700, 480])
        for splitter in (self.cadre_splitter, self.group_splitter):
            state = self.settings.get(splitter_key(VIEW_NAME, splitter.objectName()))
            if state:
                splitter.restoreState(QByteArray(state))
        header = self.settings.get(HEADER_STATE)
        if header:
            self.table.horizontalHeader().restoreState(QByteArray(header))
        self.group_model.set_rows(self.services.people.work_group_rows())

    def _save_state(self) -> None:
        for splitter in (self.cadre_splitter, self.group_splitter):
            self.settings.set(splitter_key(VIEW_NAME, splitter.objectName()), splitter.saveState().data())
        self.settings.set(HEADER_STATE, self.table.horizontalHeader().saveState().data())

    def hideEvent(self, event) -> None:
        self._save_state()
        super().hideEvent(event)
