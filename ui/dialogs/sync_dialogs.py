"""Dialogs of the 数据同步 screen: confirming another installation's key fingerprint before trusting it — the
hub's when joining it (invite), an applicant's when enrolling it (request)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QFrame, QLabel, QVBoxLayout, QWidget

from app.installation import ROLES
from ui.dialogs.enterprise_dialog import plain_label
from ui.models.enterprise_tabs import local_time


def fingerprint_font(base: QFont) -> QFont:
    """A fixed-width, larger, bold font so the digits of a fingerprint are easy to compare aloud."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(base.pointSizeF() * 1.5)
    font.setBold(True)
    return font


class FingerprintDialog(QDialog):
    """Who the other side says it is, its signing-key fingerprint in large type, and the question to check it.

    The operator compares the fingerprint with the one the other side reads out (phone, paper) before
    pressing the confirm button; 取消 is the default so Enter alone never trusts anyone.
    """

    def __init__(self, title: str, intro: str, rows: list[tuple[str, str]], fingerprint: str, question: str,
                 confirm_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("FingerprintDialog")
        self.setMinimumWidth(480)
        self.fingerprint = fingerprint
        root = QVBoxLayout(self)
        root.setSpacing(10)
        self.intro_label = plain_label(intro)
        self.intro_label.setWordWrap(True)
        root.addWidget(self.intro_label)

        form = QFormLayout()
        form.setHorizontalSpacing(16)
        self.values: dict[str, str] = {}
        for caption, value in rows:
            label = plain_label(value or "—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(plain_label(caption), label)
            self.values[caption] = value
        root.addLayout(form)

        box = QFrame()
        box.setProperty("role", "card")
        inner = QVBoxLayout(box)
        inner.addWidget(plain_label("签名密钥指纹", role="hint"))
        self.fingerprint_label = plain_label(fingerprint or "—")
        self.fingerprint_label.setObjectName("fingerprint")
        self.fingerprint_label.setFont(fingerprint_font(self.font()))
        self.fingerprint_label.setStyleSheet("color: #1f5fa8;")
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner.addWidget(self.fingerprint_label)
        root.addWidget(box)

        self.question_label = QLabel(question)
        self.question_label.setTextFormat(Qt.TextFormat.PlainText)
        self.question_label.setWordWrap(True)
        self.question_label.setStyleSheet("font-weight: 600;")
        root.addWidget(self.question_label)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(confirm_text)
        self.ok_button.setAutoDefault(False)
        self.ok_button.setDefault(False)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText("取消")
        cancel.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        cancel.setFocus()

    def ask(self) -> bool:
        """Show modally; True when the operator confirmed. The dialog is deleted afterwards."""
        accepted = self.exec() == QDialog.DialogCode.Accepted
        self.deleteLater()
        return accepted


def invite_dialog(path: Path, invite: dict, parent: QWidget | None = None) -> FingerprintDialog:
    """加入汇总端: the hub of a verified invite (SyncService.read_invite) and its fingerprint to compare."""
    hub = invite.get("hub") or {}
    return FingerprintDialog(
        "加入汇总端",
        f"邀请文件 {path.name} 来自以下汇总端。加入后，本机的同步文件只发给它，并接受它下发的数据。",
        [("汇总端单位", hub.get("unit_name") or hub.get("unit_id") or ""),
         ("角色", ROLES.get(hub.get("role"), hub.get("role") or "")),
         ("邀请生成时间", local_time(invite.get("created_at")))],
        invite.get("signing_fingerprint") or "",
        "请通过电话或当面与汇总端核对：上面的指纹与汇总端“数据同步”页显示的签名密钥指纹完全一致吗？"
        "不一致时请不要加入（文件可能被调换）。",
        "一致，加入", parent)


def request_dialog(path: Path, request: dict, parent: QWidget | None = None) -> FingerprintDialog:
    """登记申请文件: who asks to report to this hub (SyncService.read_request) and its fingerprint to compare."""
    inst = request.get("installation") or {}
    return FingerprintDialog(
        "登记申请文件",
        f"申请文件 {path.name} 请求向本机报送数据：",
        [("单位", inst.get("unit_name") or inst.get("unit_id") or ""),
         ("角色", ROLES.get(inst.get("role"), inst.get("role") or "")),
         ("操作人", inst.get("operator") or ""), ("安装标识", inst.get("id") or ""),
         ("申请时间", local_time(request.get("created_at")))],
        request.get("signing_fingerprint") or "",
        "请通过电话或当面与申请人核对：上面的指纹与对方“数据同步”页显示的签名密钥指纹完全一致吗？"
        "只有一致才登记；登记后本机接受它的同步文件。",
        "一致，登记", parent)
