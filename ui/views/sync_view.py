"""数据同步: who this installation is and whom it reports to, export and import of sync files, and the lists that
follow from them (ledger, conflicts, waiting operations and, on a hub, the enrolled installations)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError, SyncCancelled
from app.installation import ROLES
from app.services import Services
from ui.bus import AppBus
from ui.dialogs.enterprise_dialog import plain_label
from ui.dialogs.sync_dialogs import invite_dialog, request_dialog
from ui.errors import show_error
from ui.models.enterprise_tabs import local_time
from ui.models.sync_models import (
    KINDS,
    ConflictModel,
    EnrolledModel,
    ImportResultModel,
    LedgerModel,
    WaitingModel,
)
from ui.settings import Key, Settings
from ui.tasks import Progress
from ui.widgets.tables import make_table

log = logging.getLogger(__name__)

VIEW_NAME = "SyncView"
SYNC_DIR: Key[str] = Key("paths/sync_dir", "", str, "上次存放或读取同步文件的文件夹")
PACKAGE_FILTER = "同步文件 (*.zqpkg);;所有文件 (*)"
HUB_ROLES = ("district", "city")
JOIN_TIP = "读入汇总端发来的邀请文件（.zqinvite），核对指纹后生成登记申请文件交回汇总端"
LEDGER_TAB, CONFLICT_TAB, WAITING_TAB, ENROLLED_TAB = range(4)


def _reporter(progress: Progress):
    """The engine's progress(done, total, text) -> False-to-cancel, over a task's Progress."""

    def report(done: int, total: int, text: str | None = None) -> bool:
        progress.update(done, total, text)
        return not progress.cancelled

    return report


def _run_engine(services: Services, call):
    """`call(sync)` over a second connection, in the worker thread (a SQLite connection stays in its thread)."""
    svc = services.reader()
    try:
        return call(svc.sync)
    finally:
        services.close_reader(svc)


def _bold(label: QLabel, scale: float = 1.0) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    if scale != 1.0:
        font.setPointSizeF(font.pointSizeF() * scale)
    label.setFont(font)
    return label


class Notice(QFrame):
    """The inline outcome of the last action (files written, what to do next), with 打开文件夹 and 关闭."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sync_notice")
        self.setProperty("role", "card")
        self.setStyleSheet("QFrame#sync_notice { background: #eef6ee; border: 1px solid #a5d6a7; }")
        self.folder: Path | None = None
        self.label = plain_label()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("打开文件夹")
        self.open_button.clicked.connect(self._open_folder)
        close = QPushButton("关闭")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 8, 8)
        lay.addWidget(self.label, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.hide()

    def say(self, text: str, folder: Path | None = None) -> None:
        self.label.setText(text)
        self.folder = folder
        self.open_button.setVisible(folder is not None)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def _open_folder(self) -> None:
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))


class SyncView(QWidget):
    """The 数据同步 page. All work goes through `services.sync`; export and import run in the task runner."""

    def __init__(self, services: Services, bus: AppBus, settings: Settings, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(VIEW_NAME)
        self.services = services
        self.bus = bus
        self.settings = settings
        self.tasks = tasks
        self.identity: dict = {}
        self.recipients: list[dict] = []
        self._operators: dict[str, str | None] = {}
        self._refreshes = 0
        self._build()
        self._connect()
        self.refresh()

    # --- Building ----------------------------------------------------------------------------------
    @property
    def is_hub(self) -> bool:
        return self.services.installation.role in HUB_ROLES

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 14, 18, 10)
        root.setSpacing(10)
        root.addWidget(self._build_header())
        root.addLayout(self._build_actions())
        self.notice = Notice()
        root.addWidget(self.notice)
        root.addWidget(self._build_results())
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_ledger_tab(), "同步记录")
        self.tabs.addTab(self._build_conflict_tab(), "冲突")
        self.tabs.addTab(self._build_waiting_tab(), "等待中的操作")
        if self.is_hub:
            self.tabs.addTab(self._build_enrolled_tab(), "已登记的安装")
        root.addWidget(self.tabs, 1)

    def _build_header(self) -> QFrame:
        card = QFrame()
        card.setProperty("role", "card")
        grid = QGridLayout(card)
        grid.setContentsMargins(14, 10, 14, 10)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        self.me_label = _bold(plain_label(), 1.25)
        self.me_label.setObjectName("sync_me")
        self.keys_label = plain_label(role="hint")
        self.keys_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_problem_label = plain_label(role="error")
        self.key_problem_label.setWordWrap(True)
        self.hub_label = plain_label()
        self.hub_label.setObjectName("sync_hub")
        self.hub_label.setWordWrap(True)
        self.hub_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.join_button = QPushButton("加入汇总端…")
        self.join_button.setObjectName("sync_join")
        self.join_button.setToolTip(JOIN_TIP)
        self.pending_label = _bold(plain_label())
        self.pending_label.setObjectName("sync_pending")
        self.pending_detail = plain_label(role="hint")
        grid.addWidget(self.me_label, 0, 0)
        grid.addWidget(self.keys_label, 1, 0)
        grid.addWidget(self.key_problem_label, 2, 0, 1, 3)
        grid.addWidget(self.hub_label, 3, 0, 1, 2)
        grid.addWidget(self.join_button, 3, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.pending_label, 0, 1, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.pending_detail, 1, 1, 1, 2, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)
        return card

    def _build_actions(self) -> QVBoxLayout:
        def big(text: str, name: str, tip: str) -> QPushButton:
            button = QPushButton(text)
            button.setObjectName(name)
            button.setProperty("role", "primary")
            button.setMinimumHeight(38)
            button.setMinimumWidth(170)
            _bold(button, 1.1)
            button.setToolTip(tip)
            return button

        self.export_button = big("导出同步文件…", "sync_export",
                                 "把本机的修改写成同步文件（.zqpkg），交给汇总端或下级（Ctrl+E）")
        self.import_button = big("导入同步文件…", "sync_import",
                                 "读入汇总端或下级发来的同步文件，可一次选多个（Ctrl+I）")
        self.recipient_caption = plain_label("发往")
        self.recipient_combo = QComboBox()
        self.recipient_combo.setObjectName("sync_recipient")
        self.recipient_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.recipient_caption.setBuddy(self.recipient_combo)
        self.recipient_label = plain_label()
        self.full_check = QCheckBox("全量导出")
        self.full_check.setObjectName("sync_full")
        self.full_check.setToolTip("写出本机的全部数据，而不只是对方尚未确认的修改（对方数据丢失、重新登记后使用）")
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.export_button)
        row.addSpacing(4)
        row.addWidget(self.recipient_caption)
        row.addWidget(self.recipient_combo)
        row.addWidget(self.recipient_label)
        row.addSpacing(8)
        row.addWidget(self.full_check)
        row.addSpacing(32)
        row.addWidget(self.import_button)
        row.addStretch(1)
        self.action_hint = plain_label(role="hint")
        self.action_hint.setWordWrap(True)
        lay = QVBoxLayout()
        lay.setSpacing(4)
        lay.addLayout(row)
        lay.addWidget(self.action_hint)
        return lay

    def _build_results(self) -> QGroupBox:
        self.results_box = QGroupBox("本次导入结果")
        self.results_box.setObjectName("sync_results")
        self.results_summary = plain_label()
        self.results_summary.setWordWrap(True)
        close = QPushButton("收起")
        close.clicked.connect(self.results_box.hide)
        self.results_model = ImportResultModel(parent=self)
        self.results_table = make_table(self.results_model)
        head = QHBoxLayout()
        head.addWidget(self.results_summary, 1)
        head.addWidget(close)
        lay = QVBoxLayout(self.results_box)
        lay.addLayout(head)
        lay.addWidget(self.results_table)
        self.results_box.hide()
        return self.results_box

    @staticmethod
    def _tab(*parts) -> QWidget:
        tab = QWidget()
        lay = QVBoxLayout(tab)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        for part in parts:
            if isinstance(part, QHBoxLayout):
                lay.addLayout(part)
            else:
                lay.addWidget(part, 1 if isinstance(part, QTableView) else 0)
        return tab

    def _build_ledger_tab(self) -> QWidget:
        self.ledger_model = LedgerModel(parent=self)
        self.ledger_table = make_table(self.ledger_model)
        self.ledger_table.setObjectName("sync_ledger")
        hint = plain_label("发出的文件在汇总端导入并回送确认后显示“已确认”；“有缺口”表示对方的文件有遗漏，"
                           "请对方把未送达的同步文件补送过来（对方每次导出都会重复尚未确认的修改）。", role="hint")
        hint.setWordWrap(True)
        return self._tab(self.ledger_table, hint)

    def _build_conflict_tab(self) -> QWidget:
        self.keep_current_button = QPushButton("保留当前值")
        self.keep_current_button.setObjectName("sync_keep_current")
        self.keep_current_button.setToolTip("确认记录现在的值，另一值作废（保留在冲突记录中备查）")
        self.keep_other_button = QPushButton("改用另一值")
        self.keep_other_button.setObjectName("sync_keep_other")
        self.keep_other_button.setToolTip("把记录改成另一值（作为一次普通修改同步出去），当前值保留在冲突记录中备查")
        self.show_resolved = QCheckBox("显示已处理")
        self.show_resolved.setObjectName("sync_show_resolved")
        bar = QHBoxLayout()
        bar.addWidget(self.keep_current_button)
        bar.addWidget(self.keep_other_button)
        bar.addSpacing(12)
        bar.addWidget(self.show_resolved)
        bar.addStretch(1)
        self.conflict_model = ConflictModel(parent=self)
        self.conflict_table = make_table(self.conflict_model)
        self.conflict_table.setObjectName("sync_conflicts")
        hint = plain_label("同一字段在两处都被修改时列在这里，由您决定保留哪个值。处理前记录保持当前值，"
                           "两个值都不会丢失。", role="hint")
        hint.setWordWrap(True)
        return self._tab(bar, self.conflict_table, hint)

    def _build_waiting_tab(self) -> QWidget:
        self.waiting_model = WaitingModel(parent=self)
        self.waiting_table = make_table(self.waiting_model)
        self.waiting_table.setObjectName("sync_waiting")
        hint = plain_label("这些修改所需的记录（例如它所属的企业）还没有收到。它们不会丢失：导入包含该记录的同步文件后"
                           "会自动补上。", role="hint")
        hint.setWordWrap(True)
        return self._tab(self.waiting_table, hint)

    def _build_enrolled_tab(self) -> QWidget:
        self.invite_button = QPushButton("生成邀请文件…")
        self.invite_button.setObjectName("sync_invite")
        self.invite_button.setToolTip("生成本机的邀请文件（.zqinvite），交给要向本机报送数据的下级")
        self.enroll_button = QPushButton("登记申请文件…")
        self.enroll_button.setObjectName("sync_enroll")
        self.enroll_button.setToolTip("读入下级交回的登记申请文件（.zqjoin），核对指纹后登记")
        self.revoke_button = QPushButton("撤销登记")
        self.revoke_button.setObjectName("sync_revoke")
        self.revoke_button.setToolTip("不再接受选中安装的同步文件（重新登记其申请文件可恢复）")
        self.enrolled_count = plain_label()
        bar = QHBoxLayout()
        bar.addWidget(self.invite_button)
        bar.addWidget(self.enroll_button)
        bar.addWidget(self.revoke_button)
        bar.addStretch(1)
        bar.addWidget(self.enrolled_count)
        self.enrolled_model = EnrolledModel(parent=self)
        self.enrolled_table = make_table(self.enrolled_model)
        self.enrolled_table.setObjectName("sync_enrolled")
        hint = plain_label("登记步骤：① 生成邀请文件交给下级，并电话告知本机签名密钥指纹；② 下级在“数据同步”中"
                           "“加入汇总端”，交回登记申请文件（.zqjoin）；③ 在这里“登记申请文件”，与下级核对其指纹后登记。"
                           "只接受已登记安装的同步文件。", role="hint")
        hint.setWordWrap(True)
        return self._tab(bar, self.enrolled_table, hint)

    def _connect(self) -> None:
        self.join_button.clicked.connect(self.join_hub)
        self.export_button.clicked.connect(self.export_files)
        self.import_button.clicked.connect(self.import_files)
        self.keep_current_button.clicked.connect(lambda: self.resolve_conflict("current"))
        self.keep_other_button.clicked.connect(lambda: self.resolve_conflict("other"))
        self.show_resolved.toggled.connect(lambda _on: self._load_conflicts())
        self.conflict_table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        if self.is_hub:
            self.invite_button.clicked.connect(self.make_invite)
            self.enroll_button.clicked.connect(self.enroll_request)
            self.revoke_button.clicked.connect(self.revoke_selected)
            self.enrolled_table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        QShortcut(QKeySequence("Ctrl+E"), self, self.export_files, context=context)
        QShortcut(QKeySequence("Ctrl+I"), self, self.import_files, context=context)

    # --- Refreshing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read identity, hub, pending count and every list from the engine."""
        self._refreshes += 1
        sync = self.services.sync
        try:
            self.identity = sync.identity()
            hub = None if self.services.installation.role == "city" else sync.hub()
            pending = sync.pending()
            self.recipients = sync.recipients()
            ledger = sync.ledger()
            waiting = sync.waiting()
            enrolled = sync.enrolled() if self.is_hub else []
            self._operators = {r["installation_id"]: r.get("operator") for r in enrolled}
        except AppError as exc:  # e.g. a damaged key file: say so in the header, keep the screen usable
            log.warning("Sync screen refresh failed: %s", exc.message)
            self.key_problem_label.setText(exc.message)
            self.key_problem_label.show()
            return
        self._show_identity(hub)
        self._show_pending(pending, hub)
        self.ledger_model.set_rows([{**e, "peer_label": self._with_operator(e.get("peer_label"), e.get("peer_id"))}
                                    for e in ledger])
        self._fill_recipients()
        self.waiting_model.set_rows(waiting)
        self.tabs.setTabText(WAITING_TAB, f"等待中的操作（{len(waiting)}）" if waiting else "等待中的操作")
        self._load_conflicts()
        if self.is_hub:
            self._show_enrolled(enrolled)
        self._update_buttons()

    def _show_identity(self, hub: dict | None) -> None:
        me = self.identity
        self.me_label.setText(f"本机：{me.get('unit')} · {me.get('role_label')} · 操作人 {me.get('operator')}")
        self.keys_label.setText(f"签名密钥指纹 {me.get('signing_fingerprint') or '—'}　　"
                                f"加密密钥指纹 {me.get('encryption_fingerprint') or '—'}")
        self.keys_label.setToolTip(f"安装标识：{me.get('installation_id')}\n私钥文件：{me.get('key_file') or '—'}")
        if me.get("key_file_ok"):
            self.key_problem_label.hide()
        else:
            self.key_problem_label.setText(f"私钥文件缺失或损坏（{me.get('key_file') or '—'}）：无法导出或导入同步文件。"
                                           "请从备份恢复数据文件夹中的 keys 文件夹。")
            self.key_problem_label.show()
        role = self.services.installation.role
        self.join_button.setVisible(role != "city")
        if role == "city":
            self.hub_label.setText("本机是市级汇总端，不向其他汇总端报送；在“已登记的安装”中管理向本机报送的区县和干部端。")
            self.hub_label.setStyleSheet("")
        elif hub is None:
            self.hub_label.setText("尚未加入汇总端。请向区县或市汇总端索取邀请文件（.zqinvite），然后点击右侧“加入汇总端…”。")
            self.hub_label.setStyleSheet("color: #b26a00; font-weight: 600;")
            self.join_button.setText("加入汇总端…")
            self.join_button.setToolTip(JOIN_TIP)
            self.join_button.setProperty("role", "primary")
        else:
            joined = local_time(hub.get("joined_at"))
            self.hub_label.setText(f"汇总端：{hub.get('unit')} · {hub.get('role_label')} · 签名密钥指纹 "
                                   f"{hub.get('signing_fingerprint')}" + (f" · {joined} 加入" if joined else ""))
            self.hub_label.setStyleSheet("")
            self.join_button.setText("重新加入…")
            self.join_button.setToolTip("用汇总端新发的邀请文件重新加入（例如汇总端换了电脑，或改为向另一汇总端报送）")
            self.join_button.setProperty("role", None)
        self.join_button.style().unpolish(self.join_button)
        self.join_button.style().polish(self.join_button)

    def _show_pending(self, pending: dict, hub: dict | None) -> None:
        n = pending.get("operations") or 0
        if self.services.installation.role == "city":
            self.pending_label.setText("本机不向上报送")
            n = 0
        else:
            self.pending_label.setText(f"{n} 条修改未被汇总端确认")
        self.pending_label.setStyleSheet("color: #b26a00;" if n else "color: #2e7d32;")
        parts = []
        if pending.get("last_export"):
            parts.append(f"上次导出 {local_time(pending['last_export'])}")
        if pending.get("last_acknowledged"):
            parts.append(f"上次确认 {local_time(pending['last_acknowledged'])}")
        self.pending_detail.setText(" · ".join(parts) or ("尚未导出过" if hub is not None else ""))

    def _fill_recipients(self) -> None:
        """发往: a combo when there is a choice, a plain label for the one recipient, a hint when there is none."""
        current = self.recipient_combo.currentData()
        self.recipient_combo.blockSignals(True)
        self.recipient_combo.clear()
        downs = [r for r in self.recipients if r.get("kind") == "down"]
        for r in self.recipients:
            self.recipient_combo.addItem(self._recipient_text(r), None if r.get("kind") == "up" else
                                         r.get("installation_id"))
            self.recipient_combo.setItemData(self.recipient_combo.count() - 1,
                                             f"安装标识：{r.get('installation_id')}", Qt.ItemDataRole.ToolTipRole)
        if len(downs) > 1:
            self.recipient_combo.addItem(f"下发：全部已登记的安装（每个一份，共 {len(downs)} 份）", "all")
        index = self.recipient_combo.findData(current)
        self.recipient_combo.setCurrentIndex(max(0, index))
        self.recipient_combo.blockSignals(False)
        many = self.recipient_combo.count() > 1
        self.recipient_combo.setVisible(many)
        self.recipient_caption.setVisible(bool(self.recipients))
        self.recipient_label.setVisible(len(self.recipients) == 1)
        if len(self.recipients) == 1:
            self.recipient_label.setText(self._recipient_text(self.recipients[0]))
        self.export_button.setEnabled(bool(self.recipients))
        if not self.recipients:
            role = self.services.installation.role
            first = {"station": "请先“加入汇总端”", "city": "请先在“已登记的安装”中登记下级"}.get(
                role, "请先“加入汇总端”或在“已登记的安装”中登记下级")
            hint = f"还没有可以发送的对象：{first}。"
        else:
            hint = "导出后把同步文件用U盘或公文邮件交给对方，对方在“数据同步”中导入。同一文件重复导入不会重复记录。"
        self.action_hint.setText(hint)

    def _recipient_text(self, recipient: dict) -> str:
        """The engine's label ("下发：金水区 干部端"), with the operator of an enrolled installation so that two
        stations of one unit can be told apart."""
        label = recipient.get("label") or recipient.get("installation_id") or ""
        kind = KINDS.get(recipient.get("kind"), "")
        if kind and not label.startswith(kind):
            label = f"{kind}：{label}"
        return self._with_operator(label, recipient.get("installation_id"))

    def _with_operator(self, label: str | None, installation_id: str | None) -> str:
        label = label or installation_id or ""
        operator = self._operators.get(installation_id or "")
        return f"{label}（{operator}）" if operator and operator not in label else label

    def _load_conflicts(self) -> None:
        sync = self.services.sync
        try:
            open_rows = sync.conflicts()
            rows = open_rows + (sync.conflicts(resolved=True) if self.show_resolved.isChecked() else [])
        except AppError as exc:
            show_error(self, exc)
            return
        selected = self._selected(self.conflict_table, self.conflict_model).get("id")
        self.conflict_model.set_rows(rows)
        self._reselect(self.conflict_table, self.conflict_model, selected)
        self.conflict_table.setColumnHidden(len(self.conflict_model.columns) - 1, not self.show_resolved.isChecked())
        n = len(open_rows)
        self.tabs.setTabText(CONFLICT_TAB, f"冲突（{n}）" if n else "冲突")
        self._update_buttons()

    def _show_enrolled(self, rows: list[dict]) -> None:
        selected = self._selected(self.enrolled_table, self.enrolled_model).get("installation_id")
        self.enrolled_model.set_rows(rows)
        self._reselect(self.enrolled_table, self.enrolled_model, selected)
        active = sum(1 for r in rows if not r.get("revoked_at"))
        self.enrolled_count.setText(f"已登记 {active} 个" + (f"，另有 {len(rows) - active} 个已撤销" if
                                                           len(rows) > active else ""))
        self.tabs.setTabText(ENROLLED_TAB, f"已登记的安装（{active}）")

    @staticmethod
    def _selected(table: QTableView, model) -> dict:
        index = table.currentIndex()
        return model.row_dict(index.row()) if index.isValid() else {}

    @staticmethod
    def _reselect(table: QTableView, model, record_id) -> None:
        for row in range(model.rowCount()):
            if record_id is not None and model.id_at(row) == record_id:
                table.setCurrentIndex(model.index(row, 0))
                table.selectRow(row)
                return
        table.setCurrentIndex(QModelIndex())

    def _update_buttons(self) -> None:
        conflict = self._selected(self.conflict_table, self.conflict_model)
        can_resolve = bool(conflict) and not conflict.get("resolved_at")
        self.keep_current_button.setEnabled(can_resolve)
        self.keep_other_button.setEnabled(can_resolve)
        if self.is_hub:
            row = self._selected(self.enrolled_table, self.enrolled_model)
            self.revoke_button.setEnabled(bool(row) and not row.get("revoked_at"))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _changed(self, message: str, *, data: bool = False) -> None:
        """After an action: tell the other views when business data changed, refresh this page, say so."""
        before = self._refreshes
        if data:
            self.bus.data_changed.emit()
        if self._refreshes == before:
            self.refresh()
        self.bus.status_message.emit(message)

    # --- Folders -----------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        folder = self.settings.get(SYNC_DIR)
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def _remember_dir(self, path: str | Path) -> None:
        path = Path(path)
        self.settings.set(SYNC_DIR, str(path if path.is_dir() else path.parent))

    def _choose_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self, title, self._start_dir())
        if not folder:
            return None
        self._remember_dir(folder)
        return Path(folder)

    # --- Export and import -------------------------------------------------------------------------
    def export_files(self) -> None:
        if not self.export_button.isEnabled():
            return
        folder = self._choose_folder("选择保存同步文件的文件夹（例如U盘）")
        if folder is None:
            return
        to = self.recipient_combo.currentData() if self.recipient_combo.count() > 1 else (
            None if not self.recipients or self.recipients[0].get("kind") == "up" else
            self.recipients[0].get("installation_id"))
        full = self.full_check.isChecked()
        services = self.services

        def work(progress: Progress):
            return _run_engine(services,
                               lambda sync: list(sync.export(folder, to=to, full=full, progress=_reporter(progress))))

        self.tasks.run(work, on_done=lambda results: self._exported(results, folder),
                       on_error=lambda exc: self._failed(exc, "已取消导出，没有写出文件。"),
                       label="正在导出同步文件…", parent_widget=self)

    def _exported(self, results: list, folder: Path) -> None:
        self.full_check.setChecked(False)
        if not results:
            self.notice.say("没有需要导出的内容。")
            self._changed("没有需要导出的内容")
            return
        lines = [f"已写出 {len(results)} 个同步文件到 {folder}：" if len(results) > 1 else f"已写出同步文件到 {folder}："]
        for r in results:
            lines.append(f"　· {Path(r.path).name}（发往 {r.recipient_label}，{r.operations} 条修改）")
        peers = "、".join(dict.fromkeys(r.recipient_label for r in results))
        lines.append(f"下一步：把文件复制到U盘或通过公文邮件交给{peers}，对方在“数据同步”中点击“导入同步文件…”。"
                     "对方导入并回送确认前，这些修改会在每次导出时重复写出，丢失文件不会丢数据。")
        self.notice.say("\n".join(lines), folder)
        names = "、".join(Path(r.path).name for r in results)
        self._changed(f"已导出同步文件：{names}")

    def import_files(self, paths: list[str] | None = None) -> None:
        if not paths:
            paths, _ = QFileDialog.getOpenFileNames(self, "选择要导入的同步文件（可多选）", self._start_dir(),
                                                    PACKAGE_FILTER)
            if not paths:
                return
        self._remember_dir(paths[0])
        files = [Path(p) for p in paths]
        services = self.services

        def work(progress: Progress):
            return _run_engine(services, lambda sync: [
                r.as_dict() for r in sync.import_files(files, progress=_reporter(progress))])

        self.tasks.run(work, on_done=self._imported,
                       on_error=lambda exc: self._failed(exc, "已取消导入。", data=True),
                       label="正在导入同步文件…", parent_widget=self)

    def _imported(self, results: list[dict]) -> None:
        self.results_model.set_rows(results)
        rows = min(len(results), 6)
        self.results_table.setFixedHeight(self.results_table.horizontalHeader().sizeHint().height()
                                          + rows * self.results_table.verticalHeader().defaultSectionSize() + 8)
        counts = {s: sum(1 for r in results if r.get("status") == s) for s in ("imported", "already", "rejected")}
        conflicts = sum(r.get("conflicts") or 0 for r in results if r.get("status") == "imported")
        waiting = sum(r.get("waiting") or 0 for r in results if r.get("status") == "imported")
        parts = [f"已导入 {counts['imported']} 个"] if counts["imported"] or len(results) == 1 else []
        if counts["already"]:
            parts.append(f"已导入过 {counts['already']} 个（未重复记录）")
        if counts["rejected"]:
            parts.append(f"被拒绝 {counts['rejected']} 个（未导入，原因见“说明”）")
        summary = f"共 {len(results)} 个文件：" + "，".join(parts) + "。"
        if conflicts:
            summary += f"新增冲突 {conflicts} 条，请在下方“冲突”中处理。"
        if waiting:
            summary += f"{waiting} 条修改在等待所需记录，见“等待中的操作”。"
        self.results_summary.setText(summary)
        self.results_summary.setStyleSheet("color: #c62828;" if counts["rejected"] else "")
        self.results_box.show()
        self.notice.hide()
        if conflicts:
            self.tabs.setCurrentIndex(CONFLICT_TAB)
        self._changed(summary, data=bool(counts["imported"]))

    def _failed(self, exc: BaseException, cancelled: str, *, data: bool = False) -> None:
        """A cancel (the engine says what was kept) is reported inline; anything else as an error."""
        if isinstance(exc, SyncCancelled):
            message = exc.message or cancelled
            self.notice.say(message)
            self._changed(message, data=data)
            return
        show_error(self, exc)
        self.refresh()

    # --- Conflicts ---------------------------------------------------------------------------------
    def resolve_conflict(self, keep: str) -> None:
        row = self._selected(self.conflict_table, self.conflict_model)
        if not row or row.get("resolved_at"):
            return
        try:
            self.services.sync.resolve_conflict(row["id"], keep)
        except AppError as exc:
            show_error(self, exc)
            return
        what = f"{row.get('record')} 的“{row.get('field_label')}”"
        if keep == "current":
            self._changed(f"已保留{what}的当前值")
        else:
            self._changed(f"已将{what}改为另一值", data=True)

    # --- Joining a hub (station, district) ---------------------------------------------------------
    def join_hub(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "选择汇总端的邀请文件", self._start_dir(), "邀请文件 (*.zqinvite)")
        if not path:
            return
        self._remember_dir(path)
        sync = self.services.sync
        try:
            invite = sync.read_invite(Path(path))
        except AppError as exc:
            show_error(self, exc)
            return
        hub = invite.get("hub") or {}
        role = ROLES.get(hub.get("role"), hub.get("role") or "")
        dialog = invite_dialog(Path(path), invite, self)
        if not dialog.ask():
            return
        folder = self._choose_folder("选择保存登记申请文件的文件夹（例如U盘）")
        if folder is None:
            return
        try:
            request, fingerprint = sync.join(Path(path), folder)
        except AppError as exc:
            show_error(self, exc)
            return
        me = self.identity.get("signing_fingerprint") or "—"
        self.notice.say(
            f"已加入 {hub.get('unit_name')} {role}（指纹 {fingerprint}）。\n"
            f"登记申请文件已保存为：{request}\n"
            f"下一步：把这个文件交给汇总端（U盘或公文邮件），并告诉对方本机的签名密钥指纹 {me} 以便核对。"
            "汇总端登记后，点击“导出同步文件…”即可上报数据。", Path(request).parent)
        self._changed(f"已加入 {hub.get('unit_name')} {role}，登记申请文件：{Path(request).name}", data=True)

    # --- Enrolled installations (hubs) -------------------------------------------------------------
    def make_invite(self) -> None:
        folder = self._choose_folder("选择保存邀请文件的文件夹（例如U盘）")
        if folder is None:
            return
        try:
            path = self.services.sync.make_invite(folder)
        except AppError as exc:
            show_error(self, exc)
            return
        me = self.identity.get("signing_fingerprint") or "—"
        self.notice.say(
            f"邀请文件已保存为：{path}\n"
            f"下一步：把它交给要向本机报送数据的干部端或区县汇总端，并通过电话告诉对方本机的签名密钥指纹 {me}。"
            "对方加入后会交回登记申请文件（.zqjoin），届时点击“登记申请文件…”。", Path(path).parent)
        self._changed(f"已生成邀请文件：{Path(path).name}")

    def enroll_request(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "选择登记申请文件", self._start_dir(), "登记申请文件 (*.zqjoin)")
        if not path:
            return
        self._remember_dir(path)
        sync = self.services.sync
        try:
            request = sync.read_request(Path(path))
        except AppError as exc:
            show_error(self, exc)
            return
        inst = request.get("installation") or {}
        who = f"{inst.get('unit_name') or inst.get('unit_id')} · {inst.get('operator') or '—'}"
        dialog = request_dialog(Path(path), request, self)
        if not dialog.ask():
            return
        try:
            outcome = sync.enroll(request)
        except AppError as exc:
            show_error(self, exc)
            return
        text = {"enrolled": f"已登记 {who}，今后可以导入它的同步文件。",
                "already": f"{who} 已经登记过，无需重复登记。",
                "restored": f"已恢复 {who} 的登记，今后可以再次导入它的同步文件。"}.get(outcome, f"已登记 {who}。")
        self.notice.say(text + "\n下一步：请对方导出同步文件交给本机导入；本机导出时可选择向它下发。")
        self.tabs.setCurrentIndex(ENROLLED_TAB)
        self._changed(text)
        self._reselect(self.enrolled_table, self.enrolled_model, inst.get("id"))
        self._update_buttons()

    def revoke_selected(self) -> None:
        row = self._selected(self.enrolled_table, self.enrolled_model)
        if not row or row.get("revoked_at"):
            return
        who = f"{row.get('unit')} · {row.get('operator') or row.get('role_label')}"
        note, ok = QInputDialog.getText(
            self, "撤销登记",
            f"撤销后本机不再接受“{who}”的同步文件（重新登记它的申请文件可恢复）。\n请填写撤销原因：")
        if not ok:
            return
        try:
            self.services.sync.revoke(row["installation_id"], note.strip())
        except AppError as exc:
            show_error(self, exc)
            return
        self._changed(f"已撤销“{who}”的登记")
