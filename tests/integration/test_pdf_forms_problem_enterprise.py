"""问题交办单, 督办单 and 企业服务档案 end to end: demo data through PrintService, the PDF read back with pypdf.

Checked: the facts a reader files the sheet by (enterprise, USCC, record number, dates, units, days overdue),
every font embedded, no character without a glyph, refusals with Chinese messages, user text printed
literally (never markup), empty sections say "暂无记录", and prints audited.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from reportlab.platypus import KeepTogether, Table

from app import demo, uscc
from app.clock import parse_date, today
from app.errors import ValidationError
from app.pdf.document import RecordStart
from app.pdf.enterprise_form import enterprise_story
from app.pdf.fonts import missing_glyphs
from app.pdf.problem_forms import assignment_story, supervision_story
from app.pdf.textflow import TextBlock
from app.problems import ProblemFilter, ProblemInput
from app.services import Services
from app.visits import VisitFilter

MARKUP_DESC = "企业反映<b>&<i>标签问题：A&B<C>项目审批迟缓，影响投产。"
MARKUP_NAME = "郑州A&B<C>档案测试有限公司"
WIDTH = 500.0


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(pdf: bytes, tmp_path, name: str) -> tuple[PdfReader, str]:
    path = tmp_path / name
    path.write_bytes(pdf)
    reader = PdfReader(str(path))
    return reader, "\n".join(page.extract_text() or "" for page in reader.pages)


def _story_text(story: list) -> str:
    """Every string the form put into its flowables (cells, headings, header lines)."""
    out: list[str] = []

    def walk(f) -> None:
        if isinstance(f, (list, tuple)):
            for x in f:
                walk(x)
        elif isinstance(f, TextBlock):
            out.append(f.text or "\n".join(f._lines or []))  # noqa: SLF001 - split halves carry lines only
        elif isinstance(f, Table):
            walk(f._cellvalues)  # noqa: SLF001
        elif isinstance(f, KeepTogether):
            walk(f._content)  # noqa: SLF001
        elif isinstance(f, RecordStart):
            out.extend([f.record.title, f.record.left, f.record.right, f.record.number])
        elif isinstance(getattr(f, "text", None), str):
            out.append(f.text)
        elif isinstance(getattr(f, "label", None), str):
            out.append(f.label)
        elif isinstance(f, str):
            out.append(f)

    walk(story)
    return "\n".join(out)


def _assert_fonts_embedded(reader: PdfReader) -> None:
    seen = 0
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font")
        for name, ref in (fonts.get_object() if fonts else {}).items():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
            descriptors = [d.get_object() for d in descriptors if d is not None]
            assert descriptors, f"font {name} ({font.get('/BaseFont')}) has no descriptor: not embedded"
            assert any("/FontFile2" in d for d in descriptors), f"font {name} ({font.get('/BaseFont')}) not embedded"
            seen += 1
    assert seen, "no fonts found"


def _check_glyphs(services, story_fn, key: str, pdf_text: str) -> None:
    story: list = []
    story_fn(story, services, key, WIDTH)
    drawn = _story_text(story)
    assert drawn.strip()
    assert missing_glyphs(drawn) == set()
    assert missing_glyphs(pdf_text) == set()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    path = tmp_path_factory.mktemp("forms") / "forms.db"
    s = Services.open(path)
    demo.generate(s, size="small", seed=5)
    ref = s.reference
    lead = ref.unit_by_name("市工信局").id
    assist = ref.unit_by_name("市人社局").id
    category = next(iter(ref.categories()))
    ent_id = s.enterprises.create({
        "uscc": uscc.make("91410105MA9KT7X21"), "name": MARKUP_NAME, "unit_id": s.installation.unit_id,
        "township": "经八路街道", "address": "金水区花园路<1>号", "industry": "软件和信息技术服务业",
        "scale": "小型", "legal_rep": "李&明", "contact_name": "周测试", "contact_phone": "13912345678",
    }).id
    start = today() - timedelta(days=60)

    def problem(title: str, day, description: str = MARKUP_DESC) -> str:
        return s.problems.register(ProblemInput(enterprise_id=ent_id, category_code=category, title=title,
                                                description=description, request="希望<script>尽快</script>协调&解决",
                                                registered_on=day))

    # Extended, urged, overdue, never supervised.
    extended = problem("A&B<C>项目审批迟缓", start)
    s.problems.take_step(extended, "交办", on_date=start, lead_unit_id=lead, assist_unit_ids=[assist],
                         template_id="T13710")
    first = parse_date(s.problems.get(extended)["deadline"])
    s.problems.take_step(extended, "延期", on_date=start + timedelta(days=2), deadline=first + timedelta(days=10),
                         approver="陈志强", note="需企业补充材料")
    new_deadline = parse_date(s.problems.get(extended)["deadline"])
    s.problems.take_step(extended, "催办", on_date=new_deadline + timedelta(days=1), note="请加快办理")
    # Supervised once (督办 with a reply-by day).
    supervised = problem("厂区道路破损待修", start, "厂区门前道路破损，货车通行困难。")
    s.problems.take_step(supervised, "交办", on_date=start, lead_unit_id=lead, template_id="T13710")
    due = parse_date(s.problems.get(supervised)["deadline"])
    s.problems.take_step(supervised, "催办", on_date=due + timedelta(days=1))
    s.problems.take_step(supervised, "督办", on_date=due + timedelta(days=3), reply_by=due + timedelta(days=8),
                         note="请于限期内书面反馈未按期办结原因。")
    # Assigned today: not overdue.
    fresh = problem("新交办的问题", today(), "刚交办的问题。")
    s.problems.take_step(fresh, "交办", on_date=today(), lead_unit_id=lead, template_id="T13710")
    pending = problem("尚未交办的问题", today(), "还在待交办。")
    yield {"s": s, "ent": ent_id, "extended": extended, "supervised": supervised, "fresh": fresh,
           "pending": pending, "lead": lead}
    s.close()


# -- 问题交办单 -------------------------------------------------------------------------------------------

def _assigned_demo_problem(s) -> str:
    ids = s.problems.list_ids(ProblemFilter(statuses=("已交办", "办理中", "已办结", "已回访", "已销号")))
    return next(i for i in ids if s.problems.get(i)["enterprise_name"] != MARKUP_NAME)


@pytest.mark.parametrize("which", ["demo", "extended"])
def test_assignment_sheet_shows_the_facts(env, tmp_path, which):
    s = env["s"]
    pid = _assigned_demo_problem(s) if which == "demo" else env["extended"]
    p = s.problems.get(pid)
    ent = s.enterprises.get(p["enterprise_id"])
    reader, text = _pdf_text(s.printing.assignment_sheet(pid), tmp_path, "assign.pdf")
    flat = _flat(text)
    events = s.problems.events(pid)
    assign = [ev for ev in events if ev["kind"] in ("交办", "重办")][-1]
    deadline = assign["data"]["deadline"]
    days = s.ctx.calendar.workdays_between(parse_date(p["assigned_on"]), parse_date(deadline))
    for needle in (ent["name"], ent["uscc"], p["record_no"], p["assigned_on"], p["registered_on"], deadline,
                   p["lead_unit_name"], ent["contact_phone"], "问题交办单", "交办单位（盖章）", "承办单位签收",
                   f"{days}个工作日，至{deadline}", "办理结果反馈", "回执", s.installation.operator,
                   *p["assist_unit_names"]):
        assert _flat(needle) in flat, needle
    assert re.search(r"星期[一二三四五六日]", flat)
    assert "第1页共1页" in flat or "第1页共2页" in flat
    _assert_fonts_embedded(reader)
    _check_glyphs(s, assignment_story, pid, text)


def test_assignment_sheet_prints_markup_literally_and_is_audited(env, tmp_path):
    s, pid = env["s"], env["extended"]
    _, text = _pdf_text(s.printing.assignment_sheet(pid), tmp_path, "markup.pdf")
    flat = _flat(text)
    for needle in ("<b>&<i>", "A&B<C>", MARKUP_DESC, MARKUP_NAME, "<script>尽快</script>协调&解决"):
        assert needle in flat, needle
    assert "&amp;" not in flat and "&lt;" not in flat
    actions = [r["action"] for r in s.store.query(
        "SELECT action FROM audit_log WHERE table_name = 'problems' AND row_id = ?", (pid,))]
    assert "打印问题交办单" in actions
    assert "已经批准延期至" in flat  # reprint after an extension says so


def test_assignment_sheet_refused_before_assignment(env):
    s = env["s"]
    with pytest.raises(ValidationError) as err:
        s.printing.assignment_sheet(env["pending"])
    assert err.value.field == "status"
    assert "尚未交办" in err.value.message and "交办单" in err.value.message


# -- 督办单 -----------------------------------------------------------------------------------------------

def test_supervision_sheet_for_an_overdue_extended_problem(env, tmp_path):
    s, pid = env["s"], env["extended"]
    p = s.problems.get(pid)
    assert p["overdue"] and p["overdue_workdays"] > 0
    reader, text = _pdf_text(s.printing.supervision_sheet(pid), tmp_path, "super.pdf")
    flat = _flat(text)
    calendar_days = (today() - parse_date(p["deadline"])).days
    reply_by = s.ctx.calendar.add_workdays(today(), 3).isoformat()
    extension = next(ev for ev in s.problems.events(pid) if ev["kind"] == "延期")
    urge = next(ev for ev in s.problems.events(pid) if ev["kind"] == "催办")
    for needle in ("督办单", MARKUP_NAME, s.enterprises.get(env["ent"])["uscc"], p["record_no"], p["assigned_on"],
                   p["original_deadline"], p["deadline"], p["lead_unit_name"], "市人社局",
                   f"已逾期{p['overdue_workdays']}个工作日（{calendar_days}个自然日）", reply_by,
                   extension["on_date"], "陈志强", "需企业补充材料", urge["on_date"], "请加快办理",
                   f"督办日期：{today().isoformat()}", "督办单位（盖章）", "<b>&<i>"):
        assert _flat(needle) in flat, needle
    _assert_fonts_embedded(reader)
    _check_glyphs(s, supervision_story, pid, text)
    actions = [r["action"] for r in s.store.query(
        "SELECT action FROM audit_log WHERE table_name = 'problems' AND row_id = ?", (pid,))]
    assert "打印督办单" in actions


def test_supervision_sheet_follows_the_latest_supervision(env, tmp_path):
    s, pid = env["s"], env["supervised"]
    p = s.problems.get(pid)
    last = [ev for ev in s.problems.events(pid) if ev["kind"] == "督办"][-1]
    _, text = _pdf_text(s.printing.supervision_sheet(pid), tmp_path, "super2.pdf")
    flat = _flat(text)
    late = last["data"]["overdue_workdays"]
    for needle in (f"督办日期：{last['on_date']}", last["data"]["reply_by"], "请于限期内书面反馈未按期办结原因。",
                   f"已逾期{late}个工作日", p["original_deadline"], f"已逾期{p['overdue_workdays']}个工作日",
                   "未延期"):
        assert _flat(needle) in flat, needle


def test_supervision_sheet_refusals(env):
    s = env["s"]
    cases = {env["fresh"]: "尚未超过办理时限", env["pending"]: "尚未交办"}
    done = s.problems.list_ids(ProblemFilter(statuses=("已销号",)))
    if done:
        cases[done[0]] = "已办结"
    for pid, words in cases.items():
        with pytest.raises(ValidationError) as err:
            s.printing.supervision_sheet(pid)
        assert words in err.value.message and "督办单" in err.value.message
        assert err.value.field == "status"


def test_batch_supervision_sheets_are_the_single_sheets_one_after_another(env):
    """The 逾期督办 batch: one PDF holding each problem's 督办单 with no blank page between them."""
    s = env["s"]
    ids = [env["extended"], env["supervised"]]
    single = [len(PdfReader(io.BytesIO(s.printing.supervision_sheet(pid))).pages) for pid in ids]
    batch = PdfReader(io.BytesIO(s.printing.supervision_sheets(ids)))
    assert len(batch.pages) == sum(single)
    numbers = [s.problems.get(pid)["record_no"] for pid in ids]
    texts = [page.extract_text() for page in batch.pages]
    assert all(any(no in t for t in texts) for no in numbers)
    assert all("督办单" in t for t in texts)


# -- 企业服务档案 -------------------------------------------------------------------------------------------

def test_enterprise_file_of_a_demo_enterprise(env, tmp_path):
    s = env["s"]
    counts = {}
    for pid in s.problems.list_ids(ProblemFilter()):
        e = s.problems.get(pid)["enterprise_id"]
        counts[e] = counts.get(e, 0) + 1
    ent_id = max((e for e in counts if e != env["ent"]), key=lambda e: counts[e])
    ent = s.enterprises.get(ent_id)
    reader, text = _pdf_text(s.printing.enterprise_file(ent_id), tmp_path, "ent.pdf")
    flat = _flat(text)
    visit_ids = s.visits.list_ids(VisitFilter(enterprise_id=ent_id))
    problem_ids = s.problems.list_ids(ProblemFilter(enterprise_id=ent_id))
    assert visit_ids and problem_ids
    needles = [ent["name"], ent["uscc"], ent["unit_name"], "企业服务档案", "基本信息", "包联干部", "走访记录",
               f"打印日期：{today().isoformat()}"]
    needles += [s.visits.get(v)["record_no"] for v in visit_ids]
    needles += [s.visits.get(v)["visit_date"] for v in visit_ids]
    needles += [s.problems.get(p)["record_no"] for p in problem_ids]
    needles += [a["cadre_name"] for a in s.people.assignments_of_enterprise(ent_id, history=True)]
    for needle in needles:
        assert _flat(needle) in flat, needle
    from app.stats import truncated_percent

    solved = sum(1 for p in problem_ids if s.problems.get(p)["outcome"] == "已解决")
    assert truncated_percent(solved, len(problem_ids)) in flat
    _assert_fonts_embedded(reader)
    _check_glyphs(s, enterprise_story, ent_id, text)
    actions = [r["action"] for r in s.store.query(
        "SELECT action FROM audit_log WHERE table_name = 'enterprises' AND row_id = ?", (ent_id,))]
    assert "打印企业服务档案" in actions


def test_enterprise_file_without_visits_says_no_records(env, tmp_path):
    s, ent_id = env["s"], env["ent"]
    assert not s.visits.list_ids(VisitFilter(enterprise_id=ent_id))
    reader, text = _pdf_text(s.printing.enterprise_file(ent_id), tmp_path, "empty.pdf")
    flat = _flat(text)
    assert "暂无记录" in flat
    assert MARKUP_NAME in flat and "李&明" in flat and "金水区花园路<1>号" in flat
    assert s.problems.get(env["extended"])["record_no"] in flat
    assert "逾期" in flat
    _assert_fonts_embedded(reader)


def test_enterprise_file_long_lists_repeat_their_header(env, tmp_path):
    """Enough visits to fill pages: the list header row is printed again on every following page."""
    from app.visits import VisitInput

    s = env["s"]
    ent_id = s.enterprises.create({"uscc": uscc.make("91410105MA9KT7X3X"), "name": "郑州长档案测试有限公司",
                                   "unit_id": s.installation.unit_id}).id
    cadre = s.installation.cadre_id
    first = today() - timedelta(days=300)
    for i in range(45):
        s.visits.create(VisitInput(kind="实地走访", visit_date=first + timedelta(days=i * 5), enterprise_ids=[ent_id],
                                   cadre_ids=[cadre], summary=f"第{i + 1}次走访：了解企业生产经营情况，宣讲惠企政策。" * 3))
    reader, text = _pdf_text(s.printing.enterprise_file(ent_id), tmp_path, "long.pdf")
    assert len(reader.pages) >= 3
    pages = [_flat(p.extract_text() or "") for p in reader.pages]
    with_header = [i for i, t in enumerate(pages) if "走访情况摘要" in t]
    assert len(with_header) >= 2, "the visit list header is repeated on the next page"
    assert all(f"共{len(pages)}页" in t for t in pages)
