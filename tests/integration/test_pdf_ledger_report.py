"""问题台账 and 统计报表 PDFs (DESIGN §6): landscape ledger with the header on every page and totals equal to
the rows, the report's figures equal to StatsService with the 口径 and cut-off, charts, embedded fonts only."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pypdf
import pytest

from app import demo
from app.clock import today
from app.lifecycle import STATUSES
from app.pdf.document import PrintCancelled
from app.problems import ProblemFilter, ProblemInput
from app.services import Services
from app.stats import DEFINITIONS, STATS_VERSION, Period

RECORD_NO = re.compile(r"WT\d{4}-[0-9A-Z]{4}-\d{4}")
TOTAL_HEADS = ["问题总数", *STATUSES, "逾期", "超期办理", "已解决", "解决率"]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHUQI_DATA_DIR", str(tmp_path_factory.mktemp("userdata")))
        s = Services.open(tmp_path_factory.mktemp("pdf") / "small.db")
        # A district hub: its demo spans several units, so the report's per-unit chart has bars to draw.
        s.initialise(role="district", unit_name="金水区", operator="王磊")
        demo.generate(s, size="small", seed=11)
        # One problem that is certainly overdue today, whatever the demo generated.
        ent = s.store.scalar("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id LIMIT 1")
        registered = today() - timedelta(days=40)
        pid = s.problems.register(ProblemInput(enterprise_id=ent, category_code="finance",
                                               description="流动资金贷款续贷受阻<b>&", registered_on=registered))
        s.problems.take_step(pid, "交办", on_date=registered, lead_unit_id=s.installation.unit_id,
                             deadline=registered + timedelta(days=10))
        yield s
        s.store.close()


def pages_text(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def totals(pages: list[str]) -> dict[str, str]:
    """The 台账合计 table as {heading: value}."""
    text = next(t for t in reversed(pages) if "台账合计" in t)
    tokens = text.split("台账合计", 1)[1].split()
    at = tokens.index("解决率")
    assert tokens[at - len(TOTAL_HEADS) + 1:at + 1] == TOTAL_HEADS
    return dict(zip(TOTAL_HEADS, tokens[at + 1:at + 1 + len(TOTAL_HEADS)], strict=True))


def embedded_font_problems(pdf: bytes) -> list[str]:
    """Every font used anywhere must be embedded (FontFile2); returns the offenders."""
    bad: list[str] = []

    def walk(resources, seen: set) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            desc_holder = font["/DescendantFonts"][0].get_object() if font.get("/Subtype") == "/Type0" else font
            desc = desc_holder.get("/FontDescriptor")
            if desc is None or "/FontFile2" not in desc.get_object():
                bad.append(str(font.get("/BaseFont")))
        for xobj in (resources.get("/XObject") or {}).values():
            xobj = xobj.get_object()
            if xobj.get("/Subtype") == "/Form":
                walk(xobj.get("/Resources"), seen)

    seen: set = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"), seen)
    return bad


# -- 问题台账 ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ledger(services):
    calls: list[tuple[int, int]] = []
    pdf = services.printing.ledger(ProblemFilter(), progress=lambda done, total: calls.append((done, total)))
    return pdf, calls


def test_ledger_is_landscape_with_the_header_row_on_every_page(ledger):
    pdf, _ = ledger
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in reader.pages)
    pages = pages_text(pdf)
    with_rows = [t for t in pages if RECORD_NO.search(t)]
    assert len(with_rows) >= 2
    for text in with_rows:
        assert "牵头单位" in text and "办理时限" in text and "企业名称" in text
    assert "问题台账" in pages[0] and "全部问题" in pages[0] and f"截至 {today().isoformat()}" in pages[0]


def test_ledger_rows_and_totals_equal_the_filter(services, ledger):
    pdf, _ = ledger
    pages = pages_text(pdf)
    f = ProblemFilter()
    printed = {m for t in pages for m in RECORD_NO.findall(t)}
    rows = services.problems.rows(services.problems.list_ids(f))
    assert printed == {r["record_no"] for r in rows.values()}
    got = totals(pages)
    assert int(got["问题总数"]) == services.problems.count(f) == len(rows)
    counts = services.problems.status_counts(f)
    for status in STATUSES:
        assert int(got[status]) == counts.get(status, 0), status
    assert int(got["逾期"]) == sum(r["overdue"] for r in rows.values()) == services.problems.count(
        ProblemFilter(overdue=True))
    assert int(got["超期办理"]) == sum(r["missed_deadline"] for r in rows.values())
    solved = sum(r["outcome"] == "已解决" for r in rows.values())
    assert int(got["已解决"]) == solved
    tenths = solved * 1000 // len(rows)
    assert got["解决率"] == f"{tenths // 10}.{tenths % 10}%"
    assert f"共{len(rows)}件" in pages[0]


def test_overdue_problem_is_marked(services, ledger):
    pdf, _ = ledger
    pages = pages_text(pdf)
    overdue = [r for r in services.problems.rows(services.problems.list_ids(ProblemFilter(overdue=True))).values()]
    assert overdue
    for row in overdue:
        page = next(t for t in pages if row["record_no"] in t)
        assert f"逾期{row['overdue_workdays']}个工作日" in page
    # User text prints literally (never parsed as markup).
    assert "流动资金贷款续贷受阻<b>&" in squash("".join(pages))


def test_filtered_ledger_lists_only_the_filtered_problems(services):
    f = ProblemFilter(statuses=("已销号",))
    pdf = services.printing.ledger(f, title="已销号问题台账")
    pages = pages_text(pdf)
    printed = {m for t in pages for m in RECORD_NO.findall(t)}
    closed = {r["record_no"] for r in services.problems.rows(services.problems.list_ids(f)).values()}
    assert closed and printed == closed
    got = totals(pages)
    assert int(got["问题总数"]) == int(got["已销号"]) == services.problems.count(f)
    assert all(int(got[s]) == 0 for s in STATUSES if s != "已销号")
    assert "已销号问题台账" in pages[0] and "状态：已销号" in pages[0]


def test_empty_ledger_prints_header_and_zero_totals(services):
    pages = pages_text(services.printing.ledger(ProblemFilter(text="绝对不存在的问题关键词")))
    assert "牵头单位" in pages[0] and "没有符合条件的问题" in pages[0] and "共0件" in pages[0]
    assert totals(pages)["问题总数"] == "0"


def test_ledger_progress_and_cancel(services, ledger):
    pdf, calls = ledger
    assert calls and calls[-1][0] == len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    with pytest.raises(PrintCancelled):
        services.printing.ledger(ProblemFilter(), progress=lambda done, total: False)


def test_ledger_fonts_are_embedded(ledger):
    assert embedded_font_problems(ledger[0]) == []


# -- 统计报表 ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("period, unit_id", [
    (Period(), None),
    (Period(date(2026, 1, 1), date(2026, 6, 30)), "U410105"),
])
def test_report_figures_equal_the_headline(services, period, unit_id):
    pdf = services.printing.stats_report(period, unit_id)
    pages = pages_text(pdf)
    text = "\n".join(pages)
    flat = squash(text)
    head = services.stats.headline(period, unit_id)
    cutoff = period.cutoff.isoformat()
    assert "“万人助万企”活动统计报表" in pages[0]
    assert f"截止日：{cutoff}" in pages[0]
    assert ("统计范围：金水区" if unit_id else "统计范围：全部单位") in pages[0]
    for label, key, unit in (("收集问题", "problems_collected", "件"), ("已解决", "problems_solved", "件"),
                             ("走访企业家次", "enterprise_visits", "家次"), ("召开座谈会", "symposia", "场"),
                             ("包联企业", "enterprises_covered", "家"), ("逾期未办结", "overdue", "件")):
        assert f"{label}{head[key]}{unit}" in flat, label
    assert f"解决率{head['solve_rate']}" in flat
    assert f"满意率{head['satisfaction_rate']}" in flat
    # The 合计 rows print the headline itself.
    assert (f"合计{head['enterprises_covered']}{head['enterprise_visits']}{head['symposia']}"
            f"{head['problems_collected']}{head['problems_solved']}{head['solve_rate']}{head['overdue']}") in flat
    # 口径: version, cut-off and every definition, numbered.
    assert f"统计口径版本{STATS_VERSION}" in flat and f"统计截止日{cutoff}" in flat
    for i, definition in enumerate(DEFINITIONS.values(), start=1):
        assert f"{i}.{squash(definition)}" in flat
    assert f"日期：{today().isoformat()}" in text and "审核：" in text and "制表：王磊" in flat
    assert embedded_font_problems(pdf) == []


def test_report_has_a_chart_with_chinese_labels(services):
    pdf = services.printing.stats_report(Period())
    flat = squash("".join(pages_text(pdf)))
    assert "按月问题收集与解决情况" in flat and "登记月份" in flat and "问题件数" in flat
    assert "各单位问题解决率" in flat
    content = b"".join(p.get_contents().get_data() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert content.count(b" re") > 20  # the bars (and table backgrounds) are vector rectangles
    assert b"Helvetica" not in pdf
