"""导出… on the list screens: ask where to save (.xlsx or .csv), then write every row of the list off the GUI thread.

    button = export_button(self, [("导出…", self.export_list)])
    export_list(self, services, settings, tasks, bus, "企业列表", lambda svc: list_table(svc, "enterprises", ids))

`build(services)` runs in the worker on its own connection and returns the RecordTable to write (app/list_export.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMenu, QPushButton, QWidget

from app.clock import today
from app.list_export import export_records
from app.record_tables import RecordTable
from app.services import Services
from ui.errors import show_error
from ui.settings import LAST_EXPORT_DIR, Settings

XLSX_FILTER = "Excel 工作簿 (*.xlsx)"
CSV_FILTER = "CSV 文件（UTF-8） (*.csv)"
FILTERS = f"{XLSX_FILTER};;{CSV_FILTER}"
_BAD_NAME = re.compile(r'[\\/:*?"<>|\s]+')

Build = Callable[[Services], RecordTable]


def export_button(parent: QWidget, actions: list[tuple[str, Callable[[], object]]], tip: str = "") -> QPushButton:
    """A 导出… button: one action runs on click, several open a menu."""
    button = QPushButton("导出…", parent)
    button.setToolTip(tip)
    if len(actions) == 1:
        button.clicked.connect(lambda: actions[0][1]())
        return button
    menu = QMenu(button)
    for label, run in actions:
        menu.addAction(label).triggered.connect(lambda _=False, r=run: r())
    button.setMenu(menu)
    return button


def ask_path(parent: QWidget, settings: Settings, title: str) -> Path | None:
    """The save dialog, opened in the last export folder; the chosen path with its suffix, or None."""
    folder = settings.get(LAST_EXPORT_DIR)
    if not folder or not Path(folder).is_dir():
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    name = f"{_BAD_NAME.sub('_', title)}_{today().isoformat()}.xlsx"
    chosen, selected = QFileDialog.getSaveFileName(parent, f"导出{title}", str(Path(folder) / name), FILTERS, XLSX_FILTER)
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in (".xlsx", ".csv"):  # the dialog adds no suffix on every platform
        path = path.with_name(path.name + (".csv" if selected == CSV_FILTER else ".xlsx"))
    return path


def export_list(parent: QWidget, services: Services, settings: Settings, tasks, bus, title: str,
                build: Build) -> Path | None:
    """Ask for a file, then build and write the table in the background; the path chosen, or None if cancelled.

    Success is said in the status bar (and the folder remembered); a failure opens the error dialog.
    """
    path = ask_path(parent, settings, title)
    if path is None:
        return None

    def work(progress) -> int:
        svc = services.reader()
        try:
            table = build(svc)
            progress.check()  # 取消 pressed while the rows were read: write nothing
            export_records(svc, path, title, table)
        finally:
            services.close_reader(svc)
        return len(table.rows)

    def done(n: int) -> None:
        settings.set(LAST_EXPORT_DIR, str(path.parent))
        bus.status_message.emit(f"已导出{title}（{n} 条）：{path}")

    tasks.run(work, on_done=done, on_error=lambda exc: show_error(parent, exc),
              on_cancelled=lambda: bus.status_message.emit(f"已取消导出{title}"),
              label=f"正在导出{title}…", parent_widget=parent)
    return path
