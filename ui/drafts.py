"""DraftKeeper: autosaves a form dialog's input as a draft (app.drafts) and offers it back when the form reopens.

A dialog builds one keeper at the end of its __init__ with its `draft_state()` / `restore_draft(state)`:

- if a draft of the key exists, `ask_restore` asks whether to restore it (恢复) or throw it away (丢弃);
- any edit (the change signals of the input widgets under the dialog) saves the draft SAVE_DELAY_MS after
  the last one, and a tick every TICK_MS saves whatever changed meanwhile (long typing, new rows);
- when the dialog finishes (saved, or cancelled — after the dialog's own "放弃填写？" where it has one)
  the draft is discarded. Only a crash or a killed program leaves a draft behind, which is the point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QDate, QObject, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDoubleSpinBox,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QWidget,
)

from app.clock import SHANGHAI, today
from app.drafts import DraftStore

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 2000  # after the last edit
TICK_MS = 10000  # at the latest, while the form keeps changing
WATCHED = "draftWatched"  # dynamic property: the widget's change signal is connected

# The signal(s) of each kind of input widget that say "the user changed something".
CHANGE_SIGNALS: tuple[tuple[type, tuple[str, ...]], ...] = (
    (QLineEdit, ("textChanged",)),
    (QPlainTextEdit, ("textChanged",)),
    (QTextEdit, ("textChanged",)),
    (QComboBox, ("currentIndexChanged", "editTextChanged")),
    (QDateTimeEdit, ("dateTimeChanged",)),  # QDateEdit too
    (QSpinBox, ("valueChanged",)),
    (QDoubleSpinBox, ("valueChanged",)),
    (QAbstractButton, ("toggled",)),  # check boxes and radio buttons
    (QListWidget, ("itemChanged",)),  # checkable items
)


def saved_when(saved_at: datetime) -> str:
    """The draft's time as the user reads it: 今天 14:32, or 2025-06-01 14:32."""
    local = saved_at.astimezone(SHANGHAI)
    return f"今天 {local:%H:%M}" if local.date() == today() else f"{local:%Y-%m-%d %H:%M}"


def restore_question(parent: QWidget | None, title: str, saved_at: datetime) -> QMessageBox:
    """The 恢复 / 丢弃 question (not shown); Esc keeps the draft: only 丢弃 throws work away."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title or "恢复未保存的内容")
    box.setText(f"发现 {saved_when(saved_at)} 自动保存的未保存内容，是否恢复？")
    box.setInformativeText("上次填写的内容没有保存（程序意外退出或被关闭）。选择“丢弃”将删除它们。")
    restore = box.addButton("恢复", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("丢弃", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(restore)
    return box


# Keys the user already chose to restore (at start, from MainWindow.offer_drafts): the form does not ask again.
RESTORE_WITHOUT_ASKING: set[str] = set()


def ask_restore(parent: QWidget | None, title: str, saved_at: datetime) -> bool:
    """True to restore the draft. Module-level so tests can answer for the user (monkeypatch)."""
    box = restore_question(parent, title, saved_at)
    box.exec()
    return box.buttonRole(box.clickedButton()) != QMessageBox.ButtonRole.DestructiveRole


class DraftKeeper(QObject):
    """Keeps the draft `key` of `dialog` in `store` while the dialog is open (see the module docstring)."""

    def __init__(
        self,
        dialog: QDialog,
        store: DraftStore,
        key: str,
        get_state: Callable[[], dict],
        set_state: Callable[[dict], None],
    ):
        super().__init__(dialog)
        self.dialog = dialog
        self.store = store
        self.key = key
        self._get_state = get_state
        self._initial = get_state()  # the form as it opened: nothing in it worth keeping
        self._saved = self._initial  # what the draft on disk holds (or would hold)
        self._open = True
        self.restored = self._offer(set_state)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SAVE_DELAY_MS)
        self._delay.timeout.connect(self.flush)
        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.flush)
        self._tick.start()
        self.watch(dialog)
        dialog.finished.connect(self._finished)

    def _offer(self, set_state: Callable[[dict], None]) -> bool:
        draft = self.store.load(self.key)
        if draft is None:
            return False
        agreed = self.key in RESTORE_WITHOUT_ASKING
        RESTORE_WITHOUT_ASKING.discard(self.key)
        if not agreed and not ask_restore(self.dialog.parentWidget() or self.dialog, self.dialog.windowTitle(),
                                          draft.saved_at):
            self.store.discard(self.key)
            log.info("Draft %s discarded by the user", self.key)
            return False
        try:
            set_state(draft.payload)
        except Exception:  # a damaged draft must never stop the form from opening
            log.exception("Draft %s could not be fully restored", self.key)
        self._saved = self._get_state()
        log.info("Draft %s restored (saved %s)", self.key, draft.saved_at.isoformat())
        return True

    def watch(self, root: QWidget) -> None:
        """Connect the change signals of `root` and the input widgets under it (each widget once)."""
        for widget in [root, *root.findChildren(QWidget)]:
            if widget.property(WATCHED):
                continue
            for kind, signals in CHANGE_SIGNALS:
                if isinstance(widget, kind):
                    for name in signals:
                        getattr(widget, name).connect(self.edited)
                    widget.setProperty(WATCHED, True)

    def edited(self, *_args) -> None:
        """Something changed: save SAVE_DELAY_MS after the last change."""
        if self._open:
            self._delay.start()

    def changed(self) -> None:
        """The form grew or shrank (a row or card added or removed): watch the new widgets and save soon."""
        if self._open:
            self.watch(self.dialog)
            self.edited()

    def flush(self) -> None:
        """Save the draft now if the form changed since the last save (or drop it when back to how it opened)."""
        self._delay.stop()
        if not self._open:
            return
        self.watch(self.dialog)  # rows and cards added since
        state = self._get_state()
        if state == self._saved:
            return
        try:
            if state == self._initial:
                self.store.discard(self.key)
            else:
                self.store.save(self.key, state)
        except OSError as exc:  # autosave is a safety net: a full disk must not interrupt the user
            log.warning("Could not autosave draft %s: %s", self.key, exc)
            return
        self._saved = state

    def _finished(self, _result: int) -> None:
        """Saved or deliberately cancelled: the draft has done its job."""
        self._open = False
        self._delay.stop()
        self._tick.stop()
        self.store.discard(self.key)


# --- helpers for restore_draft(): skip what no longer fits instead of failing ---------------------------


def qdate_from_iso(value: object) -> QDate | None:
    """QDate of an ISO date string, or None when it is not one."""
    if not isinstance(value, str):
        return None
    d = QDate.fromString(value[:10], "yyyy-MM-dd")
    return d if d.isValid() else None


def set_date(edit: QDateTimeEdit, value: object) -> None:
    d = qdate_from_iso(value)
    if d is not None and edit.minimumDate() <= d <= edit.maximumDate():
        edit.setDate(d)


def set_combo_data(combo: QComboBox, value: object) -> bool:
    """Select the item holding `value` (an id; None finds the item with no data); False when there is none."""
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def set_combo_text(combo: QComboBox, value: object) -> bool:
    """Select the item reading `value`; False, and no change, when there is none."""
    index = combo.findText(value) if isinstance(value, str) else -1
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def dicts(value: object) -> list[dict]:
    """The dict items of a draft's list field (nothing for anything else)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def as_text(value: object) -> str:
    """A draft's text field as text ("" for anything else)."""
    return value if isinstance(value, str) else ""
