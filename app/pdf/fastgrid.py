"""FastGrid: the ruled form table drawn straight onto the canvas — a fraction of reportlab Table's cost.

Forms are mostly grids of plain-text cells; reportlab's Table measures and draws each cell through
its general machinery (a graphics-state push per cell, style lookups), which made batch printing
slow. FastGrid measures each cell once, draws backgrounds, text and all rules in a few passes, and
splits between rows (repeating the header row) or, for long text boxes, inside a row.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.platypus import Flowable

from app.pdf.textflow import TextBlock

PAD_X, PAD_Y = 4.0, 2.0
ZEBRA = colors.HexColor("#fafbfc")


class FastGrid(Flowable):
    def __init__(self, rows: list[list[Flowable]], widths: list[float], *, label_cols=(), header: bool = False,
                 repeat_header: bool = False, zebra: bool = False, split_rows: bool = False, line=colors.black,
                 label_bg=colors.lightgrey, line_width: float = 0.6, _zebra_start: int = 0):
        super().__init__()
        self.rows = rows
        self.widths = list(widths)
        self.label_cols = frozenset(label_cols)
        self.header = header
        self.repeat_header = repeat_header
        self.zebra = zebra
        self.split_rows = split_rows
        self.line = line
        self.label_bg = label_bg
        self.line_width = line_width
        self._zebra_start = _zebra_start  # keeps the stripes continuous across a page split
        self._heights: list[float] | None = None

    def _clone(self, rows: list[list[Flowable]], zebra_start: int) -> FastGrid:
        return FastGrid(rows, self.widths, label_cols=self.label_cols, header=self.header and self.repeat_header,
                        repeat_header=self.repeat_header, zebra=self.zebra, split_rows=self.split_rows,
                        line=self.line, label_bg=self.label_bg, line_width=self.line_width,
                        _zebra_start=zebra_start)

    def _measure(self) -> list[float]:
        if self._heights is None:
            heights = []
            for row in self.rows:
                tallest = 0.0
                for cell, w in zip(row, self.widths, strict=True):
                    tallest = max(tallest, cell.wrap(w - 2 * PAD_X, 1e9)[1])
                heights.append(tallest + 2 * PAD_Y)
            self._heights = heights
        return self._heights

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = sum(self.widths)
        self.height = sum(self._measure())
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        heights = self._measure()
        head = 1 if (self.header and self.repeat_header) else 0
        used, fit = 0.0, 0
        for h in heights:
            if used + h > avail_height:
                break
            used += h
            fit += 1
        if fit >= len(self.rows):
            return [self]
        head_rows = self.rows[:head]
        if fit > head:  # whole rows fit: move the rest (under a repeated header) to the next page
            first = self._clone(self.rows[:fit], self._zebra_start)
            rest = self._clone(head_rows + self.rows[fit:], self._zebra_start + fit - head)
            return [first, rest]
        if not self.split_rows:
            return []
        # Split the first row that does not fit inside itself (long text boxes).
        room = avail_height - used - 2 * PAD_Y
        row = self.rows[fit]
        tops, bottoms = [], []
        for cell, w in zip(row, self.widths, strict=True):
            parts = cell.split(w - 2 * PAD_X, room)
            if len(parts) == 2:
                tops.append(parts[0])
                bottoms.append(parts[1])
            elif len(parts) == 1 and cell.wrap(w - 2 * PAD_X, 1e9)[1] <= room:
                tops.append(cell)
                bottoms.append(TextBlock(""))
            else:
                return []
        first = self._clone(self.rows[:fit] + [tops], self._zebra_start)
        rest = self._clone(head_rows + [bottoms] + self.rows[fit + 1:], self._zebra_start + fit - head)
        return [first, rest]

    def draw(self) -> None:
        c = self.canv
        heights = self._measure()
        total = sum(heights)
        # Backgrounds first, text over them, rules last.
        y = total
        for r, h in enumerate(heights):
            y -= h
            x = 0.0
            is_header = self.header and r == 0
            striped = self.zebra and not is_header and (r + self._zebra_start - (1 if self.header else 0)) % 2 == 1
            for col, w in enumerate(self.widths):
                fill = self.label_bg if (is_header or col in self.label_cols) else (ZEBRA if striped else None)
                if fill is not None:
                    c.setFillColor(fill)
                    c.rect(x, y, w, h, stroke=0, fill=1)
                x += w
        c.setFillColor(colors.black)
        y = total
        for row, h in zip(self.rows, heights, strict=True):
            y -= h
            x = 0.0
            for cell, w in zip(row, self.widths, strict=True):
                inner = w - 2 * PAD_X
                cw, ch = cell.wrap(inner, 1e9)
                cy = y + (h - ch) / 2  # vertically centred, as forms are
                if isinstance(cell, TextBlock):
                    cell.draw_at(c, x + PAD_X, cy)
                else:
                    cell.drawOn(c, x + PAD_X, cy)
                x += w
        path = c.beginPath()
        y = total
        path.moveTo(0, y)
        path.lineTo(self.width, y)
        for h in heights:
            y -= h
            path.moveTo(0, y)
            path.lineTo(self.width, y)
        x = 0.0
        for w in [0.0, *self.widths]:
            x += w
            path.moveTo(x, 0)
            path.lineTo(x, total)
        c.setStrokeColor(self.line)
        c.setLineWidth(self.line_width)
        c.drawPath(path, stroke=1, fill=0)
