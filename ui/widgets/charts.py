"""Painted bar charts for 统计 and the 工作台: visits/problems per month, solve rate by unit, open problems by age.

Three QPainter widgets without QtCharts (PySide6-Essentials has none):

- ``MonthlyBarChart``: grouped vertical bars per month (走访企业家次, 收集问题 …) with a y axis of round ticks;
- ``HorizontalBarChart``: one bar per unit with the caller's value text (the city's truncated "99.7%") at its end;
- ``StackedBarChart``: one horizontal bar per 责任单位, split into age bands (未超期, 超期 …).

Each chart keeps its geometry in one place (``bar_rect``/``row_rect``), used by painting, hit testing, tooltips
and tests alike. A click on a bar emits ``clicked(index)``; the grouped and stacked charts also emit
``segment_clicked(index, series)`` so a dashboard can drill down. Arrow keys move between bars, Enter "clicks".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape, unescape

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QToolTip, QWidget

EMPTY_TEXT = "暂无数据"

# Named colours, matched to resources/style.qss (accent #1f5fa8, text #1f2933). Every bar colour has at least
# 3:1 contrast against the white chart background.
PALETTE: dict[str, QColor] = {
    "blue": QColor("#1f5fa8"),
    "orange": QColor("#d9731a"),
    "teal": QColor("#0f8a7e"),
    "purple": QColor("#7b5ea7"),
    "grey": QColor("#6b7785"),
    "amber": QColor("#e0a020"),
    "red": QColor("#c0392b"),
}
SERIES_COLORS = ("blue", "orange", "teal", "purple", "grey", "red")
AGE_BAND_COLORS = ("blue", "amber", "red", "purple", "grey")  # 未超期, 超期 1-10 个工作日, 超期 10 个工作日以上

BACKGROUND = QColor("#ffffff")
TEXT = QColor("#1f2933")
SECONDARY_TEXT = QColor("#52606d")
MUTED_TEXT = QColor("#7b8794")
AXIS = QColor("#c5ced9")
GRID = QColor("#e6ebf1")
HOVER = QColor("#eef3f9")

MARGIN = 8.0
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def nice_ticks(maximum: float, target: int = 5, *, integer: bool = True) -> list[float]:
    """Axis ticks 0, step, 2·step … up to the first tick ≥ maximum, step being 1, 2, 2.5 or 5 × 10^k.

    ``integer`` keeps steps whole (counts never show 2.5). ``maximum`` ≤ 0 gives the ticks of 1 (or 5 for counts).
    """
    target = max(1, target)
    if not maximum > 0 or math.isinf(maximum):
        maximum = float(target) if integer else 1.0
    raw = maximum / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = m * magnitude
        if integer and (candidate < 1 or candidate != int(candidate)):
            continue
        if candidate >= raw * (1 - 1e-9):
            step = candidate
            break
    count = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def format_number(value: float) -> str:
    """Whole numbers with thousands separators ("1,234"), others with one decimal ("12.5")."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _clean(values, n: int, what: str) -> list[float]:
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{what}有 {len(values)} 个数值，但类别有 {n} 个")
    out = []
    for v in values:
        try:
            f = float(v) if v is not None else 0.0
        except (TypeError, ValueError):
            f = 0.0
        out.append(0.0 if math.isnan(f) else f)
    return out


def _small(font: QFont) -> QFont:
    small = QFont(font)
    size = font.pointSizeF()
    if size > 0:
        small.setPointSizeF(max(8.0, size - 1))
    return small


def _text_on(color: QColor) -> QColor:
    """White or dark text, whichever reads better on ``color``."""
    r, g, b = color.redF(), color.greenF(), color.blueF()
    return TEXT if 0.299 * r + 0.587 * g + 0.114 * b > 0.62 else BACKGROUND


def _colors(names: tuple[str, ...], count: int, custom) -> list[QColor]:
    if custom:
        return [QColor(PALETTE.get(c, c)) if isinstance(c, str) else QColor(c) for c in custom][:count] + [
            PALETTE[names[i % len(names)]] for i in range(len(custom), count)]
    return [PALETTE[names[i % len(names)]] for i in range(count)]


@dataclass
class _Legend:
    items: list[tuple[QRectF, QPointF, str, QColor]] = field(default_factory=list)
    height: float = 0.0


def _layout_legend(names: list[str], colors: list[QColor], fm: QFontMetricsF, left: float, top: float,
                   width: float) -> _Legend:
    """Swatch + name items flowing left to right, wrapping to more rows when the chart is narrow."""
    legend = _Legend()
    if not names:
        return legend
    line = fm.height() + 4
    swatch = min(12.0, fm.ascent())
    x, y = left, top
    for name, color in zip(names, colors, strict=True):
        text = fm.elidedText(name, Qt.TextElideMode.ElideRight, max(20.0, width - swatch - 6))
        w = swatch + 6 + fm.horizontalAdvance(text)
        if x > left and x + w > left + width:
            x, y = left, y + line
        box = QRectF(x, y + (line - swatch) / 2, swatch, swatch)
        legend.items.append((box, QPointF(x + swatch + 6, y + (line - fm.height()) / 2 + fm.ascent()), text, color))
        x += w + 18
    legend.height = y + line - top
    return legend


def _paint_legend(p: QPainter, legend: _Legend) -> None:
    for box, baseline, text, color in legend.items:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawRoundedRect(box, 2, 2)
        p.setPen(SECONDARY_TEXT)
        p.drawText(baseline, text)


class _Chart(QWidget):
    """Shared behaviour: empty state, hover highlight, tooltips, clicks, keyboard focus and the geometry cache."""

    clicked = Signal(int)

    DEFAULT_NAME = "图表"
    _has_segments = False
    _index_keys = (Qt.Key.Key_Left, Qt.Key.Key_Right)
    _series_keys = (Qt.Key.Key_Up, Qt.Key.Key_Down)

    def __init__(self, parent: QWidget | None = None, *, title: str = ""):
        super().__init__(parent)
        self.setAccessibleName(title or self.DEFAULT_NAME)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._geo = None
        self._geo_key = None
        self._hover: tuple[int, int] = (-1, -1)
        self._pressed: tuple[int, int] = (-1, -1)
        self._current: tuple[int, int] = (-1, -1)

    # --- what subclasses provide -------------------------------------------------------------------------

    def count(self) -> int:
        """Number of categories (months, units, departments)."""
        raise NotImplementedError

    def series_count(self) -> int:
        """Number of series (grouped bars) or bands (stacked segments); 1 for a simple bar chart."""
        return 1

    def bar_rect(self, index: int, series: int = 0) -> QRectF:
        """The painted rectangle of one bar (or segment), in widget coordinates; empty when nothing is shown."""
        raise NotImplementedError

    def row_rect(self, index: int) -> QRectF:
        """The area that belongs to category ``index`` (a month's column, a unit's row): clicks there select it."""
        raise NotImplementedError

    def tooltip_text(self, index: int, series: int = -1) -> str:
        raise NotImplementedError

    def _compute(self):
        raise NotImplementedError

    def _paint_chart(self, p: QPainter, geo) -> None:
        raise NotImplementedError

    def _summary(self) -> str:
        raise NotImplementedError

    # --- geometry ------------------------------------------------------------------------------------------

    def _geometry(self):
        key = (self.width(), self.height(), self.font().key())
        if self._geo is None or self._geo_key != key:
            self._geo = self._compute()
            self._geo_key = key
        return self._geo

    def _data_changed(self) -> None:
        self._geo = None
        self._hover = self._pressed = (-1, -1)
        if self._current[0] >= self.count():
            self._current = (-1, -1)
        self.setAccessibleDescription(self._summary() if self.count() else EMPTY_TEXT)
        self.updateGeometry()
        self.update()

    def hit_test(self, pos: QPointF) -> tuple[int, int]:
        """(index, series) under ``pos``; series is -1 off the bars, both are -1 outside every category."""
        for i in range(self.count()):
            row = self.row_rect(i)
            if row.contains(pos):
                for s in range(self.series_count()):
                    if self._series_hit_rect(i, s).contains(pos):
                        return i, s
                return i, -1
        return -1, -1

    def _series_hit_rect(self, index: int, series: int) -> QRectF:
        return self.bar_rect(index, series)

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip shown at ``pos`` (rich text), or "" off the bars."""
        index, series = self.hit_test(QPointF(pos))
        return self.tooltip_text(index, series) if index >= 0 else ""

    # --- events --------------------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(560, 300)

    def minimumSizeHint(self) -> QSize:
        return QSize(260, 160)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.fillRect(self.rect(), BACKGROUND)
        p.setFont(self.font())
        if not self.count():
            p.setPen(MUTED_TEXT)
            p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
            p.end()
            return
        self._paint_chart(p, self._geometry())
        if self.hasFocus() and self._current[0] >= 0:
            index, series = self._current
            rect = self.bar_rect(index, series) if series >= 0 else self.row_rect(index)
            if rect.width() < 3 or rect.height() < 3:
                rect = self.row_rect(index)
            pen = QPen(TEXT, 1, Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect.adjusted(-2, -2, 1, 1))
        p.end()

    def resizeEvent(self, event) -> None:
        self._geo = None
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._geo = None
            self.updateGeometry()
            self.update()
        super().changeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index, series = self.hit_test(QPointF(event.pos()))
            if index >= 0:
                QToolTip.showText(event.globalPos(), self.tooltip_text(index, series), self,
                                  self.row_rect(index).toAlignedRect())
            elif self.toolTip():
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.hit_test(event.position())
        if hit != self._hover:
            self._hover = hit
            self.setCursor(Qt.CursorShape.PointingHandCursor if hit[0] >= 0 else Qt.CursorShape.ArrowCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = self.hit_test(event.position())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.hit_test(event.position())
            if hit[0] >= 0 and hit[0] == self._pressed[0]:
                self._current = hit if hit == self._pressed else (hit[0], -1)
                self._activate(*self._current)
            self._pressed = (-1, -1)
        super().mouseReleaseEvent(event)

    def _activate(self, index: int, series: int) -> None:
        self.update()
        self.clicked.emit(index)
        if self._has_segments and series >= 0:
            self.segment_clicked.emit(index, series)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        n, s = self.count(), self.series_count()
        key = event.key()
        if not n:
            super().keyPressEvent(event)
            return
        index, series = self._current
        if key in self._index_keys:
            step = -1 if key == self._index_keys[0] else 1
            index = min(n - 1, max(0, index + step)) if index >= 0 else (0 if step > 0 else n - 1)
            series = max(series, 0)
        elif key in self._series_keys and s > 1:
            step = -1 if key == self._series_keys[0] else 1
            index = max(index, 0)
            series = min(s - 1, max(0, series + step))
        elif key == Qt.Key.Key_Home:
            index, series = 0, max(series, 0)
        elif key == Qt.Key.Key_End:
            index, series = n - 1, max(series, 0)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and index >= 0:
            self._activate(index, series)
            return
        else:
            super().keyPressEvent(event)
            return
        self._current = (index, series)
        self.setAccessibleDescription(_plain_text(self.tooltip_text(index, series)))
        self.update()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)


def _plain_text(html: str) -> str:
    """A tooltip's rich text as one plain line, for the accessible description."""
    return unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "；", html)))


# --- Monthly grouped bars --------------------------------------------------------------------------------------


@dataclass
class _MonthlyGeometry:
    plot: QRectF
    slot: float
    gap: float
    bar_w: float
    inner: float
    ticks: list[float]
    top_value: float
    legend: _Legend
    labels: list[tuple[int, str, str]]  # (index, month text, year text or "")
    label_top: float
    value_labels: bool


class MonthlyBarChart(_Chart):
    """Grouped vertical bars per month: one colour per series, a legend, a y axis with round ticks.

    Categories "2026-01" show as "1月" with the year under the first month of each year, or in full when there
    is room; other category strings show as they are. With many months the labels thin out to every 2nd, 3rd,
    6th … month (landing on 1月, 4月, 7月, 10月); the bars just get thinner.
    """

    segment_clicked = Signal(int, int)

    DEFAULT_NAME = "按月柱状图"
    MAX_BAR = 40.0
    _has_segments = True

    def __init__(self, parent: QWidget | None = None, *, title: str = ""):
        super().__init__(parent, title=title)
        self._categories: list[str] = []
        self._series: list[tuple[str, list[float]]] = []
        self._colors: list[QColor] = []
        self._integer = True

    def set_data(self, categories: list[str], series: list[tuple[str, list[int | float]]], *,
                 colors: list[str | QColor] | None = None) -> None:
        """Show ``series`` (name, one value per category) over ``categories``.

        ``colors`` (palette names or colours) overrides the default series colours. Raises ValueError when a
        series does not have one value per category.
        """
        self._categories = [str(c) for c in categories]
        n = len(self._categories)
        self._series = [(str(name), _clean(values, n, f"“{name}”")) for name, values in series]
        self._colors = _colors(SERIES_COLORS, len(self._series), colors)
        self._integer = all(v == int(v) for _, vals in self._series for v in vals)
        self._data_changed()

    def categories(self) -> list[str]:
        return list(self._categories)

    def axis_labels(self) -> list[tuple[int, str, str]]:
        """The month labels drawn at the current size: (category index, "3月" or "2026-03", year line or "")."""
        return list(self._geometry().labels) if self.count() else []

    def count(self) -> int:
        return len(self._categories) if self._series else 0

    def series_count(self) -> int:
        return len(self._series)

    def sizeHint(self) -> QSize:
        return QSize(max(480, min(960, 40 * max(1, len(self._categories)) + 80)), 300)

    def minimumSizeHint(self) -> QSize:
        return QSize(280, 180)

    # --- geometry ------------------------------------------------------------------------------------------

    def _month_texts(self, slot: float, fm: QFontMetricsF) -> tuple[list[tuple[int, str, str]], bool]:
        """Which categories get a label and what it says; the flag tells whether a year line is needed."""
        parsed = [_MONTH.match(c) for c in self._categories]
        n = len(self._categories)
        if n and all(parsed):
            ym = [(int(m.group(1)), int(m.group(2))) for m in parsed]
            full = [f"{y}-{mo:02d}" for y, mo in ym]
            if max(fm.horizontalAdvance(t) for t in full) + 6 <= slot:
                return [(i, full[i], "") for i in range(n)], False
            short = [f"{mo}月" for _, mo in ym]
            need = (max(fm.horizontalAdvance(t) for t in short) + 8) / max(slot, 0.01)
            step = next((s for s in (1, 2, 3, 4, 6, 12) if s >= need), math.ceil(need))
            shown = [i for i in range(n) if (ym[i][1] - 1) % step == 0] if step <= 12 else list(range(0, n, step))
            if not shown:
                shown = [0]
            out, last_year, last_right = [], None, -1e9
            for i in shown:
                year = ym[i][0]
                text = ""
                centre = (i + 0.5) * slot
                year_text = f"{year}年"
                if year != last_year and centre - fm.horizontalAdvance(year_text) / 2 > last_right + 6:
                    text = year_text
                    last_right = centre + fm.horizontalAdvance(year_text) / 2
                    last_year = year
                out.append((i, short[i], text))
            return out, True
        widest = min(max((fm.horizontalAdvance(c) for c in self._categories), default=0), 8 * fm.height())
        step = max(1, math.ceil((widest + 8) / max(slot, 0.01)))
        return [(i, fm.elidedText(self._categories[i], Qt.TextElideMode.ElideRight, slot * step - 6), "")
                for i in range(0, n, step)], False

    def _compute(self) -> _MonthlyGeometry:
        fm = QFontMetricsF(self.font())
        fs = QFontMetricsF(_small(self.font()))
        w, h = float(self.width()), float(self.height())
        legend = _layout_legend([name for name, _ in self._series], self._colors, fm, MARGIN, MARGIN, w - 2 * MARGIN)
        top = MARGIN + legend.height + 6 + fs.height() / 2
        n = len(self._categories)
        # Ticks set the y-axis width, which sets the slot width the month labels need: count ticks on the height
        # left after two label lines, the most the bottom can take.
        maximum = max((max(vals, default=0) for _, vals in self._series), default=0)
        guess_height = h - MARGIN - 2 * fs.height() - 6 - top
        ticks = nice_ticks(maximum, max(2, min(6, int(guess_height // 42))), integer=self._integer)
        left = MARGIN + max(fs.horizontalAdvance(format_number(t)) for t in ticks) + 8
        right = w - MARGIN
        slot = max(0.0, right - left) / max(n, 1)
        labels, year_line = self._month_texts(slot, fs)
        s = max(1, len(self._series))
        gap = max(1.0, slot * (0.3 if s > 1 else 0.4))
        bar_w = max(1.0, (slot - gap) / s)
        if bar_w * s > slot:  # too many bars for the width: let them touch
            gap, bar_w = 0.0, slot / s
        if bar_w > self.MAX_BAR:  # few months: keep bars slim and centred in their slot
            bar_w = self.MAX_BAR
            gap = slot - bar_w * s
        inner = 1.0 if bar_w >= 5 else 0.0
        widest_value = max((fs.horizontalAdvance(format_number(v)) for _, vals in self._series for v in vals),
                           default=0)
        value_labels = widest_value + 2 <= bar_w + (gap if s == 1 else 0) and guess_height > 5 * fs.height()
        if value_labels:  # headroom, so the tallest bar's number stays clear of the legend
            top += fs.height()
        bottom = h - MARGIN - fs.height() * (2 if year_line else 1) - 6
        plot = QRectF(left, top, max(0.0, right - left), max(0.0, bottom - top))
        return _MonthlyGeometry(plot=plot, slot=slot, gap=gap, bar_w=bar_w, inner=inner, ticks=ticks,
                                top_value=ticks[-1] or 1.0, legend=legend, labels=labels,
                                label_top=plot.bottom() + 4, value_labels=value_labels)

    def bar_rect(self, index: int, series: int = 0) -> QRectF:
        if not self.count():
            return QRectF()
        if not (0 <= index < self.count() and 0 <= series < self.series_count()):
            raise IndexError(f"bar ({index}, {series}) out of range")
        g = self._geometry()
        value = max(0.0, self._series[series][1][index])
        height = g.plot.height() * min(value, g.top_value) / g.top_value
        x = g.plot.left() + index * g.slot + g.gap / 2 + series * g.bar_w
        return QRectF(x + g.inner / 2, g.plot.bottom() - height, max(1.0, g.bar_w - g.inner), height)

    def row_rect(self, index: int) -> QRectF:
        g = self._geometry()
        x = g.plot.left() + index * g.slot
        return QRectF(x, g.plot.top(), g.slot, self.height() - MARGIN - g.plot.top())

    def _series_hit_rect(self, index: int, series: int) -> QRectF:
        bar = self.bar_rect(index, series)
        g = self._geometry()
        return QRectF(bar.left() - g.inner / 2, g.plot.top(), max(bar.width() + g.inner, 1.0), g.plot.height())

    def category_title(self, index: int) -> str:
        m = _MONTH.match(self._categories[index])
        return f"{int(m.group(1))}年{int(m.group(2))}月" if m else self._categories[index]

    def tooltip_text(self, index: int, series: int = -1) -> str:
        lines = [f"<b>{escape(self.category_title(index))}</b>"]
        for s, (name, values) in enumerate(self._series):
            line = f"{escape(name)}：{format_number(values[index])}"
            lines.append(f"<b>{line}</b>" if s == series else line)
        return "<br>".join(lines)

    def _summary(self) -> str:
        parts = []
        for name, values in self._series:
            parts.append(f"{name}：" + "，".join(f"{self.category_title(i)} {format_number(v)}"
                                                for i, v in enumerate(values[:36])))
        return "；".join(parts)

    # --- painting ------------------------------------------------------------------------------------------

    def _paint_chart(self, p: QPainter, g: _MonthlyGeometry) -> None:
        small = _small(self.font())
        fs = QFontMetricsF(small)
        _paint_legend(p, g.legend)
        p.setFont(small)
        hover_index, hover_series = self._hover
        if hover_index >= 0:
            p.fillRect(QRectF(g.plot.left() + hover_index * g.slot, g.plot.top(), g.slot, g.plot.height()), HOVER)
        for t in g.ticks:
            y = round(g.plot.bottom() - g.plot.height() * t / g.top_value) + 0.5
            if t:
                p.setPen(GRID)
                p.drawLine(QPointF(g.plot.left(), y), QPointF(g.plot.right(), y))
            p.setPen(SECONDARY_TEXT)
            p.drawText(QRectF(MARGIN, y - fs.height() / 2, g.plot.left() - MARGIN - 6, fs.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, format_number(t))
        for i in range(self.count()):
            for s, (_name, values) in enumerate(self._series):
                rect = self.bar_rect(i, s)
                color = self._colors[s]
                if i == hover_index and (hover_series in (-1, s)):
                    color = color.lighter(125)
                if rect.height() > 0:
                    p.fillRect(rect, color)
                if g.value_labels:
                    p.setPen(SECONDARY_TEXT)
                    p.drawText(QRectF(rect.center().x() - 40, rect.top() - fs.height() - 1, 80, fs.height()),
                               Qt.AlignmentFlag.AlignCenter, format_number(values[i]))
        p.setPen(AXIS)
        p.drawLine(QPointF(g.plot.left(), g.plot.bottom() + 0.5), QPointF(g.plot.right(), g.plot.bottom() + 0.5))
        for i, text, year in g.labels:
            centre = g.plot.left() + (i + 0.5) * g.slot
            p.setPen(AXIS)
            p.drawLine(QPointF(centre, g.plot.bottom() + 1), QPointF(centre, g.plot.bottom() + 3))
            p.setPen(SECONDARY_TEXT if i != hover_index else TEXT)
            p.drawText(QRectF(centre - 60, g.label_top, 120, fs.height()), Qt.AlignmentFlag.AlignHCenter, text)
            if year:
                p.setPen(MUTED_TEXT)
                p.drawText(QRectF(centre - 60, g.label_top + fs.height(), 120, fs.height()),
                           Qt.AlignmentFlag.AlignHCenter, year)
        p.setFont(self.font())


# --- Horizontal bars (shared row layout) --------------------------------------------------------------------------


@dataclass
class _RowGeometry:
    label_x: float
    label_w: float
    plot: QRectF  # bars run from plot.left() to plot.right(); rows stack from plot.top()
    row_h: float
    bar_h: float
    value_w: float
    label_step: int
    wrap: bool
    legend: _Legend
    ticks: list[float]
    top_value: float


class _RowChart(_Chart):
    """Rows of horizontal bars with a label column on the left (elided or wrapped) and value text at bar ends."""

    _index_keys = (Qt.Key.Key_Up, Qt.Key.Key_Down)
    _series_keys = (Qt.Key.Key_Left, Qt.Key.Key_Right)
    ROW_PADDING = 10.0
    MAX_BAR = 22.0

    def __init__(self, parent: QWidget | None = None, *, title: str = ""):
        super().__init__(parent, title=title)
        self._labels: list[str] = []

    def labels(self) -> list[str]:
        return list(self._labels)

    def count(self) -> int:
        return len(self._labels)

    def _natural_row(self) -> float:
        return QFontMetricsF(self.font()).height() + self.ROW_PADDING

    def _header_height(self) -> float:
        return 0.0

    def _footer_height(self) -> float:
        return 0.0

    def sizeHint(self) -> QSize:
        rows = max(3, self.count())
        h = 2 * MARGIN + self._header_height() + self._footer_height() + rows * self._natural_row()
        return QSize(560, math.ceil(h))

    def minimumSizeHint(self) -> QSize:
        rows = min(max(3, self.count()), 6)
        h = 2 * MARGIN + self._header_height() + self._footer_height() + rows * self._natural_row()
        return QSize(280, math.ceil(h))

    def _value_texts_for_width(self) -> list[str]:
        return []

    def _rows(self, legend: _Legend, ticks: list[float], top_value: float, footer: float) -> _RowGeometry:
        fm = QFontMetricsF(self.font())
        w, h = float(self.width()), float(self.height())
        n = max(1, self.count())
        inner_w = max(0.0, w - 2 * MARGIN)
        natural = max((fm.horizontalAdvance(t) for t in self._labels), default=0.0)
        label_w = min(natural, max(56.0, inner_w * 0.38))
        value_w = max((fm.horizontalAdvance(t) for t in self._value_texts_for_width()), default=0.0) + 6
        value_w = min(value_w, inner_w * 0.25)
        top = MARGIN + legend.height + (6 if legend.height else 0)
        avail = max(0.0, h - top - footer - MARGIN)
        row_h = min(avail / n, max(self._natural_row() * 1.6, fm.height() * 2 + 8))
        bar_h = max(1.0, min(self.MAX_BAR, row_h * 0.62, row_h - 1))
        plot_left = MARGIN + label_w + 8
        plot = QRectF(plot_left, top, max(0.0, w - MARGIN - value_w - plot_left), row_h * self.count())
        wrap = natural > label_w and row_h >= 2 * fm.height() + 2
        label_step = max(1, math.ceil(fm.height() / max(row_h, 0.01))) if row_h < fm.height() else 1
        return _RowGeometry(label_x=MARGIN, label_w=label_w, plot=plot, row_h=row_h, bar_h=bar_h, value_w=value_w,
                            label_step=label_step, wrap=wrap, legend=legend, ticks=ticks, top_value=top_value or 1.0)

    def row_rect(self, index: int) -> QRectF:
        g = self._geometry()
        return QRectF(g.label_x, g.plot.top() + index * g.row_h, self.width() - 2 * MARGIN, g.row_h)

    def label_rect(self, index: int) -> QRectF:
        """Where category ``index``'s label is drawn (right-aligned against the bars)."""
        g = self._geometry()
        return QRectF(g.label_x, g.plot.top() + index * g.row_h, g.label_w, g.row_h)

    def _bar_band(self, index: int) -> tuple[float, float]:
        g = self._geometry()
        top = g.plot.top() + index * g.row_h + (g.row_h - g.bar_h) / 2
        return top, g.bar_h

    def _series_hit_rect(self, index: int, series: int) -> QRectF:
        bar = self.bar_rect(index, series)
        row = self.row_rect(index)
        return QRectF(bar.left(), row.top(), bar.width(), row.height()) if bar.width() > 0 else QRectF()

    def _paint_labels(self, p: QPainter, g: _RowGeometry) -> None:
        fm = QFontMetricsF(self.font())
        for i, label in enumerate(self._labels):
            if i % g.label_step:
                continue
            rect = self.label_rect(i)
            if g.label_step > 1:  # rows thinner than a line: centre the label on its row, allow overflow
                rect = QRectF(rect.left(), rect.center().y() - fm.height() / 2, rect.width(), fm.height())
            p.setPen(TEXT if i == self._hover[0] else SECONDARY_TEXT)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            if fm.horizontalAdvance(label) <= g.label_w:
                p.drawText(rect, align, label)
            elif g.wrap:
                first, rest = self._split(label, fm, g.label_w)
                rest = fm.elidedText(rest, Qt.TextElideMode.ElideRight, g.label_w)
                mid = rect.center().y()
                p.drawText(QRectF(rect.left(), mid - fm.height(), rect.width(), fm.height()), align, first)
                p.drawText(QRectF(rect.left(), mid, rect.width(), fm.height()), align, rest)
            else:
                p.drawText(rect, align, fm.elidedText(label, Qt.TextElideMode.ElideRight, g.label_w))

    @staticmethod
    def _split(label: str, fm: QFontMetricsF, width: float) -> tuple[str, str]:
        """The longest head of ``label`` that fits ``width`` (Chinese breaks between any two characters)."""
        cut = len(label)
        while cut > 1 and fm.horizontalAdvance(label[:cut]) > width:
            cut -= 1
        return label[:cut], label[cut:]

    def _paint_hover(self, p: QPainter) -> None:
        if self._hover[0] >= 0:
            p.fillRect(self.row_rect(self._hover[0]), HOVER)


class HorizontalBarChart(_RowChart):
    """One horizontal bar per unit, its value text at the bar end (e.g. 解决率 by unit).

    Long labels (郑州航空港经济综合实验区) wrap onto two lines when rows are tall enough, otherwise they are
    elided; the full label is always in the tooltip.
    """

    DEFAULT_NAME = "条形图"

    def __init__(self, parent: QWidget | None = None, *, title: str = "", color: str | QColor = "blue"):
        super().__init__(parent, title=title)
        self._values: list[float] = []
        self._texts: list[str] = []
        self._maximum = 1.0
        self._color = QColor(PALETTE.get(color, color)) if isinstance(color, str) else QColor(color)

    def set_data(self, labels: list[str], values: list[float], *, value_texts: list[str] | None = None,
                 maximum: float | None = None) -> None:
        """One bar per label; ``value_texts`` (shown exactly) default to the formatted values.

        Bars are scaled to ``maximum`` (100 for percentages), by default the largest value. Raises ValueError
        when the lengths differ.
        """
        self._labels = [str(t) for t in labels]
        n = len(self._labels)
        self._values = _clean(values, n, "条形图")
        if value_texts is not None and len(value_texts) != n:
            raise ValueError(f"value_texts 有 {len(value_texts)} 项，但类别有 {n} 个")
        self._texts = [str(t) for t in value_texts] if value_texts is not None else [
            format_number(v) for v in self._values]
        top = max(self._values, default=0.0)
        self._maximum = float(maximum) if maximum and maximum > 0 else (top if top > 0 else 1.0)
        self._data_changed()

    def values(self) -> list[float]:
        return list(self._values)

    def value_texts(self) -> list[str]:
        return list(self._texts)

    def _value_texts_for_width(self) -> list[str]:
        return self._texts

    def _compute(self) -> _RowGeometry:
        return self._rows(_Legend(), [], self._maximum, 0.0)

    def bar_rect(self, index: int, series: int = 0) -> QRectF:
        if not self.count():
            return QRectF()
        if not (0 <= index < self.count()) or series != 0:
            raise IndexError(f"bar ({index}, {series}) out of range")
        g = self._geometry()
        top, height = self._bar_band(index)
        width = g.plot.width() * min(max(self._values[index], 0.0), g.top_value) / g.top_value
        return QRectF(g.plot.left(), top, width, height)

    def tooltip_text(self, index: int, series: int = -1) -> str:
        return f"<b>{escape(self._labels[index])}</b><br>{escape(self._texts[index])}"

    def _summary(self) -> str:
        return "，".join(f"{label} {text}" for label, text in zip(self._labels, self._texts, strict=True))

    def _paint_chart(self, p: QPainter, g: _RowGeometry) -> None:
        fm = QFontMetricsF(self.font())
        self._paint_hover(p)
        self._paint_labels(p, g)
        for i in range(self.count()):
            rect = self.bar_rect(i)
            color = self._color.lighter(125) if i == self._hover[0] else self._color
            if rect.width() > 0:
                p.fillRect(rect, color)
            if g.label_step == 1 or i % g.label_step == 0:
                p.setPen(TEXT)
                text = fm.elidedText(self._texts[i], Qt.TextElideMode.ElideRight, g.value_w - 4)
                p.drawText(QRectF(rect.right() + 5, rect.center().y() - fm.height() / 2, g.value_w, fm.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


class StackedBarChart(_RowChart):
    """Horizontal stacked bars: one row per 责任单位, one coloured segment per band, the total at the bar end.

    Bands come from the caller (e.g. 未超期 / 超期 1–10 个工作日 / 超期 10 个工作日以上) and default to blue, amber,
    red. Segment counts are written inside segments wide enough to hold them.
    """

    segment_clicked = Signal(int, int)

    DEFAULT_NAME = "堆叠条形图"
    _has_segments = True

    def __init__(self, parent: QWidget | None = None, *, title: str = ""):
        super().__init__(parent, title=title)
        self._bands: list[tuple[str, list[float]]] = []
        self._colors: list[QColor] = []
        self._totals: list[float] = []

    def set_data(self, labels: list[str], bands: list[tuple[str, list[int]]], *,
                 colors: list[str | QColor] | None = None) -> None:
        """One row per label, split into ``bands`` (name, one count per label). Raises ValueError on a length
        mismatch. ``colors`` (palette names or colours) overrides blue/amber/red."""
        self._labels = [str(t) for t in labels]
        n = len(self._labels)
        self._bands = [(str(name), _clean(values, n, f"“{name}”")) for name, values in bands]
        self._colors = _colors(AGE_BAND_COLORS, len(self._bands), colors)
        self._totals = [sum(max(0.0, vals[i]) for _, vals in self._bands) for i in range(n)]
        self._data_changed()

    def count(self) -> int:
        return len(self._labels) if self._bands else 0

    def series_count(self) -> int:
        return len(self._bands)

    def totals(self) -> list[float]:
        return list(self._totals)

    def _value_texts_for_width(self) -> list[str]:
        return [format_number(t) for t in self._totals]

    def _header_height(self) -> float:
        return QFontMetricsF(self.font()).height() + 10

    def _footer_height(self) -> float:
        return QFontMetricsF(_small(self.font())).height() + 8

    def _compute(self) -> _RowGeometry:
        fm = QFontMetricsF(self.font())
        fs = QFontMetricsF(_small(self.font()))
        legend = _layout_legend([name for name, _ in self._bands], self._colors, fm, MARGIN, MARGIN,
                                self.width() - 2 * MARGIN)
        footer = fs.height() + 8
        g = self._rows(legend, [], 1.0, footer)
        integer = all(v == int(v) for _, vals in self._bands for v in vals)
        ticks = nice_ticks(max(self._totals, default=0.0), max(2, min(8, int(g.plot.width() // 70))),
                           integer=integer)
        g.ticks, g.top_value = ticks, ticks[-1] or 1.0
        return g

    def bar_rect(self, index: int, series: int = 0) -> QRectF:
        if not self.count():
            return QRectF()
        if not (0 <= index < self.count() and 0 <= series < self.series_count()):
            raise IndexError(f"bar ({index}, {series}) out of range")
        g = self._geometry()
        top, height = self._bar_band(index)
        scale = g.plot.width() / g.top_value
        before = sum(max(0.0, self._bands[s][1][index]) for s in range(series))
        value = max(0.0, self._bands[series][1][index])
        return QRectF(g.plot.left() + before * scale, top, value * scale, height)

    def tooltip_text(self, index: int, series: int = -1) -> str:
        lines = [f"<b>{escape(self._labels[index])}</b>"]
        for s, (name, values) in enumerate(self._bands):
            line = f"{escape(name)}：{format_number(values[index])}"
            lines.append(f"<b>{line}</b>" if s == series else line)
        lines.append(f"合计：{format_number(self._totals[index])}")
        return "<br>".join(lines)

    def _summary(self) -> str:
        return "；".join(
            f"{label}：" + "，".join(f"{name} {format_number(vals[i])}" for name, vals in self._bands)
            for i, label in enumerate(self._labels))

    def _paint_chart(self, p: QPainter, g: _RowGeometry) -> None:
        fm = QFontMetricsF(self.font())
        small = _small(self.font())
        fs = QFontMetricsF(small)
        _paint_legend(p, g.legend)
        self._paint_hover(p)
        bottom = g.plot.bottom()
        p.setFont(small)
        for t in g.ticks:
            x = round(g.plot.left() + g.plot.width() * t / g.top_value) + 0.5
            p.setPen(GRID if t else AXIS)
            p.drawLine(QPointF(x, g.plot.top()), QPointF(x, bottom))
            p.setPen(SECONDARY_TEXT)
            p.drawText(QRectF(x - 40, bottom + 4, 80, fs.height()), Qt.AlignmentFlag.AlignHCenter,
                       format_number(t))
        p.setFont(self.font())
        self._paint_labels(p, g)
        hover_index, hover_series = self._hover
        for i in range(self.count()):
            end = g.plot.left()
            for s, (_name, values) in enumerate(self._bands):
                rect = self.bar_rect(i, s)
                if rect.width() <= 0:
                    continue
                color = self._colors[s]
                if i == hover_index and hover_series in (-1, s):
                    color = color.lighter(120)
                p.fillRect(rect, color)
                if rect.width() >= 3 and s > 0 and rect.left() > g.plot.left():
                    p.setPen(BACKGROUND)  # a hairline between segments keeps neighbours apart
                    p.drawLine(QPointF(rect.left(), rect.top()), QPointF(rect.left(), rect.bottom() - 1))
                text = format_number(values[i])
                if rect.height() >= fs.height() - 2 and fs.horizontalAdvance(text) + 6 <= rect.width():
                    p.setFont(small)
                    p.setPen(_text_on(color))
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
                    p.setFont(self.font())
                end = rect.right()
            if g.label_step == 1 or i % g.label_step == 0:
                _top, h = self._bar_band(i)
                p.setPen(TEXT)
                p.drawText(QRectF(end + 5, _top + h / 2 - fm.height() / 2, g.value_w, fm.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                           format_number(self._totals[i]))
