"""走访记录表: one visit on A4 — enterprises, people present, 走访情况, problems raised, policies, signatures."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from app.pdf.document import Record, blank, fit_width, grid, new_record_page, section, signature_block, text_box

TITLE = "走访记录表"


def visit_record(visit: dict) -> Record:
    return Record(key=visit["id"], kind="visit", title=TITLE, number=visit["record_no"],
                  left=f"填报单位：{blank(visit.get('unit_name'))}",
                  right=f"走访日期：{visit['visit_date']}")


def visit_story(story: list[Flowable], visit: dict, width: float) -> None:
    """Append one visit record (starting on a new page) to `story`. `visit` is VisitService.get()."""
    new_record_page(story, visit_record(visit))
    half = (width - 2 * 24 * mm) / 2
    when = visit["visit_date"] + (f" {visit['start_time']}" if visit.get("start_time") else "")
    story.append(grid([
        ["走访方式", visit["kind"], "走访时间", when],
        ["走访地点", visit.get("location"), "记录编号", visit["record_no"]],
    ], [24 * mm, half, 24 * mm, half], label_cols=(0, 2)))

    story += section("走访企业")
    rows = [["企业名称", "统一社会信用代码", "地址", "联系人及电话"]]
    for e in visit["enterprises"]:
        contact = " ".join(x for x in (blank(e.get("contact_name")), blank(e.get("contact_phone"))) if x)
        rows.append([e["name"], e.get("uscc"), e.get("address"), contact])
    code_w = fit_width([e.get("uscc") for e in visit["enterprises"]] + ["统一社会信用代码"], 9.5)
    contact_w = width * 0.21
    rest = width - code_w - contact_w
    story.append(grid(rows, [rest * 0.52, code_w, rest * 0.48, contact_w], label_cols=(), header=True,
                      repeat_header=True, size=9.5))

    story += section("参加人员")
    cadres = "；".join(f"{c['name']}（{c['role']}{'，' + c['post'] if c.get('post') else ''}）" for c in visit["cadres"])
    attendees = "；".join(
        f"{a['name']}{'（' + a['title'] + '）' if a.get('title') else ''}"
        + (f"，{a['enterprise_name']}" if a.get("enterprise_name") and len(visit["enterprises"]) > 1 else "")
        for a in visit["attendees"])
    story.append(grid([["走访干部", cadres], ["企业参加人员", attendees]], [28 * mm, width - 28 * mm]))

    story += section("走访情况")
    story.append(text_box(visit.get("summary"), width, min_lines=6))

    story += section("收集的问题和诉求")
    rows = [["序号", "问题类别", "问题描述", "企业诉求", "办理时限"]]
    for i, p in enumerate(visit["problems"], start=1):
        rows.append([str(i), p.get("category"), p.get("description"), p.get("request"), p.get("deadline") or "待交办"])
    if len(rows) == 1:
        rows.append(["", "", "本次走访未收集到问题。", "", ""])
    story.append(grid(rows, [12 * mm, 22 * mm, width * 0.42, width - 12 * mm - 22 * mm - width * 0.42 - 24 * mm,
                             24 * mm], label_cols=(), header=True, repeat_header=True, size=9.5))

    story += section("宣讲的惠企政策")
    story.append(text_box(visit.get("policies"), width, size=10))
    story += section("后续跟进")
    story.append(text_box(visit.get("follow_up"), width, size=10))
    story.append(Spacer(1, 4 * mm))
    story.append(signature_block(["走访干部", "企业负责人"], width))  # one flowable: never split
