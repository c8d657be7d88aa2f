"""run_gui(): QApplication, bundled font, style, crash handler, first-run setup, then the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME, APP_NAME_EN
from app.errors import AppError
from app.services import Services

log = logging.getLogger(__name__)


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

    try:
        services = Services.open(db_path)
    except AppError as exc:
        QMessageBox.critical(None, f"{APP_NAME} · 无法打开数据库", exc.message)
        return 3

    from ui.settings import Settings
    from ui.tasks import TaskRunner

    settings = Settings(db_path.parent / "settings.ini" if db_path.parent.exists() else None)
    tasks = TaskRunner()
    load_demo = False
    if not services.ctx.initialised:
        from ui.dialogs.setup_dialog import SetupDialog

        setup = SetupDialog(services)
        if setup.exec() != SetupDialog.DialogCode.Accepted:
            services.close()
            return 0
        load_demo = setup.load_demo

    from ui.main_window import MainWindow

    window = MainWindow(services, settings, tasks)
    window.show()
    if load_demo:
        window.load_demo()
    log.info("GUI started on %s", db_path)
    code = app.exec()
    tasks.wait_idle()
    services.close()
    return code
