"""Autosaved drafts: a form's input survives a crash and is offered back (恢复 / 丢弃) when the form reopens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from app import lifecycle as lc
from app import uscc
from app.clock import today
from app.drafts import file_name
from app.problems import ProblemInput
from ui import drafts as ui_drafts
from ui.dialogs.cadre_dialog import CadreDialog
from ui.dialogs.enterprise_dialog import EnterpriseDialog
from ui.dialogs.step_dialog import StepDialog, qdate
from ui.dialogs.visit_dialog import VisitDialog, VisitTextDialog


class Answers:
    """Stands in for the user at the 恢复 / 丢弃 question (no modal box ever blocks a test)."""

    def __init__(self):
        self.restore = True
        self.asked: list[tuple[str, datetime]] = []

    def __call__(self, parent, title: str, saved_at: datetime) -> bool:
        self.asked.append((title, saved_at))
        return self.restore


@pytest.fixture(autouse=True)
def answers(monkeypatch) -> Answers:
    answers = Answers()
    monkeypatch.setattr(ui_drafts, "ask_restore", answers)
    monkeypatch.setattr(ui_drafts, "SAVE_DELAY_MS", 50)  # autosave soon after the last edit
    return answers


def enterprise(services, name: str, n: int, **extra) -> str:
    code = uscc.make(f"91410105{n:09d}")
    return services.enterprises.create(
        {"uscc": code, "name": name, "unit_id": services.installation.unit_id, **extra}
    ).id


@pytest.fixture
def two_enterprises(services):
    return (enterprise(services, "郑州宇通客车股份有限公司", 1), enterprise(services, "郑州三全食品股份有限公司", 2))


@pytest.fixture
def forms():
    """Dialogs a test opens. Deleted afterwards rather than closed: closing runs reject(), whose 放弃填写？ box
    would wait for a user, and a crashed dialog is already gone."""
    opened: list = []
    yield opened
    for dialog in opened:
        if shiboken6.isValid(dialog):
            shiboken6.delete(dialog)


def autosaved(qtbot, services, dialog) -> dict:
    """Wait until the draft on disk holds exactly what the form shows (the debounced autosave ran)."""

    def saved() -> bool:
        draft = services.drafts.load(dialog.draft.key)
        return draft is not None and draft.payload == dialog.draft_state()

    qtbot.waitUntil(saved, timeout=3000)
    return dialog.draft_state()


def crash(dialog) -> None:
    """The program dies with the form open: no reject, no accept, no close — the object is simply gone."""
    shiboken6.delete(dialog)
    QApplication.processEvents()


def open_visit(qtbot, services, ui_settings, forms) -> VisitDialog:
    dialog = VisitDialog(services, ui_settings)
    forms.append(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def fill_visit(qtbot, services, dialog: VisitDialog, two_enterprises, li_na: str) -> None:
    """Fill every part of the visit form the way a cadre does (keyboard, clicks, the input method)."""
    yutong, sanquan = two_enterprises
    dialog.kind_combo.setCurrentText("座谈会")
    dialog.date_edit.setDate(qdate(today() - timedelta(days=1)))
    qtbot.keyClicks(dialog.time_edit, "09:30")
    dialog.location_edit.insert("企业三楼会议室")
    qtbot.keyClicks(dialog.picker.line_edit, "zzyt")
    qtbot.keyClick(dialog.picker.line_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.picker.line_edit, "zzsq")
    qtbot.keyClick(dialog.picker.line_edit, Qt.Key.Key_Return)
    assert dialog.picker.selected_ids() == [yutong, sanquan]
    status = dialog.picker.status_combo(sanquan)
    status.setCurrentIndex(status.findData("停产"))
    for i in range(dialog.cadre_list.count()):
        if dialog.cadre_list.item(i).data(Qt.ItemDataRole.UserRole) == li_na:
            dialog.cadre_list.item(i).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(dialog.attendees.add_button, Qt.MouseButton.LeftButton)
    name, title, phone, _ = dialog.attendees.rows[-1]
    name.insert("张伟")
    title.insert("总经理")
    qtbot.keyClicks(phone, "13812345678")
    combo = dialog.attendees.combos[-1]
    combo.setCurrentIndex(combo.findData(sanquan))
    dialog.summary_edit.insertPlainText("了解企业一季度生产经营情况，订单饱满。")
    dialog.policies_edit.insertPlainText("稳岗返还政策")
    dialog.follow_up_edit.insertPlainText("两周后回访")
    qtbot.mouseClick(dialog.add_problem_button, Qt.MouseButton.LeftButton)
    card = dialog.cards[-1]
    card.enterprise_combo.setCurrentIndex(card.enterprise_combo.findData(sanquan))
    qtbot.keyClicks(card.category_combo, "rz")
    card.description_edit.insertPlainText("流动资金贷款续贷困难。")
    card.request_edit.insertPlainText("协调银行续贷")
    card.severity_combo.setCurrentIndex(card.severity_combo.count() - 1)


# --- the visit form ------------------------------------------------------------------------------


def test_visit_form_survives_a_crash_and_is_saved_from_the_draft(
    forms, qtbot, services, ui_settings, answers, two_enterprises
):
    yutong, sanquan = two_enterprises
    li_na = services.people.add_cadre("李娜", services.installation.unit_id)
    dialog = open_visit(qtbot, services, ui_settings, forms)
    assert answers.asked == []  # nothing to offer on a fresh station
    fill_visit(qtbot, services, dialog, two_enterprises, li_na)
    before = autosaved(qtbot, services, dialog)
    assert before["problems"][0]["description"] == "流动资金贷款续贷困难。"
    crash(dialog)
    assert services.drafts.keys() == ["visit:new"]  # still on disk

    again = open_visit(qtbot, services, ui_settings, forms)
    assert [title for title, _ in answers.asked] == ["新建走访记录"]
    assert again.draft.restored
    assert again.draft_state() == before
    # What the user sees is back, field by field.
    assert again.kind_combo.currentText() == "座谈会"
    assert again.date_edit.date() == qdate(today() - timedelta(days=1))
    assert (again.time_edit.text(), again.location_edit.text()) == ("09:30", "企业三楼会议室")
    assert again.picker.selected() == [(yutong, "郑州宇通客车股份有限公司"), (sanquan, "郑州三全食品股份有限公司")]
    assert again.picker.statuses_seen() == {sanquan: "停产"}
    assert set(again.cadre_ids()) == {services.installation.cadre_id, li_na}
    assert [(a.name, a.title, a.phone, a.enterprise_id) for a in again.attendees.attendees()] == [
        ("张伟", "总经理", "13812345678", sanquan)
    ]
    assert again.summary_edit.toPlainText() == "了解企业一季度生产经营情况，订单饱满。"
    assert again.policies_edit.toPlainText() == "稳岗返还政策"
    assert again.follow_up_edit.toPlainText() == "两周后回访"
    assert len(again.cards) == 1 and again.problems_title.text() == "问题（1）"
    card = again.cards[0]
    assert card.enterprise_combo.currentText() == "郑州三全食品股份有限公司"
    assert card.category_combo.currentText() == "融资信贷"
    assert card.description_edit.toPlainText() == "流动资金贷款续贷困难。"
    assert card.request_edit.toPlainText() == "协调银行续贷"
    assert card.severity_combo.currentText() == card.severity_combo.itemText(card.severity_combo.count() - 1)

    # Editing the restored form keeps autosaving it.
    again.summary_edit.moveCursor(QTextCursor.MoveOperation.End)
    again.summary_edit.insertPlainText("补充一句。")
    assert autosaved(qtbot, services, again)["summary"].endswith("补充一句。")

    assert again.save()
    assert services.drafts.keys() == []  # saved: the draft is gone
    visit = services.visits.get(again.saved_id)
    assert visit["summary"] == "了解企业一季度生产经营情况，订单饱满。补充一句。"
    assert len(visit["problems"]) == 1
    assert services.enterprises.get(sanquan)["status"] == "停产"


def test_discarding_the_offered_draft_opens_an_empty_form(
    forms, qtbot, services, ui_settings, answers, two_enterprises
):
    dialog = open_visit(qtbot, services, ui_settings, forms)
    dialog.picker.add_id(two_enterprises[0])
    dialog.summary_edit.insertPlainText("写了一半的走访情况")
    dialog.add_problem().description_edit.insertPlainText("问题描述")
    autosaved(qtbot, services, dialog)
    crash(dialog)

    answers.restore = False
    again = open_visit(qtbot, services, ui_settings, forms)
    assert len(answers.asked) == 1 and not again.draft.restored
    assert again.summary_edit.toPlainText() == ""
    assert again.picker.selected_ids() == [] and again.cards == []
    assert services.drafts.keys() == []
    again.draft.flush()
    assert services.drafts.keys() == []  # an untouched form writes nothing

    open_visit(qtbot, services, ui_settings, forms)
    assert len(answers.asked) == 1  # not asked again


def test_cancel_keeps_the_draft_until_the_user_confirms_discarding(forms, qtbot, services, ui_settings, monkeypatch):
    dialog = open_visit(qtbot, services, ui_settings, forms)
    dialog.summary_edit.insertPlainText("还没写完")
    autosaved(qtbot, services, dialog)
    replies = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: replies.pop(0))

    dialog.reject()  # 放弃填写？ -> 否
    assert dialog.isVisible() and services.drafts.keys() == ["visit:new"]
    dialog.reject()  # 放弃填写？ -> 是
    assert not dialog.isVisible() and services.drafts.keys() == []


def test_typing_back_to_the_opening_state_drops_the_draft(forms, qtbot, services, ui_settings):
    dialog = open_visit(qtbot, services, ui_settings, forms)
    dialog.summary_edit.insertPlainText("x")
    autosaved(qtbot, services, dialog)
    dialog.summary_edit.clear()
    qtbot.waitUntil(lambda: services.drafts.keys() == [], timeout=3000)


def test_the_tick_saves_while_edits_keep_coming(forms, qtbot, services, ui_settings, monkeypatch):
    monkeypatch.setattr(ui_drafts, "SAVE_DELAY_MS", 60_000)  # the user never pauses long enough
    monkeypatch.setattr(ui_drafts, "TICK_MS", 50)
    dialog = open_visit(qtbot, services, ui_settings, forms)
    dialog.summary_edit.insertPlainText("一直在打字")
    assert autosaved(qtbot, services, dialog)["summary"] == "一直在打字"


def test_a_draft_with_vanished_ids_and_odd_values_restores_the_rest(
    forms, qtbot, services, ui_settings, answers, two_enterprises
):
    yutong, _ = two_enterprises
    services.drafts.save("visit:new", {
        "kind": "不存在的方式",
        "visit_date": "not a date",
        "enterprises": [{"id": "E-gone"}, {"id": yutong, "status": "不存在"}, "junk"],
        "cadre_ids": ["C-gone"],
        "attendees": [{"name": "张伟", "enterprise_id": "E-gone"}, 5],
        "summary": "保留的走访情况",
        "policies": 42,
        "problems": [{"enterprise_id": "E-gone", "category_code": "no-such", "description": "保留的问题"}],
        "something_new": {"from": "a later version"},
    })  # fmt: skip
    dialog = open_visit(qtbot, services, ui_settings, forms)
    assert dialog.draft.restored
    assert dialog.kind_combo.currentText() == "实地走访"
    assert dialog.date_edit.date() == qdate(today())
    assert dialog.picker.selected_ids() == [yutong] and dialog.picker.statuses_seen() == {}
    assert dialog.cadre_ids() == []
    assert [a.name for a in dialog.attendees.attendees()] == ["张伟"]
    assert dialog.summary_edit.toPlainText() == "保留的走访情况"
    assert dialog.policies_edit.toPlainText() == ""
    card = dialog.cards[0]
    assert card.description_edit.toPlainText() == "保留的问题"
    assert card.enterprise_combo.currentData() == yutong  # the only enterprise left is chosen for the user
    assert card.category_combo.currentIndex() == -1


def test_a_damaged_draft_is_ignored(forms, qtbot, services, ui_settings, answers):
    folder = services.drafts.folder
    folder.mkdir(parents=True)
    (folder / file_name("visit:new")).write_text('{"key": "visit:new", "payl', encoding="utf-8")
    dialog = open_visit(qtbot, services, ui_settings, forms)
    assert answers.asked == [] and not dialog.draft.restored
    dialog.summary_edit.insertPlainText("新的内容")
    assert autosaved(qtbot, services, dialog)["summary"] == "新的内容"  # the damaged file is replaced


def test_visit_text_dialog_keeps_its_draft_per_visit(forms, qtbot, services, ui_settings, answers, two_enterprises):
    from app.visits import VisitInput

    visit_id = services.visits.create(VisitInput(
        kind="实地走访", visit_date=today().isoformat(), enterprise_ids=[two_enterprises[0]],
        cadre_ids=[services.installation.cadre_id], summary="原来的走访情况"))  # fmt: skip
    dialog = VisitTextDialog(services, ui_settings, visit_id)
    forms.append(dialog)
    dialog.summary_edit.appendPlainText("更正后补充")
    autosaved(qtbot, services, dialog)
    assert services.drafts.keys() == [f"visit:{visit_id}"]
    crash(dialog)
    again = VisitTextDialog(services, ui_settings, visit_id)
    forms.append(again)
    assert again.summary_edit.toPlainText() == "原来的走访情况\n更正后补充"
    assert again.policies_edit.toPlainText() == ""
    assert again.save() and services.drafts.keys() == []


# --- enterprise and cadre forms ------------------------------------------------------------------


def test_enterprise_edit_survives_a_crash(forms, qtbot, services, ui_settings, answers):
    ent = enterprise(services, "郑州宇通客车股份有限公司", 1, contact_phone="13800000000")
    dialog = EnterpriseDialog(services, ui_settings, ent_id=ent)
    forms.append(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.name_edit.selectAll()
    dialog.name_edit.insert("宇通客车股份有限公司")
    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "0371-67891234")
    dialog.scale_combo.setCurrentIndex(2)
    dialog.tag_list.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.custom_tag_edit, "ABC")
    qtbot.keyClick(dialog.custom_tag_edit, Qt.Key.Key_Return)  # a custom tag, added and ticked
    dialog.note_edit.insertPlainText("新能源客车龙头")
    before = autosaved(qtbot, services, dialog)
    assert services.drafts.keys() == [f"enterprise:{ent}"]
    crash(dialog)

    new_form = EnterpriseDialog(services, ui_settings)
    forms.append(new_form)
    assert answers.asked == []  # a new enterprise is another draft
    new_form.reject()

    again = EnterpriseDialog(services, ui_settings, ent_id=ent)
    forms.append(again)
    assert [title for title, _ in answers.asked] == ["编辑企业"]
    assert again.draft_state() == before
    assert again.name_edit.text() == "宇通客车股份有限公司"
    assert again.phone_edit.text() == "0371-67891234"
    assert "ABC" in again.tags() and again.tag_list.item(0).text() in again.tags()
    assert again.note_edit.toPlainText() == "新能源客车龙头"
    again.save()
    assert again.saved_id == ent and services.drafts.keys() == []
    saved = services.enterprises.get(ent)
    assert (saved["name"], saved["contact_phone"]) == ("宇通客车股份有限公司", "0371-67891234")


def test_enterprise_cancel_discards_the_draft(forms, qtbot, services, ui_settings):
    dialog = EnterpriseDialog(services, ui_settings)
    forms.append(dialog)
    dialog.name_edit.insert("郑州新企业有限公司")
    autosaved(qtbot, services, dialog)
    assert services.drafts.keys() == ["enterprise:new"]
    dialog.reject()  # this form closes on 取消 without asking: cancelling is the user's choice
    assert services.drafts.keys() == []


def test_cadre_form_survives_a_crash(forms, qtbot, services, ui_settings, answers):
    dialog = CadreDialog(services, ui_settings)
    forms.append(dialog)
    dialog.name_edit.insert("赵敏")
    dialog.rank_combo.setCurrentIndex(dialog.rank_combo.findText("科级"))
    dialog.role_combo.setCurrentText("首席服务官")
    qtbot.keyClicks(dialog.phone_edit, "13912345678")
    before = autosaved(qtbot, services, dialog)
    crash(dialog)
    again = CadreDialog(services, ui_settings)
    forms.append(again)
    assert again.draft_state() == before and again.name_edit.text() == "赵敏"
    again.save()
    assert again.saved_id and services.drafts.keys() == []


# --- a problem step -------------------------------------------------------------------------------


def test_step_form_survives_a_crash(forms, qtbot, services, answers):
    ent = enterprise(services, "郑州宇航精密机械有限公司", 1)
    pid = services.problems.register(ProblemInput(ent, "finance", "续贷审批迟迟未批"))
    dialog = StepDialog(services, pid, "交办")
    forms.append(dialog)
    dialog.lead_combo.setCurrentIndex(dialog.lead_combo.findText("市人社局"))
    tax = dialog.assist.list.findItems("市税务局", Qt.MatchFlag.MatchExactly)[0]
    tax.setCheckState(Qt.CheckState.Checked)
    tax_id = tax.data(Qt.ItemDataRole.UserRole)
    dialog.deadline_picker.combo.setCurrentIndex(dialog.deadline_picker.combo.count() - 1)  # 指定日期
    deadline = today() + timedelta(days=20)
    dialog.deadline_picker.date.setDate(qdate(deadline))
    dialog.note_edit.insertPlainText("请一周内联系企业")
    before = autosaved(qtbot, services, dialog)
    assert services.drafts.keys() == [f"problem-step:{pid}:交办"]
    crash(dialog)

    other = StepDialog(services, pid, "进展")  # another step of the same problem has no draft
    forms.append(other)
    assert answers.asked == []
    other.reject()

    again = StepDialog(services, pid, "交办")
    forms.append(again)
    assert len(answers.asked) == 1 and again.draft_state() == before
    assert again.lead_combo.currentText() == "市人社局"
    assert again.assist.checked_ids() == [tax_id]
    assert again.deadline_picker.deadline() == deadline
    assert again.note_edit.toPlainText() == "请一周内联系企业"
    again.accept()
    assert again.result() == QDialog.DialogCode.Accepted and services.drafts.keys() == []
    problem = services.problems.get(pid)
    assert (problem["status"], problem["deadline"]) == (lc.ASSIGNED, deadline.isoformat())


def test_resolve_step_radio_choice_is_restored_and_cancel_discards(forms, qtbot, services, answers):
    ent = enterprise(services, "郑州宇航精密机械有限公司", 1)
    pid = services.problems.register(ProblemInput(ent, "finance", "续贷审批迟迟未批"))
    services.problems.take_step(pid, "交办", lead_unit_id=services.reference.unit_by_name("市金融局").id)
    dialog = StepDialog(services, pid, "办结")
    forms.append(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    outcomes = {b.text(): b for b in dialog.groups["outcome"].buttons()}
    qtbot.mouseClick(outcomes["已解释说明"], Qt.MouseButton.LeftButton)
    dialog.note_edit.insertPlainText("已向企业解释")
    autosaved(qtbot, services, dialog)
    crash(dialog)
    again = StepDialog(services, pid, "办结")
    forms.append(again)
    assert again.groups["outcome"].checkedButton().text() == "已解释说明"
    again.reject()
    assert services.drafts.keys() == []


# --- the question itself ---------------------------------------------------------------------------


def _answer_box_with(qtbot, button_text: str | None) -> None:
    """Answer the next question box: click `button_text`, or press Esc when None."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not box.isVisible():
            QTimer.singleShot(10, answer)
            return
        if button_text is None:
            qtbot.keyClick(box, Qt.Key.Key_Escape)
        else:
            next(b for b in box.buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, answer)


@pytest.mark.parametrize(("button", "restore"), [("恢复", True), ("丢弃", False), (None, True)])
def test_the_real_question_box(qtbot, monkeypatch, button, restore):
    monkeypatch.undo()  # the real ask_restore
    _answer_box_with(qtbot, button)
    assert ui_drafts.ask_restore(None, "新建走访记录", datetime.now(UTC)) is restore


def test_question_text_and_screenshot(qtbot, tmp_path):
    saved_at = datetime.now(UTC) - timedelta(minutes=5)
    box = ui_drafts.restore_question(None, "新建走访记录", saved_at)
    qtbot.addWidget(box)
    assert box.text() == f"发现 {ui_drafts.saved_when(saved_at)} 自动保存的未保存内容，是否恢复？"
    assert ui_drafts.saved_when(datetime(2024, 5, 1, 6, 30, tzinfo=UTC)) == "2024-05-01 14:30"
    assert {b.text() for b in box.buttons()} == {"恢复", "丢弃"}
    assert box.defaultButton().text() == "恢复" and box.escapeButton().text() == "恢复"
    box.show()
    qtbot.waitExposed(box)
    assert not box.grab().isNull() and box.grab().save(str(tmp_path / "draft_restore.png"))


def test_main_window_at_start_reopens_an_unsaved_new_visit(forms, qtbot, services, ui_settings, tasks, answers,
                                                         monkeypatch):
    from ui import main_window

    dialog = open_visit(qtbot, services, ui_settings, forms)
    dialog.summary_edit.setPlainText("停电前写到一半的走访情况")
    state = autosaved(qtbot, services, dialog)
    crash(dialog)

    window = main_window.MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(window)
    messages = []
    window.bus.status_message.connect(messages.append)
    asked = []
    monkeypatch.setattr(main_window, "continue_new_visit", lambda parent, when: asked.append(when) or True)
    window.offer_drafts()
    assert asked and "走访记录 1 份" in messages[0]
    reopened = window.visits.dialog
    assert reopened is not None
    forms.append(reopened)
    assert answers.asked == []  # agreed once at start: the form does not ask again
    assert reopened.draft_state() == state
