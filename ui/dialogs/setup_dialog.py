"""First-run setup: who uses this installation (role, unit, name) and whether to start with demo data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.errors import AppError
from app.installation import ROLES
from app.people import ROLES as CADRE_ROLES
from app.services import Services

DEFAULT_UNIT = "金水区"


class SetupDialog(QDialog):
    """Collects the first-run answers and initialises the database; `load_demo` tells the caller what to do next."""

    def __init__(self, services: Services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.load_demo = False
        self.setWindowTitle(f"{APP_NAME} · 首次设置")
        self.setMinimumWidth(520)
        root = QVBoxLayout(self)
        intro = QLabel(f"欢迎使用{APP_NAME}。请填写本机使用者的信息（状态栏和“帮助 → 关于”中可查看）。"
                       "数据只保存在本机，程序不联网；向区县、市汇总通过“数据同步”文件完成。")
        intro.setWordWrap(True)
        root.addWidget(intro)

        form = QFormLayout()
        self.role = QComboBox()
        for key, label in ROLES.items():
            self.role.addItem(label, key)
        # Hub roles arrive with data sync (import of packages); a station is what a cadre installs.
        model = self.role.model()
        for row in range(1, self.role.count()):
            model.item(row).setEnabled(False)
            model.item(row).setToolTip("汇总端随“数据同步”功能提供")
        form.addRow("本机角色", self.role)
        self.unit = QComboBox()
        for u in services.reference.districts():
            self.unit.addItem(u.name, u.id)
        self.unit.setCurrentText(DEFAULT_UNIT)
        form.addRow("所属单位", self.unit)
        self.name = QLineEdit()
        self.name.setObjectName("setup_name")
        self.name.setPlaceholderText("例如：王磊")
        form.addRow("您的姓名 *", self.name)
        self.cadre_role = QComboBox()
        self.cadre_role.addItems(CADRE_ROLES)
        self.cadre_role.setCurrentText("助企干部")
        form.addRow("服务角色", self.cadre_role)
        self.post = QLineEdit()
        self.post.setPlaceholderText("例如：区发改委副主任")
        form.addRow("职务", self.post)
        self.phone = QLineEdit()
        form.addRow("联系电话", self.phone)
        root.addLayout(form)
        self.demo = QCheckBox("载入演示数据（约 60 家企业、150 次走访，便于熟悉功能；演示数据可随时在新数据库中重建）")
        self.demo.setObjectName("setup_demo")
        root.addWidget(self.demo)
        self.error = QLabel()
        self.error.setProperty("role", "error")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.hide()
        root.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("开始使用")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("退出")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        self.name.setFocus()

    def accept(self) -> None:
        try:
            self.services.initialise(role=self.role.currentData(), unit_name=self.unit.currentText(),
                                     operator=self.name.text(), cadre_role=self.cadre_role.currentText(),
                                     post=self.post.text(), phone=self.phone.text())
        except AppError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return
        self.load_demo = self.demo.isChecked()
        super().accept()
