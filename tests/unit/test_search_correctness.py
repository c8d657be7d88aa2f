"""Search correctness (issue #8): exactly which enterprises, visits and problems a typed text finds, through the
public services only (EnterpriseService.list_ids / search, VisitService.list_ids, ProblemService.list_ids), so the
search SQL can be rewritten underneath. What is asserted is what a user expects, not what some version did."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import pytest
from pypinyin import Style, lazy_pinyin

from app.enterprises import EnterpriseFilter
from app.problems import ProblemFilter, ProblemInput
from app.services import Services
from app.uscc import make
from app.visits import VisitFilter, VisitInput
from tests.unit.conftest import JINSHUI, ZHONGYUAN, copy_template

# key: (name, unit, first 17 characters of the credit code). Codes are distinct from their 11th character on.
ENTERPRISES = {
    "yutong": ("郑州宇通客车股份有限公司", JINSHUI, "91410105MA3X7K2P1"),
    "tongyu": ("郑州通宇化工有限公司", JINSHUI, "91410105MA4B0C1D2"),  # 宇 and 通, but never 宇通
    "yonggong": ("河南用工服务有限公司", JINSHUI, "91410105MA5E1F2G3"),
    "rongzi": ("郑州融资担保有限公司", JINSHUI, "91410105MA6H2J3K4"),
    "zhongyuan": ("中原（郑州）科技有限公司", ZHONGYUAN, "91410102MA7L3M4N5"),
    "zy_yonggong": ("中原用工信息科技有限公司", ZHONGYUAN, "91410102MA8P4Q5R6"),
    "abc": ("ABC 科技", JINSHUI, "91410105MA9T5U6W7"),
    "ab": ("A&B 国际贸易（郑州）有限公司", JINSHUI, "91410105MAAX6Y7Q8"),
    "fullwidth": ("河南３Ｄ打印科技有限公司", JINSHUI, "91410105MAB0000Q9"),
    "quoted": ("金水区“老字号”餐饮管理有限公司", JINSHUI, "91410105MAC1111R0"),
    "chongqing": ("重庆银行郑州分行", JINSHUI, "91410105MAD2222T1"),  # 重 read chong here: cqyh
    "archived": ("郑州宇通重工有限公司", JINSHUI, "91410105MAE3333U2"),
}
ACTIVE = frozenset(ENTERPRISES) - {"archived"}


def code_of(key: str) -> str:
    return make(ENTERPRISES[key][2])


def full_width(text: str) -> str:
    """ASCII letters and digits as a Chinese IME types them in full-width mode (９１４１…, ＭＡ)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def pinyin_key(name: str) -> str:
    """What a user sorts Chinese names by: each character's pinyin initial, Latin letters and digits as themselves."""
    spelled = "".join(lazy_pinyin(unicodedata.normalize("NFKC", name), style=Style.FIRST_LETTER))
    return "".join(ch for ch in spelled.lower() if ch.isascii() and ch.isalnum())


def starts_with_chinese(name: str) -> bool:
    return "\u4e00" <= name[0] <= "\u9fff"


@dataclass
class Catalog:
    """The module's database: the enterprises above plus a few visits and problems, and their ids by key."""

    svc: Services
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> dict[str, str]:
        return {v: k for k, v in self.ids.items()}

    def enterprises(self, text: str, **filters) -> list[str]:
        """Keys of the enterprises found, in list order."""
        return [self.keys[i] for i in self.svc.enterprises.list_ids(EnterpriseFilter(text=text, **filters))]

    def picker(self, text: str, **kwargs) -> list[str]:
        return [self.keys[r["id"]] for r in self.svc.enterprises.search(text, **kwargs)]

    def visits(self, text: str) -> set[str]:
        return {self.keys[i] for i in self.svc.visits.list_ids(VisitFilter(text=text))}

    def problems(self, text: str) -> set[str]:
        return {self.keys[i] for i in self.svc.problems.list_ids(ProblemFilter(text=text))}


def build_catalog(svc: Services) -> Catalog:
    cat = Catalog(svc)
    for key, (name, unit, first17) in ENTERPRISES.items():
        cat.ids[key] = svc.enterprises.create({"name": name, "unit_id": unit, "uscc": make(first17)}).id
    svc.enterprises.set_archived(cat.ids["archived"], True)
    me = svc.installation.cadre_id
    cat.ids["v_order"] = svc.visits.create(VisitInput(
        kind="实地走访", visit_date="2025-03-03", enterprise_ids=[cat.ids["yutong"]], cadre_ids=[me],
        summary="了解企业新能源客车订单和出口情况。",
        problems=[ProblemInput(enterprise_id=cat.ids["yutong"], category_code="labour", title="熟练焊工招聘困难",
                               description="企业反映熟练焊工招聘困难，缺口约80人。")]))
    cat.ids["p_welder"] = svc.visits.get(cat.ids["v_order"])["problems"][0]["id"]
    cat.ids["v_forum"] = svc.visits.create(VisitInput(
        kind="座谈会", visit_date="2025-04-01", enterprise_ids=[cat.ids["rongzi"], cat.ids["yonggong"]],
        cadre_ids=[me], summary="座谈担保业务进展与明年的招工计划。"))
    cat.ids["p_loan"] = svc.problems.register(ProblemInput(
        enterprise_id=cat.ids["rongzi"], category_code="finance", registered_on="2025-04-02",
        description="企业反映贷款难、利率高，希望对接银行。"))
    cat.ids["p_power"] = svc.problems.register(ProblemInput(
        enterprise_id=cat.ids["yonggong"], category_code="infrastructure", registered_on="2025-04-03",
        title="厂房用电增容", description="新厂房需增容至800千伏安。"))
    return cat


@pytest.fixture(scope="module")
def catalog(template_db, tmp_path_factory):
    svc = Services.open(copy_template(template_db, tmp_path_factory.mktemp("search")))
    yield build_catalog(svc)
    svc.close()


@pytest.fixture
def fresh(svc) -> Catalog:
    """The same records in a database of the test's own (for tests that edit)."""
    return build_catalog(svc)


# --- Enterprises: what a typed text finds -----------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    # 2-character words in the middle of a name
    ("用工", {"yonggong", "zy_yonggong"}),
    ("融资", {"rongzi"}),
    ("宇通", {"yutong"}),  # not 通宇化工, not the archived 宇通重工
    ("担保", {"rongzi"}),
    ("科技", {"zhongyuan", "zy_yonggong", "abc", "fullwidth"}),
    ("打印", {"fullwidth"}),
    ("老字号", {"quoted"}),
    ("银行", {"chongqing"}),
    # single characters
    ("宇", {"yutong", "tongyu"}),
    ("郑", {"yutong", "tongyu", "rongzi", "zhongyuan", "ab", "chongqing"}),
    ("融", {"rongzi"}),
    ("餐", {"quoted"}),
    # longer substrings, up to the whole name
    ("宇通客车", {"yutong"}),
    ("用工服务", {"yonggong"}),
    ("融资担保有限公司", {"rongzi"}),
    ("客车股份有限公司", {"yutong"}),
    ("郑州宇通客车股份有限公司", {"yutong"}),
    ("中原用工信息", {"zy_yonggong"}),
    # substrings across the words of a name
    ("州宇", {"yutong"}),
    ("通客", {"yutong"}),
    ("州宇通客", {"yutong"}),
    ("州融资", {"rongzi"}),
    ("资担", {"rongzi"}),
    ("工服", {"yonggong"}),
    ("原用", {"zy_yonggong"}),
    ("庆银", {"chongqing"}),
    # pinyin initials: the whole name's, a prefix, any case; polyphones read as in the name
    ("zzytkcgfyxgs", {"yutong"}),
    ("zzyt", {"yutong"}),
    ("ZZYT", {"yutong"}),
    ("ZzYt", {"yutong"}),
    ("zz", {"yutong", "tongyu", "rongzi"}),
    ("hnyg", {"yonggong"}),
    ("zyyg", {"zy_yonggong"}),
    ("cqyh", {"chongqing"}),
    ("ｚｚｙｔ", {"yutong"}),  # full-width letters from an IME
    # Latin words of a name, with or without the space, any case
    ("ABC", {"abc"}),
    ("abc", {"abc"}),
    ("ABC科技", {"abc"}),
    ("abc 科技", {"abc"}),
    ("A&B", {"ab"}),
    ("A&B 国际贸易", {"ab"}),
    # names typed with the other width of brackets
    ("中原(郑州)", {"zhongyuan"}),
    ("中原（郑州）科技", {"zhongyuan"}),
    ("A&B 国际贸易(郑州)有限公司", {"ab"}),
    ("金水区老字号餐饮", {"quoted"}),  # the quotes left out
    ("“老字号”", {"quoted"}),
    # mixed Chinese and pinyin initials: both must match
    ("郑州 zz", {"yutong", "tongyu", "rongzi"}),
    ("郑州zzyt", {"yutong"}),
    ("用工 zy", {"zy_yonggong"}),
    # text with spaces: every word must match, spaces around are ignored, the ideographic space too
    ("宇通 客车", {"yutong"}),
    ("  宇通  ", {"yutong"}),
    ("郑州　融资", {"rongzi"}),
    ("\t融资\n", {"rongzi"}),
    # nothing to find
    ("不存在的企业", set()),
    ("宇通 融资", set()),  # both words exist, never in one name
    ("宇通融资", set()),
    ("xyzq", set()),
    ("zzyx", set()),
    ("91410199", set()),
])
def test_enterprise_text_finds_exactly(catalog, text, expected):
    assert set(catalog.enterprises(text)) == expected


@pytest.mark.parametrize("text", [
    pytest.param(lambda: code_of("yutong")[:12], id="prefix"),
    pytest.param(lambda: code_of("yutong")[:12].lower(), id="prefix-lower"),
    pytest.param(lambda: full_width(code_of("yutong")[:12]), id="prefix-full-width"),
    pytest.param(lambda: full_width(code_of("yutong")[:12].lower()), id="prefix-full-width-lower"),
    pytest.param(lambda: code_of("yutong"), id="whole"),
    pytest.param(lambda: code_of("yutong").lower(), id="whole-lower"),
    pytest.param(lambda: full_width(code_of("yutong")), id="whole-full-width"),
    pytest.param(lambda: f" {code_of('yutong')[:12]} ", id="prefix-with-spaces"),
])
def test_enterprise_found_by_credit_code(catalog, text):
    assert catalog.enterprises(text()) == ["yutong"]


def test_credit_code_prefix_shared_by_several(catalog):
    # The region part of the code (9141 0102 = 中原区) finds every enterprise registered there.
    assert set(catalog.enterprises("91410102")) == {"zhongyuan", "zy_yonggong"}
    assert set(catalog.enterprises("９１４１０１０２")) == {"zhongyuan", "zy_yonggong"}
    assert set(catalog.enterprises("91410105ma")) == ACTIVE - {"zhongyuan", "zy_yonggong"}


@pytest.mark.parametrize("text", ["（", "(", "）", "“", "”", "·", "&", "!!", "-", "——", "、", "。", "#", "'", '"', "\\",
                                  "*", "(*)", "[", "]", "^", "$", "+"])
def test_punctuation_only_input_does_not_crash_and_finds_only_names_holding_it(catalog, text):
    found = catalog.enterprises(text)
    needle = unicodedata.normalize("NFKC", text).strip()
    holders = {k for k in ACTIVE if needle in unicodedata.normalize("NFKC", ENTERPRISES[k][0])}
    assert set(found) <= holders
    assert catalog.picker(text) == found[:20]


def test_punctuation_holding_names_are_found_by_it(catalog):
    assert catalog.enterprises("“") == ["quoted"]
    assert catalog.enterprises("&") == ["ab"]


# % and _ once went into a LIKE pattern unescaped and matched every name.
@pytest.mark.parametrize("text", ["%", "_", "%%", "__"])
def test_like_wildcards_typed_by_the_user_are_plain_characters(catalog, text):
    assert catalog.enterprises(text) == []


def test_blank_text_is_no_filter(catalog):
    everything = catalog.enterprises("")
    assert set(everything) == ACTIVE
    assert catalog.enterprises("   ") == everything
    assert catalog.enterprises("　") == everything  # ideographic space


# A name with full-width letters/digits (河南３Ｄ打印) was once indexed without them.
@pytest.mark.parametrize("text", ["3D", "３Ｄ", "3d", "3D打印", "河南３Ｄ打印"])
def test_full_width_letters_in_a_name_are_found(catalog, text):
    assert catalog.enterprises(text) == ["fullwidth"]


# Brackets once split the name into separate runs, so 中原郑州 missed 中原（郑州）科技有限公司.
def test_a_name_is_found_when_typed_without_its_brackets(catalog):
    assert catalog.enterprises("中原郑州科技") == ["zhongyuan"]


# --- Archived, unit filter -------------------------------------------------------------------------------------
def test_archived_enterprises_only_when_asked(catalog):
    assert catalog.enterprises("宇通") == ["yutong"]
    assert catalog.enterprises("重工") == []
    assert catalog.enterprises("zzytzg") == []
    assert catalog.enterprises(code_of("archived")) == []
    assert catalog.picker("宇通") == ["yutong"]
    assert set(catalog.enterprises("宇通", include_archived=True)) == {"yutong", "archived"}
    assert catalog.enterprises("重工", include_archived=True) == ["archived"]
    assert catalog.enterprises("zzytzg", include_archived=True) == ["archived"]
    assert catalog.enterprises(code_of("archived").lower(), include_archived=True) == ["archived"]


def test_unarchived_enterprise_is_found_again(fresh):
    fresh.svc.enterprises.set_archived(fresh.ids["archived"], False)
    assert set(fresh.enterprises("宇通")) == {"yutong", "archived"}
    fresh.svc.enterprises.set_archived(fresh.ids["yutong"], True)
    assert fresh.enterprises("宇通") == ["archived"]
    assert fresh.picker("zzyt") == ["archived"]


def test_unit_filter_combined_with_text(catalog):
    assert catalog.enterprises("用工", unit_id=ZHONGYUAN) == ["zy_yonggong"]
    assert catalog.enterprises("用工", unit_id=JINSHUI) == ["yonggong"]
    assert catalog.enterprises("郑州", unit_id=ZHONGYUAN) == ["zhongyuan"]
    assert catalog.enterprises("宇通", unit_id=ZHONGYUAN) == []
    assert set(catalog.enterprises("zy", unit_id=ZHONGYUAN)) == {"zhongyuan", "zy_yonggong"}
    assert catalog.enterprises("zy", unit_id=JINSHUI) == []
    assert set(catalog.enterprises("91410102", unit_id=ZHONGYUAN)) == {"zhongyuan", "zy_yonggong"}
    assert catalog.enterprises("91410102", unit_id=JINSHUI) == []
    assert catalog.enterprises("科技", unit_id="U410122") == []  # 中牟县: nobody there
    assert catalog.picker("用工", unit_id=ZHONGYUAN) == ["zy_yonggong"]
    assert catalog.picker("科技", unit_id=JINSHUI) == [k for k in catalog.enterprises("科技") if k in {"abc", "fullwidth"}]


# --- Order ---------------------------------------------------------------------------------------------------
def test_list_is_ordered_by_pinyin_of_chinese_names(catalog):
    order = [k for k in catalog.enterprises("") if starts_with_chinese(ENTERPRISES[k][0])]
    assert order == sorted(order, key=lambda k: (pinyin_key(ENTERPRISES[k][0]), ENTERPRISES[k][0]))
    # e.g. 重庆银行 (chong) sorts with the c's, before 河南 (h) and 郑州 (z)
    assert order.index("chongqing") < order.index("yonggong") < order.index("rongzi")


# The list once sorted by the initials of the Chinese characters only: ABC 科技 under K, A&B 国际贸易 under G.
def test_names_beginning_with_latin_letters_sort_by_those_letters(catalog):
    order = catalog.enterprises("")
    assert order == sorted(order, key=lambda k: (pinyin_key(ENTERPRISES[k][0]), ENTERPRISES[k][0]))
    assert order[:2] == ["abc", "ab"]  # abckj, abgjmy…


@pytest.mark.parametrize("text", ["郑", "科技", "zz", "91410105", "郑州 zz", "有限公司"])
def test_search_results_keep_the_list_order(catalog, text):
    everything = catalog.enterprises("")
    found = catalog.enterprises(text)
    assert found == [k for k in everything if k in set(found)]


def test_sorting_the_found_rows_by_another_column(catalog):
    ids = catalog.svc.enterprises.list_ids(EnterpriseFilter(text="科技"), "uscc", False)
    codes = [catalog.svc.enterprises.get(i)["uscc"] for i in ids]
    assert codes == sorted(codes) and len(codes) == 4
    assert catalog.svc.enterprises.list_ids(EnterpriseFilter(text="科技"), "uscc", True) == ids[::-1]


# --- The picker (EnterpriseService.search) -------------------------------------------------------------------
def test_picker_search_finds_what_the_list_finds_in_list_order(catalog):
    for text in ("宇通", "zzyt", "用工", code_of("rongzi")[:12].lower(), "郑", "科技 zy", "不存在"):
        assert catalog.picker(text) == catalog.enterprises(text), text
    rows = catalog.svc.enterprises.search("宇通")
    assert [(r["name"], r["uscc"]) for r in rows] == [(ENTERPRISES["yutong"][0], code_of("yutong"))]


def test_picker_search_limit_takes_the_first_rows_of_the_list(catalog):
    assert catalog.picker("郑", limit=2) == catalog.enterprises("郑")[:2]
    assert catalog.picker("郑", limit=1) == catalog.enterprises("郑")[:1]
    assert len(catalog.picker("", limit=3)) == 3


# --- Edits and deletes ---------------------------------------------------------------------------------------
def test_edited_enterprise_found_by_its_new_name_only(fresh):
    svc, ent = fresh.svc, fresh.ids["yutong"]
    svc.enterprises.update(ent, {"name": "河南宏达新能源汽车有限公司"})
    assert fresh.enterprises("宏达") == ["yutong"]
    assert fresh.enterprises("新能源汽车") == ["yutong"]
    assert fresh.enterprises("hnhd") == ["yutong"]  # the new name's pinyin initials
    assert fresh.picker("宏达") == ["yutong"]
    assert fresh.enterprises("宇通") == []
    assert fresh.enterprises("客车") == []
    assert fresh.enterprises("zzyt") == []
    assert fresh.picker("宇通") == []
    assert fresh.enterprises(code_of("yutong")[:12]) == ["yutong"]  # the code did not change
    # and it moved to its new place in the list (h: with 河南…, no longer among the 郑州… z's)
    order = [k for k in fresh.enterprises("") if starts_with_chinese(svc.enterprises.get(fresh.ids[k])["name"])]
    assert order == sorted(order, key=lambda k: pinyin_key(svc.enterprises.get(fresh.ids[k])["name"]))


def test_edited_credit_code_found_by_the_new_code_only(fresh):
    svc, ent = fresh.svc, fresh.ids["rongzi"]
    new_code = make("91410105MAF4444W3")
    svc.enterprises.update(ent, {"uscc": new_code.lower()})
    assert fresh.enterprises(new_code[:12]) == ["rongzi"]
    assert fresh.enterprises(full_width(new_code.lower())) == ["rongzi"]
    assert fresh.enterprises(code_of("rongzi")[:12]) == []
    assert fresh.enterprises("融资") == ["rongzi"]


def test_deleted_enterprise_is_not_found(fresh):
    svc, ent = fresh.svc, fresh.ids["yutong"]
    # Enterprises are deleted by another installation (a sync package applies the tombstone through this writer).
    with svc.ctx.writing() as w:
        assert w.delete("enterprises", ent, action="删除企业")
    for text in ("宇通", "宇通客车", "zzyt", code_of("yutong"), code_of("yutong")[:12].lower(), "州宇"):
        assert fresh.enterprises(text) == [], text
        assert "yutong" not in fresh.enterprises(text, include_archived=True), text
        assert fresh.picker(text) == [], text
    assert "yutong" not in fresh.enterprises("")
    assert "yutong" not in fresh.enterprises("郑")
    assert fresh.problems("焊工") == set()  # its problems go with it
    assert set(fresh.enterprises("郑")) == {"tongyu", "rongzi", "zhongyuan", "ab", "chongqing"}


def test_new_enterprise_is_found_at_once(fresh):
    ent = fresh.svc.enterprises.create({"name": "郑州宇华实验学校后勤服务有限公司", "unit_id": JINSHUI,
              "uscc": make("91410105MAG5555X4")}).id
    fresh.ids["new"] = ent
    assert fresh.enterprises("宇华") == ["new"]
    assert set(fresh.enterprises("宇")) == {"yutong", "tongyu", "new"}
    assert fresh.enterprises("zzyh") == ["new"]
    assert set(fresh.enterprises("后勤服务")) == {"new"}


# --- Visits and problems -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("焊工", {"p_welder"}),  # 2-character words of a title
    ("招聘", {"p_welder"}),
    ("用电", {"p_power"}),
    ("增容", {"p_power"}),
    ("贷款", {"p_loan"}),  # … of a description
    ("银行", {"p_loan"}),
    ("宇通", {"p_welder"}),  # the enterprise's name
    ("宇通客车", {"p_welder"}),
    ("融资担保", {"p_loan"}),
    ("河南用工", {"p_power"}),
    ("焊工 宇通", {"p_welder"}),
    ("焊工 银行", set()),
    ("不存在", set()),
])
def test_problem_text_filter(catalog, text, expected):
    assert catalog.problems(text) == expected


def test_problem_found_by_record_number(catalog):
    no = catalog.svc.problems.get(catalog.ids["p_loan"])["record_no"]
    assert catalog.problems(no) == {"p_loan"}
    assert catalog.problems(no.lower()) == {"p_loan"}
    assert catalog.problems(f" {no} ") == {"p_loan"}


@pytest.mark.parametrize(("text", "expected"), [
    ("订单", {"v_order"}),  # 2-character words of the summary
    ("出口", {"v_order"}),
    ("新能源", {"v_order"}),
    ("担保", {"v_forum"}),
    ("招工", {"v_forum"}),
    ("宇通", {"v_order"}),  # an enterprise's name
    ("用工", {"v_forum"}),  # the second of two enterprises
    ("融资担保", {"v_forum"}),
    ("订单 出口", {"v_order"}),
    ("订单 担保", set()),
    ("不存在", set()),
])
def test_visit_text_filter(catalog, text, expected):
    assert catalog.visits(text) == expected


def test_visit_found_by_record_number(catalog):
    first = catalog.svc.visits.get(catalog.ids["v_order"])["record_no"]
    second = catalog.svc.visits.get(catalog.ids["v_forum"])["record_no"]
    assert catalog.visits(first) == {"v_order"}
    assert catalog.visits(second.lower()) == {"v_forum"}
    assert catalog.visits(full_width(second)) == {"v_forum"}
    assert catalog.visits(second[-4:]) == {"v_forum"}  # the serial at the end (…-0002)


@pytest.mark.parametrize("kind", ["visits", "problems"])
@pytest.mark.parametrize("text", ["%", "_"])
def test_like_wildcards_in_visit_and_problem_filters(catalog, kind, text):
    assert getattr(catalog, kind)(text) == set()


# Renaming an enterprise once reindexed only the enterprise: its visits and problems kept the old name.
def test_visits_and_problems_follow_a_renamed_enterprise(fresh):
    fresh.svc.enterprises.update(fresh.ids["yutong"], {"name": "河南宏达新能源汽车有限公司"})
    assert fresh.problems("宏达") == {"p_welder"}
    assert fresh.visits("宏达") == {"v_order"}
    assert fresh.problems("宇通") == set()
    assert fresh.visits("宇通") == set()


def test_edited_visit_summary_is_found_by_the_new_text(fresh):
    fresh.svc.visits.update_text(fresh.ids["v_order"], summary="调研企业氢燃料电池项目。")
    assert fresh.visits("氢燃料") == {"v_order"}
    assert fresh.visits("订单") == set()
    assert fresh.visits("宇通") == {"v_order"}  # still found by its enterprise
