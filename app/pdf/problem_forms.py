"""问题交办单 and 督办单: the two official sheets of a problem's handling, one record each on A4.

Both are addressed to the lead (主办) unit like a government notice, list the problem and the enterprise,
state the deadline in working days on the Chinese calendar, and end with stamp/sign-off boxes; the
交办单 has a tear-off 回执 for the handling unit's reply. All user text goes through TextBlock (plain text).
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from app import lifecycle as lc
from app.clock import parse_date, today
from app.errors import AppError, ValidationError
from app.pdf.document import BASE_TABLE_STYLE, LINE, MARK_RED, Record, blank, grid, new_record_page, section
from app.pdf.fonts import FONT
from app.pdf.textflow import TextBlock

ASSIGNMENT_TITLE = "问题交办单"
SUPERVISION_TITLE = "督办单"
WEEKDAYS = "一二三四五六日"
LABEL_W = 32 * mm  # fits "统一社会信用代码" at 10 pt on one line
REPLY_WORKDAYS = 3  # 督办单 without a recorded 督办: reply within 3 working days
STANDARD_OPINION = ("该问题已超过办理时限仍未办结，请你单位高度重视，主要负责同志亲自过问，明确专人限期办结；"
                    "确有困难的，请书面说明原因、已采取的措施和下一步计划，逐项反馈。")


# -- small shared pieces (also used by the enterprise file) -----------------------------------------------

def with_weekday(value, calendar=None) -> str:
    """'2026-11-24（星期二）', with the 调休 name from `calendar` when a weekend day is a working day; '' for none."""
    day = parse_date(value)
    if not day:
        return ""
    name = calendar.day_name(day) if calendar is not None and day.weekday() >= 5 else None
    return f"{day.isoformat()}（星期{WEEKDAYS[day.weekday()]}{'，' + name if name else ''}）"


class MarkedText(TextBlock):
    """A TextBlock drawn in a colour (red marks: overdue); the colour survives page splits."""

    def __init__(self, text, size: float = 10, color=MARK_RED, **kw):
        super().__init__(text, size, color=color, **kw)


class RuledLines(Flowable):
    """Blank ruled lines to write on by hand."""

    def __init__(self, lines: int, leading: float = 8 * mm):
        super().__init__()
        self.lines, self.leading = lines, leading

    def wrap(self, avail_width, avail_height):
        self.width, self.height = avail_width, self.lines * self.leading
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setStrokeColor(colors.HexColor("#999999"))
        c.setLineWidth(0.4)
        for i in range(1, self.lines):  # the cell's own bottom rule is the last line
            c.line(0, i * self.leading, self.width, i * self.leading)


class CutLine(Flowable):
    """A dashed cutting line with a label in its middle: the tear-off edge of a 回执."""

    def __init__(self, label: str, size: float = 8.5):
        super().__init__()
        self.label, self.size = label, size

    def wrap(self, avail_width, avail_height):
        self.width, self.height = avail_width, 8 * mm
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        y = self.height / 2
        half = c.stringWidth(self.label, FONT, self.size) / 2 + 3 * mm
        c.setStrokeColor(colors.HexColor("#777777"))
        c.setDash(4, 3)
        c.setLineWidth(0.6)
        c.line(0, y, self.width / 2 - half, y)
        c.line(self.width / 2 + half, y, self.width, y)
        c.setDash()
        c.setFillColor(colors.HexColor("#555555"))
        c.setFont(FONT, self.size)
        c.drawCentredString(self.width / 2, y - self.size * 0.35, self.label)
        c.setFillColor(colors.black)


def span_rows(rows: list[list], spans: list[int], cols: int = 4) -> list:
    """SPAN styles: each row index in `spans` merges its value cell (col 1) up to the last column."""
    return [("SPAN", (1, r), (cols - 1, r)) for r in spans]


def info_grid(rows: list[list], width: float, size: float = 10) -> Table:
    """Label/value pairs in four columns; a two-cell row [label, value] spans the value across."""
    value_w = (width - 2 * LABEL_W) / 2
    full, spans = [], []
    for i, r in enumerate(rows):
        if len(r) == 2:
            full.append([r[0], r[1], None, None])
            spans.append(i)
        else:
            full.append(r)
    return grid(full, [LABEL_W, value_w, LABEL_W, value_w], label_cols=(0, 2), size=size,
                styles=span_rows(full, spans) + [("BACKGROUND", (1, r), (3, r), colors.white) for r in spans])


def stamp_boxes(left_title: str, right_title: str, width: float, height: float = 28 * mm) -> Table:
    """Two boxes side by side: the issuing unit's stamp and the receiving unit's sign-off."""
    size, pad = 10.5, 6
    room = height - 2 * pad - 3 * size * 1.5  # what is left between the title and the bottom lines
    left = [TextBlock(left_title, size), Spacer(1, max(0.0, room + size * 1.5)),
            TextBlock("年　　月　　日", size, align="right")]
    right = [TextBlock(right_title, size), Spacer(1, max(0.0, room)),
             TextBlock("签收人：", size), TextBlock("签收日期：　　　年　　月　　日", size)]
    table = Table([[left, right]], colWidths=[width / 2, width / 2], rowHeights=[height])
    table.setStyle(TableStyle([
        *BASE_TABLE_STYLE,
        ("GRID", (0, 0), (-1, -1), 0.6, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 16),
        ("TOPPADDING", (0, 0), (-1, -1), pad), ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
    ]))
    return table


def issuer(services) -> tuple[str, str, str]:
    """(unit name, operator, operator's phone) of this installation; blanks when not set up."""
    if not services.ctx.initialised:
        return "", "", ""
    inst = services.installation
    try:
        unit = services.reference.unit(inst.unit_id).name
    except AppError:
        unit = ""
    phone = ""
    if inst.cadre_id:
        try:
            phone = services.people.cadre(inst.cadre_id).get("phone") or ""
        except AppError:
            phone = ""
    return unit, inst.operator, phone


def _template(services, template_id: str | None) -> dict | None:
    if not template_id:
        return None
    try:
        return services.reference.template(template_id)
    except AppError:
        return None


def _assign_event(events: list[dict]) -> dict | None:
    """The latest 交办 or 重办: it set the lead unit's current assignment and deadline."""
    return next((ev for ev in reversed(events) if ev["kind"] in ("交办", "重办")), None)


def _units_text(problem: dict) -> str:
    return "、".join(problem.get("assist_unit_names") or []) or "无"


# -- 问题交办单 ---------------------------------------------------------------------------------------------

def requirements_text(tpl: dict | None) -> str:
    contact = int(tpl["assign_days"]) if tpl else 1
    progress = int(tpl["first_progress_days"]) if tpl else 3
    return (f"请于收到交办单后{contact}个工作日内与企业联系，{progress}个工作日内反馈阶段性进展，按时限办结并反馈办理结果。"
            "确需延期的，请在时限届满前书面申请，经批准后方可延期；逾期未办结的，将予以催办、督办。")


def assignment_story(story: list[Flowable], services, problem_id: str, width: float) -> None:
    """Append the 问题交办单 of one assigned problem (starting on a new page)."""
    p = services.problems.get(problem_id)
    if p["status"] == lc.PENDING or not p.get("assigned_on"):
        raise ValidationError("该问题尚未交办，不能打印交办单：请先完成“交办”。", field="status")
    ent = services.enterprises.get(p["enterprise_id"])
    events = services.problems.events(problem_id)
    ev = _assign_event(events)
    data = ev["data"] if ev else {}
    assigned_on = p["assigned_on"]
    deadline = data.get("deadline") or p["deadline"]
    tpl = _template(services, data.get("template_id") or p.get("template_id"))
    unit, operator, phone = issuer(services)
    lead = blank(p.get("lead_unit_name"))
    redo = bool(ev and ev["kind"] == "重办")

    new_record_page(story, Record(key=p["id"], kind="problem", title=ASSIGNMENT_TITLE, number=p["record_no"],
                                  left=f"交办单位：{unit}", right=f"交办日期：{assigned_on}"))
    story.append(TextBlock(f"{lead}（主办）{'、' + _units_text(p) + '（协办）' if p['assist_unit_names'] else ''}：",
                           11.5))
    story.append(TextBlock(
        f"　　现将{ent['name']}反映的“{p['title']}”问题{'重新' if redo else ''}交由你单位牵头办理"
        f"{'，' + _units_text(p) + '协助办理' if p['assist_unit_names'] else ''}。"
        "请按照下列要求认真办理，并及时反馈办理结果。", 10.5))

    story += section("问题及企业信息")
    story.append(info_grid([
        ["问题编号", p["record_no"], "登记日期", p["registered_on"]],
        ["问题标题", p["title"]],
        ["问题类别", p.get("category_name") or p["category_code"], "层级／程度", f"{p['level']}／{p['severity']}"],
        ["问题描述", TextBlock(p.get("description"), 10, min_lines=2)],
        ["企业诉求", TextBlock(p.get("request"), 10)],
        ["企业名称", ent["name"]],
        ["统一社会信用代码", ent.get("uscc"), "所属单位", ent.get("unit_name")],
        ["企业地址", ent.get("address")],
        ["联系人", ent.get("contact_name"), "联系电话", ent.get("contact_phone")],
    ], width))

    story += section("办理要求")
    days = services.ctx.calendar.workdays_between(parse_date(assigned_on), parse_date(deadline)) if deadline else 0
    cal = services.ctx.calendar
    limit = f"{days} 个工作日，至 {with_weekday(deadline, cal)}前办结" if deadline else "（未设定）"
    if tpl:
        limit += f"\n依据：{tpl['name']}"
    if p.get("deadline") and deadline and p["deadline"] != deadline:
        limit += f"\n已经批准延期至 {with_weekday(p['deadline'], cal)}"
    story.append(info_grid([
        ["主办单位", lead, "协办单位", _units_text(p)],
        ["办理时限", limit],
        ["工作要求", requirements_text(tpl)],
        ["交办人", operator, "联系电话", phone],
    ], width))
    story.append(Spacer(1, 2 * mm))
    story.append(KeepTogether(stamp_boxes("交办单位（盖章）", "承办单位签收：", width, 22 * mm)))
    story.append(KeepTogether(_receipt(p, ent, lead, width)))


def _receipt(p: dict, ent: dict, lead: str, width: float) -> list[Flowable]:
    """The tear-off 回执: the handling unit writes its result and sends it back."""
    value_w = (width - 2 * LABEL_W) / 2
    rows = [
        ["问题编号", p["record_no"], "主办单位", lead],
        ["办理结果", "□ 已解决　　　□ 已解释说明（暂不能解决）　　　□ 长期推进", None, None],
        ["办理结果反馈", RuledLines(3, 6.5 * mm), None, None],
        ["经办人", "", "联系电话", ""],
        ["承办单位（盖章）", "", "反馈日期", "　　　年　　月　　日"],
    ]
    table = grid(rows, [LABEL_W, value_w, LABEL_W, value_w], label_cols=(0, 2), size=10,
                 styles=[*span_rows(rows, [1, 2]), ("BACKGROUND", (1, 1), (3, 2), colors.white)])
    return [Spacer(1, 1 * mm), CutLine("沿 虚 线 剪 下 · 由承办单位填写后交回交办单位"),
            TextBlock(f"{ASSIGNMENT_TITLE}回执", 13, align="center"), Spacer(1, 1.5 * mm), table]


# -- 督办单 -------------------------------------------------------------------------------------------------

def _deadline_on(events: list[dict], day: str) -> str | None:
    """The deadline in force on `day` (交办/重办 set it, 延期 moves it)."""
    current = None
    for ev in events:
        if ev["on_date"] > day:
            break
        if ev["kind"] in ("交办", "重办", "延期") and ev["data"].get("deadline"):
            current = ev["data"]["deadline"]
        elif ev["kind"] == "上报":
            current = None
    return current


def _refuse_supervision(p: dict) -> None:
    if p["status"] == lc.PENDING:
        raise ValidationError("该问题尚未交办，不能打印督办单：请先完成“交办”。", field="status")
    if p["status"] not in lc.HANDLING:
        raise ValidationError(f"该问题已办结（当前状态：{p['status']}），无需督办，不能打印督办单。", field="status")
    left = f"，还有 {p['workdays_left']} 个工作日" if p.get("workdays_left") is not None else ""
    raise ValidationError(f"该问题尚未超过办理时限（{p['deadline']}{left}），不能打印督办单："
                          "逾期后或登记“督办”后方可打印。", field="status")


def supervision_story(story: list[Flowable], services, problem_id: str, width: float) -> None:
    """Append the 督办单 of one overdue (or already supervised) problem being handled."""
    p = services.problems.get(problem_id)
    events = services.problems.events(problem_id)
    supervisions = [ev for ev in events if ev["kind"] == "督办"]
    if p["status"] not in lc.HANDLING or not (p["overdue"] or supervisions):
        _refuse_supervision(p)
    ent = services.enterprises.get(p["enterprise_id"])
    cal = services.ctx.calendar
    latest = supervisions[-1] if supervisions else None
    sheet_day = parse_date(latest["on_date"]) if latest else today()
    reply_by = (latest["data"].get("reply_by") if latest else None) or \
        cal.add_workdays(sheet_day, REPLY_WORKDAYS).isoformat()
    due = parse_date(_deadline_on(events, sheet_day.isoformat()) or p["deadline"])
    late_wd = cal.workdays_between(due, sheet_day) if due and sheet_day > due else 0
    late_cd = (sheet_day - due).days if due and sheet_day > due else 0
    unit, operator, phone = issuer(services)
    lead = blank(p.get("lead_unit_name"))
    extensions = [ev for ev in events if ev["kind"] == "延期"]
    extended = f"，经批准延期至{p['deadline']}" if extensions else ""

    new_record_page(story, Record(key=p["id"], kind="problem", title=SUPERVISION_TITLE, number=p["record_no"],
                                  left=f"督办单位：{unit}", right=f"督办日期：{sheet_day.isoformat()}"))
    story.append(TextBlock(f"{lead}：", 11.5))
    late = (f"已逾期 {late_wd} 个工作日（{late_cd} 个自然日）" if late_wd or late_cd else "仍未办结")
    story.append(TextBlock(
        f"　　{p['assigned_on']}交由你单位牵头办理的{ent['name']}“{p['title']}”问题（编号 {p['record_no']}），"
        f"原定于{p['original_deadline']}前办结{extended}，截至{sheet_day.isoformat()}{late}。现予督办，"
        f"请于{reply_by}前办结，或书面反馈办理进展及未按期办结原因。", 10.5))

    story += section("问题及办理情况")
    current = with_weekday(p["deadline"], cal) + (f"（延期 {len(extensions)} 次）" if extensions else "（未延期）")
    overdue_now = (f"截至{sheet_day.isoformat()}已逾期 {late_wd} 个工作日（{late_cd} 个自然日）"
                   if late_wd or late_cd else f"截至{sheet_day.isoformat()}未超过现办理时限")
    if p["overdue"] and sheet_day != today():
        overdue_now += (f"\n截至打印日{today().isoformat()}仍未办结，已逾期 {p['overdue_workdays']} 个工作日"
                        f"（{(today() - parse_date(p['deadline'])).days} 个自然日）")
    progress = next((ev for ev in reversed(events) if ev["kind"] == "进展"), None)
    table = info_grid([
        ["问题编号", p["record_no"], "问题类别", p.get("category_name") or p["category_code"]],
        ["问题标题", p["title"]],
        ["问题描述", TextBlock(p.get("description"), 10)],
        ["企业名称", ent["name"]],
        ["统一社会信用代码", ent.get("uscc"), "层级／程度", f"{p['level']}／{p['severity']}"],
        ["主办单位", lead, "协办单位", _units_text(p)],
        ["交办日期", p["assigned_on"], "当前状态", p["status"]],
        ["原定办理时限", with_weekday(p["original_deadline"], cal), "现办理时限", current],
        ["逾期情况", MarkedText(overdue_now, 10)],
        ["催办督办", f"已催办 {p['urge_count']} 次，已督办 {p['supervise_count']} 次"],
        ["最新进展", f"{progress['on_date']}　{progress['note']}" if progress and progress["note"]
         else (progress["on_date"] if progress else "暂无进展反馈")],
    ], width)
    story.append(table)

    if extensions:
        story += section("延期记录")
        rows = [["序号", "批准日期", "原办理时限", "延期至", "批准人", "延期理由"]]
        rows += [[str(i), ev["on_date"], ev["data"].get("previous_deadline"), ev["data"].get("deadline"),
                  ev["data"].get("approver"), ev["note"]] for i, ev in enumerate(extensions, start=1)]
        story.append(grid(rows, [10 * mm, 22 * mm, 24 * mm, 24 * mm, 20 * mm, width - 100 * mm], label_cols=(),
                          header=True, repeat_header=True, size=9.5))
    story += section("催办、督办记录")
    story.append(_urge_table(events, width))

    story += section("督办意见及要求")
    opinion = (latest["note"] if latest and latest["note"] else STANDARD_OPINION)
    story.append(info_grid([
        ["督办意见", TextBlock(opinion, 10, min_lines=3)],
        ["要求回复日期", MarkedText(with_weekday(reply_by, cal), 10)],
        ["督办人", operator, "联系电话", phone],
    ], width))
    story.append(Spacer(1, 3 * mm))
    story.append(KeepTogether(stamp_boxes("督办单位（盖章）", "承办单位签收：", width)))


def _urge_table(events: list[dict], width: float) -> Table:
    rows: list[list] = [["序号", "类型", "日期", "经办人", "内容"]]
    for i, ev in enumerate((e for e in events if e["kind"] in ("催办", "督办")), start=1):
        note = ev["note"] or ""
        if ev["kind"] == "督办":
            extra = []
            if ev["data"].get("overdue_workdays"):
                extra.append(f"督办时已逾期 {ev['data']['overdue_workdays']} 个工作日")
            if ev["data"].get("reply_by"):
                extra.append(f"要求 {ev['data']['reply_by']} 前回复")
            note = "；".join(x for x in (note.rstrip("。；;，, "), "，".join(extra)) if x)
        rows.append([str(i), ev["kind"], ev["on_date"], ev["actor"], note])
    styles = []
    if len(rows) == 1:
        rows.append([TextBlock("暂无记录", 9.5, align="center"), None, None, None, None])
        styles = [("SPAN", (0, 1), (-1, 1))]
    return grid(rows, [10 * mm, 14 * mm, 24 * mm, 20 * mm, width - 68 * mm], label_cols=(), header=True,
                repeat_header=True, size=9.5, styles=styles)
