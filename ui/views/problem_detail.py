"""ProblemDetail: one problem's header, facts, text, the buttons of its allowed steps and its event timeline."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app import lifecycle as lc
from app.errors import NotFoundError
from app.services import Services
from ui.bus import AppBus
from ui.dialogs.step_dialog import StepDialog
from ui.widgets.attachments_panel import AttachmentsPanel

log = logging.getLogger(__name__)

STATUS_COLOURS = {  # status -> (text, background)
    lc.PENDING: ("#8a5a00", "#fff1cc"),
    lc.ASSIGNED: ("#1f5fa8", "#e3ecf7"),
    lc.IN_PROGRESS: ("#0b6e99", "#dcf1fa"),
    lc.RESOLVED: ("#2e7d32", "#e3f3e5"),
    lc.REVISITED: ("#5b3fa0", "#ece6f8"),
    lc.CLOSED: ("#52606d", "#e6e9ee"),
}
# The step a cadre most likely takes next, shown as the primary button.
PRIMARY_STEP = {
    lc.PENDING: "交办",
    lc.ASSIGNED: "接收",
    lc.IN_PROGRESS: "进展",
    lc.RESOLVED: "回访",
    lc.REVISITED: "销号",
}
BUTTONS_PER_ROW = 5
LINK_STYLE = (
    "QPushButton { color: #1f5fa8; border: none; background: transparent; padding: 0; text-align: left; }"
    "QPushButton:hover { text-decoration: underline; }"
)


def plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    """A label that shows user data as plain text (never markup)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def chip(text: str, fg: str, bg: str) -> QLabel:
    label = plain_label(text, wrap=False)
    label.setStyleSheet(f"color: {fg}; background: {bg}; border-radius: 3px; padding: 2px 8px; font-weight: 600;")
    label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return label


def button_text(text: str) -> str:
    """QPushButton reads "&" as a shortcut marker; user text must show it literally."""
    return text.replace("&", "&&")


def event_details(ev: dict, unit_names: dict[str, str], template_names: dict[str, str]) -> str:
    """A step's data in Chinese, e.g. "牵头单位：市人社局；时限：2026-12-01"."""
    d = ev.get("data") or {}
    parts: list[str] = []
    kind = ev["kind"]
    if kind == "交办":
        parts.append(f"牵头单位：{unit_names.get(d.get('lead_unit_id'), d.get('lead_unit_id') or '—')}")
        assist = [unit_names.get(u, u) for u in d.get("assist_unit_ids") or []]
        if assist:
            parts.append("协办单位：" + "、".join(assist))
    if kind in ("交办", "重办") and d.get("deadline"):
        tpl = template_names.get(d.get("template_id") or "")
        parts.append(f"时限：{d['deadline']}" + (f"（{tpl}）" if tpl else "（指定日期）"))
    elif kind == "延期":
        parts.append(f"时限：{d.get('previous_deadline') or '—'} → {d.get('deadline')}")
        parts.append(f"批准人：{d.get('approver') or '—'}")
    elif kind == "督办":
        parts.append(f"要求回复日期：{d.get('reply_by')}")
        if d.get("overdue_workdays"):
            parts.append(f"督办时已逾期{d['overdue_workdays']}个工作日")
    elif kind == "上报":
        parts.append(f"层级：{d.get('from_level') or '—'} → {d.get('level')}")
    elif kind == "办结":
        parts.append(f"办理结果：{d.get('outcome')}")
    elif kind == "回访":
        parts.append(f"回访方式：{d.get('method')}；企业评价：{d.get('verdict')}")
    elif kind == lc.REGISTER and d.get("level"):
        parts.append(f"层级：{d['level']}")
    return "；".join(parts)


def event_header(ev: dict) -> str:
    status = ""
    if ev.get("to_status") and ev.get("from_status") != ev.get("to_status"):
        status = f"{ev.get('from_status') or '新登记'} → {ev['to_status']}"
    return "  ".join(p for p in (ev["on_date"], ev["kind"], ev.get("actor") or "", status) if p)


class TimelineEntry(QFrame):
    """One event: date, step, actor and status change on the first line, then its data and note."""

    def __init__(self, ev: dict, details: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("timeline_entry")
        self.setStyleSheet("#timeline_entry { border-left: 3px solid #9bb5d6; background: #ffffff; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        lay.setSpacing(2)
        head = QHBoxLayout()
        head.setSpacing(10)
        date = plain_label(ev["on_date"], wrap=False)
        date.setStyleSheet("color: #52606d;")
        head.addWidget(date)
        step = plain_label(lc.STEPS[ev["kind"]].label if ev["kind"] in lc.STEPS else ev["kind"], wrap=False)
        step.setStyleSheet("font-weight: 600;")
        head.addWidget(step)
        if ev.get("actor"):
            head.addWidget(plain_label(ev["actor"], wrap=False))
        head.addStretch(1)
        if ev.get("to_status") and ev.get("from_status") != ev.get("to_status"):
            fg, bg = STATUS_COLOURS.get(ev["to_status"], ("#52606d", "#e6e9ee"))
            head.addWidget(plain_label(f"{ev.get('from_status') or '新登记'} →", wrap=False))
            head.addWidget(chip(ev["to_status"], fg, bg))
        lay.addLayout(head)
        self.text_parts = [event_header(ev)]
        if details:
            label = plain_label(details, selectable=True)
            label.setStyleSheet("color: #334e68;")
            lay.addWidget(label)
            self.text_parts.append(details)
        if ev.get("note"):
            lay.addWidget(plain_label(ev["note"], selectable=True))
            self.text_parts.append(ev["note"])

    def text(self) -> str:
        return "\n".join(self.text_parts)


class ProblemDetail(QWidget):
    """Shows one problem; its step buttons open StepDialog and, once a step is saved, bus.data_changed fires."""

    step_taken = Signal(str, str)  # problem id, step kind

    def __init__(self, services: Services, bus: AppBus, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.bus = bus
        self.pid: str | None = None
        self.problem: dict | None = None
        self.step_buttons: dict[str, QPushButton] = {}
        self.step_dialog: StepDialog | None = None
        self.timeline: list[TimelineEntry] = []

        self.stack = QStackedLayout(self)
        self.placeholder = plain_label("在左侧列表中选择一个问题，查看详情和办理过程。")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "hint")
        self.stack.addWidget(self.placeholder)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body.setObjectName("problem_detail_body")
        body.setStyleSheet("#problem_detail_body { background: #ffffff; }")
        scroll.setWidget(body)
        self.stack.addWidget(scroll)
        root = QVBoxLayout(body)
        root.setContentsMargins(14, 12, 14, 12)
        root.setSpacing(8)

        # Header: number, level, severity and status; title; enterprise and source visit links.
        top = QHBoxLayout()
        self.record_no = plain_label(wrap=False, selectable=True)
        self.record_no.setProperty("role", "hint")
        top.addWidget(self.record_no)
        self.level_chip = chip("", "#334e68", "#eef2f7")
        self.severity_chip = chip("", "#334e68", "#eef2f7")
        top.addWidget(self.level_chip)
        top.addWidget(self.severity_chip)
        top.addStretch(1)
        self.overdue_chip = chip("", "#ffffff", "#c62828")
        top.addWidget(self.overdue_chip)
        self.status_label = chip("", "#52606d", "#e6e9ee")
        self.status_label.setObjectName("status_label")
        top.addWidget(self.status_label)
        root.addLayout(top)
        self.title = plain_label(selectable=True)
        self.title.setStyleSheet("font-size: 13pt; font-weight: 600;")
        root.addWidget(self.title)
        links = QHBoxLayout()
        self.enterprise_link = self._link("enterprise_link", self._open_enterprise)
        self.visit_link = self._link("visit_link", self._open_visit)
        links.addWidget(self.enterprise_link)
        links.addWidget(self.visit_link)
        links.addStretch(1)
        root.addLayout(links)

        # Step buttons: only the steps allowed now.
        actions = QHBoxLayout()
        self.actions_caption = plain_label("办理：", wrap=False)
        self.actions_caption.setAlignment(Qt.AlignmentFlag.AlignTop)
        actions.addWidget(self.actions_caption)
        self.buttons_grid = QGridLayout()
        self.buttons_grid.setHorizontalSpacing(6)
        self.buttons_grid.setVerticalSpacing(6)
        actions.addLayout(self.buttons_grid)
        actions.addStretch(1)
        root.addLayout(actions)

        # Facts.
        facts = QFrame()
        facts.setProperty("role", "card")
        self.facts = QGridLayout(facts)
        self.facts.setContentsMargins(10, 8, 10, 8)
        self.facts.setHorizontalSpacing(10)
        self.facts.setVerticalSpacing(5)
        self.facts.setColumnStretch(1, 1)
        self.facts.setColumnStretch(3, 1)
        self.fact_values: dict[str, QLabel] = {}
        layout = (
            ("类别", "登记日期"),
            ("牵头单位", "交办日期"),
            ("协办单位",),
            ("办理时限", "剩余/逾期"),
            ("办理结果",),
            ("回访评价", "催办/督办"),
        )
        for r, names in enumerate(layout):
            for c, name in enumerate(names):
                caption = plain_label(name + "：", wrap=False)
                caption.setStyleSheet("color: #52606d;")
                caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
                value = plain_label(selectable=True)
                self.fact_values[name] = value
                self.facts.addWidget(caption, r, c * 2, Qt.AlignmentFlag.AlignTop)
                self.facts.addWidget(value, r, c * 2 + 1, 1, 3 if len(names) == 1 else 1, Qt.AlignmentFlag.AlignTop)
        root.addWidget(facts)

        # Texts typed by cadres: plain text only.
        self.description = self._section(root, "问题描述")
        self.request = self._section(root, "企业诉求")
        self._heading(root, "办理过程")
        self.timeline_box = QVBoxLayout()
        self.timeline_box.setSpacing(6)
        root.addLayout(self.timeline_box)
        self._heading(root, "附件（扫描件）")
        self.attachments = AttachmentsPanel(services)
        self.attachments.message.connect(self.bus.status_message)
        root.addWidget(self.attachments)
        root.addStretch(1)

    # --- building blocks ------------------------------------------------------------------------------
    def _link(self, name: str, slot) -> QPushButton:
        button = QPushButton()
        button.setObjectName(name)
        button.setFlat(True)
        button.setStyleSheet(LINK_STYLE)
        button.setCursor(QCursor(Qt.CursorShape.PointingHandCursor))
        button.clicked.connect(slot)
        return button

    def _heading(self, root: QVBoxLayout, title: str) -> None:
        heading = plain_label(title, wrap=False)
        heading.setStyleSheet("font-weight: 600; color: #243b53;")
        root.addSpacing(4)
        root.addWidget(heading)

    def _section(self, root: QVBoxLayout, title: str) -> QLabel:
        self._heading(root, title)
        text = plain_label(selectable=True)
        root.addWidget(text)
        return text

    # --- public -----------------------------------------------------------------------------------
    def show_problem(self, pid: str | None) -> None:
        """Show problem `pid` (None: the empty placeholder)."""
        self.pid = pid
        self.reload()

    def clear(self) -> None:
        self.show_problem(None)

    def reload(self) -> None:
        """Re-read the problem (after a step or a data change elsewhere)."""
        if self.pid is None:
            self.problem = None
            self.attachments.set_owner("problems", None)
            self.stack.setCurrentIndex(0)
            return
        try:
            p = self.services.problems.get(self.pid)
        except NotFoundError:
            self.pid = self.problem = None
            self.stack.setCurrentIndex(0)
            return
        self.problem = p
        self.stack.setCurrentIndex(1)
        self._fill_header(p)
        self._fill_buttons(p)
        self._fill_facts(p)
        self.description.setText(p.get("description") or "—")
        self.request.setText(p.get("request") or "—")
        self._fill_timeline()
        self.attachments.set_owner("problems", p["id"])

    def allowed_steps(self) -> list[str]:
        """Kinds of the step buttons shown, in order."""
        return list(self.step_buttons)

    def timeline_texts(self) -> list[str]:
        return [entry.text() for entry in self.timeline]

    # --- filling --------------------------------------------------------------------------------------
    def _fill_header(self, p: dict) -> None:
        self.record_no.setText(p["record_no"])
        self.level_chip.setText(p["level"])
        self.severity_chip.setText(p["severity"])
        self.severity_chip.setStyleSheet(
            self.level_chip.styleSheet()
            if p["severity"] != "重大"
            else "color: #ffffff; background: #b3541e; border-radius: 3px; padding: 2px 8px; font-weight: 600;"
        )
        fg, bg = STATUS_COLOURS.get(p["status"], ("#52606d", "#e6e9ee"))
        self.status_label.setText(p["status"])
        self.status_label.setStyleSheet(
            f"color: {fg}; background: {bg}; border-radius: 3px; padding: 2px 10px; font-weight: 600;"
        )
        self.overdue_chip.setText(f"逾期{p['overdue_workdays']}个工作日" if p["overdue"] else "")
        self.overdue_chip.setVisible(bool(p["overdue"]))
        self.title.setText(p["title"])
        self.enterprise_link.setText(button_text(f"企业：{p['enterprise_name']}"))
        self.enterprise_link.setToolTip(f"打开企业档案（{p.get('enterprise_uscc') or ''}）")
        self.visit_link.setVisible(bool(p.get("visit_id")))
        self.visit_link.setText(button_text(f"来源走访：{p.get('visit_record_no') or ''}"))

    def _fill_buttons(self, p: dict) -> None:
        for button in self.step_buttons.values():
            self.buttons_grid.removeWidget(button)
            button.hide()
            button.deleteLater()
        self.step_buttons = {}
        owned = self.services.problems.owns(p)
        allowed = lc.allowed_steps(p) if owned else []
        primary = PRIMARY_STEP.get(p["status"])
        if p.get("satisfaction") == lc.UNSATISFIED:
            primary = "重办"
        for i, kind in enumerate(allowed):
            step = lc.STEPS[kind]
            button = QPushButton(step.label)
            button.setObjectName(f"step_{kind}")
            button.setToolTip(step.hint)
            if kind == ("督办" if p["overdue"] else primary):
                button.setProperty("role", "primary")
            button.clicked.connect(lambda _checked=False, k=kind: self.start_step(k))
            self.buttons_grid.addWidget(button, i // BUTTONS_PER_ROW, i % BUTTONS_PER_ROW)
            button.show()  # at once, not at the next event loop pass (a parent already shown queues it)
            self.step_buttons[kind] = button
        if not owned:
            self.actions_caption.setText(f"已上报至{p['level']}，由上级汇总端交办和办理，结果随同步文件返回。")
        else:
            self.actions_caption.setText("办理：" if allowed else "已销号归档，不能再办理。")

    def _fill_facts(self, p: dict) -> None:
        v = self.fact_values
        v["类别"].setText(p.get("category_name") or p["category_code"])
        v["登记日期"].setText(p["registered_on"])
        v["牵头单位"].setText(p.get("lead_unit_name") or "—")
        v["交办日期"].setText(p.get("assigned_on") or "—")
        v["协办单位"].setText("、".join(p["assist_unit_names"]) or "—")
        deadline = p.get("deadline") or "—"
        if p.get("original_deadline") and p["original_deadline"] != p.get("deadline"):
            deadline += f"（原时限 {p['original_deadline']}）"
        v["办理时限"].setText(deadline)
        if p["overdue"]:
            remaining, colour = f"逾期{p['overdue_workdays']}个工作日", "#c62828"
        elif p["workdays_left"] is not None:
            left = p["workdays_left"]
            remaining = f"剩{left}个工作日" if left else "今日到期"
            colour = "#a15c00" if left <= 3 else "#1f2933"
        else:
            remaining, colour = "—", "#1f2933"
        if p["missed_deadline"] and not (p["overdue"] and p.get("original_deadline") == p.get("deadline")):
            remaining += "；已超原时限" if p.get("original_deadline") != p.get("deadline") else "；超期办理"
            colour = "#c62828"
        v["剩余/逾期"].setText(remaining)
        v["剩余/逾期"].setStyleSheet(f"color: {colour};")
        outcome = p.get("outcome") or "—"
        if p.get("outcome_note"):
            outcome += f"：{p['outcome_note']}"
        if p.get("resolved_on"):
            outcome += f"（{p['resolved_on']} 办结）"
        v["办理结果"].setText(outcome)
        v["回访评价"].setText(p.get("satisfaction") or "—")
        v["回访评价"].setStyleSheet("color: #c62828;" if p.get("satisfaction") == lc.UNSATISFIED else "")
        counts = f"催办 {p['urge_count']} 次，督办 {p['supervise_count']} 次"
        if p.get("reopen_count"):
            counts += f"，重办 {p['reopen_count']} 次"
        v["催办/督办"].setText(counts)

    def _fill_timeline(self) -> None:
        for entry in self.timeline:
            self.timeline_box.removeWidget(entry)
            entry.hide()
            entry.deleteLater()
        units = self.services.reference.unit_names()
        templates = {t["id"]: t["name"] for t in self.services.reference.templates()}
        self.timeline = [
            TimelineEntry(ev, event_details(ev, units, templates))
            for ev in self.services.problems.events(self.pid or "")
        ]
        for entry in self.timeline:
            self.timeline_box.addWidget(entry)
            entry.show()

    # --- actions --------------------------------------------------------------------------------------
    def start_step(self, kind: str) -> StepDialog | None:
        """Open the form of step `kind` (non-blocking); the step is recorded when the form is accepted."""
        if self.pid is None:
            return None
        if self.step_dialog is not None:
            self.step_dialog.raise_()
            return self.step_dialog
        dialog = StepDialog(self.services, self.pid, kind, self)
        self.step_dialog = dialog
        dialog.finished.connect(lambda result, d=dialog: self._step_finished(d, result))
        dialog.open()
        return dialog

    def _step_finished(self, dialog: StepDialog, result: int) -> None:
        self.step_dialog = None
        dialog.deleteLater()
        if int(result) != QDialog.DialogCode.Accepted.value:
            return
        record_no = self.problem["record_no"] if self.problem else ""
        message = f"问题 {record_no}：{dialog.step.label}已登记"
        self.bus.status_message.emit("；".join([message, *dialog.warnings]))
        self.reload()
        self.step_taken.emit(dialog.pid, dialog.kind)
        self.bus.data_changed.emit()

    def _open_enterprise(self) -> None:
        if self.problem:
            self.bus.open_enterprise.emit(self.problem["enterprise_id"])

    def _open_visit(self) -> None:
        if self.problem and self.problem.get("visit_id"):
            self.bus.open_visit.emit(self.problem["visit_id"])
