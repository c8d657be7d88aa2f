"""导出… on the list screens, driven through the widgets: every row of the filtered, sorted list is written off the
GUI thread (not only the rows loaded), to .xlsx or CSV as chosen; the folder is remembered; failures are shown."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import demo
from app.list_export import LEDGER_COLUMNS, LIST_COLUMNS
from ui.list_export import CSV_FILTER, FILTERS, XLSX_FILTER
from ui.settings import LAST_EXPORT_DIR
from ui.tasks import TaskRunner
from ui.views.enterprises_view import EnterprisesView
from ui.views.people_view import PeopleView
from ui.views.problems_view import OVERDUE_TAB, TABS, ProblemsView
from ui.views.visits_view import VisitsView


@pytest.fixture
def runner(qapp):
    r = TaskRunner()
    yield r
    assert r.wait_idle(30_000)
    r.deleteLater()


@pytest.fixture
def demo_services(services):
    demo.generate(services, size="small", seed=4)
    return services


@pytest.fixture
def save_as(monkeypatch):
    """Answer the save dialog with (path, filter); records what it was asked."""
    asked: list[tuple] = []
    answer: dict = {}

    def fake(parent, caption, start, filters, selected=""):
        asked.append((caption, start, filters, selected))
        return answer["path"], answer.get("filter", XLSX_FILTER)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake)

    def choose(path, chosen_filter=XLSX_FILTER):
        answer.update(path=str(path), filter=chosen_filter)
        return asked

    return choose


def make(qtbot, cls, services, bus, settings, runner):
    view = cls(services, bus, settings, runner)
    qtbot.addWidget(view)
    view.resize(1300, 800)
    view.show()
    return view


def run_export(qtbot, bus, runner, trigger, timeout=20_000) -> str:
    """Trigger an export and wait for the background task; returns the status-bar message."""
    with qtbot.waitSignal(bus.status_message, timeout=timeout) as said:
        trigger()
    qtbot.waitUntil(lambda: runner.active_count() == 0, timeout=timeout)
    return said.args[0]


def xlsx_rows(path) -> tuple[list, list[tuple]]:
    ws = openpyxl.load_workbook(path).active
    header = int(ws.freeze_panes[1:]) - 1
    rows = list(ws.iter_rows(min_row=header, values_only=True))
    return list(rows[0]), rows[1:]


def test_enterprises_export_all_filtered_sorted_rows(qtbot, demo_services, bus, ui_settings, runner, save_as,
                                                     tmp_path):
    view = make(qtbot, EnterprisesView, demo_services, bus, ui_settings, runner)
    view.status_combo.setCurrentIndex(view.status_combo.findData("在营"))
    view.table.sortByColumn(view.model.headers.index("最近走访"), Qt.SortOrder.DescendingOrder)
    ids = view.model.ids()
    assert ids == demo_services.enterprises.list_ids(view.current_filter(), "last_visit", True) and ids
    view.model._cache.clear()  # nothing loaded: the export must not depend on the rows painted
    asked = save_as(tmp_path / "企业.xlsx")
    message = run_export(qtbot, bus, runner, lambda: qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton))
    assert asked[0][2] == FILTERS and asked[0][1].endswith(".xlsx")
    headers, rows = xlsx_rows(tmp_path / "企业.xlsx")
    assert headers == [h for _, h in LIST_COLUMNS["enterprises"]]
    names = demo_services.enterprises.rows(ids)
    assert [r[0] for r in rows] == [names[i]["name"] for i in ids]
    assert {r[3] for r in rows} == {"在营"}
    assert f"（{len(ids)} 条）" in message and "企业.xlsx" in message
    assert ui_settings.get(LAST_EXPORT_DIR) == str(tmp_path)
    logged = demo_services.store.scalar("SELECT count(*) FROM audit_log WHERE action = '导出企业列表'")
    assert logged == sum(1 for i in ids if names[i]["contact_name"] or names[i]["contact_phone"])

    # The next export opens the dialog in the folder used last.
    save_as(tmp_path / "again.xlsx")
    run_export(qtbot, bus, runner, view.export_list)
    assert asked[1][1].startswith(str(tmp_path))


def test_visits_export_csv_when_the_csv_filter_is_chosen(qtbot, demo_services, bus, ui_settings, runner, save_as,
                                                         tmp_path):
    view = make(qtbot, VisitsView, demo_services, bus, ui_settings, runner)
    view.kind_combo.setCurrentIndex(view.kind_combo.findData("座谈会"))
    ids = view.model.ids()
    assert ids
    save_as(tmp_path / "走访记录", CSV_FILTER)  # no suffix typed: the chosen filter decides
    run_export(qtbot, bus, runner, lambda: qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton))
    raw = (tmp_path / "走访记录.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert lines[0] == [h for _, h in LIST_COLUMNS["visits"]]
    assert len(lines) - 1 == len(ids) and {line[2] for line in lines[1:]} == {"座谈会"}


def test_problems_export_list_of_the_tab_and_the_ledger(qtbot, demo_services, bus, ui_settings, runner, save_as,
                                                        tmp_path):
    view = make(qtbot, ProblemsView, demo_services, bus, ui_settings, runner)
    view.tabs.setCurrentIndex([key for _, key in TABS].index(OVERDUE_TAB))
    ids = view.model.ids()
    menu = view.export_button.menu()
    list_action, ledger_action = menu.actions()
    assert (list_action.text(), ledger_action.text()) == ("导出问题列表…", "导出问题台账…")

    save_as(tmp_path / "问题.xlsx")
    message = run_export(qtbot, bus, runner, list_action.trigger)
    assert "问题列表（逾期）" in message
    headers, rows = xlsx_rows(tmp_path / "问题.xlsx")
    assert headers == [h for _, h in LIST_COLUMNS["problems"]]
    records = demo_services.problems.rows(ids)
    assert [r[0] for r in rows] == [records[i]["record_no"] for i in ids]
    assert all(isinstance(r[headers.index("逾期工作日")], int) for r in rows)

    view.tabs.setCurrentIndex(0)
    save_as(tmp_path / "台账.xlsx")
    run_export(qtbot, bus, runner, ledger_action.trigger)
    headers, rows = xlsx_rows(tmp_path / "台账.xlsx")
    assert headers == [h for _, h in LEDGER_COLUMNS]
    assert [r[0] for r in rows] == list(range(1, view.model.rowCount() + 1))


def test_cadre_export_from_the_people_page(qtbot, demo_services, bus, ui_settings, runner, save_as, tmp_path):
    view = make(qtbot, PeopleView, demo_services, bus, ui_settings, runner)
    ids = view.model.ids()
    save_as(tmp_path / "干部.xlsx")
    run_export(qtbot, bus, runner, lambda: qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton))
    headers, rows = xlsx_rows(tmp_path / "干部.xlsx")
    assert headers == [h for _, h in LIST_COLUMNS["cadres"]] and len(rows) == len(ids)
    phones = demo_services.people.cadre_rows(ids)
    assert [r[headers.index("联系电话")] for r in rows] == [phones[i]["phone"] or None for i in ids]  # in full, logged
    assert demo_services.store.scalar("SELECT count(*) FROM audit_log WHERE action = '导出干部列表'") == sum(
        1 for i in ids if phones[i]["phone"])


def test_a_failed_export_shows_a_chinese_error_and_leaves_nothing(qtbot, demo_services, bus, ui_settings, runner,
                                                                  save_as, tmp_path):
    view = make(qtbot, EnterprisesView, demo_services, bus, ui_settings, runner)
    missing = tmp_path / "没有这个文件夹"
    save_as(missing / "企业.csv")
    said = []
    bus.status_message.connect(said.append)
    view.export_list()
    qtbot.waitUntil(lambda: runner.active_count() == 0, timeout=20_000)
    boxes = [b for b in view.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "没有这个文件夹" in boxes[0].text()
    assert not missing.exists() and said == []
    assert ui_settings.get(LAST_EXPORT_DIR) == ""
    assert demo_services.store.scalar("SELECT count(*) FROM audit_log WHERE action = '导出企业列表'") == 0
    boxes[0].close()


def test_cancelled_dialog_exports_nothing(qtbot, services, bus, ui_settings, runner, monkeypatch):
    view = make(qtbot, VisitsView, services, bus, ui_settings, runner)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    assert view.export_list() is None and runner.active_count() == 0
