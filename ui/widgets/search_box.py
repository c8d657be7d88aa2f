"""SearchBox: a search field for list views that reports its text once the user pauses typing."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

DEBOUNCE_MS = 250


class SearchBox(QLineEdit):
    """QLineEdit with a clear button; `search_changed(text)` fires ~250 ms after typing stops, Esc clears."""

    search_changed = Signal(str)
    """The stripped search text changed (debounced; immediate on Enter and Esc)."""

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "搜索…", delay_ms: int = DEBOUNCE_MS):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._last_emitted = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.flush)
        self.textChanged.connect(self._timer.start)
        self.returnPressed.connect(self.flush)

    def search_text(self) -> str:
        """The current search text, stripped of surrounding spaces."""
        return self.text().strip()

    def flush(self) -> None:
        """Emit `search_changed` now if the text differs from the last emitted one."""
        self._timer.stop()
        text = self.search_text()
        if text != self._last_emitted:
            self._last_emitted = text
            self.search_changed.emit(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            self.flush()
            event.accept()
            return
        super().keyPressEvent(event)
