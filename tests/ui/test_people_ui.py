"""干部 page: add/edit cadres with inline errors, 离岗 and back, work groups and leaders, search and filters, 包联 panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from app.clock import today
from app.enterprises import EnterpriseFilter
from app.people import NO_GROUP
from app.uscc import make
from app.visits import VisitInput
from ui.dialogs.cadre_dialog import CadreDialog, WorkGroupDialog
from ui.models.people_model import (
    INACTIVE_COLOUR,
    NAME,
    PHONE,
    ROLE,
    STATUS,
    CadreEnterpriseModel,
    CadreFilter,
    CadreTableModel,
    WorkGroupTableModel,
)
from ui.views.people_view import CADRE_TAB, GROUP_TAB, PeopleView


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks):
    widget = PeopleView(services, bus, ui_settings, tasks)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


@pytest.fixture
def populated(services):
    """金水区: 两个工作组, 李娜 (leader of 第一组, 包联 two enterprises, one visit this year), 张伟, 赵敏 (no group);
    郑东新区: 孙强. The operator 王磊 is a cadre too."""
    people = services.people
    unit = services.installation.unit_id
    zhengdong = services.reference.unit_by_name("郑东新区").id
    g1 = people.add_work_group("第一工作组", unit, note="北片区")
    g2 = people.add_work_group("第二工作组", unit)
    li = people.add_cadre("李娜", unit, role="首席服务官", rank="县处级", post="副局长", phone="13812345678",
                          work_group_id=g1)  # fmt: skip
    zhang = people.add_cadre("张伟", unit, role="服务专员", phone="13900001111", work_group_id=g2)
    zhao = people.add_cadre("赵敏", unit, role="金牌店小二")
    sun = people.add_cadre("孙强", zhengdong, role="服务专员")
    people.set_group_leader(g1, li)
    ents = [
        services.enterprises.create({"name": name, "uscc": make(f"91410105MA{n:07d}"), "unit_id": unit}).id
        for n, name in enumerate(("郑州宇通客车股份有限公司", "郑州三全食品股份有限公司"), start=1)
    ]
    start = (today() - timedelta(days=30)).isoformat()
    for ent in ents:
        people.assign(li, ent, start_date=start)
    services.visits.create(
        VisitInput(kind="实地走访", visit_date=today().isoformat(), enterprise_ids=[ents[0]], cadre_ids=[li],
                   summary="了解企业用工情况。")
    )  # fmt: skip
    return {"g1": g1, "g2": g2, "li": li, "zhang": zhang, "zhao": zhao, "sun": sun, "ents": ents}


def _names(view: PeopleView) -> list[str]:
    return [view.model.row_dict(r)["name"] for r in range(view.model.rowCount())]


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# --- Adding and editing --------------------------------------------------------------------------
def test_add_cadre_through_dialog(qtbot, view, services, bus):
    before = len(services.people.cadres(active_only=False))
    _click(qtbot, view.new_button)
    dialog = view.findChild(CadreDialog)
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "新增助企干部"
    assert dialog.unit_combo.currentData() == services.installation.unit_id  # the station's unit by default
    assert "active" not in dialog.fields  # 在岗 is only for editing

    dialog.post_edit.setText("区工信局科长")
    _click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert "姓名" in dialog.error_text("name") and "不能为空" in dialog.error_text("name")
    assert dialog.post_edit.text() == "区工信局科长"  # input kept
    assert len(services.people.cadres(active_only=False)) == before  # nothing saved

    dialog.name_edit.setText("李娜")
    assert dialog.error_text("name") == ""  # editing the field clears its message
    qtbot.keyClicks(dialog.phone_edit, "13812345678")
    dialog.role_combo.setCurrentText("金牌店小二")
    dialog.rank_combo.setCurrentIndex(dialog.rank_combo.findData("科级"))
    with qtbot.waitSignal(bus.status_message) as message, qtbot.waitSignal(bus.data_changed):
        _click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    assert message.args == ["已新增助企干部“李娜”"]
    cadre = services.people.cadre(dialog.saved_id)
    assert (cadre["name"], cadre["role"], cadre["rank"], cadre["post"], cadre["phone"]) == (
        "李娜", "金牌店小二", "科级", "区工信局科长", "13812345678",
    )  # fmt: skip
    assert view.selected_id() == dialog.saved_id
    assert view.count_label.text() == f"共 {before + 1} 人"
    row = view.model.row_of(dialog.saved_id)
    assert view.model.index(row, PHONE).data() == "138****5678"  # masked in the list


def test_unit_choice_limits_work_groups(qtbot, populated, view, services):
    dialog = view.new_cadre()
    groups = [dialog.group_combo.itemText(i) for i in range(dialog.group_combo.count())]
    assert groups == ["无（不在工作组）", "第一工作组", "第二工作组"]
    dialog.group_combo.setCurrentIndex(2)
    zhengdong = services.reference.unit_by_name("郑东新区").id
    dialog.unit_combo.setCurrentIndex(dialog.unit_combo.findData(zhengdong))
    assert dialog.group_combo.count() == 1 and not dialog.group_combo.isEnabled()
    dialog.unit_combo.setCurrentIndex(0)  # 请选择…
    dialog.name_edit.setText("周婷")
    dialog.save()
    assert dialog.isVisible() and "单位" in dialog.error_text("unit_id")
    units = [dialog.unit_combo.itemText(i) for i in range(dialog.unit_combo.count())]
    assert "郑州市" in units and "中牟县" in units and "市人社局" in units
    dialog.reject()


def test_edit_role_and_phone_with_inline_error(qtbot, populated, view, services):
    li = populated["li"]
    assert view._select(li)
    dialog = view.edit_cadre()
    assert dialog.windowTitle() == "编辑助企干部"
    assert dialog.phone_edit.text() == "13812345678"  # in full where the user edits it
    assert dialog.group_combo.currentData() == populated["g1"]
    assert dialog.active_check.isChecked()

    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "12ab")
    dialog.role_combo.setCurrentText("服务专员")
    _click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert "联系电话" in dialog.error_text("phone") and "12ab" in dialog.error_text("phone")
    assert dialog.phone_edit.text() == "12ab" and dialog.role_combo.currentText() == "服务专员"
    assert services.people.cadre(li)["phone"] == "13812345678"  # nothing half-saved
    assert services.people.cadre(li)["role"] == "首席服务官"

    dialog.phone_edit.setText("0371-67891234")
    assert dialog.error_text("phone") == ""
    _click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    cadre = services.people.cadre(li)
    assert (cadre["role"], cadre["phone"], cadre["work_group_id"]) == ("服务专员", "0371-67891234", populated["g1"])
    row = view.model.row_of(li)
    assert view.model.index(row, ROLE).data() == "服务专员"
    assert view.model.index(row, PHONE).data() == "0371-****1234"
    assert view.selected_id() == li


def test_double_click_edits(qtbot, populated, view):
    row = view.model.row_of(populated["zhang"])
    rect = view.table.visualRect(view.model.index(row, NAME))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = view.findChild(CadreDialog)
    assert dialog is not None and dialog.isVisible() and dialog.name_edit.text() == "张伟"
    dialog.reject()


# --- 离岗 ----------------------------------------------------------------------------------------
def test_deactivate_greys_and_excludes(qtbot, populated, view, services):
    zhang = populated["zhang"]
    view._select(zhang)
    assert view.active_button.text() == "设为离岗"
    with qtbot.waitSignal(view.bus.data_changed):
        _click(qtbot, view.active_button)
    assert zhang not in {c["id"] for c in services.people.cadres(active_only=True)}
    assert zhang in {c["id"] for c in services.people.cadres(active_only=False)}
    assert view.inactive_check.isChecked()  # the row stays in sight, greyed, to be restored
    row = view.model.row_of(zhang)
    assert row is not None and view.selected_id() == zhang
    assert view.model.index(row, STATUS).data() == "离岗"
    assert view.model.index(row, NAME).data(Qt.ItemDataRole.ForegroundRole) == INACTIVE_COLOUR
    assert view.active_button.text() == "恢复在岗"
    assert view.panel.title_label.text() == "张伟（离岗）"

    view.inactive_check.setChecked(False)
    assert view.model.row_of(zhang) is None and "张伟" not in _names(view)
    view.inactive_check.setChecked(True)
    view._select(zhang)
    _click(qtbot, view.active_button)
    assert services.people.cadre(zhang)["active"] == 1
    assert view.model.index(view.model.row_of(zhang), STATUS).data() == "在岗"
    assert view.model.index(view.model.row_of(zhang), NAME).data(Qt.ItemDataRole.ForegroundRole) is None


def test_deactivate_in_edit_dialog(qtbot, populated, view, services):
    view._select(populated["zhao"])
    dialog = view.edit_cadre()
    dialog.active_check.setChecked(False)
    _click(qtbot, dialog.save_button)
    assert services.people.cadre(populated["zhao"])["active"] == 0
    assert populated["zhao"] not in {c["id"] for c in services.people.cadres()}


# --- Work groups ---------------------------------------------------------------------------------
def test_create_work_group_and_set_leader(qtbot, populated, view, services):
    view.tabs.setCurrentIndex(GROUP_TAB)
    assert view.group_model.rowCount() == 2 and view.group_count_label.text() == "共 2 个工作组"
    _click(qtbot, view.new_group_button)
    dialog = view.findChild(WorkGroupDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.note_edit.setPlainText("负责南片区")
    _click(qtbot, dialog.save_button)
    assert dialog.isVisible() and "工作组名称" in dialog.error_text("name")
    assert len(services.people.work_groups()) == 2
    dialog.name_edit.setText("第一工作组")
    _click(qtbot, dialog.save_button)
    assert dialog.isVisible() and "已存在" in dialog.error_text("name")
    dialog.name_edit.setText("第三工作组")
    _click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    group_id = dialog.saved_id
    group = services.people.work_group(group_id)
    assert (group["name"], group["note"], group["leader_cadre_id"]) == ("第三工作组", "负责南片区", None)
    assert view.selected_group_id() == group_id
    assert view.group_model.rowCount() == 3 and view.tabs.tabText(GROUP_TAB) == "工作组（3）"
    assert view.group_combo.findData(group_id) >= 0  # offered as a filter at once

    services.people.update_cadre(populated["zhao"], work_group_id=group_id)
    view.refresh()
    assert view.member_list.count() == 1 and view.member_list.item(0).text().startswith("赵敏")
    dialog = view.set_leader()
    assert dialog.windowTitle() == "设置组长"
    assert dialog.focusWidget() is dialog.leader_combo
    leaders = [dialog.leader_combo.itemText(i) for i in range(dialog.leader_combo.count())]
    assert leaders[0] == "（暂不设组长）" and leaders[1].startswith("赵敏（本组）")
    assert not any(text.startswith("孙强") for text in leaders)  # another unit's cadre
    dialog.leader_combo.setCurrentIndex(dialog.leader_combo.findData(populated["zhao"]))
    _click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    assert services.people.work_group(group_id)["leader_cadre_id"] == populated["zhao"]
    row = view.group_model.row_of(group_id)
    assert view.group_model.index(row, 2).data() == "赵敏"
    assert view.member_list.item(0).text().startswith("赵敏（组长）")
    cadre_row = view.model.row_of(populated["zhao"])
    assert view.model.index(cadre_row, 2).data() == "第三工作组（组长）"


def test_work_group_with_members_cannot_move_unit(qtbot, populated, view, services):
    view.tabs.setCurrentIndex(GROUP_TAB)
    view.select_group(populated["g1"])
    dialog = view.edit_group()
    assert dialog.leader_combo.currentData() == populated["li"]
    zhengdong = services.reference.unit_by_name("郑东新区").id
    dialog.unit_combo.setCurrentIndex(dialog.unit_combo.findData(zhengdong))
    assert dialog.leader_combo.currentData() is None  # 李娜 is not a 郑东新区 cadre
    _click(qtbot, dialog.save_button)
    assert dialog.isVisible() and "已有成员" in dialog.error_text("unit_id")
    assert services.people.work_group(populated["g1"])["unit_id"] == services.installation.unit_id
    dialog.reject()


def test_member_double_click_shows_cadre(qtbot, populated, view):
    view.tabs.setCurrentIndex(GROUP_TAB)
    view.select_group(populated["g2"])
    view.role_combo.setCurrentIndex(view.role_combo.findData("首席服务官"))  # hides 张伟
    item = view.member_list.item(0)
    assert item.text().startswith("张伟")
    view._member_double_clicked(item)
    assert view.tabs.currentIndex() == CADRE_TAB
    assert view.selected_id() == populated["zhang"] and view.role_combo.currentData() is None


# --- Search and filters --------------------------------------------------------------------------
def test_search_and_filters(qtbot, populated, view, services):
    assert _names(view) == ["李娜", "孙强", "王磊", "赵敏", "张伟"]  # by pinyin initials
    assert view.count_label.text() == "共 5 人"
    qtbot.keyClicks(view.search_box, "ln")
    view.search_box.flush()
    assert _names(view) == ["李娜"] and view.count_label.text() == "共 1 人"
    view.search_box.setText("副局长")
    view.search_box.flush()
    assert _names(view) == ["李娜"]
    view.search_box.clear()
    view.search_box.flush()

    units = [view.unit_combo.itemText(i) for i in range(view.unit_combo.count())]
    assert units == ["全部", "郑东新区", "金水区"]
    view.unit_combo.setCurrentIndex(view.unit_combo.findText("郑东新区"))
    assert _names(view) == ["孙强"]
    assert [view.group_combo.itemText(i) for i in range(view.group_combo.count())] == ["全部", "未分组"]
    view.unit_combo.setCurrentIndex(view.unit_combo.findText("金水区"))
    view.group_combo.setCurrentIndex(view.group_combo.findData(populated["g1"]))
    assert _names(view) == ["李娜"]
    view.group_combo.setCurrentIndex(view.group_combo.findData(NO_GROUP))
    assert _names(view) == ["王磊", "赵敏"]
    view.group_combo.setCurrentIndex(0)
    view.role_combo.setCurrentIndex(view.role_combo.findData("服务专员"))
    assert _names(view) == ["张伟"]
    assert view.current_filter() == CadreFilter(unit_id=services.installation.unit_id, role="服务专员")
    view.clear_filters()
    assert len(_names(view)) == 5


def test_sort_by_header(qtbot, populated, view):
    view.table.horizontalHeader().setSortIndicator(7, Qt.SortOrder.DescendingOrder)  # 包联企业数
    assert _names(view)[0] == "李娜"
    view.table.horizontalHeader().setSortIndicator(PHONE, Qt.SortOrder.AscendingOrder)  # not sortable
    assert view.model.sort_column() == 7


def test_focus_search(qtbot, view):
    view.tabs.setCurrentIndex(GROUP_TAB)
    view.focus_search()
    assert view.tabs.currentIndex() == CADRE_TAB
    qtbot.waitUntil(view.search_box.hasFocus)


# --- 包联 panel ----------------------------------------------------------------------------------
def test_panel_shows_assignments_and_drills_down(qtbot, populated, view, bus):
    assert view.panel.stack.currentIndex() == 0  # placeholder until a cadre is chosen
    view._select(populated["li"])
    panel = view.panel
    assert panel.stack.currentIndex() == 1
    assert panel.title_label.text() == "李娜"
    assert "第一工作组（组长）" in panel.subtitle_label.text()
    assert "138****5678" in panel.phone_label.text() and "今年走访 1 次" in panel.phone_label.text()
    assert panel.caption_label.text() == "当前包联企业（2 家）"
    model = panel.table.model()
    names = {model.index(r, 0).data() for r in range(model.rowCount())}
    assert names == {"郑州宇通客车股份有限公司", "郑州三全食品股份有限公司"}
    row = view.model.row_of(populated["li"])
    assert view.model.index(row, 7).data() == "2" and view.model.index(row, 8).data() == "1"

    target = model.index(0, 0)
    rect = panel.table.visualRect(target)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(bus.open_enterprise) as opened:
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [model.id_at(0)]

    with qtbot.waitSignal(bus.show_enterprises) as shown:
        _click(qtbot, panel.show_button)
    title, f = shown.args
    assert title == "李娜 包联的企业" and f == EnterpriseFilter(cadre_id=populated["li"])

    view._select(populated["zhao"])
    assert panel.caption_label.text() == "当前包联企业（0 家）" and not panel.show_button.isEnabled()


def test_user_text_is_plain(view, services):
    cadre = services.people.add_cadre("<b>粗</b>", services.installation.unit_id, post="<i>x</i>")
    view.refresh()
    view._select(cadre)
    assert view.panel.title_label.textFormat() == Qt.TextFormat.PlainText
    assert view.panel.title_label.text() == "<b>粗</b>"
    assert view.panel.subtitle_label.textFormat() == Qt.TextFormat.PlainText


# --- Models --------------------------------------------------------------------------------------
def test_models_pass_qtmodeltester(qtmodeltester, services, populated):
    cadres = CadreTableModel(services.people, CadreFilter(include_inactive=True))
    assert cadres.rowCount() == 5
    qtmodeltester.check(cadres)
    cadres.sort(ROLE, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(cadres)
    groups = WorkGroupTableModel(services.people.work_group_rows())
    assert groups.rowCount() == 2
    qtmodeltester.check(groups)
    groups.sort(3, Qt.SortOrder.DescendingOrder)
    assert groups.row_dict(0)["name"] == "第一工作组"
    qtmodeltester.check(groups)
    enterprises = CadreEnterpriseModel(services.enterprises, populated["li"])
    assert enterprises.rowCount() == 2
    qtmodeltester.check(enterprises)
