"""数据同步 screen through its real widgets: joining a hub, enrolling and revoking on the hub, exporting a package
and importing it (again, and a damaged file), and first-run setup of a hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

from app.enterprises import EnterpriseFilter
from app.services import Services
from ui.dialogs.setup_dialog import SetupDialog
from ui.dialogs.sync_dialogs import FingerprintDialog
from ui.main_window import MainWindow
from ui.models.sync_models import ConflictModel, EnrolledModel, ImportResultModel, LedgerModel, WaitingModel
from ui.tasks import SyncTaskRunner, TaskRunner
from ui.views.sync_view import SyncView

USCC = "914403001922038216"


def open_installation(path: Path, role: str, operator: str) -> Services:
    svc = Services.open(path)
    svc.initialise(role=role, unit_name="金水区", operator=operator, cadre_role="助企干部" if role == "station" else None)
    return svc


@pytest.fixture
def hub(tmp_path):
    svc = open_installation(tmp_path / "hub" / "hub.db", "district", "张三")
    yield svc
    svc.close()


@pytest.fixture
def station(tmp_path):
    svc = open_installation(tmp_path / "station" / "station.db", "station", "李四")
    yield svc
    svc.close()


@pytest.fixture(autouse=True)
def _folders(tmp_path):
    for name in ("hub", "station", "usb"):
        (tmp_path / name).mkdir(exist_ok=True)


@pytest.fixture
def joined(tmp_path, hub, station) -> Path:
    """The station joined the hub (from the hub's invite); returns the station's enrollment request file."""
    invite = hub.sync.make_invite(tmp_path / "usb")
    request, fingerprint = station.sync.join(invite, tmp_path / "usb")
    assert fingerprint == hub.sync.identity()["signing_fingerprint"]
    return request


@pytest.fixture
def enrolled(hub, joined) -> Path:
    assert hub.sync.enroll(hub.sync.read_request(joined)) == "enrolled"
    return joined


def make_view(qtbot, services, bus, ui_settings, tasks) -> SyncView:
    view = SyncView(services, bus, ui_settings, tasks)
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    return view


def cells(model, column_key: str) -> list[str]:
    col = [c.key for c in model.columns].index(column_key)
    return [model.index(r, col).data() for r in range(model.rowCount())]


class Answers:
    """Stand-ins for the modal file pickers and the fingerprint dialog, recording what was shown."""

    def __init__(self, monkeypatch):
        self.open_file = ""
        self.open_files: list[str] = []
        self.folder = ""
        self.confirm = True
        self.fingerprint_dialogs: list[FingerprintDialog] = []
        self.shown: list[dict] = []
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (self.open_file, ""))
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (self.open_files, ""))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: self.folder)
        monkeypatch.setattr(FingerprintDialog, "exec", lambda dialog: self._exec(dialog))

    def _exec(self, dialog: FingerprintDialog) -> int:
        self.shown.append({"fingerprint": dialog.fingerprint_label.text(), "values": dict(dialog.values),
                           "title": dialog.windowTitle()})
        return QDialog.DialogCode.Accepted if self.confirm else QDialog.DialogCode.Rejected


@pytest.fixture
def answers(monkeypatch):
    return Answers(monkeypatch)


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# --- Navigation and first look ---------------------------------------------------------------------
def test_nav_entry_and_ctrl_7_open_the_sync_screen(qtbot, services, ui_settings, tasks):
    window = MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert labels[-1] == "数据同步" and labels[-2] == "统计"
    window.nav.setCurrentRow(labels.index("数据同步"))
    assert window.page_key() == "sync" and window.stack.currentWidget() is window.sync_view
    window.show_page("home")
    window.activateWindow()  # window shortcuts need an active window (the window manager's job)
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_7, Qt.KeyboardModifier.ControlModifier)
    assert window.page_key() == "sync"
    view = window.sync_view
    # A fresh station: who it is, that it has no hub yet and how to get one; nothing to export to.
    assert "金水区" in view.me_label.text() and "干部端" in view.me_label.text()
    assert services.sync.identity()["signing_fingerprint"] in view.keys_label.text()
    assert "尚未加入汇总端" in view.hub_label.text() and view.join_button.isVisible()
    assert view.pending_label.text().endswith("条修改未被汇总端确认")
    assert not view.export_button.isEnabled() and "加入汇总端" in view.action_hint.text()
    assert view.tabs.count() == 3  # no 已登记的安装 on a station


# --- Station: join a hub ---------------------------------------------------------------------------
def test_station_joins_a_hub_through_the_invite(qtbot, tmp_path, hub, station, bus, ui_settings, tasks, answers):
    invite = hub.sync.make_invite(tmp_path / "usb")
    view = make_view(qtbot, station, bus, ui_settings, tasks)
    answers.open_file = str(invite)
    answers.folder = str(tmp_path / "station")
    answers.confirm = False  # the operator says the fingerprint does not match: nothing happens
    click(qtbot, view.join_button)
    assert station.sync.hub() is None and not list((tmp_path / "station").glob("*.zqjoin"))
    answers.confirm = True
    with qtbot.waitSignal(bus.status_message):
        click(qtbot, view.join_button)
    hub_fp = hub.sync.identity()["signing_fingerprint"]
    assert answers.shown[-1]["fingerprint"] == hub_fp
    assert answers.shown[-1]["values"]["汇总端单位"] == "金水区"
    request = list((tmp_path / "station").glob("*.zqjoin"))
    assert len(request) == 1
    assert str(request[0]) in view.notice.text() and "下一步" in view.notice.text()
    assert hub_fp in view.hub_label.text() and "尚未加入" not in view.hub_label.text()
    assert view.export_button.isEnabled() and "区县汇总端" in view.recipient_label.text()


def test_a_damaged_invite_is_refused_with_its_file_name(qtbot, tmp_path, station, bus, ui_settings, tasks, answers):
    answers.open_file = str(tmp_path / "usb" / "坏的.zqinvite")
    Path(answers.open_file).write_text("不是邀请文件", encoding="utf-8")
    view = make_view(qtbot, station, bus, ui_settings, tasks)
    click(qtbot, view.join_button)
    (box,) = view.findChildren(QMessageBox)
    assert box.isVisible() and "坏的.zqinvite" in box.text()
    box.close()
    assert not answers.shown and station.sync.hub() is None


# --- Hub: enroll and revoke ------------------------------------------------------------------------
def test_hub_enrolls_a_station_request_after_confirming_its_fingerprint(qtbot, hub, station, joined, bus,
                                                                        ui_settings, tasks, answers):
    view = make_view(qtbot, hub, bus, ui_settings, tasks)
    assert view.tabs.count() == 4 and view.tabs.tabText(3).startswith("已登记的安装")
    view.tabs.setCurrentIndex(3)
    assert view.enrolled_model.rowCount() == 0 and not view.revoke_button.isEnabled()
    answers.open_file = str(joined)
    answers.confirm = False
    click(qtbot, view.enroll_button)
    assert hub.sync.enrolled() == [] and view.enrolled_model.rowCount() == 0
    answers.confirm = True
    click(qtbot, view.enroll_button)
    shown = answers.shown[-1]
    assert shown["fingerprint"] == station.sync.identity()["signing_fingerprint"]
    assert (shown["values"]["单位"], shown["values"]["角色"], shown["values"]["操作人"]) == ("金水区", "干部端", "李四")
    assert view.enrolled_model.rowCount() == 1
    assert cells(view.enrolled_model, "operator") == ["李四"] and cells(view.enrolled_model, "state") == ["正常"]
    assert "已登记" in view.notice.text()
    # The station now appears as a recipient of a down package.
    assert view.export_button.isEnabled() and "下发" in view.recipient_label.text()
    click(qtbot, view.enroll_button)  # the same request again
    assert "已经登记过" in view.notice.text() and view.enrolled_model.rowCount() == 1


def test_revoke_from_the_hub_screen_marks_the_installation_revoked(qtbot, hub, enrolled, bus, ui_settings, tasks,
                                                                   monkeypatch):
    asked = []

    def get_text(parent, title, label, *args, **kwargs):
        asked.append(label)
        return "电脑已报废", True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    view = make_view(qtbot, hub, bus, ui_settings, tasks)
    view.tabs.setCurrentIndex(3)
    view.enrolled_table.selectRow(0)
    with qtbot.waitSignal(bus.status_message):
        click(qtbot, view.revoke_button)
    assert "李四" in asked[0]
    (row,) = hub.sync.enrolled()
    assert row["revoked_at"] and row["note"] == "电脑已报废"
    state = cells(view.enrolled_model, "state")[0]
    assert state.startswith("已撤销") and "电脑已报废" in state
    view.enrolled_table.selectRow(0)
    assert not view.revoke_button.isEnabled()
    assert "另有 1 个已撤销" in view.enrolled_count.text()


def test_hub_writes_an_invite_into_the_chosen_folder(qtbot, tmp_path, hub, bus, ui_settings, tasks, answers):
    view = make_view(qtbot, hub, bus, ui_settings, tasks)
    answers.folder = str(tmp_path / "usb")
    view.tabs.setCurrentIndex(3)
    click(qtbot, view.invite_button)
    (invite,) = (tmp_path / "usb").glob("*.zqinvite")
    assert str(invite) in view.notice.text()
    assert hub.sync.identity()["signing_fingerprint"] in view.notice.text()


# --- Export and import -----------------------------------------------------------------------------
def test_export_from_a_station_then_import_on_the_hub(qtbot, tmp_path, hub, station, enrolled, bus, ui_settings,
                                                      tasks, answers):
    station.enterprises.create({"uscc": USCC, "name": "郑州宇通客车股份有限公司", "unit_id": station.installation.unit_id})
    usb = tmp_path / "usb"
    view = make_view(qtbot, station, bus, ui_settings, tasks)
    pending = station.sync.pending()["operations"]
    assert pending > 0 and view.pending_label.text() == f"{pending} 条修改未被汇总端确认"
    answers.folder = str(usb)
    with qtbot.waitSignal(bus.status_message):
        click(qtbot, view.export_button)
    assert tasks.calls[-1] == "正在导出同步文件…"
    (package,) = usb.glob("*.zqpkg")
    assert package.name in view.notice.text() and "下一步" in view.notice.text()
    assert cells(view.ledger_model, "file_name") == [package.name]
    assert cells(view.ledger_model, "direction") == ["发出"] and cells(view.ledger_model, "status") == ["待确认"]

    hub_view = make_view(qtbot, hub, bus, ui_settings, tasks)
    garbage = usb / "损坏的文件.zqpkg"
    garbage.write_bytes(b"\x00garbage" * 50)
    answers.open_files = [str(package)]
    with qtbot.waitSignal(bus.data_changed):
        click(qtbot, hub_view.import_button)
    assert hub_view.results_box.isVisible()
    assert cells(hub_view.results_model, "file_name") == [package.name]
    assert cells(hub_view.results_model, "status") == ["已导入"]
    assert len(hub.enterprises.list_ids(EnterpriseFilter())) == 1
    assert cells(hub_view.ledger_model, "status")[0] == "已导入"

    answers.open_files = [str(package), str(garbage)]
    click(qtbot, hub_view.import_button)
    assert cells(hub_view.results_model, "file_name") == [package.name, garbage.name]
    assert cells(hub_view.results_model, "status") == ["已导入过", "被拒绝"]
    rejected = hub_view.results_model.index(1, 1)
    assert rejected.data(Qt.ItemDataRole.ForegroundRole).name() == "#c62828"
    assert hub_view.results_model.index(1, 2).data()  # the engine's reason, in Chinese
    assert "被拒绝 1 个" in hub_view.results_summary.text()


def test_export_and_import_run_off_the_gui_thread(qtbot, tmp_path, hub, station, enrolled, bus, ui_settings,
                                                  answers):
    """The real TaskRunner: the engine works on a second connection in a pool thread."""
    station.enterprises.create({"uscc": USCC, "name": "郑州宇通客车股份有限公司", "unit_id": station.installation.unit_id})
    runner = TaskRunner()
    view = make_view(qtbot, station, bus, ui_settings, runner)
    answers.folder = str(tmp_path / "usb")
    click(qtbot, view.export_button)
    assert runner.wait_idle(10_000)
    (package,) = (tmp_path / "usb").glob("*.zqpkg")
    assert cells(view.ledger_model, "file_name") == [package.name]
    hub_view = make_view(qtbot, hub, bus, ui_settings, runner)
    answers.open_files = [str(package)]
    click(qtbot, hub_view.import_button)
    assert runner.wait_idle(10_000)
    assert cells(hub_view.results_model, "status") == ["已导入"]
    assert len(hub.enterprises.list_ids(EnterpriseFilter())) == 1  # seen through the GUI thread's connection


def test_hub_exports_down_to_an_enrolled_station(qtbot, tmp_path, hub, enrolled, bus, ui_settings, tasks, answers):
    view = make_view(qtbot, hub, bus, ui_settings, tasks)
    answers.folder = str(tmp_path / "usb")
    click(qtbot, view.export_button)
    files = list((tmp_path / "usb").glob("*.zqpkg"))
    assert len(files) == 1 and files[0].name in view.notice.text()
    assert cells(view.ledger_model, "kind") == ["下发"]


def test_a_conflict_is_shown_side_by_side_and_resolved_from_the_screen(qtbot, tmp_path, hub, station, enrolled, bus,
                                                                       ui_settings, tasks, answers):
    usb = tmp_path / "usb"
    ent = station.enterprises.create({"uscc": USCC, "name": "郑州宇通客车股份有限公司",
                                      "unit_id": station.installation.unit_id}).id
    (first,) = station.sync.export(usb)
    hub.sync.import_files([first.path])
    station.enterprises.update(ent, {"address": "金水区花园路 1 号"})
    hub.enterprises.update(ent, {"address": "金水区农业路 8 号"})
    (second,) = station.sync.export(usb)

    view = make_view(qtbot, hub, bus, ui_settings, tasks)
    answers.open_files = [str(second.path)]
    click(qtbot, view.import_button)
    assert "新增冲突 1 条" in view.results_summary.text()
    assert view.tabs.currentIndex() == 1 and view.tabs.tabText(1) == "冲突（1）"
    assert cells(view.conflict_model, "field_label") == ["地址"]
    assert cells(view.conflict_model, "current_value") == ["金水区农业路 8 号"]
    assert cells(view.conflict_model, "other_value") == ["金水区花园路 1 号"]
    assert not view.keep_other_button.isEnabled()  # nothing selected yet
    view.conflict_table.selectRow(0)
    with qtbot.waitSignal(bus.data_changed):
        click(qtbot, view.keep_other_button)
    assert hub.enterprises.get(ent)["address"] == "金水区花园路 1 号"
    assert view.conflict_model.rowCount() == 0 and view.tabs.tabText(1) == "冲突"
    view.show_resolved.setChecked(True)
    assert cells(view.conflict_model, "resolution")[0].startswith("改用另一值")
    assert not view.conflict_table.isColumnHidden(len(view.conflict_model.columns) - 1)
    view.conflict_table.selectRow(0)
    assert not view.keep_current_button.isEnabled()


def test_cancelling_an_export_leaves_no_file_and_says_so(qtbot, tmp_path, station, joined, bus, ui_settings,
                                                         answers):
    class CancelAtOnce(SyncTaskRunner):
        """The operator presses 取消 as soon as the progress dialog appears."""

        def run(self, fn, **kwargs):
            def cancelled(progress):
                progress.cancel()
                return fn(progress)

            return super().run(cancelled, **kwargs)

    station.enterprises.create({"uscc": USCC, "name": "郑州宇通客车股份有限公司",
                                "unit_id": station.installation.unit_id})
    view = make_view(qtbot, station, bus, ui_settings, CancelAtOnce())
    answers.folder = str(tmp_path / "usb")
    click(qtbot, view.export_button)
    assert not list((tmp_path / "usb").glob("*.zqpkg"))
    assert "取消" in view.notice.text() and not view.findChildren(QMessageBox)
    assert view.ledger_model.rowCount() == 0


# --- Models ---------------------------------------------------------------------------------------
def test_sync_models_pass_the_model_tester(qtmodeltester):
    ledger = LedgerModel()
    ledger.set_rows([{"direction": "out", "package_id": "p1", "file_name": "a.zqpkg", "kind": "up", "peer_label": "x",
                      "at": "2026-03-14T01:05:00.000Z", "operations": 3, "status": "有缺口", "note": ""}])
    assert ledger.index(0, 0).data() == "2026-03-14 09:05" and ledger.index(0, 1).data() == "发出"
    results = ImportResultModel()
    results.set_rows([{"file": "/x/y/b.zqpkg", "status": "rejected", "message": "签名不符"}])
    assert results.index(0, 0).data() == "b.zqpkg" and results.index(0, 1).data() == "被拒绝"
    conflicts = ConflictModel()
    conflicts.set_rows([{"id": 1, "table_label": "企业", "record_label": "宇通", "field_label": "电话",
                         "current_value": "1", "other_value": None, "detected_at": None, "resolved_at": None}])
    assert conflicts.index(0, 0).data() == "企业 · 宇通" and conflicts.index(0, 3).data() == "（空）"
    waiting = WaitingModel()
    waiting.set_rows([{"origin": "o", "seq": 3, "table_label": "走访", "row_id": "r", "reason": "x", "since": None}])
    enrolled = EnrolledModel()
    enrolled.set_rows([{"installation_id": "i", "unit": "金水区", "revoked_at": "2026-03-14T01:05:00Z", "note": "n"}])
    assert enrolled.index(0, 5).data().startswith("已撤销")
    for model in (ledger, results, conflicts, waiting, enrolled):
        qtmodeltester.check(model)


# --- First-run setup of a hub ---------------------------------------------------------------------
def test_setup_dialog_creates_a_district_hub_without_a_cadre(qtbot, tmp_path):
    svc = Services.open(tmp_path / "hub.db")
    dialog = SetupDialog(svc)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.cadre_role.isVisible() and dialog.phone.isVisible()
    dialog.role.setCurrentIndex(dialog.role.findData("district"))
    assert dialog.role.model().item(dialog.role.currentIndex()).isEnabled()
    assert not dialog.cadre_role.isVisible() and not dialog.post.isVisible() and not dialog.phone.isVisible()
    assert not dialog.cadre_role.isEnabled()
    assert dialog.unit.currentText() == "金水区"
    dialog.name.setText("张三")
    dialog.post.setText("不该保存")
    dialog.accept()
    assert dialog.result() == SetupDialog.DialogCode.Accepted
    inst = svc.installation
    assert (inst.role, svc.reference.unit(inst.unit_id).name, inst.operator, inst.cadre_id) == (
        "district", "金水区", "张三", None)
    assert svc.store.scalar("SELECT count(*) FROM cadres") == 0
    svc.close()


def test_setup_dialog_offers_the_city_for_a_city_hub(qtbot, tmp_path):
    svc = Services.open(tmp_path / "city.db")
    dialog = SetupDialog(svc)
    qtbot.addWidget(dialog)
    dialog.role.setCurrentIndex(dialog.role.findData("city"))
    assert [dialog.unit.itemText(i) for i in range(dialog.unit.count())] == ["郑州市"]
    dialog.role.setCurrentIndex(dialog.role.findData("station"))
    assert dialog.unit.currentText() == "金水区" and dialog.cadre_role.isEnabled()
    dialog.role.setCurrentIndex(dialog.role.findData("city"))
    dialog.name.setText("赵六")
    dialog.accept()
    assert svc.installation.role == "city" and svc.installation.cadre_id is None
    svc.close()
