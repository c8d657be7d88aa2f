"""A small Excel writer for tables (reports, exported lists): typed columns, safe text, atomic save.

`write_workbook(path, sheets)` writes one sheet per `Sheet`: optional note lines, a bold frozen header, the rows and
an optional bold 合计 row. Cells are typed by their `Column`:

- text: always a string. Text beginning with = + - or @ is stored as a plain string with Excel's quote prefix, so
  Excel never evaluates it (formula injection, DESIGN §7); characters XML cannot hold are dropped.
- int / float: numbers with the format "0" / "0.0" (what the screens show). A non-number such as "—" is kept as
  right-aligned text.
- percent: the stats service's truncated rates ("99.7%", one decimal, never rounded up) become the number
  0.997 with the format "0.0%". The number is parsed from the text, not recomputed from the counts, and it has
  no more decimals than the format shows, so Excel displays exactly the text on screen and in JSON while the
  column still sorts and charts as numbers. Anything else ("—", "99.75%") is kept as right-aligned text.
- number: a mixed column (a headline's 数值): each value is written as an int, float or percent cell by its type.
- date: real Excel dates shown as yyyy-mm-dd; ISO strings ("2026-03-05") are converted, datetimes keep their time.

The file is written to a temporary file in the target folder, flushed to disk and renamed over the target, so a
failure never leaves a partial .xlsx behind (XlsxWriteError names the file).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from app.errors import AppError
from app.files import fsync_dir

log = logging.getLogger(__name__)

Kind = Literal["text", "int", "float", "percent", "number", "date"]
FORMATS = {"int": "0", "float": "0.0", "percent": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
MAX_ROWS = 1_048_576  # Excel's limit per sheet
MAX_TEXT = 32_767  # Excel's limit per cell
MIN_WIDTH, MAX_WIDTH = 6.0, 50.0
WIDTH_SAMPLE = 2000  # rows looked at when sizing columns

_FORMULA_START = ("=", "+", "-", "@")
_PERCENT = re.compile(r"^(\d+)(?:\.(\d))?%$")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_ALIGN = Alignment(horizontal="center", vertical="center")
_RIGHT = Alignment(horizontal="right")
_TOTAL_BORDER = Border(top=Side(style="thin"))
_LOCKED = "没有写入权限，或文件正被 Excel 等程序打开（请先关闭它）"
_REASONS = {errno.ENOENT: "文件夹不存在", errno.EACCES: _LOCKED, errno.EPERM: _LOCKED, errno.ENOSPC: "磁盘空间不足",
            errno.EROFS: "磁盘或文件夹只读"}


class XlsxWriteError(AppError):
    """An Excel file could not be written; nothing was left at the target path."""


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    width: float | None = None  # None: sized from the header and the content
    key: str | None = None  # for rows given as mappings: the key of this column's value


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: list[Sequence | Mapping]
    notes: list[str] = field(default_factory=list)  # lines above the header (title, scope, cut-off...)
    totals: Sequence | Mapping | None = None  # the 合计 row, in bold


def write_workbook(path: Path | str, sheets: list[Sheet]) -> Path:
    """Write `sheets` to `path` (.xlsx) atomically; returns the path."""
    path = Path(path)
    prepared = [_prepare(sheet, path) for sheet in sheets]  # bad rows fail here, before anything is written
    wb = Workbook(write_only=True)
    tmp: str | None = None
    try:
        # Not mkstemp: its 0600 mode would stay on the report; os.open applies the user's umask like any new file.
        tmp = str(path.with_name(f".~{path.stem[:40]}-{secrets.token_hex(4)}.xlsx.tmp"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as fh:
            used: set[str] = set()
            for sheet, rows, totals in prepared:
                _write_sheet(wb.create_sheet(sheet_title(sheet.title, used)), sheet, rows, totals)
            wb.save(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        reason = _REASONS.get(exc.errno) or f"系统错误：{exc.strerror or exc}"
        log.warning("Cannot write %s: %s", path, exc)
        raise XlsxWriteError(f"无法保存 Excel 文件“{path}”：{reason}。请检查后重试，或换一个位置保存。",
                             file=str(path)) from exc
    finally:
        if tmp is not None:
            _discard(wb, tmp)
    fsync_dir(path.parent)
    log.info("Wrote %s (%d sheets, %d rows)", path, len(sheets), sum(len(rows) for _, rows, _ in prepared))
    return path


def sheet_title(title: str, used: set[str] | None = None) -> str:
    """A valid, unique sheet name: no []:*?/\\, no leading/trailing quote, at most 31 characters."""
    base = _BAD_TITLE.sub("_", ILLEGAL_CHARACTERS_RE.sub("", title)).strip().strip("'")[:31] or "Sheet"
    if base.lower() == "history":  # reserved by Excel
        base += "_"
    used = set() if used is None else used
    name, n = base, 1
    while name.lower() in used:
        n += 1
        name = f"{base[:31 - len(str(n)) - 2]}({n})"
    used.add(name.lower())
    return name


# -- cells ----------------------------------------------------------------------------------------------------------
def _prepare(sheet: Sheet, path: Path) -> tuple[Sheet, list[list], list | None]:
    if len(sheet.notes) + len(sheet.rows) + 3 > MAX_ROWS:
        raise XlsxWriteError(f"“{sheet.title}”有 {len(sheet.rows)} 行，超过 Excel 每张工作表的行数上限，"
                             "请缩小范围后分批导出。", file=str(path))
    rows = [_values(r, sheet.columns) for r in sheet.rows]
    return sheet, rows, _values(sheet.totals, sheet.columns) if sheet.totals is not None else None


def _write_sheet(ws, sheet: Sheet, rows: list[list], totals: list | None) -> None:
    columns = sheet.columns
    sample = rows[:WIDTH_SAMPLE] + ([totals] if totals else [])
    for i, col in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width or _width(col, (r[i - 1] for r in sample))
    header_row = len(sheet.notes) + (2 if sheet.notes else 1)  # notes, a blank line, the header
    ws.freeze_panes = f"A{header_row + 1}"  # before the first row: a write-only sheet writes its views first
    for note in sheet.notes:
        ws.append([_cell(ws, note, "text")])
    if sheet.notes:
        ws.append([])
    header = []
    for col in columns:
        cell = _cell(ws, col.header, "text")
        cell.font, cell.fill, cell.alignment = _BOLD, _HEADER_FILL, _HEADER_ALIGN
        header.append(cell)
    ws.append(header)
    for values in rows:
        ws.append([_cell(ws, v, c.kind) for v, c in zip(values, columns, strict=True)])
    if rows and columns:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + len(rows)}"
    if totals is not None:
        cells = [_cell(ws, v, c.kind) for v, c in zip(totals, columns, strict=True)]
        for cell in cells:
            cell.font, cell.border = _BOLD, _TOTAL_BORDER
        ws.append(cells)


def _values(row: Sequence | Mapping, columns: list[Column]) -> list:
    if isinstance(row, Mapping):
        return [row.get(c.key) if c.key else None for c in columns]
    if len(row) != len(columns):
        raise ValueError(f"row has {len(row)} values for {len(columns)} columns")
    return list(row)


def _cell(ws, value, kind: Kind) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    if value is None:
        return cell
    if kind == "text":
        _text(cell, value)
    elif kind == "date":
        day = _as_date(value)
        if day is None:
            _text(cell, value)
        else:
            cell.value = day
            cell.number_format = FORMATS["datetime" if isinstance(day, datetime) else "date"]
    else:
        number, fmt = _as_number(value, kind)
        if number is None:
            _text(cell, value)
            cell.alignment = _RIGHT
        else:
            cell.value, cell.number_format = number, fmt
    return cell


def _text(cell: WriteOnlyCell, value) -> None:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]
    cell.value = text
    cell.data_type = "s"  # never a formula, whatever it starts with
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True  # and stays text when edited in Excel


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    return None


def _as_number(value, kind: Kind) -> tuple[int | float | None, str]:
    if isinstance(value, bool):
        return None, ""
    if isinstance(value, str):
        m = _PERCENT.match(value.strip())
        if m and kind in ("percent", "number"):
            return (int(m[1]) * 10 + int(m[2] or 0)) / 1000, FORMATS["percent"]
        return None, ""
    if isinstance(value, int | float):
        if kind == "number":
            return value, FORMATS["int" if isinstance(value, int) else "float"]
        return value, FORMATS[kind]
    return None, ""


# -- widths ---------------------------------------------------------------------------------------------------------
def _width(col: Column, values) -> float:
    widest = _display_width(col.header) + 2  # bold header
    for v in values:
        if v is None:
            continue
        if col.kind == "date" and _as_date(v) is not None:
            w = 16 if isinstance(v, datetime) else 10
        elif isinstance(v, float):
            w = len(f"{v:.1f}")
        else:
            w = max((_display_width(line) for line in str(v).splitlines()), default=0)
        widest = max(widest, w)
    return min(MAX_WIDTH, max(MIN_WIDTH, widest + 2))


def _display_width(text: str) -> int:
    """Columns the text takes in a monospaced view: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# -- saving ---------------------------------------------------------------------------------------------------------
def _discard(wb: Workbook, tmp: str) -> None:
    """After a failure: remove our temporary file and finish the streamed sheets (their own temporary files too)."""
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    for ws in wb.worksheets:
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            os.unlink(ws._writer.out)  # openpyxl streams each sheet to a temporary file until save
