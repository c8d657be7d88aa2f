"""PrintPreviewDialog: shows a generated PDF page by page, prints it to a chosen printer or saves it as a file.

Pages are drawn lazily: every page has a placeholder sized from the PDF, and only pages near the
viewport are rasterised (one per event-loop turn), so a 1,000-page batch opens at once. Printing
rasterises each chosen page at the printer's resolution (at most 300 dpi) with the page's own
orientation; 保存为PDF writes the original bytes atomically.
"""

from __future__ import annotations

import bisect
import errno
import logging
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, QSize, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.errors import AppError
from app.files import FileWriteError, write_file_atomic
from ui.errors import show_error
from ui.pdf_pages import PdfPages
from ui.settings import LAST_EXPORT_DIR, PreserveGeometry, Settings

log = logging.getLogger(__name__)

MARGIN, GAP, SHADOW = 24, 18, 5  # canvas margin, space between pages, drop-shadow depth (px)
BACKGROUND = QColor("#cdd3da")
PX_PER_PT = 96 / 72  # zoom 100% = the page at its real size on a 96-dpi screen
ZOOM_STEPS = (0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0)
MAX_CACHED_PAGES = 24
PROGRESS_OVER_PAGES = 5


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` (app/files.py: complete or absent); raise AppError saying what to do."""
    try:
        write_file_atomic(path, data)
    except FileWriteError as exc:
        cause = exc.__cause__
        raise AppError(_save_error_message(path, cause) if isinstance(cause, OSError) else exc.message,
                       file=str(path)) from exc


def _save_error_message(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"磁盘空间不足，无法保存“{path.name}”。请清理磁盘或换一个位置后重试。"
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return (
            f"无法保存到文件夹“{path.parent}”：没有写入权限，或同名文件正被其他程序（如 PDF 阅读器）打开。"
            "请关闭该文件或换一个文件夹后重试。"
        )
    if isinstance(exc, FileNotFoundError):
        return f"文件夹“{path.parent}”不存在，请换一个位置保存。"
    return f"无法保存“{path}”：{exc.strerror or exc}。请换一个位置后重试。"


class PageCanvas(QWidget):
    """All pages stacked vertically at one zoom; paints placeholders and renders visible pages in idle time."""

    def __init__(self, pages: PdfPages, parent: QWidget | None = None):
        super().__init__(parent)
        self.pages = pages
        self.zoom = 1.0
        self.rects: list[QRect] = []
        self._tops: list[int] = []
        self._band = (0, 0)  # visible vertical range in canvas coordinates
        self._cache: OrderedDict[int, tuple[float, QImage]] = OrderedDict()
        self._stopped = False
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._render_next)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        """Lay the pages out at `zoom` (1.0 = real size); rendered images are redone for the new size."""
        self.zoom = zoom
        sizes = [self.page_size_px(i) for i in range(self.pages.count)]
        widest = max((s.width() for s in sizes), default=0)
        self.rects, self._tops, y = [], [], MARGIN
        for size in sizes:
            self.rects.append(QRect(MARGIN + (widest - size.width()) // 2, y, size.width(), size.height()))
            self._tops.append(y)
            y += size.height() + GAP
        self.setFixedSize(widest + 2 * MARGIN + SHADOW, y - GAP + MARGIN + SHADOW)
        self.update()
        self._timer.start()

    def stop(self) -> None:
        """Render nothing more (the document is about to close)."""
        self._stopped = True
        self._timer.stop()

    def page_size_px(self, index: int) -> QSize:
        width, height = self.pages.page_size_pt(index)
        return QSize(max(1, round(width * PX_PER_PT * self.zoom)), max(1, round(height * PX_PER_PT * self.zoom)))

    def page_at(self, y: int) -> int:
        """0-based index of the page at canvas height `y` (the page above when `y` falls in a gap)."""
        return max(0, min(self.pages.count - 1, bisect.bisect_right(self._tops, y) - 1))

    def set_band(self, top: int, bottom: int) -> None:
        """The viewport now shows canvas rows top..bottom: render what is missing there soon."""
        self._band = (top, bottom)
        self._timer.start()

    def wanted_pages(self) -> list[int]:
        """Pages to have rendered: those in the band first, then half a viewport above and below."""
        top, bottom = self._band
        if not self.rects or bottom <= top:
            return []
        first, last = self.page_at(top), self.page_at(bottom)
        extra = (bottom - top) // 2
        before, after = self.page_at(max(0, top - extra)), self.page_at(bottom + extra)
        return list(range(first, last + 1)) + list(range(last + 1, after + 1)) + list(range(first - 1, before - 1, -1))

    def _dpi(self) -> float:
        return 96 * self.zoom * self.devicePixelRatioF()

    def _render_next(self) -> bool:
        """Render one missing page near the viewport; True if one was rendered."""
        if self._stopped:
            return False
        dpi = self._dpi()
        for index in self.wanted_pages():
            cached = self._cache.get(index)
            if cached is not None and cached[0] == dpi:
                continue
            image = self.pages.render(index, dpi)
            image.setDevicePixelRatio(self.devicePixelRatioF())
            self._cache[index] = (dpi, image)
            self._cache.move_to_end(index)
            self._evict(keep=set(self.wanted_pages()))
            self.update(self.rects[index].adjusted(-1, -1, SHADOW, SHADOW))
            self._timer.start()  # the next page on the next event-loop turn
            return True
        return False

    def render_pending(self) -> None:
        """Render every missing page near the viewport now (tests, screenshots)."""
        while self._render_next():
            pass

    def _evict(self, keep: set[int]) -> None:
        for index in [i for i in self._cache if i not in keep][: max(0, len(self._cache) - MAX_CACHED_PAGES)]:
            del self._cache[index]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), BACKGROUND)
        if not self.rects:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        first, last = self.page_at(event.rect().top() - SHADOW), self.page_at(event.rect().bottom())
        for index in range(first, last + 1):
            rect = self.rects[index]
            for k in range(SHADOW, 0, -1):  # soft shadow: stacked translucent rects, darkest near the page
                painter.fillRect(rect.translated(1, 2).adjusted(-k + 1, -k + 1, k, k), QColor(0, 0, 0, 12))
            cached = self._cache.get(index)
            if cached is not None:
                painter.drawImage(QRectF(rect), cached[1])  # an old zoom's image stands in until redone
            else:
                painter.fillRect(rect, Qt.GlobalColor.white)
                painter.setPen(QColor("#9aa5b1"))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"第 {index + 1} 页")


class PrintPreviewDialog(PreserveGeometry, QDialog):
    """Non-blocking preview of one print job: 打印…, 保存为PDF…, zoom and page navigation."""

    def __init__(
        self, pdf: bytes, title: str, settings: Settings, parent: QWidget | None = None, *, suggested_name="打印.pdf"
    ):
        super().__init__(parent)
        self.setObjectName("PrintPreviewDialog")
        self.pages = PdfPages(pdf)
        self.title = title
        self.settings = settings
        self.suggested_name = suggested_name
        self._fit_width, self._fit_cap = True, 1.0  # open fitted to the width, but not above real size
        self._pinned: int | None = None  # page jumped to, shown as current while it stays in view
        self._scrolling = False
        self._printing = self._closed = False
        count = self.pages.count
        self.setWindowTitle(f"打印预览 - {title}（共 {count} 页）")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint)
        self.setSizeGripEnabled(True)

        self.print_button = self._button("打印…", self.print_dialog, "Ctrl+P")
        self.print_button.setProperty("role", "primary")
        self.save_button = self._button("保存为PDF…", self.save_pdf, "Ctrl+S")
        self.zoom_out_button = self._button("缩小", self.zoom_out, "Ctrl+-")
        self.zoom_label = QLabel("100%")
        self.zoom_label.setMinimumWidth(44)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in_button = self._button("放大", self.zoom_in, "Ctrl+=")
        self.fit_button = self._button("适合宽度", self.fit_width, "Ctrl+0")
        self.page_spin = QSpinBox()
        self.page_spin.setRange(1, max(1, count))
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.setAccessibleName("页码")
        self.page_spin.setToolTip("输入页码后按回车跳转（PgUp / PgDn 翻页）")
        self.page_spin.valueChanged.connect(lambda n: self.go_to_page(n))
        self.page_total_label = QLabel(f"/ {count} 页")

        bar = QHBoxLayout()
        for widget in (self.print_button, self.save_button):
            bar.addWidget(widget)
        bar.addSpacing(24)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button):
            bar.addWidget(widget)
        bar.addSpacing(24)
        for widget in (QLabel("第"), self.page_spin, self.page_total_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        self.close_button = self._button("关闭", self.reject, None)
        bar.addWidget(self.close_button)

        self.canvas = PageCanvas(self.pages)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("printPreviewArea")
        self.scroll.setStyleSheet(f"QScrollArea#printPreviewArea {{ background: {BACKGROUND.name()}; border: none; }}")
        self.scroll.setWidget(self.canvas)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.scroll.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.scroll.viewport().installEventFilter(self)
        self.status_label = QLabel("PgUp / PgDn 翻页，Ctrl+滚轮 缩放，Esc 关闭")
        self.status_label.setProperty("role", "hint")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.status_label)
        for keys, slot in (
            ("Ctrl++", self.zoom_in),
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            ("PgUp", lambda: self.go_to_page(self.current_page() - 1)),
            ("PgDown", lambda: self.go_to_page(self.current_page() + 1)),
        ):
            QShortcut(QKeySequence(keys), self, activated=slot)
        self.resize(1000, 760)
        self.finished.connect(self._release)
        self.init_geometry(settings)

    def _release(self, _result: int = 0) -> None:
        self._closed = True
        self.canvas.stop()
        if not self._printing:  # else print_to closes the document when it has finished
            self.pages.close()

    def _button(self, text: str, slot, shortcut: str | None) -> QPushButton:
        button = QPushButton(text)
        button.setAutoDefault(False)  # Enter in the page box must not print
        button.clicked.connect(slot)
        if shortcut:
            QShortcut(QKeySequence(shortcut), self, activated=slot)
            button.setToolTip(f"{text.rstrip('…')}（{shortcut}）")
        return button

    # --- Zoom and navigation -------------------------------------------------------------------
    def set_zoom(self, zoom: float, *, fit: bool = False) -> None:
        """Show pages at `zoom` (1.0 = real size), keeping the current page in place."""
        self._fit_width = fit
        zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], zoom))
        bar = self.scroll.verticalScrollBar()
        rects = self.canvas.rects
        index = self.canvas.page_at(bar.value())
        offset = (bar.value() - rects[index].top()) / max(1, rects[index].height()) if rects else 0.0
        self.canvas.set_zoom(zoom)
        self.zoom_label.setText(f"{round(zoom * 100)}%")
        if rects:
            rect = self.canvas.rects[index]
            self._scroll_to(rect.top() + round(offset * rect.height()))
        self._update_band()

    def zoom_in(self) -> None:
        self.set_zoom(next((z for z in ZOOM_STEPS if z > self.canvas.zoom + 0.001), ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < self.canvas.zoom - 0.001), ZOOM_STEPS[0]))

    def fit_width(self) -> None:
        """Zoom so the widest page fills the viewport's width (and keep doing so on resize)."""
        self._fit_cap = None
        self._apply_fit()

    def _apply_fit(self) -> None:
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        available = self.scroll.width() - 2 * self.scroll.frameWidth() - scroll_bar - 2 * MARGIN - SHADOW
        widest = max((self.pages.page_size_pt(i)[0] for i in range(self.pages.count)), default=1.0)
        zoom = max(available, 50) / (widest * PX_PER_PT)
        self.set_zoom(min(zoom, self._fit_cap) if self._fit_cap else zoom, fit=True)

    def current_page(self) -> int:
        """1-based number of the page the user is looking at."""
        return self.page_spin.value()

    def go_to_page(self, number: int) -> None:
        """Scroll page `number` (1-based, clamped) to the top of the view."""
        number = max(1, min(self.pages.count, number))
        self._pinned = number - 1
        self._scroll_to(self.canvas.rects[number - 1].top() - GAP // 2)
        self._update_band()

    def _scroll_to(self, value: int) -> None:
        self._scrolling = True
        try:
            self.scroll.verticalScrollBar().setValue(value)
        finally:
            self._scrolling = False

    def _scrolled(self, _value: int) -> None:
        if not self._scrolling:
            self._pinned = None
        self._update_band()

    def _update_band(self) -> None:
        bar = self.scroll.verticalScrollBar()
        top = bar.value()
        bottom = top + self.scroll.viewport().height()
        self.canvas.set_band(top, bottom)
        pinned = self._pinned
        if pinned is not None and self.canvas.rects[pinned].intersects(QRect(0, top, 1 << 20, bottom - top)):
            index = pinned
        elif bar.maximum() > 0 and bar.value() >= bar.maximum():
            index = self.pages.count - 1
        else:
            index = self.canvas.page_at(top + (bottom - top) // 3)
        self.page_spin.blockSignals(True)
        self.page_spin.setValue(index + 1)
        self.page_spin.blockSignals(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scroll.viewport():
            if event.type() == QEvent.Type.Resize:
                QTimer.singleShot(0, self, self._apply_fit if self._fit_width else self._update_band)
            elif event.type() == QEvent.Type.Wheel and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.zoom_in() if event.angleDelta().y() > 0 else self.zoom_out()
                return True
        return super().eventFilter(watched, event)

    # --- Saving --------------------------------------------------------------------------------
    def save_pdf(self) -> Path | None:
        """Ask where to save, write the PDF's bytes atomically and remember the folder; the path or None."""
        folder = self.settings.get(LAST_EXPORT_DIR)
        if not folder or not Path(folder).is_dir():
            folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        name, _ = QFileDialog.getSaveFileName(
            self, "保存为PDF", str(Path(folder) / self.suggested_name), "PDF 文件 (*.pdf)"
        )
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        try:
            write_file_atomically(path, self.pages.data)
        except AppError as exc:
            log.warning("Saving %s failed: %s", path, exc.__cause__)
            show_error(self, exc)
            return None
        self.settings.set(LAST_EXPORT_DIR, str(path.parent))
        self.status_label.setText(f"已保存：{path}")
        return path

    # --- Printing ------------------------------------------------------------------------------
    def print_dialog(self) -> None:
        """打印…: choose printer, pages and copies, then print the chosen pages."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.title)
        printer.setPageOrientation(self.pages.orientation(0))
        printer.setFromTo(1, self.pages.count)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        dialog.setMinMax(1, self.pages.count)
        for option in ("PrintPageRange", "PrintCurrentPage", "PrintToFile", "PrintCollateCopies"):
            dialog.setOption(getattr(QAbstractPrintDialog.PrintDialogOption, option), True)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            done = self.print_to(printer, self.selected_pages(printer))
        except AppError as exc:
            show_error(self, exc)
            return
        if not done:
            self.status_label.setText("已取消打印。")
        elif printer.outputFileName():
            self.status_label.setText(f"已打印到文件：{printer.outputFileName()}")
        else:
            self.status_label.setText(f"已发送到打印机“{printer.printerName()}”。")

    def selected_pages(self, printer: QPrinter) -> list[int]:
        """0-based pages the print dialog chose (range or current page), repeated for copies the printer cannot make."""
        count = self.pages.count
        if printer.printRange() == QPrinter.PrintRange.CurrentPage:
            pages = [self.current_page() - 1]
        elif printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            pages = list(range(max(1, printer.fromPage()) - 1, min(count, printer.toPage() or count)))
        else:
            pages = list(range(count))
        copies = 1 if printer.supportsMultipleCopies() else max(1, printer.copyCount())
        if printer.collateCopies():
            return pages * copies
        return [page for page in pages for _ in range(copies)]

    def print_to(self, printer: QPrinter, pages: list[int]) -> bool:
        """Print `pages` (0-based) on `printer`; False if the user cancelled. Raises AppError on printer failure.

        Over PROGRESS_OVER_PAGES pages a window-modal progress dialog with 取消 shows, and the GUI
        repaints between pages.
        """
        progress = None
        if len(pages) > PROGRESS_OVER_PAGES:
            progress = QProgressDialog(f"正在打印 {self.title}…", "取消", 0, len(pages), self)
            progress.setWindowTitle("打印")
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.setMinimumDuration(0)

        def on_page(done: int, total: int) -> bool:
            if progress is None:
                return True
            progress.setLabelText(f"正在打印第 {min(done + 1, total)} / {total} 页…")
            progress.setValue(done)  # window-modal: processes events, so 取消 can be clicked
            return not progress.wasCanceled()

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self._printing = True
        try:
            return self.pages.print_to(printer, pages, on_page)
        finally:
            self._printing = False
            QApplication.restoreOverrideCursor()
            if progress is not None:
                progress.close()
            if self._closed:  # the dialog closed while printing: release the document now
                self.pages.close()
