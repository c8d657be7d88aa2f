"""问题台账 UI: the list, the detail's step buttons and StepDialog forms, driven like a cadre would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel

from app import lifecycle as lc
from app import uscc
from app.clock import today
from app.problems import ProblemFilter, ProblemInput
from ui.dialogs.step_dialog import StepDialog
from ui.models.problem_model import DEADLINE, DUE_SOON_BACK, OVERDUE_BACK, OVERDUE_TEXT, STATUS, ProblemTableModel
from ui.views.problems_view import ProblemsView

# --- helpers ---------------------------------------------------------------------------------------


def make_enterprise(services, name: str, n: int) -> str:
    code = uscc.make(f"91410105MA{n:07d}")
    return services.enterprises.create({"uscc": code, "name": name, "unit_id": services.installation.unit_id}).id


def make_problem(services, ent: str, description: str = "企业续贷审批迟迟未批，流动资金紧张", **kw) -> str:
    return services.problems.register(
        ProblemInput(
            enterprise_id=ent,
            category_code=kw.pop("category_code", "finance"),
            description=description,
            request="协调银行加快审批",
            **kw,
        )
    )


def unit_id(services, name: str) -> str:
    return services.reference.unit_by_name(name).id


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks):
    v = ProblemsView(services, bus, ui_settings, tasks)
    qtbot.addWidget(v)
    v.resize(1280, 800)
    v.show()
    qtbot.waitExposed(v)
    return v


def click_row(qtbot, view: ProblemsView, pid: str) -> None:
    row = view.model.row_of(pid)
    assert row is not None
    rect = view.table.visualRect(view.model.index(row, 1))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.detail.pid == pid


def open_step(qtbot, view: ProblemsView, kind: str) -> StepDialog:
    button = view.detail.step_buttons[kind]
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = view.detail.step_dialog
    assert isinstance(dialog, StepDialog) and dialog.kind == kind and dialog.isVisible()
    return dialog


def submit(qtbot, view: ProblemsView, dialog: StepDialog) -> None:
    """Press the dialog's OK and expect the step to be saved (dialog closed, data_changed emitted)."""
    with qtbot.waitSignal(view.bus.data_changed, timeout=2000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert view.detail.step_dialog is None


def assert_buttons_match_lifecycle(view: ProblemsView, services, pid: str) -> None:
    assert view.detail.allowed_steps() == services.problems.allowed_steps(pid)
    shown = [k for k, b in view.detail.step_buttons.items() if b.isVisible()]
    assert shown == services.problems.allowed_steps(pid)


# --- the whole lifecycle through the UI ----------------------------------------------------------


def test_drive_problem_from_registration_to_closed(qtbot, view, services, bus):
    ent = make_enterprise(services, "郑州宇航精密机械有限公司", 1)
    pid = make_problem(services, ent)
    view.refresh()
    click_row(qtbot, view, pid)
    detail = view.detail
    assert detail.status_label.text() == lc.PENDING
    assert len(detail.timeline_texts()) == 1 and "登记" in detail.timeline_texts()[0]
    assert_buttons_match_lifecycle(view, services, pid)
    messages: list[str] = []
    bus.status_message.connect(messages.append)

    # 交办: searchable lead unit, one assisting unit, the default template's deadline previewed live.
    dialog = open_step(qtbot, view, "交办")
    assert dialog.deadline_picker.template_id() == "T13710"
    expected = services.ctx.calendar.add_workdays(today(), 7)
    assert f"7个工作日 → {expected.isoformat()}（周" in dialog.deadline_picker.preview.text()
    dialog.lead_combo.setCurrentIndex(dialog.lead_combo.findText("市人社局"))
    dialog.assist.filter.setText("税务")
    visible = [
        dialog.assist.list.item(i)
        for i in range(dialog.assist.list.count())
        if not dialog.assist.list.item(i).isHidden()
    ]
    assert [i.text() for i in visible] == ["市税务局"]
    visible[0].setCheckState(Qt.CheckState.Checked)
    assert "市税务局" in dialog.assist.summary.text()
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.ASSIGNED
    texts = detail.timeline_texts()
    assert len(texts) == 2
    assert "交办" in texts[1] and "待交办 → 已交办" in texts[1]
    assert f"牵头单位：市人社局；协办单位：市税务局；时限：{expected.isoformat()}" in texts[1]
    assert detail.fact_values["牵头单位"].text() == "市人社局"
    assert detail.fact_values["办理时限"].text() == expected.isoformat()
    assert messages and messages[-1].startswith("问题 ") and "交办" in messages[-1]
    assert_buttons_match_lifecycle(view, services, pid)

    dialog = open_step(qtbot, view, "接收")
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.IN_PROGRESS
    assert len(detail.timeline_texts()) == 3 and "已交办 → 办理中" in detail.timeline_texts()[2]
    assert_buttons_match_lifecycle(view, services, pid)

    dialog = open_step(qtbot, view, "进展")
    dialog.note_edit.setPlainText("已与工商银行对接，续贷材料已补齐")
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.IN_PROGRESS
    assert len(detail.timeline_texts()) == 4 and "续贷材料已补齐" in detail.timeline_texts()[3]
    assert_buttons_match_lifecycle(view, services, pid)

    dialog = open_step(qtbot, view, "办结")
    qtbot.mouseClick(dialog.groups["outcome"].buttons()[0], Qt.MouseButton.LeftButton)
    dialog.note_edit.setPlainText("续贷 500 万元已批复放款")
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.RESOLVED
    assert "办理结果：已解决" in detail.timeline_texts()[4]
    assert detail.fact_values["办理结果"].text().startswith("已解决：续贷 500 万元已批复放款")
    assert_buttons_match_lifecycle(view, services, pid)

    dialog = open_step(qtbot, view, "回访")
    assert dialog.groups["method"].checkedButton().text() == "电话"
    verdicts = {b.text(): b for b in dialog.groups["verdict"].buttons()}
    qtbot.mouseClick(verdicts["满意"], Qt.MouseButton.LeftButton)
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.REVISITED
    assert "回访方式：电话；企业评价：满意" in detail.timeline_texts()[5]
    assert_buttons_match_lifecycle(view, services, pid)
    assert list(detail.step_buttons) == ["销号"]

    dialog = open_step(qtbot, view, "销号")
    submit(qtbot, view, dialog)
    assert detail.status_label.text() == lc.CLOSED
    assert len(detail.timeline_texts()) == 7 and "已回访 → 已销号" in detail.timeline_texts()[6]
    assert detail.step_buttons == {}
    assert services.problems.get(pid)["status"] == lc.CLOSED
    assert services.problems.replayed_state(pid)["status"] == lc.CLOSED

    # The list followed every step: the row says 已销号, in grey, and the tab counts moved along.
    row = view.model.row_of(pid)
    assert view.model.data(view.model.index(row, STATUS)) == lc.CLOSED
    assert view.model.data(view.model.index(row, 0), Qt.ItemDataRole.ForegroundRole).name() == "#8a94a0"
    tabs = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert tabs == ["全部 1", "待交办 0", "已交办 0", "办理中 0", "已办结 0", "已回访 0", "已销号 1", "逾期 0"]


def test_unsatisfied_revisit_leaves_only_redo(qtbot, view, services):
    ent = make_enterprise(services, "河南中原绿能科技股份有限公司", 2)
    pid = make_problem(services, ent, "招工困难，急需数控技工30名", category_code="labour")
    services.problems.take_step(pid, "交办", lead_unit_id=unit_id(services, "市人社局"))
    services.problems.take_step(pid, "办结", outcome="已解决", note="已组织专场招聘会")
    view.refresh()
    click_row(qtbot, view, pid)
    assert_buttons_match_lifecycle(view, services, pid)

    dialog = open_step(qtbot, view, "回访")
    verdicts = {b.text(): b for b in dialog.groups["verdict"].buttons()}
    qtbot.mouseClick(verdicts["不满意"], Qt.MouseButton.LeftButton)
    dialog.note_edit.setPlainText("仍缺 10 人")
    submit(qtbot, view, dialog)
    assert view.detail.status_label.text() == lc.REVISITED
    assert list(view.detail.step_buttons) == ["重办"]
    assert_buttons_match_lifecycle(view, services, pid)
    assert view.detail.fact_values["回访评价"].text() == "不满意"

    # 重办 needs a reason: without one the form says so under the field and nothing is saved.
    dialog = open_step(qtbot, view, "重办")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.errors["note"].isVisible()
    assert "重办原因" in dialog.errors["note"].text()
    dialog.note_edit.setPlainText("企业不满意，重新组织招聘")
    submit(qtbot, view, dialog)
    assert view.detail.status_label.text() == lc.ASSIGNED
    assert "已回访 → 已交办" in view.detail.timeline_texts()[-1]
    assert "时限：" in view.detail.timeline_texts()[-1]
    assert "重办 1 次" in view.detail.fact_values["催办/督办"].text()
    assert_buttons_match_lifecycle(view, services, pid)


def test_invalid_step_form_shows_inline_error_and_records_nothing(qtbot, view, services):
    ent = make_enterprise(services, "金水区惠民食品加工厂", 3)
    pid = make_problem(services, ent)
    view.refresh()
    click_row(qtbot, view, pid)

    # 交办 without a lead unit.
    dialog = open_step(qtbot, view, "交办")
    dialog.note_edit.setPlainText("请尽快办理")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.errors["lead_unit_id"].isVisible() and "牵头单位" in dialog.errors["lead_unit_id"].text()
    assert dialog.note_edit.toPlainText() == "请尽快办理"  # input kept
    assert services.problems.get(pid)["status"] == lc.PENDING
    dialog.reject()
    assert view.detail.step_dialog is None

    services.problems.take_step(pid, "交办", lead_unit_id=unit_id(services, "市金融局"))
    view.refresh()
    events_before = len(services.problems.events(pid))

    # 办结 with a result but without 说明.
    dialog = open_step(qtbot, view, "办结")
    outcomes = {b.text(): b for b in dialog.groups["outcome"].buttons()}
    qtbot.mouseClick(outcomes["已解释说明"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.errors["note"].isVisible() and dialog.errors["note"].text() == "请填写办理结果说明。"
    assert not dialog.general_error.isVisible()
    assert dialog.groups["outcome"].checkedButton().text() == "已解释说明"  # input kept
    assert len(services.problems.events(pid)) == events_before
    assert services.problems.get(pid)["status"] == lc.ASSIGNED
    assert view.detail.status_label.text() == lc.ASSIGNED

    # No result chosen: the error sits under 办理结果, and the earlier one is gone.
    outcomes["已解释说明"].group().setExclusive(False)
    outcomes["已解释说明"].setChecked(False)
    outcomes["已解释说明"].group().setExclusive(True)
    dialog.note_edit.setPlainText("暂不具备条件，已向企业解释")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["outcome"].isVisible() and "办理结果" in dialog.errors["outcome"].text()
    assert not dialog.errors["note"].isVisible()
    assert len(services.problems.events(pid)) == events_before
    dialog.reject()


def test_step_no_longer_allowed_is_explained(qtbot, view, services):
    ent = make_enterprise(services, "郑州数智云信息技术有限公司", 4)
    pid = make_problem(services, ent)
    services.problems.take_step(pid, "交办", lead_unit_id=unit_id(services, "市工信局"))
    view.refresh()
    click_row(qtbot, view, pid)
    dialog = open_step(qtbot, view, "接收")
    services.problems.take_step(pid, "接收")  # someone else got there first
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.general_error.isVisible()
    assert "不能进行“接收”" in dialog.general_error.text()
    assert not dialog.ok_button.isEnabled()
    dialog.reject()


def test_overdue_problem_is_in_overdue_tab_and_highlighted(qtbot, view, services):
    ent = make_enterprise(services, "河南恒通物流集团有限公司", 5)
    start = today() - timedelta(days=40)
    late = make_problem(services, ent, "消防验收材料反复补正", category_code="approval", registered_on=start)
    soon = make_problem(services, ent, "出口退税办理周期长", category_code="logistics", registered_on=start)
    cal = services.ctx.calendar
    services.problems.take_step(
        soon, "交办", lead_unit_id=unit_id(services, "市税务局"), deadline=cal.add_workdays(today(), 2).isoformat()
    )
    view.refresh()
    click_row(qtbot, view, late)

    # 交办 through the form, dated 30 days ago, with an explicit deadline 20 days ago.
    dialog = open_step(qtbot, view, "交办")
    dialog.date_edit.setDate(start + timedelta(days=10))
    dialog.lead_combo.setCurrentIndex(dialog.lead_combo.findText("市城建局"))
    picker = dialog.deadline_picker
    picker.combo.setCurrentIndex(picker.combo.findData(None))
    assert picker.date.isEnabled()
    deadline = start + timedelta(days=20)
    picker.date.setDate(deadline)
    assert picker.preview.text().startswith(deadline.isoformat())
    submit(qtbot, view, dialog)
    p = services.problems.get(late)
    assert p["deadline"] == deadline.isoformat() and p["overdue"] and p["assigned_on"] == dialog.on_date().isoformat()

    overdue_tab = next(i for i in range(view.tabs.count()) if view.tabs.tabText(i).startswith("逾期"))
    assert view.tabs.tabText(overdue_tab) == "逾期 1"
    view.tabs.setCurrentIndex(overdue_tab)
    assert view.model.ids() == [late]
    assert view.count_label.text() == "共 1 件"
    index = view.model.index(0, DEADLINE)
    assert "逾期" in view.model.data(index) and "个工作日" in view.model.data(index)
    assert view.model.data(index, Qt.ItemDataRole.ForegroundRole) == OVERDUE_TEXT
    assert view.model.data(view.model.index(0, 1), Qt.ItemDataRole.BackgroundRole) == OVERDUE_BACK
    assert "超期办理（原时限" in view.model.data(index, Qt.ItemDataRole.ToolTipRole)
    # The detail offers 督办 as the main action and says how late it is.
    assert view.detail.overdue_chip.isVisible() and "逾期" in view.detail.overdue_chip.text()
    assert view.detail.step_buttons["督办"].property("role") == "primary"
    dialog = open_step(qtbot, view, "督办")
    assert any("已逾期" in label.text() for label in dialog.findChildren(QLabel))
    submit(qtbot, view, dialog)
    assert "要求回复日期：" in view.detail.timeline_texts()[-1]
    assert "督办 1 次" in view.detail.fact_values["催办/督办"].text()

    # Due within 3 working days: amber.
    view.tabs.setCurrentIndex(0)
    row = view.model.row_of(soon)
    assert view.model.data(view.model.index(row, 1), Qt.ItemDataRole.BackgroundRole) == DUE_SOON_BACK
    assert "剩" in view.model.data(view.model.index(row, DEADLINE))


def test_drill_down_banner_search_filters_and_links(qtbot, view, services, bus):
    ent = make_enterprise(services, "郑州宇航精密机械有限公司", 6)
    other = make_enterprise(services, "河南中原绿能科技股份有限公司", 7)
    markup = make_problem(services, ent, "申请科技贷额度提高<b>至</b>1000万元 & 降低利率")
    labour = make_problem(services, other, "员工子女入学问题", category_code="labour")
    services.problems.take_step(labour, "交办", lead_unit_id=unit_id(services, "市教育局"))

    view.apply_filter("待交办问题", ProblemFilter(statuses=(lc.PENDING,)))
    assert view.banner.isVisible()
    assert view.banner_label.text() == "筛选：待交办问题（共 1 件）"
    assert view.model.ids() == [markup]
    assert view.tabs.tabText(2) == "已交办 0"  # excluded by the drill-down
    qtbot.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert not view.banner.isVisible() and len(view.model.ids()) == 2

    view.category_combo.setCurrentIndex(view.category_combo.findData("labour"))
    assert view.model.ids() == [labour]
    view.category_combo.setCurrentIndex(0)
    view.search.setText("入学")
    view.search.flush()
    assert view.model.ids() == [labour]
    view.search.clear()
    view.search.flush()
    view.mine.setChecked(True)  # the operator 包联 none of them yet
    assert view.model.ids() == []
    services.people.assign(services.installation.cadre_id, other)
    view.refresh()
    assert view.model.ids() == [labour]

    # open_problem widens the list when needed, selects the row and shows user text as plain text.
    view.open_problem(markup)
    assert not view.mine.isChecked()
    assert view.selected_id() == markup and view.detail.pid == markup
    assert view.detail.title.textFormat() == Qt.TextFormat.PlainText
    assert "<b>至</b>" in view.detail.title.text()
    assert view.detail.enterprise_link.text() == "企业：郑州宇航精密机械有限公司"
    assert not view.detail.visit_link.isVisible()
    with qtbot.waitSignal(bus.open_enterprise) as blocker:
        qtbot.mouseClick(view.detail.enterprise_link, Qt.MouseButton.LeftButton)
    assert blocker.args == [ent]


def test_problem_model_passes_qtmodeltester(qtmodeltester, services):
    ent = make_enterprise(services, "郑州宇航精密机械有限公司", 8)
    ids = [make_problem(services, ent, f"问题{i}：设备进口报关延误") for i in range(5)]
    services.problems.take_step(ids[0], "交办", lead_unit_id=unit_id(services, "郑州海关"))
    model = ProblemTableModel(services.problems, ProblemFilter())
    qtmodeltester.check(model)
    model.sort(DEADLINE, Qt.SortOrder.DescendingOrder)
    assert model.id_at(0) == ids[0]
    model.sort(STATUS, Qt.SortOrder.AscendingOrder)
    model.set_filter(ProblemFilter(statuses=(lc.ASSIGNED,)))
    assert model.rowCount() == 1
    model.refresh()
    assert model.data(model.index(0, 1)) == "问题0：设备进口报关延误"


def test_extend_and_escalate_forms(qtbot, view, services):
    ent = make_enterprise(services, "郑州数智云信息技术有限公司", 9)
    pid = make_problem(services, ent, "新厂房用地规划许可办理进度慢", category_code="land")
    services.problems.take_step(pid, "交办", lead_unit_id=unit_id(services, "市资源规划局"))
    original = services.problems.get(pid)["deadline"]
    view.refresh()
    click_row(qtbot, view, pid)

    dialog = open_step(qtbot, view, "延期")
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    assert original in shown  # 当前时限
    later = dialog.new_deadline.date().toPython()
    assert later.isoformat() > original
    dialog.note_edit.setPlainText("需市资源规划局会审")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["approver"].isVisible() and "批准人" in dialog.errors["approver"].text()
    dialog.approver_edit.setText("李主任")
    submit(qtbot, view, dialog)
    assert view.detail.fact_values["办理时限"].text() == f"{later.isoformat()}（原时限 {original}）"
    assert f"时限：{original} → {later.isoformat()}；批准人：李主任" in view.detail.timeline_texts()[-1]
    assert view.detail.status_label.text() == lc.ASSIGNED  # 延期 leaves the status

    dialog = open_step(qtbot, view, "上报")
    assert [dialog.level_combo.itemText(i) for i in range(dialog.level_combo.count())] == ["市级", "省级"]
    dialog.note_edit.setPlainText("涉及跨区规划调整，需市级协调")
    submit(qtbot, view, dialog)
    assert view.detail.status_label.text() == lc.PENDING
    assert view.detail.level_chip.text() == "市级"
    assert "层级：区县级 → 市级" in view.detail.timeline_texts()[-1]
    assert_buttons_match_lifecycle(view, services, pid)
