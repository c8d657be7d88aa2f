"""AttendeesEditor: the 企业参加人员 rows of the visit form (name, title, phone, and whose enterprise)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.visits import Attendee


class AttendeesEditor(QWidget):
    """企业参加人员: rows of 姓名 / 职务 / 电话 (and 所属企业 when the visit covers several enterprises, as a
    座谈会 does); Ctrl+Enter (inside the section) adds a row."""

    rows_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: list[tuple[QLineEdit, QLineEdit, QLineEdit, QToolButton]] = []
        self.combos: list[QComboBox] = []  # 所属企业 per row, shown only with two or more enterprises
        self._enterprises: list[tuple[str, str]] = []
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(3)
        self._header = [QLabel(t) for t in ("姓名", "职务", "电话", "所属企业")]
        for col, label in enumerate(self._header):
            label.setProperty("role", "hint")
            self._grid.addWidget(label, 0, col)
        self._grid.setColumnStretch(0, 2)
        self._grid.setColumnStretch(1, 2)
        self._grid.setColumnStretch(2, 3)
        self._grid.setColumnStretch(4, 3)
        self.add_button = QPushButton("添加人员 (Ctrl+Enter)")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(lambda: self.add_row())
        for keys in ("Ctrl+Return", "Ctrl+Enter"):  # main keyboard and keypad Enter
            shortcut = QShortcut(QKeySequence(keys), self, self.add_row)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._grid)
        layout.addLayout(buttons)
        self._update_header()

    def add_row(self, name: str = "", title: str = "", phone: str = "") -> None:
        edits = (QLineEdit(name), QLineEdit(title), QLineEdit(phone))
        edits[0].setPlaceholderText("姓名")
        edits[1].setPlaceholderText("职务")
        edits[2].setPlaceholderText("手机或固定电话")
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip("删除此行")
        remove.setAutoRaise(True)
        remove.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row = (*edits, remove)
        remove.clicked.connect(lambda: self.remove_row(row))
        combo = QComboBox()
        combo.setToolTip("该参加人员所属的企业")
        r = len(self.rows) + 1
        for col, w in enumerate(row):
            self._grid.addWidget(w, r, col if col < 3 else 4)
            w.show()
        self._grid.addWidget(combo, r, 3)
        self.rows.append(row)
        self.combos.append(combo)
        self._fill_combo(combo)
        self._update_header()
        self.rows_changed.emit()
        edits[0].setFocus()

    def remove_row(self, row: tuple) -> None:
        if row not in self.rows:
            return
        index = self.rows.index(row)
        self.rows.remove(row)
        combo = self.combos.pop(index)
        for w in (*row, combo):
            self._grid.removeWidget(w)
            w.deleteLater()
        for r, (widgets, c) in enumerate(zip(self.rows[index:], self.combos[index:], strict=True), start=index + 1):
            for col, w in enumerate(widgets):  # close the gap
                self._grid.addWidget(w, r, col if col < 3 else 4)
            self._grid.addWidget(c, r, 3)
        self._update_header()
        self.rows_changed.emit()
        (self.rows[min(index, len(self.rows) - 1)][0] if self.rows else self.add_button).setFocus()

    def set_enterprises(self, enterprises: list[tuple[str, str]]) -> None:
        """The visit's enterprises (id, name); with two or more, each row says whose person it is."""
        self._enterprises = list(enterprises)
        for combo in self.combos:
            self._fill_combo(combo)
        self._update_header()

    def _fill_combo(self, combo: QComboBox) -> None:
        keep = combo.currentData()
        combo.clear()
        for ent_id, name in self._enterprises:
            combo.addItem(name, ent_id)
        if keep is not None and (i := combo.findData(keep)) >= 0:
            combo.setCurrentIndex(i)
        combo.setVisible(len(self._enterprises) > 1)

    def _update_header(self) -> None:
        for i, label in enumerate(self._header):
            label.setVisible(bool(self.rows) and (i < 3 or len(self._enterprises) > 1))

    def attendees(self) -> list[Attendee]:
        """Rows with anything typed in them (fully blank rows are ignored)."""
        out = []
        several = len(self._enterprises) > 1
        for (name, title, phone, _), combo in zip(self.rows, self.combos, strict=True):
            values = (name.text(), title.text(), phone.text())
            if any(v.strip() for v in values):
                out.append(Attendee(name=values[0], title=values[1], phone=values[2],
                                    enterprise_id=combo.currentData() if several else None))
        return out

    def focus_widgets(self) -> list[QWidget]:
        several = len(self._enterprises) > 1
        return [w for row, combo in zip(self.rows, self.combos, strict=True)
                for w in (*row[:3], *((combo,) if several else ()))] + [self.add_button]
