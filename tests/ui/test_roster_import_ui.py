"""导入名单 (issue #7) through its widgets: a messy office file gives the same preview as `roster import --dry-run
--json`, the filter, 导入 writing the accepted rows, the error report, and the column-mapping step for a header the
app does not recognise."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl import Workbook
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from app import uscc
from app.roster.plan import ACTIONS
from ui.dialogs import roster_import_dialog
from ui.dialogs.roster_import_dialog import UNRECOGNISED, RosterImportDialog
from ui.main_window import MainWindow
from ui.models.roster_preview_model import ACTION, LABEL, MESSAGES, ROW
from ui.tasks import TaskRunner


def code(body: str) -> str:
    """A credit code of 金水区 that passes every check (its embedded organisation code too): no warnings."""
    return uscc.make("91410105" + body + uscc.org_code_check(body))


CODE_A, CODE_B, CODE_C = code("MA000101"), code("MA000102"), code("MA000103")
BAD_CODE = CODE_A[:17] + ("0" if CODE_A[17] != "0" else "1")


def messy_workbook(path):
    """An office's list: a merged title, a 填报 line, the header on row 3 in its own words, a blank row, a bad credit
    code, a duplicate and a 合计 row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    rows = [
        ["金水区“万人助万企”包联企业名单", None, None, None, None, None],
        ["填报单位：金水区工信局", None, None, None, None, "2026年11月"],
        ["序号", "企业全称", "信用代码", "属地", "联系人", "手机"],
        [1, "郑州甲科技有限公司", CODE_A, "金水区", "张三", "13800138000"],
        [2, "郑州乙机械有限公司", CODE_B, "金水区", "李四", "13800138001"],
        [None, None, None, None, None, None],
        [3, "郑州丙商贸有限公司", BAD_CODE, "金水区", None, None],
        [4, "郑州丁食品有限公司", CODE_C, "金水区", "王五", "13800138002"],
        [5, "郑州甲科技有限公司", CODE_A, "金水区", None, None],
        ["合计", "共 5 家", None, None, None, None],
    ]
    for r in rows:
        ws.append(r)
    ws.merge_cells("A1:F1")
    wb.save(path)
    return path


def unnamed_workbook(path):
    """A list whose header names nothing the app knows."""
    wb = Workbook()
    ws = wb.active
    ws.append(["甲栏", "乙栏", "丙栏"])
    ws.append(["郑州甲科技有限公司", CODE_A, "金水区"])
    ws.append(["郑州乙机械有限公司", CODE_B, "金水区"])
    wb.save(path)
    return path


def table_rows(dialog) -> list[tuple[int, str]]:
    model = dialog.table.model()
    return [(int(model.index(r, ROW).data()), model.index(r, ACTION).data()) for r in range(model.rowCount())]


def cli_rows(services, path) -> list[tuple[int, str]]:
    return [(d["row"], ACTIONS[d["action"]]) for d in services.roster.preview(path).to_json()]


@pytest.fixture
def runner(qtbot):
    """The real task runner: reading, planning and the import run in worker threads as in the app."""
    r = TaskRunner()
    yield r
    r.wait_idle()


@pytest.fixture
def dialog(qtbot, services, bus, ui_settings, runner):
    d = RosterImportDialog(services, bus, ui_settings, runner)
    qtbot.addWidget(d)
    d.show()
    return d


def wait_preview(qtbot, dialog) -> None:
    qtbot.waitUntil(lambda: dialog.preview is not None and not dialog._busy, timeout=10_000)


def test_messy_file_previews_as_the_command_line_does(qtbot, dialog, services, tmp_path):
    path = messy_workbook(tmp_path / "包联企业.xlsx")
    dialog.open_file(path)
    wait_preview(qtbot, dialog)

    expected = cli_rows(services, path)
    assert table_rows(dialog) == expected
    assert [r for r, _ in expected] == [4, 5, 7, 8, 9]  # the blank row and 合计 are skipped
    assert dict(expected)[7] == "错误" and dict(expected)[9] == "错误"
    assert dialog.preview.layout.header_row == 3 and dialog.header_spin.value() == 3
    assert dialog.summary_label.text() == dialog.preview.summary()
    assert dialog.kind_hint.text() == "已识别为企业名单"
    assert dialog.mapping_table.isHidden() and dialog.mapping_hint.isHidden()  # recognised: no mapping step
    model = dialog.table.model()
    row7 = [r for r in range(model.rowCount()) if model.index(r, ROW).data() == "7"][0]
    assert "统一社会信用代码" in model.index(row7, MESSAGES).data()
    assert model.index(row7, LABEL).data() == "郑州丙商贸有限公司"
    assert model.index(row7, ACTION).data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"
    assert "第 7 行" in model.index(row7, MESSAGES).data(Qt.ItemDataRole.ToolTipRole)
    assert dialog.import_button.text() == "导入 3 行" and dialog.import_button.isEnabled()
    assert dialog.report_button.isEnabled()

    dialog.filter_combo.setCurrentIndex(dialog.filter_combo.findData("error"))
    assert [a for _, a in table_rows(dialog)] == ["错误", "错误"]
    assert [r for r, _ in table_rows(dialog)] == [7, 9]
    assert dialog.filter_combo.currentText() == "错误（2）"
    dialog.filter_combo.setCurrentIndex(dialog.filter_combo.findData(None))
    assert len(table_rows(dialog)) == 5


def test_import_writes_the_accepted_rows_and_reports_the_errors(qtbot, dialog, services, bus, tmp_path, monkeypatch):
    path = messy_workbook(tmp_path / "包联企业.xlsx")
    dialog.open_file(path)
    wait_preview(qtbot, dialog)

    asked = []
    monkeypatch.setattr(roster_import_dialog, "confirm_partial", lambda _p, errors, writes: asked.append(
        (errors, writes)) or True)
    with qtbot.waitSignal(bus.data_changed, timeout=10_000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog._busy)
    assert asked == [(2, 3)]
    names = {services.enterprises.get(i)["name"] for i in services.enterprises.list_ids(
        __import__("app.enterprises", fromlist=["EnterpriseFilter"]).EnterpriseFilter())}
    assert names == {"郑州甲科技有限公司", "郑州乙机械有限公司", "郑州丁食品有限公司"}
    assert dialog.result is not None and dialog.result.created == 3 and dialog.result.rejected == 2
    assert dialog.notice.isVisible() and dialog.result.message in dialog.notice.text()
    assert not dialog.import_button.isEnabled() and dialog.import_button.text() == "已导入"

    assert dialog.default_report_path() == tmp_path / "包联企业_导入问题.xlsx"
    out = dialog.export_errors(tmp_path / "问题.xlsx")
    qtbot.waitUntil(lambda: dialog.report_path is not None, timeout=10_000)
    ws = openpyxl.load_workbook(out).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "郑州丙商贸有限公司" in values and BAD_CODE in values and "导入问题" in values

    # 重新读取 after the import: the same file now changes nothing.
    dialog.reload()
    wait_preview(qtbot, dialog)
    assert {a for _, a in table_rows(dialog)} == {"无变化", "错误"}
    assert not dialog.import_button.isEnabled() and dialog.import_button.text() == "导入 0 行"


def test_an_unrecognised_header_asks_for_the_columns(qtbot, dialog, services, tmp_path):
    path = unnamed_workbook(tmp_path / "名单.xlsx")
    dialog.open_file(path)
    qtbot.waitUntil(lambda: dialog.raw is not None and not dialog._busy, timeout=10_000)
    assert dialog.preview is None
    assert dialog.mapping_table.isVisible() and dialog.mapping_table.rowCount() == 3
    assert dialog.mapping_hint.isVisible() and dialog.mapping_hint.text().startswith(UNRECOGNISED)
    assert not dialog.mapping_combo(0).isEnabled()  # the kind first
    assert dialog.mapping_table.item(0, 3).text() == "郑州甲科技有限公司"  # an example tells what a column holds
    assert not dialog.import_button.isEnabled()

    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("enterprises"))
    assert dialog.mapping_combo(0).isEnabled() and dialog.preview is None
    assert "企业名称" in dialog.mapping_hint.text()
    dialog.set_mapping(1, "uscc")
    dialog.set_mapping(2, "unit")
    assert dialog.preview is None
    combo = dialog.mapping_combo(0)
    combo.setCurrentIndex(combo.findData("name"))
    wait_preview(qtbot, dialog)
    assert dialog.mapping_hint.isHidden()
    assert table_rows(dialog) == [(2, "新增"), (3, "新增")]
    assert dialog.import_button.text() == "导入 2 行"

    # One field, one column: naming column C 统一社会信用代码 takes it from column B.
    dialog.set_mapping(2, "uscc")
    assert dialog.mapping_combo(1).currentData() is None
    qtbot.waitUntil(lambda: not dialog._busy, timeout=10_000)
    dialog.set_mapping(0, None)
    assert dialog.preview is None and dialog.table.model().rowCount() == 0
    assert dialog.mapping_hint.isVisible() and "“企业名称”" in dialog.mapping_hint.text()


def test_a_sheet_and_header_row_can_be_chosen(qtbot, dialog, services, tmp_path):
    path = messy_workbook(tmp_path / "名单.xlsx")
    wb = openpyxl.load_workbook(path)
    notes = wb.create_sheet("填表说明", 0)  # the active sheet holds no list: the list's sheet is found
    notes.append(["请按模板填写，不要修改列名。"])
    wb.active = 0
    wb.save(path)
    dialog.open_file(path)
    wait_preview(qtbot, dialog)
    assert dialog.sheet_combo.isVisible() and dialog.sheet_combo.currentText() == "名单"
    assert table_rows(dialog) == cli_rows(services, path)

    dialog.header_spin.setValue(1)  # the title row is no header
    qtbot.waitUntil(lambda: not dialog._busy, timeout=10_000)
    assert dialog.preview is None and dialog.mapping_hint.isVisible() and dialog.mapping_table.isVisible()
    dialog.header_spin.setValue(3)
    wait_preview(qtbot, dialog)
    assert table_rows(dialog) == cli_rows(services, path)

    dialog.sheet_combo.setCurrentIndex(dialog.sheet_combo.findData("填表说明"))
    qtbot.waitUntil(lambda: dialog.raw is not None and dialog.raw.sheet == "填表说明" and not dialog._busy,
                    timeout=10_000)
    assert dialog.preview is None and dialog.mapping_hint.isVisible()


def test_a_file_that_is_no_spreadsheet_says_so(qtbot, dialog, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(roster_import_dialog, "show_error", lambda _parent, exc: shown.append(exc))
    bad = tmp_path / "名单.xlsx"
    bad.write_bytes(b"this is not a workbook")
    dialog.open_file(bad)
    qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
    assert "名单.xlsx" in shown[0].message
    assert dialog.preview is None and dialog.raw is None
    assert not dialog.import_button.isEnabled() and not dialog.report_button.isEnabled()
    assert dialog.choose_button.isEnabled()


def test_entry_points_open_the_dialog_and_an_import_refreshes_the_lists(qtbot, services, ui_settings, tasks,
                                                                         tmp_path, monkeypatch):
    window = MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(window)
    window.show()
    view = window.show_page("enterprises")
    assert view.count_label.text() == "共 0 家"
    action = window.findChild(QAction, "act_import_roster")
    assert action is not None and action.text() == "导入名单…"
    action.trigger()
    dialogs = [w for w in window.findChildren(RosterImportDialog) if w.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    path = messy_workbook(tmp_path / "名单.xlsx")
    dialog.open_file(path)  # SyncTaskRunner: read and planned at once
    assert table_rows(dialog) == cli_rows(services, path)
    monkeypatch.setattr(roster_import_dialog, "confirm_partial", lambda *_args: True)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert view.count_label.text() == "共 3 家"  # data_changed refreshed the list on screen
    assert dialog.result.message in window.statusBar().currentMessage()
    dialog.close()

    qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert any(d.isVisible() for d in view.findChildren(RosterImportDialog))
    people = window.show_page("people")
    qtbot.mouseClick(people.import_button, Qt.MouseButton.LeftButton)
    assert any(d.isVisible() for d in people.findChildren(RosterImportDialog))


def test_preview_model_passes_the_model_tester(qtmodeltester, services, tmp_path):
    from ui.models.roster_preview_model import RosterPreviewModel

    model = RosterPreviewModel()
    model.set_plans(services.roster.preview(messy_workbook(tmp_path / "名单.xlsx")).rows)
    qtmodeltester.check(model)
    model.sort(ACTION, Qt.SortOrder.AscendingOrder)
    assert [model.index(r, ACTION).data() for r in range(model.rowCount())] == ["错误", "错误", "新增", "新增", "新增"]
    model.set_filter("warnings")
    assert [model.index(r, ROW).data() for r in range(model.rowCount())] == ["4"]  # 第 9 行与本行重复
    qtmodeltester.check(model)
