"""The 统计 dashboard (issue #6) driven through its widgets: every number clicked opens a list of exactly that many
records; the late list presses in batches; coverage tiles open their lists; the report exports to xlsx."""

from __future__ import annotations

import openpyxl
import pytest
from PySide6.QtCore import QPoint, Qt

from app import demo
from ui.views.stats_view import StatsView


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks):
    demo.generate(services, size="small", seed=4)
    v = StatsView(services, bus, ui_settings, tasks)
    qtbot.addWidget(v)
    v.resize(1300, 860)
    v.show()
    v.set_period("all")
    return v


def last_drill(view):
    dialog = view.drills[-1]
    return dialog, dialog.table.rowCount()


@pytest.mark.parametrize("figure", ["enterprises_covered", "enterprise_visits", "symposia", "problems_collected", "due_soon",
                                    "problems_solved", "overdue", "missed_deadline", "cadres", "work_groups"])
def test_clicking_a_headline_number_lists_that_many_records(qtbot, view, figure):
    tile = view.tiles[figure]
    number = int(tile.value_label.text())
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    dialog, rows = last_drill(view)
    assert rows == number, dialog.windowTitle()
    assert f"共 {number} 条" in dialog.count_label.text()


def test_double_clicking_a_breakdown_cell_lists_its_records(qtbot, view):
    view.dimension.setCurrentIndex(view.dimension.findData("category"))
    from ui.models.stats_model import COLUMNS

    col = [k for k, _ in COLUMNS].index("problems_collected")
    for row in range(view.model.rowCount()):
        index = view.model.index(row, col)
        view._table_drill(index)
        _dialog, rows = last_drill(view)
        assert rows == int(index.data()), view.model.index(row, 0).data()


def test_a_drilled_problem_opens_on_double_click(qtbot, view, bus):
    qtbot.mouseClick(view.tiles["problems_collected"], Qt.MouseButton.LeftButton)
    dialog, _ = last_drill(view)
    with qtbot.waitSignal(bus.open_problem, timeout=1000) as opened:
        dialog.open_row(0)
    assert opened.args[0] == dialog.row_at(0)["id"]


def test_late_list_batch_urge_records_an_event_on_each(qtbot, view, services):
    late = view.late
    view.tabs.setCurrentWidget(late)
    if late.list.rowCount() < 2:
        pytest.skip("demo data has fewer than two overdue problems")
    late.list.selectRow(0)
    late.list.setSelectionMode(late.list.SelectionMode.MultiSelection)
    late.list.selectRow(1)
    ids = late.selected_ids()
    before = {i: services.problems.get(i)["urge_count"] for i in ids}
    assert late.press("催办", note="请加快办理") == 2
    assert all(services.problems.get(i)["urge_count"] == before[i] + 1 for i in ids)


def test_coverage_tiles_open_their_lists(qtbot, view):
    view.tabs.setCurrentWidget(view.coverage)
    for key, tile in view.coverage.tiles.items():
        number = int(tile.value_label.text())
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
        _dialog, rows = last_drill(view)
        assert rows == number, key


def test_month_bar_click_drills_into_that_month(qtbot, view):
    view.tabs.setCurrentWidget(view.charts)
    chart = view.charts.monthly
    qtbot.waitExposed(chart)
    if chart.count() == 0:
        pytest.skip("no months")
    rect = chart.bar_rect(0, 1)
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    dialog, rows = last_drill(view)
    month = view.charts._months[0]
    expected = next(r["problems_collected"] for r in view.services.stats.breakdown("month", view.period())
                    if r["key"] == month)
    assert rows == expected and month in dialog.windowTitle()


def test_report_exports_the_numbers_on_screen(qtbot, view, tmp_path, tasks):
    path = tmp_path / "统计报表.xlsx"
    view.export_report(str(path))
    book = openpyxl.load_workbook(path)
    sheet = book[book.sheetnames[0]]
    values = {str(r[0]): r[1] for r in sheet.iter_rows(values_only=True) if r and r[0]}
    for key in ("problems_collected", "problems_solved", "overdue"):
        caption = next(t.caption_label.text() for k, t in view.tiles.items() if k == key)
        assert str(values.get(caption)) == view.tiles[key].value_label.text()


def test_drill_list_exports_to_xlsx(qtbot, view, tmp_path):
    qtbot.mouseClick(view.tiles["problems_collected"], Qt.MouseButton.LeftButton)
    dialog, rows = last_drill(view)
    path = dialog.export(str(tmp_path / "问题.xlsx"))
    sheet = openpyxl.load_workbook(path).active
    data_rows = [r for r in sheet.iter_rows(min_row=1, values_only=True) if r and r[0]]
    assert len(data_rows) == rows + 2  # the note line, the header, then one row per record
