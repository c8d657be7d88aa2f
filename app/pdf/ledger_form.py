"""问题台账: the filtered problem list on landscape A4, one table page by page, totals at the end.

Fast at city scale (11,000+ rows): rows are fetched in batches, every cell is line-broken once, and
`_LedgerRows` cuts one page's rows at a time from precomputed row heights (prefix sums), so each page
is one small reportlab Table with the header row on top. One giant Table would be re-laid-out at every
page split (superlinear); fixed-size chunk tables would repeat the header in the middle of a page.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer

from app.clock import today
from app.lifecycle import STATUSES
from app.pdf.document import LINE, MARK_RED, Record, grid, new_record_page, section
from app.pdf.fonts import FONT
from app.pdf.textflow import TextBlock, break_lines
from app.problems import ProblemFilter
from app.stats import truncated_percent

if TYPE_CHECKING:
    from app.services import Services

FETCH_BATCH = 500
SIZE = 8.5  # body text
LEADING = 11.5
HEAD_SIZE = 9
PAD_X, PAD_Y = 3, 2.5  # cell padding (left/right, top/bottom)
OVERDUE_BG = colors.HexColor("#fbe4e2")
ZEBRA_BG = colors.HexColor("#f6f8fa")
HEADER_BG = colors.HexColor("#e4e9f0")
GREY = colors.HexColor("#666666")

# (header, width in mm, align); the widths add up to the landscape body width (265 mm) and are scaled to it.
COLUMNS = (
    ("序号", 11, "center"), ("编号", 29, "left"), ("企业名称", 37, "left"), ("问题类别", 15, "center"),
    ("问题摘要", 40, "left"), ("层级", 12, "center"), ("牵头单位", 28, "left"), ("登记日期", 18, "center"),
    ("办理时限", 25, "center"), ("状态", 13, "center"), ("办结日期", 18, "center"), ("办理结果", 19, "center"),
)
DEADLINE_COL = 8


@lru_cache(maxsize=65536)
def _sw(text: str, size: float) -> float:
    """String widths, cached: dates, statuses, categories and unit names repeat on every page."""
    return stringWidth(text, FONT, size)


def _lines(text: str, width: float, size: float = SIZE) -> list[str]:
    """Line-broken text; a short single line skips the tokeniser (most cells are dates and statuses)."""
    if "\n" not in text and _sw(text, size) <= width:
        return [text]
    return break_lines(text, width, size)


def _leading(size: float) -> float:
    return LEADING if size == SIZE else size * 1.35


class _Cell:
    """One table cell: parts of (lines, colour, size) stacked, already broken to the column width."""

    __slots__ = ("align", "parts")

    def __init__(self, align: str):
        self.parts: list[tuple[list[str], object, float]] = []
        self.align = align

    def add(self, text: str, width: float, color=colors.black, size: float = SIZE) -> _Cell:
        self.parts.append((_lines(text, width, size), color, size))
        return self

    @property
    def height(self) -> float:
        return sum(len(lines) * _leading(size) for lines, _, size in self.parts)


class _LedgerRows(Flowable):
    """The ledger body. It splits page by page into the rows that fit, each page with the header row.

    Pages are drawn straight onto the canvas (cell backgrounds, one path of rules, one text object):
    a reportlab Table of flowable cells costs several times as much per cell at 11,000 rows.
    """

    def __init__(self, header: list[_Cell], rows: list[tuple[list[_Cell], bool]], widths: list[float],
                 start: int = 0, end: int | None = None, heights: list[float] | None = None,
                 tops: list[float] | None = None):
        super().__init__()
        self.header, self.rows, self.widths = header, rows, widths
        self.start, self.end = start, len(rows) if end is None else end
        self.heights = heights if heights is not None else [self._height(cells) for cells, _ in rows]
        # tops[i] = height of rows[0:i]; rows i..j-1 take tops[j] - tops[i].
        self.tops = tops if tops is not None else [0.0, *accumulate(self.heights)]
        self.head_h = self._height(header)

    @staticmethod
    def _height(cells: list[_Cell]) -> float:
        return max(c.height for c in cells) + 2 * PAD_Y

    def _part(self, start: int, end: int | None = None) -> _LedgerRows:
        return _LedgerRows(self.header, self.rows, self.widths, start, end, self.heights, self.tops)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = sum(self.widths)
        self.height = self.head_h + self.tops[self.end] - self.tops[self.start]
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        budget = self.tops[self.start] + avail_height - self.head_h + 0.01
        end = min(self.end, bisect_right(self.tops, budget) - 1)
        if end <= self.start:
            return []  # not even one row: the frame moves on to the next page
        return [self._part(self.start, end), self._part(end, self.end)] if end < self.end else [self]

    def draw(self) -> None:
        c = self.canv
        xs = [0.0, *accumulate(self.widths)]
        # Row boxes from the top down: (y of the bottom, height, cells, background).
        boxes = [(self.height - self.head_h, self.head_h, self.header, HEADER_BG)]
        y = boxes[0][0]
        for i in range(self.start, self.end):
            cells, overdue = self.rows[i]
            h = self.heights[i]
            y -= h
            boxes.append((y, h, cells, OVERDUE_BG if overdue else ZEBRA_BG if i % 2 else None))
        for y, h, _, bg in boxes:
            if bg is not None:
                c.setFillColor(bg)
                c.rect(0, y, self.width, h, stroke=0, fill=1)
        rules = c.beginPath()
        for y, _, _, _ in boxes:
            rules.moveTo(0, y)
            rules.lineTo(self.width, y)
        rules.moveTo(0, self.height)
        rules.lineTo(self.width, self.height)
        for x in xs:
            rules.moveTo(x, 0)
            rules.lineTo(x, self.height)
        c.setStrokeColor(LINE)
        c.setLineWidth(0.5)
        c.drawPath(rules, stroke=1, fill=0)
        c.setLineWidth(1.0)
        c.line(0, boxes[0][0], self.width, boxes[0][0])
        self._draw_text(boxes, xs)

    def _draw_text(self, boxes: list, xs: list[float]) -> None:
        text = self.canv.beginText()
        font = color = None
        for y, h, cells, _ in boxes:
            for col, cell in enumerate(cells):
                top = y + h - (h - cell.height) / 2  # vertically centred in the row
                for lines, ink, size in cell.parts:
                    lead = _leading(size)
                    if font != size:
                        text.setFont(FONT, size)
                        font = size
                    if color != ink:
                        text.setFillColor(ink)
                        color = ink
                    for line in lines:
                        top -= lead
                        if not line:
                            continue
                        x = xs[col] + PAD_X
                        if cell.align == "center":
                            x = (xs[col] + xs[col + 1] - _sw(line, size)) / 2
                        text.setTextOrigin(x, top + (lead - size) / 2 + size * 0.16)
                        text.textOut(line)
        self.canv.drawText(text)


# -- the story ---------------------------------------------------------------------------------------

def filter_description(services: Services, f: ProblemFilter) -> str:
    """The filter in words for the page header, e.g. "状态：办理中；所属单位：金水区；逾期未办结"."""
    store = services.store

    def name(sql: str, key: str | None) -> str:
        value = store.scalar(sql, (key,)) if key else None
        return str(value) if value else str(key)

    parts = []
    if f.statuses:
        parts.append("状态：" + "、".join(f.statuses))
    if f.overdue:
        parts.append("逾期未办结")
    if f.due_within is not None:
        parts.append(f"{f.due_within}个工作日内到期")
    if f.unit_id:
        parts.append("所属单位：" + name("SELECT name FROM units WHERE id = ?", f.unit_id))
    if f.lead_unit_id:
        parts.append("牵头单位：" + name("SELECT name FROM units WHERE id = ?", f.lead_unit_id))
    if f.category_code:
        parts.append("问题类别：" + name(
            "SELECT name FROM vocabulary WHERE kind = 'problem_category' AND code = ?", f.category_code))
    if f.level:
        parts.append(f"层级：{f.level}")
    if f.enterprise_id:
        parts.append("企业：" + name("SELECT name FROM enterprises WHERE id = ?", f.enterprise_id))
    if f.cadre_id:
        parts.append("包联干部：" + name("SELECT name FROM cadres WHERE id = ?", f.cadre_id))
    if f.text.strip():
        parts.append(f"关键词：“{f.text.strip()}”")
    if f.ids is not None:
        parts.append(f"选定的 {len(f.ids)} 件")
    text = "；".join(parts) or "全部问题"
    return text if len(text) <= 70 else text[:69] + "…"


def _row(i: int, p: dict, widths: list[float]) -> tuple[list[_Cell], bool]:
    inner = [w - 2 * PAD_X for w in widths]

    def cell(col: int, text) -> _Cell:
        return _Cell(COLUMNS[col][2]).add("" if text is None else str(text), inner[col])

    deadline = cell(DEADLINE_COL, p.get("deadline") or ("未交办" if p["status"] == "待交办" else ""))
    original = p.get("original_deadline")
    if original and p.get("deadline") and original != p["deadline"]:
        deadline.add(f"原{original}", inner[DEADLINE_COL], GREY, 7)
    if p["overdue"]:
        deadline.add(f"逾期{p['overdue_workdays']}个工作日", inner[DEADLINE_COL], MARK_RED)
    done = cell(10, p.get("resolved_on"))
    if p["missed_deadline"] and p.get("resolved_on"):
        done.add("超期办结", inner[10], MARK_RED)
    status = cell(9, p["status"])
    if p["overdue"]:
        status.parts[0] = (status.parts[0][0], MARK_RED, SIZE)
    cells = [cell(0, i), cell(1, p["record_no"]), cell(2, p.get("enterprise")), cell(3, p.get("category")),
             cell(4, p.get("title")), cell(5, p.get("level")), cell(6, p.get("lead_unit")),
             cell(7, p.get("registered_on")), deadline, status, done, cell(11, p.get("outcome"))]
    return cells, bool(p["overdue"])


def _totals(rows: list[dict], width: float, operator: str) -> list[Flowable]:
    status_counts = {s: 0 for s in STATUSES}
    for p in rows:
        status_counts[p["status"]] = status_counts.get(p["status"], 0) + 1
    total = len(rows)
    overdue = sum(1 for p in rows if p["overdue"])
    missed = sum(1 for p in rows if p["missed_deadline"])
    solved = sum(1 for p in rows if p.get("outcome") == "已解决")
    head = ["问题总数", *status_counts, "逾期", "超期办理", "已解决", "解决率"]
    values = [total, *status_counts.values(), overdue, missed, solved, truncated_percent(solved, total)]
    cells = [[TextBlock(str(h), 9, align="center") for h in head],
             [TextBlock(f"{v}", 10, align="center") for v in values]]
    table = grid(cells, [width / len(head)] * len(head), label_cols=(), header=True,
                 styles=[("TEXTCOLOR", (head.index("逾期"), 1), (head.index("逾期"), 1), MARK_RED)])
    note = (f"注：逾期指截至{today().isoformat()}仍在办理且已超过办理时限（含批准延期后的时限）；超期办理指超过首次交办时限"
            "才办结或至今仍未办结，延期不改变原时限；已解决指办理结果为“已解决”（已解释说明、长期推进不计入）；"
            "解决率＝已解决÷问题总数，保留一位小数，截断不四舍五入。")
    sign = f"制表：{operator or '________'}　　审核：________　　日期：{today().isoformat()}"
    return [KeepTogether([*section("台账合计", 11), table, Spacer(1, 1.5 * mm), TextBlock(note, 8, leading=11),
                          Spacer(1, 6 * mm), TextBlock(sign, 10, align="right")])]


def ledger_story(story: list[Flowable], services: Services, f: ProblemFilter, title: str, width: float) -> list[str]:
    """Append the 问题台账 for filter `f`; returns the ids of the problems printed, in order."""
    ids = services.problems.list_ids(f, "registered_on", descending=False)
    scale = width / sum(c[1] * mm for c in COLUMNS)
    widths = [c[1] * mm * scale for c in COLUMNS]
    header = [_Cell("center").add(name, w - 2 * PAD_X, size=HEAD_SIZE) for (name, _, _), w in zip(COLUMNS, widths, strict=True)]
    printed: list[dict] = []
    body: list[tuple[list[_Cell], bool]] = []
    for start in range(0, len(ids), FETCH_BATCH):
        batch = services.problems.rows(ids[start:start + FETCH_BATCH])
        for pid in ids[start:start + FETCH_BATCH]:
            p = batch.get(pid)
            if p is None:  # deleted between the two queries
                continue
            printed.append(p)
            body.append(_row(len(printed), p, widths))
    new_record_page(story, Record(key=f"ledger:{today().isoformat()}", kind="ledger", title=title,
                                  number=f"共{len(printed)}件", left=filter_description(services, f),
                                  right=f"截至 {today().isoformat()}", qr=False, number_label=""))
    if not body:  # an empty ledger still prints its header row
        body.append(([_Cell("center").add("没有符合条件的问题。", widths[2] - 2 * PAD_X)
                      if c == 2 else _Cell("center") for c in range(len(COLUMNS))], False))
    story.append(_LedgerRows(header, body, widths))
    operator = services.ctx.installation.operator if services.ctx.initialised else ""
    story.extend(_totals(printed, width, operator))
    return [p["id"] for p in printed]
