"""The one background-task API for views: run a function off the GUI thread, get its result on it.

    runner.run(lambda progress: service.import_file(path, progress), on_done=self._imported, label="正在导入…")

The worker function takes a `Progress`, works on plain data and never touches widgets. Its result
(or exception) comes back on the main thread through `on_done` / `on_error`. The user sees a busy
cursor after ~300 ms and a progress dialog with 取消 only if the job passes ~600 ms.
`SyncTaskRunner` has the same interface and runs the function at once (unit tests, headless use).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from app.errors import AppError
from ui.errors import show_error

log = logging.getLogger(__name__)

TaskFn = Callable[["Progress"], Any]
DoneFn = Callable[[Any], None]
ErrorFn = Callable[[BaseException], None]
CancelledFn = Callable[[], None]

BUSY_CURSOR_AFTER_MS = 300
DIALOG_AFTER_MS = 600
TICK_MS = 50


class Cancelled(Exception):
    """Raised inside a task by `Progress.check()` once the user has pressed 取消."""


class Progress:
    """Thread-safe progress of one task: the worker reports, the GUI thread reads and may cancel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._done = 0
        self._total: int | None = None
        self._text: str | None = None

    def update(self, done: int, total: int | None = None, text: str | None = None) -> None:
        """Report `done` of `total` steps (total None: unknown) and optionally a new label text."""
        with self._lock:
            self._done = max(0, int(done))
            if total is not None:
                self._total = max(0, int(total))
            if text is not None:
                self._text = text

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Ask the task to stop; it notices at its next `check()`."""
        self._cancel.set()

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested; call it between units of work."""
        if self._cancel.is_set():
            raise Cancelled()

    def snapshot(self) -> tuple[int, int | None, str | None]:
        """(done, total, text) as last reported."""
        with self._lock:
            return self._done, self._total, self._text


@dataclass(eq=False)
class _Task:
    task_id: int
    progress: Progress
    on_done: DoneFn
    on_error: ErrorFn | None
    on_cancelled: CancelledFn | None
    label: str
    parent_widget: QWidget | None
    cancellable: bool
    quiet: bool = False  # background housekeeping (e.g. the timed backup): no busy cursor, no dialog
    started: float = field(default_factory=time.monotonic)
    cursor_shown: bool = False
    dialog: _ProgressDialog | None = None


class _ProgressDialog(QProgressDialog):
    """Progress dialog whose 取消 / Esc / close request cancellation, and which ignores them when not cancellable."""

    def __init__(self, label: str, parent: QWidget | None, progress: Progress, cancellable: bool):
        super().__init__(label, "取消" if cancellable else "", 0, 0, parent)
        self._progress = progress
        self._cancellable = cancellable
        if not cancellable:
            self.setCancelButton(None)
        self.setWindowTitle("请稍候")
        self.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(360)
        self.canceled.connect(self._on_canceled)

    @Slot()
    def _on_canceled(self) -> None:
        # QProgressDialog hides itself on cancel; stay up saying so until the task has stopped.
        self._progress.cancel()
        self.setLabelText("正在取消…")
        self.show()

    def reject(self) -> None:
        if self._cancellable:
            self.canceled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._cancellable:
            super().closeEvent(event)
        else:
            event.ignore()


class _Job(QRunnable):
    """Runs one task function in a pool thread and reports the outcome through the runner's signal."""

    def __init__(self, task_id: int, fn: TaskFn, progress: Progress, report: Signal):
        super().__init__()
        self._task_id = task_id
        self._fn = fn
        self._progress = progress
        self._report = report

    def run(self) -> None:
        try:
            result = self._fn(self._progress)
        except Cancelled:
            self._report.emit(self._task_id, "cancelled", None)
        except BaseException as exc:  # delivered to on_error on the main thread
            self._report.emit(self._task_id, "error", exc)
        else:
            self._report.emit(self._task_id, "done", result)


def _default_on_error(parent: QWidget | None) -> ErrorFn:
    def handle(exc: BaseException) -> None:
        show_error(parent, exc)

    return handle


class TaskRunner(QObject):
    """Runs task functions on its own QThreadPool and delivers their outcome on the GUI thread."""

    idle = Signal()
    """Emitted on the GUI thread when the last running task has been delivered."""

    _report = Signal(int, str, object)  # task id, "done" | "error" | "cancelled", result or exception

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_threads: int | None = None,
        busy_after_ms: int = BUSY_CURSOR_AFTER_MS,
        dialog_after_ms: int = DIALOG_AFTER_MS,
    ):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        if max_threads is not None:
            self._pool.setMaxThreadCount(max_threads)
        self._busy_after = busy_after_ms / 1000
        self._dialog_after = dialog_after_ms / 1000
        self._ids = itertools.count(1)
        self._tasks: dict[int, _Task] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._report.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(
        self,
        fn: TaskFn,
        *,
        on_done: DoneFn,
        on_error: ErrorFn | None = None,
        on_cancelled: CancelledFn | None = None,
        label: str = "正在处理…",
        parent_widget: QWidget | None = None,
        cancellable: bool = True,
        quiet: bool = False,
    ) -> Progress:
        """Start `fn(progress)` in a worker thread; returns its Progress (e.g. to cancel it from code).

        On the GUI thread afterwards: `on_done(result)`; or `on_error(exc)` for any exception (default:
        ui.errors.show_error, a warning for AppError, the crash dialog otherwise); or `on_cancelled()`
        if the task raised Cancelled. A task that finishes despite a cancel request still gets on_done.
        quiet=True: the user is not shown a busy cursor or a progress dialog (housekeeping they did not ask for).
        """
        task_id = next(self._ids)
        progress = Progress()
        self._tasks[task_id] = _Task(
            task_id, progress, on_done, on_error, on_cancelled, label, parent_widget, cancellable, quiet
        )
        if not self._timer.isActive():
            self._timer.start()
        self._pool.start(_Job(task_id, fn, progress, self._report))
        return progress

    def active_count(self) -> int:
        """Tasks started whose outcome has not been delivered yet."""
        return len(self._tasks)

    def cancel_all(self) -> None:
        """Request cancellation of every running task (e.g. when the window closes)."""
        for task in self._tasks.values():
            task.progress.cancel()

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Block until every task has finished and been delivered; False on timeout. For tests and shutdown."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self._tasks:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                return False
            self._pool.waitForDone(min(remaining_ms, 50))
            QApplication.processEvents()
        return True

    @Slot()
    def _tick(self) -> None:
        if not self._tasks:
            self._timer.stop()
            return
        now = time.monotonic()
        for task in list(self._tasks.values()):
            if task.quiet:
                continue
            elapsed = now - task.started
            if not task.cursor_shown and elapsed >= self._busy_after:
                QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
                task.cursor_shown = True
            if task.dialog is None and elapsed >= self._dialog_after:
                parent = task.parent_widget or QApplication.activeWindow()
                task.dialog = _ProgressDialog(task.label, parent, task.progress, task.cancellable)
                task.dialog.show()
            if task.dialog is not None:
                self._update_dialog(task)

    def _update_dialog(self, task: _Task) -> None:
        dialog = task.dialog
        assert dialog is not None
        done, total, text = task.progress.snapshot()
        label = "正在取消…" if task.progress.cancelled else (text or task.label)
        if dialog.labelText() != label:
            dialog.setLabelText(label)
        maximum = total or 0
        if dialog.maximum() != maximum:
            dialog.setMaximum(maximum)
        value = min(done, maximum) if maximum else 0
        if dialog.value() != value and task.task_id in self._tasks:
            dialog.setValue(value)  # may process events when modal: the task can be delivered meanwhile

    @Slot(int, str, object)
    def _deliver(self, task_id: int, outcome: str, payload: object) -> None:
        task = self._tasks.pop(task_id, None)
        if task is None:
            return
        self._close_feedback(task)
        try:
            if outcome == "done":
                task.on_done(payload)
            elif outcome == "cancelled":
                log.info("Task %r cancelled", task.label)
                if task.on_cancelled is not None:
                    task.on_cancelled()
            else:
                assert isinstance(payload, BaseException)
                if not isinstance(payload, AppError):
                    log.error("Task %r failed", task.label, exc_info=(type(payload), payload, payload.__traceback__))
                handler = task.on_error or _default_on_error(task.parent_widget)
                handler(payload)
        finally:
            if not self._tasks:
                self._timer.stop()
                self.idle.emit()

    def _close_feedback(self, task: _Task) -> None:
        if task.cursor_shown:
            QApplication.restoreOverrideCursor()
            task.cursor_shown = False
        if task.dialog is not None:
            task.dialog.hide()
            task.dialog.deleteLater()
            task.dialog = None


class SyncTaskRunner:
    """TaskRunner's interface, but `run` calls the function at once in the calling thread.

    For unit tests and headless use: no threads, no cursor, no dialog. Without an `on_error` the
    exception is passed to `default_on_error`, or re-raised when there is none (so tests fail loudly).
    """

    def __init__(self, default_on_error: ErrorFn | None = None):
        self._default_on_error = default_on_error
        self.calls: list[str] = []  # labels of the tasks run, for assertions

    def run(
        self,
        fn: TaskFn,
        *,
        on_done: DoneFn,
        on_error: ErrorFn | None = None,
        on_cancelled: CancelledFn | None = None,
        label: str = "正在处理…",
        parent_widget: QWidget | None = None,
        cancellable: bool = True,
        quiet: bool = False,
    ) -> Progress:
        """Run `fn(progress)` now and call the matching callback before returning."""
        self.calls.append(label)
        progress = Progress()
        try:
            result = fn(progress)
        except Cancelled:
            if on_cancelled is not None:
                on_cancelled()
            return progress
        except Exception as exc:
            handler = on_error or self._default_on_error
            if handler is None:
                raise
            handler(exc)
            return progress
        on_done(result)
        return progress

    def active_count(self) -> int:
        """Always 0: every task is finished when `run` returns."""
        return 0

    def cancel_all(self) -> None:
        """Nothing runs in the background, so nothing to cancel."""

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Always idle."""
        return True
