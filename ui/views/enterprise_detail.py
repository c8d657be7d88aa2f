"""EnterpriseDetail: one enterprise's 基本信息, 走访记录, 问题, 包联干部 and 操作记录 tabs (under the enterprise list)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QDate, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.clock import parse_date, today
from app.errors import AppError, NotFoundError
from app.privacy import mask_name, mask_phone
from app.services import Services
from ui.bus import AppBus
from ui.dialogs.enterprise_dialog import plain_label
from ui.models.enterprise_model import STATUS_COLOURS, last_visit_text
from ui.models.enterprise_tabs import (
    AssignmentTableModel,
    HistoryTableModel,
    ProblemTabModel,
    VisitTabModel,
    referenced_ids,
)
from ui.models.lazy_table import OBJECT_ROLE
from ui.settings import PreserveGeometry, Settings
from ui.widgets.tables import make_table, set_table_model

log = logging.getLogger(__name__)

CADRE_CHOICES = 100  # cadres listed in 添加包联 at a time
ASSIGNMENT_ROLES = ("包联干部", "首席服务官", "服务专员", "金牌店小二", "星级服务员", "工作组组长")
INFO_FIELDS = (
    ("name", "企业名称"), ("uscc", "统一社会信用代码"), ("unit_name", "所属单位"), ("township", "乡镇街道"),
    ("industry", "行业"), ("scale", "企业规模"), ("status", "经营状态"), ("tags", "标签"),
    ("legal_rep", "法定代表人"), ("last_visit", "最近走访"), ("contact_name", "联系人"), ("contact_phone", "联系电话"),
    ("address", "地址"), ("note", "备注"),
)  # fmt: skip
_WIDE = {"address", "note"}


def _date_edit(value: str | None = None) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(
        QDate.fromString(value, "yyyy-MM-dd") if value else QDate.fromString(today().isoformat(), "yyyy-MM-dd")
    )
    return edit


class AssignmentDialog(PreserveGeometry, QDialog):
    """添加包联: find a cadre (name, unit or pinyin initials), the role and the start date.

    The list holds at most CADRE_CHOICES cadres — the enterprise's unit's first — and is asked again as the user
    types: a city hub has 50,000 cadres, too many to list (or hide one by one) in a dialog."""

    def __init__(self, services: Services, settings: Settings, ent_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("AssignmentDialog")
        self.setWindowTitle("添加包联干部")
        self.services = services
        self.ent_id = ent_id
        self.saved_id: str | None = None
        self._current = {a["cadre_id"] for a in services.people.assignments_of_enterprise(ent_id, history=False)}
        try:
            self._unit_id = services.enterprises.get(ent_id)["unit_id"]
        except AppError:
            self._unit_id = None
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("输入姓名、单位或拼音首字母查找")
        self.search_edit.setClearButtonEnabled(True)
        self.cadre_list = QListWidget()
        self.cadre_list.setMinimumHeight(220)
        self.more_label = plain_label(role="hint")
        self.role_combo = QComboBox()
        self.role_combo.setEditable(True)
        self.role_combo.addItems(list(ASSIGNMENT_ROLES))
        self.start_edit = _date_edit()
        self.note_edit = QLineEdit()
        self.error_label = plain_label(role="error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox()
        self.ok_button = self.buttons.addButton("添加包联", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setProperty("role", "primary")
        self.ok_button.setDefault(True)
        self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole).setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("包联角色", self.role_combo)
        form.addRow("开始日期", self.start_edit)
        form.addRow("备注", self.note_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label("助企干部"))
        layout.addWidget(self.search_edit)
        layout.addWidget(self.cadre_list, 1)
        layout.addWidget(self.more_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.search_edit.textChanged.connect(self._filter)
        self.cadre_list.itemDoubleClicked.connect(lambda _item: self.save())
        self.setMinimumWidth(420)
        self._filter("")
        self.init_geometry(settings)

    def _add_item(self, c: dict) -> QListWidgetItem:
        text = f"{c['name']}　{c['unit_name']} · {c['role']}" + (f" · {c['post']}" if c.get("post") else "")
        item = QListWidgetItem(text + ("（已在包联）" if c["id"] in self._current else ""))
        item.setData(OBJECT_ROLE, c["id"])
        if c["id"] in self._current:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
        self.cadre_list.addItem(item)
        return item

    def _filter(self, text: str) -> None:
        """The cadres for what is typed (at most CADRE_CHOICES), the enterprise's unit's first."""
        self.cadre_list.clear()
        found = self.services.people.find_cadres(text, limit=CADRE_CHOICES + 1, unit_id=self._unit_id)
        for c in found[:CADRE_CHOICES]:
            self._add_item(c)
        if len(found) > CADRE_CHOICES:
            self.more_label.setText(f"只列出前 {CADRE_CHOICES} 名，输入姓名、单位或拼音首字母缩小范围。")
        elif not found:
            self.more_label.setText("没有找到这名干部：请检查姓名，或先在“干部”页添加。")
        else:
            self.more_label.setText("")
        self.more_label.setVisible(bool(self.more_label.text()))

    def select_cadre(self, cadre_id: str) -> bool:
        for i in range(self.cadre_list.count()):
            if self.cadre_list.item(i).data(OBJECT_ROLE) == cadre_id:
                self.cadre_list.setCurrentRow(i)
                return True
        try:
            c = self.services.people.cadre(cadre_id)
        except AppError:
            return False
        unit = self.services.reference.unit_names().get(c["unit_id"], "")
        self.cadre_list.setCurrentItem(self._add_item({**c, "unit_name": unit}))
        return True

    def save(self) -> None:
        item = self.cadre_list.currentItem()
        if item is None or item.isHidden() or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self._error("请在列表中选择一名助企干部。")
            return
        try:
            self.saved_id = self.services.people.assign(
                item.data(OBJECT_ROLE), self.ent_id, role=self.role_combo.currentText().strip(),
                start_date=self.start_edit.date().toString("yyyy-MM-dd"), note=self.note_edit.text(),
            )  # fmt: skip
        except AppError as exc:
            self._error(exc.message)
            return
        self.accept()

    def _error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()


class EndAssignmentDialog(PreserveGeometry, QDialog):
    """结束包联: the end date (not before the start) and an optional note."""

    def __init__(self, services: Services, settings: Settings, assignment: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("EndAssignmentDialog")
        self.setWindowTitle("结束包联")
        self.services = services
        self.assignment = assignment
        self.end_edit = _date_edit()
        self.end_edit.setMinimumDate(QDate.fromString(assignment["start_date"], "yyyy-MM-dd"))
        self.note_edit = QLineEdit(assignment.get("note") or "")
        self.error_label = plain_label(role="error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QDialogButtonBox()
        ok = buttons.addButton("结束包联", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setProperty("role", "primary")
        ok.setDefault(True)
        buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole).setAutoDefault(False)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("结束日期", self.end_edit)
        form.addRow("备注", self.note_edit)
        layout = QVBoxLayout(self)
        text = f"结束 {assignment['cadre_name']} 的包联（{assignment['role']}，{assignment['start_date']} 起）"
        layout.addWidget(plain_label(text))
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)
        self.init_geometry(settings)

    def save(self) -> None:
        try:
            self.services.people.end_assignment(
                self.assignment["id"], self.end_edit.date().toString("yyyy-MM-dd"), self.note_edit.text()
            )
        except AppError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            return
        self.accept()


class EnterpriseDetail(QWidget):
    """Tabs about one enterprise; double-clicking a visit or problem asks the bus to open it."""

    changed = Signal(str)
    """A 包联 was added or ended (carries a status message); the view then refreshes and emits data_changed."""

    def __init__(self, services: Services, bus: AppBus, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.ent_id: str | None = None
        self.record: dict = {}
        self.revealed = False
        self._refreshes = 0
        self._history_of: str | None = None  # whose 操作记录 the tab holds: read when the tab is shown

        self.placeholder = plain_label("在上方列表中选择一家企业，这里显示它的详细信息。", role="hint")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label = plain_label()
        font = QFont(self.title_label.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)
        self.subtitle_label = plain_label(role="hint")
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self._build_info_tab()
        self.visit_table = make_table()
        self.visit_table.doubleClicked.connect(lambda ix: self._open(ix, self.bus.open_visit))
        self.problem_table = make_table()
        self.problem_table.doubleClicked.connect(lambda ix: self._open(ix, self.bus.open_problem))
        self._build_assignment_tab()
        self.history_model = HistoryTableModel(parent=self)
        self.history_table = make_table(self.history_model)
        self.tabs.addTab(self.info_tab, "基本信息")
        self.tabs.addTab(self.visit_table, "走访记录")
        self.tabs.addTab(self.problem_table, "问题")
        self.tabs.addTab(self.assignment_tab, "包联干部")
        self.tabs.addTab(self.history_table, "操作记录")
        self.tabs.currentChanged.connect(lambda _i: self._load_history())

        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(4)
        heading = QHBoxLayout()
        heading.addWidget(self.title_label)
        heading.addWidget(self.subtitle_label, 1)
        content_layout.addLayout(heading)
        content_layout.addWidget(self.tabs, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.stack)

    # --- Building ----------------------------------------------------------------------------------
    def _build_info_tab(self) -> None:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.info_values: dict[str, QLabel] = {}
        row = col = 0
        for key, caption in INFO_FIELDS:
            if key in _WIDE and col:
                row, col = row + 1, 0
            label = plain_label(caption + "：", role="hint")
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value = plain_label()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.info_values[key] = value
            grid.addWidget(label, row, col * 2)
            if key == "contact_name":
                self.reveal_button = QPushButton("显示")
                self.reveal_button.setFlat(True)
                self.reveal_button.setCursor(Qt.CursorShape.PointingHandCursor)
                self.reveal_button.setStyleSheet(
                    "QPushButton { border: none; background: transparent; color: #1f5fa8; padding: 0 4px;"
                    " min-height: 0; } QPushButton:hover { text-decoration: underline; }"
                )
                self.reveal_button.setToolTip("显示完整的联系人和联系电话（会记录在日志中）")
                self.reveal_button.clicked.connect(self.toggle_reveal)
                box = QHBoxLayout()
                box.setContentsMargins(0, 0, 0, 0)
                box.addWidget(value)
                box.addWidget(self.reveal_button)
                box.addStretch(1)
                grid.addLayout(box, row, col * 2 + 1)
            else:
                grid.addWidget(value, row, col * 2 + 1, 1, 3 if key in _WIDE else 1)
            if key in _WIDE or col:
                row, col = row + 1, 0
            else:
                col = 1
        grid.setRowStretch(row + 1, 1)
        self.info_tab = QScrollArea()
        self.info_tab.setWidgetResizable(True)
        self.info_tab.setWidget(inner)

    def _build_assignment_tab(self) -> None:
        self.assignment_model = AssignmentTableModel(parent=self)
        self.assignment_table = make_table(self.assignment_model)
        self.add_assignment_button = QPushButton("添加包联…")
        self.add_assignment_button.clicked.connect(self.add_assignment)
        self.end_assignment_button = QPushButton("结束包联…")
        self.end_assignment_button.clicked.connect(self.end_assignment)
        self.end_assignment_button.setEnabled(False)
        self.assignment_table.selectionModel().currentRowChanged.connect(lambda *_: self._update_assignment_buttons())
        bar = QHBoxLayout()
        bar.addWidget(self.add_assignment_button)
        bar.addWidget(self.end_assignment_button)
        bar.addStretch(1)
        bar.addWidget(plain_label("包联关系结束后保留在历史中，不会删除。", role="hint"))
        self.assignment_tab = QWidget()
        layout = QVBoxLayout(self.assignment_tab)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.assignment_table, 1)

    # --- Showing -----------------------------------------------------------------------------------
    def set_enterprise(self, ent_id: str | None) -> None:
        """Show this enterprise (None: the placeholder). Masks personal data again when it changes."""
        if ent_id != self.ent_id:
            self.revealed = False
        self.ent_id = ent_id
        self.refresh()

    def refresh(self) -> None:
        """Re-read the shown enterprise and its tabs (e.g. after data changed)."""
        self._refreshes += 1
        if self.ent_id is None:
            self.record = {}
            self.stack.setCurrentIndex(0)
            return
        try:
            self.record = self.services.enterprises.get(self.ent_id)
        except NotFoundError:
            self.ent_id, self.record = None, {}
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        r = self.record
        self.title_label.setText(r["name"])
        self.subtitle_label.setText(f"  {r['uscc'] or ''} · {r['unit_name']}" + (" · 已归档" if r["archived"] else ""))
        self._fill_info()
        set_table_model(self.visit_table, VisitTabModel(self.services.visits, self.ent_id, self))
        set_table_model(self.problem_table, ProblemTabModel(self.services.problems, self.ent_id, self))
        self.assignment_model.set_rows(self.services.people.assignments_of_enterprise(self.ent_id))
        self._update_assignment_buttons()
        self._history_of = None
        self._load_history()
        self.tabs.setTabText(1, f"走访记录（{self.visit_table.model().rowCount()}）")
        self.tabs.setTabText(2, f"问题（{self.problem_table.model().rowCount()}）")
        current = sum(1 for i in range(self.assignment_model.rowCount()) if self.assignment_model.is_current(i))
        self.tabs.setTabText(3, f"包联干部（{current}）")

    @property
    def refreshes(self) -> int:
        """How many times the panel was (re)filled: lets a caller see whether selecting a row already did it."""
        return self._refreshes

    def _load_history(self) -> None:
        """Fill 操作记录 when it is on screen and holds another enterprise's (or an older) record."""
        if self.tabs.currentWidget() is not self.history_table:
            if self._history_of != self.ent_id:
                self.history_model.set_entries([], {})
            return
        if self._history_of == self.ent_id or self.ent_id is None:
            return
        entries = self.services.enterprises.history(self.ent_id)
        names = self.services.reference.unit_names()
        names.update(self.services.people.cadre_names(referenced_ids(entries, "cadre_id")))
        self.history_model.set_entries(entries, names)
        self._history_of = self.ent_id

    def _fill_info(self) -> None:
        r = self.record
        values = dict(r)
        values["tags"] = "、".join(r.get("tag_list") or [])
        last = parse_date(r.get("last_visit"))
        days = None if last is None else (today() - last).days
        values["last_visit"] = last_visit_text(r.get("last_visit"), days)
        if not self.revealed:
            values["contact_name"] = mask_name(r.get("contact_name"))
            values["contact_phone"] = mask_phone(r.get("contact_phone"))
        for key, label in self.info_values.items():
            label.setText(str(values.get(key) or "—"))
        status = self.info_values["status"]
        colour = STATUS_COLOURS.get(r.get("status") or "")
        status.setStyleSheet(f"color: {colour.name()}; font-weight: bold;" if colour else "")
        has_contact = bool(r.get("contact_name") or r.get("contact_phone"))
        self.reveal_button.setVisible(has_contact)
        self.reveal_button.setText("隐藏" if self.revealed else "显示")

    def toggle_reveal(self) -> None:
        """Show the contact name and phone in full (logged), or mask them again."""
        self.revealed = not self.revealed
        if self.revealed:
            # DESIGN §7: reveals of personal data are recorded (they show in 操作记录).
            self.services.enterprises.record_reveal(self.ent_id, ["contact_name", "contact_phone"])
            log.info("personal data revealed: enterprise %s", self.ent_id)
        self._fill_info()

    def _open(self, index: QModelIndex, signal) -> None:
        record_id = index.data(OBJECT_ROLE)
        if record_id:
            signal.emit(record_id)

    # --- 包联 ---------------------------------------------------------------------------------------
    def selected_assignment(self) -> dict:
        index = self.assignment_table.currentIndex()
        return self.assignment_model.row_dict(index.row()) if index.isValid() else {}

    def _update_assignment_buttons(self) -> None:
        assignment = self.selected_assignment()
        self.end_assignment_button.setEnabled(bool(assignment) and not assignment.get("end_date"))

    def add_assignment(self) -> AssignmentDialog | None:
        """Open the 添加包联 dialog (modal via open()); refreshes and signals data_changed when saved."""
        if self.ent_id is None:
            return None
        dialog = AssignmentDialog(self.services, self.settings, self.ent_id, self)
        dialog.accepted.connect(lambda: self._assignments_changed(f"已添加包联干部（{self.record.get('name', '')}）"))
        dialog.open()
        return dialog

    def end_assignment(self) -> EndAssignmentDialog | None:
        assignment = self.selected_assignment()
        if not assignment or assignment.get("end_date"):
            return None
        dialog = EndAssignmentDialog(self.services, self.settings, assignment, self)
        dialog.accepted.connect(lambda: self._assignments_changed(f"已结束 {assignment['cadre_name']} 的包联"))
        dialog.open()
        return dialog

    def _assignments_changed(self, message: str) -> None:
        before = self._refreshes
        self.changed.emit(message)  # the view emits data_changed and refreshes the list, which refreshes this panel
        if self._refreshes == before:
            self.refresh()
        self.tabs.setCurrentWidget(self.assignment_tab)
