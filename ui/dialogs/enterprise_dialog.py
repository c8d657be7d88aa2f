"""EnterpriseDialog: create or edit an enterprise, checking the 统一社会信用代码 and other fields as the user types."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app import uscc as uscc_rules
from app.enterprises import SCALES, STATUSES
from app.errors import AppError, DuplicateError, ValidationError
from app.services import Services
from ui.drafts import DraftKeeper, as_text, set_combo_data, set_combo_text
from ui.settings import PreserveGeometry, Settings

log = logging.getLogger(__name__)

CHECK_DELAY_MS = 400
WARNING_STYLE = "color: #b26a00;"
ERROR_STYLE = "color: #c62828;"
FIELDS = (
    "name", "uscc", "unit_id", "township", "address", "industry", "scale", "status",
    "legal_rep", "contact_name", "contact_phone", "tags", "note",
)  # fmt: skip


def plain_label(text: str = "", role: str | None = None) -> QLabel:
    """A QLabel that never interprets its text as markup."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if role:
        label.setProperty("role", role)
    return label


def message_label() -> QLabel:
    """The inline message line under a field (hidden until there is something to say)."""
    label = plain_label(role="error")
    label.setWordWrap(True)
    label.hide()
    return label


class FieldBox(QWidget):
    """An editor with its inline message (red error or amber warning) under it.

    Two half-width fields in one form row share a full-width message line (`message`), so a long
    message does not squeeze the row; the services raise one error at a time, so they never clash.
    """

    def __init__(self, editor: QWidget, message: QLabel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.layout_.addWidget(editor)
        self.message = message or message_label()
        if message is None:
            self.layout_.addWidget(self.message)
        self._kind = ""  # "", "error" or "warning"

    def _say(self, kind: str, text: str) -> None:
        self._kind = kind
        self.message.setProperty("role", kind)
        self.message.setStyleSheet(ERROR_STYLE if kind == "error" else WARNING_STYLE)
        self.message.setText(text)
        self.message.show()

    def show_error(self, text: str) -> None:
        self._say("error", text)

    def show_warning(self, text: str) -> None:
        self._say("warning", text)

    def clear_message(self) -> None:
        if self._kind:
            self._kind = ""
            self.message.clear()
            self.message.hide()

    def has_error(self) -> bool:
        return self._kind == "error"

    def message_text(self) -> str:
        return self.message.text() if self._kind else ""


class EnterpriseDialog(PreserveGeometry, QDialog):
    """新建/编辑企业. After 保存 `saved_id` holds the enterprise id and `warnings` the non-blocking notices."""

    open_existing = Signal(str)
    """The user asked to see the enterprise that already holds the typed USCC (the dialog then closes)."""

    def __init__(
        self, services: Services, settings: Settings, parent: QWidget | None = None, ent_id: str | None = None
    ):
        super().__init__(parent)
        self.setObjectName("EnterpriseDialog")
        self.services = services
        self.ent_id = ent_id
        self.saved_id: str | None = None
        self.warnings: tuple[str, ...] = ()
        self._touched: set[str] = set()
        self._existing_id: str | None = None
        self.setWindowTitle("编辑企业" if ent_id else "新建企业")
        self.setMinimumWidth(680)
        self._build()
        self._populate()
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.run_check)
        self._connect_edits()
        self.name_edit.setFocus()
        self.init_geometry(settings)
        key = f"enterprise:{ent_id or 'new'}"
        self.draft = DraftKeeper(self, services.drafts, key, self.draft_state, self.restore_draft)

    # --- Building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(100)
        self.name_edit.setPlaceholderText("营业执照上的企业全称")
        self.uscc_edit = QLineEdit()
        self.uscc_edit.setMaxLength(40)
        self.uscc_edit.setPlaceholderText("18 位，例如 91410100MA44XXXXXX")
        self.unit_combo = QComboBox()
        self.township_edit = QLineEdit()
        self.address_edit = QLineEdit()
        self.industry_combo = QComboBox()
        self.industry_combo.setEditable(True)
        self.industry_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.scale_combo = QComboBox()
        self.status_combo = QComboBox()
        self.legal_rep_edit = QLineEdit()
        self.contact_edit = QLineEdit()
        self.phone_edit = QLineEdit()
        self.phone_edit.setPlaceholderText("手机号或带区号的固定电话")
        self.tag_list = QListWidget()
        self.tag_list.setFlow(QListView.Flow.LeftToRight)
        self.tag_list.setWrapping(True)
        self.tag_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.tag_list.setSpacing(2)
        self.tag_list.setFixedHeight(84)
        self.custom_tag_edit = QLineEdit()
        self.custom_tag_edit.setPlaceholderText("自定义标签，回车添加")
        self.custom_tag_edit.setMaxLength(20)
        self.custom_tag_edit.installEventFilter(self)
        self.add_tag_button = QPushButton("添加标签")
        self.add_tag_button.setAutoDefault(False)
        self.add_tag_button.clicked.connect(self._add_custom_tag)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setTabChangesFocus(True)
        self.note_edit.setFixedHeight(64)

        editors = {
            "name": self.name_edit, "uscc": self.uscc_edit, "unit_id": self.unit_combo,
            "township": self.township_edit, "address": self.address_edit, "industry": self.industry_combo,
            "scale": self.scale_combo, "status": self.status_combo, "legal_rep": self.legal_rep_edit,
            "contact_name": self.contact_edit, "contact_phone": self.phone_edit, "note": self.note_edit,
        }  # fmt: skip
        rows = [
            [("企业名称 *", "name")],
            [("统一社会信用代码 *", "uscc")],
            [("所属单位 *", "unit_id"), ("乡镇街道", "township")],
            [("地址", "address")],
            [("行业", "industry"), ("企业规模", "scale")],
            [("经营状态", "status"), ("法定代表人", "legal_rep")],
            [("联系人", "contact_name"), ("联系电话", "contact_phone")],
            [("标签", "tags")],
            [("备注", "note")],
        ]
        row_messages = {}
        for row in rows:
            if len(row) == 2:
                shared = message_label()
                row_messages.update({key: shared for _, key in row})
        self.fields: dict[str, FieldBox] = {
            key: FieldBox(editor, row_messages.get(key)) for key, editor in editors.items()
        }
        tags_panel = QWidget()
        tags_layout = QVBoxLayout(tags_panel)
        tags_layout.setContentsMargins(0, 0, 0, 0)
        tags_layout.addWidget(self.tag_list)
        custom_row = QHBoxLayout()
        custom_row.addWidget(self.custom_tag_edit, 1)
        custom_row.addWidget(self.add_tag_button)
        tags_layout.addLayout(custom_row)
        self.fields["tags"] = FieldBox(tags_panel)

        # USCC extras: the normalised preview and the "查看该企业" button of a duplicate.
        uscc_box = self.fields["uscc"]
        self.uscc_preview = plain_label(role="hint")
        uscc_box.layout_.insertWidget(1, self.uscc_preview)
        self.view_existing_button = QPushButton("查看该企业")
        self.view_existing_button.setAutoDefault(False)
        self.view_existing_button.hide()
        self.view_existing_button.clicked.connect(self._view_existing)
        dup_row = QHBoxLayout()
        dup_row.addStretch(1)
        dup_row.addWidget(self.view_existing_button)
        uscc_box.layout_.addLayout(dup_row)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.labels: dict[str, QLabel] = {}
        r = 0
        for row in rows:
            for c, (text, key) in enumerate(row):
                label = plain_label(text)
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
                label.setContentsMargins(0, 5, 0, 0)
                label.setBuddy(self.fields[key].editor)
                self.labels[key] = label
                grid.addWidget(label, r, c * 2)
                span = 3 if len(row) == 1 else 1
                grid.addWidget(self.fields[key], r, c * 2 + 1, 1, span, Qt.AlignmentFlag.AlignTop)
            if len(row) == 2:  # the pair's shared message line, under both fields
                r += 1
                grid.addWidget(self.fields[row[0][1]].message, r, 1, 1, 3)
            r += 1

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
        footer.addWidget(plain_label("带 * 的为必填项；保存后可在“操作记录”中查看修改历史。", role="hint"), 1)
        footer.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.addLayout(grid)
        layout.addWidget(self.form_error)
        layout.addStretch(1)
        layout.addLayout(footer)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        order = [
            self.name_edit, self.uscc_edit, self.unit_combo, self.township_edit, self.address_edit,
            self.industry_combo, self.scale_combo, self.status_combo, self.legal_rep_edit, self.contact_edit,
            self.phone_edit, self.tag_list, self.custom_tag_edit, self.add_tag_button, self.note_edit,
            self.save_button, self.cancel_button,
        ]  # fmt: skip
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _populate(self) -> None:
        ref = self.services.reference
        current = self.services.enterprises.get(self.ent_id) if self.ent_id else {}
        self.unit_combo.addItem("请选择…", None)
        for unit in ref.districts():
            self.unit_combo.addItem(unit.name, unit.id)
        unit_id = current.get("unit_id") or self.services.installation.unit_id
        if self.unit_combo.findData(unit_id) < 0 and current:
            self.unit_combo.addItem(current.get("unit_name") or unit_id, unit_id)
        self.unit_combo.setCurrentIndex(max(0, self.unit_combo.findData(unit_id)))
        self.industry_combo.addItems(ref.names("industry"))
        self.industry_combo.setCurrentText(current.get("industry") or "")
        self.scale_combo.addItem("（未填）", None)
        for scale in SCALES:
            self.scale_combo.addItem(scale, scale)
        self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(current.get("scale"))))
        self.status_combo.addItems(list(STATUSES))
        self.status_combo.setCurrentText(current.get("status") or STATUSES[0])
        chosen = set(current.get("tag_list") or [])
        for tag in [*ref.names("enterprise_tag"), *sorted(chosen - set(ref.names("enterprise_tag")))]:
            self._add_tag_item(tag, tag in chosen)
        for key, edit in (
            ("name", self.name_edit), ("uscc", self.uscc_edit), ("township", self.township_edit),
            ("address", self.address_edit), ("legal_rep", self.legal_rep_edit),
            ("contact_name", self.contact_edit), ("contact_phone", self.phone_edit),
        ):  # fmt: skip
            edit.setText(current.get(key) or "")
        self.note_edit.setPlainText(current.get("note") or "")
        if current.get("contact_name") or current.get("contact_phone"):
            log.info("Enterprise %s contact details shown in full in the edit dialog", self.ent_id)
        self._update_preview()

    def _connect_edits(self) -> None:
        def touch(key: str):
            return lambda *_: self._edited(key)

        for key in ("name", "uscc", "township", "address", "legal_rep", "contact_name", "contact_phone"):
            editor = self.fields[key].editor
            assert isinstance(editor, QLineEdit)
            editor.textChanged.connect(touch(key))  # connected after _populate: only the user's changes count
        self.uscc_edit.textChanged.connect(self._update_preview)
        self.unit_combo.currentIndexChanged.connect(touch("unit_id"))
        self.industry_combo.currentTextChanged.connect(touch("industry"))
        self.scale_combo.currentIndexChanged.connect(touch("scale"))
        self.status_combo.currentIndexChanged.connect(touch("status"))
        self.tag_list.itemChanged.connect(touch("tags"))
        self.note_edit.textChanged.connect(touch("note"))

    # --- Tags --------------------------------------------------------------------------------------
    def _add_tag_item(self, tag: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(tag)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.tag_list.addItem(item)
        return item

    def _add_custom_tag(self) -> None:
        tag = self.custom_tag_edit.text().strip()
        if not tag:
            return
        existing = self.tag_list.findItems(tag, Qt.MatchFlag.MatchExactly)
        if existing:
            existing[0].setCheckState(Qt.CheckState.Checked)
        else:
            self._add_tag_item(tag, True)
        self.custom_tag_edit.clear()

    def tags(self) -> list[str]:
        items = (self.tag_list.item(i) for i in range(self.tag_list.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter in the custom-tag field adds the tag instead of saving the dialog.
        if watched is self.custom_tag_edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.custom_tag_edit.text().strip():
                self._add_custom_tag()
                return True
        return super().eventFilter(watched, event)

    # --- Draft -------------------------------------------------------------------------------------
    def draft_state(self) -> dict:
        """The form (and a custom tag still being typed) as plain values, for the autosaved draft."""
        return {**self.data(), "custom_tag": self.custom_tag_edit.text()}

    def restore_draft(self, state: dict) -> None:
        """Put a draft back; a unit no longer offered keeps the current choice, unknown keys are ignored."""
        for key, edit in (
            ("name", self.name_edit), ("uscc", self.uscc_edit), ("township", self.township_edit),
            ("address", self.address_edit), ("legal_rep", self.legal_rep_edit),
            ("contact_name", self.contact_edit), ("contact_phone", self.phone_edit),
            ("custom_tag", self.custom_tag_edit),
        ):  # fmt: skip
            if key in state:
                edit.setText(as_text(state[key]))
        if state.get("unit_id"):
            set_combo_data(self.unit_combo, state["unit_id"])
        if "industry" in state:
            self.industry_combo.setCurrentText(as_text(state["industry"]))
        if "scale" in state:
            set_combo_data(self.scale_combo, state["scale"])
        set_combo_text(self.status_combo, state.get("status"))
        if isinstance(state.get("tags"), list):
            chosen = {t for t in state["tags"] if isinstance(t, str) and t.strip()}
            for tag in sorted(chosen - {self.tag_list.item(i).text() for i in range(self.tag_list.count())}):
                self._add_tag_item(tag, True)
            for i in range(self.tag_list.count()):
                item = self.tag_list.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.text() in chosen else Qt.CheckState.Unchecked)
        if "note" in state:
            self.note_edit.setPlainText(as_text(state["note"]))

    # --- Checking ----------------------------------------------------------------------------------
    def data(self) -> dict:
        """The form as the dict EnterpriseService.create/update take."""
        return {
            "name": self.name_edit.text(),
            "uscc": self.uscc_edit.text(),
            "unit_id": self.unit_combo.currentData(),
            "township": self.township_edit.text(),
            "address": self.address_edit.text(),
            "industry": self.industry_combo.currentText(),
            "scale": self.scale_combo.currentData(),
            "tags": self.tags(),
            "legal_rep": self.legal_rep_edit.text(),
            "contact_name": self.contact_edit.text(),
            "contact_phone": self.phone_edit.text(),
            "status": self.status_combo.currentText(),
            "note": self.note_edit.toPlainText(),
        }

    def _edited(self, key: str) -> None:
        self._touched.add(key)
        self._check_timer.start()

    def _update_preview(self) -> None:
        raw = self.uscc_edit.text()
        code = uscc_rules.normalize(raw)
        if not code:
            self.uscc_preview.hide()
            return
        text = f"已输入 {len(code)}/18 位"
        if code != raw.strip():
            text = f"规范化为 {code}（已转半角、大写并去掉空格） · {len(code)}/18 位"
        self.uscc_preview.setText(text)
        self.uscc_preview.show()

    def run_check(self) -> bool:
        """Check the form now (without saving); show messages for touched fields. True when nothing blocks saving."""
        self._check_timer.stop()
        error: AppError | None = None
        warnings: tuple[str, ...] = ()
        try:
            warnings = self.services.enterprises.check(self.data(), editing_id=self.ent_id)
        except AppError as exc:
            error = exc
        self._show(error, warnings)
        return error is None

    def _show(self, error: AppError | None, warnings: tuple[str, ...]) -> None:
        for box in self.fields.values():
            box.clear_message()
        self.form_error.hide()
        self._existing_id = None
        self.view_existing_button.hide()
        if error is not None:
            key = error.field if error.field in self.fields else None
            if key is None:
                self.form_error.setText(error.message)
                self.form_error.show()
            elif key in self._touched:
                self.fields[key].show_error(error.message)
                if isinstance(error, DuplicateError) and error.existing_id:
                    self._existing_id = error.existing_id
                    self.view_existing_button.show()
        if warnings and not self.fields["uscc"].has_error():
            self.fields["uscc"].show_warning("注意：" + "；".join(warnings) + "。仍可保存。")
        blocked = not self.form_error.isHidden() or any(box.has_error() for box in self.fields.values())
        self.save_button.setEnabled(not blocked)

    def error_text(self, key: str) -> str:
        """The message shown under field `key` ("" if none)."""
        return self.fields[key].message_text()

    # --- Actions -----------------------------------------------------------------------------------
    def save(self) -> None:
        """Check everything, then create/update; errors appear at their field and all input stays."""
        self._touched.update(FIELDS)
        if not self.run_check():
            self._focus_error()
            return
        service = self.services.enterprises
        try:
            result = service.update(self.ent_id, self.data()) if self.ent_id else service.create(self.data())
        except ValidationError as exc:
            self._show(exc, ())
            self._focus_error()
            return
        except AppError as exc:
            self._show(AppError(exc.message), ())
            return
        self.saved_id = result.id
        self.warnings = result.warnings
        self.accept()

    def _focus_error(self) -> None:
        for key in FIELDS:
            if self.fields[key].has_error():
                self.fields[key].editor.setFocus()
                return

    def _view_existing(self) -> None:
        if self._existing_id:
            existing = self._existing_id
            self.reject()
            self.open_existing.emit(existing)
