"""The preview of a roster import: one RowPlan per data row (new / update / unchanged / error, with the reasons in
Chinese and the Excel row number), and which rows were skipped (blank, 合计, notes, repeated headers)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.roster.columns import FIELDS, KINDS, Layout, column_label, header_key, is_total_row
from app.roster.values import is_blank, plain_text

ACTIONS = {"new": "新增", "update": "更新", "unchanged": "无变化", "error": "错误"}
WRITES = ("new", "update")
# Lines under a table that are not records (注：以上数据截至… / 填表人：…); no enterprise name starts so.
_NOTE_START = ("注:", "注：", "说明:", "说明：", "填表", "填报人", "填报单位", "制表", "审核人", "审核：", "附:", "附：")


@dataclass
class RowPlan:
    row: int  # the row number Excel shows
    cells: list  # the row as read (for the error report)
    fields: dict = field(default_factory=dict)  # field key -> raw cell value (mapped columns only)
    label: str = ""  # what the row is about (an enterprise's or a cadre's name)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what will happen (将更新：联系电话、地址)
    target_id: str | None = None  # the record an update changes
    values: dict = field(default_factory=dict)  # new: the record's values; update: the changed values
    ops: list = field(default_factory=list)  # 包联 rows: one (action, values, target_id) per cadre named
    planned: str = "new"  # new / update / unchanged, when there is no error

    @property
    def action(self) -> str:
        return "error" if self.errors else self.planned

    @property
    def messages(self) -> list[str]:
        return self.errors + self.warnings + self.notes

    def to_json(self) -> dict:
        return {"row": self.row, "action": self.action, "messages": self.messages, "label": self.label}


@dataclass
class Preview:
    kind: str
    path: Path
    sheet: str
    layout: Layout
    rows: list[RowPlan]
    skipped: list[tuple[int, str]]  # (row, reason)
    sheets: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    def counts(self) -> Counter:
        return Counter(p.action for p in self.rows)

    @property
    def writes(self) -> list[RowPlan]:
        return [p for p in self.rows if p.action in WRITES]

    @property
    def errors(self) -> list[RowPlan]:
        return [p for p in self.rows if p.action == "error"]

    def mapped_columns(self) -> list[tuple[str, str]]:
        """(column, field label) of each column read, e.g. ("B 单位名称", "企业名称")."""
        labels = {f.key: f.label for f in FIELDS[self.kind]}
        return [(_column_name(i, self.layout.header), labels[k]) for i, k in sorted(self.layout.mapping.items())]

    def unmapped_columns(self) -> list[str]:
        return [_column_name(i, self.layout.header) for i, cell in enumerate(self.layout.header)
                if i not in self.layout.mapping and plain_text(cell) and header_key(cell) not in ("序号", "编号")]

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{ACTIONS[a]} {c[a]} 行" for a in ACTIONS if c[a]]
        text = f"{self.kind_label}：共 {len(self.rows)} 行数据" + (f"（{'，'.join(parts)}）" if parts else "")
        reasons = Counter(reason for _, reason in self.skipped)
        if reasons:
            text += "；跳过 " + "、".join(f"{r} {n} 行" for r, n in reasons.items())
        return text + "。"

    def to_json(self) -> list[dict]:
        return [p.to_json() for p in self.rows]


def _column_name(index: int, header: list) -> str:
    text = plain_text(header[index]) if index < len(header) else ""
    return f"{column_label(index)} {text}".strip()


def data_rows(rows: list[tuple[int, list]], layout: Layout) -> tuple[list[RowPlan], list[tuple[int, str]]]:
    """The rows below the header that hold data, each with its mapped fields; and the rows skipped, with why."""
    mapping = layout.mapping
    header_keys = [header_key(c) for c in layout.header]
    first_header = next((i for i, k in enumerate(header_keys) if k), 0)  # a cheap test before comparing them all
    plans: list[RowPlan] = []
    skipped: list[tuple[int, str]] = []
    for number, cells in rows:
        if number <= layout.header_row:
            continue
        filled = [i for i, c in enumerate(cells) if not is_blank(c)]
        fields = {k: cells[i] for i, k in mapping.items() if i < len(cells) and not is_blank(cells[i])}
        if len(filled) <= 2 and plain_text(cells[filled[0]]).startswith(_NOTE_START):
            skipped.append((number, "说明文字"))
        elif not fields:
            skipped.append((number, "无数据的行"))
        elif is_total_row(cells):
            skipped.append((number, "合计行"))
        elif len(cells) > first_header < len(layout.header) and cells[first_header] == layout.header[first_header] and [
                header_key(c) for c in cells[:len(header_keys)]] == header_keys:
            skipped.append((number, "重复的表头"))
        else:
            plans.append(RowPlan(number, list(cells), fields))
    return plans, skipped
