"""Never lose work, through the GUI: 设置 → 备份与恢复, the timed backup, one window per database, and the
damaged-database path at start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

from app import uscc
from app.services import Services
from tests.damage import damage_table
from ui import app as gui_app
from ui.dialogs import settings_dialog
from ui.dialogs.settings_dialog import SettingsDialog
from ui.instance import InstanceLock, ask_owner_to_activate
from ui.main_window import MainWindow


def add_enterprise(services: Services, name: str, n: int) -> None:
    services.enterprises.create({"uscc": uscc.make(f"91410105MA{n:07d}"), "name": name, "unit_id": "U410105"})


def names(services: Services) -> set[str]:
    return {r[0] for r in services.store.query("SELECT name FROM enterprises")}


@pytest.fixture
def dialog(qtbot, services, ui_settings):
    d = SettingsDialog(services, ui_settings)
    qtbot.addWidget(d)
    d.show_backups()
    d.show()
    return d


def test_backup_now_lists_the_backup(qtbot, dialog, services):
    panel = dialog.backup_panel
    assert panel.table.rowCount() == 0 and not panel.restore_button.isEnabled()
    qtbot.mouseClick(panel.backup_button, Qt.MouseButton.LeftButton)
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 1).text() == "手动备份"
    assert "已备份" in panel.status.text()


def test_restore_selected_backup_after_confirmation(qtbot, dialog, services, monkeypatch):
    add_enterprise(services, "备份前企业有限公司", 1)
    panel = dialog.backup_panel
    qtbot.mouseClick(panel.backup_button, Qt.MouseButton.LeftButton)
    add_enterprise(services, "备份后企业有限公司", 2)
    panel.refresh()
    panel.table.selectRow(0)
    asked = []
    monkeypatch.setattr(settings_dialog, "confirm", lambda *a: asked.append(a[2]) or False)
    qtbot.mouseClick(panel.restore_button, Qt.MouseButton.LeftButton)
    assert asked and "恢复前会先把当前数据备份" in asked[0]
    assert "备份后企业有限公司" in names(services) and not dialog.restored  # 取消 changes nothing

    monkeypatch.setattr(settings_dialog, "confirm", lambda *a: True)
    qtbot.mouseClick(panel.restore_button, Qt.MouseButton.LeftButton)
    assert dialog.restored and dialog.result() == dialog.DialogCode.Accepted
    assert names(services) == {"备份前企业有限公司"}
    assert [b.reason for b in services.backups.list()] == ["restore", "manual"]


def test_general_tab_changes_the_warning_thresholds(qtbot, dialog, ui_settings):
    from ui.settings import NOT_VISITED_DAYS

    dialog.not_visited.setValue(45)
    assert ui_settings.get(NOT_VISITED_DAYS) == 45


def test_window_reopens_after_a_restore_and_backs_up_on_its_timer(qtbot, services, ui_settings, tasks, monkeypatch):
    window = MainWindow(services, ui_settings, tasks)
    qtbot.addWidget(window)
    window.show()
    assert window.backup_timer.isActive() and window.backup_timer.interval() == 30 * 60_000
    add_enterprise(services, "定时备份企业有限公司", 3)
    window.auto_backup()
    assert [b.reason for b in services.backups.list()] == ["auto"]
    assert not services.backups.changed()
    window.auto_backup()  # nothing changed since: no second copy
    assert len(services.backups.list()) == 1

    def restoring_exec(self):
        self.backup_panel.table.selectRow(0)
        monkeypatch.setattr(settings_dialog, "confirm", lambda *a: True)
        self.backup_panel.restore_selected()
        return 1

    monkeypatch.setattr(SettingsDialog, "exec", restoring_exec)
    window.open_settings(backups=True)
    assert window.restart_requested and not window.isVisible()


def test_second_instance_on_the_same_database_is_refused_and_wakes_the_first(qtbot, tmp_path):
    db = tmp_path / "zhuqi.db"
    first = InstanceLock(db)
    assert first.acquire()
    try:
        second = InstanceLock(db)
        assert not second.acquire()
        assert second.owner_pid() == os.getpid()
        with qtbot.waitSignal(first.activate_requested, timeout=3000):
            assert ask_owner_to_activate(db)
        other = InstanceLock(tmp_path / "other.db")  # another database is not affected
        assert other.acquire()
        other.release()
    finally:
        first.release()
    third = InstanceLock(db)
    assert third.acquire()
    third.release()


def test_run_gui_second_launch_is_told_and_exits(qtbot, tmp_path, monkeypatch):
    db = tmp_path / "zhuqi.db"
    first = InstanceLock(db)
    assert first.acquire()
    told = []
    monkeypatch.setattr(gui_app, "tell", lambda kind, title, text: told.append((kind, title, text)))
    try:
        import ui.errors

        monkeypatch.setattr(ui.errors, "install_excepthook", lambda *_a: (lambda: None))
        assert gui_app.run_gui(db, None) == 0
    finally:
        first.release()
    assert told and told[0][1] == "已在运行" and "已切换到那个窗口" in told[0][2]
    assert not db.exists()  # the second launch did not even open the database


def _damaged_with_backup(path: Path) -> None:
    svc = Services.open(path)
    svc.initialise(role="station", unit_name="金水区", operator="王磊")
    add_enterprise(svc, "备份里的企业有限公司", 4)
    svc.backups.take("manual")
    svc.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    svc.close()
    damage_table(path)

def test_damaged_database_at_start_offers_the_newest_backup(tmp_path, monkeypatch):
    db = tmp_path / "zhuqi.db"
    _damaged_with_backup(db)
    damaged = db.read_bytes()
    questions, told = [], []
    monkeypatch.setattr(gui_app, "tell", lambda kind, title, text: told.append((kind, title, text)))

    monkeypatch.setattr(gui_app, "ask", lambda title, text, yes, no: questions.append(text) or False)
    assert gui_app.open_or_recover(db) is None  # 退出: nothing touched
    assert db.read_bytes() == damaged and "最新的完好备份" in questions[0]

    monkeypatch.setattr(gui_app, "ask", lambda title, text, yes, no: True)
    services = gui_app.open_or_recover(db)
    try:
        assert services is not None and names(services) == {"备份里的企业有限公司"}
    finally:
        services.close()
    assert told[-1][1] == "已恢复"
    kept = list((tmp_path / "damaged").glob("*/zhuqi.db"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged


def test_damaged_database_without_backups_is_left_alone(tmp_path, monkeypatch):
    db = tmp_path / "zhuqi.db"
    db.write_bytes(os.urandom(20000))
    told = []
    monkeypatch.setattr(gui_app, "tell", lambda kind, title, text: told.append((kind, title, text)))
    assert gui_app.open_or_recover(db) is None
    assert told[0][1] == "数据库已损坏" and "没有找到可用的备份" in told[0][2]


def test_run_gui_reopens_the_database_after_a_restore(qtbot, tmp_path, monkeypatch):
    """The whole start: lock, quick check, window; a restore closes it and run_gui opens a fresh one on the
    restored data; closing that one ends the program with the lock released and an exit backup taken."""
    import ui.errors
    from ui import main_window

    db = tmp_path / "zhuqi.db"
    svc = Services.open(db)
    svc.initialise(role="station", unit_name="金水区", operator="王磊")
    add_enterprise(svc, "恢复前就有的企业有限公司", 5)
    chosen = svc.backups.take("manual")
    add_enterprise(svc, "备份之后才录入的企业有限公司", 6)
    svc.close()
    monkeypatch.setattr(ui.errors, "install_excepthook", lambda *_a: (lambda: None))
    monkeypatch.setattr(gui_app, "tell", lambda *a: None)
    windows = []
    real_show = main_window.MainWindow.show

    def show(self):
        real_show(self)
        windows.append(self)
        if len(windows) == 1:  # the user restores the backup from 设置 → 备份与恢复
            def restore():
                self.services.backups.restore(chosen.path)
                self.request_restart()
            QTimer.singleShot(0, restore)
        else:
            seen.append(names(self.services))
            QTimer.singleShot(0, self.close)

    seen = []
    monkeypatch.setattr(main_window.MainWindow, "show", show)
    assert gui_app.run_gui(db, None) == 0
    assert len(windows) == 2 and seen == [{"恢复前就有的企业有限公司"}]
    lock = InstanceLock(db)
    assert lock.acquire()  # released at the end
    lock.release()
    after = Services.open(db)
    try:
        assert "restore" in [b.reason for b in after.backups.list()]
    finally:
        after.close()
