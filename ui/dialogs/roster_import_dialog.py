"""导入名单: choose an enterprise, cadre or 包联 list (.xlsx / .csv), check which column holds what, see every row's
result (新增 / 更新 / 无变化 / 错误, with the reason and the Excel row number), then import the accepted rows in one
transaction or export the error rows for the office to fix — the GUI face of app/roster/service.py.

    dialog = open_roster_import(parent, services, bus, settings, tasks)   # the 文件 menu and the 企业 page
    dialog.open_file(path)                                                # what 选择文件… does after its dialog

Reading, planning and the import run in the task runner on their own connection (services.reader()); the preview
shown is the one `python main.py roster import FILE --dry-run --json` prints.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.roster.columns import FIELDS, KINDS, REQUIRED, Layout, column_label, complete, find_layout
from app.roster.plan import Preview
from app.roster.reader import SUFFIXES, RawSheet
from app.roster.service import ImportResult, RosterError
from app.roster.values import is_blank, plain_text
from app.services import Services
from ui.errors import show_error
from ui.models.enterprise_model import plain_tip
from ui.models.roster_preview_model import FILTERS, RosterPreviewModel, matches
from ui.settings import LAST_IMPORT_DIR, PreserveGeometry, Settings
from ui.widgets.tables import make_table

log = logging.getLogger(__name__)

TITLE = "导入名单"
FILE_FILTER = "表格文件 (*.xlsx *.xlsm *.csv *.txt);;所有文件 (*)"
NOT_IMPORTED = "（不导入）"
UNRECOGNISED = "未能识别表头，请指定各列对应的内容"
SAMPLE_ROWS = 50  # data rows looked at for a column's example value and for columns beyond the header
MAPPING_MAX_HEIGHT = 300


@dataclass
class Loaded:
    """What a reading or planning task hands back: the sheet, its layout and the preview (None: not plannable)."""

    raw: RawSheet
    layout: Layout
    preview: Preview | None
    problem: str = ""  # why there is no preview (a RosterError's message)


# --- Work done in the task runner (plain data in, plain data out; never widgets) -------------------------------------
def _on_reader(services: Services, call):
    """`call(roster)` over a second connection, in the worker thread (a SQLite connection stays in its thread)."""
    svc = services.reader()
    try:
        return call(svc.roster)
    finally:
        services.close_reader(svc)


def usable(layout: Layout) -> bool:
    return layout.kind is not None and complete(layout.kind, layout.mapping)


def plan_sheet(roster, raw: RawSheet, layout: Layout) -> Loaded:
    try:
        return Loaded(raw, layout, roster.plan(raw, layout))
    except RosterError as exc:
        return Loaded(raw, layout, None, exc.message)


def load_sheet(roster, path: Path, kind: str | None, sheet: str | None, keep: Layout | None = None) -> Loaded:
    """Read and plan like RosterService.preview (the active sheet, else the first sheet with a header), keeping
    `keep` — the user's own column mapping — when the header row still holds the same cells."""
    raw = roster.read(path, sheet)
    if keep is not None:
        cells = next((c for n, c in raw.rows if n == keep.header_row), None)
        if cells == keep.header:
            return plan_sheet(roster, raw, Layout(keep.kind, keep.header_row, list(cells), dict(keep.mapping)))
    layout = roster.layout(raw, kind)
    if sheet is None and not usable(layout):
        for other in raw.sheets:
            if other != raw.sheet:
                candidate = roster.read(path, other)
                found = roster.layout(candidate, kind)
                if usable(found):
                    raw, layout = candidate, found
                    break
    return plan_sheet(roster, raw, layout)


def confirm_partial(parent: QWidget, errors: int, writes: int) -> bool:
    """Ask before importing a list with error rows (tests replace this)."""
    box = QMessageBox(QMessageBox.Icon.Question, TITLE, f"有 {errors} 行错误不会导入，是否导入其余 {writes} 行？",
                      parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    go = box.addButton(f"导入 {writes} 行", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is go


def _label(text: str = "", role: str | None = None, *, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if role:
        label.setProperty("role", role)
    return label


def _bold(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


class RosterImportDialog(PreserveGeometry, QDialog):
    """选择文件 → 列对应 → 预览 → 导入 / 导出错误报告."""

    imported = Signal(str)  # ImportResult.message, after the rows were written

    def __init__(self, services: Services, bus, settings: Settings, tasks: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RosterImportDialog")
        self.setWindowTitle(TITLE)
        self.services, self.bus, self.settings, self.tasks = services, bus, settings, tasks
        self.path: Path | None = None
        self.raw: RawSheet | None = None
        self.layout: Layout | None = None
        self.preview: Preview | None = None
        self.result: ImportResult | None = None
        self.report_path: Path | None = None
        self._custom = False  # the user changed the kind, header row or a column: re-reading keeps it
        self._generation = 0  # results of superseded reading/planning tasks are dropped
        self._busy = False
        self._mapping_combos: list[QComboBox] = []
        self._counts: dict[str | None, int] = {}  # rows per filter of the preview shown
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self._update()
        self.resize(1080, 760)
        self.init_geometry(settings)

    # --- Building ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.choose_button = QPushButton("选择文件…")
        self.choose_button.setToolTip("选择要导入的企业名单、干部名单或包联名单（.xlsx 或 .csv），也可以把文件拖到本窗口")
        self.path_label = _label("尚未选择文件。可导入 Excel（.xlsx）或 CSV 文件，也可以把文件拖到本窗口。", "hint")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton("重新读取")
        self.reload_button.setToolTip("按文件的当前内容重新读取并预览（在 Excel 中改正并保存后使用）")

        self.kind_combo = QComboBox()
        self.kind_combo.addItem("自动识别", None)
        for kind, label in KINDS.items():
            self.kind_combo.addItem(label, kind)
        self.kind_hint = _label("", "hint")
        self.sheet_label = _label("工作表")
        self.sheet_combo = QComboBox()
        self.sheet_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.sheet_combo.setMinimumWidth(120)
        self.sheet_label.setBuddy(self.sheet_combo)
        self.header_spin = QSpinBox()
        self.header_spin.setRange(1, 1)
        self.header_spin.setPrefix("第 ")
        self.header_spin.setSuffix(" 行")
        self.header_spin.setKeyboardTracking(False)
        self.header_spin.setMinimumWidth(96)
        self.header_spin.setToolTip("列名（表头）所在的 Excel 行号；其下的行按数据读取")

        top = QGridLayout()
        top.setHorizontalSpacing(8)
        top.addWidget(self.choose_button, 0, 0)
        top.addWidget(self.path_label, 0, 1, 1, 7)
        top.addWidget(self.reload_button, 0, 8)
        kind_label = _label("名单种类")
        kind_label.setBuddy(self.kind_combo)
        header_label = _label("表头行")
        header_label.setBuddy(self.header_spin)
        top.addWidget(kind_label, 1, 0)
        top.addWidget(self.kind_combo, 1, 1)
        top.addWidget(self.kind_hint, 1, 2)
        top.addWidget(self.sheet_label, 1, 3)
        top.addWidget(self.sheet_combo, 1, 4)
        top.addWidget(header_label, 1, 5)
        top.addWidget(self.header_spin, 1, 6)
        top.setColumnStretch(7, 1)

        # 列对应: one line saying what is read; the table of columns when asked for or when the header is unknown.
        self.mapping_box = QFrame()
        self.mapping_box.setObjectName("roster_mapping")
        self.mapping_box.setProperty("role", "card")
        self.mapping_title = _bold(_label("列对应"))
        self.mapping_summary = _label("", wrap=True)
        self.mapping_toggle = QPushButton("调整列对应…")
        self.mapping_toggle.setCheckable(True)
        self.mapping_toggle.setToolTip("逐列查看表头，并指定每一列对应的内容")
        self.mapping_hint = _label("", "error", wrap=True)
        self.mapping_table = QTableWidget(0, 4)
        self.mapping_table.setObjectName("roster_mapping_table")
        self.mapping_table.setHorizontalHeaderLabels(["列", "表头", "导入为", "示例（表头下第一个值）"])
        self.mapping_table.verticalHeader().hide()
        self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.mapping_table.setAlternatingRowColors(True)
        self.mapping_table.verticalHeader().setDefaultSectionSize(30)
        header = self.mapping_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, 44)
        header.resizeSection(1, 240)
        header.resizeSection(2, 220)
        header.setStretchLastSection(True)
        self.mapping_table.hide()
        head = QHBoxLayout()
        head.addWidget(self.mapping_title)
        head.addSpacing(8)
        head.addWidget(self.mapping_summary, 1)
        head.addWidget(self.mapping_toggle, 0, Qt.AlignmentFlag.AlignTop)
        box = QVBoxLayout(self.mapping_box)
        box.setContentsMargins(10, 8, 10, 8)
        box.addLayout(head)
        box.addWidget(self.mapping_hint)
        box.addWidget(self.mapping_table)

        # 预览
        self.filter_combo = QComboBox()
        for text, key in FILTERS:
            self.filter_combo.addItem(text, key)
        self.filter_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.summary_label = _label("", wrap=True)
        self.model = RosterPreviewModel(self)
        self.table = make_table(self.model)
        self.table.setObjectName("roster_preview")
        self.table.verticalHeader().setDefaultSectionSize(26)
        preview_title = _bold(_label("预览"))
        filter_label = _label("显示")
        filter_label.setBuddy(self.filter_combo)
        bar = QHBoxLayout()
        bar.addWidget(preview_title)
        bar.addSpacing(8)
        bar.addWidget(filter_label)
        bar.addWidget(self.filter_combo)
        bar.addSpacing(12)
        bar.addWidget(self.summary_label, 1)

        self.notice = _label("", wrap=True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        self.report_button = QPushButton("导出错误报告…")
        self.report_button.setToolTip("把有错误的行连同原因导出为 Excel：改正后可直接重新导入该文件")
        self.import_button = QPushButton("导入")
        self.import_button.setProperty("role", "primary")
        self.close_button = QPushButton("关闭")
        for button in (self.choose_button, self.reload_button, self.mapping_toggle, self.report_button,
                       self.import_button, self.close_button):
            button.setAutoDefault(False)  # Enter in a field must not import
        buttons = QHBoxLayout()
        buttons.addWidget(self.report_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.mapping_box)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.choose_button.clicked.connect(lambda: self.choose_file())
        self.reload_button.clicked.connect(self.reload)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.sheet_combo.currentIndexChanged.connect(lambda _i: self._sheet_changed())
        self.header_spin.valueChanged.connect(self._header_row_changed)
        self.mapping_toggle.toggled.connect(self._show_mapping_table)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.model.set_filter(self.filter_combo.currentData()))
        self.import_button.clicked.connect(lambda: self.import_rows())
        self.report_button.clicked.connect(lambda: self.export_errors())
        self.close_button.clicked.connect(self.reject)

    # --- Choosing and reading the file --------------------------------------------------------------
    def choose_file(self) -> Path | None:
        folder = self.settings.get(LAST_IMPORT_DIR)
        if self.path is not None:
            folder = str(self.path.parent)
        if not folder or not Path(folder).is_dir():
            folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        chosen, _ = QFileDialog.getOpenFileName(self, "选择要导入的名单", folder, FILE_FILTER)
        if not chosen:
            return None
        self.open_file(chosen)
        return Path(chosen)

    def open_file(self, path: Path | str, kind: str | None = None, sheet: str | None = None) -> None:
        """Read `path` (on the active sheet, else the first with a recognised header) and preview it."""
        self.path = Path(path)
        self.settings.set(LAST_IMPORT_DIR, str(self.path.parent))
        self.path_label.setText(str(self.path))
        self.path_label.setToolTip(plain_tip(str(self.path)))
        self.path_label.setProperty("role", "")
        self.path_label.style().polish(self.path_label)
        self._custom = False
        self.mapping_toggle.setChecked(False)
        if kind is not None:
            self._set_combo(self.kind_combo, kind)
        self._read(sheet)

    def reload(self) -> None:
        """重新读取: the file again (edited meanwhile), keeping the sheet and a column mapping the user made."""
        if self.path is None:
            return
        sheet = self.raw.sheet if self.raw is not None and len(self.raw.sheets) > 1 else None
        self._read(sheet, keep=self.layout if self._custom else None)

    def _read(self, sheet: str | None, keep: Layout | None = None) -> None:
        path, kind, services = self.path, self.kind_combo.currentData(), self.services
        assert path is not None
        self._start(lambda _progress: _on_reader(services, lambda roster: load_sheet(roster, path, kind, sheet, keep)),
                    f"正在读取“{path.name}”…")

    def _replan(self, layout: Layout) -> None:
        """The user changed the kind, header row or a column: show the mapping at once, then plan in the background."""
        self._custom = True
        self.layout = layout
        self._fill_mapping()
        raw, services = self.raw, self.services
        assert raw is not None
        if not usable(layout):
            self._generation += 1  # a plan still on its way is for the layout before
            self._busy = False
            self._show(Loaded(raw, layout, None))
            return
        self._start(lambda _progress: _on_reader(services, lambda roster: plan_sheet(roster, raw, layout)),
                    "正在生成预览…")

    def _start(self, work, label: str) -> None:
        self._generation += 1
        generation = self._generation
        self._set_busy(True)
        self.tasks.run(work, on_done=lambda loaded: self._done(generation, loaded),
                       on_error=lambda exc: self._failed(generation, exc), label=label, parent_widget=self,
                       cancellable=False)

    def _done(self, generation: int, loaded: Loaded) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return
        self._set_busy(False)
        self._show(loaded)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            show_error(None, exc)
            return
        if generation != self._generation:
            return
        self._set_busy(False)
        self.raw = self.layout = self.preview = None
        self.result = None
        self._counts = {}
        self.model.set_plans([])
        self._fill_controls()
        self._fill_mapping()
        self._update()
        show_error(self, exc)

    # --- Showing what was read -----------------------------------------------------------------------
    def _show(self, loaded: Loaded) -> None:
        self.raw, self.layout, self.preview = loaded.raw, loaded.layout, loaded.preview
        self.result = None
        self.report_path = None
        self._fill_controls()
        self._fill_mapping()
        plans = self.preview.rows if self.preview is not None else []
        self._counts = {key: sum(1 for p in plans if matches(p, key)) for _, key in FILTERS}
        self.model.set_plans(plans)
        if loaded.problem and self.layout is not None and usable(self.layout):
            self.mapping_hint.setText(loaded.problem)  # a reason the mapping check above did not foresee
            self.mapping_hint.show()
        self._update()

    def _fill_controls(self) -> None:
        """The sheet list and the header row of what was read, without triggering a new plan."""
        raw, layout = self.raw, self.layout
        for w in (self.sheet_combo, self.header_spin):
            w.blockSignals(True)
        try:
            self.sheet_combo.clear()
            sheets = raw.sheets if raw is not None else ()
            for name in sheets:
                self.sheet_combo.addItem(name, name)
            if raw is not None and raw.sheet in sheets:
                self.sheet_combo.setCurrentIndex(sheets.index(raw.sheet))
            several = len(sheets) > 1
            self.sheet_label.setVisible(several)
            self.sheet_combo.setVisible(several)
            last = max((n for n, _ in raw.rows), default=1) if raw is not None else 1
            self.header_spin.setRange(1, max(last, 1))
            self.header_spin.setValue(layout.header_row if layout is not None else 1)
        finally:
            for w in (self.sheet_combo, self.header_spin):
                w.blockSignals(False)

    def _columns(self) -> int:
        """Columns offered for mapping: the header's, and any further ones the first data rows fill."""
        raw, layout = self.raw, self.layout
        if raw is None or layout is None:
            return 0
        header = layout.header
        below = (cells for number, cells in raw.rows if number > layout.header_row)
        width = max([len(header)] + [len(cells) for cells in islice(below, SAMPLE_ROWS)])
        while width and not (width - 1 < len(header) and plain_text(header[width - 1])) and not self._sample(width - 1):
            width -= 1  # trailing columns with neither a name nor data
        return width

    def _sample(self, index: int) -> str:
        """The first value below the header in column `index` (to tell what an unnamed column holds)."""
        raw, layout = self.raw, self.layout
        if raw is None or layout is None:
            return ""
        seen = 0
        for number, cells in raw.rows:
            if number <= layout.header_row:
                continue
            if index < len(cells) and not is_blank(cells[index]):
                return plain_text(cells[index])
            seen += 1
            if seen >= SAMPLE_ROWS:
                break
        return ""

    def _fill_mapping(self) -> None:
        layout = self.layout
        table = self.mapping_table
        table.setRowCount(0)
        self._mapping_combos = []
        if layout is None:
            self.mapping_summary.setText("选择文件后，这里列出每一列读取为什么内容。")
            self.mapping_hint.hide()
            self._show_mapping_table(self.mapping_toggle.isChecked())
            return
        kind = layout.kind
        fields = FIELDS[kind] if kind else ()
        count = self._columns()
        table.setRowCount(count)
        for i in range(count):
            header = plain_text(layout.header[i]) if i < len(layout.header) else ""
            sample = self._sample(i)
            for col, text in ((0, column_label(i)), (1, header), (3, sample)):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if text and col > 0:
                    item.setToolTip(plain_tip(text))
                table.setItem(i, col, item)
            combo = QComboBox()
            combo.setObjectName(f"map_{column_label(i)}")
            combo.addItem(NOT_IMPORTED, None)
            for f in fields:
                combo.addItem(f.label, f.key)
            combo.setEnabled(kind is not None)
            key = layout.mapping.get(i)
            if key is not None:
                combo.setCurrentIndex(max(0, combo.findData(key)))
            combo.currentIndexChanged.connect(lambda _x, c=i, cb=combo: self._column_changed(c, cb.currentData()))
            table.setCellWidget(i, 2, combo)
            self._mapping_combos.append(combo)
        self._update_mapping_text()

    def _update_mapping_text(self) -> None:
        layout = self.layout
        if layout is None:
            return
        kind = layout.kind
        if kind is not None:
            labels = {f.key: f.label for f in FIELDS[kind]}
            read = [f"{column_label(i)} {plain_text(layout.header[i]) if i < len(layout.header) else ''}".rstrip()
                    + f"→{labels[k]}" for i, k in sorted(layout.mapping.items())]
            text = f"表头在第 {layout.header_row} 行。读取：" + ("、".join(read) if read else "（尚未指定）")
            skipped = [f"{column_label(i)} {plain_text(c)}" for i, c in enumerate(layout.header)
                       if i not in layout.mapping and plain_text(c)]
            if skipped:
                text += "；不导入：" + "、".join(skipped)
            self.mapping_summary.setText(text + "。")
        else:
            self.mapping_summary.setText(f"表头在第 {layout.header_row} 行，未能识别各列的内容。")
        if usable(layout):
            self.mapping_hint.hide()
        else:
            if kind is None:
                more = "请先在上方选择“名单种类”，核对“表头行”，再为各列选择“导入为”的内容。"
            else:
                labels = {f.key: f.label for f in FIELDS[kind]}
                missing = ["或".join(f"“{labels[k]}”" for k in group) for group in REQUIRED[kind]
                           if not any(k in layout.mapping.values() for k in group)]
                more = f"作为{KINDS[kind]}，还需要指定{'、'.join(missing)}所在的列。"
            self.mapping_hint.setText(f"{UNRECOGNISED}：{more}")
            self.mapping_hint.show()
            if not self.mapping_toggle.isChecked():
                self.mapping_toggle.setChecked(True)  # the mapping step, prominently
        self._show_mapping_table(self.mapping_toggle.isChecked())

    def _show_mapping_table(self, shown: bool) -> None:
        table = self.mapping_table
        rows = table.rowCount()
        table.setVisible(shown and rows > 0)
        if rows:  # as tall as its rows, up to MAPPING_MAX_HEIGHT (then it scrolls)
            height = (table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader().defaultSectionSize()
                      + 2 * table.frameWidth() + 2)
            table.setFixedHeight(min(height, MAPPING_MAX_HEIGHT))
        self.mapping_toggle.setText("收起列对应" if shown else "调整列对应…")

    # --- The user's choices ---------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        raw = self.raw
        if raw is None or self._busy:
            return
        kind = self.kind_combo.currentData()
        roster = self.services.roster  # layout() reads no database
        layout = roster.layout(raw, kind)
        if not usable(layout) and kind is not None:
            layout = roster.layout(raw, kind, self.header_spin.value())  # keep the row the user looks at
        self._replan(layout)

    def _header_row_changed(self, row: int) -> None:
        raw = self.raw
        if raw is None:
            return
        kind = self.kind_combo.currentData()
        cells = next((c for n, c in raw.rows if n == row), [])
        if kind is None:
            found = find_layout([(row, cells)])  # the kind this row names best, if any
            layout = Layout(found.kind, row, list(cells), found.mapping)
        else:
            layout = Layout(kind, row, list(cells), find_layout([(row, cells)], kind).mapping)
        self._replan(layout)

    def _column_changed(self, index: int, key: str | None) -> None:
        layout = self.layout
        if layout is None:
            return
        mapping = {i: k for i, k in layout.mapping.items() if i != index and (key is None or k != key)}
        if key is not None:
            mapping[index] = key
        for i, combo in enumerate(self._mapping_combos):  # a field is read from one column: clear the other
            if i != index and i not in mapping and combo.currentData() is not None:
                combo.blockSignals(True)
                combo.setCurrentIndex(0)
                combo.blockSignals(False)
        self._custom = True
        self.layout = Layout(layout.kind, layout.header_row, layout.header, mapping)
        self._update_mapping_text()
        raw, services, new = self.raw, self.services, self.layout
        assert raw is not None
        if not usable(new):
            self._generation += 1  # a plan still on its way is for the mapping before
            self._busy = False
            self.preview = self.result = self.report_path = None
            self.model.set_plans([])
            self._update()
            return
        self._start(lambda _progress: _on_reader(services, lambda roster: plan_sheet(roster, raw, new)),
                    "正在生成预览…")

    def _sheet_changed(self) -> None:
        if self.path is None or self._busy:
            return
        self._custom = False
        self._read(self.sheet_combo.currentData())

    def set_mapping(self, column: int, key: str | None) -> None:
        """Choose what column `column` (0 = A) holds, as picking it in its combo does."""
        combo = self._mapping_combos[column]
        combo.setCurrentIndex(combo.findData(key) if key is not None else 0)

    def mapping_combo(self, column: int) -> QComboBox:
        return self._mapping_combos[column]

    # --- State of the buttons and labels -------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update()

    def _update(self) -> None:
        preview = self.preview
        has_file = self.path is not None
        idle = not self._busy
        for w in (self.choose_button, self.kind_combo, self.sheet_combo, self.header_spin, self.mapping_table):
            w.setEnabled(idle)
        self.filter_combo.setEnabled(idle and preview is not None)
        self.reload_button.setEnabled(idle and has_file)
        self.header_spin.setEnabled(idle and self.raw is not None)
        self.kind_hint.setText(f"已识别为{preview.kind_label}" if preview is not None
                               and self.kind_combo.currentData() is None else "")
        counts = self._counts if preview is not None else {}
        writes = counts.get("new", 0) + counts.get("update", 0)
        errors = counts.get("error", 0)
        spent = self.result is not None
        self.import_button.setText("已导入" if spent else f"导入 {writes} 行")
        self.import_button.setEnabled(idle and writes > 0 and not spent)
        self.import_button.setToolTip("预览中的新增和更新行在一次操作中写入；导入前会先自动备份数据库。"
                                      "有错误的行不导入" if not spent else "已导入。如需再次导入，请点击“重新读取”")
        self.report_button.setEnabled(idle and errors > 0)
        self._update_filter_counts()
        if preview is not None:
            self.summary_label.setText(preview.summary())
        elif self.raw is not None:
            self.summary_label.setText("尚未生成预览：请先指定各列对应的内容。")
        else:
            self.summary_label.setText("")
        lines = []
        if self.result is not None:
            lines.append(f"{self.result.message}如需再次导入，请在文件改正后点击“重新读取”。")
        if self.report_path is not None:
            lines.append(f"错误报告已写入：{self.report_path}。按“导入问题”一列改正后，可直接导入该文件。")
        if lines:
            self._say("\n".join(lines), ok=self.result is not None)
        else:
            self.notice.hide()

    def _update_filter_counts(self) -> None:
        for i, (text, key) in enumerate(FILTERS):
            counted = self.preview is not None and key in self._counts
            self.filter_combo.setItemText(i, f"{text}（{self._counts[key]}）" if counted else text)

    def _say(self, text: str, *, ok: bool = False) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #2e7d32;" if ok else "")
        self.notice.show()

    # --- Import and error report --------------------------------------------------------------------
    def import_rows(self) -> None:
        """导入 N 行: the preview's new and changed rows in one transaction (after a backup), off the GUI thread."""
        preview = self.preview
        if preview is None or self.result is not None or self._busy or not preview.writes:
            return
        writes, errors = len(preview.writes), len(preview.errors)
        if errors and not confirm_partial(self, errors, writes):
            return
        services, bus = self.services, self.bus
        self._generation += 1  # a plan arriving now is not the one imported
        self._set_busy(True)

        def done(result: ImportResult) -> None:
            bus.data_changed.emit()
            bus.status_message.emit(result.message)
            if shiboken6.isValid(self):
                self.result = result
                self._set_busy(False)
                self.imported.emit(result.message)

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                self._set_busy(False)
            show_error(self if shiboken6.isValid(self) else None, exc)

        self.tasks.run(lambda _progress: _on_reader(services, lambda roster: roster.commit(preview)), on_done=done,
                       on_error=failed, label=f"正在导入{preview.kind_label}（{writes} 行）…", parent_widget=self,
                       cancellable=False)

    def default_report_path(self) -> Path | None:
        if self.preview is None:
            return None
        source = self.preview.path
        return source.with_name(f"{source.stem}_导入问题.xlsx")

    def export_errors(self, path: Path | str | None = None) -> Path | None:
        """导出错误报告…: the error rows with their reasons, as an .xlsx the office can fix and import again."""
        preview = self.preview
        if preview is None or not preview.errors:
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, "导出错误报告", str(self.default_report_path()),
                                                    "Excel 工作簿 (*.xlsx)")
            if not chosen:
                return None
            path = chosen
        out = Path(path)
        if out.suffix.lower() != ".xlsx":
            out = out.with_name(out.name + ".xlsx")
        roster, bus = self.services.roster, self.bus  # error_report writes a file and reads no database

        def done(written: Path) -> None:
            bus.status_message.emit(f"错误报告已写入：{written}")
            if shiboken6.isValid(self):
                self.report_path = Path(written)
                self._update()

        self.tasks.run(lambda _progress: roster.error_report(preview, out), on_done=done,
                       on_error=lambda exc: show_error(self if shiboken6.isValid(self) else None, exc),
                       label="正在导出错误报告…", parent_widget=self, cancellable=False)
        return out

    # --- Drag and drop --------------------------------------------------------------------------------
    @staticmethod
    def _dropped_file(event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if len(files) == 1 and Path(files[0]).suffix.lower() in SUFFIXES:
            return files[0]
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self._busy and self._dropped_file(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = self._dropped_file(event)
        if path and not self._busy:
            event.acceptProposedAction()
            self.open_file(path)

    @staticmethod
    def _set_combo(combo: QComboBox, data) -> None:
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)


def open_roster_import(parent: QWidget, services: Services, bus, settings: Settings, tasks: Any,
                       path: Path | str | None = None) -> RosterImportDialog:
    """Open the 导入名单 dialog (window-modal), reading `path` at once when given."""
    dialog = RosterImportDialog(services, bus, settings, tasks, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    if path is not None:
        dialog.open_file(path)
    return dialog
