"""Plain-text flowables with Chinese line breaking (禁则): user text is drawn as text, never parsed as markup.

reportlab's Paragraph parses its input as XML-like markup and only half-handles Chinese punctuation
at line ends, so user text goes through `TextBlock` instead: a line never starts with ，。、；：？！）》”
and never ends with （《“, Latin words and numbers are not cut, and `<b>&` prints literally.
"""

from __future__ import annotations

import re

from reportlab.lib.colors import black
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from app.pdf.fonts import FONT, register_fonts

# Characters that may not begin a line, and those that may not end one (GB/T 15834 practice).
CANNOT_START = frozenset("，。、；：？！）》”’」』】〕〉…—·%‰℃,.;:?!)]}>")
CANNOT_END = frozenset("（《“‘「『【〔〈([{<")

# A Latin word or number (kept whole), a run of spaces, or any single other character.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,:/@%'_\-][A-Za-z0-9]+)*|[ \t]+|.", re.S)


_WIDTHS: dict[tuple[str, float], float] = {}


def _width(text: str, size: float) -> float:
    """Width of a token; cached, since forms measure the same characters over and over."""
    key = (text, size)
    width = _WIDTHS.get(key)
    if width is None:
        width = stringWidth(text, FONT, size)
        if len(_WIDTHS) < 100_000:  # bounded: long Latin words are rarely repeated
            _WIDTHS[key] = width
    return width


def break_lines(text: str | None, width: float, size: float) -> list[str]:
    """Lines of `text` fitting `width` points at `size`, honouring the 禁则 above; '' -> [''] (one blank line)."""
    register_fonts()
    lines: list[str] = []
    for para in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        tokens: list[str] = []
        for tok in _TOKEN.findall(para):
            if len(tok) > 1 and not tok.isspace() and _width(tok, size) > width:
                tokens.extend(tok)  # a word longer than the line: cut it into characters
            else:
                tokens.append(tok)
        line: list[str] = []
        used = 0.0
        for tok in tokens:
            w = _width(tok, size)
            if used + w <= width or not line:
                line.append(tok)
                used += w
                continue
            if tok.isspace():  # a break at a space: the space goes
                lines.append("".join(line).rstrip())
                line, used = [], 0.0
                continue
            carry = [tok]
            # Pull tokens back to the new line while the new line would start with a closing mark...
            while len(line) > 1 and carry[0][0] in CANNOT_START:
                carry.insert(0, line.pop())
            # ...or the old line would end with an opening mark.
            while len(line) > 1 and line[-1][-1] in CANNOT_END:
                carry.insert(0, line.pop())
            lines.append("".join(line).rstrip())
            while carry and carry[0].isspace():
                carry.pop(0)
            line = carry
            used = sum(_width(t, size) for t in line)
        lines.append("".join(line).rstrip())
    return lines


class TextBlock(Flowable):
    """Wrapped plain text; splits across pages and table rows line by line."""

    def __init__(self, text: str | None, size: float = 10.5, *, leading: float | None = None, min_lines: int = 1,
                 align: str = "left", lines: list[str] | None = None, color=None):
        super().__init__()
        self.color = color  # a reportlab colour for marked text (e.g. overdue in red); None = black
        self.text = "" if text is None else str(text)
        self.size = size
        self.leading = leading or size * 1.5
        self.min_lines = min_lines
        self.align = align
        self._lines = lines
        self._avail = 0.0

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self._lines is None or avail_width != self._avail:
            self._avail = avail_width
            if self._lines is None or self.text:
                self._lines = break_lines(self.text, avail_width, self.size)
        self.width = avail_width
        self.height = max(len(self._lines), self.min_lines) * self.leading
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self.wrap(avail_width, avail_height)
        fit = int(avail_height // self.leading)
        if fit <= 0:
            return []
        if fit >= len(self._lines):  # the text fits, only the blank padding lines do not: drop some of them
            return [TextBlock("", self.size, leading=self.leading, align=self.align, lines=self._lines,
                              color=self.color, min_lines=min(self.min_lines, fit))]
        head = TextBlock("", self.size, leading=self.leading, align=self.align, lines=self._lines[:fit], color=self.color)
        tail = TextBlock("", self.size, leading=self.leading, align=self.align, lines=self._lines[fit:], color=self.color)
        return [head, tail]

    def draw(self) -> None:
        self.draw_at(self.canv, 0, 0)

    def draw_at(self, c, x: float, y: float) -> None:
        """Draw with the block's bottom-left at (x, y) — no graphics-state push (FastGrid calls this)."""
        c.setFont(FONT, self.size)
        if self.color is not None:
            c.setFillColor(self.color)
        # Baseline sits a little above the bottom of each line box.
        descent = (self.leading - self.size) / 2 + self.size * 0.16
        for i, line in enumerate(self._lines or []):
            ly = y + self.height - (i + 1) * self.leading + descent
            if self.align == "center":
                c.drawCentredString(x + self.width / 2, ly, line)
            elif self.align == "right":
                c.drawRightString(x + self.width, ly, line)
            else:
                c.drawString(x, ly, line)
        if self.color is not None:
            c.setFillColor(black)
