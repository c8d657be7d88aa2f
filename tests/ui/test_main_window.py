"""End to end through the main window: a cadre's day — enterprise, visit with a problem, the problem to
已销号 — and the 工作台 and 统计 numbers that follow, all through the real widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from app import uscc
from app.clock import today
from tests.ui.conftest import totals_match
from ui.dialogs.enterprise_dialog import EnterpriseDialog
from ui.dialogs.visit_dialog import VisitDialog
from ui.main_window import PAGES, MainWindow

USCC = "914403001922038216"


@pytest.fixture
def window(qtbot, services, ui_settings, tasks):
    w = MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def tile(window: MainWindow, key: str) -> str:
    return window.home.tiles[key].value_label.text()


def step(qtbot, window: MainWindow, kind: str, fill=None) -> None:
    detail = window.problems.detail
    qtbot.mouseClick(detail.step_buttons[kind], Qt.MouseButton.LeftButton)
    dialog = detail.step_dialog
    assert dialog is not None and dialog.kind == kind
    if fill:
        fill(dialog)
    with qtbot.waitSignal(window.bus.data_changed, timeout=3000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_a_cadres_day_through_the_real_dialogs(qtbot, window, services):
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [label for _, label in PAGES]
    assert tile(window, "my_enterprises") == "0" and tile(window, "visits_month") == "0"

    # 1. A new enterprise through its dialog (Ctrl+Shift+E from anywhere).
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.page_key() == "enterprises"
    dialog = window.enterprises.findChild(EnterpriseDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.name_edit.insert("郑州宇通客车股份有限公司")
    qtbot.keyClicks(dialog.uscc_edit, USCC)
    qtbot.waitUntil(dialog.save_button.isEnabled)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    ent_id = dialog.saved_id
    assert ent_id and services.enterprises.get(ent_id)["uscc"] == USCC
    services.people.assign(services.installation.cadre_id, ent_id)  # 包联 (its dialog has its own tests)

    # 2. Ctrl+N: a visit with one problem, keyboard only, saved with Ctrl+S.
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.page_key() == "visits"
    visit_dialog = window.visits.findChild(VisitDialog)
    assert visit_dialog is not None and visit_dialog.isVisible()
    visit_dialog.activateWindow()  # as the window manager does for a new dialog (window shortcuts need it)
    qtbot.waitUntil(visit_dialog.isActiveWindow)
    qtbot.keyClicks(visit_dialog.picker.line_edit, "zzyt")
    visit_dialog.picker.search_now()
    qtbot.keyClick(visit_dialog.picker.line_edit, Qt.Key.Key_Return)
    assert visit_dialog.picker.selected_ids() == [ent_id]
    visit_dialog.summary_edit.setPlainText("了解企业生产经营情况，企业反映一线技术工人短缺。")
    visit_dialog.summary_edit.setFocus()
    qtbot.keyClick(visit_dialog.summary_edit, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    card = visit_dialog.cards[-1]
    qtbot.keyClicks(card.category_combo, "yg")
    card.description_edit.setPlainText("一线技术工人缺口约120人，招工困难。")
    with qtbot.waitSignal(window.bus.data_changed, timeout=3000):
        qtbot.keyClick(card.description_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    visit = services.visits.get(visit_dialog.saved_id)
    assert [p["category_code"] for p in visit["problems"]] == ["labour"]
    pid = visit["problems"][0]["id"]

    # 3. 工作台 follows: one 包联 enterprise, one visit this month, one problem in progress.
    window.show_page("home")
    assert tile(window, "my_enterprises") == "1"
    assert tile(window, "visits_month") == "1"
    assert tile(window, "in_progress") == "1"
    assert tile(window, "not_visited") == "0"

    # 4. The problem from 待交办 to 已销号 with the step buttons.
    window.bus.open_problem.emit(pid)
    assert window.page_key() == "problems" and window.problems.detail.pid == pid
    lead = services.reference.unit_by_name("市人社局").id

    def choose_lead(d):
        d.lead_combo.setCurrentIndex(d.lead_combo.findData(lead))

    step(qtbot, window, "交办", choose_lead)
    step(qtbot, window, "接收")
    step(qtbot, window, "进展", lambda d: d.note_edit.setPlainText("已对接区人社局专场招聘会。"))
    step(qtbot, window, "办结", lambda d: (d.groups["outcome"].buttons()[0].setChecked(True),
                                         d.note_edit.setPlainText("专场招聘会招到 126 人。")))
    step(qtbot, window, "回访", lambda d: next(b for b in d.groups["verdict"].buttons() if b.text() == "满意")
         .setChecked(True))
    step(qtbot, window, "销号")
    problem = services.problems.get(pid)
    assert (problem["status"], problem["outcome"], problem["satisfaction"]) == ("已销号", "已解决", "满意")
    assert services.problems.replayed_state(pid)["status"] == "已销号"

    # 5. 工作台 and 统计 agree with what was done.
    window.show_page("home")
    assert tile(window, "in_progress") == "0" and tile(window, "overdue") == "0"
    stats = window.show_page("stats")
    stats.set_period("month")
    values = {k: t.value_label.text() for k, t in stats.tiles.items()}
    assert values["enterprises_covered"] == "1"
    assert values["enterprise_visits"] == "1"
    assert values["problems_collected"] == "1"
    assert values["problems_solved"] == "1"
    assert values["solve_rate"] == "100.0%"
    assert values["satisfaction_rate"] == "100.0%"
    assert stats.cutoff_label.text().count(today().isoformat()) >= 1
    assert totals_match(stats)


def test_drill_down_from_workbench_tiles(qtbot, window, services):
    unit = services.installation.unit_id
    ids = [services.enterprises.create({"uscc": uscc.make(f"91410105MA{n:07d}"), "name": f"郑州测试{n}号有限公司",
                                        "unit_id": unit}).id for n in range(1, 4)]
    for ent in ids[:2]:
        services.people.assign(services.installation.cadre_id, ent)
    window.bus.data_changed.emit()
    assert tile(window, "my_enterprises") == "2"
    qtbot.mouseClick(window.home.tiles["not_visited"], Qt.MouseButton.LeftButton)
    assert window.page_key() == "enterprises"
    assert window.enterprises.model.rowCount() == 2  # the list behind the number has that many rows
    window.show_page("home")
    qtbot.mouseClick(window.home.tiles["my_enterprises"], Qt.MouseButton.LeftButton)
    assert window.enterprises.model.rowCount() == 2


def test_ctrl_f_focuses_the_current_search_and_pages_refresh_when_shown(qtbot, window, services):
    window.show_page("problems")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.problems.search
    services.enterprises.create({"uscc": USCC, "name": "郑州宇通客车股份有限公司",
                                 "unit_id": services.installation.unit_id})
    window.bus.data_changed.emit()  # the problems page is visible; the enterprises page is stale
    window.show_page("enterprises")
    assert window.enterprises.model.rowCount() == 1
