"""VisitDialog: the everyday 走访记录 form (visit, enterprises, cadres, attendees, problems in one save).

Keyboard first: the cursor starts in the enterprise search; Enter adds an enterprise, Tab walks the
form, Alt+A adds a problem card (and puts the cursor in it), Ctrl+Enter adds an attendee row while in
that section, Ctrl+S saves. The service validates and saves everything in one transaction; an error
is shown next to the field it names and nothing is lost from the form.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.clock import today
from app.errors import AppError, ValidationError
from app.services import Services
from app.visits import KINDS, SYMPOSIUM, VisitInput
from ui.drafts import DraftKeeper, as_text, dicts, set_combo_data, set_combo_text, set_date
from ui.settings import PreserveGeometry, Settings
from ui.widgets.attendees_editor import AttendeesEditor
from ui.widgets.enterprise_picker import EnterprisePicker
from ui.widgets.problem_card import FIELD_WIDGETS, ProblemCard

log = logging.getLogger(__name__)

DEFAULT_KIND = "实地走访"
PROBLEM_FIELDS = frozenset(FIELD_WIDGETS)  # ValidationError.field values that concern a problem card


def _error_label() -> QLabel:
    label = QLabel()
    label.setProperty("role", "error")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.hide()
    return label


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setStyleSheet("font-weight: bold; color: #243b53; padding-top: 6px;")
    return label


def _text_edit(placeholder: str, height: int) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)
    edit.setPlaceholderText(placeholder)
    edit.setFixedHeight(height)
    return edit


class VisitDialog(PreserveGeometry, QDialog):
    """New visit record; after 保存 `saved_id` holds the new visit's id."""

    def __init__(
        self, services: Services, settings: Settings, parent: QWidget | None = None, enterprise_id: str | None = None
    ):
        super().__init__(parent)
        self.services = services
        self.saved_id: str | None = None
        self.cards: list[ProblemCard] = []
        self.draft: DraftKeeper | None = None
        self._categories = services.reference.categories()
        self.setWindowTitle("新建走访记录")
        self.setObjectName("VisitDialog")
        self.setMinimumSize(760, 520)
        self.resize(900, 740)
        self._build()
        if enterprise_id:
            self.picker.add_id(enterprise_id)
        self._initial_ids = self.picker.selected_ids()
        self.fix_tab_order()
        QTimer.singleShot(0, self, self._initial_focus)
        self.init_geometry(settings)
        self.draft = DraftKeeper(self, services.drafts, "visit:new", self.draft_state, self.restore_draft)
        self.picker.changed.connect(self.draft.changed)
        self.attendees.rows_changed.connect(self.draft.changed)

    # --- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QWidget()
        form.setObjectName("visitForm")
        col = QVBoxLayout(form)
        col.setContentsMargins(14, 8, 14, 12)
        col.setSpacing(4)
        self._errors: dict[str, QLabel] = {}

        self.kind_combo = QComboBox()
        self.kind_combo.addItems(KINDS)
        self.kind_combo.setCurrentText(DEFAULT_KIND)
        self.kind_combo.currentTextChanged.connect(self._kind_changed)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        t = today()
        self.date_edit.setMaximumDate(QDate(t.year, t.month, t.day))
        self.date_edit.setMinimumDate(QDate(2000, 1, 1))
        self.date_edit.setDate(QDate(t.year, t.month, t.day))
        self.date_edit.setToolTip("走访日期（不能晚于今天）")
        self.time_edit = QLineEdit()
        self.time_edit.setPlaceholderText("可选，如 09:30")
        self.time_edit.setMaxLength(20)
        self.location_edit = QLineEdit()
        self.location_edit.setPlaceholderText("可选，如 企业会议室")
        basics = QGridLayout()
        basics.setHorizontalSpacing(8)
        basics.addWidget(QLabel("走访方式"), 0, 0)
        basics.addWidget(self.kind_combo, 0, 1)
        basics.addWidget(QLabel("日期"), 0, 2)
        basics.addWidget(self.date_edit, 0, 3)
        basics.addWidget(QLabel("时间"), 0, 4)
        basics.addWidget(self.time_edit, 0, 5)
        basics.addWidget(QLabel("地点"), 1, 0)
        basics.addWidget(self.location_edit, 1, 1, 1, 5)
        basics.setColumnStretch(5, 1)
        col.addLayout(basics)
        for key in ("kind", "visit_date", "start_time", "location"):
            col.addWidget(self._error(key))

        self.enterprise_title = _section("走访企业")
        col.addWidget(self.enterprise_title)
        self.picker = EnterprisePicker(self.services.enterprises)
        self.picker.changed.connect(self._enterprises_changed)
        col.addWidget(self.picker)
        col.addWidget(self._error("enterprise_ids", "statuses_seen"))

        col.addWidget(_section("参加干部"))
        self.cadre_list = QListWidget()
        self.cadre_list.setFlow(QListWidget.Flow.LeftToRight)
        self.cadre_list.setWrapping(True)
        self.cadre_list.setSpacing(2)
        self.cadre_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cadre_list.setToolTip("空格键勾选或取消")
        self._fill_cadres()
        self.cadre_list.setFixedHeight(36 if self.cadre_list.count() <= 8 else 62)
        col.addWidget(self.cadre_list)
        col.addWidget(self._error("cadre_ids"))

        col.addWidget(_section("企业参加人员"))
        self.attendees = AttendeesEditor()
        self.attendees.rows_changed.connect(self.fix_tab_order)
        col.addWidget(self.attendees)
        col.addWidget(self._error("attendees"))

        col.addWidget(_section("走访情况（必填）"))
        self.summary_edit = _text_edit("走访了解到的企业生产经营情况、座谈内容…", 96)
        col.addWidget(self.summary_edit)
        col.addWidget(self._error("summary"))
        col.addWidget(_section("宣讲政策"))
        self.policies_edit = _text_edit("向企业宣讲、送达的惠企政策（可选）", 50)
        col.addWidget(self.policies_edit)
        col.addWidget(self._error("policies"))
        col.addWidget(_section("后续跟进"))
        self.follow_up_edit = _text_edit("下一步跟进安排（可选）", 50)
        col.addWidget(self.follow_up_edit)
        col.addWidget(self._error("follow_up"))

        head = QHBoxLayout()
        self.problems_title = _section("问题")
        head.addWidget(self.problems_title)
        head.addStretch(1)
        self.add_problem_button = QPushButton("添加问题 (Alt+A)")
        self.add_problem_button.setAutoDefault(False)
        self.add_problem_button.clicked.connect(self.add_problem)
        head.addWidget(self.add_problem_button)
        col.addLayout(head)
        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(6)
        col.addLayout(self.cards_box)
        self.no_problems_hint = QLabel("本次走访没有收集到问题可不填；收集到的问题保存后进入“待交办”。")
        self.no_problems_hint.setProperty("role", "hint")
        col.addWidget(self.no_problems_hint)
        col.addWidget(self._error("problems"))
        col.addStretch(1)

        self.scroll = QScrollArea()
        self.scroll.setWidget(form)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.form_error = _error_label()
        self.form_error.show()  # empty when there is no error; keeps the buttons at the right
        self.save_button = QPushButton("保存 (Ctrl+S)")
        self.save_button.setProperty("role", "primary")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(14, 6, 14, 10)
        buttons.addWidget(self.form_error, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #d9e0e8;")
        outer.addWidget(line)
        outer.addLayout(buttons)

        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        QShortcut(QKeySequence("Alt+A"), self, self.add_problem)

    def _error(self, *fields: str) -> QLabel:
        label = _error_label()
        for f in fields:
            self._errors[f] = label
        return label

    def _fill_cadres(self) -> None:
        me = self.services.installation.cadre_id
        unit = self.services.installation.unit_id
        cadres = self.services.people.cadres()
        cadres.sort(key=lambda c: (c["id"] != me, c["unit_id"] != unit, c["name"]))
        for c in cadres:
            label = c["name"] if c["unit_id"] == unit else f"{c['name']}（{c['unit_name']}）"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, c["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c["id"] == me else Qt.CheckState.Unchecked)
            about = " · ".join(x for x in (c.get("post"), c.get("role"), c.get("unit_name")) if x)
            item.setToolTip(f"<p>{html.escape(about)}</p>")  # plain text even if a post looks like HTML
            self.cadre_list.addItem(item)
        if self.cadre_list.count():
            self.cadre_list.setCurrentRow(0)

    def _initial_focus(self) -> None:
        (self.summary_edit if self.picker.selected_ids() else self.picker.line_edit).setFocus()

    def fix_tab_order(self) -> None:
        """Rebuild the Tab chain in reading order (rows and cards are added after the form was built)."""
        chain: list[QWidget] = [
            self.kind_combo,
            self.date_edit,
            self.time_edit,
            self.location_edit,
            *self.picker.focus_widgets(),
            self.picker.line_edit,
            self.cadre_list,
            *self.attendees.focus_widgets(),
            self.summary_edit,
            self.policies_edit,
            self.follow_up_edit,
            self.add_problem_button,
        ]
        for card in self.cards:
            chain.extend(card.focus_widgets())
        chain += [self.save_button, self.cancel_button]
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    # --- reactions --------------------------------------------------------------------------------
    def _kind_changed(self, kind: str) -> None:
        self.enterprise_title.setText("参加座谈企业（可添加多家）" if kind == SYMPOSIUM else "走访企业")

    def _enterprises_changed(self) -> None:
        chosen = self.picker.selected()
        for card in self.cards:
            card.set_enterprises(chosen)
        self.attendees.set_enterprises(chosen)
        self._errors["enterprise_ids"].hide()
        self.fix_tab_order()

    def add_problem(self) -> ProblemCard:
        """Add an empty problem card (Alt+A) and put the cursor in it."""
        card = ProblemCard(self._categories)
        card.set_enterprises(self.picker.selected())
        card.remove_requested.connect(self.remove_problem)
        self.cards.append(card)
        self.cards_box.addWidget(card)
        card.show()  # at once, not on the next event loop pass: the next key press may be a Tab into it
        self._renumber()
        self.fix_tab_order()
        target = card.first_field()
        target.setFocus()
        QTimer.singleShot(0, card, lambda: self.scroll.ensureWidgetVisible(card, 0, 0))
        self._cards_changed()
        return card

    def remove_problem(self, card: ProblemCard) -> None:
        if card not in self.cards:
            return
        if not card.is_blank():
            answer = QMessageBox.question(self, "删除问题", f"删除“{card.title_label.text()}”？已填写的内容将丢失。")
            if answer != QMessageBox.StandardButton.Yes:
                return
        index = self.cards.index(card)
        self.cards.remove(card)
        self.cards_box.removeWidget(card)
        card.deleteLater()
        self._renumber()
        self.fix_tab_order()
        self._cards_changed()
        (
            self.cards[min(index, len(self.cards) - 1)].category_combo if self.cards else self.add_problem_button
        ).setFocus()

    def _cards_changed(self) -> None:
        if self.draft is not None:  # None while the dialog is being built or a draft restored
            self.draft.changed()

    def _renumber(self) -> None:
        for n, card in enumerate(self.cards, start=1):
            card.set_number(n)
        self.problems_title.setText(f"问题（{len(self.cards)}）" if self.cards else "问题")
        self.no_problems_hint.setVisible(not self.cards)

    # --- saving -----------------------------------------------------------------------------------
    def cadre_ids(self) -> list[str]:
        return [
            self.cadre_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.cadre_list.count())
            if self.cadre_list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def visit_input(self) -> VisitInput:
        """What the form holds, as the service's input (problems with no text at all are left out)."""
        d = self.date_edit.date()
        return VisitInput(
            kind=self.kind_combo.currentText(),
            visit_date=f"{d.year():04d}-{d.month():02d}-{d.day():02d}",
            enterprise_ids=self.picker.selected_ids(),
            cadre_ids=self.cadre_ids(),
            summary=self.summary_edit.toPlainText(),
            attendees=self.attendees.attendees(),
            policies=self.policies_edit.toPlainText(),
            follow_up=self.follow_up_edit.toPlainText(),
            location=self.location_edit.text(),
            start_time=self.time_edit.text(),
            problems=[c.to_input() for c in self.cards if not c.is_blank()],
            statuses_seen=self.picker.statuses_seen(),
        )

    def save(self) -> bool:
        """Validate and save through VisitService.create; on error show it inline and keep everything typed."""
        self._clear_errors()
        visit = self.visit_input()
        try:
            self.saved_id = self.services.visits.create(visit)
        except ValidationError as exc:
            self._show_error(exc, visit)
            return False
        log.info("Saved visit %s", self.saved_id)
        self.accept()
        return True

    def field_error(self, field: str) -> str:
        """The inline error shown for a form field (a VisitService field key), or ""."""
        label = self._errors.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    def _clear_errors(self) -> None:
        for label in set(self._errors.values()):
            label.hide()
        self.form_error.setText("")
        for card in self.cards:
            card.clear_error()

    def _show_error(self, exc: ValidationError, visit: VisitInput) -> None:
        field = exc.field or ""
        target: QWidget | None = None
        if field in PROBLEM_FIELDS:
            card = self._failing_card(exc, visit)
            if card is not None:
                target = card.show_error(exc.message, field)
                self.scroll.ensureWidgetVisible(card, 0, 0)
        if target is None:
            label = self._errors.get(field)
            if label is not None:
                label.setText(exc.message)
                label.show()
            target = self._field_widget(field, exc)
        self.form_error.setText(f"未保存：{exc.message}")
        self.form_error.show()
        if target is not None:
            target.setFocus()
            self.scroll.ensureWidgetVisible(target)

    def _failing_card(self, exc: ValidationError, visit: VisitInput) -> ProblemCard | None:
        """The card the error is about: exc.row when the service gives it, else found by re-checking each card."""
        filled = [c for c in self.cards if not c.is_blank()]
        if exc.row and 0 < exc.row <= len(filled):
            return filled[exc.row - 1]
        for card, problem in zip(filled, visit.problems, strict=True):
            if problem.enterprise_id not in visit.enterprise_ids:
                return card
            try:
                self.services.problems.clean_input(problem)
            except ValidationError:
                return card
        return None

    def _field_widget(self, field: str, exc: ValidationError) -> QWidget | None:
        if field == "attendees":
            rows = self.attendees.rows
            return (
                rows[exc.row - 1][0]
                if exc.row and exc.row <= len(rows)
                else (rows[0][0] if rows else self.attendees.add_button)
            )
        return {
            "kind": self.kind_combo,
            "visit_date": self.date_edit,
            "start_time": self.time_edit,
            "location": self.location_edit,
            "enterprise_ids": self.picker.line_edit,
            "statuses_seen": self.picker.line_edit,
            "cadre_ids": self.cadre_list,
            "summary": self.summary_edit,
            "policies": self.policies_edit,
            "follow_up": self.follow_up_edit,
        }.get(field)

    # --- draft ------------------------------------------------------------------------------------
    def draft_state(self) -> dict:
        """Everything typed or chosen, as plain JSON values (the autosaved draft; blank rows and cards left out)."""
        v = self.visit_input()
        return {
            "kind": v.kind,
            "visit_date": v.visit_date,
            "start_time": v.start_time,
            "location": v.location,
            "enterprises": [{"id": i, "status": v.statuses_seen.get(i)} for i in v.enterprise_ids],
            "cadre_ids": v.cadre_ids,
            "attendees": [
                {"name": a.name, "title": a.title, "phone": a.phone, "enterprise_id": a.enterprise_id}
                for a in v.attendees
            ],
            "summary": v.summary,
            "policies": v.policies,
            "follow_up": v.follow_up,
            "problems": [c.draft_state() for c in self.cards if not c.is_blank()],
        }

    def restore_draft(self, state: dict) -> None:
        """Put a draft back; enterprises, cadres and categories that no longer exist are skipped."""
        set_combo_text(self.kind_combo, state.get("kind"))
        set_date(self.date_edit, state.get("visit_date"))
        self.time_edit.setText(as_text(state.get("start_time")))
        self.location_edit.setText(as_text(state.get("location")))
        for ent in dicts(state.get("enterprises")):
            try:
                self.picker.add_id(str(ent.get("id")))
            except AppError:  # deleted since the draft was saved
                log.info("Draft enterprise %s no longer exists; skipped", ent.get("id"))
                continue
            combo = self.picker.status_combo(str(ent.get("id")))
            if combo is not None and ent.get("status"):
                set_combo_data(combo, ent["status"])
        if isinstance(state.get("cadre_ids"), list):
            for i in range(self.cadre_list.count()):
                item = self.cadre_list.item(i)
                chosen = item.data(Qt.ItemDataRole.UserRole) in state["cadre_ids"]
                item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
        for a in dicts(state.get("attendees")):
            self.attendees.add_row(as_text(a.get("name")), as_text(a.get("title")), as_text(a.get("phone")))
            if a.get("enterprise_id"):
                set_combo_data(self.attendees.combos[-1], a["enterprise_id"])
        self.summary_edit.setPlainText(as_text(state.get("summary")))
        self.policies_edit.setPlainText(as_text(state.get("policies")))
        self.follow_up_edit.setPlainText(as_text(state.get("follow_up")))
        for problem in dicts(state.get("problems")):
            self.add_problem().restore_draft(problem)

    # --- closing ----------------------------------------------------------------------------------
    def is_dirty(self) -> bool:
        """Anything typed or chosen beyond what the dialog opened with."""
        v = self.visit_input()
        return bool(
            v.enterprise_ids != self._initial_ids
            or v.summary.strip()
            or v.policies.strip()
            or v.follow_up.strip()
            or v.attendees
            or v.problems
            or v.location.strip()
        )

    def reject(self) -> None:
        if self.saved_id is None and self.is_dirty():
            answer = QMessageBox.question(self, "放弃填写", "走访记录还没有保存，确定放弃已填写的内容吗？")
            if answer != QMessageBox.StandardButton.Yes:
                return
        super().reject()


class VisitTextDialog(PreserveGeometry, QDialog):
    """修改文字: correct 走访情况 / 宣讲政策 / 后续跟进 of a saved visit through VisitService.update_text."""

    def __init__(self, services: Services, settings: Settings, visit_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.visit_id = visit_id
        visit = services.visits.get(visit_id)
        self.setWindowTitle(f"修改走访记录文字 — {visit['record_no']}")
        self.setObjectName("VisitTextDialog")
        self.resize(640, 520)
        self.summary_edit = _text_edit("", 150)
        self.summary_edit.setPlainText(visit["summary"] or "")
        self.policies_edit = _text_edit("", 80)
        self.policies_edit.setPlainText(visit["policies"] or "")
        self.follow_up_edit = _text_edit("", 80)
        self.follow_up_edit.setPlainText(visit["follow_up"] or "")
        for edit in (self.summary_edit, self.policies_edit, self.follow_up_edit):
            edit.setMinimumHeight(edit.height())
            edit.setMaximumHeight(16777215)
        self.error_label = _error_label()
        hint = QLabel("修改会记入操作记录（保留原文字）。")
        hint.setProperty("role", "hint")
        self.save_button = QPushButton("保存 (Ctrl+S)")
        self.save_button.setProperty("role", "primary")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("取消")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        for title, edit, stretch in (
            ("走访情况（必填）", self.summary_edit, 3),
            ("宣讲政策", self.policies_edit, 1),
            ("后续跟进", self.follow_up_edit, 1),
        ):
            layout.addWidget(_section(title))
            layout.addWidget(edit, stretch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error_label, 1)
        buttons.addWidget(hint)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        self.init_geometry(settings)
        self.draft = DraftKeeper(self, services.drafts, f"visit:{visit_id}", self.draft_state, self.restore_draft)

    def draft_state(self) -> dict:
        return {
            "summary": self.summary_edit.toPlainText(),
            "policies": self.policies_edit.toPlainText(),
            "follow_up": self.follow_up_edit.toPlainText(),
        }

    def restore_draft(self, state: dict) -> None:
        for key, edit in (
            ("summary", self.summary_edit),
            ("policies", self.policies_edit),
            ("follow_up", self.follow_up_edit),
        ):
            if isinstance(state.get(key), str):
                edit.setPlainText(state[key])

    def save(self) -> bool:
        try:
            self.services.visits.update_text(
                self.visit_id,
                summary=self.summary_edit.toPlainText(),
                policies=self.policies_edit.toPlainText(),
                follow_up=self.follow_up_edit.toPlainText(),
            )
        except ValidationError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            {"policies": self.policies_edit, "follow_up": self.follow_up_edit}.get(
                exc.field or "", self.summary_edit
            ).setFocus()
            return False
        self.accept()
        return True
