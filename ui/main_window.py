"""MainWindow: navigation between the screens, menus and shortcuts, and the wiring of the app bus."""

from __future__ import annotations

import logging
from collections import Counter

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app import APP_NAME, __version__
from app.backups import AUTO_INTERVAL_MINUTES
from app.errors import AppError
from app.services import Services
from ui.bus import AppBus
from ui.errors import show_error
from ui.print_jobs import PrintJobs
from ui.settings import PreserveGeometry, Settings

log = logging.getLogger(__name__)

DRAFT_KINDS = {"visit": "走访记录", "enterprise": "企业信息", "cadre": "干部信息", "problem-step": "问题办理"}


def _view_class(module: str, name: str):
    """Import a screen's module when it is first shown: start-up loads only the 工作台's."""
    def load():
        import importlib

        return getattr(importlib.import_module(f"ui.views.{module}"), name)
    return load


_VIEW_CLASSES = {"home": _view_class("home_view", "HomeView"),
                 "enterprises": _view_class("enterprises_view", "EnterprisesView"),
                 "visits": _view_class("visits_view", "VisitsView"),
                 "problems": _view_class("problems_view", "ProblemsView"),
                 "people": _view_class("people_view", "PeopleView"),
                 "stats": _view_class("stats_view", "StatsView"),
                 "sync": _view_class("sync_view", "SyncView")}


def continue_new_visit(parent: QWidget, when: str) -> bool:
    """Ask whether to reopen the unsaved new visit now (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Question, "未保存的走访记录",
                      f"上次新建的走访记录没有保存（{when} 自动保存）。现在打开继续填写吗？", parent=parent)
    go_on = box.addButton("继续填写", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("稍后", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is go_on


def _follows_data_changed(page: QWidget) -> bool:
    return getattr(page, "follows_data_changed", False)


PAGES = (("home", "工作台"), ("enterprises", "企业"), ("visits", "走访"), ("problems", "问题"), ("people", "干部"),
         ("stats", "统计"), ("sync", "数据同步"))


class MainWindow(PreserveGeometry, QMainWindow):
    def __init__(self, services: Services, settings: Settings, tasks, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.settings = settings
        self.tasks = tasks
        self.bus = AppBus(self)
        self.setObjectName("MainWindow")
        inst = services.installation
        # Qt appends the application display name (助企工作台) to the title itself.
        self.setWindowTitle(f"{services.reference.unit(inst.unit_id).name} {inst.role_label}")
        self.resize(1280, 800)

        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setProperty("role", "nav")
        self.nav.setFixedWidth(132)
        self.stack = QStackedWidget()
        self._view_args = (services, self.bus, settings, tasks)
        # Screens are built when first shown (start-up paints the 工作台 only); a placeholder holds each place.
        self.pages: dict[str, QWidget] = {}
        self._stale: set[str] = set()
        for _key, label in PAGES:
            item = QListWidgetItem(label)
            # Style-sheet padding does not enlarge list rows' size hints: give each row its height.
            item.setSizeHint(QSize(120, 42))
            self.nav.addItem(item)
            self.stack.addWidget(QWidget())
        self.nav.currentRowChanged.connect(self._page_changed)
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.nav)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.print_jobs = PrintJobs(tasks, settings, self, status=self.bus.status_message.emit)
        self._build_menus()
        self._wire_bus()
        who = QLabel(f"{inst.operator} · {services.reference.unit(inst.unit_id).name} · {inst.role_label}　")
        self.statusBar().addPermanentWidget(who)
        self.statusBar().addPermanentWidget(QLabel(f"数据库：{services.store.path}　"))
        self.nav.setCurrentRow(0)
        self.init_geometry(settings)
        self.restart_requested = False  # run_gui reopens the database when the window closes (after a restore)
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(AUTO_INTERVAL_MINUTES * 60_000)
        self.backup_timer.timeout.connect(self.auto_backup)
        self.backup_timer.start()

    # -- navigation --------------------------------------------------------------------------------
    def page(self, key: str) -> QWidget:
        """The screen `key`, built on first use in its place in the stack."""
        view = self.pages.get(key)
        if view is None:
            view = _VIEW_CLASSES[key]()(*self._view_args)
            index = [k for k, _ in PAGES].index(key)
            placeholder = self.stack.widget(index)
            self.stack.insertWidget(index, view)
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
            self.pages[key] = view
        return view

    home = property(lambda self: self.page("home"))
    enterprises = property(lambda self: self.page("enterprises"))
    visits = property(lambda self: self.page("visits"))
    problems = property(lambda self: self.page("problems"))
    people = property(lambda self: self.page("people"))
    stats = property(lambda self: self.page("stats"))
    sync_view = property(lambda self: self.page("sync"))

    def page_key(self) -> str:
        return PAGES[self.stack.currentIndex()][0]

    def show_page(self, key: str) -> QWidget:
        self.nav.setCurrentRow([k for k, _ in PAGES].index(key))
        return self.page(key)

    def _page_changed(self, row: int) -> None:
        key = PAGES[row][0]
        fresh = key not in self.pages
        view = self.page(key)
        self.stack.setCurrentIndex(row)
        if key in self._stale:
            self._stale.discard(key)
            if not fresh:
                view.refresh()

    def _data_changed(self) -> None:
        """Refresh the visible page now and the others (already built) when they are next shown; a page that follows
        data_changed itself (the 问题 page) has refreshed already and is left alone."""
        current = self.page_key()
        self._stale = {k for k, v in self.pages.items() if k != current and not _follows_data_changed(v)}
        page = self.page(current)
        if not _follows_data_changed(page):
            page.refresh()

    def _wire_bus(self) -> None:
        b = self.bus
        b.data_changed.connect(self._data_changed)
        b.open_enterprise.connect(lambda i: self.show_page("enterprises").open_enterprise(i))
        b.open_visit.connect(lambda i: self.show_page("visits").open_visit(i))
        b.open_problem.connect(lambda i: self.show_page("problems").open_problem(i))
        b.new_visit.connect(lambda i: self.show_page("visits").new_visit(i or None))
        b.show_enterprises.connect(lambda t, f: self.show_page("enterprises").apply_filter(t, f))
        b.show_visits.connect(lambda t, f: self.show_page("visits").apply_filter(t, f))
        b.show_problems.connect(lambda t, f: self.show_page("problems").apply_filter(t, f))
        b.status_message.connect(lambda m: self.statusBar().showMessage(m, 10_000))

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, name=None):
            a = QAction(text, self)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            if name:
                a.setObjectName(name)
            a.triggered.connect(slot)
            menu.addAction(a)
            self.addAction(a)
            return a

        m = self.menuBar().addMenu("文件(&F)")
        action(m, "导入名单…", lambda: self.import_roster(), name="act_import_roster")
        m.addSeparator()
        action(m, "备份与恢复…", lambda: self.open_settings(backups=True), name="act_backups")
        m.addSeparator()
        action(m, "退出", self.close, QKeySequence.StandardKey.Quit)
        m = self.menuBar().addMenu("操作(&O)")
        self.new_visit_action = action(m, "新建走访", lambda: self.bus.new_visit.emit(""), "Ctrl+N", "act_new_visit")
        action(m, "新建企业", self._new_enterprise, "Ctrl+Shift+E", "act_new_enterprise")
        self.find_action = action(m, "查找", self._focus_search, "Ctrl+F", "act_find")
        self.print_action = action(m, "打印…", self._print, "Ctrl+P", "act_print")
        action(m, "刷新", lambda: self.bus.data_changed.emit(), "F5", "act_refresh")
        m.addSeparator()
        for i, (key, label) in enumerate(PAGES, start=1):
            action(m, f"转到“{label}”", lambda _=False, k=key: self.show_page(k), f"Ctrl+{i}")
        m = self.menuBar().addMenu("工具(&T)")
        action(m, "附加签字扫描件（按编号）…", self.attach_scan_by_number, "Ctrl+Shift+A", "act_attach_scan")
        m.addSeparator()
        action(m, "加载演示数据…", self.load_demo, name="act_demo")
        action(m, "导入节假日日历…", self._import_calendar)
        m.addSeparator()
        action(m, "设置…", self.open_settings, name="act_settings")
        m = self.menuBar().addMenu("帮助(&H)")
        action(m, "关于", self._about)

    def _focus_search(self) -> None:
        page = self.stack.currentWidget()
        if not hasattr(page, "focus_search"):
            page = self.show_page("enterprises")
        page.focus_search()

    def _print(self) -> None:
        page = self.stack.currentWidget()
        if hasattr(page, "print_current"):
            page.print_current(self.print_jobs)
        else:
            self.bus.status_message.emit("本页没有可打印的表单：请在走访、问题、企业或统计页使用“打印”（Ctrl+P）。")

    def _new_enterprise(self) -> None:
        view = self.show_page("enterprises")
        view.new_enterprise()

    # -- window and housekeeping ---------------------------------------------------------------------
    def offer_drafts(self) -> None:
        """After a crash: say which forms have unsaved drafts; offer to reopen an unsaved new visit at once."""
        from ui import drafts

        keys = self.services.drafts.keys()
        if not keys:
            return
        kinds = Counter(DRAFT_KINDS.get(k.split(":")[0], "表单") for k in keys)
        summary = "、".join(f"{kind} {n} 份" for kind, n in kinds.items())
        self.bus.status_message.emit(f"上次有未保存的表单内容（{summary}），重新打开对应的表单即可恢复。")
        draft = self.services.drafts.load("visit:new")
        if draft is not None and continue_new_visit(self, drafts.saved_when(draft.saved_at)):
            drafts.RESTORE_WITHOUT_ASKING.add("visit:new")
            self.bus.new_visit.emit("")

    def bring_forward(self) -> None:
        """Another launch on this database asked for this window (ui/instance.py)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def auto_backup(self) -> None:
        """The 30-minute backup, when something changed; on its own connection, without disturbing the user."""
        backups = self.services.backups
        if not backups.changed():
            return
        state = backups.state()
        services = self.services

        def work(_progress):
            reader = services.reader()
            try:
                return reader.backups.take("auto")
            finally:
                services.close_reader(reader)

        def failed(exc: BaseException) -> None:
            log.error("timed backup failed: %s", exc)
            message = exc.message if isinstance(exc, AppError) else str(exc)
            self.bus.status_message.emit(f"自动备份失败：{message}")

        self.tasks.run(work, on_done=lambda _made: backups.mark_backed_up(state), on_error=failed, quiet=True,
                       label="正在备份…")

    def open_settings(self, backups: bool = False) -> None:
        from ui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self.settings, self)
        if backups:
            dialog.show_backups()
        dialog.exec()
        if dialog.restored:
            self.request_restart()

    def request_restart(self) -> None:
        """Close and let run_gui reopen the database: every view and cache starts from the restored data."""
        self.restart_requested = True
        self.close()

    # -- tools -------------------------------------------------------------------------------------
    def load_demo(self) -> None:
        from app.demo import business_rows

        if business_rows(self.services):
            QMessageBox.information(
                self, "加载演示数据",
                "演示数据只能载入空的数据库，以免与真实工作记录混在一起并被同步上报。\n"
                "如需体验，请用命令 python main.py demo --db 演示.db 生成演示数据库，"
                "再用 python main.py --db 演示.db 打开。")
            return
        services = self.services

        def work(progress):
            from app.demo import generate

            def report(done: int, total: int, text: str | None = None) -> bool:
                progress.update(done, total, text)
                return not progress.cancelled  # False makes generate() roll everything back

            svc = services.reader()
            try:
                return generate(svc, size="small", progress=report)
            finally:
                services.close_reader(svc)

        def done(counts) -> None:
            self.bus.data_changed.emit()
            self.bus.status_message.emit(
                f"演示数据已载入：企业 {counts['enterprises']} 家，走访 {counts['visits']} 次，"
                f"问题 {counts['problems']} 件。")

        self.tasks.run(work, on_done=done, on_cancelled=lambda: None, label="正在生成演示数据…",
                       parent_widget=self)

    def attach_scan_by_number(self, number: str | None = None, path: str | None = None) -> str | None:
        """The signed paper copy comes back scanned: find its record by the number under the QR code."""
        if number is None:
            number, ok = QInputDialog.getText(
                self, "附加签字扫描件", "输入或用扫码枪扫描打印件右上角二维码下的编号（走访 ZF…，问题 WT…）：")
            if not ok or not number.strip():
                return None
        owner = self.services.attachments.find_owner(number)
        if owner is None:
            QMessageBox.warning(self, "附加签字扫描件", f"找不到编号为“{number.strip()}”的走访记录或问题。")
            return None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "选择扫描件", "", "扫描件 (*.pdf *.jpg *.jpeg *.png *.tif *.tiff)")
            if not path:
                return None
        try:
            attachment_id = self.services.attachments.add(owner[0], owner[1], path)
        except Exception as exc:  # noqa: BLE001 - shown to the user in one place
            show_error(self, exc)
            return None
        if owner[0] == "visits":
            self.bus.open_visit.emit(owner[1])
        else:
            self.bus.open_problem.emit(owner[1])
        self.bus.status_message.emit(f"扫描件已附加到 {number.strip()}。")
        return attachment_id

    def import_roster(self, path: str | None = None):
        """导入名单…: an enterprise, cadre or 包联 list from .xlsx/.csv, previewed row by row before it is written."""
        from ui.dialogs.roster_import_dialog import open_roster_import

        return open_roster_import(self, self.services, self.bus, self.settings, self.tasks, path)

    def _import_calendar(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "导入节假日日历", "", "日历文件 (*.json)")
        if not path:
            return
        try:
            cal = self.services.ctx.import_calendar(path)
        except Exception as exc:  # noqa: BLE001 - shown to the user in one place
            show_error(self, exc)
            return
        self.bus.status_message.emit(f"节假日日历已导入，覆盖 {cal.first_year}–{cal.last_year} 年")

    def _about(self) -> None:
        from app.sync.identity import describe

        inst = self.services.installation
        keys = describe(self.services.store, inst.id)
        key_state = "正常" if keys["key_file_ok"] else "缺失或损坏"
        cal = self.services.ctx.calendar
        QMessageBox.about(self, f"关于{APP_NAME}",
                          f"{APP_NAME}（Zhuqi Desk）{__version__}\n"
                          "“万人助万企”助企干部工作台：企业包联、走访记录、问题交办与跟踪、统计。\n"
                          f"节假日日历：{cal.first_year}–{cal.last_year} 年\n"
                          f"本机标识：{inst.id}\n签名密钥指纹：{keys['signing_fingerprint']}\n"
                          f"加密密钥指纹：{keys['encryption_fingerprint']}（私钥文件{key_state}）\n"
                          f"数据库：{self.services.store.path}\n本程序完全离线运行，不进行任何网络连接。")
