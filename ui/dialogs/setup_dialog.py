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
CITY_UNIT_KINDS = ("市",)
ROLE_TIPS = {
    "station": "助企干部使用：登记企业、走访和问题，导出同步文件交给汇总端。",
    "district": "区县办公室使用：导入干部端的同步文件，跟踪问题，汇总后报送市级。",
    "city": "市办公室使用：导入区县和干部端的同步文件，全市统计，向下级下发。",
}


class SetupDialog(QDialog):
    """Collects the first-run answers and initialises the database; `load_demo` tells the caller what to do next."""

    def __init__(self, services: Services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.load_demo = False
        self.setWindowTitle(f"{APP_NAME} · 首次设置")
        self.setMinimumWidth(560)
        root = QVBoxLayout(self)
        intro = QLabel(f"欢迎使用{APP_NAME}。请填写本机使用者的信息（状态栏和“帮助 → 关于”中可查看）。"
                       "数据只保存在本机，程序不联网；向区县、市汇总通过“数据同步”文件完成。")
        intro.setWordWrap(True)
        root.addWidget(intro)

        form = QFormLayout()
        self.form = form
        self.role = QComboBox()
        self.role.setObjectName("setup_role")
        for key, label in ROLES.items():
            self.role.addItem(label, key)
            self.role.setItemData(self.role.count() - 1, ROLE_TIPS.get(key), Qt.ItemDataRole.ToolTipRole)
        form.addRow("本机角色", self.role)
        self.role_hint = QLabel()
        self.role_hint.setProperty("role", "hint")
        self.role_hint.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("", self.role_hint)
        self.unit = QComboBox()
        self.unit.setObjectName("setup_unit")
        form.addRow("所属单位", self.unit)
        self.name = QLineEdit()
        self.name.setObjectName("setup_name")
        self.name.setPlaceholderText("例如：王磊")
        form.addRow("您的姓名 *", self.name)
        # A station's operator is also a cadre (for 我的包联); a hub's operator is not.
        self.cadre_role = QComboBox()
        self.cadre_role.addItems(CADRE_ROLES)
        self.cadre_role.setCurrentText("助企干部")
        form.addRow("服务角色", self.cadre_role)
        self.post = QLineEdit()
        self.post.setPlaceholderText("例如：区发改委副主任")
        form.addRow("职务", self.post)
        self.phone = QLineEdit()
        form.addRow("联系电话", self.phone)
        self.cadre_fields = (self.cadre_role, self.post, self.phone)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        root.addLayout(form)
        self.demo = QCheckBox("载入演示数据，便于熟悉功能")
        self.demo.setObjectName("setup_demo")
        demo_hint = QLabel("约 60 家企业、150 次走访；演示数据可随时在新数据库中重建。")
        demo_hint.setProperty("role", "hint")
        demo_box = QVBoxLayout()
        demo_box.setSpacing(0)
        demo_box.addWidget(self.demo)
        demo_box.addWidget(demo_hint)
        demo_hint.setContentsMargins(22, 0, 0, 0)
        root.addLayout(demo_box)
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

    def is_station(self) -> bool:
        return self.role.currentData() == "station"

    def _role_changed(self, _index: int = 0) -> None:
        """Units of the chosen role (the city for 市级汇总端); cadre fields only for a station."""
        role = self.role.currentData()
        self.role_hint.setText(ROLE_TIPS.get(role, ""))
        current = self.unit.currentText() or DEFAULT_UNIT
        units = self.services.reference.units(CITY_UNIT_KINDS) if role == "city" else \
            self.services.reference.districts()
        self.unit.clear()
        for u in units:
            self.unit.addItem(u.name, u.id)
        index = self.unit.findText(current)
        self.unit.setCurrentIndex(index if index >= 0 else (self.unit.findText(DEFAULT_UNIT) if role != "city" else 0))
        station = self.is_station()
        for widget in self.cadre_fields:
            widget.setEnabled(station)
            self.form.setRowVisible(widget, station)
        if self.isVisible():
            self.adjustSize()  # fewer rows for a hub: shrink to fit

    def accept(self) -> None:
        station = self.is_station()
        try:
            self.services.initialise(role=self.role.currentData(), unit_name=self.unit.currentText(),
                                     operator=self.name.text(),
                                     cadre_role=self.cadre_role.currentText() if station else None,
                                     post=self.post.text() if station else None,
                                     phone=self.phone.text() if station else None)
        except AppError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return
        self.load_demo = self.demo.isChecked()
        super().accept()
