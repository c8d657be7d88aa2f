"""工作台: the cadre's start screen — tiles for what needs attention and short lists to click through."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.services import Services
from app.visits import VisitFilter
from app.workbench import TILE_KEYS, tile_label
from ui.bus import AppBus
from ui.settings import DUE_SOON_WORKDAYS, NOT_VISITED_DAYS, Settings
from ui.widgets.kpi_tile import KpiTile

WEEKDAYS = "一二三四五六日"
LIST_LIMIT = 8
ID_ROLE = Qt.ItemDataRole.UserRole


class HomeView(QWidget):
    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tiles: dict[str, KpiTile] = {}

        root = QVBoxLayout(self)
        root.setContentsMargins(18, 14, 18, 14)
        head = QHBoxLayout()
        self.greeting = QLabel()
        self.greeting.setTextFormat(Qt.TextFormat.PlainText)
        self.greeting.setStyleSheet("font-size: 16pt; font-weight: 600;")
        head.addWidget(self.greeting, 1)
        new_visit = QPushButton("新建走访 (Ctrl+N)")
        new_visit.setProperty("role", "primary")
        new_visit.clicked.connect(lambda: bus.new_visit.emit(""))
        head.addWidget(new_visit)
        root.addLayout(head)

        grid = QGridLayout()
        grid.setSpacing(12)
        for i, key in enumerate(TILE_KEYS):  # their figures come in refresh(), once
            w = KpiTile(key, tile_label(key, self._days()[0]))
            w.clicked.connect(self._tile_clicked)
            self.tiles[key] = w
            grid.addWidget(w, 0, i)
        root.addLayout(grid)

        lists = QGridLayout()
        lists.setSpacing(12)
        self.overdue_list = self._list_card(lists, 0, 0, "逾期问题", "overdue")
        self.due_list = self._list_card(lists, 0, 1, "即将到期", "due_soon")
        self.not_visited_list = self._list_card(lists, 1, 0, "久未走访的包联企业", "not_visited")
        self.recent_list = self._list_card(lists, 1, 1, "最近走访", "visits_month")
        root.addLayout(lists, 1)
        self.refresh()

    def _list_card(self, grid: QGridLayout, row: int, col: int, title: str, key: str) -> QListWidget:
        card = QFrame()
        card.setProperty("role", "card")
        lay = QVBoxLayout(card)
        head = QHBoxLayout()
        label = QLabel(title)
        label.setStyleSheet("font-weight: 600;")
        head.addWidget(label, 1)
        more = QPushButton("全部 ›")
        more.setFlat(True)
        more.setObjectName(f"more_{key}")
        more.clicked.connect(lambda: self._tile_clicked(key))
        head.addWidget(more)
        lay.addLayout(head)
        lst = QListWidget()
        lst.setObjectName(f"list_{key}")
        lst.itemActivated.connect(self._item_activated)
        lst.itemDoubleClicked.connect(self._item_activated)
        lay.addWidget(lst)
        grid.addWidget(card, row, col)
        return lst

    # -- data --------------------------------------------------------------------------------------
    def _days(self) -> tuple[int, int]:
        return self.settings.get(NOT_VISITED_DAYS), self.settings.get(DUE_SOON_WORKDAYS)

    def refresh(self) -> None:
        inst = self.services.installation
        d = today()
        unit = self.services.reference.unit(inst.unit_id).name
        self.greeting.setText(f"{inst.operator}，您好　·　{unit} {inst.role_label}　·　"
                              f"{d.year}年{d.month}月{d.day}日 星期{WEEKDAYS[d.weekday()]}")
        not_visited_days, due_days = self._days()
        wb = self.services.workbench
        overview = wb.overview(not_visited_days=not_visited_days, due_within=due_days, recent=LIST_LIMIT)
        for tile in overview.tiles:
            w = self.tiles[tile.key]
            w.caption_label.setText(tile.label)
            w.set_value(tile.count, tooltip=tile.hint, alert=tile.key == "overdue" and tile.count > 0)
        self._fill_problems(self.overdue_list, overview.overdue, overdue=True)
        self._fill_problems(self.due_list, overview.due_soon, overdue=False)
        ents = self.services.enterprises
        ids = overview.not_visited
        self.not_visited_list.clear()
        rows = ents.rows(ids[:LIST_LIMIT])
        for i in ids[:LIST_LIMIT]:
            r = rows[i]
            since = "从未走访" if r["days_since_visit"] is None else f"{r['days_since_visit']} 天未走访"
            self._add(self.not_visited_list, f"{r['name']}　{since}", ("enterprise", i))
        self._empty(self.not_visited_list, len(ids), "包联企业近期都走访过了")
        vids = overview.recent_visits
        vrows = self.services.visits.rows(vids)
        self.recent_list.clear()
        for v in vids:
            r = vrows[v]
            self._add(self.recent_list, f"{r['visit_date']}　{r['kind']}　{r['enterprise_names'] or ''}", ("visit", v))
        self._empty(self.recent_list, len(vids), "还没有走访记录，按 Ctrl+N 新建")

    def _fill_problems(self, lst: QListWidget, ids: list[str], *, overdue: bool) -> None:
        lst.clear()
        rows = self.services.problems.rows(ids[:LIST_LIMIT])
        for pid in ids[:LIST_LIMIT]:
            r = rows[pid]
            when = (f"逾期 {r['overdue_workdays']} 个工作日" if overdue
                    else f"剩 {r['workdays_left']} 个工作日（{r['deadline']}）")
            item = self._add(lst, f"{r['title']}　·　{r['enterprise']}　·　{when}", ("problem", pid))
            if overdue:
                item.setForeground(Qt.GlobalColor.darkRed)
            item.setToolTip(f"{r['record_no']}　牵头单位：{r['lead_unit'] or '未交办'}")
        self._empty(lst, len(ids), "没有逾期问题" if overdue else "近期没有到期的问题")

    @staticmethod
    def _add(lst: QListWidget, text: str, ref: tuple[str, str]) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(ID_ROLE, ref)
        lst.addItem(item)
        return item

    @staticmethod
    def _empty(lst: QListWidget, total: int, message: str) -> None:
        if total == 0:
            item = QListWidgetItem(message)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            lst.addItem(item)
        elif total > LIST_LIMIT:
            item = QListWidgetItem(f"……共 {total} 条，点“全部”查看")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            lst.addItem(item)

    # -- navigation --------------------------------------------------------------------------------
    def _tile_clicked(self, key: str) -> None:
        wb = self.services.workbench
        not_visited_days, due_days = self._days()
        label = tile_label(key, not_visited_days)
        if key in ("my_enterprises", "not_visited"):
            self.bus.show_enterprises.emit(label, wb.enterprise_filter(key, not_visited_days=not_visited_days))
        elif key == "visits_month":
            start = today().replace(day=1).isoformat()
            self.bus.show_visits.emit(label, VisitFilter(date_from=start, cadre_id=wb.scope_cadre()))
        else:
            self.bus.show_problems.emit(label, wb.problem_filter(key, due_within=due_days))

    def _item_activated(self, item: QListWidgetItem) -> None:
        ref = item.data(ID_ROLE)
        if not ref:
            return
        kind, rid = ref
        {"problem": self.bus.open_problem, "enterprise": self.bus.open_enterprise, "visit": self.bus.open_visit}[
            kind].emit(rid)

