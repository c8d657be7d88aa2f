"""The tabs of the 统计 dashboard beside 分项统计: 图表, 逾期督办 (pressing on what is late) and 走访覆盖.

Each panel is told the period and unit by StatsView (`show_for`), reads through the app's statistics functions
(app/stats_drill.py) and opens the records behind a number through StatsView.drill / DrillDialog.
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.dashboard import AGE_BANDS
from app.errors import AppError
from app.stats import Period
from ui.errors import show_error
from ui.settings import NOT_VISITED_DAYS
from ui.widgets.kpi_tile import KpiTile


def _fill(table: QTableWidget, columns: list[tuple[str, str]], rows: list[dict]) -> None:
    table.setSortingEnabled(False)
    table.clear()
    table.setColumnCount(len(columns))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels([h for _, h in columns])
    for r, row in enumerate(rows):
        for c, (key, _) in enumerate(columns):
            value = row.get(key)
            item = QTableWidgetItem("—" if value is None else str(value))
            if isinstance(value, int | float):
                item.setData(Qt.ItemDataRole.EditRole, value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, row.get("id"))
            table.setItem(r, c, item)
    table.setSortingEnabled(True)
    table.resizeColumnsToContents()


def _table(name: str) -> QTableWidget:
    t = QTableWidget()
    t.setObjectName(name)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return t


class ChartsPanel(QWidget):
    """走访和问题（按月）; 解决率（按单位）; 在办问题（按责任单位和超期时长）. A click on a bar drills down."""

    def __init__(self, view, parent: QWidget | None = None):
        super().__init__(parent)
        from ui.widgets.charts import HorizontalBarChart, MonthlyBarChart, StackedBarChart

        self.view = view
        self.monthly = MonthlyBarChart()
        self.by_unit = HorizontalBarChart()
        self.by_department = StackedBarChart()
        self.monthly.segment_clicked.connect(self._month_clicked)
        self.by_unit.clicked.connect(self._unit_clicked)
        self.by_department.segment_clicked.connect(self._department_clicked)
        grid = QGridLayout(self)
        for col, (title, chart) in enumerate((("走访企业家次与收集问题（按月）", self.monthly),
                                             ("解决率（按单位）", self.by_unit))):
            grid.addWidget(QLabel(title), 0, col)
            grid.addWidget(chart, 1, col)
        grid.addWidget(QLabel("在办问题（按责任单位与超期时长）"), 2, 0, 1, 2)
        grid.addWidget(self.by_department, 3, 0, 1, 2)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(3, 1)
        self._months: list = []
        self._units: list = []
        self._departments: list = []

    def show_for(self, months: list[dict], units: list[dict], open_by_department: list[dict]) -> None:
        self._months = [r["key"] for r in months]
        self.monthly.set_data([str(k) for k in self._months],
                              [("走访企业家次", [r["enterprise_visits"] for r in months]),
                               ("收集问题", [r["problems_collected"] for r in months])])
        with_problems = [r for r in units if r["problems_collected"]]
        self._units = [r["key"] for r in with_problems]
        self.by_unit.set_data([r["label"] for r in with_problems],
                              [r["problems_solved"] * 100 / r["problems_collected"] for r in with_problems],
                              value_texts=[r["solve_rate"] for r in with_problems], maximum=100.0)
        self._departments = [r["key"] for r in open_by_department]
        self.by_department.set_data([r["label"] for r in open_by_department],
                                    [(band, [r["bands"][i] for r in open_by_department])
                                     for i, band in enumerate(AGE_BANDS)])

    def _month_clicked(self, index: int, series: int) -> None:
        figure = ("enterprise_visits", "problems_collected")[series]
        self.view.drill(figure, "month", self._months[index])

    def _unit_clicked(self, index: int) -> None:
        self.view.drill("problems_solved", "unit", self._units[index])

    def _department_clicked(self, index: int, band: int) -> None:
        self.view.open_late(self._departments[index], band)


class LatePanel(QWidget):
    """逾期督办: departments ranked by overdue and average days; the overdue list with batch 催办/督办 and 督办单."""

    COLUMNS = [("record_no", "编号"), ("enterprise", "企业"), ("department", "责任单位"), ("level", "层级"),
               ("deadline", "办理时限"), ("days_overdue", "超期工作日"), ("calendar_days_overdue", "超期天数"),
               ("urge_count", "催办次数"), ("supervise_count", "督办次数")]
    RANKING = [("label", "责任单位"), ("open", "在办"), ("overdue", "逾期"), ("max_days_overdue", "最长超期(工作日)"),
               ("solved", "已解决"), ("avg_workdays_to_solve", "平均解决用时(工作日)")]

    def __init__(self, view, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.ranking = _table("late_ranking")
        self.list = _table("late_list")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.cellDoubleClicked.connect(self._open_problem)
        self.ranking.cellClicked.connect(self._filter_department)
        self.summary = QLabel()
        self.urge_button = QPushButton("批量催办…")
        self.supervise_button = QPushButton("批量督办并打印督办单…")
        self.urge_button.clicked.connect(lambda: self.press("催办"))
        self.supervise_button.clicked.connect(lambda: self.press("督办"))
        self.show_all = QPushButton("显示全部单位")
        self.show_all.clicked.connect(lambda: self._filter_department(None))
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        for b in (self.show_all, self.urge_button, self.supervise_button):
            bar.addWidget(b)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(QLabel("责任单位排名（按逾期件数、平均解决用时；点击一行只看该单位）"))
        tl.addWidget(self.ranking)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addLayout(bar)
        bl.addWidget(self.list)
        split.addWidget(top)
        split.addWidget(bottom)
        QVBoxLayout(self).addWidget(split)
        self.rows: list[dict] = []
        self.department: str | None = None

    def show_for(self, ranking: list[dict], overdue: list[dict]) -> None:
        _fill(self.ranking, self.RANKING, ranking)
        self._ranking_keys = [r.get("key") for r in ranking]
        for r, key in enumerate(self._ranking_keys):
            self.ranking.item(r, 0).setData(Qt.ItemDataRole.UserRole, key)
        self.rows = overdue
        self._show_list()

    def _filter_department(self, row: int | None, _col: int = 0) -> None:
        self.department = None if row is None else self.ranking.item(row, 0).data(Qt.ItemDataRole.UserRole)
        self._show_list()

    def _show_list(self) -> None:
        rows = [r for r in self.rows if self.department is None or r["department_id"] == self.department]
        _fill(self.list, self.COLUMNS, rows)
        where = "全部责任单位" if self.department is None else (rows[0]["department"] if rows else "该单位")
        self.summary.setText(f"{where}：逾期未办结 {len(rows)} 件（选中若干行后批量催办或督办）")

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.list.selectedIndexes()})
        return [self.list.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in rows]

    def _open_problem(self, row: int, _col: int) -> None:
        self.view.bus.open_problem.emit(self.list.item(row, 0).data(Qt.ItemDataRole.UserRole))

    def press(self, kind: str, *, note: str | None = None, reply_days: int = 5) -> int:
        """催办/督办 every selected problem in one transaction; 督办 then prints the 督办单 of each."""
        ids = self.selected_ids()
        if not ids:
            QMessageBox.information(self, f"批量{kind}", f"请先在列表中选中要{kind}的问题（可按住 Ctrl 或 Shift 多选）。")
            return 0
        if note is None:
            note, ok = QInputDialog.getText(self, f"批量{kind}", f"对选中的 {len(ids)} 件问题{kind}，说明：",
                                            text=f"请加快办理，尽快{('反馈进展' if kind == '催办' else '书面回复办理情况')}。")
            if not ok:
                return 0
        form = {"reply_by": (today() + timedelta(days=reply_days)).isoformat()} if kind == "督办" else {}
        try:
            self.view.services.problems.take_step_batch(ids, kind, note=note, **form)
        except AppError as exc:
            show_error(self, exc)
            return 0
        self.view.bus.data_changed.emit()
        self.view.bus.status_message.emit(f"已{kind} {len(ids)} 件问题。")
        if kind == "督办":
            from ui.print_menu import print_supervision

            print_supervision(self.view.services, self.view.print_jobs(), ids)
        return len(ids)


class CoveragePanel(QWidget):
    """走访覆盖: 包联 enterprises not visited for N days, cadres without a visit this month, 失联/停产 enterprises."""

    ITEMS = (("assigned_not_visited", "enterprises", "包联企业超过 N 天未走访"),
             ("cadres_without_visit_this_month", "cadres", "本月没有走访的助企干部"),
             ("enterprises_lost_or_stopped", "enterprises", "经营状态为失联或停产的企业"))

    def __init__(self, view, settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.days = QSpinBox()
        self.days.setObjectName("coverage_days")
        self.days.setRange(1, 365)
        self.days.setSuffix(" 天")
        self.days.setValue(settings.get(NOT_VISITED_DAYS))
        self.days.valueChanged.connect(lambda _v: self.view.refresh_coverage())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("未走访天数"))
        bar.addWidget(self.days)
        bar.addStretch(1)
        grid = QGridLayout()
        self.tiles: dict[str, KpiTile] = {}
        for col, (key, _kind, caption) in enumerate(self.ITEMS):
            tile = KpiTile(key, caption)
            tile.clicked.connect(self._open)
            self.tiles[key] = tile
            grid.addWidget(tile, 0, col)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addLayout(grid)
        lay.addStretch(1)
        self.data: dict = {}

    def show_for(self, data: dict) -> None:
        self.data = data
        for key, _kind, caption in self.ITEMS:
            self.tiles[key].set_value(data[key]["count"])
            self.tiles[key].caption_label.setText(caption.replace("N", str(self.days.value())))

    def _open(self, key: str) -> None:
        kind = next(k for name, k, _ in self.ITEMS if name == key)
        caption = self.tiles[key].caption_label.text()
        self.view.open_list(f"{self.view.unit_combo.currentText()} · {caption}（截至 {Period().cutoff.isoformat()}）",
                            kind, self.data[key]["ids"])
