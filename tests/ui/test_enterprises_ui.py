"""Enterprises page: the create/edit dialog with inline USCC checks, list search and filters, detail tabs, 包联."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QTableView

from app.clock import today
from app.enterprises import EnterpriseFilter
from app.problems import ProblemInput
from app.uscc import make
from app.visits import VisitInput
from ui.dialogs.enterprise_dialog import EnterpriseDialog
from ui.models.enterprise_model import EnterpriseTableModel
from ui.models.enterprise_tabs import AssignmentTableModel, HistoryTableModel, ProblemTabModel, VisitTabModel
from ui.views.enterprise_detail import AssignmentDialog, EndAssignmentDialog
from ui.views.enterprises_view import SEARCH_PLACEHOLDER, EnterprisesView

VALID_USCC = "914403001922038216"
BAD_USCC = "914403001922038217"  # wrong 18th character


def _ent(services, name: str, n: int, **extra) -> str:
    data = {
        "name": name,
        "uscc": make(f"91410105MA{n:07d}"),
        "unit_id": services.installation.unit_id,
        "contact_name": "张小明",
        "contact_phone": "13812345678",
        **extra,
    }
    return services.enterprises.create(data).id


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks):
    widget = EnterprisesView(services, bus, ui_settings, tasks)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


@pytest.fixture
def populated(services):
    """Five enterprises: statuses, tags, units, a 包联 by the operator, a visit and a problem."""
    people = services.people
    unit = services.installation.unit_id
    other = services.reference.unit_by_name("郑东新区").id
    li_na = people.add_cadre("李娜", unit, role="服务专员")
    ids = {
        "yutong": _ent(services, "郑州宇通客车股份有限公司", 1, tags=["链主企业"], industry="制造业"),
        "sanquan": _ent(services, "郑州三全食品股份有限公司", 2, status="停产"),
        "huaxin": _ent(services, "金水区华信软件科技有限公司", 3, status="失联"),
        "zhengdong": _ent(services, "郑东新区云智数据服务有限公司", 4, unit_id=other),
        "old": _ent(services, "河南旧厂有限公司", 5),
    }
    services.enterprises.set_archived(ids["old"], True)
    start = (today() - timedelta(days=100)).isoformat()
    people.assign(services.installation.cadre_id, ids["yutong"], start_date=start)
    people.assign(li_na, ids["sanquan"], start_date=start)
    category = next(iter(services.reference.categories()))
    services.visits.create(
        VisitInput(
            kind="实地走访",
            visit_date=(today() - timedelta(days=3)).isoformat(),
            enterprise_ids=[ids["yutong"]],
            cadre_ids=[services.installation.cadre_id],
            summary="了解企业用工情况。",
            problems=[ProblemInput(ids["yutong"], category, "企业反映招工难，希望协调专场招聘会。")],
        )
    )
    return {**ids, "li_na": li_na}


def _names(view: EnterprisesView) -> list[str]:
    return [view.model.row_dict(r)["name"] for r in range(view.model.rowCount())]


def _dialog(qtbot, view: EnterprisesView) -> EnterpriseDialog:
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(EnterpriseDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


# --- Create / edit dialog ---------------------------------------------------------------------------
def test_create_enterprise_with_inline_uscc_check(qtbot, view, services):
    assert view.search_box.placeholderText() == SEARCH_PLACEHOLDER
    dialog = _dialog(qtbot, view)
    dialog.name_edit.insert("郑州测试科技有限公司")
    qtbot.keyClicks(dialog.uscc_edit, BAD_USCC)
    qtbot.waitUntil(lambda: "统一社会信用代码" in dialog.error_text("uscc"))
    assert "校验位" in dialog.error_text("uscc")
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.uscc_edit, Qt.Key.Key_Return)  # Enter does not save while the error shows
    dialog.save()  # nor does a direct save
    assert dialog.isVisible() and dialog.saved_id is None
    assert services.enterprises.count(EnterpriseFilter()) == 0
    assert dialog.name_edit.text() == "郑州测试科技有限公司"  # input kept

    dialog.uscc_edit.clear()
    qtbot.keyClicks(dialog.uscc_edit, "9144 0300 1922 0382 16")  # spaces are dropped
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled())
    assert dialog.error_text("uscc").startswith("注意")  # region code 440300 is not 金水区: a warning only
    assert "行政区划码" in dialog.error_text("uscc")
    assert VALID_USCC in dialog.uscc_preview.text()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    saved = services.enterprises.get(dialog.saved_id)
    assert saved["uscc"] == VALID_USCC and saved["unit_name"] == "金水区"
    assert _names(view) == ["郑州测试科技有限公司"]
    assert view.selected_id() == saved["id"] and view.detail.ent_id == saved["id"]
    assert view.count_label.text() == "共 1 家"


def test_duplicate_uscc_names_existing_enterprise(qtbot, view, services):
    existing = _ent(services, "郑州宇通客车股份有限公司", 1)
    code = services.enterprises.get(existing)["uscc"]
    view.refresh()
    dialog = _dialog(qtbot, view)
    dialog.name_edit.insert("另一家公司")
    qtbot.keyClicks(dialog.uscc_edit, code[:9].lower() + " " + code[9:])  # normalised before checking
    qtbot.waitUntil(lambda: "郑州宇通客车股份有限公司" in dialog.error_text("uscc"))
    assert "不能重复登记" in dialog.error_text("uscc")
    assert not dialog.save_button.isEnabled()
    assert dialog.view_existing_button.isVisible()
    assert services.enterprises.count(EnterpriseFilter()) == 1
    qtbot.mouseClick(dialog.view_existing_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert view.detail.ent_id == existing and view.selected_id() == existing


def test_save_error_shown_at_field_and_edit_recorded(qtbot, view, services):
    ent = _ent(services, "郑州三全食品股份有限公司", 2)
    view.open_enterprise(ent)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(EnterpriseDialog)
    assert dialog.windowTitle() == "编辑企业" and dialog.name_edit.text() == "郑州三全食品股份有限公司"
    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "abc")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "联系电话" in dialog.error_text("contact_phone")
    assert dialog.isVisible() and dialog.phone_edit.text() == "abc"
    dialog.phone_edit.clear()
    qtbot.keyClicks(dialog.phone_edit, "0371-67891234")
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled())
    qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Return)  # Enter saves
    assert not dialog.isVisible()
    assert services.enterprises.get(ent)["contact_phone"] == "0371-67891234"
    view.detail.tabs.setCurrentWidget(view.detail.history_table)  # 操作记录 is read when its tab is shown
    history = view.detail.history_model
    texts = [history.row_dict(r)["changes"] for r in range(history.rowCount())]
    assert any("联系电话：138****5678 → 0371-****1234" in t for t in texts)


def test_tags_and_custom_tag(qtbot, view, services):
    dialog = _dialog(qtbot, view)
    dialog.name_edit.insert("郑州链主科技有限公司")
    qtbot.keyClicks(dialog.uscc_edit, make("91410105MA0000009"))
    item = dialog.tag_list.findItems("专精特新", Qt.MatchFlag.MatchExactly)[0]
    item.setCheckState(Qt.CheckState.Checked)
    dialog.custom_tag_edit.insert("外贸")
    qtbot.keyClick(dialog.custom_tag_edit, Qt.Key.Key_Return)  # adds the tag, does not save
    assert dialog.isVisible() and set(dialog.tags()) == {"专精特新", "外贸"}
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert services.enterprises.get(dialog.saved_id)["tag_list"] == ["专精特新", "外贸"]


# --- List ----------------------------------------------------------------------------------------
def test_list_masks_personal_data_and_colours_status(populated, view):
    assert view.count_label.text() == "共 4 家"  # the archived one is hidden
    model = view.model
    row = model.row_of(populated["yutong"])
    assert model.index(row, 9).data() == "张**"
    assert model.index(row, 10).data() == "138****5678"
    assert model.index(row, 7).data().endswith("（3天前）")
    assert model.index(row, 8).data() == "1"
    stopped = model.row_of(populated["sanquan"])
    assert model.index(stopped, 3).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(stopped, 7).data() == "从未走访"
    assert model.index(stopped, 0).data(Qt.ItemDataRole.BackgroundRole) is not None  # not visited: tinted
    assert model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_search_by_name_initials_and_uscc(qtbot, populated, view, services):
    view.focus_search()
    view.search_box.insert("宇通")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    assert _names(view) == ["郑州宇通客车股份有限公司"]
    view.search_box.clear()
    qtbot.keyClicks(view.search_box, "zzsq")
    qtbot.waitUntil(lambda: _names(view) == ["郑州三全食品股份有限公司"])
    view.search_box.clear()
    qtbot.keyClicks(view.search_box, services.enterprises.get(populated["huaxin"])["uscc"])
    qtbot.waitUntil(lambda: _names(view) == ["金水区华信软件科技有限公司"])
    qtbot.keyClick(view.search_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)


def test_filters_narrow_the_list(populated, view, services):
    def pick(combo, data):
        combo.setCurrentIndex(combo.findData(data))

    pick(view.status_combo, "停产")
    assert _names(view) == ["郑州三全食品股份有限公司"]
    pick(view.status_combo, None)
    pick(view.unit_combo, services.reference.unit_by_name("郑东新区").id)
    assert _names(view) == ["郑东新区云智数据服务有限公司"]
    pick(view.unit_combo, None)
    pick(view.tag_combo, "链主企业")
    assert _names(view) == ["郑州宇通客车股份有限公司"]
    pick(view.tag_combo, None)
    pick(view.cadre_combo, "__mine__")
    assert _names(view) == ["郑州宇通客车股份有限公司"]
    new_cadre = services.people.add_cadre("赵敏", services.installation.unit_id)
    services.people.assign(new_cadre, populated["huaxin"])
    view.refresh()
    view.cadre_combo.select(new_cadre)  # typing a name or initials finds it: tests/ui/test_cadre_filter.py
    assert _names(view) == ["金水区华信软件科技有限公司"]
    view.cadre_combo.select(populated["li_na"])
    assert _names(view) == ["郑州三全食品股份有限公司"]
    pick(view.cadre_combo, None)
    view.not_visited_check.click()
    assert view.model.rowCount() == 3 and "郑州宇通客车股份有限公司" not in _names(view)
    view.not_visited_check.click()
    view.archived_check.click()
    assert view.model.rowCount() == 5 and view.count_label.text() == "共 5 家"
    assert view.model.index(view.model.row_of(populated["old"]), 3).data() == "在营（已归档）"


def test_drill_down_banner_and_clear(qtbot, populated, view):
    view.apply_filter("停产和失联企业", EnterpriseFilter(ids=[populated["sanquan"], populated["huaxin"]]))
    assert view.banner.isVisible()
    assert view.banner_label.text() == "筛选：停产和失联企业（共 2 家）"
    view.status_combo.setCurrentIndex(view.status_combo.findData("失联"))
    assert view.banner_label.text() == "筛选：停产和失联企业（共 1 家）"
    qtbot.mouseClick(view.clear_banner_button, Qt.MouseButton.LeftButton)
    assert not view.banner.isVisible() and view.model.rowCount() == 4
    view.apply_filter("30天未走访", EnterpriseFilter(not_visited_days=30))
    assert view.not_visited_check.isChecked() and view.model.rowCount() == 3


def test_sort_by_header_queries_sql(qtbot, populated, view):
    header = view.table.horizontalHeader()

    def click(section: int) -> None:
        x = header.sectionViewportPosition(section) + 10
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))

    click(7)  # 最近走访
    assert view.model.sort_column() == 7
    first = view.model.index(0, 7).data()
    click(7)
    assert view.model.sort_order() == header.sortIndicatorOrder()
    assert view.model.index(0, 7).data() != first  # the other direction, re-queried
    click(5)  # 标签 cannot be sorted: the list and the indicator stay
    assert view.model.sort_column() == 7 and header.sortIndicatorSection() == 7


def test_archive_and_new_visit(qtbot, populated, view, bus):
    view.open_enterprise(populated["yutong"])
    with qtbot.waitSignal(bus.new_visit) as blocker:
        qtbot.mouseClick(view.visit_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [populated["yutong"]]
    with qtbot.waitSignal(bus.data_changed), qtbot.waitSignal(bus.status_message) as message:
        qtbot.mouseClick(view.archive_button, Qt.MouseButton.LeftButton)
    assert "已归档" in message.args[0]
    assert populated["yutong"] not in view.model.ids()
    view.open_enterprise(populated["yutong"])  # reachable again: 含已归档 gets ticked
    assert view.archived_check.isChecked() and view.archive_button.text() == "取消归档"


# --- Detail --------------------------------------------------------------------------------------
def test_detail_tabs_show_data(qtbot, populated, view, bus, caplog):
    view.open_enterprise(populated["yutong"])
    detail = view.detail
    assert detail.title_label.text() == "郑州宇通客车股份有限公司"
    assert detail.info_values["contact_name"].text() == "张**"
    assert detail.info_values["contact_phone"].text() == "138****5678"
    qtbot.mouseClick(detail.reveal_button, Qt.MouseButton.LeftButton)
    assert detail.info_values["contact_phone"].text() == "13812345678"
    reveals = [h for h in view.services.enterprises.history(populated["yutong"]) if h["action"] == "查看企业联系人信息"]
    assert len(reveals) == 1 and "contact_phone" in reveals[0]["after"]
    assert detail.tabs.tabText(1) == "走访记录（1）" and detail.tabs.tabText(2) == "问题（1）"
    assert detail.tabs.tabText(3) == "包联干部（1）"
    assert detail.problem_table.model().index(0, 3).data() == "待交办"
    detail.tabs.setCurrentWidget(detail.history_table)
    actions = [detail.history_model.row_dict(r)["action"] for r in range(detail.history_model.rowCount())]
    assert "新建企业" in actions and "建立包联关系" in actions

    for table, signal in ((detail.visit_table, bus.open_visit), (detail.problem_table, bus.open_problem)):
        detail.tabs.setCurrentWidget(table)
        rect = table.visualRect(table.model().index(0, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        with qtbot.waitSignal(signal) as blocker:
            qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert blocker.args == [table.model().id_at(0)]

    view.open_enterprise(populated["sanquan"])  # switching enterprise masks again
    assert detail.info_values["contact_name"].text() == "张**"


def test_user_text_is_plain(view, services):
    ent = _ent(services, "<b>粗体</b>公司", 8, note="<a href='x'>链接</a>")
    view.open_enterprise(ent)
    label = view.detail.info_values["note"]
    assert label.textFormat() == Qt.TextFormat.PlainText and label.text() == "<a href='x'>链接</a>"
    assert view.detail.title_label.textFormat() == Qt.TextFormat.PlainText


def test_add_and_end_assignment_through_dialogs(qtbot, populated, view, bus, services):
    view.open_enterprise(populated["zhengdong"])
    detail = view.detail
    detail.tabs.setCurrentWidget(detail.assignment_tab)
    qtbot.mouseClick(detail.add_assignment_button, Qt.MouseButton.LeftButton)
    dialog = detail.findChild(AssignmentDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.search_edit, "ln")  # 李娜 by pinyin initials
    visible = [dialog.cadre_list.item(i) for i in range(dialog.cadre_list.count())]
    visible = [it for it in visible if not it.isHidden()]
    assert len(visible) == 1 and visible[0].text().startswith("李娜")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "请在列表中选择" in dialog.error_label.text()
    dialog.cadre_list.setCurrentItem(visible[0])
    dialog.role_combo.setCurrentText("首席服务官")
    dialog.start_edit.setDate(QDate.fromString((today() - timedelta(days=10)).isoformat(), "yyyy-MM-dd"))
    with qtbot.waitSignal(bus.data_changed):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    model = detail.assignment_model
    assert model.rowCount() == 1 and model.row_dict(0)["cadre_name"] == "李娜"
    assert model.index(0, 1).data() == "首席服务官" and model.index(0, 6).data() == "包联中"
    assert view.model.index(view.model.row_of(populated["zhengdong"]), 6).data() == "李娜"

    assert not detail.end_assignment_button.isEnabled()
    detail.assignment_table.selectRow(0)
    assert detail.end_assignment_button.isEnabled()
    qtbot.mouseClick(detail.end_assignment_button, Qt.MouseButton.LeftButton)
    end_dialog = detail.findChild(EndAssignmentDialog)
    assert end_dialog is not None and end_dialog.isVisible()
    end_dialog.end_edit.setDate(QDate.fromString(today().isoformat(), "yyyy-MM-dd"))
    qtbot.keyClick(end_dialog.end_edit, Qt.Key.Key_Return)
    assert not end_dialog.isVisible()
    assert model.index(0, 5).data() == today().isoformat() and model.index(0, 6).data() == "已结束"
    assert services.people.assignments_of_enterprise(populated["zhengdong"], history=False) == []
    assert detail.tabs.tabText(3) == "包联干部（0）"
    assert view.model.index(view.model.row_of(populated["zhengdong"]), 6).data() == ""


# --- Models --------------------------------------------------------------------------------------
def test_models_pass_qtmodeltester(qtmodeltester, services, populated):
    enterprise_model = EnterpriseTableModel(services.enterprises, EnterpriseFilter(include_archived=True))
    assert enterprise_model.rowCount() == 5
    qtmodeltester.check(enterprise_model)
    enterprise_model.sort(0, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(enterprise_model)

    ent = populated["yutong"]
    visits = VisitTabModel(services.visits, ent)
    problems = ProblemTabModel(services.problems, ent)
    assignments = AssignmentTableModel(services.people.assignments_of_enterprise(ent))
    history = HistoryTableModel()
    history.set_entries(services.enterprises.history(ent), services.reference.unit_names())
    for model in (visits, problems, assignments, history):
        assert model.rowCount() >= 1
        qtmodeltester.check(model)
    history.sort(0, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(history)


def test_splitter_state_is_kept(qtbot, services, bus, ui_settings, tasks):
    first = EnterprisesView(services, bus, ui_settings, tasks)
    qtbot.addWidget(first)
    first.resize(1280, 800)
    first.show()
    first.splitter.setSizes([300, 400])
    first.hide()
    second = EnterprisesView(services, bus, ui_settings, tasks)
    qtbot.addWidget(second)
    second.resize(1280, 800)
    second.show()
    assert abs(second.splitter.sizes()[0] - first.splitter.sizes()[0]) <= 2
    assert isinstance(second.table, QTableView)
