"""统计 (the hub's dashboard): the 口径 figures for a period and unit, tabs with the breakdowns, charts, the late list
and coverage; every number opens the records behind it (DrillDialog). Computed off the GUI thread."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.dashboard import AGE_BANDS
from app.services import Services
from app.stats import DEFINITIONS, DIMENSION_LABELS, NON_ADDITIVE_DIMENSIONS, STATS_VERSION, Period, dimension_note
from ui.bus import AppBus
from ui.models.stats_model import COLUMNS, StatsTableModel
from ui.widgets.kpi_tile import KpiTile

HEADLINE = (
    ("work_groups", "工作组"), ("cadres", "助企干部"), ("enterprises_covered", "包联企业"),
    ("enterprise_visits", "走访企业家次"), ("symposia", "召开座谈会"), ("problems_collected", "收集问题"),
    ("problems_solved", "已解决"), ("solve_rate", "解决率"), ("overdue", "逾期未办结"), ("due_soon", "即将到期"),
    ("missed_deadline", "超期办理"), ("avg_workdays_to_solve", "平均解决用时(工作日)"),
    ("satisfaction_rate", "满意率"),
)
PROBLEM_ONLY_DIMENSIONS = ("category", "department", "level")


def dashboard_data(svc: Services, period: Period, unit_id: str | None, dim: str, not_visited_days: int) -> dict:
    """Everything the dashboard shows for one period and unit, read on a worker's connection."""
    from app.dashboard import open_problems_by_age
    from app.stats_drill import coverage, department_ranking, overdue_list

    stats = svc.stats
    return {
        "headline": stats.headline(period, unit_id),
        "rows": stats.breakdown(dim, period, unit_id),
        "additive": dim not in NON_ADDITIVE_DIMENSIONS,
        "dimension_note": dimension_note(dim),
        "months": stats.breakdown("month", period, unit_id),
        "units": stats.breakdown("unit", period, unit_id),
        "ranking": department_ranking(svc, period, unit_id),
        "overdue": overdue_list(svc, period.cutoff, unit_id),
        "open_by_department": open_problems_by_age(svc, period.cutoff, unit_id),
        "coverage": coverage(svc, period.cutoff, unit_id, not_visited_days=not_visited_days),
    }


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


class StatsView(QWidget):
    def __init__(self, services: Services, bus: AppBus, settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.tasks = tasks
        self.headline: dict | None = None
        self._open_rows: list[dict] = []

        root = QVBoxLayout(self)
        root.setContentsMargins(18, 14, 18, 14)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("统计期间"))
        self.date_from = QDateEdit(calendarPopup=True)
        self.date_to = QDateEdit(calendarPopup=True)
        for w in (self.date_from, self.date_to):
            w.setDisplayFormat("yyyy-MM-dd")
        self.date_from.setObjectName("stats_from")
        self.date_to.setObjectName("stats_to")
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("至"))
        bar.addWidget(self.date_to)
        for label, key in (("本月", "month"), ("本季度", "quarter"), ("本年", "year"), ("全部", "all")):
            b = QPushButton(label)
            b.setObjectName(f"period_{key}")
            b.clicked.connect(lambda _=False, k=key: self.set_period(k))
            bar.addWidget(b)
        bar.addSpacing(16)
        bar.addWidget(QLabel("单位"))
        self.unit_combo = QComboBox()
        self.unit_combo.addItem("全部单位", None)
        for u in services.reference.districts():
            self.unit_combo.addItem(u.name, u.id)
        bar.addWidget(self.unit_combo)
        self.run_button = QPushButton("统计")
        self.run_button.setProperty("role", "primary")
        self.run_button.clicked.connect(self.refresh)
        bar.addWidget(self.run_button)
        bar.addStretch(1)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.setObjectName("stats_export")
        self.export_button.setToolTip("把总体数字和各分项表导出为一个 Excel 工作簿（与屏幕上的数字一致）")
        self.export_button.clicked.connect(lambda: self.export_report())
        bar.addWidget(self.export_button)
        root.addLayout(bar)

        self.cutoff_label = QLabel()
        self.cutoff_label.setProperty("role", "hint")
        root.addWidget(self.cutoff_label)

        grid = QGridLayout()
        grid.setSpacing(10)
        self.tiles: dict[str, KpiTile] = {}
        for i, (key, caption) in enumerate(HEADLINE):
            tile = KpiTile(key, caption)
            tile.setToolTip(DEFINITIONS[key])
            tile.clicked.connect(lambda k: self.drill(k))
            self.tiles[key] = tile
            grid.addWidget(tile, i // 7, i % 7)
        root.addLayout(grid)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("stats_split")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        by = QHBoxLayout()
        by.addWidget(QLabel("分组"))
        self.dimension = QComboBox()
        self.dimension.setObjectName("stats_dimension")
        for key, label in DIMENSION_LABELS.items():
            self.dimension.addItem(f"按{label}", key)
        self.dimension_note = QLabel()
        self.dimension_note.setProperty("role", "hint")
        self.dimension.currentIndexChanged.connect(self.refresh)
        by.addWidget(self.dimension)
        by.addWidget(self.dimension_note, 1)
        ll.addLayout(by)
        self.model = StatsTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("stats_table")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("双击数字查看其背后的记录")
        self.table.doubleClicked.connect(self._table_drill)
        ll.addWidget(self.table)
        split.addWidget(left)
        defs = QFrame()
        defs.setProperty("role", "card")
        dl = QVBoxLayout(defs)
        title = QLabel(f"统计口径（版本 {STATS_VERSION}）")
        title.setStyleSheet("font-weight: 600;")
        dl.addWidget(title)
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setPlainText("\n\n".join(DEFINITIONS[k] for k, _ in HEADLINE))
        dl.addWidget(text)
        split.addWidget(defs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        from ui.views.stats_panels import ChartsPanel, CoveragePanel, LatePanel

        self.settings = settings
        self.charts = ChartsPanel(self)
        self.late = LatePanel(self)
        self.coverage = CoveragePanel(self, settings)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("stats_tabs")
        self.tabs.addTab(split, "分项统计")
        self.tabs.addTab(self.charts, "图表")
        self.tabs.addTab(self.late, "逾期督办")
        self.tabs.addTab(self.coverage, "走访覆盖")
        root.addWidget(self.tabs, 1)
        self.drills: list = []  # open DrillDialogs
        self.set_period("year", run=False)

    def set_period(self, key: str, *, run: bool = True) -> None:
        d = today()
        start = {"month": d.replace(day=1), "quarter": quarter_start(d), "year": date(d.year, 1, 1),
                 "all": date(2000, 1, 1)}[key]
        self.date_from.setDate(QDate(start.year, start.month, start.day))
        self.date_to.setDate(QDate(d.year, d.month, d.day))
        if run:
            self.refresh()

    def period(self) -> Period:
        f = self.date_from.date().toPython()
        t = self.date_to.date().toPython()
        return Period(start=f, end=t)

    def refresh(self) -> None:
        period = self.period()
        unit_id = self.unit_combo.currentData()
        dim = self.dimension.currentData()
        days = self.coverage.days.value()

        def work(progress):
            svc = self.services.reader()
            try:
                return dashboard_data(svc, period, unit_id, dim, days)
            finally:
                self.services.close_reader(svc)

        self.run_button.setEnabled(False)
        self.tasks.run(work, on_done=lambda r: self._show(period, dim, r), on_error=self._failed,
                       label="正在统计…", parent_widget=self)

    def refresh_coverage(self) -> None:
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        from ui.errors import show_error

        show_error(self, exc)

    def _show(self, period: Period, dim: str, data: dict) -> None:
        headline, rows = data["headline"], data["rows"]
        self._open_rows = data["open_by_department"]["rows"]
        self.charts.show_for(data["months"], data["units"], data["open_by_department"]["chart"])
        self.late.show_for(data["ranking"], data["overdue"])
        self.coverage.show_for(data["coverage"])
        self.dimension_note.setText(data["dimension_note"])
        self.run_button.setEnabled(True)
        self.headline = headline
        unit = self.unit_combo.currentText()
        self.cutoff_label.setText(f"统计范围：{unit}　统计期间：{period.label()}　截止日：{period.cutoff.isoformat()}"
                                  f"　口径版本 {STATS_VERSION}（鼠标停在数字上查看口径）")
        for key, _ in HEADLINE:
            value = headline[key]
            self.tiles[key].set_value("—" if value is None else value, tooltip=DEFINITIONS[key],
                                      alert=key == "overdue" and bool(value))
        self.model.set_rows(rows, headline if data["additive"] else None)
        problem_only = dim in PROBLEM_ONLY_DIMENSIONS
        for col, (key, _) in enumerate(COLUMNS):
            hide = problem_only and key in ("enterprises_covered", "enterprise_visits", "symposia")
            self.table.setColumnHidden(col, hide)

    # -- drill-down and export -------------------------------------------------------------------
    def drill(self, figure: str, dimension: str | None = None, key=None):
        """Open the records behind `figure` (for one breakdown row when `dimension`/`key` are given)."""
        from app.stats_drill import drill
        from ui.dialogs.drill_dialog import DrillDialog

        try:
            found = drill(self.services, figure, self.period(), self.unit_combo.currentData(), dimension, key)
            dialog = DrillDialog(self.services, self.bus, self.settings, found.title, found.kind, found.ids, self)
        except Exception as exc:  # noqa: BLE001 - shown to the user in one place
            from ui.errors import show_error

            show_error(self, exc)
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.drills.append(dialog)
        dialog.destroyed.connect(lambda *_: self.drills.remove(dialog) if dialog in self.drills else None)
        dialog.show()
        return dialog

    def open_list(self, title: str, kind: str, ids: list):
        """A list of records (the coverage tiles, the late chart) in the same dialog as a drill-down."""
        from ui.dialogs.drill_dialog import DrillDialog

        dialog = DrillDialog(self.services, self.bus, self.settings, title, kind, ids, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.drills.append(dialog)
        dialog.destroyed.connect(lambda *_: self.drills.remove(dialog) if dialog in self.drills else None)
        dialog.show()
        return dialog

    def open_late(self, department_id, band: int):
        """A bar of the 在办问题 chart: that department's open problems of that age band."""
        ids = [r["id"] for r in self._open_rows if r["department_id"] == department_id and r["band"] == band]
        label = next((r["department"] for r in self._open_rows if r["department_id"] == department_id), "")
        return self.open_list(f"{label} · 在办问题 · {AGE_BANDS[band]}", "problems", ids)

    def print_jobs(self):
        return self.window().print_jobs

    def _table_drill(self, index) -> None:
        from ui.models.lazy_table import OBJECT_ROLE

        figure = COLUMNS[index.column()][0]
        if figure == "label":
            figure = "problems_collected"
        is_total = index.row() == len(self.model.rows())
        if is_total:
            self.drill(figure)
        else:
            self.drill(figure, self.dimension.currentData(), self.model.index(index.row(), 0).data(OBJECT_ROLE))

    def export_report(self, path: str | None = None) -> str | None:
        """导出 Excel…: the headline and every breakdown of the period and unit on screen, in one workbook."""
        if path is None:
            from PySide6.QtWidgets import QFileDialog

            name = f"统计报表_{self.unit_combo.currentText()}_{self.period().cutoff.isoformat()}.xlsx"
            path, _ = QFileDialog.getSaveFileName(self, "导出统计报表", name, "Excel 工作簿 (*.xlsx)")
            if not path:
                return None
        period, unit_id, services = self.period(), self.unit_combo.currentData(), self.services

        def work(_progress):
            from app.stats_export import stats_workbook

            svc = services.reader()
            try:
                stats_workbook(svc, path, period, unit_id)
            finally:
                services.close_reader(svc)
            return path

        self.tasks.run(work, on_done=lambda p: self.bus.status_message.emit(f"统计报表已导出：{p}"),
                       label="正在导出统计报表…", parent_widget=self)
        return path

    def print_current(self, jobs) -> None:
        """Ctrl+P: the 统计报表 of the period and unit on screen."""
        from ui.print_menu import print_report

        print_report(self.services, jobs, self.period(), self.unit_combo.currentData())
