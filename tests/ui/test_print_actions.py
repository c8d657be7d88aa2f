"""Ctrl+P on each screen opens the preview of the right form; a signed scan is attached back by its number."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import ui.print_menu as print_menu
from app.demo import generate
from app.problems import ProblemFilter
from app.services import Services
from ui.main_window import MainWindow


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("print") / "demo.db"
    svc = Services.open(path)
    generate(svc, size="small", seed=11)
    svc.close()
    return path


@pytest.fixture
def window(qtbot, demo_db, tmp_path, ui_settings, tasks):
    db = tmp_path / "demo.db"
    db.write_bytes(demo_db.read_bytes())
    svc = Services.open(db)
    w = MainWindow(svc, ui_settings, tasks)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.print_jobs.close_all()
    svc.close()


@pytest.fixture
def pick(monkeypatch):
    """Answer the print menu: run the option whose label contains the text given (records the labels)."""
    state = {"want": None, "labels": []}

    def choose(parent, options):
        state["labels"] = [label for label, _ in options]
        for label, run in options:
            if state["want"] in label:
                run()
                return
        raise AssertionError(f"no option {state['want']!r} in {state['labels']}")

    monkeypatch.setattr(print_menu, "choose", choose)
    return state


def last_preview(window):
    assert window.print_jobs.dialogs, "no preview opened"
    return window.print_jobs.dialogs[-1]


def test_ctrl_p_on_visits_prints_selected_and_whole_list(qtbot, window, pick):
    view = window.show_page("visits")
    view.table.selectRow(0)
    pick["want"] = "所选"
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    dialog = last_preview(window)
    assert dialog.pages.count >= 1 and "走访记录表" in dialog.windowTitle()
    assert any("列表中全部" in label for label in pick["labels"])
    pick["want"] = "列表中全部"
    window._print()
    batch = last_preview(window)
    assert batch.pages.count >= view.model.rowCount()  # every record starts on its own page


def test_ctrl_p_on_problems_offers_the_sheets_the_problem_allows(window, pick):
    services = window.services
    overdue = services.problems.list_ids(ProblemFilter(overdue=True))
    assert overdue
    view = window.show_page("problems")
    view.open_problem(overdue[0])
    pick["want"] = "督办单"
    window._print()
    assert "督办单" in last_preview(window).windowTitle()
    assert any("问题交办单" in label for label in pick["labels"])
    assert any("问题台账" in label for label in pick["labels"])
    pick["want"] = "问题台账"
    window._print()
    ledger = last_preview(window)
    assert ledger.pages.is_landscape(0)


def test_ctrl_p_on_enterprise_and_stats(window):
    ents = window.show_page("enterprises")
    ents.table.selectRow(0)
    window._print()
    assert "企业服务档案" in last_preview(window).windowTitle()
    window.show_page("stats")
    window._print()
    assert "统计报表" in last_preview(window).windowTitle()


def test_attach_signed_scan_by_the_number_under_the_qr_code(window, tmp_path):
    services = window.services
    vid = services.visits.list_ids(__import__("app.visits", fromlist=["VisitFilter"]).VisitFilter())[0]
    number = services.visits.get(vid)["record_no"]
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(services.printing.visit_records([vid]))  # stands in for the scanner's PDF
    attachment_id = window.attach_scan_by_number(f" {number.lower()} ", str(scan))
    assert attachment_id
    assert [a["id"] for a in services.attachments.list("visits", vid)] == [attachment_id]
    assert window.page_key() == "visits" and window.visits.selected_id() == vid
