"""Which roster a sheet is, where its header is, and which column holds which field.

Offices' files put a title (often merged cells) above the header, name columns in many ways (企业名称 / 单位名称 /
企业全称) and mark required columns with *. `find_layout` looks at the first HEADER_SEARCH_ROWS rows for the one
whose cells name the most known fields, and `recognise` matches a header cell against each field's variants:
exactly after normalising, then without a parenthesised remark ("联系电话（手机）").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.roster.values import plain_text

HEADER_SEARCH_ROWS = 20

KINDS = {"enterprises": "企业名单", "cadres": "干部名单", "assignments": "包联名单"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # the header the export writes
    variants: tuple[str, ...] = ()


ENTERPRISE_FIELDS = (
    Field("name", "企业名称", ("单位名称", "企业全称", "企业(单位)名称", "公司名称", "企业名", "名称", "企业")),
    Field("uscc", "统一社会信用代码", ("信用代码", "社会信用代码", "统一信用代码", "统一代码", "统一社会信用代码(注册号)",
                                "社会统一信用代码", "USCC")),
    Field("unit", "所属区县", ("所属单位", "区县", "属地", "所属区县(市)", "区县(市)", "县(市、区)", "县市区", "所在区县",
                           "所属开发区", "辖区", "所属地区", "开发区、区县(市)", "所属区县(市)、开发区")),
    Field("township", "乡镇街道", ("乡镇(街道)", "街道", "乡镇", "所属乡镇", "所属街道", "所在乡镇(街道)", "乡镇(办事处)")),
    Field("address", "地址", ("企业地址", "详细地址", "注册地址", "经营地址", "生产经营地址", "地点")),
    Field("industry", "行业", ("所属行业", "行业类别", "行业分类", "行业门类")),
    Field("scale", "企业规模", ("规模", "企业规模类型")),
    Field("tags", "企业类别", ("标签", "企业标签", "类别", "企业类型", "企业分类")),
    Field("legal_rep", "法定代表人", ("法人", "法人代表", "法定代表人(负责人)", "负责人")),
    Field("contact_name", "联系人", ("企业联系人", "联系人姓名")),
    Field("contact_phone", "联系电话", ("手机", "电话", "联系方式", "手机号", "手机号码", "联系人电话", "联系人手机")),
    Field("status", "经营状态", ("状态", "企业状态", "经营情况")),
    Field("note", "备注", ("说明",)),
)

CADRE_FIELDS = (
    Field("name", "姓名", ("干部姓名", "名字", "助企干部", "干部")),
    Field("unit", "单位", ("所在单位", "工作单位", "所属单位", "派出单位", "单位名称")),
    Field("work_group", "工作组", ("所属工作组", "组别", "工作组名称")),
    Field("role", "服务角色", ("角色", "身份")),
    Field("rank", "职级", ("级别",)),
    Field("post", "职务", ("职位", "现任职务")),
    Field("phone", "联系电话", ("手机", "电话", "联系方式", "手机号", "手机号码")),
)

ASSIGNMENT_FIELDS = (
    Field("enterprise", "企业名称", ("企业全称", "包联企业", "公司名称", "企业")),
    Field("uscc", "统一社会信用代码", ("信用代码", "社会信用代码", "统一信用代码", "统一代码", "社会统一信用代码")),
    Field("enterprise_unit", "所属区县", ("区县", "属地", "企业所属单位", "所属区县(市)", "县(市、区)", "所在区县")),
    Field("cadre", "包联干部", ("干部姓名", "包联人", "包联责任人", "首席服务官", "包联领导", "包联干部姓名", "服务专员")),
    Field("cadre_unit", "干部单位", ("干部所在单位", "包联单位", "派出单位", "干部工作单位")),
    Field("role", "包联角色", ("角色",)),
    Field("start_date", "开始日期", ("包联开始日期", "包联日期", "起始日期", "包联时间")),
    Field("note", "备注", ("说明",)),
)

FIELDS: dict[str, tuple[Field, ...]] = {"enterprises": ENTERPRISE_FIELDS, "cadres": CADRE_FIELDS,
                                        "assignments": ASSIGNMENT_FIELDS}
# A sheet is of a kind only when these fields were found (any one of each inner tuple).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "enterprises": (("name",),), "cadres": (("name",),), "assignments": (("enterprise", "uscc"), ("cadre",))}
IGNORED_HEADERS = {"序号", "编号", "no", "no.", "序", "行号"}
_REMARK = re.compile(r"[(（][^()（）]*[)）]")
_MARKS = re.compile(r"[*＊★☆※:：\s]")
_TOTAL = re.compile(r"^(合计|总计|小计|共计|累计|总数|total)", re.IGNORECASE)


def header_key(cell) -> str:
    return _MARKS.sub("", unicodedata.normalize("NFKC", plain_text(cell))).casefold()


def _index(fields: tuple[Field, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in fields:
        for name in (f.label, *f.variants):
            out.setdefault(header_key(name), f.key)
    return out


_INDEX = {kind: _index(fields) for kind, fields in FIELDS.items()}


def recognise(kind: str, cell) -> str | None:
    """The field a header cell names in a roster of `kind`, or None."""
    key = header_key(cell)
    if not key:
        return None
    index = _INDEX[kind]
    if key in index:
        return index[key]
    bare = _REMARK.sub("", key)
    return index.get(bare) if bare else None


def auto_mapping(kind: str, header: list) -> dict[int, str]:
    """Column index → field key for the cells of a header row (the first column wins when two name one field)."""
    mapping: dict[int, str] = {}
    for i, cell in enumerate(header):
        key = recognise(kind, cell)
        if key is not None and key not in mapping.values():
            mapping[i] = key
    return mapping


def complete(kind: str, mapping: dict[int, str]) -> bool:
    found = set(mapping.values())
    return all(any(k in found for k in group) for group in REQUIRED[kind])


@dataclass
class Layout:
    kind: str | None  # None: no row looks like a header of any roster (the user maps the columns)
    header_row: int  # Excel row number of the header
    header: list  # its cells
    mapping: dict[int, str] = field(default_factory=dict)


def _kind_score(kind: str, mapping: dict[int, str]) -> int:
    return len(mapping) if complete(kind, mapping) else 0


def find_layout(rows: list[tuple[int, list]], kind: str | None = None) -> Layout:
    """The header row and kind of a sheet: the row (of the first ones) that names the most fields of a roster.

    A 包联 list also has an enterprise-name column, so it wins over the enterprise roster only by naming a cadre
    column too; cadre rosters have no enterprise column.
    """
    kinds = [kind] if kind else ["assignments", "enterprises", "cadres"]
    best: Layout | None = None
    best_score = 0
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        for k in kinds:
            mapping = auto_mapping(k, cells)
            score = _kind_score(k, mapping)
            if k == "cadres" and any(recognise("enterprises", c) in ("name", "uscc") for c in cells
                                     if header_key(c) not in _INDEX["cadres"]):
                score = 0  # an enterprise column: not a cadre roster
            if score > best_score:
                best, best_score = Layout(k, number, list(cells), mapping), score
    if best is not None:
        return best
    # Nothing recognised: offer the first row with several filled cells as the header, for the user to map.
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        if sum(1 for c in cells if plain_text(c)) >= 2:
            return Layout(kind, number, list(cells), {})
    number, cells = rows[0] if rows else (1, [])
    return Layout(kind, number, list(cells), {})


def is_total_row(cells: list) -> bool:
    """合计/总计/小计 rows at the foot of a list (any of the first three filled cells starts so)."""
    seen = 0
    for c in cells:
        if isinstance(c, str) and c.strip():
            if _TOTAL.match(plain_text(c).replace(" ", "")):
                return True
            seen += 1
        elif c is not None:
            seen += 1
        if seen == 3:
            return False
    return False


def column_label(index: int) -> str:
    """Excel's letter for a 0-based column index (0 → A, 27 → AB)."""
    label = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        label = chr(65 + rem) + label
    return label
