"""企业服务档案: one enterprise's file — base data, 包联 cadres (current and past), every visit and every
problem with its outcome, and the service figures (解决率 with the city's truncated 口径).

Long lists flow across pages with their header rows repeated; an empty section prints "暂无记录".
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from app import lifecycle as lc
from app.clock import local_date_of, today
from app.pdf.document import Record, blank, grid, new_record_page, section
from app.pdf.problem_forms import MarkedText, info_grid
from app.pdf.textflow import TextBlock
from app.problems import ProblemFilter
from app.stats import truncated_percent
from app.visits import VisitFilter

TITLE = "企业服务档案"
EMPTY = "暂无记录"
SUMMARY_CHARS = 60
LIST_SIZE = 9
MARK_BG = colors.HexColor("#fdf1f0")  # overdue rows


def _founded(services, ent_id: str) -> str:
    """建档日期: the day of the enterprise's earliest audit entry (its creation), '' if unknown."""
    entries = services.enterprises.history(ent_id)
    stamps = [e["at"] for e in entries if e.get("table_name") == "enterprises"] or [e["at"] for e in entries]
    return local_date_of(min(stamps)).isoformat() if stamps else ""


def _summary_head(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[:SUMMARY_CHARS] + "…"


def _list_table(header: list[str], rows: list[list], widths: list[float], styles: list | None = None) -> Table:
    """A list with its header row repeated on every page; "暂无记录" across the row when empty."""
    styles = list(styles or [])
    if not rows:
        rows = [[TextBlock(EMPTY, LIST_SIZE, align="center")] + [None] * (len(header) - 1)]
        styles.append(("SPAN", (0, 1), (-1, 1)))
    return grid([header, *rows], widths, label_cols=(), header=True, repeat_header=True, zebra=True,
                size=LIST_SIZE, styles=styles)


def _columns(width: float, fixed: list[float | None]) -> list[float]:
    """Column widths in mm, one of them None: it takes the rest of the width."""
    rest = width - sum(w * mm for w in fixed if w is not None)
    return [rest if w is None else w * mm for w in fixed]


def enterprise_story(story: list[Flowable], services, enterprise_id: str, width: float) -> None:
    """Append one enterprise's 企业服务档案 (starting on a new page)."""
    ent = services.enterprises.get(enterprise_id)
    printed = today().isoformat()
    founded = _founded(services, enterprise_id)
    right = (f"建档日期：{founded}　" if founded else "") + f"打印日期：{printed}"
    new_record_page(story, Record(key=ent["id"], kind="enterprise", title=TITLE, number=blank(ent.get("uscc")),
                                  left=f"所属单位：{blank(ent.get('unit_name'))}", right=right))

    visit_ids = services.visits.list_ids(VisitFilter(enterprise_id=enterprise_id), "visit_date", False)
    visits = services.visits.rows(visit_ids)
    problem_ids = services.problems.list_ids(ProblemFilter(enterprise_id=enterprise_id), "registered_on", False)
    problems = services.problems.rows(problem_ids)
    assignments = services.people.assignments_of_enterprise(enterprise_id, history=True)

    story += section("基本信息")
    contact = " ".join(x for x in (blank(ent.get("contact_name")), blank(ent.get("contact_phone"))) if x)
    story.append(info_grid([
        ["企业名称", ent["name"]],
        ["统一社会信用代码", ent.get("uscc"), "经营状态", ent.get("status")],
        ["所属单位", ent.get("unit_name"), "乡镇街道", ent.get("township")],
        ["企业地址", ent.get("address")],
        ["所属行业", ent.get("industry"), "企业规模", ent.get("scale")],
        ["企业标签", "、".join(ent.get("tag_list") or []) or "无"],
        ["法定代表人", ent.get("legal_rep"), "联系人及电话", contact],
        ["最近走访", ent.get("last_visit") or "未走访", "档案状态", "已归档" if ent.get("archived") else "在册"],
    ], width))

    story += section("服务概况")
    story += _figures(visits, problems, printed, width)

    story += section("包联干部")
    rows = []
    for i, a in enumerate(assignments, start=1):
        role = a["role"] + (f"（{a['cadre_role']}）" if a.get("cadre_role") and a["cadre_role"] != a["role"] else "")
        rows.append([str(i), a["cadre_name"], role, a.get("unit_name"), a["start_date"], a.get("end_date") or "至今",
                     "在岗" if not a.get("end_date") else "已结束"])
    story.append(_list_table(["序号", "姓名", "包联角色", "所在单位", "开始日期", "结束日期", "状态"], rows,
                             _columns(width, [10, 20, None, 44, 22, 22, 14])))

    story += section("走访记录")
    rows = []
    for i, vid in enumerate(visit_ids, start=1):
        v = visits[vid]
        rows.append([str(i), v["visit_date"], v["kind"], v["record_no"], blank(v.get("cadre_names")),
                     _summary_head(v.get("summary"))])
    story.append(_list_table(["序号", "走访日期", "方式", "记录编号", "走访干部", "走访情况摘要"], rows,
                             _columns(width, [10, 20, 17, 31, 26, None])))

    story += section("企业问题")
    rows, styles = [], []
    for i, pid in enumerate(problem_ids, start=1):
        p = problems[pid]
        status = p["status"]
        cell: object = status
        if p.get("overdue"):
            cell = MarkedText(f"{status}\n逾期{p['overdue_workdays']}个工作日", LIST_SIZE)
        elif p.get("missed_deadline") and status in lc.DONE:
            cell = MarkedText(f"{status}\n超期办结", LIST_SIZE)
        rows.append([p["record_no"], p.get("category") or p["category_code"], p["title"], cell,
                     p.get("deadline") or "—", blank(p.get("outcome")), blank(p.get("satisfaction"))])
        if p.get("overdue"):
            styles.append(("BACKGROUND", (0, i), (-1, i), MARK_BG))
    story.append(_list_table(["问题编号", "类别", "问题", "状态", "办理时限", "办理结果", "满意度"], rows,
                             _columns(width, [32, 17, None, 26, 20, 19, 17]), styles))
    story.append(Spacer(1, 1.5 * mm))
    if any(p.get("overdue") or p.get("missed_deadline") for p in problems.values()):
        story.append(TextBlock("注：红字标注逾期未办结的问题和超过原定办理时限才办结的问题（经批准延期不改变原定时限）。",
                               8, leading=12))


def _figures(visits: dict, problems: dict, printed: str, width: float) -> list[Flowable]:
    """The service figures as a ruled grid, with the cut-off day and the 解决率 口径 under it."""
    collected = len(problems)
    resolved = sum(1 for p in problems.values() if p["status"] in lc.DONE)
    solved = sum(1 for p in problems.values() if p.get("outcome") == lc.SOLVED_OUTCOME)
    overdue = sum(1 for p in problems.values() if p.get("overdue"))
    handling = sum(1 for p in problems.values() if p["status"] in lc.UNRESOLVED)
    symposia = sum(1 for v in visits.values() if v["kind"] == "座谈会")
    rows = [["走访次数", len(visits), "其中座谈会", symposia, "收集问题", collected, "已办结", resolved],
            ["已解决", solved, "解决率", truncated_percent(solved, collected), "在办问题", handling,
             "逾期未办结", MarkedText(str(overdue), 10) if overdue else "0"]]
    cell = width / 8
    table = grid(rows, [cell * 1.15, cell * 0.85] * 4, label_cols=(0, 2, 4, 6), size=10)
    note = (f"统计截至 {printed}。解决率 = 已解决 ÷ 收集问题，保留一位小数、截断不四舍五入；"
            "已办结含已解决、已解释说明和长期推进。")
    return [table, Spacer(1, 1 * mm), TextBlock(note, 8, leading=12)]
