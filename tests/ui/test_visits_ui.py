"""走访记录 UI: the visit form driven by the keyboard, inline errors, the list and detail, 修改文字, the model."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import uscc
from app.problems import ProblemInput
from app.visits import Attendee, VisitFilter, VisitInput
from ui.dialogs.visit_dialog import VisitDialog
from ui.models.visit_model import COL_ENTERPRISES, VisitTableModel, enterprise_names
from ui.views.visits_view import VisitsView


class Keys:
    """Sends key presses to whatever has the focus, counting them (the keystroke budget of the form)."""

    def __init__(self, qtbot):
        self.qtbot = qtbot
        self.count = 0

    def focus(self) -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def press(self, key, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
        for _ in range(times):
            self.qtbot.keyClick(self.focus(), key, modifier)
            self.count += 1

    def type(self, ascii_text: str) -> None:
        self.qtbot.keyClicks(self.focus(), ascii_text)
        self.count += len(ascii_text)

    def type_chinese(self, text: str) -> None:
        """Chinese comes from the input method, one commit per phrase (keyClicks cannot send it here)."""
        widget = self.focus()
        if hasattr(widget, "insertPlainText"):
            widget.insertPlainText(text)
        else:
            widget.insert(text)


def enterprise(services, name: str, n: int, **extra) -> str:
    unit = services.reference.unit_by_name("金水区")
    code = uscc.make(f"91410105{n:09d}")
    return services.enterprises.create({"uscc": code, "name": name, "unit_id": unit.id, **extra}).id


def count(services, table: str) -> int:
    return services.store.scalar(f"SELECT count(*) FROM {table}")


@pytest.fixture
def two_enterprises(services):
    return (enterprise(services, "郑州宇通客车股份有限公司", 1), enterprise(services, "郑州三全食品股份有限公司", 2))


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks):
    v = VisitsView(services, bus, ui_settings, tasks)
    qtbot.addWidget(v)
    v.resize(1280, 800)
    v.show()
    qtbot.waitExposed(v)
    return v


def open_dialog(qtbot, view, enterprise_id=None) -> VisitDialog:
    dialog = view.new_visit(enterprise_id)
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None and dialog.isAncestorOf(QApplication.focusWidget()))
    return dialog


# --- the form, driven by the keyboard -----------------------------------------------------------


def test_keyboard_only_visit_with_two_problems(qtbot, services, bus, view, two_enterprises):
    yutong, _sanquan = two_enterprises
    dialog = open_dialog(qtbot, view)
    keys = Keys(qtbot)
    assert keys.focus() is dialog.picker.line_edit  # the cursor starts in the enterprise search

    keys.type("zzyt")
    keys.press(Qt.Key.Key_Return)
    assert dialog.picker.selected_ids() == [yutong]
    assert dialog.picker.line_edit.text() == ""

    keys.press(Qt.Key.Key_Tab)  # 参加干部: the operator is already ticked
    assert keys.focus() is dialog.cadre_list
    assert dialog.cadre_ids() == [services.installation.cadre_id]
    keys.press(Qt.Key.Key_Tab)  # 企业参加人员: add one row with Ctrl+Enter
    assert keys.focus() is dialog.attendees.add_button
    keys.press(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    keys.type_chinese("张伟")
    keys.press(Qt.Key.Key_Tab)
    keys.type_chinese("总经理")
    keys.press(Qt.Key.Key_Tab)
    keys.type("13812345678")
    keys.press(Qt.Key.Key_Tab)  # past the 添加人员 button
    keys.press(Qt.Key.Key_Tab)
    assert keys.focus() is dialog.summary_edit
    keys.type_chinese("了解企业一季度生产经营情况，订单饱满。")

    for category, description in (("yg", "一线技术工人缺口约120人。"), ("rz", "流动资金贷款续贷困难。")):
        keys.press(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
        card = dialog.cards[-1]
        assert keys.focus() is card.category_combo  # a new card takes the cursor
        keys.type(category)
        keys.press(Qt.Key.Key_Tab)
        assert keys.focus() is card.description_edit
        keys.type_chinese(description)
    assert [c.category_combo.currentText() for c in dialog.cards] == ["用工人才", "融资信贷"]

    with qtbot.waitSignal(bus.data_changed):
        keys.press(Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    assert dialog.saved_id
    # Keys pressed besides the Chinese text itself: 4+1 (zzyt Enter), 2 Tabs, Ctrl+Enter, 2 Tabs, 11 digits,
    # 2 Tabs, and per problem Alt+A + 2 letters + Tab, then Ctrl+S.
    assert keys.count == 32
    assert count(services, "visits") == 1
    visit = services.visits.get(dialog.saved_id)
    assert [e["id"] for e in visit["enterprises"]] == [yutong]
    assert [(a["name"], a["title"], a["phone"]) for a in visit["attendees"]] == [("张伟", "总经理", "13812345678")]
    assert [p["status"] for p in visit["problems"]] == ["待交办", "待交办"]
    assert sorted(p["category_code"] for p in visit["problems"]) == ["finance", "labour"]
    assert visit["summary"] == "了解企业一季度生产经营情况，订单饱满。"
    # The list shows the new visit, selected, with its detail.
    assert view.model.rowCount() == 1
    assert view.selected_id() == dialog.saved_id
    assert view.detail.summary_label.text() == "了解企业一季度生产经营情况，订单饱满。"


def test_missing_summary_is_shown_inline_and_nothing_is_saved(qtbot, services, view, two_enterprises):
    yutong, _ = two_enterprises
    dialog = open_dialog(qtbot, view, yutong)
    assert QApplication.focusWidget() is dialog.summary_edit  # enterprise given: start with the text
    card = dialog.add_problem()
    card.category_combo.select_by_typing("yg")
    card.description_edit.setPlainText("缺工")
    before = {t: count(services, t) for t in ("visits", "problems", "visit_enterprises", "audit_log")}

    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    assert dialog.isVisible() and dialog.saved_id is None
    assert dialog.field_error("summary") == "“走访情况”不能为空。"
    assert "走访情况" in dialog.form_error.text()
    assert QApplication.focusWidget() is dialog.summary_edit
    assert card.description_edit.toPlainText() == "缺工"  # the input is kept
    assert {t: count(services, t) for t in before} == before

    # Fixing it and saving again works; the error goes away.
    dialog.summary_edit.setPlainText("补写走访情况")
    assert dialog.save()
    assert count(services, "visits") == before["visits"] + 1
    assert count(services, "problems") == before["problems"] + 1


def test_problem_error_points_at_its_card(qtbot, services, view, two_enterprises):
    dialog = open_dialog(qtbot, view, two_enterprises[0])
    dialog.summary_edit.setPlainText("走访")
    first, second = dialog.add_problem(), dialog.add_problem()
    first.category_combo.select_by_typing("rz")
    first.description_edit.setPlainText("贷款难")
    second.description_edit.setPlainText("没有选类别")

    assert not dialog.save()

    assert second.error_label.isVisible() and not first.error_label.isVisible()
    assert second.error_label.text() == "问题2：请选择问题类别。"
    assert QApplication.focusWidget() is second.category_combo
    assert count(services, "visits") == 0 and count(services, "problems") == 0


def test_no_enterprise_and_no_cadre_errors_are_inline(qtbot, services, view):
    dialog = open_dialog(qtbot, view)
    dialog.summary_edit.setPlainText("走访")
    assert not dialog.save()
    assert dialog.field_error("enterprise_ids") == "请至少选择一家走访企业。"
    assert QApplication.focusWidget() is dialog.picker.line_edit


def test_bad_attendee_phone_names_the_row(qtbot, services, view, two_enterprises):
    dialog = open_dialog(qtbot, view, two_enterprises[0])
    dialog.summary_edit.setPlainText("走访")
    dialog.attendees.add_row("张伟", "总经理", "13812345678")
    dialog.attendees.add_row("刘芳", "", "abc")
    assert not dialog.save()
    assert "第 2 行" in dialog.field_error("attendees")
    assert dialog.attendees.isAncestorOf(QApplication.focusWidget())
    assert count(services, "visits") == 0


def test_symposium_with_two_enterprises(qtbot, services, view, two_enterprises):
    yutong, sanquan = two_enterprises
    enterprise(services, "河南中原高速公路股份有限公司", 3)
    dialog = open_dialog(qtbot, view)
    dialog.kind_combo.setCurrentText("座谈会")
    assert "多家" in dialog.enterprise_title.text()
    keys = Keys(qtbot)
    keys.type("zz")  # both 郑州… enterprises match; Down picks the second
    dialog.picker.search_now()
    assert set(dialog.picker.result_names()) == {"郑州宇通客车股份有限公司", "郑州三全食品股份有限公司"}
    second = dialog.picker.result_names()[1]
    keys.press(Qt.Key.Key_Down)
    keys.press(Qt.Key.Key_Return)
    keys.type("zzyt" if second != "郑州宇通客车股份有限公司" else "zzsq")
    keys.press(Qt.Key.Key_Return)
    assert set(dialog.picker.selected_ids()) == {yutong, sanquan}
    dialog.picker.status_combo(sanquan).setCurrentText("停产")
    dialog.summary_edit.setPlainText("召开先进制造业企业座谈会")

    card = dialog.add_problem()
    assert QApplication.focusWidget() is card.enterprise_combo  # two enterprises: choose whose problem first
    card.enterprise_combo.setCurrentIndex(card.enterprise_combo.findData(sanquan))
    card.category_combo.select_by_typing("yd")
    card.description_edit.setPlainText("扩建用地指标不足")
    assert card.category_combo.currentText() == "用地规划"
    assert dialog.save()

    visit = services.visits.get(dialog.saved_id)
    assert visit["kind"] == "座谈会"
    assert {e["id"] for e in visit["enterprises"]} == {yutong, sanquan}
    assert services.enterprises.get(sanquan)["status"] == "停产"
    problem = services.problems.get(visit["problems"][0]["id"])
    assert problem["enterprise_id"] == sanquan
    row = view.model.row_of(dialog.saved_id)
    assert view.model.index(row, COL_ENTERPRISES).data().endswith("等2家")


def test_picker_keyboard_removal_and_no_match(qtbot, services, view, two_enterprises):
    yutong, sanquan = two_enterprises
    dialog = open_dialog(qtbot, view)
    picker = dialog.picker
    picker.add_id(yutong)
    picker.add_id(sanquan)
    card = dialog.add_problem()
    assert card.enterprise_combo.count() == 2
    picker.line_edit.setFocus()
    qtbot.keyClick(picker.line_edit, Qt.Key.Key_Backspace)  # empty field: removes the last one
    assert picker.selected_ids() == [yutong]
    assert card.enterprise_combo.count() == 1 and card.enterprise_combo.currentData() == yutong
    combo = picker.status_combo(yutong)
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Delete)
    assert picker.selected_ids() == []
    picker.line_edit.setFocus()
    qtbot.keyClicks(picker.line_edit, "qqqq")
    picker.search_now()
    assert not picker.results_visible()
    assert picker._no_match.isVisible() and "qqqq" in picker._no_match.text()


def test_buttons_add_and_remove_rows_and_cards(qtbot, services, view, two_enterprises):
    dialog = open_dialog(qtbot, view, two_enterprises[0])
    qtbot.mouseClick(dialog.attendees.add_button, Qt.MouseButton.LeftButton)
    assert len(dialog.attendees.rows) == 1 and dialog.attendees.rows[0][0].text() == ""
    assert dialog.attendees.attendees() == []  # a blank row is not an attendee
    qtbot.mouseClick(dialog.attendees.rows[0][3], Qt.MouseButton.LeftButton)
    assert dialog.attendees.rows == []
    qtbot.mouseClick(dialog.add_problem_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.add_problem_button, Qt.MouseButton.LeftButton)
    assert [c.title_label.text() for c in dialog.cards] == ["问题1", "问题2"]
    first = dialog.cards[0]
    first.category_combo.setFocus()
    qtbot.keyClick(first.category_combo, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)  # blank: no question
    assert [c.title_label.text() for c in dialog.cards] == ["问题1"]
    assert QApplication.focusWidget() is dialog.cards[0].category_combo


def test_escape_on_a_filled_form_asks_first(qtbot, services, view, two_enterprises, monkeypatch):
    dialog = open_dialog(qtbot, view)
    dialog.summary_edit.setPlainText("写了一半")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    dialog.reject()
    assert asked and dialog.isVisible()


def test_date_cannot_be_in_the_future(qtbot, services, view):
    from app.clock import today

    dialog = open_dialog(qtbot, view)
    t = today()
    assert dialog.date_edit.maximumDate().toPython() == t
    assert dialog.date_edit.date().toPython() == t


# --- the list and the detail --------------------------------------------------------------------


@pytest.fixture
def saved_visits(services, two_enterprises):
    yutong, sanquan = two_enterprises
    me = services.installation.cadre_id
    other = services.people.add_cadre("李娜", services.installation.unit_id)
    first = services.visits.create(
        VisitInput(
            kind="实地走访",
            visit_date="2024-03-05",
            enterprise_ids=[yutong],
            cadre_ids=[me],
            summary="第一行概要\n第二行细节 <b>不是标记</b>",
            policies="研发费用加计扣除",
            follow_up="两周后回访",
            location="企业会议室",
            attendees=[Attendee("张伟", "总经理", "13812345678")],
            problems=[ProblemInput(yutong, "labour", "缺工约120人", "办招聘会")],
        )
    )
    second = services.visits.create(
        VisitInput(
            kind="座谈会",
            visit_date="2024-04-10",
            enterprise_ids=[yutong, sanquan],
            cadre_ids=[other],
            summary="座谈会纪要",
        )
    )
    return first, second


def test_list_shows_visits_and_detail_in_plain_text(qtbot, services, bus, view, saved_visits):
    first, second = saved_visits
    view.refresh()
    assert view.model.rowCount() == 2
    assert view.model.id_at(0) == second  # newest first
    assert view.count_label.text() == "共 2 条走访记录"
    view.open_visit(first)
    assert view.selected_id() == first
    detail = view.detail
    assert detail.summary_label.text() == "第一行概要\n第二行细节 <b>不是标记</b>"
    assert detail.summary_label.textFormat() == Qt.TextFormat.PlainText
    texts = [w.text() for w in detail.scroll.widget().findChildren(type(detail.summary_label))]
    assert any("138****5678" in t for t in texts) and not any("13812345678" in t for t in texts)
    links = detail.links()
    with qtbot.waitSignal(bus.open_enterprise) as ent_signal:
        qtbot.mouseClick(links[0], Qt.MouseButton.LeftButton)
    assert ent_signal.args == [services.visits.get(first)["enterprises"][0]["id"]]
    with qtbot.waitSignal(bus.open_problem) as problem_signal:
        links[-1].setFocus()
        qtbot.keyClick(links[-1], Qt.Key.Key_Return)
    assert problem_signal.args == [services.visits.get(first)["problems"][0]["id"]]


def test_filters_drill_down_and_quick_periods(qtbot, services, view, saved_visits):
    first, second = saved_visits
    view.refresh()
    view.kind_combo.setCurrentText("座谈会")
    assert view.model.ids() == [second]
    view.kind_combo.setCurrentIndex(0)
    view.mine_check.setChecked(True)
    assert view.model.ids() == [first]
    view.mine_check.setChecked(False)
    view.set_period("本月")  # the fixture's visits are from 2024
    assert view.model.rowCount() == 0
    assert view.detail.visit is None and view.count_label.text() == "共 0 条走访记录"
    view.set_period("全部")
    assert view.model.rowCount() == 2
    view.search.setText("座谈会纪要")
    view.search.flush()
    assert view.model.ids() == [second]

    view.apply_filter("宇通的走访", VisitFilter(ids=[first]))
    assert view.search.text() == ""
    assert view.banner.isVisible()
    assert view.banner_label.text() == "筛选：宇通的走访（共 1 条）"
    assert view.model.ids() == [first]
    qtbot.mouseClick(view.banner_clear, Qt.MouseButton.LeftButton)
    assert not view.banner.isVisible()
    assert view.model.rowCount() == 2


def test_edit_text_flow(qtbot, services, bus, view, saved_visits):
    first, _ = saved_visits
    view.open_visit(first)
    dialog = view.edit_text()
    qtbot.waitExposed(dialog)
    assert dialog.summary_edit.toPlainText().startswith("第一行概要")
    dialog.summary_edit.setPlainText("")
    assert not dialog.save()
    assert dialog.error_label.text() == "“走访情况”不能为空。"
    dialog.summary_edit.setPlainText("更正后的走访情况")
    dialog.follow_up_edit.setPlainText("下周再访")
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.summary_edit.setFocus()
    with qtbot.waitSignal(bus.data_changed):
        qtbot.keyClick(dialog.summary_edit, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = services.visits.get(first)
    assert (saved["summary"], saved["follow_up"], saved["policies"]) == (
        "更正后的走访情况",
        "下周再访",
        "研发费用加计扣除",
    )
    assert view.detail.summary_label.text() == "更正后的走访情况"
    assert view.detail.follow_up_label.text() == "下周再访"


# --- the model ----------------------------------------------------------------------------------


def test_visit_table_model(qtmodeltester, services, saved_visits):
    model = VisitTableModel(services.visits)
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    model.sort(5, Qt.SortOrder.DescendingOrder)  # 问题数
    assert model.index(0, 5).data() == "1"
    model.set_filter(VisitFilter(kind="实地走访"))
    assert model.rowCount() == 1 and model.filter.kind == "实地走访"
    qtmodeltester.check(model)


def test_enterprise_names_shortening():
    assert enterprise_names("甲公司", 1) == "甲公司"
    assert enterprise_names("甲公司、乙公司、丙公司", 3) == "甲公司等3家"
    assert enterprise_names(None, 0) == ""


def test_symposium_attendees_say_which_enterprise_they_came_from(qtbot, services, view, two_enterprises):
    yutong, sanquan = two_enterprises
    dialog = open_dialog(qtbot, view)
    dialog.attendees.add_row("张伟", "总经理", "13812345678")
    assert not dialog.attendees.combos[0].isVisible()  # one enterprise or none: no column
    dialog.picker.add_id(yutong)
    dialog.picker.add_id(sanquan)
    combo = dialog.attendees.combos[0]
    assert combo.isVisible() and combo.count() == 2
    combo.setCurrentIndex(combo.findData(sanquan))
    dialog.attendees.add_row("李娜", "财务总监", "")
    dialog.attendees.combos[1].setCurrentIndex(dialog.attendees.combos[1].findData(yutong))
    dialog.kind_combo.setCurrentText("座谈会")
    dialog.summary_edit.setPlainText("召开企业座谈会，了解两家企业的用工和融资需求。")
    dialog.save()
    people = {a["name"]: a["enterprise_id"] for a in services.visits.get(dialog.saved_id)["attendees"]}
    assert people == {"张伟": sanquan, "李娜": yutong}
