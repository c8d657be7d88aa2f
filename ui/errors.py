"""Turns exceptions into what the user sees, in one place: AppError warnings, the crash dialog, sys.excepthook."""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError

log = logging.getLogger(__name__)

ERROR_TITLE = "无法完成操作"
CRASH_TITLE = "程序出错"
NO_CRASH_DIALOG_ENV = "ZHUQI_NO_CRASH_DIALOG"

# Dialogs shown with open() must outlive the call that showed them; they leave this set when closed.
_open_dialogs: set[QDialog] = set()


def crash_dialog_enabled() -> bool:
    """False when ZHUQI_NO_CRASH_DIALOG=1 (tests, CI): unexpected errors are then only logged."""
    return os.environ.get(NO_CRASH_DIALOG_ENV, "") not in ("1", "true", "yes")


def format_details(exc: BaseException, log_dir: Path | None = None) -> str:
    """Traceback plus versions, as copied by 复制详情 and sent to support."""
    lines = [
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip(),
        "",
        f"Python {platform.python_version()} · PySide6 {pyside_version} · {platform.platform()}",
    ]
    if log_dir is not None:
        lines.append(f"日志文件夹：{log_dir}")
    return "\n".join(lines)


class ExceptionDialog(QDialog):
    """Crash dialog: a friendly Chinese message, the read-only traceback and a 复制详情 button."""

    def __init__(self, exc: BaseException, parent: QWidget | None = None, *, log_dir: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle(CRASH_TITLE)
        self.setObjectName("ExceptionDialog")
        self.details = format_details(exc, log_dir)

        message = "很抱歉，程序遇到了意外错误，您刚才的操作可能没有完成。\n如果问题反复出现，请点击“复制详情”，把内容发给技术支持人员。"
        if log_dir is not None:
            message += f"\n详细记录已写入日志文件夹：{log_dir}"
        self.message_label = QLabel(message)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.details_edit = QPlainTextEdit(self.details)
        self.details_edit.setReadOnly(True)
        self.details_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details_edit.setMinimumSize(560, 220)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        self.copy_button = QPushButton("复制详情")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addWidget(self.details_edit, 1)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        """Put the details on the clipboard and acknowledge it on the button for a moment."""
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("已复制")
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText("复制详情"))


def error_message_box(parent: QWidget | None, exc: AppError) -> QMessageBox:
    """The warning box for an expected error; its text is the error's message as plain text."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(ERROR_TITLE)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(exc.message)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.button(QMessageBox.StandardButton.Ok).setText("确定")
    return box


def _open(dialog: QDialog) -> QDialog:
    _open_dialogs.add(dialog)
    dialog.finished.connect(lambda _result: _open_dialogs.discard(dialog))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def show_error(parent: QWidget | None, exc: BaseException, *, log_dir: Path | None = None) -> QDialog | None:
    """Show `exc` to the user without blocking: a warning for AppError, the crash dialog otherwise.

    Returns the dialog shown, or None when crash dialogs are turned off (the error is then only logged).
    """
    if isinstance(exc, AppError):
        return _open(error_message_box(parent, exc))
    if not crash_dialog_enabled():
        log.error("Unexpected error (crash dialog disabled)", exc_info=(type(exc), exc, exc.__traceback__))
        return None
    return _open(ExceptionDialog(exc, parent, log_dir=log_dir))


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def install_excepthook(log_dir: Path | None = None) -> Callable[[], None]:
    """Log every uncaught exception and, on the GUI thread, show the crash dialog (unless turned off).

    Returns a function that puts the previous hook back (for tests).
    """
    previous: ExceptHook = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        if isinstance(exc, AppError):
            log.warning("Uncaught AppError: %s", exc.message, exc_info=(exc_type, exc, tb))
        else:
            log.critical("Uncaught exception", exc_info=(exc_type, exc, tb))
        app = QApplication.instance()
        on_gui_thread = threading.current_thread() is threading.main_thread()
        if app is None or not on_gui_thread or not crash_dialog_enabled():
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        try:
            show_error(QApplication.activeWindow(), exc, log_dir=log_dir)
        except Exception:  # the hook must never raise: a failing dialog would loop back here
            log.exception("Could not show the crash dialog")

    sys.excepthook = hook

    def uninstall() -> None:
        sys.excepthook = previous

    return uninstall
