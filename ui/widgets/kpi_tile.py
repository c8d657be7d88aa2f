"""KpiTile: a clickable card with a big number and a caption (工作台 and 统计 use it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget


class KpiTile(QFrame):
    clicked = Signal(str)

    def __init__(self, key: str, caption: str, parent: QWidget | None = None, *, clickable: bool = True):
        super().__init__(parent)
        self.key = key
        self.setProperty("role", "card")
        self.setObjectName(f"tile_{key}")
        self._clickable = clickable
        if clickable:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        self.value_label = QLabel("—")
        self.value_label.setProperty("role", "kpi")
        self.caption_label = QLabel(caption)
        self.caption_label.setProperty("role", "kpi-caption")
        layout.addWidget(self.value_label)
        layout.addWidget(self.caption_label)
        self.setMinimumWidth(150)

    def set_value(self, value, *, tooltip: str = "", alert: bool = False) -> None:
        self.value_label.setText(str(value))
        self.setToolTip(tooltip)
        self.value_label.setStyleSheet("color: #c0392b;" if alert else "")

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._clickable and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.key)
        super().mouseReleaseEvent(event)
