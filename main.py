"""助企工作台 entry point: GUI by default, headless subcommands (init, demo, stats, check…) otherwise.

Composition root: arguments → data folder → logging → services → GUI or CLI. Nothing else builds
services, so no module reaches for a global. `--self-test` checks an installed copy (app/selftest.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # the benchmark's first-paint probe reports the time since here


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from app import SUBCOMMANDS

    if any(a in SUBCOMMANDS for a in argv) or any(a in ("-h", "--help", "--version") for a in argv):
        from app.cli import main as cli_main

        return cli_main(argv)
    parser = argparse.ArgumentParser(prog="main.py", description="助企工作台（图形界面）")
    parser.add_argument("--db", type=Path, help="数据库文件（默认在用户数据文件夹）")
    parser.add_argument(
        "--self-test", action="store_true", help="自检：在临时文件夹中检查数据库、打印、同步和界面后退出"
    )
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()

    from app.datadir import data_dir, default_db_path
    from app.logsetup import configure_logging

    db_path = args.db or default_db_path()
    log_dir = configure_logging(data_dir() / "logs")
    qt_application()
    from ui.app import run_gui

    return run_gui(db_path.resolve(), log_dir.parent if log_dir else None)


def qt_application():
    """The QApplication (run_gui reuses it): app icon, Qt's own Chinese strings for standard dialogs."""
    from PySide6.QtCore import QLibraryInfo, QTranslator
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.paths import resource_path
    from ui.selftest import FIRST_PAINT_ENV, QT_TRANSLATION, exit_after_first_paint

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(resource_path("icons", "app.png"))))  # build/make_icon.py paints it
    translator = QTranslator(app)
    if translator.load(QT_TRANSLATION, QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    if os.environ.get(FIRST_PAINT_ENV) == "1":
        exit_after_first_paint(app, STARTED)
    return app


def self_test() -> int:
    """Database, demo data, PDF, sync round trip, then Qt: 0 when all pass, 1 naming the failed step."""
    from app import selftest
    from ui.selftest import qt_steps

    return selftest.run(selftest.core_steps() + qt_steps())


if __name__ == "__main__":
    sys.exit(main())
