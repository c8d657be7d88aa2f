"""Excel exports of what the 统计 screen and other tables show: the whole 统计报表 and any single table.

`stats_workbook` writes sheet 总体 (every headline figure with its 口径) and one sheet per breakdown dimension with
the dimension's 口径 note and a 合计 row taken from the headline (none where rows share records, e.g. by cadre), so
the workbook's numbers are the screen's and the CLI's JSON's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from app.clock import SHANGHAI
from app.stats import (
    DEFINITIONS,
    DIMENSION_LABELS,
    DIMENSIONS,
    KEYS,
    NON_ADDITIVE_DIMENSIONS,
    STATS_VERSION,
    Period,
    dimension_note,
    figure_label,
)
from app.xlsx import Column, Sheet, write_workbook

TITLE = "助企工作统计报表"
# The breakdown columns the 统计 screen shows, in its order.
BREAKDOWN_KEYS = ("enterprises_covered", "enterprise_visits", "symposia", "problems_collected", "problems_solved",
                  "solve_rate", "overdue", "missed_deadline", "avg_workdays_to_solve", "satisfaction_rate")
KINDS = {"solve_rate": "percent", "satisfaction_rate": "percent", "avg_workdays_to_solve": "float"}
# Problem-only dimensions group problems, so visits and 包联 have no row to go to; 包联 is a figure at the cut-off,
# not a monthly one. These columns are left out of those sheets rather than shown as zeros.
NOT_BY = {"category": {"enterprises_covered", "enterprise_visits", "symposia"},
          "department": {"enterprises_covered", "enterprise_visits", "symposia"},
          "level": {"enterprises_covered", "enterprise_visits", "symposia"},
          "month": {"enterprises_covered"}}
OMITTED_NOTES = {"month": "包联企业为截止日时点数，不按月分列。"}


def label(key: str) -> str:
    """The figure's name as its 口径 definition gives it ("解决率"), with the unit where it is not a count."""
    name = figure_label(key)
    return f"{name}（工作日）" if key == "avg_workdays_to_solve" else name


def stats_workbook(services, path: Path | str, period: Period, unit_id: str | None = None) -> Path:
    """The 统计报表 of `period` (and one district when `unit_id` is given) as an .xlsx file at `path`."""
    stats = services.stats
    scope = services.reference.unit(unit_id).name if unit_id else "全部单位"
    head = stats.headline(period, unit_id)
    lines = [f"统计范围：{scope}", f"统计期：{period.label()}", f"统计截止日：{period.cutoff.isoformat()}",
             f"统计口径版本：{STATS_VERSION}", f"导出时间：{datetime.now(SHANGHAI):%Y-%m-%d %H:%M}"]
    sheets = [Sheet("总体", [Column("指标"), Column("数值", "number"), Column("口径说明")],
                    [(label(k), _shown(head[k]), DEFINITIONS[k]) for k in KEYS], notes=[TITLE, *lines])]
    summary = "；".join(lines[:4]) + "。"
    for dim in DIMENSIONS:
        keys = [k for k in BREAKDOWN_KEYS if k not in NOT_BY.get(dim, ())]
        columns = [Column(DIMENSION_LABELS[dim]), *(Column(label(k), KINDS.get(k, "int")) for k in keys)]
        rows = [(r["label"], *(_shown(r[k]) for k in keys)) for r in stats.breakdown(dim, period, unit_id)]
        additive = rows and dim not in NON_ADDITIVE_DIMENSIONS
        totals = ("合计", *(_shown(head[k]) for k in keys)) if additive else None
        notes = [f"{TITLE}（按{DIMENSION_LABELS[dim]}）", summary, dimension_note(dim) + OMITTED_NOTES.get(dim, "")]
        sheets.append(Sheet(f"按{DIMENSION_LABELS[dim]}", columns, rows, notes, totals))
    return write_workbook(path, sheets)


def table_workbook(path: Path | str, title: str, columns: Sequence[Column], rows: Sequence[Sequence | Mapping],
                   notes: Sequence[str] = ()) -> Path:
    """Any one table (a list, a drill-down) as a one-sheet workbook: the title and notes above a frozen header."""
    return write_workbook(path, [Sheet(title, list(columns), list(rows), [title, *notes])])


def _shown(value):
    """What the screen prints for a figure: None (no solved problem to average) is "—"."""
    return "—" if value is None else value
