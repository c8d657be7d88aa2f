"""Issue #8: the screens ask the database once for what they show — the 工作台's tiles, the 走访 and 问题 lists, the
问题 tab counts, the enterprise detail (whose 操作记录 is read when its tab is shown and names only its actors)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from app import uscc
from app.clock import today
from app.enterprises import EnterpriseService
from app.people import PeopleService
from app.problems import ProblemInput, ProblemService
from app.visits import VisitInput, VisitService
from app.workbench import WorkbenchService
from ui.models.lazy_table import INDEX_AFTER_LOOKUPS, Column, LazyTableModel
from ui.models.visit_model import COL_DATE


@pytest.fixture
def calls(monkeypatch):
    """Counter of calls to the service methods the screens query through."""
    counted = Counter()

    def spy(cls, name):
        real = getattr(cls, name)

        def wrapper(self, *a, **kw):
            counted[f"{cls.__name__}.{name}"] += 1
            return real(self, *a, **kw)

        monkeypatch.setattr(cls, name, wrapper)

    for cls, names in ((EnterpriseService, ("count", "list_ids", "history")), (WorkbenchService, ("overview",)),
                       (ProblemService, ("list_ids", "status_counts", "count")), (VisitService, ("list_ids",)),
                       (PeopleService, ("cadres", "cadre_names"))):
        for name in names:
            spy(cls, name)
    return counted


@pytest.fixture
def world(services):
    unit = services.installation.unit_id
    me = services.installation.cadre_id
    li_na = services.people.add_cadre("李娜", unit)
    ents = [services.enterprises.create({"uscc": uscc.make(f"91410105MA{n:07d}"), "name": name, "unit_id": unit}).id
            for n, name in enumerate(("郑州宇通客车股份有限公司", "郑州三全食品股份有限公司"), start=1)]
    start = (today() - timedelta(days=100)).isoformat()
    for ent in ents:
        services.people.assign(me, ent, start_date=start)
    services.people.assign(li_na, ents[0], start_date=start)
    services.visits.create(VisitInput(kind="实地走访", visit_date=(today() - timedelta(days=3)).isoformat(),
                                      enterprise_ids=[ents[0]], cadre_ids=[me], summary="了解企业用工情况。",
                                      problems=[ProblemInput(ents[0], "labour", "企业反映招工难。")]))
    services.problems.register(ProblemInput(ents[1], "finance", "续贷审批慢。"))
    return {"ents": ents, "li_na": li_na}


def show(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def test_the_workbench_computes_its_tiles_once(qtbot, services, bus, ui_settings, tasks, world, calls):
    from ui.views.home_view import HomeView

    home = show(qtbot, HomeView(services, bus, ui_settings, tasks))
    assert calls["WorkbenchService.overview"] == 1
    assert calls["EnterpriseService.count"] == 1  # 包联企业; 久未走访 counts the list it shows
    assert calls["ProblemService.count"] == 1  # 办理中; 逾期 and 即将到期 count their lists
    assert home.tiles["my_enterprises"].value_label.text() == "2"
    assert home.tiles["not_visited"].value_label.text() == "1"  # 三全 was never visited
    assert home.tiles["in_progress"].value_label.text() == "2"
    assert home.not_visited_list.item(0).text() == "郑州三全食品股份有限公司　从未走访"
    with qtbot.waitSignal(bus.show_enterprises) as shown:
        qtbot.mouseClick(home.tiles["not_visited"], Qt.MouseButton.LeftButton)
    assert shown.args[0] == "30天未走访" and calls["WorkbenchService.overview"] == 1  # a click counts nothing


def test_the_visits_page_queries_its_list_once(qtbot, services, bus, ui_settings, tasks, world, calls):
    from ui.views.visits_view import VisitsView

    view = show(qtbot, VisitsView(services, bus, ui_settings, tasks))
    assert calls["VisitService.list_ids"] == 1
    header = view.table.horizontalHeader()
    assert header.sortIndicatorSection() == COL_DATE and header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert view.count_label.text() == "共 1 条走访记录" and view.detail.visit is not None


def test_the_problems_page_counts_its_tabs_once_until_the_data_changes(qtbot, services, bus, ui_settings, tasks,
                                                                      world, calls):
    from ui.views.problems_view import ProblemsView

    view = show(qtbot, ProblemsView(services, bus, ui_settings, tasks))
    assert calls["ProblemService.list_ids"] == 1 and calls["ProblemService.status_counts"] == 1
    assert view.tabs.tabText(0) == "全部 2" and view.tabs.tabText(1) == "待交办 2"
    for i in range(view.tabs.count()):
        view.tabs.setCurrentIndex(i)
    assert calls["ProblemService.status_counts"] == 1  # the tabs' numbers are kept
    assert calls["ProblemService.list_ids"] == view.tabs.count()  # one list per tab shown
    view.tabs.setCurrentIndex(0)
    services.problems.register(ProblemInput(world["ents"][1], "finance", "用电报装慢。"))
    bus.data_changed.emit()
    assert calls["ProblemService.status_counts"] == 2 and view.tabs.tabText(0) == "全部 3"
    view.search.setText("用电")
    view.search.flush()
    assert calls["ProblemService.status_counts"] == 3 and view.tabs.tabText(0) == "全部 1"


def test_the_enterprise_detail_names_only_the_actors_and_reads_its_record_when_shown(
        qtbot, services, bus, ui_settings, tasks, world, calls):
    from ui.views.enterprises_view import EnterprisesView

    view = show(qtbot, EnterprisesView(services, bus, ui_settings, tasks))
    detail = view.detail
    before = detail.refreshes
    view.open_enterprise(world["ents"][0])
    assert detail.refreshes == before + 1  # selecting the row showed it; not again
    assert detail.title_label.text() == "郑州宇通客车股份有限公司"
    assert calls["PeopleService.cadres"] == 0 and calls["EnterpriseService.history"] == 0
    detail.tabs.setCurrentWidget(detail.history_table)
    assert calls["EnterpriseService.history"] == 1 and calls["PeopleService.cadre_names"] == 1
    changes = [detail.history_model.row_dict(r)["changes"] for r in range(detail.history_model.rowCount())]
    assert any("包联干部：李娜" in c for c in changes) and any("包联干部：王磊" in c for c in changes)
    detail.tabs.setCurrentIndex(0)
    detail.tabs.setCurrentWidget(detail.history_table)
    assert calls["EnterpriseService.history"] == 1  # the same enterprise: read once
    view.open_enterprise(world["ents"][1])  # shown with the 操作记录 tab on screen: read at once
    assert calls["EnterpriseService.history"] == 2 and detail.history_model.rowCount() >= 2
    assert calls["PeopleService.cadres"] == 0


def test_the_main_window_refreshes_the_problems_page_once_per_change(qtbot, services, ui_settings, tasks, world,
                                                                    calls):
    from ui.main_window import MainWindow

    window = MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(window)
    window.show_page("problems")
    before = calls["ProblemService.status_counts"]
    window.bus.data_changed.emit()
    assert calls["ProblemService.status_counts"] == before + 1
    window.findChild(type(window.new_visit_action), "act_refresh").trigger()  # F5
    assert calls["ProblemService.status_counts"] == before + 2


class _Source:
    def __init__(self, n: int):
        self.data = [f"id{i:05d}" for i in range(n)]

    def ids(self, sort_key, descending):
        return sorted(self.data, reverse=descending) if sort_key else list(self.data)

    def rows(self, ids):
        return {i: {"id": i} for i in ids}


def test_row_of_answers_alike_for_a_few_lookups_and_for_many(qtbot):
    model = LazyTableModel([Column("id", "编号")], _Source(500))
    probes = ["id00000", "id00499", "id00250", "nope", *(f"id{i:05d}" for i in range(0, 500, 37))]
    assert len(probes) > INDEX_AFTER_LOOKUPS
    assert [model.row_of(p) for p in probes] == [None if p == "nope" else int(p[2:]) for p in probes]
    model.sort(0, Qt.SortOrder.DescendingOrder)
    assert model.row_of("id00000") == 499 and model.row_of("id00499") == 0
