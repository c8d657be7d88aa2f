"""Excel exports: the 统计报表 workbook agrees with the stats service, cells are typed, text is never a formula,
and a failed save leaves nothing behind."""

from __future__ import annotations

import os
import stat
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from app.demo import generate
from app.services import Services
from app.stats import (
    DEFINITIONS,
    DIMENSION_LABELS,
    DIMENSIONS,
    KEYS,
    NON_ADDITIVE_DIMENSIONS,
    STATS_VERSION,
    Period,
    dimension_note,
)
from app.stats_export import BREAKDOWN_KEYS, NOT_BY, label, stats_workbook, table_workbook
from app.xlsx import Column, Sheet, XlsxWriteError, sheet_title, write_workbook

ADDITIVE = ("enterprises_covered", "enterprise_visits", "symposia", "problems_collected", "problems_solved",
            "overdue", "missed_deadline")
PERIOD = Period()
SHEETS = ["总体", "按单位", "按问题类别", "按责任单位", "按问题层级", "按月份", "按助企干部"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A city hub with the small demo data (several districts, so the unit sheet has several rows)."""
    s = Services.open(tmp_path_factory.mktemp("hub") / "zhuqi.db")
    s.initialise(role="city", unit_name="郑州市", operator="张三")
    generate(s, size="small", seed=11)
    yield s
    s.close()


@pytest.fixture(scope="module")
def report(hub, tmp_path_factory):
    path = stats_workbook(hub, tmp_path_factory.mktemp("out") / "统计报表.xlsx", PERIOD)
    return openpyxl.load_workbook(path)


def header_row(ws) -> int:
    """The header is the row just above the frozen panes."""
    return int(ws.freeze_panes[1:]) - 1


def table(ws) -> tuple[list[str], list[tuple]]:
    """(headers, body rows as cells) of a sheet written by app.xlsx."""
    h = header_row(ws)
    rows = list(ws.iter_rows(min_row=h))
    return [c.value for c in rows[0]], [tuple(r) for r in rows[1:]]


def shown(cell) -> object:
    """A cell as Excel shows it: percent cells back to their text, other values as they are."""
    if cell.number_format == "0.0%":
        assert abs(cell.value * 1000 - round(cell.value * 1000)) < 1e-9  # no hidden digits behind the display
        return f"{cell.value * 100:.1f}%"
    return cell.value


def test_sheet_names(report):
    assert report.sheetnames == SHEETS
    assert [f"按{DIMENSION_LABELS[d]}" for d in DIMENSIONS] == SHEETS[1:]


def test_headline_sheet_equals_the_service(report, hub):
    head = hub.stats.headline(PERIOD)
    ws = report["总体"]
    notes = [ws.cell(r, 1).value for r in range(1, header_row(ws))]
    assert notes[0] == "助企工作统计报表"
    assert "统计范围：全部单位" in notes
    assert f"统计期：{PERIOD.label()}" in notes
    assert f"统计截止日：{PERIOD.cutoff.isoformat()}" in notes
    assert f"统计口径版本：{STATS_VERSION}" in notes
    headers, rows = table(ws)
    assert headers == ["指标", "数值", "口径说明"]
    assert [r[0].value for r in rows] == [label(k) for k in KEYS]
    assert [r[2].value for r in rows] == [DEFINITIONS[k] for k in KEYS]
    for key, (_, value, _) in zip(KEYS, rows, strict=True):
        assert shown(value) == (head[key] if head[key] is not None else "—"), key
        if isinstance(head[key], int):
            assert value.data_type == "n" and value.number_format == "0" and isinstance(value.value, int), key
    rate = rows[KEYS.index("solve_rate")][1]
    assert rate.data_type == "n" and rate.number_format == "0.0%"
    assert shown(rate) == head["solve_rate"]  # the truncated text, e.g. "88.7%", exactly


@pytest.mark.parametrize("dim", DIMENSIONS)
def test_dimension_sheet_rows_and_totals(report, hub, dim):
    head = hub.stats.headline(PERIOD)
    expected = hub.stats.breakdown(dim, PERIOD)
    keys = [k for k in BREAKDOWN_KEYS if k not in NOT_BY.get(dim, ())]
    ws = report[f"按{DIMENSION_LABELS[dim]}"]
    assert dimension_note(dim) in ws["A3"].value  # the dimension's 口径 note above the table
    headers, rows = table(ws)
    assert headers == [DIMENSION_LABELS[dim], *(label(k) for k in keys)]
    body, total = (rows, None) if dim in NON_ADDITIVE_DIMENSIONS else (rows[:-1], rows[-1])
    assert len(body) == len(expected) > 0
    for cells, want in zip(body, expected, strict=True):
        assert [shown(c) for c in cells] == [want["label"], *("—" if want[k] is None else want[k] for k in keys)]
    if total is None:  # rows share records (a visit with three cadres): no 合计 that could not add up
        assert "合计" not in [c[0].value for c in body]
        return
    assert total[0].value == "合计" and all(c.font.b for c in total)
    by_key = dict(zip(keys, total[1:], strict=True))
    for k in keys:  # the 合计 row is the headline
        assert shown(by_key[k]) == ("—" if head[k] is None else head[k]), k
    for k in (k for k in ADDITIVE if k in keys):  # and the additive columns add up to it
        assert sum(c[keys.index(k) + 1].value for c in body) == by_key[k].value == head[k], k


def test_unit_scoped_report(hub, tmp_path):
    unit = next(u for u in hub.reference.districts() if hub.stats.headline(PERIOD, u.id)["problems_collected"])
    wb = openpyxl.load_workbook(stats_workbook(hub, tmp_path / "one.xlsx", PERIOD, unit.id))
    ws = wb["总体"]
    assert f"统计范围：{unit.name}" in [ws.cell(r, 1).value for r in range(1, header_row(ws))]
    head = hub.stats.headline(PERIOD, unit.id)
    _, rows = table(ws)
    assert {k: shown(r[1]) for k, r in zip(KEYS, rows, strict=True)} == {
        k: "—" if v is None else v for k, v in head.items()}
    _, unit_rows = table(wb["按单位"])
    assert [c.value for c in unit_rows[0][:1]] == [unit.name] and len(unit_rows) == 2  # the unit and 合计


def test_header_frozen_styled_and_columns_sized(report):
    for ws in report.worksheets:
        h = header_row(ws)
        assert h > 1 and ws.freeze_panes == f"A{h + 1}"  # notes above, header frozen with them
        header = [c for c in ws[h] if c.value is not None]
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDEBF7") for c in header)
        for i in range(1, ws.max_column + 1):
            width = ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
            assert 6 <= width <= 50
    months = report["按月份"]
    avg = [c.column_letter for c in months[header_row(months)] if c.value == "平均解决用时（工作日）"][0]
    assert months.column_dimensions[avg].width >= 2 * 10 + 2  # CJK characters count double
    defs = report["总体"].column_dimensions["C"].width
    assert defs == 50  # long 口径 texts are capped


def test_dates_are_real_dates_and_numbers_are_numbers(tmp_path):
    cols = [Column("编号"), Column("登记日期", "date"), Column("件数", "int"), Column("用时", "float"),
            Column("解决率", "percent")]
    rows = [("A-1", "2026-03-05", 3, 2.5, "99.7%"), ("A-2", date(2026, 1, 2), None, None, "—"),
            ("A-3", "不详", 0, 0.0, "100.0%")]
    wb = openpyxl.load_workbook(table_workbook(tmp_path / "t.xlsx", "问题清单", cols, rows, notes=["截止 2026-03-31"]))
    ws = wb["问题清单"]
    assert ws["A1"].value == "问题清单" and ws["A2"].value == "截止 2026-03-31" and ws.freeze_panes == "A5"
    _, body = table(ws)
    first, second, third = body
    assert first[1].is_date and first[1].value == datetime(2026, 3, 5) and first[1].number_format == "yyyy-mm-dd"
    assert second[1].is_date and second[1].value.date() == date(2026, 1, 2)
    assert third[1].value == "不详" and third[1].data_type == "s"  # not a date: kept as the text
    assert (first[2].value, first[2].number_format) == (3, "0")
    assert (first[3].value, first[3].number_format) == (2.5, "0.0")
    assert (first[4].value, first[4].number_format) == (0.997, "0.0%")
    assert (third[4].value, shown(third[4])) == (1, "100.0%")
    assert second[2].value is None and second[4].value == "—" and second[4].alignment.horizontal == "right"


def test_mapping_rows_use_column_keys(tmp_path):
    cols = [Column("企业", key="name"), Column("走访日期", "date", key="visit_date")]
    path = table_workbook(tmp_path / "m.xlsx", "走访", cols, [{"name": "甲公司", "visit_date": "2026-02-03", "x": 1}])
    _, body = table(openpyxl.load_workbook(path)["走访"])
    assert [c.value for c in body[0]] == ["甲公司", datetime(2026, 2, 3)]


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-5", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"点我\")", "#N/A"])
def test_text_that_looks_like_a_formula_stays_text(tmp_path, text):
    path = table_workbook(tmp_path / "f.xlsx", "名单", [Column("联系电话"), Column("备注")], [(text, text)])
    ws = openpyxl.load_workbook(path)["名单"]
    _, body = table(ws)
    for cell in body[0]:
        assert cell.value == text and cell.data_type == "s" and cell.data_type != "f"
        assert cell.quotePrefix == (text[0] != "#")  # Excel keeps it text even when the cell is edited
    with zipfile.ZipFile(path) as z:
        assert all("<f>" not in z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_control_characters_are_dropped(tmp_path):
    path = table_workbook(tmp_path / "c.xlsx", "备注", [Column("备注")], [("第一行\x07\x00第二行\n第三行",)])
    _, body = table(openpyxl.load_workbook(path)["备注"])
    assert body[0][0].value == "第一行第二行\n第三行"


def test_sheet_titles_are_sanitised_and_unique():
    used: set[str] = set()
    assert sheet_title("问题[市级]:逾期/超期*?\\", used) == "问题_市级__逾期_超期___"
    assert len(sheet_title("很长的" * 20, used)) == 31
    assert sheet_title("总体", used) == "总体"
    assert sheet_title("总体", used) == "总体(2)"
    assert sheet_title("'", used) == "Sheet"


def test_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    sheets = [Sheet("表", [Column("名称")], [("甲",)])]
    target = tmp_path / "报表.xlsx"

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.xlsx.os.replace", refuse)
    with pytest.raises(XlsxWriteError) as info:
        write_workbook(target, sheets)
    assert "报表.xlsx" in info.value.message and "无法保存 Excel 文件" in info.value.message
    assert "正被 Excel 等程序打开" in info.value.message  # a locked file: the hint says to close it
    assert info.value.file == str(target)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one

    target.write_bytes(b"old report")
    with pytest.raises(XlsxWriteError):
        write_workbook(target, sheets)
    assert target.read_bytes() == b"old report" and list(tmp_path.iterdir()) == [target]


def test_failed_write_midway_leaves_no_file(tmp_path, monkeypatch):
    def disk_full(self, filename):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("app.xlsx.Workbook.save", disk_full)
    with pytest.raises(XlsxWriteError, match="磁盘空间不足"):
        write_workbook(tmp_path / "报表.xlsx", [Sheet("表", [Column("名称")], [("甲",)] * 10)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_saved_file_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = write_workbook(tmp_path / "报表.xlsx", [Sheet("表", [Column("名称")], [("甲",)])])
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not a temporary file's 0600


def test_missing_folder_is_a_chinese_error(tmp_path):
    target = tmp_path / "没有的文件夹" / "报表.xlsx"
    with pytest.raises(XlsxWriteError, match="报表.xlsx.*文件夹不存在"):
        write_workbook(target, [Sheet("表", [Column("名称")], [])])
    assert not target.parent.exists()
