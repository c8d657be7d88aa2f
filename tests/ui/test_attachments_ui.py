"""附件（扫描件）UI: the panel's list and buttons, and the panel inside the visit and problem detail panes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMessageBox

from app import uscc
from app.problems import ProblemInput
from app.visits import VisitInput
from ui.views.problems_view import ProblemsView
from ui.views.visits_view import VisitsView
from ui.widgets.attachments_panel import AttachmentsPanel, AttachmentTableModel

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def scan(tmp_path: Path, name: str = "走访记录表-签字.pdf", data: bytes = PDF) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture
def visit_id(services) -> str:
    code = uscc.make("91410105MA0000001")
    ent = services.enterprises.create(
        {"uscc": code, "name": "郑州扫描件测试有限公司", "unit_id": services.installation.unit_id}
    ).id
    return services.visits.create(
        VisitInput(
            kind="实地走访",
            visit_date="2025-03-03",
            enterprise_ids=[ent],
            cadre_ids=[services.installation.cadre_id],
            summary="了解生产经营情况。",
            problems=[ProblemInput(enterprise_id=ent, category_code="labour", description="招工难，缺少熟练技工。")],
        )
    )


@pytest.fixture
def panel(qtbot, services, visit_id) -> AttachmentsPanel:
    p = AttachmentsPanel(services)
    qtbot.addWidget(p)
    p.resize(480, 260)
    p.show()
    qtbot.waitExposed(p)
    return p


def visible_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def close_boxes() -> None:
    for box in visible_boxes():
        box.close()


def test_panel_lists_attachments_added_through_service(panel, services, visit_id, tmp_path):
    panel.set_owner("visits", visit_id)
    assert panel.model.rowCount() == 0 and panel.empty_label.isVisible() and not panel.table.isVisible()
    assert panel.add_button.isEnabled() and not panel.delete_button.isEnabled()
    att = services.attachments.add("visits", visit_id, scan(tmp_path))
    panel.refresh()
    assert panel.attachment_ids() == [att]
    assert panel.table.isVisible() and not panel.empty_label.isVisible()
    texts = [panel.model.index(0, c).data() for c in range(panel.model.columnCount())]
    assert texts[0] == "走访记录表-签字.pdf" and texts[1] == "PDF" and texts[2] == f"{len(PDF)} B"
    assert texts[3].startswith("20")  # local time, "2026-03-14 09:05"
    headers = [panel.model.headerData(c, Qt.Orientation.Horizontal) for c in range(panel.model.columnCount())]
    assert headers == ["文件名", "类型", "大小", "添加时间"]


def test_no_owner_disables_everything(panel):
    panel.set_owner("visits", None)
    assert not panel.add_button.isEnabled() and panel.model.rowCount() == 0
    assert panel.add_file() is None


def test_add_through_file_dialog(panel, services, visit_id, tmp_path, monkeypatch, qtbot):
    path = scan(tmp_path)
    asked = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(a) or (str(path), "扫描件 (*.pdf)")
    )
    panel.set_owner("visits", visit_id)
    messages = []
    panel.message.connect(messages.append)
    with qtbot.waitSignal(panel.changed):
        panel.add_button.click()
    assert len(asked) == 1 and "*.pdf" in asked[0][3] and "*.tif" in asked[0][3]
    (row,) = services.attachments.list("visits", visit_id)
    assert panel.attachment_ids() == [row["id"]] and panel.selected_id() == row["id"]
    assert panel.delete_button.isEnabled() and panel.view_button.isEnabled()
    assert messages == ["已添加扫描件：走访记录表-签字.pdf"]


def test_add_wrong_type_shows_error_and_adds_nothing(panel, services, visit_id, tmp_path, monkeypatch):
    bad = scan(tmp_path, "照片.bmp", b"BM" + b"\x00" * 80)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    panel.set_owner("visits", visit_id)
    changed = []
    panel.changed.connect(lambda: changed.append(1))
    panel.add_button.click()
    boxes = visible_boxes()
    try:
        assert len(boxes) == 1 and "照片.bmp" in boxes[0].text()
    finally:
        close_boxes()
    assert changed == [] and services.attachments.list("visits", visit_id) == []


def test_delete_after_confirming(panel, services, visit_id, tmp_path, monkeypatch, qtbot):
    att = services.attachments.add("visits", visit_id, scan(tmp_path, "<b>签字<i>.pdf"))
    panel.set_owner("visits", visit_id)
    panel.select(att)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or answers.pop(0))
    panel.delete_button.click()  # 否: nothing happens
    assert panel.attachment_ids() == [att]
    with qtbot.waitSignal(panel.changed):
        panel.delete_button.click()
    assert "&lt;b&gt;签字&lt;i&gt;.pdf" in asked[0]  # the file name is shown literally, not as markup
    assert panel.attachment_ids() == [] and services.attachments.list("visits", visit_id) == []
    assert services.store.scalar("SELECT deleted FROM attachments WHERE id = ?", (att,)) == 1


def test_view_opens_a_copy_in_the_data_folder(panel, services, visit_id, tmp_path, monkeypatch):
    att = services.attachments.add("visits", visit_id, scan(tmp_path))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    panel.set_owner("visits", visit_id)
    panel.select(att)
    path = panel.view_selected()
    assert path is not None and path.read_bytes() == PDF
    assert path.parent == Path(services.store.path).parent / "tmp" / "attachments"
    assert len(opened) == 1 and opened[0].isLocalFile() and Path(opened[0].toLocalFile()) == path
    actions = [
        r[0]
        for r in services.store.query(
            "SELECT action FROM audit_log WHERE table_name = 'attachments' AND row_id = ?", (att,)
        )
    ]
    assert "查看附件" in actions


def test_save_as(panel, services, visit_id, tmp_path, monkeypatch):
    att = services.attachments.add("visits", visit_id, scan(tmp_path))
    dest = tmp_path / "out" / "副本.pdf"
    dest.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    panel.set_owner("visits", visit_id)
    panel.select(att)
    panel.save_button.click()
    assert dest.read_bytes() == PDF
    assert [p.name for p in dest.parent.iterdir()] == ["副本.pdf"]


def test_attachment_model_passes_qtmodeltester(qtmodeltester, services, visit_id, tmp_path):
    services.attachments.add("visits", visit_id, scan(tmp_path))
    services.attachments.add("visits", visit_id, scan(tmp_path, "b.pdf", PDF + b"% other\n"))
    model = AttachmentTableModel()
    model.set_rows(services.attachments.list("visits", visit_id))
    qtmodeltester.check(model)


def test_visits_view_detail_shows_panel_for_selected_visit(
    qtbot, services, bus, ui_settings, tasks, visit_id, tmp_path, monkeypatch
):
    view = VisitsView(services, bus, ui_settings, tasks)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    panel = view.detail.attachments
    assert view.detail.visit["id"] == visit_id
    assert panel.owner_table == "visits" and panel.owner_id == visit_id
    assert panel.isVisible() and view.detail.scroll.widget().isAncestorOf(panel)
    headings = [w.text() for w in view.detail.scroll.widget().findChildren(QLabel)]
    assert "附件（扫描件）" in headings
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(scan(tmp_path)), ""))
    messages = []
    bus.status_message.connect(messages.append)
    panel.add_button.click()
    assert len(panel.attachment_ids()) == 1
    assert messages == ["已添加扫描件：走访记录表-签字.pdf"]
    view.refresh()  # the detail body is rebuilt: the same panel moves into it and still lists the scan
    assert view.detail.attachments is panel and panel.isVisible()
    assert view.detail.scroll.widget().isAncestorOf(panel)
    assert len(panel.attachment_ids()) == 1
    view.detail.show_visit(None)
    assert not panel.isVisible() and panel.owner_id is None


def test_problem_detail_shows_panel(qtbot, services, bus, ui_settings, tasks, visit_id, tmp_path):
    pid = services.visits.get(visit_id)["problems"][0]["id"]
    att = services.attachments.add("problems", pid, scan(tmp_path, "交办单-签收.pdf"))
    view = ProblemsView(services, bus, ui_settings, tasks)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.detail.show_problem(pid)
    panel = view.detail.attachments
    assert panel.owner_table == "problems" and panel.owner_id == pid
    assert panel.attachment_ids() == [att]
    view.detail.show_problem(None)
    assert panel.owner_id is None
