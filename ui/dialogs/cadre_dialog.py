"""CadreDialog (新增/编辑助企干部) and WorkGroupDialog (新建/编辑工作组, 设置组长) with errors shown at their field."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError, ValidationError
from app.people import RANKS, ROLES
from app.reference import DISTRICT_KINDS
from app.services import Services
from ui.dialogs.enterprise_dialog import FieldBox, plain_label
from ui.drafts import DraftKeeper, as_text, set_combo_data, set_combo_text
from ui.settings import PreserveGeometry, Settings

log = logging.getLogger(__name__)

CADRE_FIELDS = ("name", "unit_id", "work_group_id", "role", "rank", "post", "phone", "active")
GROUP_FIELDS = ("name", "unit_id", "leader_cadre_id", "note")
NO_CHOICE_RANK = "（未填）"
NO_GROUP_TEXT = "无（不在工作组）"
NO_LEADER_TEXT = "（暂不设组长）"


def fill_units(combo: QComboBox, services: Services, current: str | None) -> None:
    """The units a cadre or group can belong to: the city, the districts, then departments; selects `current`."""
    ref = services.reference
    units = ref.units()
    city = [u for u in units if u.kind == "市"]
    districts = [u for u in units if u.kind in DISTRICT_KINDS]
    others = [u for u in units if u not in city and u not in districts]
    combo.clear()
    combo.addItem("请选择…", None)
    for group in (city, districts, others):
        if not group:
            continue
        combo.insertSeparator(combo.count())
        for unit in group:
            combo.addItem(unit.name, unit.id)
    combo.setMaxVisibleItems(24)
    index = combo.findData(current) if current else -1
    if index < 0 and current:
        combo.addItem(ref.unit_names().get(current, current), current)
        index = combo.count() - 1
    combo.setCurrentIndex(max(0, index))


class _FormDialog(PreserveGeometry, QDialog):
    """Shared frame: a one-column form of FieldBoxes, a form-level error line and 保存/取消."""

    FIELDS: tuple[str, ...] = ()

    def _make_form(self, rows: list[tuple[str, str, QWidget]], hint: str) -> None:
        self.fields: dict[str, FieldBox] = {}
        self.labels: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(1, 1)
        for r, (caption, key, editor) in enumerate(rows):
            box = FieldBox(editor)
            self.fields[key] = box
            label = plain_label(caption)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 5, 0, 0)
            label.setBuddy(editor)
            self.labels[key] = label
            grid.addWidget(label, r, 0)
            grid.addWidget(box, r, 1, Qt.AlignmentFlag.AlignTop)
        self.form_error = plain_label(role="error")
        self.form_error.setWordWrap(True)
        self.form_error.hide()
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("保存", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setProperty("role", "primary")
        self.save_button.setDefault(True)
        self.cancel_button = self.buttons.addButton("取消", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        footer = QHBoxLayout()
        self.hint_label = plain_label(hint, role="hint")
        self.hint_label.setWordWrap(True)
        footer.addWidget(self.hint_label, 1)
        footer.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.addLayout(grid)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addLayout(footer)
        editors = [editor for _, _, editor in rows] + [self.save_button, self.cancel_button]
        for first, second in zip(editors, editors[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _watch(self, key: str, signal) -> None:
        """Editing a field clears its message (the input itself is never touched)."""
        signal.connect(lambda *_: self.fields[key].clear_message())

    def save(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def show_error(self, error: AppError) -> None:
        """Show `error` under its field (ValidationError.field), else above the buttons; focus that field."""
        self.clear_errors()
        key = error.field if isinstance(error, ValidationError) and error.field in self.fields else None
        if key is None:
            self.form_error.setText(error.message)
            self.form_error.show()
            return
        self.fields[key].show_error(error.message)
        self.fields[key].editor.setFocus()

    def clear_errors(self) -> None:
        for box in self.fields.values():
            box.clear_message()
        self.form_error.hide()

    def error_text(self, key: str) -> str:
        """The message shown under field `key` ("" if none)."""
        return self.fields[key].message_text()

    def focus_field(self, key: str) -> None:
        self.fields[key].editor.setFocus(Qt.FocusReason.OtherFocusReason)


class CadreDialog(_FormDialog):
    """新增/编辑助企干部. After 保存 `saved_id` holds the cadre's id."""

    FIELDS = CADRE_FIELDS

    def __init__(
        self, services: Services, settings: Settings, parent: QWidget | None = None, cadre_id: str | None = None
    ):
        super().__init__(parent)
        self.setObjectName("CadreDialog")
        self.setWindowTitle("编辑助企干部" if cadre_id else "新增助企干部")
        self.services = services
        self.cadre_id = cadre_id
        self.saved_id: str | None = None
        self.record: dict = services.people.cadre(cadre_id) if cadre_id else {}
        self._build()
        self._populate()
        self._connect()
        self.name_edit.setFocus()
        self.setMinimumWidth(460)
        self.init_geometry(settings)
        key = f"cadre:{cadre_id or 'new'}"
        self.draft = DraftKeeper(self, services.drafts, key, self.draft_state, self.restore_draft)

    def _build(self) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(30)
        self.unit_combo = QComboBox()
        self.group_combo = QComboBox()
        self.role_combo = QComboBox()
        self.rank_combo = QComboBox()
        self.post_edit = QLineEdit()
        self.post_edit.setMaxLength(60)
        self.post_edit.setPlaceholderText("例如 区工信局副局长")
        self.phone_edit = QLineEdit()
        self.phone_edit.setMaxLength(30)
        self.phone_edit.setPlaceholderText("手机号或带区号的固定电话")
        self.active_check = QCheckBox("在岗")
        self.active_check.setToolTip("离岗的干部不再出现在走访和包联的干部选择中，已有记录保留")
        rows = [
            ("姓名 *", "name", self.name_edit),
            ("所属单位 *", "unit_id", self.unit_combo),
            ("工作组", "work_group_id", self.group_combo),
            ("服务角色", "role", self.role_combo),
            ("职级", "rank", self.rank_combo),
            ("职务", "post", self.post_edit),
            ("联系电话", "phone", self.phone_edit),
        ]
        if self.cadre_id:
            rows.append(("状态", "active", self.active_check))
        self._make_form(rows, "带 * 的为必填项。")

    def _populate(self) -> None:
        r = self.record
        fill_units(self.unit_combo, self.services, r.get("unit_id") or self.services.installation.unit_id)
        self._fill_groups(r.get("work_group_id"))
        self.role_combo.addItems(list(ROLES))
        self.role_combo.setCurrentText(r.get("role") or "助企干部")
        self.rank_combo.addItem(NO_CHOICE_RANK, None)
        for rank in RANKS:
            self.rank_combo.addItem(rank, rank)
        self.rank_combo.setCurrentIndex(max(0, self.rank_combo.findData(r.get("rank"))))
        self.name_edit.setText(r.get("name") or "")
        self.post_edit.setText(r.get("post") or "")
        self.phone_edit.setText(r.get("phone") or "")
        self.active_check.setChecked(bool(r.get("active", 1)))
        if r.get("phone"):
            log.info("Cadre %s phone shown in full in the edit dialog", self.cadre_id)

    def _fill_groups(self, current: str | None) -> None:
        """The work groups of the chosen unit (plus 无), selecting `current` when it is among them."""
        combo = self.group_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(NO_GROUP_TEXT, None)
            unit_id = self.unit_combo.currentData()
            for group in self.services.people.work_group_rows(unit_id) if unit_id else []:
                combo.addItem(group["name"], group["id"])
            index = combo.findData(current) if current else 0
            if index < 0 and current == self.record.get("work_group_id"):
                try:  # the saved group of another unit: keep showing it rather than dropping it silently
                    combo.addItem(self.services.people.work_group(current)["name"], current)
                    index = combo.count() - 1
                except AppError:
                    index = 0
            combo.setCurrentIndex(max(0, index))
            combo.setEnabled(combo.count() > 1)
        finally:
            combo.blockSignals(False)

    def _connect(self) -> None:
        self.unit_combo.currentIndexChanged.connect(lambda _i: self._fill_groups(self.group_combo.currentData()))
        self._watch("name", self.name_edit.textChanged)
        self._watch("unit_id", self.unit_combo.currentIndexChanged)
        self._watch("work_group_id", self.group_combo.currentIndexChanged)
        self._watch("role", self.role_combo.currentIndexChanged)
        self._watch("rank", self.rank_combo.currentIndexChanged)
        self._watch("post", self.post_edit.textChanged)
        self._watch("phone", self.phone_edit.textChanged)

    def data(self) -> dict:
        """The form as keyword arguments of PeopleService.update_cadre (add_cadre takes all but `active`)."""
        values = {
            "name": self.name_edit.text(),
            "unit_id": self.unit_combo.currentData(),
            "work_group_id": self.group_combo.currentData(),
            "role": self.role_combo.currentText(),
            "rank": self.rank_combo.currentData(),
            "post": self.post_edit.text(),
            "phone": self.phone_edit.text(),
        }
        if self.cadre_id:
            values["active"] = self.active_check.isChecked()
        return values

    def draft_state(self) -> dict:
        """The form as plain values, for the autosaved draft."""
        return self.data()

    def restore_draft(self, state: dict) -> None:
        """Put a draft back; a unit or work group no longer offered keeps the current choice."""
        if state.get("unit_id"):
            set_combo_data(self.unit_combo, state["unit_id"])  # refills the work groups
        if "work_group_id" in state:
            set_combo_data(self.group_combo, state["work_group_id"])
        set_combo_text(self.role_combo, state.get("role"))
        if "rank" in state:
            set_combo_data(self.rank_combo, state["rank"])
        for key, edit in (("name", self.name_edit), ("post", self.post_edit), ("phone", self.phone_edit)):
            if key in state:
                edit.setText(as_text(state[key]))
        if self.cadre_id and isinstance(state.get("active"), bool):
            self.active_check.setChecked(state["active"])

    def save(self) -> None:
        """Add or update the cadre; a rejected field shows its message under it and all input stays."""
        self.clear_errors()
        people = self.services.people
        values = self.data()
        try:
            if self.cadre_id:
                people.update_cadre(self.cadre_id, **values)
                self.saved_id = self.cadre_id
            else:
                name, unit_id = values.pop("name"), values.pop("unit_id")
                self.saved_id = people.add_cadre(name, unit_id, **values)
        except AppError as exc:
            self.show_error(exc)
            return
        self.accept()


class WorkGroupDialog(_FormDialog):
    """新建/编辑工作组 (name, unit, leader, note). After 保存 `saved_id` holds the group's id."""

    FIELDS = GROUP_FIELDS

    def __init__(
        self, services: Services, settings: Settings, parent: QWidget | None = None, group_id: str | None = None
    ):
        super().__init__(parent)
        self.setObjectName("WorkGroupDialog")
        self.setWindowTitle("编辑工作组" if group_id else "新建工作组")
        self.services = services
        self.group_id = group_id
        self.saved_id: str | None = None
        self.record: dict = services.people.work_group(group_id) if group_id else {}
        self._build()
        self._populate()
        self._connect()
        self.name_edit.setFocus()
        self.setMinimumWidth(460)
        self.init_geometry(settings)

    def _build(self) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(60)
        self.name_edit.setPlaceholderText("例如 金水区第一助企工作组")
        self.unit_combo = QComboBox()
        self.leader_combo = QComboBox()
        self.leader_combo.setMaxVisibleItems(20)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setFixedHeight(72)
        rows = [
            ("名称 *", "name", self.name_edit),
            ("所属单位 *", "unit_id", self.unit_combo),
            ("组长", "leader_cadre_id", self.leader_combo),
            ("备注", "note", self.note_edit),
        ]
        self._make_form(rows, "带 * 的为必填项；组长从该单位的在岗干部中选。")

    def _populate(self) -> None:
        r = self.record
        fill_units(self.unit_combo, self.services, r.get("unit_id") or self.services.installation.unit_id)
        self.name_edit.setText(r.get("name") or "")
        self.note_edit.setPlainText(r.get("note") or "")
        self._fill_leaders(r.get("leader_cadre_id"))

    def _fill_leaders(self, current: str | None) -> None:
        """Active cadres of the chosen unit, this group's members first; keeps `current` if still possible."""
        combo = self.leader_combo
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem(NO_LEADER_TEXT, None)
            unit_id = self.unit_combo.currentData()
            cadres = self.services.people.cadres(unit_id, active_only=False) if unit_id else []
            members = [c for c in cadres if self.group_id and c["work_group_id"] == self.group_id]
            others = [c for c in cadres if c not in members]
            for group, suffix in ((members, "（本组）"), (others, "")):
                if group and combo.count() > 1:
                    combo.insertSeparator(combo.count())
                for c in group:
                    if not c["active"] and c["id"] != current:
                        continue
                    extra = f" · {c['group_name']}" if not suffix and c.get("group_name") else ""
                    state = "（离岗）" if not c["active"] else ""
                    combo.addItem(f"{c['name']}{suffix}{state}　{c['role']}{extra}", c["id"])
            combo.setCurrentIndex(max(0, combo.findData(current) if current else 0))
        finally:
            combo.blockSignals(False)

    def _connect(self) -> None:
        self.unit_combo.currentIndexChanged.connect(lambda _i: self._fill_leaders(self.leader_combo.currentData()))
        self._watch("name", self.name_edit.textChanged)
        self._watch("unit_id", self.unit_combo.currentIndexChanged)
        self._watch("leader_cadre_id", self.leader_combo.currentIndexChanged)
        self._watch("note", self.note_edit.textChanged)

    def data(self) -> dict:
        return {
            "name": self.name_edit.text(),
            "unit_id": self.unit_combo.currentData(),
            "leader_cadre_id": self.leader_combo.currentData(),
            "note": self.note_edit.toPlainText(),
        }

    def save(self) -> None:
        self.clear_errors()
        people = self.services.people
        values = self.data()
        try:
            if not values["unit_id"]:
                raise ValidationError("请选择工作组所在单位。", field="unit_id")
            if self.group_id:
                people.update_work_group(self.group_id, **values)
                self.saved_id = self.group_id
            else:
                self.saved_id = people.add_work_group(
                    values["name"], values["unit_id"], values["leader_cadre_id"], values["note"]
                )
        except AppError as exc:
            self.show_error(exc)
            return
        self.accept()
