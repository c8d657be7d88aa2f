"""Roster import (issue #7): messy real-world files give the exact preview per row; commit writes the accepted rows
in one transaction; error reports re-import; the export round trip changes nothing; unsafe files are refused."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from conftest import JINSHUI, ZHONGYUAN, table_counts
from openpyxl import Workbook, load_workbook

from app import uscc
from app.roster import reader
from app.roster.columns import Layout
from app.roster.reader import SheetReadError
from app.roster.service import RosterError


def make_uscc(n: int, region: str = "410105") -> str:
    """A credit code that passes every check, the embedded organisation code too (no warnings)."""
    body = f"MA{n:06d}"
    return uscc.make(f"91{region}{body}{uscc.org_code_check(body)}")


CODE_A = make_uscc(101)
CODE_B = make_uscc(102)
CODE_OLD = make_uscc(103)  # already registered, its phone changes
CODE_SAME = make_uscc(104)  # already registered, the file says the same
CODE_E = make_uscc(105)
BAD_CHECK = CODE_A[:17] + ("0" if CODE_A[17] != "0" else "1")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def messy_rows() -> list[list]:
    """A district office's enterprise list as it arrives: title and a 填报 line above the header (row 3), header
    variants, 序号, a blank row, a 合计 row and a footnote; phones and codes in every shape."""
    return [
        ["金水区“万人助万企”包联企业名单", None, None, None, None, None, None, None],
        ["填报单位：金水区工信局", None, None, None, None, None, "2026年11月", None],
        ["序号", "企业全称", "信用代码", "属地", "联系人", "手机", "企业类别", "备注"],
        [1, "郑州甲科技有限公司", fullwidth(CODE_A), "金水区", "张三", 13800138000, "专精特新、高新技术企业", None],
        [2, "  郑州乙机械 有限公司 ", " " + CODE_B.lower() + " ", "郑州市金水区", "李四", 37163886666, None, None],
        [None, None, None, None, None, None, None, None],
        [3, "郑州丙商贸有限公司", BAD_CHECK, "金水区", None, None, None, None],
        [4, "郑州丁食品有限公司", None, "金水", "王五", "12345", None, None],
        [5, "郑州甲科技有限公司", CODE_A, "金水区", None, None, None, None],
        [6, None, CODE_E, "金水区", None, None, None, None],
        [7, "郑州戊物流有限公司", CODE_E, "火星区", None, None, None, None],
        [8, "郑州旧企业有限公司", CODE_OLD, "金水区", None, "13900000001", None, None],
        [9, "郑州老企业有限公司", CODE_SAME, "金水区", "赵六", "13900000002", None, "=1+1"],
        ["合计", "共 9 家", None, None, None, None, None, None],
        ["注：以上数据截至 2026 年 10 月底。", None, None, None, None, None, None, None],
    ]


EXPECTED = {  # Excel row -> (action, message fragments in order)
    4: ("new", ["第 9 行与本行重复，只导入本行"]),
    5: ("new", ["联系电话在 Excel 中被存成了数字，已补回开头的 0（037163886666）"]),
    7: ("error", ["统一社会信用代码校验位错误"]),
    8: ("new", ["未填写统一社会信用代码", "联系电话”格式不正确：“12345”", "该项未导入"]),
    9: ("error", ["与第 4 行的统一社会信用代码重复，本行未导入"]),
    10: ("error", ["未填写企业名称"]),
    11: ("error", ["所属区县“火星区”无法识别"]),
    12: ("update", ["将更新：联系电话"]),
    13: ("unchanged", []),
}


def write_xlsx(path, rows, *, merge_title: bool = True):
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as a user typed it with a leading '
    if merge_title:
        ws.merge_cells("A1:H1")
    wb.save(path)
    return path


@pytest.fixture
def known(world):
    """Two enterprises already registered: one whose phone the file changes, one the file repeats as is."""
    svc = world.svc
    old = svc.enterprises.create({"uscc": CODE_OLD, "name": "郑州旧企业有限公司", "unit_id": JINSHUI,
                                  "contact_phone": "13900000000"}).id
    same = svc.enterprises.create({"uscc": CODE_SAME, "name": "郑州老企业有限公司", "unit_id": JINSHUI,
                                   "contact_name": "赵六", "contact_phone": "13900000002", "note": "=1+1"}).id
    return {"old": old, "same": same}


def assert_expected(preview):
    got = {p.row: p for p in preview.rows}
    assert sorted(got) == sorted(EXPECTED)
    for row, (action, fragments) in EXPECTED.items():
        plan = got[row]
        assert plan.action == action, (row, plan.messages)
        text = "|".join(plan.messages)
        position = 0
        for fragment in fragments:
            found = text.find(fragment, position)
            assert found >= 0, (row, fragment, plan.messages)
            position = found
        if not fragments:
            assert plan.messages == [], (row, plan.messages)


def test_messy_xlsx_preview_is_exact(svc, known, tmp_path):
    preview = svc.roster.preview(write_xlsx(tmp_path / "名单.xlsx", messy_rows()))
    assert preview.kind == "enterprises"
    assert preview.layout.header_row == 3
    assert dict(preview.mapped_columns()) == {"B 企业全称": "企业名称", "C 信用代码": "统一社会信用代码",
                                               "D 属地": "所属区县", "E 联系人": "联系人", "F 手机": "联系电话",
                                               "G 企业类别": "企业类别", "H 备注": "备注"}
    assert_expected(preview)
    assert preview.skipped == [(14, "合计行"), (15, "说明文字")]
    assert preview.counts() == {"new": 3, "error": 4, "update": 1, "unchanged": 1}
    assert [p.label for p in preview.rows[:2]] == ["郑州甲科技有限公司", "郑州乙机械有限公司"]


def test_gb18030_csv_gives_the_same_preview(svc, known, tmp_path):
    rows = messy_rows()
    xlsx = {p.row: p for p in svc.roster.preview(write_xlsx(tmp_path / "名单.xlsx", rows)).rows}
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else v for v in r] for r in rows[2:]])  # no title: header on row 1
    path = tmp_path / "名单.csv"
    path.write_bytes(buf.getvalue().encode("gb18030"))
    preview = svc.roster.preview(path)
    assert preview.layout.header_row == 1 and preview.skipped == [(12, "合计行"), (13, "说明文字")]
    from_csv = {p.row + 2: p for p in preview.rows}  # the same records, two rows higher
    assert sorted(from_csv) == sorted(xlsx)
    for row, plan in from_csv.items():
        if row == 5:  # in a CSV the phone is text: no leading 0 was lost, none is added
            assert (plan.action, plan.messages) == ("new", [])
        else:
            shifted = [re.sub(r"第 (\d+) 行", lambda m: f"第 {int(m[1]) - 2} 行", m) for m in xlsx[row].messages]
            assert (plan.action, plan.label, plan.messages) == (xlsx[row].action, xlsx[row].label, shifted)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_csv_with_and_without_bom(svc, tmp_path, encoding):
    path = tmp_path / "a.csv"
    path.write_bytes(f"企业名称,统一社会信用代码,所属区县\r\n郑州甲科技有限公司,{CODE_A},金水区\r\n".encode(encoding))
    preview = svc.roster.preview(path)
    assert [(p.row, p.action, p.label) for p in preview.rows] == [(2, "new", "郑州甲科技有限公司")]


def test_commit_writes_accepted_rows_in_one_go(svc, known, tmp_path):
    preview = svc.roster.preview(write_xlsx(tmp_path / "名单.xlsx", messy_rows()))
    result = svc.roster.commit(preview)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (3, 1, 1, 4)
    a = svc.enterprises.by_uscc(CODE_A)
    assert a["name"] == "郑州甲科技有限公司" and a["tag_list"] == ["专精特新", "高新技术企业"]
    assert a["contact_phone"] == "13800138000" and a["unit_id"] == JINSHUI and a["status"] == "在营"
    b = svc.enterprises.by_uscc(CODE_B)
    assert b["name"] == "郑州乙机械有限公司" and b["contact_phone"] == "037163886666"
    d = svc.enterprises.get(svc.enterprises.list_ids(_filter("郑州丁食品"))[0])
    assert d["uscc"] is None and d["contact_phone"] is None and d["contact_name"] == "王五"
    assert svc.enterprises.get(known["old"])["contact_phone"] == "13900000001"
    assert svc.enterprises.get(known["same"])["note"] == "=1+1"
    assert svc.enterprises.by_uscc(CODE_E) is None  # both rows with CODE_E had errors
    # Searchable at once, and the change is in the outbox for the hub.
    assert svc.enterprises.list_ids(_filter("郑州乙机械"))
    assert svc.store.scalar("SELECT count(*) FROM outbox WHERE table_name = 'enterprises'") >= 6
    # Importing the same file again: the written rows are now unchanged.
    again = svc.roster.preview(preview.path)
    assert {p.row: p.action for p in again.rows if p.action != "error"} == {4: "unchanged", 5: "unchanged",
                                                                           8: "unchanged", 12: "unchanged",
                                                                           13: "unchanged"}


def _filter(text):
    from app.enterprises import EnterpriseFilter

    return EnterpriseFilter(text=text)


def test_blank_cells_keep_stored_values(svc, world, tmp_path):
    ent = svc.enterprises.create({"uscc": CODE_A, "name": "郑州甲科技有限公司", "unit_id": JINSHUI,
                                  "contact_name": "张三", "contact_phone": "13800000000", "address": "金水路 1 号"}).id
    path = write_xlsx(tmp_path / "a.xlsx", [["企业名称", "统一社会信用代码", "联系电话", "地址"],
                                           ["郑州甲科技有限公司", CODE_A, None, "金水路 2 号"]], merge_title=False)
    preview = svc.roster.preview(path)
    assert [(p.action, p.messages) for p in preview.rows] == [("update", ["将更新：地址"])]
    svc.roster.commit(preview)
    got = svc.enterprises.get(ent)
    assert (got["contact_phone"], got["address"], got["contact_name"]) == ("13800000000", "金水路2号", "张三")


def test_name_match_without_code_and_code_fills_in(svc, tmp_path):
    first = write_xlsx(tmp_path / "a.xlsx", [["企业名称", "所属区县", "联系人"],
                                            ["郑州（金水）甲有限公司", "金水区", "张三"]], merge_title=False)
    svc.roster.commit(svc.roster.preview(first))
    # Half-width brackets and a space: the same name. The code is new: it fills in the record.
    second = write_xlsx(tmp_path / "b.xlsx", [["企业名称", "统一社会信用代码", "所属区县"],
                                             ["郑州(金水) 甲有限公司", CODE_A, "金水区"]], merge_title=False)
    preview = svc.roster.preview(second)
    assert [(p.action, p.messages) for p in preview.rows] == [("update", ["将更新：企业名称、统一社会信用代码"])]
    svc.roster.commit(preview)
    assert svc.enterprises.by_uscc(CODE_A)["contact_name"] == "张三"
    # A different code for the same name now is an error, not a second enterprise.
    third = write_xlsx(tmp_path / "c.xlsx", [["企业名称", "统一社会信用代码", "所属区县"],
                                            ["郑州(金水) 甲有限公司", CODE_B, "金水区"]], merge_title=False)
    (plan,) = svc.roster.preview(third).rows
    assert plan.action == "error" and CODE_A in plan.messages[0] and CODE_B in plan.messages[0]


def test_same_name_in_another_district_is_another_enterprise(svc, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["企业名称", "所属区县"], ["郑州同名有限公司", "金水区"],
                                           ["郑州同名有限公司", "中原区"]], merge_title=False)
    preview = svc.roster.preview(path)
    assert [p.action for p in preview.rows] == ["new", "new"]
    svc.roster.commit(preview)
    units = sorted(r[0] for r in svc.store.query("SELECT unit_id FROM enterprises WHERE name = '郑州同名有限公司'"))
    assert units == sorted([JINSHUI, ZHONGYUAN])


@pytest.mark.parametrize("name_header,code_header,unit_header,phone_header", [
    ("企业名称", "统一社会信用代码", "所属区县", "联系电话"),
    ("单位名称", "社会信用代码", "区县", "手机"),
    ("企业全称*", "统一社会信用代码（必填）", "属地", "联系电话（手机）"),
    ("企业 名称", "信用代码", "所属区县(市)", "联系方式"),
])
def test_header_variants(svc, tmp_path, name_header, code_header, unit_header, phone_header):
    path = write_xlsx(tmp_path / "v.xlsx", [[name_header, code_header, unit_header, phone_header],
                                           ["郑州甲科技有限公司", CODE_A, "金水区", "13800138000"]], merge_title=False)
    preview = svc.roster.preview(path)
    assert preview.kind == "enterprises"
    assert sorted(label for _, label in preview.mapped_columns()) == sorted(["企业名称", "统一社会信用代码", "所属区县",
                                                                              "联系电话"])
    assert [(p.action, p.messages) for p in preview.rows] == [("new", [])]


def test_unrecognised_header_needs_a_mapping(svc, tmp_path):
    path = write_xlsx(tmp_path / "m.xlsx", [["名单"], ["公司", "代码", "片区"],
                                           ["郑州甲科技有限公司", CODE_A, "金水区"]])
    with pytest.raises(RosterError, match="未能识别“m.xlsx”的表头"):
        svc.roster.preview(path)
    raw = svc.roster.read(path)
    guess = svc.roster.layout(raw)
    assert guess.kind is None and guess.header_row == 2  # offered to the user to map
    layout = Layout("enterprises", 2, guess.header, {0: "name", 1: "uscc", 2: "unit"})
    preview = svc.roster.plan(raw, layout)
    assert [(p.row, p.action) for p in preview.rows] == [(3, "new")]
    with pytest.raises(RosterError, match="缺少必需的列：“企业名称”"):
        svc.roster.plan(raw, Layout("enterprises", 2, guess.header, {1: "uscc"}))


def test_numeric_credit_code_is_an_error(svc, tmp_path):
    path = write_xlsx(tmp_path / "n.xlsx", [["企业名称", "统一社会信用代码", "所属区县"],
                                           ["郑州甲科技有限公司", 9.14101e17, "金水区"]], merge_title=False)
    (plan,) = svc.roster.preview(path).rows
    assert plan.action == "error" and "被存成了数字" in plan.messages[0]


def test_unknown_scale_and_status_warn_but_import(svc, tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["企业名称", "统一社会信用代码", "企业规模", "经营状态"],
                                           ["郑州甲科技有限公司", CODE_A, "规上", "正常"]], merge_title=False)
    (plan,) = svc.roster.preview(path).rows
    assert plan.action == "new" and len(plan.warnings) == 2
    assert all("该项未导入" in w for w in plan.warnings)


def test_error_report_can_be_fixed_and_reimported(svc, known, tmp_path):
    preview = svc.roster.preview(write_xlsx(tmp_path / "名单.xlsx", messy_rows()))
    svc.roster.commit(preview)
    report = svc.roster.error_report(preview, tmp_path / "问题.xlsx")
    ws = load_workbook(report).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[2][-2:] == ["原行号", "导入问题"] and rows[2][1] == "企业全称"
    assert [r[-2] for r in rows[3:]] == [7, 9, 10, 11]
    # The office fixes the check digit and the unit, leaves the rest: re-importing reads the same header.
    wb = load_workbook(report)
    ws = wb.active
    ws.cell(4, 3).value = make_uscc(201)
    ws.cell(7, 4).value = "中原区"
    ws.cell(7, 3).value = make_uscc(202, "410102")
    wb.save(report)
    again = svc.roster.preview(report)
    assert again.layout.header_row == 3
    assert [(p.row, p.action) for p in again.rows] == [(4, "new"), (5, "unchanged"), (6, "error"), (7, "new")]


def test_round_trip_export_import_changes_nothing(svc, world, tmp_path):
    for i in range(5):
        world.enterprise(contact_name="张三", contact_phone="0371-6388666" + str(i), tags=["专精特新", "瞪羚"],
                         address="=cmd|' /C calc'!A0", scale="小型", note="+ 备注")
    svc.enterprises.create({"name": "郑州无代码有限公司", "unit_id": JINSHUI, "uscc": CODE_B})
    before = table_counts(svc.store)
    path, count = svc.roster.export(tmp_path / "企业名单.xlsx")
    assert count == 6
    ws = load_workbook(path).active
    formula_cell = next(c for r in ws.iter_rows() for c in r if c.value == "=cmd|' /C calc'!A0")
    assert formula_cell.data_type == "s"
    logged = table_counts(svc.store)
    preview = svc.roster.preview(path)
    assert [p.action for p in preview.rows] == ["unchanged"] * 6, [p.messages for p in preview.rows]
    result = svc.roster.commit(preview)
    assert (result.created, result.updated) == (0, 0)
    assert table_counts(svc.store) == logged  # nothing but the export's access log was written
    assert logged["audit_log"] == before["audit_log"] + 5  # the five with contact data


def test_cadre_roster_and_assignment_list(svc, world, tmp_path):
    e1 = world.enterprise("郑州甲科技有限公司")
    e2 = world.enterprise("郑州乙机械有限公司")
    cadres = write_xlsx(tmp_path / "干部.xlsx", [
        ["助企干部名单"], ["序号", "姓名", "单位", "工作组", "服务角色", "职务", "手机"],
        [1, "王 磊", "金水区", "第一组", "首席服务官", "副区长", 13800000001],
        [2, "刘洋", "市工信局", None, "服务专员", "科长", "13800000002"],
        [3, "陈晨", "火星区", None, None, None, None],
        [4, "王磊", "金水区", None, None, None, 13800000001]])
    preview = svc.roster.preview(cadres)
    assert preview.kind == "cadres"
    assert [(p.row, p.action) for p in preview.rows] == [(3, "new"), (4, "new"), (5, "error"), (6, "error")]
    assert preview.rows[0].notes == ["将新建工作组“第一组”"]
    svc.roster.commit(preview)
    wang = next(c for c in svc.people.cadres() if c["name"] == "王磊")
    assert wang["group_name"] == "第一组" and wang["role"] == "首席服务官" and wang["phone"] == "13800000001"

    links = write_xlsx(tmp_path / "包联.xlsx", [
        ["企业名称", "统一社会信用代码", "包联干部", "包联角色", "开始日期"],
        ["郑州甲科技有限公司", None, "王磊、刘洋", None, 45992],  # 2025-12-01 as an Excel serial
        [None, svc.enterprises.get(e2)["uscc"], "刘洋", "包联领导", "2025年12月2日"],
        ["郑州甲科技有限公司", None, "王磊", None, None],
        ["郑州不存在有限公司", None, "王磊", None, None],
        ["郑州乙机械有限公司", None, "张无忌", None, None]], merge_title=False)
    preview = svc.roster.preview(links)
    assert preview.kind == "assignments"
    assert [(p.row, p.action) for p in preview.rows] == [(2, "new"), (3, "new"), (4, "error"), (5, "error"),
                                                         (6, "error")]
    assert "第 2 行" in preview.rows[2].messages[0]
    assert "尚未登记" in preview.rows[3].messages[0] and "张无忌" in preview.rows[4].messages[0]
    svc.roster.commit(preview)
    got = {(a["cadre_name"], a["role"], a["start_date"]) for a in svc.people.assignments_of_enterprise(e1)}
    assert got == {("王磊", "包联干部", "2025-12-01"), ("刘洋", "包联干部", "2025-12-01")}
    assert {(a["cadre_name"], a["role"]) for a in svc.people.assignments_of_enterprise(e2)} == {("刘洋", "包联领导")}


def test_kind_is_detected_from_the_header(svc, tmp_path):
    for rows, kind in [([["姓名", "单位", "职务"], ["王磊", "金水区", "科长"]], "cadres"),
                       ([["企业名称", "包联干部"], ["郑州甲科技有限公司", "王磊"]], "assignments"),
                       ([["单位名称", "统一社会信用代码"], ["郑州甲科技有限公司", CODE_A]], "enterprises")]:
        path = write_xlsx(tmp_path / f"{kind}.xlsx", rows, merge_title=False)
        assert svc.roster.preview(path).kind == kind


# -- refusing unsafe or foreign files ------------------------------------------------------------------------------
def test_refuses_old_xls_and_foreign_files(svc, tmp_path):
    old = tmp_path / "名单.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(SheetReadError, match="另存为"):
        svc.roster.preview(old)
    fake = tmp_path / "假的.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(SheetReadError, match="不是有效的 .xlsx"):
        svc.roster.preview(fake)
    with pytest.raises(SheetReadError, match="找不到文件"):
        svc.roster.preview(tmp_path / "没有.xlsx")


def test_refuses_oversized_files(svc, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", [["企业名称"], ["郑州甲科技有限公司"]], merge_title=False)
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 100)
    with pytest.raises(SheetReadError, match="超过导入上限"):
        svc.roster.preview(path)


def test_refuses_zip_bombs(svc, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "a.xlsx", [["企业名称"], ["郑州甲科技有限公司"]], merge_title=False)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/padding.bin", b"\0" * 2_000_000)
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 1_000_000)
    with pytest.raises(SheetReadError, match="解压后超过"):
        svc.roster.preview(path)


def test_refuses_absurd_dimensions(svc, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["企业名称"])
    ws.cell(reader.MAX_ROWS + 5, 1).value = "x"
    wb.save(tmp_path / "big.xlsx")
    with pytest.raises(SheetReadError, match="超过导入上限"):
        svc.roster.preview(tmp_path / "big.xlsx")


def test_formulas_are_read_as_their_values(svc, tmp_path):
    # A workbook saved by Excel keeps each formula's last value next to it; data_only reads that value.
    path = write_xlsx(tmp_path / "f.xlsx", [["企业名称", "统一社会信用代码"], ["郑州甲科技有限公司", CODE_A]],
                      merge_title=False)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    cell = '<c r="A2" t="inlineStr"><is><t>郑州甲科技有限公司</t></is></c>'
    if cell not in sheet:  # openpyxl writes shared strings: find the A2 cell whatever its form
        start = sheet.index('<c r="A2"')
        cell = sheet[start:sheet.index("</c>", start) + 4]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        cell, '<c r="A2" t="str"><f>CONCATENATE("郑州","甲科技有限公司")</f><v>郑州甲科技有限公司</v></c>').encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    (plan,) = svc.roster.preview(path).rows
    assert plan.label == "郑州甲科技有限公司" and plan.action == "new"


def test_preview_json_shape(svc, known, tmp_path):
    preview = svc.roster.preview(write_xlsx(tmp_path / "名单.xlsx", messy_rows()))
    data = json.loads(json.dumps(preview.to_json(), ensure_ascii=False))
    assert [d["row"] for d in data] == sorted(EXPECTED)
    assert all(set(d) >= {"row", "action", "messages"} for d in data)
    assert {d["action"] for d in data} == {"new", "update", "unchanged", "error"}
