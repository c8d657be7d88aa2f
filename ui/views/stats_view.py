"""统计: the 口径 figures for a chosen period and unit, with a breakdown table; computed off the GUI thread."""

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
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.services import Services
from app.stats import DEFINITIONS, DIMENSION_LABELS, STATS_VERSION, Period
from ui.bus import AppBus
from ui.models.stats_model import COLUMNS, StatsTableModel
from ui.widgets.kpi_tile import KpiTile

HEADLINE = (
    ("work_groups", "工作组"), ("cadres", "助企干部"), ("enterprises_covered", "包联企业"),
    ("enterprise_visits", "走访企业家次"), ("symposia", "召开座谈会"), ("problems_collected", "收集问题"),
    ("problems_solved", "已解决"), ("solve_rate", "解决率"), ("overdue", "逾期未办结"),
    ("missed_deadline", "超期办理"), ("avg_workdays_to_solve", "平均解决用时(工作日)"),
    ("satisfaction_rate", "满意率"),
)
PROBLEM_ONLY_DIMENSIONS = ("category", "department", "level")


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


class StatsView(QWidget):
    def __init__(self, services: Services, bus: AppBus, settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.tasks = tasks
        self.headline: dict | None = None

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
        root.addLayout(bar)

        self.cutoff_label = QLabel()
        self.cutoff_label.setProperty("role", "hint")
        root.addWidget(self.cutoff_label)

        grid = QGridLayout()
        grid.setSpacing(10)
        self.tiles: dict[str, KpiTile] = {}
        for i, (key, caption) in enumerate(HEADLINE):
            tile = KpiTile(key, caption, clickable=False)
            tile.setToolTip(DEFINITIONS[key])
            self.tiles[key] = tile
            grid.addWidget(tile, i // 6, i % 6)
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
        self.dimension.currentIndexChanged.connect(self.refresh)
        by.addWidget(self.dimension)
        by.addStretch(1)
        ll.addLayout(by)
        self.model = StatsTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("stats_table")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
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
        root.addWidget(split, 1)
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

        def work(progress):
            svc = self.services.reader()
            try:
                return svc.stats.headline(period, unit_id), svc.stats.breakdown(dim, period, unit_id)
            finally:
                self.services.close_reader(svc)

        self.run_button.setEnabled(False)
        self.tasks.run(work, on_done=lambda r: self._show(period, dim, *r), on_error=self._failed,
                       label="正在统计…", parent_widget=self)

    def _failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        from ui.errors import show_error

        show_error(self, exc)

    def _show(self, period: Period, dim: str, headline: dict, rows: list[dict]) -> None:
        self.run_button.setEnabled(True)
        self.headline = headline
        unit = self.unit_combo.currentText()
        self.cutoff_label.setText(f"统计范围：{unit}　统计期间：{period.label()}　截止日：{period.cutoff.isoformat()}"
                                  f"　口径版本 {STATS_VERSION}（鼠标停在数字上查看口径）")
        for key, _ in HEADLINE:
            value = headline[key]
            self.tiles[key].set_value("—" if value is None else value, tooltip=DEFINITIONS[key],
                                      alert=key == "overdue" and bool(value))
        self.model.set_rows(rows, headline)
        problem_only = dim in PROBLEM_ONLY_DIMENSIONS
        for col, (key, _) in enumerate(COLUMNS):
            hide = problem_only and key in ("enterprises_covered", "enterprise_visits", "symposia")
            self.table.setColumnHidden(col, hide)

    def print_current(self, jobs) -> None:
        """Ctrl+P: the 统计报表 of the period and unit on screen."""
        from ui.print_menu import print_report

        print_report(self.services, jobs, self.period(), self.unit_combo.currentData())
