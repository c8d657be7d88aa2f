"""统计报表: the headline figures with the city's 口径, tables by unit and by problem category, charts.

Every figure comes from StatsService (the same code the screens and the hubs run); the 合计 rows print
the headline figures themselves, so the report equals the screen. The charts use reportlab.graphics
with the bundled font on every label: a label left on the default would reference Helvetica, which is
not embedded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer

from app.clock import today
from app.pdf.document import LABEL_BG, Record, grid, new_record_page, section
from app.pdf.fonts import FONT
from app.pdf.textflow import TextBlock
from app.stats import DEFINITIONS, STATS_VERSION, Period

if TYPE_CHECKING:
    from app.services import Services

TITLE = "“万人助万企”活动统计报表"
NAVY = colors.HexColor("#1f3b63")
GREEN = colors.HexColor("#4f9a6a")
AXIS = colors.HexColor("#444444")
MAX_MONTHS = 24

# (label, key, unit of measure) in the order the city reports them; three figures a row.
HEADLINE = (
    ("工作组", "work_groups", "个"), ("助企干部", "cadres", "人"), ("包联企业", "enterprises_covered", "家"),
    ("走访企业家次", "enterprise_visits", "家次"), ("走访企业数", "enterprises_visited", "家"),
    ("召开座谈会", "symposia", "场"), ("收集问题", "problems_collected", "件"), ("办结问题", "problems_resolved", "件"),
    ("已解决", "problems_solved", "件"), ("解决率", "solve_rate", ""), ("逾期未办结", "overdue", "件"),
    ("超期办理", "missed_deadline", "件"), ("平均解决用时", "avg_workdays_to_solve", "个工作日"),
    ("满意率", "satisfaction_rate", ""), ("督办", "supervised", "件"),
)
UNIT_COLUMNS = (("包联企业", "enterprises_covered"), ("走访家次", "enterprise_visits"), ("座谈会", "symposia"),
                ("收集问题", "problems_collected"), ("已解决", "problems_solved"), ("解决率", "solve_rate"),
                ("逾期", "overdue"))
CATEGORY_COLUMNS = (("收集问题", "problems_collected"), ("已解决", "problems_solved"), ("解决率", "solve_rate"),
                    ("逾期", "overdue"), ("超期办理", "missed_deadline"), ("平均解决用时（工作日）", "avg_workdays_to_solve"))


def figure(value, unit: str = "") -> str:
    """A figure as printed: None (no solved problem yet) is "—", never "None"."""
    if value is None:
        return "—"
    return f"{value} {unit}".strip() if unit else str(value)


def _cells(values: list, size: float = 9.5, first_left: bool = True) -> list[TextBlock]:
    return [TextBlock(figure(v), size, align="left" if i == 0 and first_left else "center")
            for i, v in enumerate(values)]


def _table(head: list[str], body: list[list], total: list | None, widths: list[float]) -> Flowable:
    rows = [_cells(head, 9, first_left=False)] + [_cells(r) for r in body]
    styles = [("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if total is not None:
        rows.append(_cells(total))
        styles.append(("BACKGROUND", (0, -1), (-1, -1), LABEL_BG))
        styles.append(("LINEABOVE", (0, -1), (-1, -1), 1.0, colors.black))
    return grid(rows, widths, label_cols=(), header=True, repeat_header=True, zebra=True, styles=styles)


# -- charts ----------------------------------------------------------------------------------------------

def _label_font(*label_sets, size: float = 8) -> None:
    for labels in label_sets:
        labels.fontName = FONT
        labels.fontSize = size
        labels.fillColor = AXIS


def _legend(x: float, y: float, items: list[tuple]) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = FONT, 8.5
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.dx = legend.dy = 8
    legend.colorNamePairs = items
    return legend


def _drawing(width: float, height: float) -> Drawing:
    """A Drawing whose renderer starts in the bundled font (its default would reference Helvetica)."""
    d = Drawing(width, height)
    d.initialFontName = FONT
    d.initialFontSize = 8
    return d


def _title(d: Drawing, text: str, y: float) -> None:
    d.add(String(d.width / 2, y, text, fontName=FONT, fontSize=10, textAnchor="middle"))


def _vertical_title(x: float, y: float, text: str) -> Group:
    g = Group(String(0, 0, text, fontName=FONT, fontSize=8, textAnchor="middle", fillColor=AXIS))
    g.translate(x, y)
    g.rotate(90)
    return g


def _month_label(key: str, first: bool) -> str:
    year, month = key.split("-")
    return f"{int(month)}月\n{year}" if first or month == "01" else f"{int(month)}月"


def month_chart(months: list[dict], width: float) -> Drawing:
    """收集问题 vs 已解决 by month of registration (grouped bars)."""
    shown = months[-MAX_MONTHS:]
    d = _drawing(width, 78 * mm)
    title = "按月问题收集与解决情况（件）" + (f"（最近 {MAX_MONTHS} 个月）" if len(months) > MAX_MONTHS else "")
    _title(d, title, d.height - 12)
    chart = VerticalBarChart()
    chart.x, chart.y = 42, 34
    chart.width, chart.height = width - 60, d.height - 34 - 44
    chart.data = [[m["problems_collected"] for m in shown], [m["problems_solved"] for m in shown]]
    chart.categoryAxis.categoryNames = [_month_label(m["key"], i == 0) for i, m in enumerate(shown)]
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.categoryAxis.labels.dy = -3
    chart.categoryAxis.labels.leading = 9
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    top = max([1, *chart.data[0], *chart.data[1]])
    step = _nice_step(top)
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * (top // step + 1)  # headroom for the counts on the bars
    _label_font(chart.categoryAxis.labels, chart.valueAxis.labels, chart.barLabels)
    chart.bars[0].fillColor, chart.bars[1].fillColor = NAVY, GREEN
    chart.bars.strokeColor = None
    chart.groupSpacing, chart.barSpacing = 6, 1
    bar = (chart.width - chart.groupSpacing * len(shown)) / (2 * len(shown))
    if stringWidth(str(top), FONT, 6.5) + 2 <= bar:  # the counts fit on top of the bars
        chart.barLabelFormat = "%d"
        chart.barLabels.nudge = 5
        chart.barLabels.fontSize = 6.5
    d.add(chart)
    d.add(_legend(d.width - 150, d.height - 24, [(NAVY, "收集问题"), (GREEN, "已解决")]))
    d.add(_vertical_title(14, chart.y + chart.height / 2, "问题件数（件）"))
    d.add(String(chart.x + chart.width / 2, 4, "登记月份", fontName=FONT, fontSize=8, textAnchor="middle",
                 fillColor=AXIS))
    return d


def unit_chart(units: list[dict], width: float) -> Drawing:
    """解决率 by unit (horizontal bars, the units that collected problems)."""
    rows = [u for u in units if u["problems_collected"]]
    bar = 4.6 * mm
    d = _drawing(width, len(rows) * bar + 28 * mm)
    _title(d, "各单位问题解决率（%）", d.height - 12)
    chart = HorizontalBarChart()
    chart.x = max(stringWidth(u["label"], FONT, 8) for u in rows) + 16
    chart.y = 30
    chart.width, chart.height = width - chart.x - 40, len(rows) * bar
    rates = [u["problems_solved"] * 1000 // u["problems_collected"] / 10 for u in rows]
    chart.data = [list(reversed(rates))]  # the first unit on top
    chart.categoryAxis.categoryNames = [u["label"] for u in reversed(rows)]
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 10
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.barLabelFormat = "%.1f%%"
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    _label_font(chart.categoryAxis.labels, chart.valueAxis.labels, chart.barLabels)
    chart.bars[0].fillColor = NAVY
    chart.bars.strokeColor = None
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    d.add(chart)
    d.add(_legend(d.width - 150, d.height - 24, [(NAVY, "解决率＝已解决÷收集问题")]))
    d.add(String(chart.x + chart.width / 2, 6, "解决率（%，保留一位小数，截断）", fontName=FONT, fontSize=8,
                 textAnchor="middle", fillColor=AXIS))
    return d


def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if top / step <= 8:
            return step
    return 20000


# -- the story -------------------------------------------------------------------------------------------

def _unit_rows(services: Services, period: Period, unit_id: str | None) -> list[dict]:
    """By unit: every district (zero rows too) when the whole city is shown, then any other unit with figures."""
    rows = services.stats.breakdown("unit", period, unit_id)
    if unit_id:
        return rows
    by_key = {r["key"]: r for r in rows}
    out = []
    for u in services.reference.districts():
        out.append(by_key.pop(u.id, None) or {"key": u.id, "label": u.name, **dict.fromkeys(
            ("enterprises_covered", "enterprise_visits", "symposia", "problems_collected", "problems_solved",
             "overdue"), 0), "solve_rate": "—"})
    out += [r for r in by_key.values() if any(r[k] for _, k in UNIT_COLUMNS if k != "solve_rate")]
    return out


def report_story(story: list[Flowable], services: Services, period: Period, unit_id: str | None,
                 width: float) -> None:
    """Append the 统计报表 for `period` (and one district, or all units) to `story`."""
    cutoff = period.cutoff.isoformat()
    start = period.start.isoformat() if period.start else None
    span = f"{start} 至 {cutoff}" if start else f"累计至 {cutoff}"
    scope = services.reference.unit(unit_id).name if unit_id else "全部单位"
    new_record_page(story, Record(key=f"report:{unit_id or 'all'}:{start}:{cutoff}", kind="report", title=TITLE,
                                  number=f"{start}至{cutoff}" if start else f"累计至{cutoff}", left=f"统计范围：{scope}",
                                  right=f"截止日：{cutoff}", qr=False, number_label=""))
    head = services.stats.headline(period, unit_id)
    story.append(TextBlock(f"统计期间：{span}（问题按登记日期计入，办理情况截至截止日）。"
                           f"统计口径版本：{STATS_VERSION}。", 9.5))

    story += section("一、主要指标")
    rows, line = [], []
    for label, key, unit in HEADLINE:
        line += [label, figure(head[key], unit)]
        if len(line) == 6:
            rows.append(line)
            line = []
    lw, vw = 30 * mm, width / 3 - 30 * mm
    story.append(grid(rows, [lw, vw] * 3, label_cols=(0, 2, 4), size=10))

    months = [m for m in services.stats.breakdown("month", period, unit_id) if m["key"]]
    if months:
        story.append(KeepTogether([*section("二、月度趋势"), month_chart(months, width)]))

    story += section("三、分单位统计")
    units = _unit_rows(services, period, unit_id)
    body = [[u["label"], *(u[k] for _, k in UNIT_COLUMNS)] for u in units]
    total = ["合计", *(head[k] for _, k in UNIT_COLUMNS)]
    lead = 40 * mm
    story.append(_table(["单位", *(h for h, _ in UNIT_COLUMNS)], body, total,
                        [lead] + [(width - lead) / len(UNIT_COLUMNS)] * len(UNIT_COLUMNS)))
    if sum(u["symposia"] for u in units) != head["symposia"]:
        story.append(TextBlock("注：一场座谈会邀请多个单位的企业参加的，在各单位分别计 1 场，合计栏按场次去重。", 8,
                               leading=11))
    if sum(1 for u in units if u["problems_collected"]) > 1:
        story.append(Spacer(1, 3 * mm))
        story.append(KeepTogether([unit_chart(units, width)]))

    story += section("四、分问题类别统计")
    cats = services.stats.breakdown("category", period, unit_id)
    body = [[c["label"], *(c[k] for _, k in CATEGORY_COLUMNS)] for c in cats]
    total = ["合计", *(head[k] for _, k in CATEGORY_COLUMNS)]
    lead = 36 * mm
    widths = [lead] + [(width - lead - 38 * mm) / 5] * 5 + [38 * mm]
    story.append(_table(["问题类别", *(h for h, _ in CATEGORY_COLUMNS)], body, total, widths))

    notes = [TextBlock(f"统计口径版本 {STATS_VERSION}；统计期间 {span}；统计截止日 {cutoff}。"
                       "各项数据均由助企工作台按下列口径从走访、问题等原始记录自动汇总，可逐条追溯。", 8.5, leading=12)]
    notes += [TextBlock(f"{i}. {text}", 8, leading=11.5) for i, text in enumerate(DEFINITIONS.values(), start=1)]
    story.append(KeepTogether([*section("五、统计口径"), *notes[:4]]))  # no heading alone at a page foot
    story += notes[4:]
    operator = services.ctx.installation.operator if services.ctx.initialised else ""
    story.append(Spacer(1, 10 * mm))
    story.append(TextBlock(f"制表：{operator}　审核：______　日期：{today().isoformat()}", 10.5, align="right"))
