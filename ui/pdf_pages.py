"""PdfPages: the pages of an in-memory PDF (count, size in points, QImage renders, printing) for the print preview.

Rendering uses pypdfium2 straight into a QImage (no PIL, no numpy); printing paints those images on a
QPrinter, each page in its own orientation. PDFium is not thread-safe: every call into it goes
through `PDFIUM_LOCK`, and the UI renders and prints on the GUI thread only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPageLayout, QPainter
from PySide6.QtPrintSupport import QPrinter

from app.errors import AppError

log = logging.getLogger(__name__)

PDFIUM_LOCK = threading.RLock()
"""Held around every pypdfium2 call in the app (PDFium keeps global state and must not run concurrently)."""

MAX_RENDER_PIXELS = 40_000_000  # ~160 MB as RGBX: far beyond any sane page; guards a huge zoom or page
MAX_PRINT_DPI = 300  # printers get at most this (memory: an A4 page at 300 dpi is ~35 MB)


class PdfPages:
    """An open PDF held in memory; `close()` it when done (the preview dialog does so when it closes)."""

    def __init__(self, pdf: bytes):
        self._data = bytes(pdf)  # PDFium reads from this buffer for the document's lifetime
        try:
            with PDFIUM_LOCK:
                self._doc = pdfium.PdfDocument(self._data)
                self.count: int = len(self._doc)
                # FPDF_GetPageSizeByIndexF needs no full page load; sizes stay known after close()
                self._sizes = [tuple(map(float, self._doc.get_page_size(i))) for i in range(self.count)]
        except pdfium.PdfiumError as exc:
            raise AppError(f"生成的打印文件无法打开（{exc}），请重试；如仍不行请联系技术支持。") from exc
        self.render_count = 0
        """How many pages were rasterised so far (tests check the preview renders lazily)."""

    @property
    def data(self) -> bytes:
        """The PDF's bytes, exactly as given."""
        return self._data

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.count:
            raise IndexError(f"page {index} out of range 0..{self.count - 1}")

    def page_size_pt(self, index: int) -> tuple[float, float]:
        """(width, height) of page `index` (0-based) in points as displayed, i.e. after its /Rotate."""
        self._check_index(index)
        width, height = self._sizes[index]
        return width, height

    def is_landscape(self, index: int) -> bool:
        """True when page `index` is wider than tall."""
        width, height = self.page_size_pt(index)
        return width > height

    def render(self, index: int, dpi: float) -> QImage:
        """Page `index` rasterised at `dpi` on white, as an RGBX QImage that owns its pixels."""
        width_pt, height_pt = self.page_size_pt(index)
        if self._doc is None:
            raise RuntimeError("PdfPages is closed")
        scale = max(dpi, 1.0) / 72.0
        pixels = width_pt * scale * height_pt * scale
        if pixels > MAX_RENDER_PIXELS:
            scale *= (MAX_RENDER_PIXELS / pixels) ** 0.5
        with PDFIUM_LOCK:
            page = self._doc[index]
            try:
                bitmap = page.render(
                    scale=scale,
                    fill_color=(255, 255, 255, 255),
                    force_bitmap_format=pdfium_c.FPDFBitmap_BGRx,
                    rev_byteorder=True,  # RGBx byte order = QImage.Format_RGBX8888 on every platform
                    draw_annots=True,
                )
                try:
                    image = QImage(
                        bytes(bitmap.buffer),
                        bitmap.width,
                        bitmap.height,
                        bitmap.stride,
                        QImage.Format.Format_RGBX8888,
                    ).copy()  # detach from the temporary bytes
                finally:
                    bitmap.close()
            finally:
                page.close()
        self.render_count += 1
        return image

    def orientation(self, index: int) -> QPageLayout.Orientation:
        """The printer orientation that fits page `index`."""
        landscape = self.is_landscape(index)
        return QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait

    def print_to(
        self, printer: QPrinter, indices: list[int], on_page: Callable[[int, int], bool] | None = None
    ) -> bool:
        """Paint pages `indices` (0-based, repeats allowed) on `printer`; False if `on_page` asked to stop.

        Each page is rendered at the printer's resolution (capped at MAX_PRINT_DPI), scaled to the
        printable area keeping its aspect, in its own orientation. `on_page(done, total)` is called
        before the first and after every page; returning False aborts the job. Raises AppError when
        the printer cannot be used.
        """
        name = printer.printerName() or printer.outputFileName() or "默认打印机"
        failure = f"无法打印到“{name}”。请检查打印机是否已开机、已连接并有纸，或选择其他打印机后重试。"
        if not indices:
            return True
        layout = printer.pageLayout()
        printer.setPageMargins(layout.minimumMargins(), layout.units())  # the PDF carries its own margins
        printer.setPageOrientation(self.orientation(indices[0]))
        painter = QPainter()
        if not painter.begin(printer):
            raise AppError(failure)
        try:
            for n, index in enumerate(indices):
                if on_page is not None and on_page(n, len(indices)) is False:
                    printer.abort()
                    return False
                if n:
                    printer.setPageOrientation(self.orientation(index))
                    if not printer.newPage():
                        raise AppError(failure)
                self._paint(painter, printer, index)
                if printer.printerState() in (QPrinter.PrinterState.Error, QPrinter.PrinterState.Aborted):
                    raise AppError(failure)
            if on_page is not None:
                on_page(len(indices), len(indices))
            return True
        finally:
            if painter.isActive():
                painter.end()

    def _paint(self, painter: QPainter, printer: QPrinter, index: int) -> None:
        area = printer.pageRect(QPrinter.Unit.DevicePixel)  # painter origin is the printable area's corner
        width_pt, height_pt = self.page_size_pt(index)
        scale = min(area.width() / width_pt, area.height() / height_pt)  # device pixels per point
        image = self.render(index, min(MAX_PRINT_DPI, scale * 72))
        width, height = width_pt * scale, height_pt * scale
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF((area.width() - width) / 2, (area.height() - height) / 2, width, height), image)

    def close(self) -> None:
        """Release the PDFium document (safe to call twice)."""
        doc = getattr(self, "_doc", None)
        if doc is not None:
            with PDFIUM_LOCK:
                doc.close()
            self._doc = None  # type: ignore[assignment]

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
