"""UI foundations: bundled font, lazy table model, background tasks, errors, settings, style, search box."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError, ValidationError
from app.paths import resource_path
from ui.errors import ERROR_TITLE, ExceptionDialog, install_excepthook, show_error
from ui.fonts import register_bundled_font
from ui.models.lazy_table import CACHE_ROWS, OBJECT_ROLE, PAGE_SIZE, SORT_ROLE, Column, LazyTableModel
from ui.settings import (
    DUE_SOON_WORKDAYS,
    LAST_EXPORT_DIR,
    NOT_VISITED_DAYS,
    WINDOW_GEOMETRY,
    Key,
    PreserveGeometry,
    Settings,
)
from ui.style import apply_style, load_style_sheet
from ui.tasks import Cancelled, Progress, SyncTaskRunner, TaskRunner, _ProgressDialog
from ui.widgets.search_box import SearchBox

# --- Font -----------------------------------------------------------------------------------------


@pytest.fixture
def restore_app_font(qapp: QApplication):
    font = qapp.font()
    yield
    qapp.setFont(font)


def test_bundled_font_registers_and_has_chinese_latin_and_digits(qapp: QApplication, restore_app_font: None) -> None:
    family = register_bundled_font(qapp)
    assert family == "WenQuanYi Micro Hei"
    assert family in QFontDatabase.families()
    assert qapp.font().family() == family
    metrics = QFontMetrics(QFont(family, 10))
    for ch in "助企工作台万人问题走访督办ABCxyz0123456789":
        assert metrics.inFontUcs4(ord(ch)), ch


def test_register_bundled_font_is_idempotent(qapp: QApplication, restore_app_font: None) -> None:
    first = register_bundled_font(qapp)
    count = QFontDatabase.families().count(first)
    assert register_bundled_font(qapp) == first
    assert QFontDatabase.families().count(first) == count


def test_label_renders_chinese_with_bundled_font(qapp: QApplication, qtbot, restore_app_font: None) -> None:
    family = register_bundled_font(qapp)
    label = QLabel("助企工作台 ABC 123")
    qtbot.addWidget(label)
    assert label.fontInfo().family() == family
    image = label.grab().toImage()
    assert not image.isNull()
    # Some pixels differ from the background: the text was drawn.
    background = image.pixel(0, 0)
    assert any(image.pixel(x, y) != background for x in range(image.width()) for y in range(image.height()))


# --- LazyTableModel -------------------------------------------------------------------------------


class FakeSource:
    """In-memory RowSource that records its calls."""

    def __init__(self, count: int, *, build_rows: bool = True):
        self.count = count
        self.ids_calls: list[tuple[str | None, bool]] = []
        self.rows_calls: list[list[str]] = []
        self._rows = (
            {f"e{i:06d}": {"name": f"企业{i:06d}", "visits": (i * 7) % 13, "town": None} for i in range(count)}
            if build_rows
            else None
        )

    def _row(self, rid: str) -> dict[str, Any]:
        if self._rows is not None:
            return self._rows[rid]
        i = int(rid[1:])
        return {"name": f"企业{i:06d}", "visits": (i * 7) % 13, "town": None}

    def ids(self, sort_key: str | None, descending: bool) -> list[str]:
        self.ids_calls.append((sort_key, descending))
        ids = [f"e{i:06d}" for i in range(self.count)]
        if sort_key is not None:
            ids.sort(key=lambda rid: (self._row(rid)[sort_key], rid), reverse=descending)
        return ids

    def rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        self.rows_calls.append(list(ids))
        return {rid: dict(self._row(rid)) for rid in ids if self._rows is None or rid in self._rows}

    @property
    def fetched(self) -> int:
        return sum(len(c) for c in self.rows_calls)


COLUMNS = [
    Column("name", "企业名称", width=240),
    Column("visits", "走访次数", align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("town", "乡镇（街道）", sortable=False),
]


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "python-tester"])
def test_lazy_model_passes_qtmodeltester(qtmodeltester, force_py: bool) -> None:
    model = LazyTableModel(COLUMNS, FakeSource(1000))
    qtmodeltester.check(model, force_py=force_py)
    # The tester stays connected and checks the signals of later changes too.
    model.sort(1, Qt.SortOrder.DescendingOrder)
    model.sort(0, Qt.SortOrder.AscendingOrder)
    model.refresh()
    model.set_source(FakeSource(20))
    assert model.rowCount() == 20


def test_lazy_model_roles_headers_and_lookups() -> None:
    source = FakeSource(1000)
    model = LazyTableModel(COLUMNS, source)
    assert model.rowCount() == 1000 and model.columnCount() == 3
    assert source.ids_calls == [(None, False)]
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == list(model.headers)
    assert model.headers == ("企业名称", "走访次数", "乡镇（街道）")
    assert model.data(model.index(5, 0)) == "企业000005"
    assert model.data(model.index(5, 1)) == str((5 * 7) % 13)
    assert model.data(model.index(5, 1), SORT_ROLE) == (5 * 7) % 13
    assert model.data(model.index(5, 2)) == ""  # None shows as empty
    assert model.data(model.index(5, 2), OBJECT_ROLE) == "e000005"
    assert int(model.data(model.index(5, 1), Qt.ItemDataRole.TextAlignmentRole)) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    )
    assert model.id_at(7) == "e000007" and model.id_at(1000) is None
    assert model.row_of("e000007") == 7 and model.row_of("nope") is None
    assert model.row_dict(7)["name"] == "企业000007"


def test_lazy_model_sort_queries_source_and_keeps_selection() -> None:
    source = FakeSource(1000)
    model = LazyTableModel(COLUMNS, source)
    persistent = QPersistentModelIndex(model.index(10, 0))
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert source.ids_calls[-1] == ("visits", True)
    values = [model.data(model.index(r, 1), SORT_ROLE) for r in range(model.rowCount())]
    assert values == sorted(values, reverse=True)
    assert model.data(model.index(persistent.row(), 0), OBJECT_ROLE) == "e000010"
    model.sort(0, Qt.SortOrder.AscendingOrder)
    assert source.ids_calls[-1] == ("name", False)
    calls = len(source.ids_calls)
    model.sort(2, Qt.SortOrder.AscendingOrder)  # not sortable: no query
    assert len(source.ids_calls) == calls
    model.refresh()
    assert source.ids_calls[-1] == ("name", False)  # refresh keeps the sort


def test_lazy_model_hooks_and_vanished_rows() -> None:
    class Model(LazyTableModel):
        def display(self, key: str, value: Any, row: dict[str, Any]) -> str:
            return f"{value}次" if key == "visits" else super().display(key, value, row)

        def foreground(self, row: dict[str, Any]) -> QColor | None:
            return QColor("#c62828") if row.get("visits") == 0 else None

        def tooltip(self, key: str, row: dict[str, Any]) -> str | None:
            return row.get("name")

    source = FakeSource(50)
    model = Model(COLUMNS, source)
    assert model.data(model.index(1, 1)) == "7次"
    assert model.data(model.index(0, 1), Qt.ItemDataRole.ForegroundRole) == QColor("#c62828")
    assert model.data(model.index(1, 1), Qt.ItemDataRole.ForegroundRole) is None
    assert model.data(model.index(3, 0), Qt.ItemDataRole.ToolTipRole) == "企业000003"

    assert source._rows is not None
    del source._rows["e000040"]  # deleted after ids() ran
    model.refresh()
    assert model.data(model.index(40, 0)) == ""
    assert model.row_dict(40) == {}


def test_lazy_model_set_source_resets() -> None:
    model = LazyTableModel(COLUMNS, FakeSource(10))
    model.sort(0, Qt.SortOrder.DescendingOrder)
    other = FakeSource(3)
    model.set_source(other)
    assert model.rowCount() == 3
    assert other.ids_calls == [("name", True)]
    assert model.id_at(0) == "e000002"


def test_lazy_model_with_200k_ids_fetches_only_visible_pages(qtbot) -> None:
    source = FakeSource(200_000, build_rows=False)
    model = LazyTableModel(COLUMNS, source)
    assert source.fetched == 0
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.grab()  # paints the visible cells
    assert 0 < source.fetched <= 2 * PAGE_SIZE
    view.scrollToBottom()
    view.grab()
    assert model.data(model.index(199_999, 0)) == "企业199999"
    assert source.fetched <= 4 * PAGE_SIZE
    for row in range(0, 200_000, 5_000):  # jump around: the cache stays bounded
        model.data(model.index(row, 0))
    assert model.cached_row_count() <= CACHE_ROWS
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert source.ids_calls[-1] == ("visits", False)


# --- Tasks ----------------------------------------------------------------------------------------


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_task_runner_delivers_result_on_main_thread(qtbot) -> None:
    runner = TaskRunner()
    outcome: list[tuple[Any, bool]] = []

    def work(progress: Progress) -> tuple[int, bool]:
        progress.update(1, 2, "第一步")
        return 42, _on_main_thread()

    with qtbot.waitSignal(runner.idle, timeout=5000):
        runner.run(work, on_done=lambda result: outcome.append((result, _on_main_thread())))
        assert runner.active_count() == 1
    assert outcome == [((42, False), True)]
    assert runner.active_count() == 0


def test_task_runner_delivers_errors_on_main_thread(qtbot) -> None:
    runner = TaskRunner()
    errors: list[tuple[BaseException, bool]] = []

    def work(progress: Progress) -> None:
        raise ValidationError("统一社会信用代码应为18位", field="uscc")

    with qtbot.waitSignal(runner.idle, timeout=5000):
        runner.run(work, on_done=pytest.fail, on_error=lambda exc: errors.append((exc, _on_main_thread())))
    assert len(errors) == 1
    exc, on_main = errors[0]
    assert isinstance(exc, ValidationError) and exc.message == "统一社会信用代码应为18位"
    assert on_main


def test_task_runner_cancel_from_code(qtbot) -> None:
    runner = TaskRunner()
    started = threading.Event()
    cancelled: list[bool] = []

    def work(progress: Progress) -> None:
        started.set()
        while True:
            progress.check()
            threading.Event().wait(0.005)  # stand-in for a unit of work

    with qtbot.waitSignal(runner.idle, timeout=5000):
        progress = runner.run(work, on_done=pytest.fail, on_cancelled=lambda: cancelled.append(True))
        qtbot.waitUntil(started.is_set)
        progress.cancel()
    assert cancelled == [True]


def test_task_runner_shows_busy_cursor_and_cancellable_dialog(qtbot) -> None:
    runner = TaskRunner(busy_after_ms=0, dialog_after_ms=0)
    release = threading.Event()
    outcome: list[str] = []

    def work(progress: Progress) -> None:
        progress.update(3, 10, "正在导入第3行")
        while not release.is_set():
            progress.check()
            release.wait(0.005)

    runner.run(work, on_done=lambda _r: outcome.append("done"), on_cancelled=lambda: outcome.append("cancelled"))

    def dialog() -> _ProgressDialog | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, _ProgressDialog) and w.isVisible()]
        return found[0] if found else None

    qtbot.waitUntil(lambda: dialog() is not None and dialog().labelText() == "正在导入第3行")
    assert QApplication.overrideCursor() is not None
    box = dialog()
    assert box is not None and box.maximum() == 10 and box.value() == 3
    cancel = [b for b in box.findChildren(QPushButton) if b.text() == "取消"]
    assert cancel
    with qtbot.waitSignal(runner.idle, timeout=5000):
        qtbot.mouseClick(cancel[0], Qt.MouseButton.LeftButton)
    release.set()
    assert outcome == ["cancelled"]
    assert QApplication.overrideCursor() is None
    qtbot.waitUntil(lambda: dialog() is None)


def test_task_runner_default_error_handler_shows_app_error(qtbot) -> None:
    runner = TaskRunner()

    def work(progress: Progress) -> None:
        raise AppError("文件“名单.xlsx”第3行：缺少企业名称")

    with qtbot.waitSignal(runner.idle, timeout=5000):
        runner.run(work, on_done=pytest.fail)
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(boxes) == 1
    assert boxes[0].windowTitle() == ERROR_TITLE
    assert boxes[0].text() == "文件“名单.xlsx”第3行：缺少企业名称"
    boxes[0].close()


def test_task_runner_unexpected_error_is_logged_without_dialog(qtbot, caplog) -> None:
    runner = TaskRunner()

    def work(progress: Progress) -> None:
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR), qtbot.waitSignal(runner.idle, timeout=5000):
        runner.run(work, on_done=pytest.fail, label="测试任务")
    assert "测试任务" in caplog.text and "KeyError" in caplog.text
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, ExceptionDialog) and w.isVisible()]


def test_task_runner_wait_idle(qapp: QApplication) -> None:
    runner = TaskRunner()
    results: list[int] = []
    for i in range(5):
        runner.run(lambda _p, i=i: i * i, on_done=results.append)
    assert runner.wait_idle(5000)
    assert sorted(results) == [0, 1, 4, 9, 16]


def test_sync_task_runner() -> None:
    runner = SyncTaskRunner()
    results: list[Any] = []
    runner.run(lambda p: p.update(1, 1) or "ok", on_done=results.append, label="同步")
    assert results == ["ok"] and runner.calls == ["同步"] and runner.active_count() == 0

    errors: list[BaseException] = []
    runner.run(lambda p: 1 / 0, on_done=results.append, on_error=errors.append)
    assert isinstance(errors[0], ZeroDivisionError)
    with pytest.raises(AppError):
        runner.run(lambda p: (_ for _ in ()).throw(AppError("错误")), on_done=results.append)

    cancelled: list[bool] = []

    def cancelling(progress: Progress) -> None:
        raise Cancelled()

    runner.run(cancelling, on_done=results.append, on_cancelled=lambda: cancelled.append(True))
    assert cancelled == [True] and results == ["ok"]


def test_progress_is_thread_safe_and_cancellable() -> None:
    progress = Progress()
    threads = [threading.Thread(target=lambda: [progress.update(i, 100) for i in range(100)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert progress.snapshot()[1] == 100
    progress.check()
    progress.cancel()
    assert progress.cancelled
    with pytest.raises(Cancelled):
        progress.check()


# --- Errors ---------------------------------------------------------------------------------------


def test_show_error_app_error_is_plain_text_warning(qtbot) -> None:
    dialog = show_error(None, AppError("<b>企业名称</b>不能为空"))
    assert isinstance(dialog, QMessageBox)
    qtbot.addWidget(dialog)
    assert dialog.textFormat() == Qt.TextFormat.PlainText
    assert dialog.text() == "<b>企业名称</b>不能为空"
    assert dialog.windowTitle() == "无法完成操作"
    dialog.close()


def test_exception_dialog_shows_traceback_and_copies_details(qtbot, tmp_path: Path) -> None:
    try:
        raise RuntimeError("数据库连接已关闭")
    except RuntimeError as exc:
        dialog = ExceptionDialog(exc, log_dir=tmp_path)
    qtbot.addWidget(dialog)
    text = dialog.details_edit.toPlainText()
    assert "Traceback" in text and "RuntimeError: 数据库连接已关闭" in text and str(tmp_path) in text
    assert dialog.details_edit.isReadOnly()
    assert dialog.message_label.textFormat() == Qt.TextFormat.PlainText
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == dialog.details
    assert dialog.copy_button.text() == "已复制"


def test_excepthook_logs_and_respects_no_dialog_flag(qapp: QApplication, caplog) -> None:
    import sys

    uninstall = install_excepthook(None)
    try:
        try:
            raise ValueError("意外")
        except ValueError as exc:
            with caplog.at_level(logging.CRITICAL):
                sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        uninstall()
    assert "Uncaught exception" in caplog.text and "ValueError: 意外" in caplog.text
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, ExceptionDialog) and w.isVisible()]


# --- Settings -------------------------------------------------------------------------------------


def test_settings_defaults_and_round_trip(qapp: QApplication, tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    settings = Settings(path)
    assert settings.get(NOT_VISITED_DAYS) == 30
    assert settings.get(DUE_SOON_WORKDAYS) == 3
    assert settings.get(LAST_EXPORT_DIR) == ""
    assert settings.get(WINDOW_GEOMETRY) == b""

    recent: Key[list] = Key("test/recent", [], list)
    flag: Key[bool] = Key("test/flag", False, bool)
    settings.set(NOT_VISITED_DAYS, 45)
    settings.set(LAST_EXPORT_DIR, "D:\\导出, 2024")
    settings.set(WINDOW_GEOMETRY, b"\x00\x01\xffgeometry")
    settings.set(recent, ["a,b.xlsx", "名单.xlsx"])
    settings.set(flag, True)
    settings.sync()
    assert path.is_file()

    again = Settings(path)
    assert again.get(NOT_VISITED_DAYS) == 45
    assert again.get(LAST_EXPORT_DIR) == "D:\\导出, 2024"
    assert again.get(WINDOW_GEOMETRY) == b"\x00\x01\xffgeometry"
    assert again.get(recent) == ["a,b.xlsx", "名单.xlsx"]
    assert again.get(flag) is True
    again.reset(NOT_VISITED_DAYS)
    assert again.get(NOT_VISITED_DAYS) == 30


def test_settings_type_checks_and_bad_values(qapp: QApplication, tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    settings = Settings(path)
    with pytest.raises(TypeError):
        settings.set(NOT_VISITED_DAYS, "30")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        settings.set(NOT_VISITED_DAYS, True)  # type: ignore[arg-type]
    settings.sync()
    path.write_text("[warnings]\nnot_visited_days=abc\n", encoding="utf-8")
    assert Settings(path).get(NOT_VISITED_DAYS) == 30


def test_settings_changed_signal(qtbot, tmp_path: Path) -> None:
    settings = Settings(tmp_path / "s.ini")
    with qtbot.waitSignal(settings.changed) as blocker:
        settings.set(DUE_SOON_WORKDAYS, 5)
    assert blocker.args == [DUE_SOON_WORKDAYS.name]


class _GeometryDialog(PreserveGeometry, QDialog):
    def __init__(self, settings: Settings):
        super().__init__()
        self.splitter = QSplitter(self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(QWidget())
        self.splitter.addWidget(QWidget())
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.init_geometry(settings)


def test_preserve_geometry_restores_size_and_splitter(qtbot, tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.ini")
    first = _GeometryDialog(settings)
    qtbot.addWidget(first)
    first.resize(640, 420)
    first.show()
    qtbot.waitExposed(first)
    first.splitter.setSizes([100, 500])
    sizes = first.splitter.sizes()
    first.accept()

    second = _GeometryDialog(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.size().width() == 640 and second.size().height() == 420
    assert second.splitter.sizes() == sizes
    second.close()


# --- Style and search box -------------------------------------------------------------------------


def test_apply_style_loads_bundled_sheet(qapp: QApplication) -> None:
    old_style, old_sheet = qapp.style().name(), qapp.styleSheet()
    try:
        assert resource_path("style.qss").is_file()
        sheet = load_style_sheet()
        for selector in ('QLabel[role="kpi"]', 'QFrame[role="card"]', 'QPushButton[role="primary"]', "#1f5fa8"):
            assert selector in sheet
        apply_style(qapp)
        assert qapp.styleSheet() == sheet
    finally:
        qapp.setStyleSheet(old_sheet)
        if old_style:
            qapp.setStyle(old_style)


def test_search_box_debounces_and_clears_on_escape(qtbot) -> None:
    box = SearchBox(placeholder="搜索企业名称、信用代码")
    qtbot.addWidget(box)
    assert box.placeholderText() == "搜索企业名称、信用代码" and box.isClearButtonEnabled()
    emitted: list[str] = []
    box.search_changed.connect(emitted.append)
    with qtbot.waitSignal(box.search_changed, timeout=2000):
        qtbot.keyClicks(box, "zz")
        assert emitted == []  # nothing before the pause
    assert emitted == ["zz"]
    with qtbot.waitSignal(box.search_changed, timeout=100):  # immediate
        qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.text() == "" and emitted == ["zz", ""]
