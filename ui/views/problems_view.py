"""问题台账: status tabs with counts, search and filters over the problem list, and the selected problem's detail."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app import lifecycle as lc
from app.problems import ProblemFilter
from app.services import Services
from ui.bus import AppBus
from ui.list_export import export_button
from ui.models.problem_model import REGISTERED, ProblemTableModel
from ui.settings import DUE_SOON_WORKDAYS, Settings
from ui.views.problem_detail import ProblemDetail
from ui.widgets.search_box import SearchBox

log = logging.getLogger(__name__)

OVERDUE_TAB = "overdue"
TABS: tuple[tuple[str, str | None], ...] = (("全部", None), *((s, s) for s in lc.STATUSES), ("逾期", OVERDUE_TAB))


class ProblemsView(QWidget):
    """The problem list of this installation; `apply_filter` narrows it to a drill-down from elsewhere."""

    follows_data_changed = True  # refreshes on bus.data_changed itself: the main window need not ask it again

    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tasks = tasks
        self.drill_title: str | None = None
        self.drill_filter: ProblemFilter | None = None
        self._counted: ProblemFilter | None = None  # the base filter the tab counts are for (None: count again)
        self._drill_total = 0

        root = QVBoxLayout(self)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(8)

        # Drill-down banner: "筛选：逾期问题（共 5 件）  [清除]".
        self.banner = QFrame()
        self.banner.setObjectName("drill_banner")
        self.banner.setStyleSheet(
            "#drill_banner { background: #e3ecf7; border: 1px solid #9bb5d6; border-radius: 4px; }"
        )
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(10, 4, 6, 4)
        self.banner_label = QLabel()
        self.banner_label.setTextFormat(Qt.TextFormat.PlainText)
        self.banner_label.setStyleSheet("color: #1f5fa8; font-weight: 600;")
        banner_row.addWidget(self.banner_label, 1)
        self.clear_button = QPushButton("清除")
        self.clear_button.setObjectName("clear_drill")
        self.clear_button.clicked.connect(self.clear_filter)
        banner_row.addWidget(self.clear_button)
        self.banner.hide()
        root.addWidget(self.banner)

        top = QHBoxLayout()
        self.tabs = QTabBar()
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for label, key in TABS:
            index = self.tabs.addTab(label)
            self.tabs.setTabData(index, key)
        self.tabs.currentChanged.connect(lambda _i: self._reload(keep_detail=False))
        top.addWidget(self.tabs)
        top.addStretch(1)
        self.search = SearchBox(placeholder="搜索问题、企业、编号（Ctrl+F）")
        self.search.setMinimumWidth(260)
        self.search.search_changed.connect(lambda _t: self._reload(keep_detail=False))
        top.addWidget(self.search)
        self.export_button = export_button(self, [("导出问题列表…", self.export_list),
                                                  ("导出问题台账…", self.export_ledger)],
                                           "把列表中的全部问题（按当前筛选）导出为 Excel 或 CSV")
        top.addWidget(self.export_button)
        root.addLayout(top)

        filters = QHBoxLayout()
        filters.setSpacing(6)
        ref = services.reference
        self.category_combo = self._combo("全部类别", ref.vocabulary("problem_category"))
        self.lead_combo = self._combo("全部牵头单位", [(u.id, u.name) for u in ref.departments()])
        self.level_combo = self._combo("全部层级", [(level, level) for level in lc.LEVELS])
        self.unit_combo = self._combo("全部所属单位", [(u.id, u.name) for u in ref.districts()])
        for caption, combo in (
            ("类别", self.category_combo),
            ("牵头单位", self.lead_combo),
            ("层级", self.level_combo),
            ("所属单位", self.unit_combo),
        ):
            label = QLabel(caption)
            label.setBuddy(combo)
            filters.addWidget(label)
            filters.addWidget(combo)
            filters.addSpacing(6)
        self.mine = QCheckBox("仅我包联的")
        self.cadre_id = services.installation.cadre_id
        self.mine.setEnabled(bool(self.cadre_id))
        self.mine.setToolTip("只看我包联企业的问题" if self.cadre_id else "本机未关联助企干部，不能按包联筛选")
        self.mine.toggled.connect(lambda _c: self._reload(keep_detail=False))
        filters.addWidget(self.mine)
        filters.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setObjectName("count_label")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        filters.addWidget(self.count_label)
        root.addLayout(filters)

        # Built sorted the way the header shows it (newest first), so turning sorting on does not query again.
        self.model = ProblemTableModel(
            services.problems, self.current_filter(), self, due_soon=settings.get(DUE_SOON_WORKDAYS),
            sort_column=REGISTERED, sort_order=Qt.SortOrder.DescendingOrder,
        )
        self.table = QTableView()
        self.table.setObjectName("problems_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for i, column in enumerate(self.model.columns):
            if column.width:
                header.resizeSection(i, column.width)
        header.setSortIndicator(REGISTERED, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)

        self.detail = ProblemDetail(services, bus)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("problems_splitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([760, 500])
        root.addWidget(self.splitter, 1)

        bus.data_changed.connect(self.refresh)
        settings.changed.connect(self._setting_changed)
        self._reload(keep_detail=False, requery=False)  # the model already holds this filter

    def _combo(self, all_text: str, items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_text, None)
        for value, text in items:
            combo.addItem(text, value)
        combo.setMaximumWidth(170)
        combo.currentIndexChanged.connect(lambda _i: self._reload(keep_detail=False))
        return combo

    # --- public API (used by the main window) ---------------------------------------------------------
    def refresh(self) -> None:
        """Re-query counts and rows after data changed; keeps the selection and the detail shown."""
        self._counted = None
        self._reload(keep_detail=True)

    def apply_filter(self, title: str, problem_filter: ProblemFilter) -> None:
        """Show a drill-down list (e.g. from the workbench), announced by a banner with 清除."""
        self.drill_title, self.drill_filter = title, problem_filter
        self._reset_local_filters()
        self._reload(keep_detail=False)

    def clear_filter(self) -> None:
        self.drill_title = self.drill_filter = None
        self._reload(keep_detail=True)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def open_problem(self, pid: str) -> None:
        """Select problem `pid` in the list (widening the list if needed) and show its detail."""
        if self.model.row_of(pid) is None:
            self.drill_title = self.drill_filter = None
            self._reset_local_filters()
            self._reload(keep_detail=False)
        self._select(pid)
        if self.detail.pid != pid:  # selecting usually showed it already
            self.detail.show_problem(pid)

    # --- filters --------------------------------------------------------------------------------------
    def _reset_local_filters(self) -> None:
        widgets = (
            self.tabs,
            self.search,
            self.category_combo,
            self.lead_combo,
            self.level_combo,
            self.unit_combo,
            self.mine,
        )
        for w in widgets:
            w.blockSignals(True)
        self.tabs.setCurrentIndex(0)
        self.search.clear()
        self.search.flush()
        for combo in (self.category_combo, self.lead_combo, self.level_combo, self.unit_combo):
            combo.setCurrentIndex(0)
        self.mine.setChecked(False)
        for w in widgets:
            w.blockSignals(False)

    def base_filter(self) -> ProblemFilter:
        """The drill-down filter narrowed by the search box and the filter row (not by the tab)."""
        f = replace(self.drill_filter) if self.drill_filter else ProblemFilter()
        if self.search.search_text():
            f.text = self.search.search_text()
        for attr, combo in (
            ("category_code", self.category_combo),
            ("lead_unit_id", self.lead_combo),
            ("level", self.level_combo),
            ("unit_id", self.unit_combo),
        ):
            if combo.currentData():
                setattr(f, attr, combo.currentData())
        if self.mine.isChecked() and self.cadre_id:
            f.cadre_id = self.cadre_id
        return f

    def _tab_filter(self, base: ProblemFilter, key: str | None) -> ProblemFilter:
        if key is None:
            return base
        if key == OVERDUE_TAB:
            return replace(base, overdue=True)
        if base.statuses and key not in base.statuses:
            return replace(base, ids=[])  # the drill-down excludes this status: nothing to show
        return replace(base, statuses=(key,))

    def current_filter(self) -> ProblemFilter:
        return self._tab_filter(self.base_filter(), self.tabs.tabData(self.tabs.currentIndex()))

    def _update_counts(self, base: ProblemFilter) -> None:
        """The number on each tab, for `base`; kept while only the tab changes, until the data changes."""
        if base == self._counted:
            return
        self._counted = replace(base)
        problems = self.services.problems
        self._drill_total = problems.count(self.drill_filter) if self.drill_filter is not None else 0
        by_status = problems.status_counts(base)
        allowed = set(base.statuses) or set(lc.STATUSES)
        counts = {s: (by_status.get(s, 0) if s in allowed else 0) for s in lc.STATUSES}
        counts[None] = sum(counts.values())  # type: ignore[index]
        counts[OVERDUE_TAB] = problems.count(replace(base, overdue=True))
        for i, (label, key) in enumerate(TABS):
            n = counts[key]  # type: ignore[index]
            self.tabs.setTabText(i, f"{label} {n}")
            if key == OVERDUE_TAB:
                self.tabs.setTabTextColor(i, QColor("#c62828") if n else QColor())

    def _reload(self, *, keep_detail: bool, requery: bool = True) -> None:
        pid = self.detail.pid
        base = self.base_filter()
        self._update_counts(base)
        if requery:
            self.model.set_filter(self._tab_filter(base, self.tabs.tabData(self.tabs.currentIndex())))
        self.count_label.setText(f"共 {self.model.rowCount()} 件")
        if self.drill_filter is not None:
            self.banner_label.setText(f"筛选：{self.drill_title}（共 {self._drill_total} 件）")
        self.banner.setVisible(self.drill_filter is not None)
        if pid is not None and self.model.row_of(pid) is not None:
            self._select(pid)
            self.detail.reload()
        elif keep_detail:
            self.detail.reload()
        else:
            self.detail.clear()

    def _setting_changed(self, name: str) -> None:
        if name == DUE_SOON_WORKDAYS.name:
            self.model.due_soon = self.settings.get(DUE_SOON_WORKDAYS)
            self.refresh()

    # --- selection ------------------------------------------------------------------------------------
    def _select(self, pid: str) -> None:
        row = self.model.row_of(pid)
        if row is None:
            return
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.scrollTo(index)

    def _title(self, name: str) -> str:
        return f"{name}（{self.drill_title}）" if self.drill_filter is not None else name

    def print_current(self, jobs) -> None:
        """Ctrl+P: 交办单 / 督办单 of the selected problem, or the 问题台账 of the list on screen."""
        from ui.print_menu import print_problems

        print_problems(self, self.services, jobs, self.selected_id(), self.current_filter(), self._title("问题台账"),
                       self.model.rowCount())

    def export_list(self):
        """导出问题列表…: every problem of the list (tab, filters and sort as shown), not only the rows loaded."""
        from app.list_export import list_table
        from ui.list_export import export_list

        ids = self.model.ids()
        tab = self.tabs.tabData(self.tabs.currentIndex())
        title = self._title("问题列表") + (f"（{TABS[self.tabs.currentIndex()][0]}）" if tab else "")
        return export_list(self, self.services, self.settings, self.tasks, self.bus, title,
                           lambda svc: list_table(svc, "problems", ids))

    def export_ledger(self):
        """导出问题台账…: the 问题台账 of the list, as printed (oldest first), with its columns."""
        from app.list_export import ledger_table
        from ui.list_export import export_list

        f = self.current_filter()
        return export_list(self, self.services, self.settings, self.tasks, self.bus, self._title("问题台账"),
                           lambda svc: ledger_table(svc, f))

    def selected_id(self) -> str | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        pid = self.model.id_at(current.row()) if current.isValid() else None
        if pid is not None and pid != self.detail.pid:
            self.detail.show_problem(pid)
