"""ProblemCard: one inline problem (企业问题/诉求) in the visit form, and the pinyin type-to-select combo it uses."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)

from app.lifecycle import SEVERITIES
from app.problems import ProblemInput
from app.textsearch import initials
from ui.drafts import as_text, set_combo_data, set_combo_text

TYPE_AHEAD_RESET_MS = 900

# Which widget of the card a ValidationError.field of ProblemService.clean_input points at.
FIELD_WIDGETS = {
    "enterprise_id": "enterprise_combo",
    "problems": "enterprise_combo",
    "category_code": "category_combo",
    "description": "description_edit",
    "title": "description_edit",
    "request": "request_edit",
    "severity": "severity_combo",
    "level": "severity_combo",
    "registered_on": "description_edit",
}


class TypeAheadComboBox(QComboBox):
    """Non-editable combo where typed letters pick an item by pinyin initials or code (rz -> 融资信贷).

    Each item's search keys are its text, its pinyin initials and its data (e.g. a category code);
    the typed prefix accumulates until the user pauses, as in a file list.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._typed = ""
        self._reset = QTimer(self)
        self._reset.setSingleShot(True)
        self._reset.setInterval(TYPE_AHEAD_RESET_MS)
        self._reset.timeout.connect(self._clear_typed)

    def _clear_typed(self) -> None:
        self._typed = ""

    def _keys(self, index: int) -> tuple[str, ...]:
        text = self.itemText(index)
        data = self.itemData(index)
        return text.lower(), initials(text), str(data or "").lower()

    def select_by_typing(self, typed: str) -> bool:
        """Select the first item whose text, initials or code starts with `typed`; False if none."""
        typed = typed.lower()
        for i in range(self.count()):
            if any(k.startswith(typed) for k in self._keys(i) if k):
                self.setCurrentIndex(i)
                return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if plain and text and (text.isalnum() or "\u4e00" <= text[0] <= "\u9fff"):
            self._typed += text
            self._reset.start()
            if not self.select_by_typing(self._typed):
                self._typed = text  # start over with this key
                self.select_by_typing(self._typed)
            event.accept()
            return
        super().keyPressEvent(event)


class ProblemCard(QFrame):
    """所属企业, 类别, 性质, 问题描述 and 企业诉求 of one problem raised on the visit; `to_input()` for the service."""

    remove_requested = Signal(object)
    """The user asked to remove this card (✕ or Ctrl+Delete); carries the card."""

    def __init__(self, categories: dict[str, str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setProperty("role", "card")
        self.title_label = QLabel("问题")
        self.title_label.setStyleSheet("font-weight: bold; color: #1f5fa8;")
        self.remove_button = QToolButton()
        self.remove_button.setText("✕ 删除")
        self.remove_button.setToolTip("删除此问题（Ctrl+Delete）")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        shortcut = QShortcut(QKeySequence("Ctrl+Delete"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(lambda: self.remove_requested.emit(self))

        self.enterprise_combo = QComboBox()
        self.enterprise_combo.setPlaceholderText("请先选择走访企业")
        self.enterprise_combo.setMinimumContentsLength(14)
        self.enterprise_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.category_combo = TypeAheadComboBox()
        self.category_combo.setPlaceholderText("请选择类别（可输入拼音首字母）")
        for code, name in categories.items():
            self.category_combo.addItem(name, code)
        self.category_combo.setCurrentIndex(-1)
        self.category_combo.setToolTip("输入拼音首字母快速选择，如 rz → 融资信贷、yg → 用工人才")
        self.severity_combo = QComboBox()
        self.severity_combo.addItems(SEVERITIES)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setPlaceholderText("企业遇到的问题（必填）")
        self.description_edit.setFixedHeight(64)
        self.request_edit = QPlainTextEdit()
        self.request_edit.setTabChangesFocus(True)
        self.request_edit.setPlaceholderText("企业希望怎样解决（可选）")
        self.request_edit.setFixedHeight(44)
        self.error_label = QLabel()
        self.error_label.setProperty("role", "error")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        head = QHBoxLayout()
        head.addWidget(self.title_label)
        head.addStretch(1)
        head.addWidget(self.remove_button)
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 6, 10, 8)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(5)
        grid.addLayout(head, 0, 0, 1, 6)
        grid.addWidget(QLabel("所属企业"), 1, 0)
        grid.addWidget(self.enterprise_combo, 1, 1)
        grid.addWidget(QLabel("类别"), 1, 2)
        grid.addWidget(self.category_combo, 1, 3, 1, 3)
        grid.addWidget(QLabel("问题描述"), 2, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.description_edit, 2, 1, 1, 5)
        grid.addWidget(QLabel("企业诉求"), 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.request_edit, 3, 1, 1, 3)
        grid.addWidget(QLabel("性质"), 3, 4, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.severity_combo, 3, 5, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.error_label, 4, 0, 1, 6)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        self.setFocusProxy(self.category_combo)

    def set_number(self, n: int) -> None:
        self.title_label.setText(f"问题{n}")

    def set_enterprises(self, enterprises: list[tuple[str, str]]) -> None:
        """Offer these (id, name) as 所属企业, keeping the current choice; one enterprise is chosen for the user."""
        current = self.enterprise_combo.currentData()
        self.enterprise_combo.blockSignals(True)
        self.enterprise_combo.clear()
        for ent_id, name in enterprises:
            self.enterprise_combo.addItem(name, ent_id)
        index = self.enterprise_combo.findData(current) if current else -1
        if index < 0 and len(enterprises) == 1:
            index = 0
        self.enterprise_combo.setCurrentIndex(index)
        self.enterprise_combo.blockSignals(False)

    def first_field(self) -> QWidget:
        """Where the cursor goes when the card is added: 所属企业 if there is a choice to make, else 类别."""
        if self.enterprise_combo.count() > 1 and self.enterprise_combo.currentIndex() < 0:
            return self.enterprise_combo
        return self.category_combo

    def focus_widgets(self) -> list[QWidget]:
        """The card's tab stops, in order."""
        return [
            self.enterprise_combo,
            self.category_combo,
            self.description_edit,
            self.request_edit,
            self.severity_combo,
        ]

    def to_input(self) -> ProblemInput:
        return ProblemInput(
            enterprise_id=self.enterprise_combo.currentData() or "",
            category_code=self.category_combo.currentData() or "",
            description=self.description_edit.toPlainText(),
            request=self.request_edit.toPlainText(),
            severity=self.severity_combo.currentText(),
        )

    def draft_state(self) -> dict:
        """The card's input as plain values (for the form's autosaved draft)."""
        p = self.to_input()
        return {
            "enterprise_id": p.enterprise_id,
            "category_code": p.category_code,
            "description": p.description,
            "request": p.request,
            "severity": p.severity,
        }

    def restore_draft(self, state: dict) -> None:
        """Fill the card from `draft_state()` output; an enterprise or category no longer offered stays unchosen."""
        if state.get("enterprise_id"):
            set_combo_data(self.enterprise_combo, state["enterprise_id"])
        if state.get("category_code"):
            set_combo_data(self.category_combo, state["category_code"])
        self.description_edit.setPlainText(as_text(state.get("description")))
        self.request_edit.setPlainText(as_text(state.get("request")))
        set_combo_text(self.severity_combo, state.get("severity"))

    def is_blank(self) -> bool:
        return not (
            self.description_edit.toPlainText().strip()
            or self.request_edit.toPlainText().strip()
            or self.category_combo.currentIndex() >= 0
        )

    def show_error(self, message: str, field: str | None = None) -> QWidget:
        """Show `message` in the card and return the field widget it is about (to focus it)."""
        self.error_label.setText(message)
        self.error_label.show()
        self.setStyleSheet("ProblemCard { background: #ffffff; border: 1px solid #c62828; border-radius: 6px; }")
        return getattr(self, FIELD_WIDGETS.get(field or "", "description_edit"))

    def clear_error(self) -> None:
        self.error_label.hide()
        self.setStyleSheet("")
