"""PrintJobs: what a view calls for 打印 — build the PDF off the GUI thread, then open its print preview.

    jobs = PrintJobs(tasks, settings, self)
    jobs.preview("走访记录表", lambda progress: printing.visit_sheet(visit_id, progress=progress),
                 suggested_name="走访记录表.pdf")

`make_pdf(progress)` runs in a worker thread; `progress(done, total)` returns False once the user has
pressed 取消, and make_pdf is then expected to stop by raising (any exception): that ends quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QWidget

from ui.errors import show_error
from ui.settings import Settings
from ui.tasks import Cancelled, Progress, SyncTaskRunner, TaskRunner

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], bool]
MakePdf = Callable[[ProgressFn], bytes]


class PrintJobs:
    """Runs print jobs for one window and keeps their preview dialogs alive while they are open."""

    def __init__(
        self,
        tasks: TaskRunner | SyncTaskRunner,
        settings: Settings,
        parent_widget: QWidget | None,
        *,
        status: Callable[[str], None] | None = None,
    ):
        self._tasks = tasks
        self._settings = settings
        self._parent = parent_widget
        self._status = status
        self.dialogs: list = []  # open PrintPreviewDialogs
        """Previews currently open (a reference keeps each alive until it closes)."""

    def preview(self, title: str, make_pdf: MakePdf, *, suggested_name: str = "打印.pdf") -> Progress:
        """Generate the PDF in the background (with progress and 取消), then show it in a print preview.

        Returns the task's Progress (cancel it from code, e.g. when the window closes).
        """

        def work(progress: Progress) -> bytes:
            def report(done: int, total: int) -> bool:
                progress.update(done, total)
                return not progress.cancelled

            try:
                pdf = make_pdf(report)
            except Exception:
                if progress.cancelled:  # make_pdf stopped because we said so: not an error
                    raise Cancelled() from None
                raise
            progress.check()  # finished despite 取消: the user no longer wants the preview
            return pdf

        return self._tasks.run(
            work,
            on_done=lambda pdf: self._open(title, pdf, suggested_name),
            on_error=lambda exc: show_error(self._parent, exc),
            on_cancelled=lambda: self._say(f"已取消生成{title}。"),
            label=f"正在生成 {title}…",
            parent_widget=self._parent,
            cancellable=True,
        )

    def _open(self, title: str, pdf: bytes, suggested_name: str):
        try:
            from ui.dialogs.print_preview import PrintPreviewDialog  # PDFium loads with the first preview

            dialog = PrintPreviewDialog(pdf, title, self._settings, self._parent, suggested_name=suggested_name)
        except Exception as exc:  # an unreadable PDF arrives as AppError from PdfPages
            show_error(self._parent, exc)
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setModal(False)  # the user may keep working, or compare several previews
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _forget(self, dialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def close_all(self) -> None:
        """Close every open preview (e.g. when the main window closes)."""
        for dialog in list(self.dialogs):
            dialog.close()

    def _say(self, message: str) -> None:
        log.info(message)
        if self._status is not None:
            self._status(message)
        elif isinstance(self._parent, QMainWindow):
            self._parent.statusBar().showMessage(message, 5000)
