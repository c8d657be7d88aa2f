"""run_gui(): QApplication, bundled font, style, crash handler, one instance per database, the whole-file check
(before the window only when app/integrity.py finds a reason, otherwise in the background), the damaged-database
recovery path, first-run setup, then the main window — reopened in place after a restore from backup."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app import APP_NAME, APP_NAME_EN
from app.clock import SHANGHAI
from app.errors import AppError, DatabaseDamagedError
from app.services import Services

log = logging.getLogger(__name__)

# A session ending with this code has the database reopened (MainWindow.request_restart, after a restore).
RESTART_CODE = 0x5A51


def tell(kind: str, title: str, text: str) -> None:
    """A modal message before or after the main window exists (tests replace this)."""
    box = {"info": QMessageBox.information, "warning": QMessageBox.warning}.get(kind, QMessageBox.critical)
    box(None, f"{APP_NAME} · {title}", text)


def ask(title: str, text: str, yes: str, no: str) -> bool:
    """A yes/no question before the main window exists (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Warning, f"{APP_NAME} · {title}", text)
    yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(no, QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes_button


def run_gui(db_path: Path, log_dir: Path | None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME_EN)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("zhuqi-desk")

    from ui.errors import install_excepthook
    from ui.fonts import register_bundled_font
    from ui.style import apply_style

    register_bundled_font(app)
    apply_style(app)
    install_excepthook(log_dir)

    from ui.instance import InstanceLock, ask_owner_to_activate

    lock = InstanceLock(db_path)
    if not lock.acquire():
        if ask_owner_to_activate(db_path):
            tell("info", "已在运行", f"这个数据库已经在另一个{APP_NAME}窗口中打开，已切换到那个窗口。\n\n{db_path}")
        else:
            pid = lock.owner_pid()
            tell("warning", "已在运行", f"这个数据库正被另一个{APP_NAME}程序使用"
                                    f"{f'（进程 {pid}）' if pid else ''}，不能同时打开两次。\n\n{db_path}")
        return 0
    try:
        return _session_loop(app, db_path, lock)
    finally:
        lock.release()


def _session_loop(app: QApplication, db_path: Path, lock) -> int:
    from app.datadir import location_warning

    warning = location_warning(db_path)
    if warning:
        tell("warning", "数据库位置", warning)
    while True:
        services = open_or_recover(db_path)
        if services is None:
            return 3
        code = _session(app, services, db_path, lock)
        if code != RESTART_CODE:
            return code
        log.info("reopening %s", db_path)


def open_or_recover(db_path: Path) -> Services | None:
    """Open the database, checking the whole file first when app/integrity.py finds a reason to (otherwise the
    window checks it in the background); a damaged one is set aside and the newest good backup offered."""
    from app import backups, integrity

    reason = integrity.reason_to_check(db_path)
    if reason:
        log.info("checking %s before the window: %s", db_path, reason)
    try:
        services = Services.open(db_path, check=reason is not None)
    except DatabaseDamagedError as exc:
        log.error("damaged database %s: %s", db_path, exc.message)
        good = backups.newest_good_backup(db_path)
        if good is None:
            tell("critical", "数据库已损坏", f"{exc.message}\n\n没有找到可用的备份。为保护数据，程序不会改动这个文件。"
                                         "请把它交给维护人员处理，或用 --db 打开其他数据库。")
            return None
        when = good.taken_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        question = (f"{exc.message}\n\n最新的完好备份是 {when}（{backups.reason_label(good.reason)}）。\n"
                    "用它恢复后，损坏的文件会原样保存在数据库旁的 damaged 文件夹中，不会被覆盖或删除。\n"
                    "这个备份之后录入的内容需要重新录入。\n\n是否用这个备份恢复？")
        if not ask("数据库已损坏", question, "用此备份恢复", "退出"):
            return None
        try:
            aside = backups.recover(db_path, good)
            services = Services.open(db_path, check=True)
        except AppError as again:
            tell("critical", "恢复失败", again.message)
            return None
        integrity.check_passed(db_path)
        tell("info", "已恢复", f"已用 {when} 的备份恢复数据库。\n损坏的文件保存在：{aside}")
        return services
    except AppError as exc:
        tell("critical", "无法打开数据库", exc.message)
        return None
    if reason:
        integrity.check_passed(db_path)
    return services


def _session(app: QApplication, services: Services, db_path: Path, lock) -> int:
    from app import integrity
    from ui.settings import Settings
    from ui.tasks import TaskRunner

    integrity.session_started(db_path)  # removed (closed) below only when the session ends cleanly
    settings = Settings(db_path.parent / "settings.ini" if db_path.parent.exists() else None)
    tasks = TaskRunner()
    load_demo = False
    if not services.ctx.initialised:
        from ui.dialogs.setup_dialog import SetupDialog

        setup = SetupDialog(services)
        if setup.exec() != SetupDialog.DialogCode.Accepted:
            services.close()
            integrity.session_ended(db_path)
            return 0
        load_demo = setup.load_demo

    from ui.main_window import MainWindow

    window = MainWindow(services, settings, tasks)
    lock.activate_requested.connect(window.bring_forward)
    window.show()
    check = None if services.checked else BackgroundCheck(window, tasks, db_path)
    if load_demo:
        window.load_demo()
    else:
        QTimer.singleShot(0, window.offer_drafts)
    log.info("GUI started on %s", db_path)
    code = app.exec()
    lock.activate_requested.disconnect(window.bring_forward)
    if check is not None:
        check.stop()
    tasks.wait_idle()
    record = integrity.read_record(db_path)
    if record is not None and record.damaged:  # a backup of a damaged file fails its own check: do not try
        log.warning("no backup at exit: %s is damaged (%s)", db_path, record.damaged)
    else:
        backup_at_exit(services)
    services.close()
    integrity.session_ended(db_path)
    restart = window.restart_requested
    window.deleteLater()
    return RESTART_CODE if restart else code


CHECK_DELAY_MS = 1000


def damage_found(window, detail: str) -> bool:
    """Tell the user the background check found the file damaged; True: reopen now to restore (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Critical, f"{APP_NAME} · 数据库已损坏",
                      f"后台检查发现数据库文件已损坏。\n检查结果：{detail}\n\n"
                      "请尽快用备份恢复：点“重新打开并恢复”，程序会关闭窗口、重新检查数据库，"
                      "并提供用最新的完好备份恢复。损坏的文件会原样保存在数据库旁的 damaged 文件夹中，"
                      "不会被覆盖或删除；已自动保存的草稿不受影响。\n\n"
                      "也可以稍后处理：下次打开程序时同样会提示恢复。在此之前录入的内容可能无法保存。", parent=window)
    reopen = box.addButton("重新打开并恢复", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("稍后处理", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is reopen


class BackgroundCheck(QObject):
    """The whole-file check a start skipped (app/integrity.py): on a connection of its own, a moment after the
    window has appeared, without a busy cursor; damage found is said at once, with the way to restore."""

    def __init__(self, window, tasks, db_path: Path, delay_ms: int | None = None):
        super().__init__(window)
        self.window, self.tasks, self.db_path = window, tasks, db_path
        self.check = None
        self.outcome: str | None = None  # "ok", "damaged" or "cancelled" once known
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        self._timer.start(CHECK_DELAY_MS if delay_ms is None else delay_ms)

    def stop(self) -> None:
        """The window is closing: do not start, or stop the check running (SQLite is interrupted)."""
        self._timer.stop()
        if self.check is not None:
            self.check.cancel()

    def _start(self) -> None:
        from app import integrity
        from ui.tasks import Cancelled

        check = self.check = integrity.QuickCheck(self.db_path)

        def work(_progress):
            try:
                return check.run()
            except integrity.CheckCancelled:
                raise Cancelled() from None

        log.info("checking %s in the background", self.db_path)
        self.tasks.run(work, on_done=self._done, on_error=self._failed,
                       on_cancelled=lambda: setattr(self, "outcome", "cancelled"), quiet=True, label="正在检查数据库…")

    def _done(self, problem: str | None) -> None:
        from app import integrity

        if problem is None:
            integrity.check_passed(self.db_path)
            self.outcome = "ok"
            log.info("background check of %s passed", self.db_path)
            return
        self.outcome = "damaged"
        log.error("background check: %s is damaged: %s", self.db_path, problem)
        integrity.check_failed(self.db_path, problem)
        warning = QLabel("数据库已损坏：请重新打开程序，按提示用备份恢复　")
        warning.setStyleSheet("color: #c62828; font-weight: bold;")
        self.window.statusBar().addPermanentWidget(warning)
        if damage_found(self.window, problem):
            self.window.request_restart()

    def _failed(self, exc: BaseException) -> None:
        self.outcome = "failed"
        log.warning("background check of %s did not run: %s", self.db_path, exc)


def backup_at_exit(services: Services) -> None:
    """DESIGN §4: a backup at exit when something changed since the last one; a failure is said, never fatal."""
    try:
        made = services.backups.take("exit") if services.backups.changed() else None
    except AppError as exc:
        log.error("backup at exit failed: %s", exc.message)
        tell("warning", "退出时备份失败", f"{exc.message}\n\n数据本身已保存，只是这次没有生成备份。")
        return
    if made is not None:
        log.info("backup at exit: %s", made.path)
