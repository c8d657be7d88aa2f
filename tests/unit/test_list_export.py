"""List exports (issue #7): every id becomes a row, xlsx cells are typed under a frozen Chinese header, CSV is UTF-8
with a BOM and defused formulas, a failed write leaves nothing, and exported personal data is logged."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime

import openpyxl
import pytest

from app import uscc
from app.demo import generate
from app.enterprises import EnterpriseFilter
from app.errors import AppError
from app.files import FileWriteError
from app.list_export import LEDGER_COLUMNS, LIST_COLUMNS, export_records, export_table, ledger_table, list_table
from app.problems import ProblemFilter, ProblemInput
from app.services import Services
from app.visits import VisitFilter
from app.xlsx import XlsxWriteError

FORMULA = "=1+1"
HYPERLINK = '=HYPERLINK("http://x","点我")'


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    """The small demo station plus an enterprise and a problem whose text looks like formulas."""
    s = Services.open(tmp_path_factory.mktemp("station") / "zhuqi.db")
    s.initialise(role="station", unit_name="金水区", operator="王磊")
    generate(s, size="small", seed=4)
    ent = s.enterprises.create({"uscc": uscc.make("91410105MA9999991"), "name": FORMULA,
                                "unit_id": s.installation.unit_id, "contact_name": "@张三",
                                "contact_phone": "+8613812345678"}).id
    s.problems.register(ProblemInput(enterprise_id=ent, category_code="finance", description="续贷审批慢",
                                     title=HYPERLINK))
    yield s
    s.close()


def enterprise_ids(s) -> list[str]:
    return s.enterprises.list_ids(EnterpriseFilter(), "name")


def sheet_table(path):
    """(headers, body rows) of the only sheet; the header is the row just above the frozen pane."""
    ws = openpyxl.load_workbook(path).active
    header = int(ws.freeze_panes[1:]) - 1
    rows = list(ws.iter_rows(min_row=header))
    return ws, [c.value for c in rows[0]], rows[1:]


def read_csv(path) -> tuple[bytes, list[list[str]]]:
    raw = path.read_bytes()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_enterprise_xlsx_has_frozen_chinese_header_and_typed_cells(station, tmp_path):
    ids = enterprise_ids(station)
    path = export_records(station, tmp_path / "企业列表.xlsx", "企业列表", list_table(station, "enterprises", ids))
    ws, headers, rows = sheet_table(path)
    assert ws.freeze_panes == "A4"  # title line, a blank line, the header
    assert headers == [h for _, h in LIST_COLUMNS["enterprises"]]
    assert len(rows) == len(ids)
    col = {h: i for i, h in enumerate(headers)}
    by_name = {r[col["企业名称"]].value: r for r in rows}
    assert [r[col["企业名称"]].value for r in rows] == [station.enterprises.rows([i])[i]["name"] for i in ids]
    visited = [r for r in rows if r[col["最近走访"]].value is not None]
    assert visited, "the demo has visited enterprises"
    for r in visited:
        assert isinstance(r[col["最近走访"]].value, datetime) and r[col["最近走访"]].number_format == "yyyy-mm-dd"
        assert isinstance(r[col["距今天数"]].value, int) and r[col["距今天数"]].data_type == "n"
    assert all(isinstance(r[col["未办结问题"]].value, int) for r in rows)
    odd = by_name[FORMULA]
    for key, value in (("企业名称", FORMULA), ("联系人", "@张三"), ("联系电话", "+8613812345678")):
        cell = odd[col[key]]
        assert cell.value == value and cell.data_type == "s" and cell.quotePrefix, key
    uscc_cell = odd[col["统一社会信用代码"]]
    assert uscc_cell.data_type == "s"  # long digit strings stay text


def test_problem_and_visit_lists_keep_every_id_in_order(station, tmp_path):
    pids = station.problems.list_ids(ProblemFilter(), "deadline", descending=True)
    path = export_records(station, tmp_path / "p.xlsx", "问题列表", list_table(station, "problems", pids))
    _ws, headers, rows = sheet_table(path)
    col = {h: i for i, h in enumerate(headers)}
    rows_by_id = station.problems.rows(pids)
    assert [r[col["编号"]].value for r in rows] == [rows_by_id[p]["record_no"] for p in pids]
    title = next(r[col["问题"]] for r in rows if r[col["问题"]].value == HYPERLINK)
    assert title.data_type == "s" and title.data_type != "f"
    assert all(isinstance(r[col["登记日期"]].value, datetime) for r in rows)
    overdue = [r[col["逾期工作日"]].value for r in rows if r[col["逾期工作日"]].value is not None]
    assert all(isinstance(n, int) and n > 0 for n in overdue)

    vids = station.visits.list_ids(VisitFilter())
    path = export_records(station, tmp_path / "v.csv", "走访记录", list_table(station, "visits", vids))
    _raw, lines = read_csv(path)
    assert lines[0] == [h for _, h in LIST_COLUMNS["visits"]]
    assert len(lines) - 1 == len(vids)
    assert [line[0] for line in lines[1:]] == [station.visits.rows([v])[v]["record_no"] for v in vids]


def test_csv_is_utf8_with_bom_crlf_and_defused(station, tmp_path):
    ids = enterprise_ids(station)
    path = export_table(tmp_path / "企业.csv", "企业列表", list_table(station, "enterprises", ids))
    raw, lines = read_csv(path)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") >= len(ids) + 1 and b"\r\n" in raw[:300]
    assert lines[0] == [h for _, h in LIST_COLUMNS["enterprises"]]  # Chinese intact
    assert len(lines) - 1 == len(ids)
    col = {h: i for i, h in enumerate(lines[0])}
    odd = next(line for line in lines if line[col["企业名称"]] == "'" + FORMULA)
    assert odd[col["联系人"]] == "'@张三" and odd[col["联系电话"]] == "'+8613812345678"
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)
    some = next(line for line in lines[1:] if line[col["最近走访"]])
    assert len(some[col["最近走访"]]) == 10 and some[col["距今天数"]].isdigit()


def test_ledger_has_the_printed_columns_in_printed_order(station, tmp_path):
    from app.pdf.ledger_form import COLUMNS as PRINTED

    assert [h for _, h in LEDGER_COLUMNS[:len(PRINTED)]] == [c[0] for c in PRINTED]
    f = ProblemFilter(statuses=("已交办", "办理中", "已办结", "已销号"))
    table = ledger_table(station, f)
    ids = station.problems.list_ids(f, "registered_on", descending=False)
    assert [r["id"] for r in table.rows] == ids and [r["seq"] for r in table.rows] == list(range(1, len(ids) + 1))
    path = export_records(station, tmp_path / "台账.xlsx", "问题台账", table)
    ws, headers, rows = sheet_table(path)
    assert ws["A2"].value.startswith("范围：状态：")
    assert headers == [h for _, h in LEDGER_COLUMNS] and len(rows) == len(ids)
    col = {h: i for i, h in enumerate(headers)}
    assert all(isinstance(r[col["序号"]].value, int) for r in rows)
    assert all(isinstance(r[col["办理时限"]].value, datetime) for r in rows)  # all of these were assigned
    pending = ledger_table(station, ProblemFilter(statuses=("待交办",)))
    assert pending.rows and all(r["deadline"] == "未交办" for r in pending.rows)
    by_ids = ledger_table(station, list(reversed(ids[:3])))
    assert [r["id"] for r in by_ids.rows] == list(reversed(ids[:3])) and "选定的 3 件" in by_ids.notes[0]


def test_exporting_personal_data_is_logged_per_record(station, tmp_path):
    store = station.store
    count = "SELECT count(*) FROM audit_log WHERE action = ?"
    ids = enterprise_ids(station)
    with_contacts = [r for r in list_table(station, "enterprises", ids).rows
                     if r.get("contact_name") or r.get("contact_phone")]
    before = store.scalar(count, ("导出企业列表",))
    export_records(station, tmp_path / "e.csv", "企业列表", list_table(station, "enterprises", ids))
    assert store.scalar(count, ("导出企业列表",)) - before == len(with_contacts) > 0
    row = store.one("SELECT after, table_name, operator FROM audit_log WHERE action = '导出企业列表' "
                    "AND row_id = ? ORDER BY at DESC", (with_contacts[0]["id"],))
    assert row["table_name"] == "enterprises" and "contact_phone" in row["after"] and row["operator"] == "王磊"

    cadres = station.people.cadre_ids()
    before = store.scalar(count, ("导出干部列表",))
    export_records(station, tmp_path / "c.xlsx", "助企干部", list_table(station, "cadres", cadres))
    phones = sum(1 for r in station.people.cadre_rows(cadres).values() if r.get("phone"))
    assert store.scalar(count, ("导出干部列表",)) - before == phones

    before = store.scalar("SELECT count(*) FROM audit_log")
    export_records(station, tmp_path / "l.xlsx", "问题台账", ledger_table(station, ProblemFilter()))
    assert store.scalar("SELECT count(*) FROM audit_log") == before  # no personal data in the ledger


@pytest.mark.parametrize("name", ["e.csv", "e.xlsx"])
def test_a_failed_write_leaves_no_file_and_logs_nothing(station, tmp_path, monkeypatch, name):
    table = list_table(station, "enterprises", enterprise_ids(station))
    before = station.store.scalar("SELECT count(*) FROM audit_log")
    with pytest.raises((FileWriteError, XlsxWriteError)) as err:
        export_records(station, tmp_path / "missing" / name, "企业列表", table)
    assert "missing" in str(err.value)

    def no_disk(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_disk)
    with pytest.raises((FileWriteError, XlsxWriteError)):
        export_records(station, tmp_path / name, "企业列表", table)
    assert list(tmp_path.iterdir()) == []
    assert station.store.scalar("SELECT count(*) FROM audit_log") == before


def test_a_failed_log_removes_the_file(station, tmp_path, monkeypatch):
    from db.changes import ChangeWriter

    def refuse(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ChangeWriter, "record_access", refuse)
    with pytest.raises(RuntimeError):
        export_records(station, tmp_path / "e.xlsx", "企业列表", list_table(station, "enterprises",
                                                                                enterprise_ids(station)))
    assert list(tmp_path.iterdir()) == []


def test_other_suffixes_are_refused(station, tmp_path):
    table = list_table(station, "visits", [])
    with pytest.raises(AppError, match=r"\.xlsx"):
        export_table(tmp_path / "list.txt", "走访记录", table)
    path = export_table(tmp_path / "EMPTY.CSV", "走访记录", table)
    assert read_csv(path)[1] == [[h for _, h in LIST_COLUMNS["visits"]]]
