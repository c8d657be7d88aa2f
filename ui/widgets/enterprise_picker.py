"""EnterprisePicker: search-as-you-type enterprise chooser (name, USCC, pinyin initials) for the visit form.

Typing shows the best matches in a list floating under the field; Up/Down move the highlight, Enter
adds the highlighted enterprise to the chosen list below, Esc closes the list. Each chosen enterprise
has an optional 经营状态 combo ("不变" by default); Delete on that row (or its ✕) removes it, and
Backspace in the empty field removes the last one. The field keeps the focus throughout.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.enterprises import STATUSES, EnterpriseService

SEARCH_DELAY_MS = 120
MAX_RESULTS = 12
VISIBLE_RESULTS = 7
UNCHANGED = "不变"


class _ChosenRow(QFrame):
    """One chosen enterprise: name, code, 经营状态 combo and a remove button."""

    remove_requested = Signal(str)

    def __init__(self, ent: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.enterprise_id: str = ent["id"]
        self.name: str = ent["name"]
        self.setObjectName("chosenEnterprise")
        self.setStyleSheet("#chosenEnterprise { background: #eef3f9; border: 1px solid #c9d7ea; border-radius: 4px; }")
        name = QLabel(ent["name"])
        name.setTextFormat(Qt.TextFormat.PlainText)
        code = QLabel(ent.get("uscc") or "")
        code.setTextFormat(Qt.TextFormat.PlainText)
        code.setProperty("role", "hint")
        current = ent.get("status") or ""
        self.status_combo = QComboBox()
        self.status_combo.addItem(f"{UNCHANGED}（{current}）" if current else UNCHANGED, None)
        for status in STATUSES:
            if status != current:
                self.status_combo.addItem(status, status)
        self.status_combo.setToolTip("本次走访看到的企业经营状态（保存时更新企业信息）；Delete 移除该企业")
        self.status_combo.installEventFilter(self)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("移除该企业（Delete）")
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.remove_button.setAutoRaise(True)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.enterprise_id))
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 2, 2)
        row.addWidget(name, 1)
        row.addWidget(code)
        row.addWidget(QLabel("经营状态"))
        row.addWidget(self.status_combo)
        row.addWidget(self.remove_button)

    def status_seen(self) -> str | None:
        return self.status_combo.currentData()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        is_key = watched is self.status_combo and event.type() == QEvent.Type.KeyPress
        if is_key and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Delete:
            self.remove_requested.emit(self.enterprise_id)
            return True
        return super().eventFilter(watched, event)


class EnterprisePicker(QWidget):
    """Search field + floating result list + the chosen enterprises (with 经营状态 seen on the visit)."""

    changed = Signal()
    """The chosen enterprises changed (added, removed)."""

    def __init__(self, enterprises: EnterpriseService, parent: QWidget | None = None):
        super().__init__(parent)
        self._service = enterprises
        self._rows: list[_ChosenRow] = []
        self.line_edit = QLineEdit()
        self.line_edit.setPlaceholderText("输入企业名称、信用代码或拼音首字母（如 zzyt），回车添加；可添加多家")
        self.line_edit.setClearButtonEnabled(True)
        self.line_edit.installEventFilter(self)
        self.line_edit.textEdited.connect(self._schedule_search)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self._results: QListWidget | None = None
        self._no_match = QLabel("")
        self._no_match.setProperty("role", "hint")
        self._no_match.setTextFormat(Qt.TextFormat.PlainText)
        self._no_match.hide()
        self._chosen_box = QVBoxLayout()
        self._chosen_box.setContentsMargins(0, 0, 0, 0)
        self._chosen_box.setSpacing(3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._chosen_box)  # chosen enterprises above the field: the result list never hides them
        layout.addWidget(self.line_edit)
        layout.addWidget(self._no_match)

    # --- chosen enterprises -----------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        return [r.enterprise_id for r in self._rows]

    def selected(self) -> list[tuple[str, str]]:
        """(id, name) of the chosen enterprises, in the order they were added."""
        return [(r.enterprise_id, r.name) for r in self._rows]

    def statuses_seen(self) -> dict[str, str]:
        """经营状态 chosen per enterprise, only where it is not 不变."""
        return {r.enterprise_id: s for r in self._rows if (s := r.status_seen())}

    def status_combo(self, enterprise_id: str) -> QComboBox | None:
        row = self._row(enterprise_id)
        return row.status_combo if row else None

    def focus_widgets(self) -> list[QWidget]:
        """Tab stops of the chosen rows (their status combos), in order; they sit above the search field."""
        return [r.status_combo for r in self._rows]

    def add_enterprise(self, ent: dict) -> None:
        """Choose `ent` (a dict with id, name and optionally uscc, status); ignored if already chosen."""
        if self._row(ent["id"]) is not None:
            return
        row = _ChosenRow(ent, self)
        row.remove_requested.connect(self.remove)
        self._rows.append(row)
        self._chosen_box.addWidget(row)
        row.show()
        self.changed.emit()

    def add_id(self, enterprise_id: str) -> None:
        """Choose an enterprise by id (e.g. 新建走访 from an enterprise's page)."""
        self.add_enterprise(self._service.get(enterprise_id))

    def remove(self, enterprise_id: str) -> None:
        row = self._row(enterprise_id)
        if row is None:
            return
        had_focus = row.status_combo.hasFocus()
        index = self._rows.index(row)
        self._rows.remove(row)
        self._chosen_box.removeWidget(row)
        row.deleteLater()
        self.changed.emit()
        if had_focus:  # keep the keyboard user near where they were
            target = self._rows[min(index, len(self._rows) - 1)].status_combo if self._rows else self.line_edit
            target.setFocus()

    def _row(self, enterprise_id: str) -> _ChosenRow | None:
        return next((r for r in self._rows if r.enterprise_id == enterprise_id), None)

    # --- searching --------------------------------------------------------------------------------
    def _schedule_search(self, _text: str = "") -> None:
        self._timer.start()

    def search_now(self) -> None:
        """Run the pending search at once (Enter and arrow keys do this before acting)."""
        self._timer.stop()
        text = self.line_edit.text().strip()
        if not text:
            self._hide_results()
            self._no_match.hide()
            return
        chosen = set(self.selected_ids())
        found = [e for e in self._service.search(text, MAX_RESULTS + len(chosen)) if e["id"] not in chosen]
        found = found[:MAX_RESULTS]
        if not found:
            self._hide_results()
            self._no_match.setText(f"没有找到“{text}”。请换个关键词，或先在“企业”页面登记该企业。")
            self._no_match.show()
            return
        self._no_match.hide()
        results = self._result_list()
        results.clear()
        for ent in found:
            extra = " · ".join(x for x in (ent.get("uscc"), ent.get("unit"), ent.get("status")) if x)
            item = QListWidgetItem(f"{ent['name']}    {extra}")
            item.setData(Qt.ItemDataRole.UserRole, ent)
            results.addItem(item)
        results.setCurrentRow(0)
        self._place_results()
        results.show()
        results.raise_()

    def results_visible(self) -> bool:
        return self._results is not None and self._results.isVisible()

    def result_names(self) -> list[str]:
        """Names in the result list (for tests and accessibility checks)."""
        if not self.results_visible():
            return []
        assert self._results is not None
        return [self._results.item(i).data(Qt.ItemDataRole.UserRole)["name"] for i in range(self._results.count())]

    def _result_list(self) -> QListWidget:
        if self._results is None:
            # A child of the window, floating above the form: no popup window, the field keeps the focus.
            results = QListWidget(self.window())
            results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            results.setObjectName("enterpriseResults")
            results.setStyleSheet("#enterpriseResults { border: 1px solid #1f5fa8; background: #ffffff; }")
            results.itemClicked.connect(self._choose_item)
            self._results = results
        return self._results

    def _place_results(self) -> None:
        results = self._results
        if results is None:
            return
        window = results.parentWidget()
        pos = self.line_edit.mapTo(window, QPoint(0, self.line_edit.height()))
        rows = min(results.count(), VISIBLE_RESULTS)
        height = rows * max(results.sizeHintForRow(0), 20) + 2 * results.frameWidth() + 2
        room = window.height() - pos.y() - 4
        if room < min(height, 80):  # not enough space below the field: open upwards
            pos = self.line_edit.mapTo(window, QPoint(0, -height))
        results.setGeometry(pos.x(), pos.y(), self.line_edit.width(), min(height, max(room, 80)))

    def _hide_results(self) -> None:
        if self._results is not None:
            self._results.hide()

    def _choose_item(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        self.add_enterprise(item.data(Qt.ItemDataRole.UserRole))
        self.line_edit.clear()
        self._hide_results()
        self.line_edit.setFocus()

    def choose_current(self) -> bool:
        """Add the highlighted result; False when there is none."""
        if self._timer.isActive():
            self.search_now()
        if not self.results_visible():
            return False
        assert self._results is not None
        self._choose_item(self._results.currentItem())
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.line_edit:
            if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
                return self._line_key(event)
            if event.type() == QEvent.Type.FocusOut:
                QTimer.singleShot(0, self, self._hide_if_unfocused)
        return super().eventFilter(watched, event)

    def _hide_if_unfocused(self) -> None:
        if not self.line_edit.hasFocus():
            self._hide_results()

    def _line_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.choose_current()
            return True  # never let Enter reach the dialog's buttons from here
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            if self._timer.isActive() or not self.results_visible():
                self.search_now()
            if self.results_visible():
                assert self._results is not None
                step = {
                    Qt.Key.Key_Down: 1,
                    Qt.Key.Key_Up: -1,
                    Qt.Key.Key_PageDown: VISIBLE_RESULTS,
                    Qt.Key.Key_PageUp: -VISIBLE_RESULTS,
                }[Qt.Key(key)]
                row = max(0, min(self._results.count() - 1, self._results.currentRow() + step))
                self._results.setCurrentRow(row)
                return True
            return False
        if key == Qt.Key.Key_Escape and self.results_visible():
            self._hide_results()
            return True
        if key == Qt.Key.Key_Backspace and not self.line_edit.text() and self._rows:
            self.remove(self._rows[-1].enterprise_id)
            return True
        return False
