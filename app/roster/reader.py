"""Reading a spreadsheet the office sent: .xlsx through openpyxl (read-only, values not formulas), .csv in UTF-8
(with or without BOM), UTF-16 or GB18030 — into plain rows numbered as Excel numbers them.

Safety (DESIGN §7): the file is refused, with a Chinese message naming it, when it is larger than MAX_FILE_BYTES,
when its zip members would unpack to more than MAX_UNPACKED_BYTES (a zip bomb) or when a sheet declares more than
MAX_ROWS rows or MAX_COLUMNS columns. openpyxl parses the XML through defusedxml, which must be installed.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from app.errors import AppError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 200
SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt")


class SheetReadError(AppError):
    """The file cannot be read as a table; nothing was imported."""


@dataclass
class RawSheet:
    """The cells of one sheet: `rows` are (Excel row number, values), empty rows left out."""

    path: Path
    sheet: str  # the sheet's name ("" for a CSV file)
    rows: list[tuple[int, list]]
    sheets: tuple[str, ...] = ()  # every sheet of the workbook, in order


def read_sheet(path: Path | str, sheet: str | None = None) -> RawSheet:
    """Read one sheet (the workbook's active sheet unless named) or the whole CSV file."""
    path = Path(path)
    _check_file(path)
    if path.suffix.lower() in (".csv", ".txt"):
        return RawSheet(path, "", _csv_rows(path))
    return _xlsx_rows(path, sheet)


def sheet_names(path: Path | str) -> tuple[str, ...]:
    path = Path(path)
    if path.suffix.lower() in (".csv", ".txt"):
        return ("",)
    _check_file(path)
    wb = _open_workbook(path)
    try:
        return tuple(wb.sheetnames)
    finally:
        wb.close()


# -- checks -----------------------------------------------------------------------------------------------------
def _check_file(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".xls", ".et", ".wps"):
        raise SheetReadError(f"“{path.name}”是旧版 Excel（{suffix}）格式，不能直接导入。请在 Excel 或 WPS 中"
                             "“另存为” .xlsx 工作簿后再导入。", file=str(path))
    if suffix not in SUFFIXES:
        raise SheetReadError(f"“{path.name}”不是可导入的表格文件：请选择 .xlsx 工作簿或 .csv 文件。", file=str(path))
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SheetReadError(f"找不到文件“{path}”。", file=str(path)) from None
    except OSError as exc:
        raise SheetReadError(f"无法读取文件“{path}”：{exc.strerror or exc}。", file=str(path)) from exc
    if size > MAX_FILE_BYTES:
        raise SheetReadError(f"“{path.name}”有 {size / 1024 / 1024:.1f} MB，超过导入上限 "
                             f"{MAX_FILE_BYTES // 1024 // 1024} MB。请拆分成几个文件后分别导入。", file=str(path))
    if size == 0:
        raise SheetReadError(f"“{path.name}”是空文件。", file=str(path))


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetReadError(f"“{path.name}”不是有效的 .xlsx 工作簿（文件已损坏，或扩展名与内容不符）。",
                             file=str(path)) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise SheetReadError(f"“{path.name}”解压后超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB，不像正常的名单表，"
                             "已拒绝导入。", file=str(path))


# -- xlsx -------------------------------------------------------------------------------------------------------
def _open_workbook(path: Path):
    from openpyxl import load_workbook
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # never parse an outside file's XML without it (entity expansion, external entities)
        raise SheetReadError("缺少安全组件 defusedxml，为安全起见不读取 Excel 文件。请重新安装本程序。", file=str(path))
    _check_zip(path)
    try:
        # read_only streams the rows; data_only gives a formula's last computed value, never the formula text
        return load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged or foreign files
        log.warning("Cannot open %s: %r", path, exc)
        raise SheetReadError(f"无法打开“{path.name}”：文件已损坏、被加密，或不是 Excel 工作簿。", file=str(path)) from exc


def _xlsx_rows(path: Path, sheet: str | None) -> RawSheet:
    wb = _open_workbook(path)
    try:
        names = tuple(wb.sheetnames)
        if sheet is not None and sheet not in names:
            raise SheetReadError(f"“{path.name}”中没有名为“{sheet}”的工作表。", file=str(path))
        ws = wb[sheet] if sheet is not None else wb.active
        if ws is None or not hasattr(ws, "iter_rows"):  # a chart sheet is active
            ws = next(wb[n] for n in names if hasattr(wb[n], "iter_rows"))
        declared_rows, declared_cols = ws.max_row, ws.max_column
        if declared_rows and declared_rows > MAX_ROWS or declared_cols and declared_cols > MAX_COLUMNS:
            raise SheetReadError(
                f"“{path.name}”的工作表“{ws.title}”有 {declared_rows} 行、{declared_cols} 列，超过导入上限"
                f"（{MAX_ROWS} 行、{MAX_COLUMNS} 列）。请删除多余的行列或拆分文件后再导入。", file=str(path))
        rows: list[tuple[int, list]] = []
        try:
            for number, values in enumerate(ws.iter_rows(values_only=True), 1):
                if number > MAX_ROWS or len(values) > MAX_COLUMNS and any(v is not None for v in values[MAX_COLUMNS:]):
                    raise SheetReadError(f"“{path.name}”的工作表“{ws.title}”超过导入上限（{MAX_ROWS} 行、"
                                         f"{MAX_COLUMNS} 列），请删除多余的行列或拆分文件后再导入。", file=str(path))
                cells = list(values[:MAX_COLUMNS])
                while cells and (cells[-1] is None or cells[-1] == ""):
                    cells.pop()
                if cells:
                    rows.append((number, cells))
        except SheetReadError:
            raise
        except Exception as exc:
            log.warning("Cannot read %s: %r", path, exc)
            raise SheetReadError(f"读取“{path.name}”时出错：文件内容已损坏。", file=str(path)) from exc
        return RawSheet(path, ws.title, rows, names)
    finally:
        wb.close()


# -- csv --------------------------------------------------------------------------------------------------------
def decode_csv(data: bytes, name: str) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or GB18030
    (what Excel and WPS write on a Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetReadError(f"无法识别“{name}”的文字编码：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后再导入。",
                         file=name)


def _csv_rows(path: Path) -> list[tuple[int, list]]:
    try:
        text = decode_csv(path.read_bytes(), path.name)
    except OSError as exc:
        raise SheetReadError(f"无法读取文件“{path}”：{exc.strerror or exc}。", file=str(path)) from exc
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    rows: list[tuple[int, list]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, 1):  # one record = one row as Excel shows it
            if number > MAX_ROWS:
                raise SheetReadError(f"“{path.name}”的行数超过导入上限 {MAX_ROWS} 行，请拆分文件后再导入。",
                                     file=str(path))
            if len(values) > MAX_COLUMNS:
                raise SheetReadError(f"“{path.name}”第 {number} 行有 {len(values)} 列，超过导入上限 {MAX_COLUMNS} 列。",
                                     file=str(path))
            if any(v.strip() for v in values):
                rows.append((number, [_undefused(v) for v in values]))
    except csv.Error as exc:
        raise SheetReadError(f"“{path.name}”不是有效的 CSV 文件：{exc}。", file=str(path)) from exc
    return rows


def _undefused(text: str) -> str:
    """A CSV export puts ' before text starting with = + - @ so spreadsheets do not run it (app/list_export.py);
    the text itself is what follows."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text
