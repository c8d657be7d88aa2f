"""Painted charts (ui/widgets/charts.py): bars are drawn where bar_rect says, clicks drill down, labels fit.

Set ZHUQI_CHART_SHOTS=/tmp to also write the realistic screenshots to /tmp/charts_*.png for a look.
"""

from __future__ import annotations

import os
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage

from ui.widgets.charts import (
    EMPTY_TEXT,
    HOVER,
    PALETTE,
    HorizontalBarChart,
    MonthlyBarChart,
    StackedBarChart,
    format_number,
    nice_ticks,
)

DISTRICTS = ["中原区", "二七区", "管城回族区", "金水区", "上街区", "惠济区", "巩义市", "荥阳市", "新密市", "新郑市",
             "登封市", "中牟县", "郑州航空港经济综合实验区", "郑东新区", "郑州经济技术开发区", "郑州高新技术产业开发区"]
COLLECTED = [616, 842, 530, 1449, 188, 402, 377, 455, 390, 611, 298, 520, 733, 905, 366, 702]
SOLVED = [608, 839, 515, 1446, 181, 398, 360, 451, 387, 606, 290, 509, 729, 903, 365, 690]
DEPARTMENTS = ["市人社局", "市工信局", "市自然资源和规划局", "市市场监管局", "国网郑州供电公司", "市发展改革委",
               "市住房保障局", "市城乡建设局", "市生态环境局", "郑州水务集团有限公司"]
AGE_BANDS = ("未超期", "超期 1–10 个工作日", "超期 10 个工作日以上")
OPEN = [[12, 30, 21, 9, 15, 6, 18, 11, 7, 5], [4, 9, 11, 2, 6, 0, 7, 3, 1, 2], [1, 2, 6, 0, 3, 0, 2, 0, 0, 1]]
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]
VISITS = [2130, 2466, 3120, 2988, 3350, 3011, 2760, 2604, 3302, 3480, 3655, 2870]
PROBLEMS = [96, 118, 187, 160, 201, 177, 142, 133, 195, 210, 238, 171]


def _rate_text(solved: int, collected: int) -> str:
    """The city's truncated one-decimal solve rate: 608 of 616 is "98.7%"."""
    return f"{solved * 1000 // collected / 10:.1f}%"


def _image(chart) -> QImage:
    return chart.grab().toImage()


def _colour_at(image: QImage, point) -> QColor:
    return image.pixelColor(QPoint(int(point.x()), int(point.y())))


def _inside(rect: QRectF, chart) -> bool:
    return QRectF(chart.rect()).contains(rect) if rect.width() and rect.height() else True


@pytest.fixture
def monthly(qtbot):
    chart = MonthlyBarChart(title="走访企业家次与收集问题（按月）")
    qtbot.addWidget(chart)
    chart.set_data(MONTHS, [("走访企业家次", VISITS), ("收集问题", PROBLEMS)])
    chart.resize(720, 320)
    return chart


@pytest.fixture
def by_unit(qtbot):
    chart = HorizontalBarChart(title="解决率（按单位）")
    qtbot.addWidget(chart)
    chart.set_data(DISTRICTS, [s * 100 / c for s, c in zip(SOLVED, COLLECTED, strict=True)],
                   value_texts=[_rate_text(s, c) for s, c in zip(SOLVED, COLLECTED, strict=True)], maximum=100)
    chart.resize(560, chart.sizeHint().height())
    return chart


@pytest.fixture
def by_department(qtbot):
    chart = StackedBarChart(title="在办问题（按责任单位与超期时长）")
    qtbot.addWidget(chart)
    chart.set_data(DEPARTMENTS, list(zip(AGE_BANDS, OPEN, strict=True)))
    chart.resize(720, chart.sizeHint().height())
    return chart


# --- axis arithmetic ---------------------------------------------------------------------------------------------


def test_nice_ticks_are_round_and_cover_the_maximum() -> None:
    assert nice_ticks(3655, 5) == [0, 1000, 2000, 3000, 4000]
    assert nice_ticks(4150, 5) == [0, 1000, 2000, 3000, 4000, 5000]
    assert nice_ticks(7, 4) == [0, 2, 4, 6, 8]
    assert nice_ticks(3, 6) == [0, 1, 2, 3]  # counts never get a step of 0.5
    assert nice_ticks(99.7, 5, integer=False) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0.9, 4, integer=False) == [0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0, 5) == [0, 1, 2, 3, 4, 5]
    assert format_number(11449) == "11,449" and format_number(12.5) == "12.5"


# --- monthly grouped bars ------------------------------------------------------------------------------------------


def test_monthly_paints_each_bar_where_bar_rect_says(monthly) -> None:
    image = _image(monthly)
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}) > 3
    for i in (0, 5, 11):
        for s, colour in enumerate((PALETTE["blue"], PALETTE["orange"])):
            rect = monthly.bar_rect(i, s)
            assert rect.height() > 4 and _inside(rect, monthly)
            assert _colour_at(image, rect.center()) == colour
    # Taller value, taller bar; neighbours in a group do not overlap.
    assert monthly.bar_rect(10, 0).height() > monthly.bar_rect(0, 0).height()
    assert monthly.bar_rect(3, 0).right() <= monthly.bar_rect(3, 1).left()
    assert monthly.bar_rect(3, 1).right() < monthly.bar_rect(4, 0).left()


def test_clicking_a_month_bar_emits_its_index_and_series(qtbot, monthly) -> None:
    centre = monthly.bar_rect(4, 1).center().toPoint()
    with qtbot.waitSignal(monthly.clicked) as plain, qtbot.waitSignal(monthly.segment_clicked) as segment:
        qtbot.mouseClick(monthly, Qt.MouseButton.LeftButton, pos=centre)
    assert plain.args == [4]
    assert segment.args == [4, 1]
    assert "2025年5月" in monthly.tooltip_at(centre) and "收集问题：201" in monthly.tooltip_at(centre)


def test_month_labels_are_compact_and_thinned_for_three_years(qtbot) -> None:
    months = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
    chart = MonthlyBarChart()
    qtbot.addWidget(chart)
    chart.set_data(months, [("走访企业家次", [1000 + 37 * i for i in range(36)]), ("收集问题", [40 + i for i in range(36)])])
    chart.resize(640, 300)
    labels = chart.axis_labels()
    assert 4 <= len(labels) < 36
    assert {text for _i, text, _year in labels} <= {f"{m}月" for m in range(1, 13)}
    assert [year for _i, _text, year in labels if year] == ["2023年", "2024年", "2025年"]
    fm = QFontMetricsF(chart.font())
    edges = []
    for i, text, _year in labels:
        centre = chart.bar_rect(i, 0).left() + chart.row_rect(i).width() / 2
        edges.append((centre - fm.horizontalAdvance(text) / 2, centre + fm.horizontalAdvance(text) / 2))
    assert all(right < next_left for (_l, right), (next_left, _r) in pairwise(edges))  # no overlap
    for i in range(36):
        for s in range(2):
            rect = chart.bar_rect(i, s)
            assert rect.width() >= 1 and _inside(rect, chart)


def test_months_show_in_full_when_there_is_room(qtbot, monthly) -> None:
    monthly.set_data(MONTHS[:5], [("走访企业家次", VISITS[:5]), ("收集问题", PROBLEMS[:5])])
    assert [text for _i, text, _y in monthly.axis_labels()] == MONTHS[:5]
    assert monthly.bar_rect(0, 0).width() <= 40  # few months: slim bars, not slabs


def test_keyboard_moves_between_bars_and_enter_clicks(qtbot, monthly) -> None:
    monthly.show()
    monthly.setFocus()
    qtbot.keyClick(monthly, Qt.Key.Key_Right)
    qtbot.keyClick(monthly, Qt.Key.Key_Right)
    qtbot.keyClick(monthly, Qt.Key.Key_Down)
    with qtbot.waitSignal(monthly.segment_clicked) as segment:
        qtbot.keyClick(monthly, Qt.Key.Key_Return)
    assert segment.args == [1, 1]
    assert "收集问题：118" in monthly.accessibleDescription()


def test_hover_highlights_the_month(qtbot, monthly) -> None:
    monthly.show()
    qtbot.waitExposed(monthly)
    bar = monthly.bar_rect(6, 0)
    qtbot.mouseMove(monthly, bar.center().toPoint())
    qtbot.waitUntil(lambda: monthly._hover == (6, 0))
    above = QRectF(bar.left(), monthly.row_rect(6).top() + 2, 1, 1).center()
    assert _colour_at(_image(monthly), above) == HOVER
    assert monthly.cursor().shape() == Qt.CursorShape.PointingHandCursor


# --- horizontal bars -----------------------------------------------------------------------------------------------


def test_solve_rate_bars_show_the_callers_truncated_text(qtbot, by_unit) -> None:
    image = _image(by_unit)
    assert by_unit.value_texts()[0] == "98.7%"  # 608 of 616, truncated as the city reports it
    for i in range(len(DISTRICTS)):
        rect = by_unit.bar_rect(i)
        assert _inside(rect, by_unit)
        assert _colour_at(image, rect.center()) == PALETTE["blue"]
    # Bars are scaled to 100 %, so 99.7 % is nearly the full run and never past it.
    full = by_unit.bar_rect(3).width() / (SOLVED[3] / COLLECTED[3])
    assert by_unit.bar_rect(0).width() == pytest.approx(full * SOLVED[0] / COLLECTED[0], rel=1e-6)
    assert "郑州航空港经济综合实验区" in by_unit.tooltip_at(by_unit.bar_rect(12).center())
    with qtbot.waitSignal(by_unit.clicked) as blocker:
        qtbot.mouseClick(by_unit, Qt.MouseButton.LeftButton, pos=by_unit.bar_rect(12).center().toPoint())
    assert blocker.args == [12]
    with qtbot.waitSignal(by_unit.clicked) as blocker:  # the label belongs to the row too
        qtbot.mouseClick(by_unit, Qt.MouseButton.LeftButton, pos=by_unit.label_rect(5).center().toPoint())
    assert blocker.args == [5]


@pytest.mark.parametrize("size", [(560, 440), (300, 260), (220, 160)])
def test_long_unit_names_never_push_bars_out_of_the_widget(qtbot, by_unit, size) -> None:
    by_unit.resize(*size)
    _image(by_unit)
    for i in range(len(DISTRICTS)):
        bar, label = by_unit.bar_rect(i), by_unit.label_rect(i)
        assert _inside(bar, by_unit) and _inside(label, by_unit)
        assert label.right() <= bar.left()
    assert by_unit.sizeHint().height() > by_unit.minimumSizeHint().height()


def test_horizontal_chart_rejects_mismatched_lengths(qtbot) -> None:
    chart = HorizontalBarChart()
    qtbot.addWidget(chart)
    with pytest.raises(ValueError):
        chart.set_data(["中原区", "二七区"], [99.0])
    with pytest.raises(ValueError):
        chart.set_data(["中原区"], [99.0], value_texts=["99.0%", "98.0%"])


# --- stacked bars --------------------------------------------------------------------------------------------------


def test_stacked_segments_follow_the_bands_and_click_through(qtbot, by_department) -> None:
    image = _image(by_department)
    colours = (PALETTE["blue"], PALETTE["amber"], PALETTE["red"])
    for i in range(len(DEPARTMENTS)):
        previous_right = by_department.bar_rect(i, 0).left()
        for s in range(3):
            rect = by_department.bar_rect(i, s)
            assert rect.left() == pytest.approx(previous_right)
            previous_right = rect.right()
            assert _inside(rect, by_department)
            if rect.width() > 4:
                assert _colour_at(image, QRectF(rect.left() + 2, rect.top() + 1, 1, 1).topLeft()) == colours[s]
    assert by_department.totals()[2] == 38
    centre = by_department.bar_rect(2, 2).center().toPoint()
    with qtbot.waitSignal(by_department.clicked) as plain, qtbot.waitSignal(by_department.segment_clicked) as seg:
        qtbot.mouseClick(by_department, Qt.MouseButton.LeftButton, pos=centre)
    assert plain.args == [2] and seg.args == [2, 2]
    tip = by_department.tooltip_at(centre)
    assert "市自然资源和规划局" in tip and "超期 10 个工作日以上：6" in tip and "合计：38" in tip


def test_thirty_departments_stay_inside_with_thinned_labels(qtbot) -> None:
    names = [f"{d}{'第' + str(i) + '组' if i else ''}" for i in range(3) for d in DEPARTMENTS]
    chart = StackedBarChart()
    qtbot.addWidget(chart)
    chart.set_data(names, [(band, [(i * 7 + b * 3) % 23 for i in range(30)]) for b, band in enumerate(AGE_BANDS)])
    for size in ((720, chart.sizeHint().height()), (480, 360)):
        chart.resize(*size)
        assert not _image(chart).isNull()
        for i in range(30):
            for s in range(3):
                assert _inside(chart.bar_rect(i, s), chart)
        assert chart.row_rect(29).bottom() <= chart.height()


# --- all charts ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["monthly", "horizontal", "stacked"])
def test_empty_chart_says_no_data_and_ignores_clicks(qtbot, kind) -> None:
    chart = {"monthly": MonthlyBarChart, "horizontal": HorizontalBarChart, "stacked": StackedBarChart}[kind]()
    qtbot.addWidget(chart)
    chart.resize(400, 240)
    chart.set_data([], [])
    image = _image(chart)
    assert chart.count() == 0 and chart.bar_rect(0).isEmpty()
    assert chart.accessibleDescription() == EMPTY_TEXT
    # "暂无数据" is the only ink, in the middle of the widget.
    fm = QFontMetricsF(chart.font())
    text = QRectF(0, 0, fm.horizontalAdvance(EMPTY_TEXT), fm.height())
    text.moveCenter(QRectF(chart.rect()).center())
    inked = [(x, y) for x in range(image.width()) for y in range(image.height()) if image.pixel(x, y) != 0xFFFFFFFF]
    assert inked and all(text.adjusted(-2, -2, 2, 2).contains(x, y) for x, y in inked)
    with qtbot.assertNotEmitted(chart.clicked):
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.rect().center())
    assert chart.tooltip_at(chart.rect().center()) == ""


def test_charts_are_named_for_screen_readers_and_size_sensibly(monthly, by_unit, by_department) -> None:
    assert monthly.accessibleName() == "走访企业家次与收集问题（按月）"
    assert "金水区 99.7%" in by_unit.accessibleDescription()
    assert "市人社局：未超期 12" in by_department.accessibleDescription()
    for chart in (monthly, by_unit, by_department):
        hint, minimum = chart.sizeHint(), chart.minimumSizeHint()
        assert minimum.width() <= hint.width() and minimum.height() <= hint.height()
        assert minimum.width() >= 200 and minimum.height() >= 120


def test_repainting_does_not_use_up_none(monthly, by_department) -> None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to None per void Qt call and Python aborts after a few
    thousand (pyproject.toml excludes that version): guard against it coming back with another release."""
    for chart in (monthly, by_department):
        chart.grab()
        before = sys.getrefcount(None)
        for _ in range(30):
            chart.grab()
        assert sys.getrefcount(None) > before - 10


def test_realistic_screenshots(tmp_path, monthly, by_unit, by_department) -> None:
    folder = Path(os.environ.get("ZHUQI_CHART_SHOTS") or tmp_path)
    for name, chart in (("monthly", monthly), ("units", by_unit), ("departments", by_department)):
        path = folder / f"charts_{name}.png"
        assert chart.grab().save(str(path))
        assert path.stat().st_size > 2000
