"""CadreFilter: the 包联干部 filter of the list screens — 全部, 我包联的, or a cadre found by typing a name or its
pinyin initials. A city hub has 50,000 cadres: suggestions come from the database as the user types (at most
SUGGESTIONS), never as one huge list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from app.errors import AppError
from app.people import PeopleService

MINE = "__mine__"
SUGGESTIONS = 50
TYPING_PAUSE_MS = 150
ID_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2  # what the box shows once a suggestion is chosen
PLACEHOLDER = "输入姓名或拼音首字母"


class CadreFilter(QComboBox):
    """An editable combo whose data is None (全部), MINE (我包联的) or a cadre id; `currentIndexChanged` as usual."""

    suggestions_shown = Signal(int)
    """The suggestions for the text typed are in the popup (their number): tests wait on it."""

    def __init__(self, people: PeopleService, mine: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.people = people
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(20)
        self.setMinimumContentsLength(8)
        self.addItem("全部", None)
        if mine:
            self.addItem("我包联的", MINE)
        self._fixed = self.count()
        self.lineEdit().setPlaceholderText(PLACEHOLDER)
        self.setToolTip("按包联干部筛选：输入姓名或拼音首字母（如 ln）后从提示中选择；清空即为全部")
        self.suggestions = QStandardItemModel(self)
        self._completer = QCompleter(self.suggestions, self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setMaxVisibleItems(15)
        self._completer.setCompletionRole(NAME_ROLE)
        self.setCompleter(self._completer)
        self._completer.activated[QModelIndex].connect(self._suggestion_chosen)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._suggest)
        self.lineEdit().textEdited.connect(self._typed)
        self.lineEdit().editingFinished.connect(self._editing_finished)

    # --- choosing -------------------------------------------------------------------------------
    def select(self, value: Any) -> None:
        """Show `value` (None, MINE or a cadre id), adding the cadre's entry when the combo lacks it."""
        if value is None:
            self.setCurrentIndex(0)
            return
        index = self.findData(value)
        if index < 0:
            try:
                name = self.people.cadre(value)["name"]
            except AppError:
                name = str(value)
            self.addItem(name, value)
            index = self.count() - 1
        self.setCurrentIndex(index)
        self.setEditText(self.itemText(index))

    def _add_cadre(self, cadre_id: str, name: str, detail: str) -> int:
        index = self.findData(cadre_id)
        if index < 0:
            self.addItem(name, cadre_id)
            index = self.count() - 1
            self.setItemData(index, detail, Qt.ItemDataRole.ToolTipRole)
        return index

    def _typed(self, _text: str) -> None:
        self.suggestions.clear()  # not the suggestions for what was typed before
        self._typing.start()

    def _suggest(self) -> None:
        """The cadres matching the text typed, into the completer's popup."""
        text = self.lineEdit().text()
        self.suggestions.clear()
        if not text.strip() or text == self.itemText(self.currentIndex()):
            self._completer.popup().hide()
            return
        for c in self.people.find_cadres(text, limit=SUGGESTIONS):
            detail = " · ".join(x for x in (c["unit_name"], c["role"], c.get("post")) if x)
            item = QStandardItem(f"{c['name']}　{detail}")
            item.setData(c["id"], ID_ROLE)
            item.setData(c["name"], NAME_ROLE)
            item.setData(detail, Qt.ItemDataRole.ToolTipRole)
            self.suggestions.appendRow(item)
        if self.suggestions.rowCount():
            self._completer.setCompletionPrefix("")
            popup = self._completer.popup()
            # As wide as the suggestions (name, unit, role, post), not only as the narrow box.
            wide = popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width() + 2 * popup.frameWidth()
            edit = self.lineEdit()
            self._completer.complete(QRect(0, 0, max(edit.width(), wide), edit.height()))
        else:
            self._completer.popup().hide()
        self.suggestions_shown.emit(self.suggestions.rowCount())

    def _suggestion_chosen(self, index: QModelIndex) -> None:
        cadre_id = index.data(ID_ROLE)
        if not cadre_id:
            return
        position = self._add_cadre(cadre_id, index.data(NAME_ROLE), index.data(Qt.ItemDataRole.ToolTipRole))
        self.setCurrentIndex(position)
        # The completer writes the chosen row's text into the line after this signal: put the name back then.
        QTimer.singleShot(0, lambda: self.setEditText(self.itemText(self.currentIndex())))

    def choose_suggestion(self, row: int) -> None:
        """Pick the `row`-th suggestion, as a click in the popup does."""
        self._suggestion_chosen(self.suggestions.index(row, 0))

    def _editing_finished(self) -> None:
        """Enter or leaving the box: an emptied box means 全部; text that names no entry goes back to the entry."""
        if self._completer.popup().isVisible():
            return
        text = self.lineEdit().text().strip()
        if not text:
            self.setCurrentIndex(0)
        index = self.findText(text)
        if text and index >= 0:
            self.setCurrentIndex(index)
        elif text and self.suggestions.rowCount() == 1:  # one cadre fits what was typed: take it
            self.choose_suggestion(0)
            return
        self.setEditText(self.itemText(self.currentIndex()))

    def refresh(self) -> None:
        """Names of the cadres listed may have changed (after data changed): re-read them, a few rows."""
        ids = [self.itemData(i) for i in range(self._fixed, self.count())]
        names = self.people.cadre_names(ids)
        for i in range(self._fixed, self.count()):
            if self.itemData(i) in names:
                self.setItemText(i, names[self.itemData(i)])
        if not self.lineEdit().hasFocus():  # not while the user is typing a name
            self.setEditText(self.itemText(self.currentIndex()))
