"""Print preview: PdfPages, the lazy preview dialog, 保存为PDF, printing to a PDF printer and PrintJobs."""

from __future__ import annotations

import io
import os
import stat

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from app import files
from app.errors import AppError
from app.paths import resource_path
from ui.dialogs import print_preview
from ui.dialogs.print_preview import PrintPreviewDialog
from ui.pdf_pages import PdfPages
from ui.print_jobs import PrintJobs
from ui.settings import LAST_EXPORT_DIR


def _font() -> str:
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(resource_path("fonts", "wqy-microhei.ttc")), subfontIndex=0))
    return "WQY"


def make_pdf(portrait_pages: int = 3, landscape_pages: int = 0) -> bytes:
    """A4 pages of Chinese text, then `landscape_pages` landscape A4 pages."""
    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for i in range(portrait_pages):
        c.setFont(font, 16)
        c.drawString(72, 770, f"走访记录表 第{i + 1}页")
        c.setFont(font, 11)
        for row in range(30):
            c.drawString(72, 730 - row * 18, f"{row + 1}  郑州某某科技有限公司  用工难，需协调人才招聘")
        c.showPage()
    for i in range(landscape_pages):
        c.setPageSize(landscape(A4))
        c.setFont(font, 16)
        c.drawString(72, 540, f"问题台账（横向）{i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def open_dialog(qtbot, ui_settings):
    def build(pdf: bytes, title: str = "走访记录表") -> PrintPreviewDialog:
        dialog = PrintPreviewDialog(pdf, title, ui_settings, suggested_name=f"{title}.pdf")
        qtbot.addWidget(dialog)
        dialog.resize(1100, 800)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return build


def _errors(monkeypatch) -> list[BaseException]:
    shown: list[BaseException] = []
    monkeypatch.setattr(print_preview, "show_error", lambda parent, exc: shown.append(exc))
    return shown


def test_pdf_pages_count_sizes_and_render(qapp):
    with PdfPages(make_pdf(3, 1)) as pages:
        assert pages.count == 4
        width, height = pages.page_size_pt(0)
        assert (round(width), round(height)) == (595, 842)
        width, height = pages.page_size_pt(3)
        assert width > height and pages.is_landscape(3) and not pages.is_landscape(0)
        image = pages.render(0, 72)
        assert abs(image.width() - 595) <= 1 and abs(image.height() - 842) <= 1
        assert pages.render(0, 144).width() == pytest.approx(2 * image.width(), abs=2)
        gray = image.convertToFormat(image.Format.Format_Grayscale8)
        dark = sum(
            1
            for y in range(0, gray.height(), 2)
            for x in range(0, gray.width(), 2)
            if gray.pixelColor(x, y).value() < 100
        )
        assert dark > 50, "the page's text is rendered"
        assert pages.render_count == 2


def test_unreadable_pdf_is_a_chinese_error(qapp):
    with pytest.raises(AppError, match="无法打开"):
        PdfPages(b"not a pdf")


def test_title_indicator_and_jump(open_dialog, qtbot):
    dialog = open_dialog(make_pdf(3))
    assert "走访记录表" in dialog.windowTitle() and "共 3 页" in dialog.windowTitle()
    assert f"{dialog.page_spin.value()} {dialog.page_total_label.text()}" == "1 / 3 页"
    dialog.page_spin.setValue(3)
    assert dialog.current_page() == 3
    qtbot.waitUntil(lambda: dialog.scroll.verticalScrollBar().value() > 0)
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    qtbot.keyClick(dialog.scroll, Qt.Key.Key_PageUp)
    assert dialog.current_page() == 2


def test_scrolling_moves_the_indicator(open_dialog, qtbot):
    dialog = open_dialog(make_pdf(3))
    bar = dialog.scroll.verticalScrollBar()
    bar.setValue(dialog.canvas.rects[1].top() + 10)  # as if the user scrolled
    assert dialog.current_page() == 2
    bar.setValue(bar.maximum())
    assert dialog.current_page() == 3


def test_only_pages_near_the_viewport_are_rendered(open_dialog, qtbot):
    dialog = open_dialog(make_pdf(200))
    assert dialog.pages.count == 200
    qtbot.waitUntil(lambda: dialog.pages.render_count >= 1)
    dialog.canvas.render_pending()
    first = dialog.pages.render_count
    assert 1 <= first <= 4
    dialog.go_to_page(150)
    dialog.canvas.render_pending()
    assert dialog.current_page() == 150
    assert dialog.pages.render_count - first <= 4
    assert set(dialog.canvas._cache) <= set(range(0, 4)) | set(range(147, 153))


def test_zoom_buttons_and_shortcuts(open_dialog, qtbot):
    dialog = open_dialog(make_pdf(3))
    dialog.set_zoom(1.0)
    dialog.zoom_in_button.click()
    assert dialog.canvas.zoom > 1.0 and dialog.zoom_label.text() == "110%"
    dialog.zoom_out_button.click()
    dialog.zoom_out_button.click()
    assert dialog.canvas.zoom == pytest.approx(0.9)
    dialog.fit_button.click()
    page_width = dialog.canvas.rects[0].width()
    assert dialog.scroll.viewport().width() - 120 < page_width <= dialog.scroll.viewport().width()


def test_save_pdf_writes_identical_bytes_and_remembers_folder(open_dialog, tmp_path, monkeypatch, ui_settings):
    pdf = make_pdf(3)
    dialog = open_dialog(pdf)
    target = tmp_path / "out" / "记录表"  # no extension: .pdf is added
    target.parent.mkdir()
    seen = {}

    def fake_dialog(parent, caption, start, filters):
        seen["start"] = start
        return str(target), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    saved = dialog.save_pdf()
    assert saved == target.with_name("记录表.pdf")
    assert saved.read_bytes() == pdf
    assert os.listdir(target.parent) == ["记录表.pdf"], "no temp file left behind"
    assert seen["start"].endswith("走访记录表.pdf")
    assert ui_settings.get(LAST_EXPORT_DIR) == str(target.parent)
    dialog.save_pdf()
    assert seen["start"] == str(target.parent / "走访记录表.pdf")


def test_save_to_read_only_folder_is_a_chinese_error(open_dialog, tmp_path, monkeypatch):
    dialog = open_dialog(make_pdf(1))
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(folder, os.W_OK):  # root ignores permissions: make the folder refuse the file

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    shown = _errors(monkeypatch)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(folder / "a.pdf"), ""))
    try:
        assert dialog.save_pdf() is None
    finally:
        folder.chmod(stat.S_IRWXU)
    assert len(shown) == 1 and "没有写入权限" in str(shown[0])
    assert os.listdir(folder) == []


def test_disk_full_leaves_no_partial_file(open_dialog, tmp_path, monkeypatch):
    dialog = open_dialog(make_pdf(1))

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    shown = _errors(monkeypatch)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "a.pdf"), ""))
    assert dialog.save_pdf() is None
    assert "磁盘空间不足" in str(shown[0])
    assert os.listdir(tmp_path) == []


def _pdf_printer(path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def test_print_to_pdf_printer_keeps_pages_and_orientation(open_dialog, tmp_path):
    dialog = open_dialog(make_pdf(2, 1))
    out = tmp_path / "printed.pdf"
    assert dialog.print_to(_pdf_printer(out), [0, 1, 2]) is True
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 3
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    assert sizes[0][0] < sizes[0][1] and sizes[1][0] < sizes[1][1]
    assert sizes[2][0] > sizes[2][1], "the landscape page prints landscape"


def test_print_many_pages_with_progress_and_page_range(open_dialog, tmp_path):
    dialog = open_dialog(make_pdf(8))
    printer = _pdf_printer(tmp_path / "range.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 7)
    pages = dialog.selected_pages(printer)
    assert pages == [1, 2, 3, 4, 5, 6]
    assert dialog.print_to(printer, pages) is True
    assert len(pypdf.PdfReader(tmp_path / "range.pdf").pages) == 6


def test_print_jobs_preview_opens_the_dialog(qtbot, tasks, ui_settings):
    jobs = PrintJobs(tasks, ui_settings, None)
    calls = []

    def build(progress):
        calls.append(progress(1, 2))
        return make_pdf(2)

    jobs.preview("问题台账", build, suggested_name="问题台账.pdf")
    assert calls == [True]
    assert tasks.calls == ["正在生成 问题台账…"]
    assert len(jobs.dialogs) == 1
    dialog = jobs.dialogs[0]
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.pages.count == 2 and "问题台账" in dialog.windowTitle()
    dialog.close()
    assert jobs.dialogs == []


def test_print_jobs_cancelled_shows_no_dialog(qtbot, tasks, ui_settings, monkeypatch):
    status: list[str] = []
    jobs = PrintJobs(tasks, ui_settings, None, status=status.append)
    real_run = tasks.run

    def run_cancelled(fn, **kwargs):  # the user pressed 取消 before the first progress report
        def cancelled_fn(progress):
            progress.cancel()
            return fn(progress)

        return real_run(cancelled_fn, **kwargs)

    monkeypatch.setattr(tasks, "run", run_cancelled)

    class PrintCancelled(AppError):
        pass

    def build(progress):
        if progress(0, 10) is False:
            raise PrintCancelled("已取消")
        return make_pdf(1)

    jobs.preview("批量走访记录", build)
    assert jobs.dialogs == []
    assert status == ["已取消生成批量走访记录。"]


def test_print_jobs_error_is_shown(qtbot, tasks, ui_settings, monkeypatch):
    from ui import print_jobs

    shown = []
    monkeypatch.setattr(print_jobs, "show_error", lambda parent, exc: shown.append(exc))
    jobs = PrintJobs(tasks, ui_settings, None)

    def build(progress):
        raise AppError("没有可打印的走访记录")

    jobs.preview("走访记录", build)
    assert [str(e) for e in shown] == ["没有可打印的走访记录"] and jobs.dialogs == []


def test_print_jobs_in_a_worker_thread_can_be_cancelled(qtbot, ui_settings):
    import threading

    from ui.tasks import TaskRunner

    runner = TaskRunner(dialog_after_ms=60_000)
    started, release = threading.Event(), threading.Event()
    threads = []

    def build(progress):
        threads.append(threading.current_thread())
        started.set()
        release.wait(5)
        if progress(1, 100) is False:
            raise AppError("已取消")
        return make_pdf(1)

    status: list[str] = []
    jobs = PrintJobs(runner, ui_settings, None, status=status.append)
    progress = jobs.preview("台账", build)
    assert started.wait(5)
    progress.cancel()
    release.set()
    assert runner.wait_idle(10_000)
    assert threads[0] is not threading.main_thread()
    assert jobs.dialogs == [] and status == ["已取消生成台账。"]

    jobs.preview("台账", lambda progress: make_pdf(2))
    assert runner.wait_idle(10_000)
    assert len(jobs.dialogs) == 1
    qtbot.addWidget(jobs.dialogs[0])
    jobs.close_all()
    assert jobs.dialogs == []
