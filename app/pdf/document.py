"""The form document: A4 pages whose header (title, number, QR code) and "第 x 页 共 y 页" footer belong to
the record being printed, so a batch of 1,000 visit records numbers each record's pages on its own.

Forms add `RecordStart(record)` before each record's flowables; the header and footer are drawn when a
page ends (the record on it is known by then) and the totals are filled in when the file is saved.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Table,
    TableStyle,
)

from app import APP_NAME
from app.clock import SHANGHAI
from app.errors import PrintCancelled
from app.pdf.fastgrid import FastGrid
from app.pdf.fonts import FONT, register_fonts
from app.pdf.textflow import TextBlock

LINE = colors.HexColor("#333333")
LABEL_BG = colors.HexColor("#f1f3f6")
MARK_RED = colors.HexColor("#b3261e")
# ASCII85 stream encoding only makes files bigger and slower (a third of a city ledger's time).
rl_config.useA85 = 0

# Tables set a cell font even for flowable cells: name ours, or Helvetica is referenced (unembedded).
BASE_TABLE_STYLE = (("FONTNAME", (0, 0), (-1, -1), FONT),)
# Called now and then with (done, total); returning False cancels the job.
Progress = Callable[[int, int], "bool | None"]


@dataclass(frozen=True)
class Record:
    """What the page header says about the record on the page."""

    key: str  # record id, also in the QR code
    kind: str  # visit / problem / enterprise / ledger / report: the QR payload's type
    title: str  # 走访记录表, 问题交办单...
    number: str = ""  # human-readable number printed under the QR code
    left: str = ""  # small line under the title, left (e.g. 填报单位：金水区)
    right: str = ""  # small line under the title, right (e.g. 走访日期)
    qr: bool = True
    number_label: str = "编号"  # the footer says "编号：…"; "" prints the number alone (ledgers, reports)

    @property
    def payload(self) -> str:
        """What the QR code holds: "ZQ:V:" + the record id as 32 upper-case hex digits (or the number,
        for records without a UUID such as an enterprise's USCC). Upper case, digits and ':' only, so it
        encodes in QR's compact alphanumeric mode; AttachmentService.find_owner reads it back."""
        ref = self.key.replace("-", "").upper()
        if not re.fullmatch(r"[0-9A-F]{32}", ref):
            ref = (self.number or ref).upper()
        return f"ZQ:{self.kind[:1].upper()}:{ref}"


class RecordStart(Flowable):
    """Zero-size marker: from here on the pages belong to `record`."""

    def __init__(self, record: Record):
        super().__init__()
        self.record = record
        self.width = self.height = 0

    def wrap(self, avail_width, avail_height):
        return 0, 0

    def draw(self) -> None:
        self.canv._zq_doc.current = self.record  # noqa: SLF001 - the doc and canvas are ours


class _FormCanvas(pdfcanvas.Canvas):
    """Keeps each page until the end so footers can say "共 y 页" per record (reportlab's two-pass recipe)."""

    def __init__(self, *args, **kwargs):
        # Start in the bundled font so no unembedded base-14 font (Helvetica) is referenced at all.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or FONT
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 - reportlab API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        totals: dict[int, int] = {}
        for state in self._pages:
            totals[state.get("_zq_serial", -1)] = state.get("_zq_page_no", 1)
        for state in self._pages:
            self.__dict__.update(state)
            if "_zq_doc" in state:
                self._zq_doc.draw_footer(self, state["_zq_page_no"], totals[state["_zq_serial"]])
            super().showPage()
        super().save()


@dataclass
class FormDocument:
    """Builds one PDF of one or many records. `orientation` is "portrait" or "landscape"."""

    orientation: str = "portrait"
    printed_by: str = ""
    progress: Progress | None = None
    total_hint: int = 0  # records (or pages, with progress_per_page) expected, for the progress bar
    progress_per_page: bool = False  # one long record (a ledger): report pages instead of records
    current: Record | None = None
    _qr_cache: dict = field(default_factory=dict)
    _serial: int = 0
    _last_key: object = None
    _page_in_record: int = 0
    _done: int = 0

    def __post_init__(self) -> None:
        register_fonts()
        self.pagesize = landscape(A4) if self.orientation == "landscape" else A4
        self.margin_x = 16 * mm
        self.top = 34 * mm  # the header band
        self.bottom = 16 * mm
        self.printed_at = datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M")

    @property
    def body_width(self) -> float:
        return self.pagesize[0] - 2 * self.margin_x

    def build(self, story: list[Flowable]) -> bytes:
        buf = io.BytesIO()
        doc = BaseDocTemplate(buf, pagesize=self.pagesize, leftMargin=self.margin_x, rightMargin=self.margin_x,
                              topMargin=self.top, bottomMargin=self.bottom, title=self._title(story),
                              author=APP_NAME, creator=APP_NAME, subject=APP_NAME, initialFontName=FONT)
        frame = Frame(self.margin_x, self.bottom, self.body_width, self.pagesize[1] - self.top - self.bottom,
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
        doc.addPageTemplates([PageTemplate(id="form", frames=[frame], onPage=self._page_start,
                                           onPageEnd=self._page_end, pagesize=self.pagesize)])
        doc.build(story, canvasmaker=_FormCanvas)
        return buf.getvalue()

    @staticmethod
    def _title(story: list[Flowable]) -> str:
        first = next((f.record for f in story if isinstance(f, RecordStart)), None)
        return first.title if first else APP_NAME

    # -- page furniture --------------------------------------------------------------------------------
    def _page_start(self, canv, doc) -> None:
        canv._zq_doc = self  # the RecordStart markers reach the document through the canvas
        canv._zq_serial, canv._zq_page_no, canv._zq_record = -1, 1, None

    def _page_end(self, canv, doc) -> None:
        record = self.current
        if record is None:
            return
        if record.key != self._last_key:
            self._last_key = record.key
            self._serial += 1
            self._page_in_record = 0
            if not self.progress_per_page:
                self._report()
        self._page_in_record += 1
        if self.progress_per_page:
            self._report()
        canv._zq_serial = self._serial
        canv._zq_page_no = self._page_in_record
        canv._zq_record = record
        self._draw_header(canv, record, continued=self._page_in_record > 1)

    def _report(self) -> None:
        self._done += 1
        if self.progress is not None and self.progress(self._done, max(self.total_hint, self._done)) is False:
            raise PrintCancelled("已取消打印，未生成文件。")

    def _draw_header(self, canv, record: Record, *, continued: bool) -> None:
        w, h = self.pagesize
        x0, x1 = self.margin_x, w - self.margin_x
        top = h - 12 * mm
        qr = 20 * mm if record.qr else 0
        canv.setFillColor(colors.black)
        if continued:
            canv.setFont(FONT, 13)
            canv.drawString(x0, top - 8 * mm, f"{record.title}（续）")
        else:
            canv.setFont(FONT, 20)
            canv.drawCentredString(w / 2, top - 9 * mm, record.title)
        canv.setFont(FONT, 9)
        base = h - self.top + 4 * mm
        if record.left:
            canv.drawString(x0, base, record.left)
        if record.right:
            canv.drawRightString(x1 - qr - 3 * mm, base, record.right)
        if record.qr:
            self._draw_qr(canv, record, x1 - qr, base - 1 * mm, qr)
        canv.setStrokeColor(LINE)
        canv.setLineWidth(0.8)
        canv.line(x0, base - 2.5 * mm, x1 - (qr + 2 * mm if record.qr else 0), base - 2.5 * mm)

    def _draw_qr(self, canv, record: Record, x: float, y: float, size: float) -> None:
        rows = self._qr_cache.get(record.payload)
        if rows is None:
            rows = qr_modules(record.payload)
            self._qr_cache = {record.payload: rows}  # a record's pages reuse it; the cache never grows
        draw_qr(canv, rows, x, y, size)
        # The number under the code stays within the page margin even for an 18-character USCC.
        font_size = 7.0
        while font_size > 4.5 and stringWidth(record.number, FONT, font_size) > size + 2 * mm:
            font_size -= 0.5
        canv.setFont(FONT, font_size)
        canv.drawCentredString(x + size / 2, y - 2.5 * mm, record.number)

    def draw_footer(self, canv, page_no: int, total: int) -> None:
        record: Record | None = getattr(canv, "_zq_record", None)
        w = self.pagesize[0]
        y = self.bottom - 8 * mm
        canv.setFont(FONT, 8)
        canv.setFillColor(colors.HexColor("#555555"))
        canv.drawCentredString(w / 2, y, f"第 {page_no} 页  共 {total} 页")
        if record is not None and record.number:
            label = f"{record.number_label}：" if record.number_label else ""
            canv.drawString(self.margin_x, y, f"{label}{record.number}")
        who = f"  打印人：{self.printed_by}" if self.printed_by else ""
        canv.drawRightString(w - self.margin_x, y, f"{APP_NAME}打印于 {self.printed_at}{who}")


# -- building blocks shared by the forms ---------------------------------------------------------------

QR_MASK = 2


def qr_modules(payload: str) -> list[list[bool]]:
    """The dark/light module matrix of a QR code (reportlab's encoder, error correction level M)."""
    from reportlab.graphics.barcode import qrencoder  # its package pulls in all barcode widgets: load late

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(payload)
    code.version = code.calculate_version()
    # A fixed mask pattern is valid QR; searching the best of eight (make()) costs 8x the encoding,
    # which dominated batch printing, and the codes are printed large enough to scan either way.
    code.makeImpl(False, QR_MASK)
    return [[bool(m) for m in row] for row in code.modules]


def draw_qr(canv, rows: list[list[bool]], x: float, y: float, size: float, border: int = 1) -> None:
    """Draw the modules as filled runs straight onto the canvas (no graphics renderer, no stray fonts)."""
    n = len(rows) + 2 * border
    box = size / n
    path = canv.beginPath()
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + (start + border) * box, y + size - (r + border + 1) * box, (c - start) * box, box)
            else:
                c += 1
    canv.setFillColor(colors.black)
    canv.drawPath(path, stroke=0, fill=1)


def section(title: str, size: float = 11.5) -> list[Flowable]:
    """A section heading with its spacing; it starts a new page rather than sit alone at a page's foot.

    (A conditional page break, not keepWithNext: that would also push a long text box after the
    heading wholly onto the next page and leave the rest of this one empty.)"""
    return [CondPageBreak(size * 1.6 + 3 * mm + 16 * mm), _Heading(title, size)]


class _Heading(Flowable):
    def __init__(self, text: str, size: float):
        super().__init__()
        self.text = text
        self.size = size
        self.spaceBefore = 3 * mm
        self.spaceAfter = 1.5 * mm

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        self.height = self.size * 1.6
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(colors.HexColor("#1f3b63"))
        c.rect(0, 2, 3, self.size, stroke=0, fill=1)
        c.setFillColor(colors.black)
        c.setFont(FONT, self.size)
        c.drawString(7, 3, self.text)


def grid(rows: Iterable[Iterable], widths: list[float], *, label_cols: Iterable[int] = (0,), size: float = 10,
         header: bool = False, repeat_header: bool = False, zebra: bool = False,
         styles: list | None = None, split_rows: bool = False) -> Flowable:
    """A ruled table of plain-text cells (None prints as a blank cell, never "None").

    `label_cols` get the grey label background; with `header` the first row is a header, repeated on
    every page when `repeat_header`. `split_rows` lets a tall row continue on the next page (for
    long text boxes); otherwise rows move whole to the next page.
    """
    data = []
    for r in rows:
        data.append([c if isinstance(c, Flowable) else TextBlock("" if c is None else str(c), size) for c in r])
    if not styles:  # the common case: our own fast grid; reportlab's Table only for extra styles (spans...)
        return FastGrid(data, widths, label_cols=label_cols, header=header, repeat_header=repeat_header,
                        zebra=zebra, split_rows=split_rows, line=LINE, label_bg=LABEL_BG)
    table = Table(data, colWidths=widths, repeatRows=1 if repeat_header else 0, splitInRow=1 if split_rows else 0)
    style = [
        *BASE_TABLE_STYLE,
        ("GRID", (0, 0), (-1, -1), 0.6, LINE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for col in label_cols:
        style.append(("BACKGROUND", (col, 0), (col, -1), LABEL_BG))
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), LABEL_BG))
    if zebra:
        for i in range(2 if header else 1, len(data), 2):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fafbfc")))
    table.setStyle(TableStyle(style + (styles or [])))
    return table


class SignatureBlock(Flowable):
    """Signature lines, one per party: "走访干部（签字）：________  日期：    年  月  日"."""

    ROW = 14 * mm

    def __init__(self, parties: list[str], width: float, size: float = 10.5):
        super().__init__()
        self.parties = parties
        self.width = width
        self.size = size

    def wrap(self, avail_width, avail_height):
        self.height = self.ROW * len(self.parties)
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFont(FONT, self.size)
        c.setStrokeColor(LINE)
        c.setLineWidth(0.6)
        w = self.width
        for i, party in enumerate(self.parties):
            y = self.height - (i + 1) * self.ROW + 3
            c.drawString(0, y, f"{party}（签字）：")
            c.line(w * 0.28, y - 2, w * 0.63, y - 2)
            c.drawString(w * 0.66, y, "日期：      年    月    日")


def signature_block(parties: list[str], width: float) -> Flowable:
    """Signature lines for the given parties (kept together on one page)."""
    return SignatureBlock(parties, width)


def text_box(text: str | None, width: float, *, size: float = 10.5, min_lines: int = 2) -> Table:
    """A ruled box of long user text that continues across pages (走访情况, 宣讲政策...)."""
    return grid([[TextBlock(text, size, min_lines=min_lines)]], [width], label_cols=(), split_rows=True)


def fit_width(texts: Iterable[str | None], size: float, minimum: float = 0) -> float:
    """Column width that fits the longest of `texts` on one line at `size` (plus cell padding)."""
    return max([minimum] + [stringWidth(t or "", FONT, size) + 9 for t in texts])


def blank(value) -> str:
    """Empty optional values print as nothing (a blank line in the form), never "None"."""
    return "" if value is None else str(value)


def new_record_page(story: list[Flowable], record: Record) -> None:
    """Start a record on a fresh page (except the first) and mark the pages that follow as its own."""
    if story:
        story.append(PageBreak())
    story.append(RecordStart(record))
