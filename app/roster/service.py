"""Roster import and export (名单与台账): read an office's spreadsheet, preview every row, write the accepted rows in
one transaction, write the rejected rows to an error report; and export the rosters in the layout import reads.

    raw = roster.read(path)                  # cells of the sheet
    layout = roster.layout(raw)              # header row, kind, column → field (the GUI lets the user change it)
    preview = roster.plan(raw, layout)       # one RowPlan per data row; nothing written
    result = roster.commit(preview)          # new + update rows, one transaction, after a backup
    roster.error_report(preview, out)        # the error rows, to fix and import again
"""

from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass
from pathlib import Path

from app.errors import AppError
from app.roster import assignment_rows, cadre_rows, enterprise_rows
from app.roster.columns import FIELDS, KINDS, REQUIRED, Layout, auto_mapping, complete, find_layout
from app.roster.plan import ACTIONS, Preview, data_rows
from app.roster.reader import RawSheet, read_sheet
from app.roster.values import plain_text
from app.xlsx import Column, Sheet, write_workbook

_ROWS = {"enterprises": enterprise_rows, "cadres": cadre_rows, "assignments": assignment_rows}


@contextlib.contextmanager
def _bulk():
    """Python's cycle collector pauses while a roster's rows are read, planned or written: those are hundreds of
    thousands of small lists and dicts without cycles, and the collector's repeated scans of them cost a fifth of
    a 50,000-row import (bench/bench_roster.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class RosterError(AppError):
    """The sheet cannot be imported as a roster (no header recognised, a required column missing)."""


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int
    rejected: int

    @property
    def message(self) -> str:
        text = f"{KINDS[self.kind]}已导入：新增 {self.created}，更新 {self.updated}，无变化 {self.unchanged}"
        if self.rejected:
            text += f"；{self.rejected} 行有错误，未导入"
        return text + "。"


class RosterService:
    def __init__(self, services):
        self.services = services
        self.ctx = services.ctx

    # -- import ---------------------------------------------------------------------------------------------------
    def read(self, path: Path | str, sheet: str | None = None) -> RawSheet:
        with _bulk():
            return read_sheet(path, sheet)

    def layout(self, raw: RawSheet, kind: str | None = None, header_row: int | None = None) -> Layout:
        """Where the header is and what each column holds; `header_row` forces the row (the mapping step)."""
        if header_row is None:
            return find_layout(raw.rows, kind)
        cells = next((c for n, c in raw.rows if n == header_row), [])
        return Layout(kind, header_row, list(cells), auto_mapping(kind, cells) if kind else {})

    def preview(self, path: Path | str, kind: str | None = None, sheet: str | None = None) -> Preview:
        """Read, find the header (on the active sheet, else on the first sheet that has one) and plan every row."""
        raw = self.read(path, sheet)
        layout = self.layout(raw, kind)
        if layout.kind is None or not complete(layout.kind, layout.mapping):
            for other in raw.sheets if sheet is None else ():
                if other != raw.sheet:
                    candidate = self.read(path, other)
                    found = self.layout(candidate, kind)
                    if found.kind is not None and complete(found.kind, found.mapping):
                        raw, layout = candidate, found
                        break
        return self.plan(raw, layout)

    def plan(self, raw: RawSheet, layout: Layout) -> Preview:
        name = raw.path.name + (f"（工作表“{raw.sheet}”）" if raw.sheet and len(raw.sheets) > 1 else "")
        if layout.kind is None:
            raise RosterError(f"未能识别“{name}”的表头：前几行中没有“企业名称”“姓名”“包联干部”等列名。"
                              "请检查文件，或在“导入名单”窗口中指定表头行和各列对应的内容。", file=str(raw.path))
        if not complete(layout.kind, layout.mapping):
            labels = {f.key: f.label for f in FIELDS[layout.kind]}
            missing = ["或".join(f"“{labels[k]}”" for k in group) for group in REQUIRED[layout.kind]
                       if not any(k in layout.mapping.values() for k in group)]
            raise RosterError(f"“{name}”作为{KINDS[layout.kind]}缺少必需的列：{'、'.join(missing)}。"
                              f"（表头在第 {layout.header_row} 行）", file=str(raw.path))
        with _bulk():
            plans, skipped = data_rows(raw.rows, layout)
            _ROWS[layout.kind].plan(self.ctx, plans)
        return Preview(layout.kind, raw.path, raw.sheet, layout, plans, skipped, raw.sheets)

    def commit(self, preview: Preview) -> ImportResult:
        """Write the preview's new and changed rows in one transaction (after a backup); error rows are left out."""
        counts = preview.counts()
        created = updated = 0
        if preview.writes:
            self.services.backups.before("import")
            with _bulk(), self.ctx.writing() as w:
                created, updated = _ROWS[preview.kind].write(w, preview.rows)
        return ImportResult(preview.kind, created, updated, counts["unchanged"], counts["error"])

    def error_report(self, preview: Preview, out: Path | str) -> Path:
        """The rows that were not imported, with their header and a 导入问题 column: fix them and import this file."""
        header = [plain_text(c) or f"列{i + 1}" for i, c in enumerate(preview.layout.header)]
        width = max([len(header)] + [len(p.cells) for p in preview.errors])
        header += [f"列{i + 1}" for i in range(len(header), width)]
        rows = [[plain_text(v) if v is not None else None for v in p.cells] + [None] * (width - len(p.cells))
                + [p.row, "；".join(p.messages)] for p in preview.errors]
        columns = [Column(h) for h in header] + [Column("原行号", "int"), Column("导入问题", width=60)]
        note = (f"“{preview.path.name}”中未导入的 {len(rows)} 行。按“导入问题”一列改正后，可直接重新导入本文件"
                "（“原行号”和“导入问题”两列会被忽略）。")
        return write_workbook(out, [Sheet("导入问题", columns, rows, notes=[note])])

    # -- export ---------------------------------------------------------------------------------------------------
    def export(self, out: Path | str, kind: str = "enterprises") -> tuple[Path, int]:
        """A roster as .xlsx or .csv in the layout import reads (a round trip changes nothing); the personal data it
        carries is logged (app/list_export.py)."""
        from app.list_export import export_records
        from app.record_tables import RecordTable
        from app.roster.export import roster_rows

        rows = roster_rows(self.ctx, kind)
        table = RecordTable(kind, [(f.key, f.label) for f in FIELDS[kind]], rows)
        return export_records(self.services, out, KINDS[kind], table), len(rows)


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
