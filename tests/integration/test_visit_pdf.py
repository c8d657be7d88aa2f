"""走访记录表 (DESIGN §6): page flow, per-record page numbers, literal user text, font coverage, audit,
cancellation — and the Chinese line breaking (禁则) every form relies on, as properties.

The PDF tests print visits saved through VisitService into a small demo database (one per module)
and read the pages back with pypdf.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402

from app import cli  # noqa: E402
from app.clock import today  # noqa: E402
from app.pdf.fonts import FONT, missing_glyphs, register_fonts  # noqa: E402
from app.pdf.textflow import break_lines  # noqa: E402
from app.printing import PrintCancelled  # noqa: E402
from app.services import Services  # noqa: E402
from app.visits import Attendee, VisitInput  # noqa: E402

# The 禁则 under test (DESIGN §6): never at the start of a line / never at the end of one.
NO_START = "，。、；：？！）》”"
NO_END = "（《“"
SENTENCE = "企业反映订单充足，生产经营稳定；工作组宣讲了《郑州市促进工业稳增长若干措施》（2026年版）等政策。"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    path = tmp_path_factory.mktemp("visitpdf") / "demo.db"
    assert cli.main(["demo", "--db", str(path), "--size", "small", "--seed", "3"]) == 0
    s = Services.open(path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def people(services) -> tuple[str, str]:
    ent = services.ctx.store.one("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY name LIMIT 1")[0]
    cadre = services.ctx.store.one("SELECT id FROM cadres WHERE deleted = 0 ORDER BY name LIMIT 1")[0]
    return ent, cadre


def new_visit(services, people, summary: str, **kw) -> str:
    ent, cadre = people
    return services.visits.create(
        VisitInput(
            kind=kw.pop("kind", "实地走访"),
            visit_date=today() - timedelta(days=2),
            enterprise_ids=[ent],
            cadre_ids=[cadre],
            summary=summary,
            **kw,
        )
    )


def pages_of(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def long_and_short(services, people):
    long_summary = (SENTENCE * (3000 // len(SENTENCE) + 1))[:3000]
    assert len(long_summary) == 3000
    # Policies and follow-up fill their boxes (no min_lines padding); test_any_summary_length_prints
    # covers padded boxes at a page break.
    policies, follow_up = SENTENCE * 2, SENTENCE * 2
    long_id = new_visit(services, people, long_summary, location="企业会议室", policies=policies, follow_up=follow_up)
    short_id = new_visit(services, people, SENTENCE, location="企业会议室", policies=policies, follow_up=follow_up)
    return long_id, short_id


# -- page flow ---------------------------------------------------------------------------------------


def test_long_summary_continues_on_more_pages(services, long_and_short):
    long_id, short_id = long_and_short
    long_pages = pages_of(services.printing.visit_records([long_id]))
    short_pages = pages_of(services.printing.visit_records([short_id]))
    assert len(long_pages) > len(short_pages) >= 1
    number = services.visits.get(long_id)["record_no"]
    assert "走访记录表（续）" not in long_pages[0]
    for i, text in enumerate(long_pages[1:], start=2):
        assert "走访记录表（续）" in text, f"page {i}"
        assert number in text, f"page {i}"
    # the summary runs on from page to page: its beginning and its end are both printed
    summary = services.visits.get(long_id)["summary"]
    assert summary[:400] in squash(long_pages[0])
    assert summary[-400:] in squash("".join(long_pages[1:]))


def test_footers_number_pages_of_the_record(services, long_and_short):
    long_id, _ = long_and_short
    pages = pages_of(services.printing.visit_records([long_id]))
    n = len(pages)
    for i, text in enumerate(pages, start=1):
        assert f"第 {i} 页  共 {n} 页" in text


def test_batch_numbers_each_record_separately(services, people, long_and_short):
    long_id, short_id = long_and_short
    third = new_visit(services, people, "第三条走访记录。")
    ids = [short_id, long_id, third]
    pages = pages_of(services.printing.visit_records(ids))
    numbers = [services.visits.get(v)["record_no"] for v in ids]
    long_n = len(pages_of(services.printing.visit_records([long_id])))
    assert len(pages) == 2 + long_n
    firsts = [i for i, text in enumerate(pages) if "第 1 页" in text]
    assert len(firsts) == 3  # each record has its own first page
    assert firsts == [0, 1, 1 + long_n]
    assert "第 1 页  共 1 页" in pages[0] and numbers[0] in pages[0]
    for k in range(long_n):
        assert f"第 {k + 1} 页  共 {long_n} 页" in pages[1 + k]
        assert numbers[1] in pages[1 + k] and numbers[0] not in pages[1 + k]
    assert "第 1 页  共 1 页" in pages[-1] and numbers[2] in pages[-1]
    assert "走访记录表（续）" not in pages[-1]  # a new record starts with the full title again


def test_any_summary_length_prints(services, long_and_short):
    """Wherever the page break falls (inside the padded 走访情况 box or the empty 后续跟进 box), the form builds.

    Regression: a padded TextBlock (all lines fit, min_lines padding does not) returned [self] from
    split(), and reportlab's in-row Table split then failed with IndexError."""
    from app.pdf.document import FormDocument
    from app.pdf.visit_form import visit_story

    visit = services.visits.get(long_and_short[1])
    for lines in range(1, 61):
        doc = FormDocument()
        story: list = []
        visit_story(story, {**visit, "summary": "\n".join(["走访情况"] * lines), "follow_up": ""}, doc.body_width)
        assert doc.build(story).startswith(b"%PDF"), lines


# -- user text is data ---------------------------------------------------------------------------------


def test_markup_prints_literally(services, people):
    vid = new_visit(
        services,
        people,
        "企业说明：<b>&amp; 不是标记；A&B<C> 原样打印。",
        policies="<i>政策</i> & <font color=red>",
        follow_up="下一步 <br/> 跟进 &lt;",
    )
    text = "\n".join(pages_of(services.printing.visit_records([vid])))
    assert "<b>&amp; 不是标记；A&B<C> 原样打印。" in text
    assert "<i>政策</i> & <font color=red>" in text
    assert "下一步 <br/> 跟进 &lt;" in text


def test_empty_optional_fields_never_print_none(services, people):
    ent, _cadre = people
    services.enterprises.update(ent, {"address": "", "contact_name": "", "contact_phone": ""})
    vid = new_visit(services, people, "简短的走访情况。", kind="电话沟通")
    visit = services.visits.get(vid)
    assert not visit["policies"] and not visit["follow_up"] and not visit["location"] and not visit["start_time"]
    text = "\n".join(pages_of(services.printing.visit_records([vid])))
    assert "None" not in text and "null" not in text
    assert "宣讲的惠企政策" in text and "后续跟进" in text
    assert visit["record_no"] in text


def test_every_printed_character_is_in_the_font(services, people, long_and_short):
    vid = new_visit(
        services,
        people,
        "Latin ABC xyz 0123456789；全角：，。、？！“引号”‘单引’（括号）《书名》【方括】……——·％℃№ ①②③ ￥ "
        "㎡ ×÷±≤≥→•◆■□√ 〇 ｍ² 囍 镕 堃 喆 赟 昇 玥 珺 婧",
        attendees=[Attendee(name="欧阳娜娜", title="财务总监", phone="13800000000")],
    )
    text = "".join(pages_of(services.printing.visit_records([*long_and_short, vid])))
    assert "欧阳娜娜" in text and "㎡" in text
    assert missing_glyphs(text) == set()


# -- audit and cancellation ---------------------------------------------------------------------------


def audit_count(services, vid: str) -> int:
    return services.ctx.store.scalar(
        "SELECT count(*) FROM audit_log WHERE action = '打印走访记录表' AND table_name = 'visits' AND row_id = ?",
        (vid,),
    )


def test_print_is_audited_per_visit(services, long_and_short):
    ids = list(long_and_short)
    before = {v: audit_count(services, v) for v in ids}
    services.printing.visit_records(ids)
    assert {v: audit_count(services, v) for v in ids} == {v: before[v] + 1 for v in ids}


def test_progress_false_cancels(services, long_and_short):
    ids = list(long_and_short)
    before = {v: audit_count(services, v) for v in ids}
    calls: list[tuple[int, int]] = []

    def progress(done, total):
        calls.append((done, total))
        return False

    with pytest.raises(PrintCancelled):
        services.printing.visit_records(ids, progress)
    assert calls == [(1, 2)]
    assert {v: audit_count(services, v) for v in ids} == before  # a cancelled print is not logged

    seen: list[tuple[int, int]] = []
    services.printing.visit_records(ids, lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]


# -- Chinese line breaking (禁则) as properties -----------------------------------------------------------

SIZE = 10.5
CJK = "企业生产经营订单用工融资政策走访干部问题诉求郑州金水区中原科技城园区项目"
ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
register_fonts()


def width(text: str) -> float:
    return stringWidth(text, FONT, SIZE)


def align(text: str, lines: list[str]) -> list[tuple[int, int]] | None:
    """Spans of `lines` in `text` such that the text is exactly line, whitespace, line, whitespace…
    (whitespace only between lines and at the ends), or None if there is no such reading."""
    n = len(text)
    # reach[i] = spans for lines[:i]; explore every possible whitespace gap (the texts are short).
    frontier: dict[int, list[tuple[int, int]]] = {0: []}
    for line in lines:
        nxt: dict[int, list[tuple[int, int]]] = {}
        for pos, spans in frontier.items():
            gap = pos
            while True:
                if text.startswith(line, gap) and gap + len(line) not in nxt:
                    nxt[gap + len(line)] = [*spans, (gap, gap + len(line))]
                if gap < n and text[gap].isspace():
                    gap += 1
                else:
                    break
        if not nxt:
            return None
        frontier = nxt
    for pos, spans in frontier.items():
        if text[pos:].strip() == "":
            return spans
    return None


@st.composite
def cjk_text(draw) -> str:
    """Well-formed mixed text: units of [opening marks] core [closing marks], cores being CJK
    characters or Latin words/numbers, separated by nothing or a space (never inside a unit)."""
    parts: list[str] = []
    prev_alnum = False
    for _ in range(draw(st.integers(1, 60))):
        opening = draw(st.text(NO_END, max_size=2)) if draw(st.integers(0, 5)) == 0 else ""
        if draw(st.booleans()):
            core = draw(st.text(CJK, min_size=1, max_size=4))
        else:
            core = draw(st.text(ALPHA, min_size=1, max_size=14))
        closing = draw(st.text(NO_START, max_size=2)) if draw(st.integers(0, 3)) == 0 else ""
        space = draw(st.sampled_from(["", "", " ", "  "]))
        if parts and core[0].isascii() and prev_alnum and not opening:
            space = space or " "  # two Latin words side by side are one word
        parts.append(space + opening + core + closing if parts else opening + core + closing)
        prev_alnum = core[-1].isascii() and not closing
    return "".join(parts)


def units_fit(text: str, line_width: float) -> bool:
    """Every unbreakable cluster (opening marks + first character/word, last character/word +
    closing marks) fits on a line, so the rules can be met without overflowing."""
    token = re.compile(rf"[{re.escape(NO_END)}]*(?:[A-Za-z0-9]+|\S)[{re.escape(NO_START)}]*")
    for m in token.finditer(text):
        piece = m.group()
        core = piece.strip(NO_END + NO_START)
        head = piece[: len(piece) - len(piece.lstrip(NO_END))]
        tail = piece[len(piece.rstrip(NO_START)) :]
        if width(core) > line_width:  # a long word is cut into characters: only its ends cling to marks
            if width(head + core[0]) > line_width or width(core[-1] + tail) > line_width:
                return False
        elif width(piece) > line_width:
            return False
    return True


WIDTHS = st.floats(40, 400, allow_nan=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=cjk_text(), line_width=WIDTHS)
def test_break_lines_honours_kinsoku(text, line_width):
    assume(units_fit(text, line_width))
    lines = break_lines(text, line_width, SIZE)
    for i, line in enumerate(lines):
        if i > 0:
            assert line[:1] not in set(NO_START), (i, lines)
        if i < len(lines) - 1:
            assert line[-1:] not in set(NO_END), (i, lines)


@settings(max_examples=400, deadline=None)
@given(
    text=st.one_of(
        cjk_text(),
        st.lists(st.sampled_from([*CJK[:6], *NO_START, *NO_END, *"ab1 \t\n\u3000", "word", "12.5%"]), max_size=60).map(
            "".join
        ),
    ),
    line_width=WIDTHS,
)
def test_break_lines_loses_nothing_but_whitespace_at_breaks(text, line_width):
    lines = break_lines(text, line_width, SIZE)
    assert lines, "at least one (possibly empty) line"
    spans = align(text, lines)
    assert spans is not None, (text, lines)
    # Whatever was dropped is whitespace, and only at the breaks (align checks both); and lines
    # carry no trailing whitespace of their own.
    assert all(line == line.rstrip() for line in lines)
    assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)


@settings(max_examples=300, deadline=None)
@given(text=cjk_text(), line_width=WIDTHS)
def test_latin_word_shorter_than_the_line_is_not_split(text, line_width):
    lines = break_lines(text, line_width, SIZE)
    spans = align(text, lines)
    assert spans is not None
    for m in re.finditer(r"[A-Za-z0-9]+", text):
        if width(m.group()) < line_width:
            a, b = m.span()
            assert any(s <= a and b <= e for s, e in spans), (m.group(), lines)


def test_break_lines_examples():
    assert break_lines("", 100, SIZE) == [""]
    assert break_lines(None, 100, SIZE) == [""]
    assert break_lines("甲\n\n乙", 100, SIZE) == ["甲", "", "乙"]
    # a comma that does not fit takes the character before it to the next line
    w = width("一二三四")
    assert break_lines("一二三四，五", w + 1, SIZE) == ["一二三", "四，五"]
    # an opening mark that would end a line moves down with what it opens
    assert break_lines("一二三《四》", width("一二三《") + 1, SIZE) == ["一二三", "《四》"]
    # a word is moved whole, not cut
    assert break_lines("一二 reportlab", width("一二 report") + 1, SIZE) == ["一二", "reportlab"]


def test_visit_form_module_path():
    # the form is where the printing service expects it (guards a rename)
    import app.pdf.visit_form as vf

    assert Path(vf.__file__).name == "visit_form.py" and vf.TITLE == "走访记录表"
