"""StepDialog: the small form of one problem workflow step (交办, 进展, 办结, 回访…), for ProblemDetail.

Each step shows its hint and only the fields it needs; the service validates, and its errors are shown
inline under the field they name while the input stays. After `accept`, `warnings` holds what the
service warned about (e.g. a deadline past the loaded holiday calendar) for the status bar.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app import lifecycle as lc
from app.clock import parse_date, today
from app.errors import AppError, TransitionError, ValidationError
from app.services import Services
from app.workcal import WorkCalendar
from ui.drafts import DraftKeeper, as_text, set_combo_data, set_combo_text, set_date

WEEKDAYS = "一二三四五六日"
ID_ROLE = Qt.ItemDataRole.UserRole

# kind -> (label of the note field, required, placeholder)
NOTE_FIELDS: dict[str, tuple[str, bool, str]] = {
    "交办": ("交办说明", False, "交办要求、联系人等（可不填）"),
    "接收": ("备注", False, "可不填"),
    "进展": ("进展情况", True, "已做的工作、下一步安排"),
    "延期": ("延期理由", True, "需要延期的原因"),
    "催办": ("催办内容", False, "催办方式、对象（可不填）"),
    "督办": ("督办要求", False, "督办事项和要求（可不填）"),
    "上报": ("上报理由", True, "需要上级协调解决的事项"),
    "办结": ("结果说明", True, "办理结果的具体情况"),
    "回访": ("回访情况", False, "企业反馈意见（可不填）"),
    "销号": ("销号说明", False, "可不填"),
    "重办": ("重办原因", True, "企业不满意的原因或结果不实的情况"),
}
OUTCOME_TIPS = {
    "已解决": "问题已实际解决，计入解决率",
    "已解释说明": "暂不能解决，已向企业解释说明（不计入解决率）",
    "长期推进": "需长期推进，已明确推进计划（不计入解决率）",
}


def day_text(d: date) -> str:
    return f"{d.isoformat()}（周{WEEKDAYS[d.weekday()]}）"


def qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def date_edit(value: date, minimum: date | None = None, maximum: date | None = None) -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    if minimum is not None:
        edit.setMinimumDate(qdate(minimum))
    if maximum is not None:
        edit.setMaximumDate(qdate(maximum))
    edit.setDate(qdate(value))
    return edit


def radio_group(options: tuple[str, ...], tips: dict[str, str] | None = None) -> tuple[QWidget, QButtonGroup]:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    group = QButtonGroup(box)
    for option in options:
        button = QRadioButton(option)
        button.setObjectName(option)
        if tips and option in tips:
            button.setToolTip(tips[option])
        group.addButton(button)
        lay.addWidget(button)
    lay.addStretch(1)
    return box, group


def checked_text(group: QButtonGroup) -> str | None:
    button: QAbstractButton | None = group.checkedButton()
    return button.text() if button is not None else None


class DeadlinePicker(QWidget):
    """办理时限: a template (N working days after the step date, previewed live) or an explicit date."""

    changed = Signal()

    def __init__(
        self,
        calendar: WorkCalendar,
        templates: list[dict],
        default_id: str | None,
        start: date,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.calendar = calendar
        self.templates = {t["id"]: t for t in templates}
        self.start = start
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        row = QHBoxLayout()
        self.combo = QComboBox()
        for t in templates:
            self.combo.addItem(f"{t['name']}：{t['solve_days']}个工作日", t["id"])
            self.combo.setItemData(self.combo.count() - 1, t.get("note") or "", Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem("指定日期", None)
        self.combo.setCurrentIndex(max(0, self.combo.findData(default_id)))
        row.addWidget(self.combo, 1)
        self.date = date_edit(calendar.add_workdays(start, 7), minimum=start)
        row.addWidget(self.date)
        lay.addLayout(row)
        self.preview = QLabel()
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setObjectName("deadline_preview")
        lay.addWidget(self.preview)
        self.warning = QLabel()
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #a15c00;")
        self.warning.hide()
        lay.addWidget(self.warning)
        self.combo.currentIndexChanged.connect(self._update)
        self.date.dateChanged.connect(self._update)
        self._update()

    def template_id(self) -> str | None:
        return self.combo.currentData()

    def set_start(self, start: date) -> None:
        self.start = start
        self.date.setMinimumDate(qdate(start))
        self._update()

    def deadline(self) -> date:
        tpl = self.templates.get(self.template_id() or "")
        if tpl is not None:
            return self.calendar.add_workdays(self.start, int(tpl["solve_days"]))
        return self.date.date().toPython()

    def values(self) -> dict:
        """The form fields ProblemService.take_step expects for 交办 / 重办."""
        tpl = self.template_id()
        return {"template_id": tpl} if tpl else {"deadline": self.deadline().isoformat()}

    def _update(self) -> None:
        tpl = self.templates.get(self.template_id() or "")
        self.date.setEnabled(tpl is None)
        deadline = self.deadline()
        if tpl is not None:
            self.date.blockSignals(True)
            self.date.setDate(qdate(deadline))
            self.date.blockSignals(False)
            text = f"{tpl['solve_days']}个工作日 → {day_text(deadline)}"
        else:
            n = self.calendar.workdays_between(self.start, deadline)
            text = f"{day_text(deadline)}，自办理日期起 {n} 个工作日"
        name = self.calendar.day_name(deadline)
        if name:
            text += f"（{name}）"
        self.preview.setText(text)
        warning = self.calendar.range_warning(deadline)
        self.warning.setText(warning or "")
        self.warning.setVisible(bool(warning))
        self.changed.emit()


class UnitChecklist(QWidget):
    """协办单位: a filterable list of units with check boxes."""

    def __init__(self, units: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("输入名称筛选单位")
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setFixedHeight(110)
        for unit_id, name in units:
            item = QListWidgetItem(name)
            item.setData(ID_ROLE, unit_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        lay.addWidget(self.list)
        self.summary = QLabel("未选择（可不选）")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setProperty("role", "hint")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.filter.textChanged.connect(self._filter)
        self.list.itemChanged.connect(self._summarise)

    def _filter(self, text: str) -> None:
        text = text.strip()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(text) and text not in item.text())

    def _summarise(self) -> None:
        names = [
            self.list.item(i).text()
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]
        self.summary.setText(f"已选 {len(names)} 个：" + "、".join(names) if names else "未选择（可不选）")

    def checked_ids(self) -> list[str]:
        return [
            self.list.item(i).data(ID_ROLE)
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]


class StepDialog(QDialog):
    """One workflow step of one problem; accept() records it through ProblemService.take_step."""

    def __init__(self, services: Services, pid: str, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.pid = pid
        self.kind = kind
        self.step = lc.STEPS[kind]
        self.problem = services.problems.get(pid)
        self.calendar = services.ctx.calendar
        self.warnings: list[str] = []
        self.widgets: dict[str, QWidget] = {}  # form field name -> its input widget
        self.errors: dict[str, QLabel] = {}  # form field name -> its inline error label
        self.groups: dict[str, QButtonGroup] = {}
        self.setObjectName(f"step_dialog_{kind}")
        self.setWindowTitle(f"{self.step.label} — {self.problem['record_no']}")
        self.setMinimumWidth(540)

        root = QVBoxLayout(self)
        root.setSpacing(8)
        title = QLabel(f"{self.step.label}：{self.problem['title']}")
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        root.addWidget(title)
        hint = QLabel(self.step.hint)
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        root.addWidget(hint)
        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setTextFormat(Qt.TextFormat.PlainText)
        self.general_error.setWordWrap(True)
        self.general_error.setStyleSheet(
            "color: #c62828; background: #fdecea; border: 1px solid #f5c2c0; border-radius: 3px; padding: 6px;"
        )
        self.general_error.hide()
        root.addWidget(self.general_error)

        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setVerticalSpacing(8)
        root.addLayout(self.form)
        events = services.problems.events(pid)
        last = parse_date(events[-1]["on_date"]) if events else None
        now = today()
        self.date_edit = date_edit(now, minimum=min(last, now) if last else None, maximum=now)
        self._date_row(
            "办理日期*",
            self.date_edit,
            "on_date",
            f"不晚于今天，不早于上一环节（{last.isoformat()}）" if last else "不晚于今天",
        )
        builders = {
            "交办": self._build_assign,
            "重办": self._build_reopen,
            "延期": self._build_extend,
            "督办": self._build_supervise,
            "催办": self._build_urge,
            "上报": self._build_escalate,
            "办结": self._build_resolve,
            "回访": self._build_revisit,
        }
        if kind in builders:
            builders[kind]()  # the step's own fields
        note_label, required, placeholder = NOTE_FIELDS[kind]
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(placeholder)
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setFixedHeight(90 if required else 64)
        self._row(note_label + ("*" if required else ""), self.note_edit, "note")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.step.label)
        self.ok_button.setProperty("role", "primary")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        root.addStretch(1)
        root.addWidget(self.buttons)
        self._initial_focus().setFocus()
        key = f"problem-step:{pid}:{kind}"
        self.draft = DraftKeeper(self, services.drafts, key, self.draft_state, self.restore_draft)

    # --- form rows ------------------------------------------------------------------------------------
    def _row(self, label: str, widget: QWidget, field: str) -> None:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(widget)
        error = QLabel()
        error.setProperty("role", "error")
        error.setTextFormat(Qt.TextFormat.PlainText)
        error.setWordWrap(True)
        error.hide()
        lay.addWidget(error)
        self.form.addRow(label, box)
        self.widgets[field] = widget
        self.errors[field] = error

    def _date_row(self, label: str, edit: QDateEdit, field: str, hint: str = "") -> None:
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        edit.setFixedWidth(150)
        lay.addWidget(edit)
        if hint:
            note = QLabel(hint)
            note.setTextFormat(Qt.TextFormat.PlainText)
            note.setProperty("role", "hint")
            lay.addWidget(note)
        lay.addStretch(1)
        self._row(label, box, field)
        self.widgets[field] = edit

    def _info(self, label: str, text: str, *, alert: bool = False) -> QLabel:
        value = QLabel(text)
        value.setTextFormat(Qt.TextFormat.PlainText)
        value.setWordWrap(True)
        if alert:
            value.setStyleSheet("color: #c62828; font-weight: 600;")
        self.form.addRow(label, value)
        return value

    def _radios(
        self,
        label: str,
        field: str,
        options: tuple[str, ...],
        default: str | None = None,
        tips: dict[str, str] | None = None,
    ) -> QButtonGroup:
        box, group = radio_group(options, tips)
        for button in group.buttons():
            button.setChecked(button.text() == default)
        self._row(label, box, field)
        self.groups[field] = group
        return group

    def _deadline_picker(self) -> None:
        p = self.problem
        default = self.services.reference.template_for(p["category_code"], p["severity"])["id"]
        self.deadline_picker = DeadlinePicker(
            self.calendar,
            self.services.reference.templates(),
            p.get("template_id") or default,
            self.date_edit.date().toPython(),
        )
        self.date_edit.dateChanged.connect(lambda d: self.deadline_picker.set_start(d.toPython()))
        self._row("办理时限*", self.deadline_picker, "deadline")
        self.errors["template_id"] = self.errors["deadline"]

    def _initial_focus(self) -> QWidget:
        """The first field the user has to fill (the date is usually today and stays)."""
        own = {"交办": "lead_unit_id", "延期": "deadline", "上报": "level", "办结": "outcome", "回访": "verdict"}
        field = own.get(self.kind)
        if field in self.groups:
            return self.groups[field].buttons()[0]
        return self.widgets.get(field or "", self.note_edit)

    # --- per step -------------------------------------------------------------------------------------
    def _build_assign(self) -> None:
        units = [(u.id, u.name) for u in self.services.reference.departments()]
        self.lead_combo = QComboBox()
        self.lead_combo.setEditable(True)
        self.lead_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for unit_id, name in units:
            self.lead_combo.addItem(name, unit_id)
        completer = QCompleter(self.lead_combo.model(), self.lead_combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.lead_combo.setCompleter(completer)
        self.lead_combo.setCurrentIndex(-1)
        self.lead_combo.lineEdit().setPlaceholderText("输入名称查找，如“人社”")
        self._row("牵头单位*", self.lead_combo, "lead_unit_id")
        self.assist = UnitChecklist(units)
        self._row("协办单位", self.assist, "assist_unit_ids")
        self._deadline_picker()

    def _build_reopen(self) -> None:
        p = self.problem
        last = f"{p.get('outcome') or '—'}；企业评价：{p.get('satisfaction') or '未回访'}"
        self._info("上次结果", last, alert=p.get("satisfaction") == lc.UNSATISFIED)
        if p.get("lead_unit_name"):
            self._info("牵头单位", p["lead_unit_name"])
        self._deadline_picker()

    def _build_extend(self) -> None:
        p = self.problem
        self._info("当前时限", p.get("deadline") or "—")
        if p.get("original_deadline") and p["original_deadline"] != p.get("deadline"):
            self._info("原时限", f"{p['original_deadline']}（用于统计，不因延期改变）")
        current = parse_date(p.get("deadline")) or today()
        self.new_deadline = date_edit(self.calendar.add_workdays(current, 5), minimum=current + timedelta(days=1))
        self._date_row("延期至*", self.new_deadline, "deadline", "须晚于当前时限")
        self.approver_edit = QLineEdit()
        self.approver_edit.setPlaceholderText("批准延期的领导姓名")
        self._row("批准人*", self.approver_edit, "approver")

    def _build_supervise(self) -> None:
        p = self.problem
        if p.get("overdue"):
            self._info("逾期情况", f"已逾期{p['overdue_workdays']}个工作日（时限 {p['deadline']}）", alert=True)
        else:
            self._info("办理时限", p.get("deadline") or "—")
        start = self.date_edit.date().toPython()
        self.reply_by = date_edit(self.calendar.add_workdays(start, 3), minimum=start)
        self.date_edit.dateChanged.connect(lambda d: self.reply_by.setMinimumDate(d))
        self._date_row("要求回复日期*", self.reply_by, "reply_by", "默认 3 个工作日内回复")

    def _build_urge(self) -> None:
        p = self.problem
        if p.get("overdue"):
            self._info("逾期情况", f"已逾期{p['overdue_workdays']}个工作日（时限 {p['deadline']}）", alert=True)
        elif p.get("deadline"):
            self._info("办理时限", f"{p['deadline']}（剩{p.get('workdays_left')}个工作日）")

    def _build_escalate(self) -> None:
        current = self.problem["level"]
        self._info("当前层级", current)
        self.level_combo = QComboBox()
        for level in lc.LEVELS[lc.LEVELS.index(current) + 1 :]:
            self.level_combo.addItem(level)
        self._row("上报至*", self.level_combo, "level")

    def _build_resolve(self) -> None:
        self._radios("办理结果*", "outcome", lc.OUTCOMES, tips=OUTCOME_TIPS)

    def _build_revisit(self) -> None:
        p = self.problem
        self._info("办理结果", f"{p.get('outcome') or '—'}：{p.get('outcome_note') or ''}".rstrip("："))
        self._radios("回访方式*", "method", lc.REVISIT_METHODS, default=lc.REVISIT_METHODS[0])
        self._radios("企业评价*", "verdict", lc.VERDICTS)

    # --- draft ----------------------------------------------------------------------------------------
    def draft_state(self) -> dict:
        """The step's input as plain values, for the autosaved draft."""
        k = self.kind
        state: dict = {"on_date": self.on_date().isoformat(), "note": self.note_edit.toPlainText()}
        state.update({field: checked_text(group) for field, group in self.groups.items()})
        if k == "交办":
            state["lead_unit"] = self.lead_combo.currentText()
            state["assist_unit_ids"] = self.assist.checked_ids()
        if k in ("交办", "重办"):
            state["template_id"] = self.deadline_picker.template_id()
            state["deadline"] = self.deadline_picker.date.date().toPython().isoformat()
        elif k == "延期":
            state["deadline"] = self.new_deadline.date().toPython().isoformat()
            state["approver"] = self.approver_edit.text()
        elif k == "督办":
            state["reply_by"] = self.reply_by.date().toPython().isoformat()
        elif k == "上报":
            state["level"] = self.level_combo.currentText()
        return state

    def restore_draft(self, state: dict) -> None:
        """Put a draft back; dates out of today's allowed range and units no longer offered are skipped."""
        k = self.kind
        set_date(self.date_edit, state.get("on_date"))
        if "note" in state:
            self.note_edit.setPlainText(as_text(state["note"]))
        for field, group in self.groups.items():
            for button in group.buttons():
                if button.text() == state.get(field):
                    button.setChecked(True)
        if k == "交办":
            if isinstance(state.get("lead_unit"), str):
                self.lead_combo.setCurrentText(state["lead_unit"])
            if isinstance(state.get("assist_unit_ids"), list):
                for i in range(self.assist.list.count()):
                    item = self.assist.list.item(i)
                    chosen = item.data(ID_ROLE) in state["assist_unit_ids"]
                    item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
        if k in ("交办", "重办"):
            if "template_id" in state:
                set_combo_data(self.deadline_picker.combo, state["template_id"])  # None: 指定日期
            set_date(self.deadline_picker.date, state.get("deadline"))
        elif k == "延期":
            set_date(self.new_deadline, state.get("deadline"))
            self.approver_edit.setText(as_text(state.get("approver")))
        elif k == "督办":
            set_date(self.reply_by, state.get("reply_by"))
        elif k == "上报":
            set_combo_text(self.level_combo, state.get("level"))

    # --- submit ---------------------------------------------------------------------------------------
    def form_values(self) -> dict:
        """What take_step gets besides on_date and note."""
        k = self.kind
        if k == "交办":
            idx = self.lead_combo.findText(self.lead_combo.currentText().strip(), Qt.MatchFlag.MatchFixedString)
            lead = self.lead_combo.itemData(idx) if idx >= 0 else None
            return {"lead_unit_id": lead, "assist_unit_ids": self.assist.checked_ids(), **self.deadline_picker.values()}
        if k == "重办":
            return self.deadline_picker.values()
        if k == "延期":
            return {
                "deadline": self.new_deadline.date().toPython().isoformat(),
                "approver": self.approver_edit.text().strip(),
            }
        if k == "督办":
            return {"reply_by": self.reply_by.date().toPython().isoformat()}
        if k == "上报":
            return {"level": self.level_combo.currentText() or None}
        return {field: checked_text(group) for field, group in self.groups.items()}

    def on_date(self) -> date:
        return self.date_edit.date().toPython()

    def clear_errors(self) -> None:
        self.general_error.hide()
        for label in self.errors.values():
            label.clear()
            label.hide()

    def show_error(self, exc: AppError) -> None:
        label = self.errors.get(exc.field or "")
        if isinstance(exc, ValidationError) and label is not None:
            label.setText(exc.message)
            label.show()
            widget = self.widgets.get(exc.field or "")
            if widget is not None:
                widget.setFocus()
            return
        self.general_error.setText(exc.message)
        self.general_error.show()

    def accept(self) -> None:
        self.clear_errors()
        try:
            self.warnings = self.services.problems.take_step(
                self.pid,
                self.kind,
                on_date=self.on_date(),
                note=self.note_edit.toPlainText().strip(),
                **self.form_values(),
            )
        except TransitionError as exc:
            self.show_error(exc)
            self.ok_button.setEnabled(False)  # the problem changed meanwhile: this step can no longer be taken
            return
        except AppError as exc:
            self.show_error(exc)
            return
        super().accept()
