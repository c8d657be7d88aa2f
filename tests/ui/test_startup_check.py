"""The whole-file check at start (issue #8): before the window only when there is a reason (app/integrity.py),
otherwise in the background after the window has appeared — and damage found there is told, with the way back."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app import integrity, uscc
from app.services import Services
from tests.damage import damage_table
from ui import app as gui_app
from ui import main_window


@pytest.fixture(autouse=True)
def _quiet_start(monkeypatch):
    import ui.errors

    monkeypatch.setattr(ui.errors, "install_excepthook", lambda *_a: (lambda: None))
    monkeypatch.setattr(gui_app, "tell", lambda *a: None)
    monkeypatch.setattr(gui_app, "CHECK_DELAY_MS", 0)


@pytest.fixture
def opened(monkeypatch):
    """The `check` argument of every Services.open call."""
    calls: list[bool] = []
    real = Services.open.__func__

    def spy(cls, path, *, check=False):
        calls.append(check)
        return real(cls, path, check=check)

    monkeypatch.setattr(Services, "open", classmethod(spy))
    return calls


def new_station(db: Path) -> None:
    svc = Services.open(db)
    svc.initialise(role="station", unit_name="金水区", operator="王磊")
    svc.enterprises.create({"uscc": uscc.make("91410105MA0000001"), "name": "检查用企业有限公司",
                            "unit_id": "U410105"})
    for n in range(40):  # enough audit pages to damage some
        svc.enterprises.update(svc.store.scalar("SELECT id FROM enterprises"), {"note": f"备注 {n} " * 20})
    svc.backups.take("manual")
    svc.close()


def run_session(monkeypatch, db: Path, on_window, *, wait_for_check: bool = False) -> int:
    """run_gui on `db`; `on_window(window)` once the window is shown (it decides when the window closes)."""
    real_show = main_window.MainWindow.show
    windows = []

    def show(self):
        real_show(self)
        windows.append(self)
        QTimer.singleShot(0, lambda: on_window(self))

    monkeypatch.setattr(main_window.MainWindow, "show", show)
    try:
        return gui_app.run_gui(db, None)
    finally:
        monkeypatch.setattr(main_window.MainWindow, "show", real_show)


def background_check(window) -> gui_app.BackgroundCheck | None:
    return window.findChild(gui_app.BackgroundCheck)


def close_when_checked(window) -> None:
    """Close the window once its background check has finished and any message it shows is answered (at once if it
    has none)."""
    check = background_check(window)
    if (check is None or check.outcome is not None) and QApplication.activeModalWidget() is None:
        window.close()
    else:
        QTimer.singleShot(10, lambda: close_when_checked(window))




def test_first_start_checks_before_the_window_and_a_clean_exit_lets_the_next_start_skip_it(
        qtbot, tmp_path, monkeypatch, opened):
    db = tmp_path / "zhuqi.db"
    new_station(db)
    opened.clear()
    seen = []
    assert run_session(monkeypatch, db, lambda w: (seen.append(background_check(w)), w.close())) == 0
    assert opened == [True] and seen == [None]  # no record of this file yet: checked before the window
    record = integrity.read_record(db)
    assert record is not None and not record.open and record.checked_at

    opened.clear()
    seen.clear()
    assert run_session(monkeypatch, db, lambda w: (seen.append(background_check(w)), close_when_checked(w))) == 0
    assert opened == [False]  # the window came without the whole-file check…
    assert seen[0] is not None and seen[0].outcome == "ok"  # …which ran in the background and passed
    assert integrity.read_record(db).checked_at > record.checked_at


def test_a_session_that_did_not_end_cleanly_means_a_check_before_the_window(qtbot, tmp_path, monkeypatch, opened):
    db = tmp_path / "zhuqi.db"
    new_station(db)
    run_session(monkeypatch, db, lambda w: w.close())
    # A session that saved something and was then killed: its record stays open, its writes in the -wal.
    svc = Services.open(db)
    integrity.session_started(db)
    svc.enterprises.create({"uscc": uscc.make("91410105MA0000002"), "name": "崩溃前录入的企业有限公司",
                            "unit_id": "U410105"})
    opened.clear()
    seen = []
    try:
        run_session(monkeypatch, db, lambda w: (seen.append(background_check(w)), w.close()))
    finally:
        svc.close()
    assert opened == [True] and seen == [None]


def test_damage_found_in_the_background_is_told_and_reopening_offers_the_newest_backup(
        qtbot, tmp_path, monkeypatch, opened):
    db = tmp_path / "zhuqi.db"
    new_station(db)
    run_session(monkeypatch, db, lambda w: w.close())
    damage_table(db, "audit_log", keep_mtime=True)  # not read at start: the window opens, only the whole-file check finds it
    damaged = db.read_bytes()
    told, questions = [], []

    def damage_found(window, detail):
        labels = [w.text() for w in window.statusBar().findChildren(QLabel)]
        told.append((detail, labels))
        return True  # 重新打开并恢复

    monkeypatch.setattr(gui_app, "damage_found", damage_found)
    monkeypatch.setattr(gui_app, "ask", lambda title, text, yes, no: questions.append((title, text)) or False)
    opened.clear()
    assert run_session(monkeypatch, db, lambda w: None) == 3  # the window closed itself to reopen; then 退出
    assert opened == [False, True]
    assert len(told) == 1 and told[0][0]
    assert any("数据库已损坏" in text for text in told[0][1])
    assert questions and questions[0][0] == "数据库已损坏" and "最新的完好备份" in questions[0][1]
    assert db.read_bytes() == damaged  # 退出: nothing touched
    assert integrity.reason_to_check(db).startswith("the last check found damage")


def test_the_damage_message_says_how_to_restore_and_later_keeps_the_window(qtbot, tmp_path, monkeypatch, opened):
    db = tmp_path / "zhuqi.db"
    new_station(db)
    run_session(monkeypatch, db, lambda w: w.close())
    damage_table(db, "audit_log", keep_mtime=True)
    backups_before = sorted(p.name for p in (tmp_path / "backups").glob("*.db"))
    shown = []

    def answer_later():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, answer_later)
            return
        shown.append(box.text())
        box.grab().save(str(tmp_path / "damage_message.png"))
        later = next(b for b in box.buttons() if b.text() == "稍后处理")
        later.click()

    def on_window(window):
        QTimer.singleShot(0, answer_later)
        close_when_checked(window)

    assert run_session(monkeypatch, db, on_window) == 0
    assert shown and "后台检查发现数据库文件已损坏" in shown[0]
    assert "重新打开并恢复" in shown[0] and "damaged 文件夹" in shown[0]
    # No backup of the damaged file at exit (it would fail its own check); the next start checks and offers one.
    assert sorted(p.name for p in (tmp_path / "backups").glob("*.db")) == backups_before
    assert integrity.reason_to_check(db).startswith("the last check found damage")
