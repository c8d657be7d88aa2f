"""VisitsView: the 走访记录 page — filters, the lazy list, and a read-only detail pane with 修改文字."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from PySide6.QtCore import QDate, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.errors import AppError
from app.privacy import mask_phone
from app.services import Services
from app.visits import KINDS, VisitFilter
from ui.bus import AppBus
from ui.dialogs.visit_dialog import VisitDialog, VisitTextDialog
from ui.errors import show_error
from ui.list_export import export_button
from ui.models.visit_model import COL_DATE, COLUMNS, VisitTableModel
from ui.settings import Settings
from ui.widgets.attachments_panel import AttachmentsPanel
from ui.widgets.search_box import SearchBox

log = logging.getLogger(__name__)

NO_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as 不限
LINK_STYLE = (
    "QLabel[role='link'] { color: #1f5fa8; padding: 1px 0; } QLabel[role='link']:hover,"
    " QLabel[role='link']:focus { text-decoration: underline; }"
)


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _iso(q: QDate) -> str | None:
    return None if q == NO_DATE else f"{q.year():04d}-{q.month():02d}-{q.day():02d}"


def _plain(text: str = "", role: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if role:
        label.setProperty("role", role)
    return label


class LinkLabel(QLabel):
    """Plain-text label that wraps and acts like a link: click, or Tab to it and press Enter/Space."""

    clicked = Signal()

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setProperty("role", "link")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


def _link(text: str, on_click) -> LinkLabel:
    link = LinkLabel(text)
    link.clicked.connect(on_click)
    return link


class VisitDetail(QWidget):
    """The selected visit, read-only; enterprises and problems open their own pages through the bus."""

    def __init__(self, bus: AppBus, parent: QWidget | None = None, *, attachments: AttachmentsPanel | None = None):
        super().__init__(parent)
        self.bus = bus
        self.visit: dict | None = None
        # One panel for every visit shown: moved into each new body (the old body is deleted with its children).
        self.attachments = attachments
        if attachments is not None:
            attachments.setParent(self)
            attachments.hide()
        self.setObjectName("visitDetail")
        self.setStyleSheet("#visitDetail, #visitDetailBody { background: #ffffff; } " + LINK_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.title_label = _plain()
        self.title_label.setStyleSheet("font-size: 13pt; font-weight: bold; color: #1f5fa8;")
        self.edit_button = QPushButton("修改文字")
        self.edit_button.setToolTip("修改走访情况、宣讲政策、后续跟进")
        head = QHBoxLayout()
        head.setContentsMargins(16, 10, 12, 2)
        head.addWidget(self.title_label, 1)
        head.addWidget(self.edit_button)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(head)
        layout.addWidget(self.scroll, 1)
        self.summary_label = self.policies_label = self.follow_up_label = None
        self.show_visit(None)

    def _section(self, title: str) -> None:
        label = QLabel(title)
        label.setStyleSheet("font-weight: bold; color: #243b53; padding-top: 8px;")
        self._layout.addWidget(label)

    def _text(self, title: str, text: str) -> QLabel:
        self._section(title)
        label = _plain(text.strip() or "（无）", None if text.strip() else "hint")
        self._layout.addWidget(label)
        return label

    def show_visit(self, visit: dict | None, hint: str = "在左侧列表中选择一条走访记录查看详情。") -> None:
        """Show `visit` (VisitService.get) or, for None, the `hint`."""
        self.visit = visit
        body = QWidget()
        body.setObjectName("visitDetailBody")
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(16, 4, 16, 12)
        self._layout.setSpacing(4)
        if self.attachments is not None:
            self.attachments.hide()
            self.attachments.setParent(self)  # out of the old body before it goes
        self.scroll.setWidget(body)  # the previous body is deleted by the scroll area
        self.edit_button.setVisible(visit is not None)
        if visit is None:
            if self.attachments is not None:
                self.attachments.set_owner("visits", None)
            self.title_label.setText("")
            self._layout.addWidget(_plain(hint, "hint"))
            self._layout.addStretch(1)
            return
        self.title_label.setText(visit["record_no"])
        when = " ".join(x for x in (visit["visit_date"], visit.get("start_time") or "") if x)
        facts = [f"日期：{when}", f"方式：{visit['kind']}"]
        if visit.get("location"):
            facts.append(f"地点：{visit['location']}")
        self._layout.addWidget(_plain("    ".join(facts)))

        self._section(f"走访企业（{len(visit['enterprises'])}）")
        for ent in visit["enterprises"]:
            text = ent["name"] + (f"（经营状态：{ent['status_seen']}）" if ent.get("status_seen") else "")
            self._layout.addWidget(_link(text, lambda e=ent["id"]: self.bus.open_enterprise.emit(e)))
        self._section("参加干部")
        self._layout.addWidget(_plain("、".join(c["name"] for c in visit["cadres"]) or "（无）"))
        self._section("企业参加人员")
        many = len(visit["enterprises"]) > 1
        for a in visit["attendees"]:
            parts = [a["name"] + (f"（{a['title']}）" if a.get("title") else "")]
            if a.get("phone"):
                parts.append(mask_phone(a["phone"]))
            if many and a.get("enterprise_name"):
                parts.append(a["enterprise_name"])
            self._layout.addWidget(_plain("    ".join(parts)))
        if not visit["attendees"]:
            self._layout.addWidget(_plain("（无）", "hint"))
        self.summary_label = self._text("走访情况", visit["summary"] or "")
        self.policies_label = self._text("宣讲政策", visit["policies"] or "")
        self.follow_up_label = self._text("后续跟进", visit["follow_up"] or "")
        self._section(f"收集的问题（{len(visit['problems'])}）")
        for p in visit["problems"]:
            text = f"{p['record_no']}  [{p.get('category') or p['category_code']}] {p['title']} · {p['status']}"
            if many:
                text += f" · {p['enterprise_name']}"
            self._layout.addWidget(_link(text, lambda pid=p["id"]: self.bus.open_problem.emit(pid)))
        if not visit["problems"]:
            self._layout.addWidget(_plain("（无）", "hint"))
        if self.attachments is not None:
            self._section("附件（扫描件）")
            self._layout.addWidget(self.attachments)
            self.attachments.set_owner("visits", visit["id"])
            self.attachments.show()
        self._layout.addStretch(1)

    def links(self) -> list[LinkLabel]:
        """The enterprise and problem links, in order."""
        return self.scroll.widget().findChildren(LinkLabel)


class VisitsView(QWidget):
    """走访记录: search and filters, the list, the detail of the selected visit; 新建走访 opens VisitDialog."""

    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tasks = tasks
        self.dialog: VisitDialog | None = None
        self.text_dialog: VisitTextDialog | None = None
        self._drill: tuple[str, VisitFilter] | None = None
        self._selecting = False
        self._build()
        self._after_reset()  # the model was built with the filter of the controls: one query, not another

    # --- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.search = SearchBox(placeholder="搜索记录编号、企业名称、走访情况…（Ctrl+F）")
        self.search.setMinimumWidth(240)
        self.search.search_changed.connect(self._reload)
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("全部方式", None)
        for kind in KINDS:
            self.kind_combo.addItem(kind, kind)
        self.kind_combo.currentIndexChanged.connect(self._reload)
        self.from_edit, self.to_edit = self._date_edit("起始日期"), self._date_edit("截止日期")
        self.mine_check = QCheckBox("仅我参加的")
        self.mine_check.setEnabled(bool(self.services.installation.cadre_id))
        self.mine_check.toggled.connect(self._reload)
        self.new_button = QPushButton("新建走访 (Ctrl+N)")
        self.new_button.setProperty("role", "primary")
        self.new_button.clicked.connect(lambda: self.new_visit())

        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.kind_combo)
        bar.addWidget(QLabel("日期"))
        bar.addWidget(self.from_edit)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.to_edit)
        self.quick_buttons: dict[str, QPushButton] = {}
        for name in ("本月", "本季度", "今年", "全部"):
            button = QPushButton(name)
            button.setStyleSheet("padding: 4px 8px;")
            button.clicked.connect(lambda _=False, n=name: self.set_period(n))
            self.quick_buttons[name] = button
            bar.addWidget(button)
        bar.addWidget(self.mine_check)
        bar.addStretch(1)
        self.export_button = export_button(self, [("导出…", self.export_list)],
                                           "把列表中的全部走访记录（按当前筛选和排序）导出为 Excel 或 CSV")
        bar.addWidget(self.export_button)
        bar.addWidget(self.new_button)

        self.banner = QFrame()
        self.banner.setStyleSheet(
            "QFrame { background: #fff7e0; border: 1px solid #f0d48a; border-radius: 3px; }"
            " QLabel { border: none; background: transparent; }"
        )
        self.banner_label = _plain()
        self.banner_clear = QPushButton("清除")
        self.banner_clear.clicked.connect(self.clear_filter)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(8, 3, 4, 3)
        banner_row.addWidget(self.banner_label, 1)
        banner_row.addWidget(self.banner_clear)
        self.banner.hide()

        # Built sorted the way the header shows it (newest first), so turning sorting on does not query again.
        self.model = VisitTableModel(self.services.visits, self.current_filter(), parent=self, sort_column=COL_DATE,
                                     sort_order=Qt.SortOrder.DescendingOrder)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # Several rows can be selected (Ctrl/Shift+click) to print their records as one batch.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSortIndicator(COL_DATE, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)  # newest first; sorting runs in SQL
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for i, column in enumerate(COLUMNS):
            if column.width:
                header.resizeSection(i, column.width)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._after_reset)

        self.count_label = QLabel()
        self.count_label.setProperty("role", "hint")
        left = QWidget()
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.setSpacing(4)
        left_col.addWidget(self.table, 1)
        left_col.addWidget(self.count_label)

        self.detail = VisitDetail(self.bus, attachments=AttachmentsPanel(self.services))
        self.detail.attachments.message.connect(self.bus.status_message)
        self.detail.edit_button.clicked.connect(self.edit_text)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("visits_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([840, 420])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText("不限")
        edit.setDate(NO_DATE)
        edit.setToolTip(f"{tip}（选最早日期即“不限”）")
        edit.dateChanged.connect(self._reload)
        return edit

    # --- filtering --------------------------------------------------------------------------------
    def current_filter(self) -> VisitFilter:
        """The drill-down filter (if any) narrowed by the search box and the filter controls."""
        f = replace(self._drill[1]) if self._drill else VisitFilter()
        if self.search.search_text():
            f.text = self.search.search_text()
        if self.kind_combo.currentData():
            f.kind = self.kind_combo.currentData()
        if _iso(self.from_edit.date()):
            f.date_from = _iso(self.from_edit.date())
        if _iso(self.to_edit.date()):
            f.date_to = _iso(self.to_edit.date())
        if self.mine_check.isChecked():
            f.cadre_id = self.services.installation.cadre_id
        return f

    def set_period(self, name: str) -> None:
        """Quick date range: 本月, 本季度, 今年 (up to today) or 全部."""
        t = today()
        start = {
            "本月": t.replace(day=1),
            "本季度": date(t.year, (t.month - 1) // 3 * 3 + 1, 1),
            "今年": date(t.year, 1, 1),
        }.get(name)
        with _Quiet(self.from_edit, self.to_edit):
            self.from_edit.setDate(_qdate(start) if start else NO_DATE)
            self.to_edit.setDate(_qdate(t) if start else NO_DATE)
        self._reload()

    def apply_filter(self, title: str, f: VisitFilter) -> None:
        """Drill-down from elsewhere (dashboard, enterprise page): show only these visits under a banner."""
        self._drill = (title, replace(f))
        with _Quiet(self.search, self.kind_combo, self.from_edit, self.to_edit, self.mine_check):
            self.search.clear()
            self.search.flush()
            self.kind_combo.setCurrentIndex(0)
            self.from_edit.setDate(NO_DATE)
            self.to_edit.setDate(NO_DATE)
            self.mine_check.setChecked(False)
        self._reload()

    def clear_filter(self) -> None:
        self._drill = None
        self._reload()

    def _reload(self, *_args) -> None:
        self.model.set_filter(self.current_filter())

    def refresh(self) -> None:
        """Re-query the list (after data changed), keeping the selected visit."""
        self.model.refresh()

    def _after_reset(self) -> None:
        n = self.model.rowCount()
        self.count_label.setText(f"共 {n} 条走访记录")
        if self._drill:
            self.banner_label.setText(f"筛选：{self._drill[0]}（共 {n} 条）")
        self.banner.setVisible(self._drill is not None)
        shown = self.detail.visit["id"] if self.detail.visit else None
        row = self.model.row_of(shown) if shown else None
        if row is None and n:
            row = 0
        if row is None:
            filtered = self.current_filter() != VisitFilter()
            self.detail.show_visit(
                None, "没有符合条件的走访记录。" if filtered else "还没有走访记录。点击“新建走访”（Ctrl+N）登记第一条。"
            )
        else:
            self._select_row(row)
            self._show(self.model.id_at(row))

    def _select_row(self, row: int) -> None:
        """Make `row` current without fetching its detail (callers show it once)."""
        index = self.model.index(row, 0)
        self._selecting = True
        try:
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        finally:
            self._selecting = False
        self.table.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selecting:
            return
        self._show(self.model.id_at(current.row()) if current.isValid() else None)

    def _show(self, visit_id: str | None) -> None:
        if visit_id is None:
            self.detail.show_visit(None)
            return
        try:
            visit = self.services.visits.get(visit_id)
        except AppError:
            self.detail.show_visit(None)
            return
        self.detail.show_visit(visit)

    # --- actions ----------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def selected_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.id_at(r) for r in rows]

    def print_current(self, jobs) -> None:
        """Ctrl+P: 走访记录表 of the selected visits, or of every visit in the list (a batch)."""
        from ui.print_menu import print_visits

        selected = self.selected_ids() or ([self.selected_id()] if self.selected_id() else [])
        print_visits(self, self.services, jobs, selected, self.model.ids())

    def export_list(self):
        """导出…: every visit of the list (filters and sort as shown), not only the rows loaded."""
        from app.list_export import list_table
        from ui.list_export import export_list

        ids = self.model.ids()
        title = f"走访记录（{self._drill[0]}）" if self._drill else "走访记录"
        return export_list(self, self.services, self.settings, self.tasks, self.bus, title,
                           lambda svc: list_table(svc, "visits", ids))

    def open_visit(self, visit_id: str) -> None:
        """Select the visit and show its detail (clearing filters that hide it)."""
        if self.model.row_of(visit_id) is None:
            self.apply_filter("指定走访记录", VisitFilter(ids=[visit_id]))
        row = self.model.row_of(visit_id)
        if row is not None:
            self._select_row(row)
            self._show(visit_id)

    def new_visit(self, enterprise_id: str | None = None) -> VisitDialog:
        """Open the visit form (window-modal, not blocking), with `enterprise_id` already chosen.

        While a form is open it is brought to the front instead (with the enterprise added to it).
        """
        if self.dialog is not None:
            if enterprise_id:
                self.dialog.picker.add_id(enterprise_id)
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = VisitDialog(self.services, self.settings, self, enterprise_id=enterprise_id or None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._saved(dialog.saved_id))
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self) -> None:
        self.dialog = None

    def _saved(self, visit_id: str | None) -> None:
        if not visit_id:
            return
        visit = self.services.visits.get(visit_id)
        problems = len(visit["problems"])
        self.refresh()
        self.bus.data_changed.emit()
        self.bus.status_message.emit(
            f"已保存走访记录 {visit['record_no']}" + (f"，登记问题 {problems} 个" if problems else "")
        )
        self.open_visit(visit_id)

    def edit_text(self) -> VisitTextDialog | None:
        """修改文字 of the visit in the detail pane."""
        visit_id = self.detail.visit["id"] if self.detail.visit else None
        if not visit_id:
            return None
        try:
            dialog = VisitTextDialog(self.services, self.settings, visit_id, self)
        except AppError as exc:
            show_error(self, exc)
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._text_saved)
        dialog.finished.connect(lambda _r: setattr(self, "text_dialog", None))
        self.text_dialog = dialog
        dialog.open()
        return dialog

    def _text_saved(self) -> None:
        self.refresh()  # the list's 走访情况 column and the detail
        self.bus.data_changed.emit()
        self.bus.status_message.emit("已修改走访记录文字")


class _Quiet:
    """Block the signals of some widgets for a batch of programmatic changes."""

    def __init__(self, *widgets: QWidget):
        self.widgets = widgets

    def __enter__(self) -> None:
        self._was = [w.blockSignals(True) for w in self.widgets]

    def __exit__(self, *_exc) -> None:
        for w, was in zip(self.widgets, self._was, strict=True):
            w.blockSignals(was)
