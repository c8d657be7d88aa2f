"""Lists (enterprises, visits, problems, cadres) and the 问题台账 as .xlsx or CSV files, for the list screens' 导出….

`list_table(services, kind, ids)` and `ledger_table(services, filter_or_ids)` give a RecordTable of every row, in the
order given; `export_records(services, path, title, table)` writes it (the suffix picks the format) and logs the
personal data it carried. Excel files go through app/xlsx.py (typed cells, frozen header, safe text); CSV is UTF-8
with a BOM (else Excel reads it as the local code page and garbles Chinese) and CRLF line ends, written atomically.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from app.clock import today
from app.errors import AppError
from app.files import write_file_atomic
from app.problems import ProblemFilter
from app.record_tables import RecordTable, record_table, write_xlsx

log = logging.getLogger(__name__)

# kind -> [(key, header)]: what the list screens show, with full values (dates and counts unformatted).
LIST_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "enterprises": [("name", "企业名称"), ("uscc", "统一社会信用代码"), ("unit", "所属单位"), ("status", "经营状态"),
                    ("archived_text", "已归档"), ("industry", "行业"), ("tags", "标签"), ("cadres", "包联干部"),
                    ("last_visit", "最近走访"), ("days_since_visit", "距今天数"), ("open_problems", "未办结问题"),
                    ("contact_name", "联系人"), ("contact_phone", "联系电话")],
    "visits": [("record_no", "记录编号"), ("visit_date", "走访日期"), ("kind", "方式"), ("enterprise_names", "走访企业"),
               ("cadre_names", "参加干部"), ("problems", "问题数"), ("summary", "走访情况")],
    "problems": [("record_no", "编号"), ("title", "问题"), ("status", "状态"), ("deadline", "办理时限"),
                 ("overdue_workdays", "逾期工作日"), ("enterprise", "企业"), ("category", "类别"), ("level", "层级"),
                 ("lead_unit", "牵头单位"), ("registered_on", "登记日期"), ("resolved_on", "办结日期"),
                 ("outcome", "办理结果")],
    "cadres": [("name", "姓名"), ("unit", "单位"), ("work_group", "工作组"), ("role", "服务角色"), ("rank", "职级"),
               ("post", "职务"), ("phone", "联系电话"), ("assignments", "包联企业数"), ("visits_year", "今年走访次数"),
               ("active_text", "状态")],
}
# The printed 问题台账's columns (app/pdf/ledger_form.py COLUMNS, a test keeps them equal), then what its cells add
# under the date: a spreadsheet keeps dates as dates, so those notes get columns of their own.
LEDGER_COLUMNS: list[tuple[str, str]] = [
    ("seq", "序号"), ("record_no", "编号"), ("enterprise", "企业名称"), ("category", "问题类别"), ("title", "问题摘要"),
    ("level", "层级"), ("lead_unit", "牵头单位"), ("registered_on", "登记日期"), ("deadline", "办理时限"),
    ("status", "状态"), ("resolved_on", "办结日期"), ("outcome", "办理结果"),
    ("original_deadline", "原办理时限"), ("overdue_workdays", "逾期工作日"), ("missed_text", "超期办理"),
]
# Lists that carry personal data in full (the screens mask it): kind -> (table, fields, audit action).
PERSONAL: dict[str, tuple[str, tuple[str, ...], str]] = {
    "enterprises": ("enterprises", ("contact_name", "contact_phone"), "导出企业列表"),
    "cadres": ("cadres", ("phone",), "导出干部列表"),
}
FORMATS = (".xlsx", ".csv")
# A spreadsheet opening a CSV evaluates a cell starting with = + - @ as a formula (and tab / CR are read past by
# some), so user text such as "=HYPERLINK(...)" could run. A leading apostrophe is the usual defence (OWASP "CSV
# injection"): Excel and LibreOffice then show the text, and it stays obvious to anyone reading the file raw.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def list_table(services, kind: str, ids: Sequence) -> RecordTable:
    """Every record of `ids` (a list's full id list, in its order) with the list's export columns."""
    if kind not in LIST_COLUMNS:
        raise ValueError(kind)
    rows = record_table(services, kind, list(ids)).rows
    for r in rows:
        if kind == "enterprises":
            r["archived_text"] = "是" if r.get("archived") else None
        elif kind == "problems":
            r["overdue_workdays"] = r["overdue_workdays"] if r.get("overdue") else None
        elif kind == "cadres":
            r["active_text"] = "在岗" if r.get("active") else "离岗"
    return RecordTable(kind, LIST_COLUMNS[kind], rows)


def ledger_table(services, problems: ProblemFilter | Sequence[str]) -> RecordTable:
    """The 问题台账 as a table: the problems of a filter (in the printed order, oldest first) or of given ids."""
    if isinstance(problems, ProblemFilter):
        f = problems
        ids = services.problems.list_ids(f, "registered_on", descending=False)  # as ledger_story prints them
    else:
        ids = list(problems)
        f = ProblemFilter(ids=ids)
    rows = record_table(services, "problems", ids).rows
    for i, p in enumerate(rows, 1):  # the cells as ledger_form._row prints them
        deadline, original = p.get("deadline"), p.get("original_deadline")
        p["seq"] = i
        p["deadline"] = deadline or ("未交办" if p["status"] == "待交办" else None)
        p["original_deadline"] = original if original and deadline and original != deadline else None
        p["overdue_workdays"] = p["overdue_workdays"] if p["overdue"] else None
        p["missed_text"] = "是" if p["missed_deadline"] else None
    from app.pdf.ledger_form import filter_description  # reportlab loads with it: only when a ledger is exported

    notes = (f"范围：{filter_description(services, f)}", f"截至 {today().isoformat()}")
    return RecordTable("ledger", LEDGER_COLUMNS, rows, notes)


def write_csv(path: Path | str, table: RecordTable) -> Path:
    """`table` as CSV: UTF-8 with BOM, CRLF, the Chinese headers, then one line per row; complete or absent."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([_csv_text(header) for _, header in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in table.columns])
    path = write_file_atomic(Path(path), buf.getvalue().encode("utf-8-sig"))
    log.info("Wrote %s (%d rows)", path, len(table.rows))
    return path


def export_table(path: Path | str, title: str, table: RecordTable) -> Path:
    """Write `table` as .xlsx or .csv, by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        return Path(write_xlsx(path, title, table))
    if suffix == ".csv":
        return write_csv(path, table)
    raise AppError(f"不能导出为“{suffix or '无扩展名'}”文件：请保存为 .xlsx（Excel 工作簿）或 .csv 文件。", file=str(path))


def export_records(services, path: Path | str, title: str, table: RecordTable) -> Path:
    """Export `table`, then log the personal data it carried (DESIGN §7), one entry per record in one transaction.

    The log is written after the file (a failed write exported nothing); if logging fails the file is removed, so a
    file on disk always has its log entries.
    """
    path = export_table(path, title, table)
    try:
        _log_personal(services, table)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return path


def _log_personal(services, table: RecordTable) -> None:
    if table.kind not in PERSONAL:
        return
    name, fields, action = PERSONAL[table.kind]
    exported = {k for k, _ in table.columns}
    with services.ctx.writing() as w:
        for r in table.rows:
            present = [f for f in fields if f in exported and r.get(f)]
            if present:  # rows without contact data exported nothing personal
                w.record_access(action, name, r["id"], present)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return str(value)  # a negative number is a number, not a formula
    if isinstance(value, date):
        return value.isoformat()
    return _csv_text(str(value))


def _csv_text(text: str) -> str:
    text = text.replace("\x00", "")
    return "'" + text if text.startswith(_FORMULA_START) else text
