"""The 企业 page's 包联干部 filter finds cadres as the user types (a hub has 50,000: never listed whole)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from app.people import PeopleService
from app.uscc import make
from ui.views.enterprises_view import EnterprisesView
from ui.widgets.cadre_filter import MINE, SUGGESTIONS


@pytest.fixture
def world(services):
    unit = services.installation.unit_id
    people = services.people
    li_na = people.add_cadre("李娜", unit, role="服务专员", post="科员")
    li_ning = people.add_cadre("李宁", unit)
    zhao = people.add_cadre("赵敏", unit)
    ents = {}
    for n, (name, cadre) in enumerate((("郑州宇通客车股份有限公司", li_na), ("郑州三全食品股份有限公司", li_ning),
                                       ("金水区华信软件科技有限公司", zhao)), start=1):
        ents[name] = services.enterprises.create({"name": name, "uscc": make(f"91410105MA{n:07d}"),
                                                  "unit_id": unit}).id
        people.assign(cadre, ents[name])
    return {"li_na": li_na, "li_ning": li_ning, "zhao": zhao, **ents}


@pytest.fixture
def view(qtbot, services, bus, ui_settings, tasks, monkeypatch):
    def no_whole_list(*_a, **_k):
        raise AssertionError("the 企业 page must not load every cadre")

    monkeypatch.setattr(PeopleService, "cadres", no_whole_list)
    widget = EnterprisesView(services, bus, ui_settings, tasks)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


def names(view) -> list[str]:
    return [view.model.row_dict(r)["name"] for r in range(view.model.rowCount())]


def type_into(qtbot, combo, text: str) -> int:
    """Type `text` as a user does (Chinese through the input method); the number of suggestions shown."""
    edit = combo.lineEdit()
    edit.setFocus()
    edit.clear()
    with qtbot.waitSignal(combo.suggestions_shown, timeout=3000) as shown:
        if text.isascii():
            qtbot.keyClicks(edit, text)
        else:
            event = QInputMethodEvent()
            event.setCommitString(text)
            QApplication.sendEvent(edit, event)
    return shown.args[0]


def suggestions(combo) -> list[str]:
    return [combo.suggestions.item(i).text() for i in range(combo.suggestions.rowCount())]


def test_typing_a_name_suggests_cadres_and_choosing_one_filters_the_list(qtbot, world, view):
    combo = view.cadre_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["全部", "我包联的"]
    assert type_into(qtbot, combo, "李") == 2
    assert suggestions(combo) == ["李娜　金水区 · 服务专员 · 科员", "李宁　金水区 · 助企干部"]
    combo.choose_suggestion(0)
    assert combo.currentData() == world["li_na"]
    qtbot.waitUntil(lambda: combo.currentText() == "李娜")
    assert names(view) == ["郑州宇通客车股份有限公司"]


def test_pinyin_initials_find_the_cadre(qtbot, world, view):
    combo = view.cadre_combo
    assert type_into(qtbot, combo, "zm") == 1
    assert suggestions(combo) == ["赵敏　金水区 · 助企干部"]
    qtbot.keyClick(combo.completer().popup(), Qt.Key.Key_Down)
    qtbot.keyClick(combo.completer().popup(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: combo.currentData() == world["zhao"])
    assert names(view) == ["金水区华信软件科技有限公司"]


def test_emptying_the_box_shows_every_enterprise_again(qtbot, world, view):
    combo = view.cadre_combo
    combo.select(world["li_ning"])
    assert names(view) == ["郑州三全食品股份有限公司"]
    combo.lineEdit().clear()
    combo.lineEdit().editingFinished.emit()
    assert combo.currentData() is None and combo.currentText() == "全部"
    assert len(names(view)) == 3


def test_text_that_names_nobody_goes_back_to_the_filter_in_force(qtbot, world, view):
    combo = view.cadre_combo
    combo.select(MINE)
    assert type_into(qtbot, combo, "钱多多") == 0
    combo.lineEdit().editingFinished.emit()
    assert combo.currentData() == MINE and combo.currentText() == "我包联的"


def test_suggestions_are_capped(qtbot, services, view):
    unit = services.installation.unit_id
    for n in range(SUGGESTIONS + 10):
        services.people.add_cadre(f"王{'一二三四五六七八九十'[n % 10]}{n}", unit)
    assert type_into(qtbot, view.cadre_combo, "王") == SUGGESTIONS


def test_drill_down_to_a_cadre_shows_the_name(qtbot, world, view):
    from app.enterprises import EnterpriseFilter

    view.apply_filter("李宁包联的企业", EnterpriseFilter(cadre_id=world["li_ning"]))
    assert view.cadre_combo.currentText() == "李宁"
    assert names(view) == ["郑州三全食品股份有限公司"]


def test_the_filter_row_with_chinese_text(qtbot, world, view, tmp_path):
    combo = view.cadre_combo
    type_into(qtbot, combo, "李")
    popup = combo.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    view.grab().save(str(tmp_path / "enterprises_cadre_filter.png"))
    popup.grab().save(str(tmp_path / "cadre_suggestions.png"))
    combo.choose_suggestion(1)
    qtbot.waitUntil(lambda: combo.currentText() == "李宁")
    combo.grab().save(str(tmp_path / "cadre_chosen.png"))


def test_the_add_assignment_dialog_lists_a_page_of_cadres_and_finds_the_rest_by_typing(qtbot, services, world,
                                                                                      tmp_path):
    from ui.settings import Settings
    from ui.views.enterprise_detail import CADRE_CHOICES, AssignmentDialog

    other = services.reference.unit_by_name("郑东新区").id
    for n in range(CADRE_CHOICES + 5):
        services.people.add_cadre(f"郑干部{n:03d}", other)
    services.people.add_cadre("钱多多", other)
    dialog = AssignmentDialog(services, Settings(tmp_path / "s.ini"), world["郑州宇通客车股份有限公司"])
    qtbot.addWidget(dialog)
    dialog.show()
    items = [dialog.cadre_list.item(i) for i in range(dialog.cadre_list.count())]
    assert len(items) == CADRE_CHOICES and dialog.more_label.isVisible()
    assert [i.text() for i in items[:4]] == ["李娜　金水区 · 服务专员 · 科员（已在包联）", "李宁　金水区 · 助企干部",
                                            "王磊　金水区 · 助企干部", "赵敏　金水区 · 助企干部"]  # its unit's first
    assert not items[0].flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.grab().save(str(tmp_path / "assignment_dialog.png"))
    qtbot.keyClicks(dialog.search_edit, "qdd")
    assert [dialog.cadre_list.item(i).text() for i in range(dialog.cadre_list.count())] == ["钱多多　郑东新区 · 助企干部"]
    assert not dialog.more_label.isVisible()
    dialog.cadre_list.setCurrentRow(0)
    dialog.save()
    assert dialog.saved_id and services.people.enterprises_of_cadre(
        services.store.scalar("SELECT id FROM cadres WHERE name = '钱多多'")) == [world["郑州宇通客车股份有限公司"]]
