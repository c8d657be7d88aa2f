"""`roster import` and `roster export` (DESIGN §8): the command-line face of app/roster/service.py."""

from __future__ import annotations

import sys
from pathlib import Path

from app.cli import UsageError, _json, _out, _session, _table
from app.roster.plan import ACTIONS

MAX_LISTED = 20  # error rows named on stderr; the rest are in the preview and the report


def run(args) -> int:
    if args.roster_command == "export":
        return _export(args)
    return _import(args)


def _import(args) -> int:
    path = Path(args.file).expanduser()
    if not path.is_file():
        raise UsageError(f"名单文件不存在：{path}")
    kind = None if args.kind == "auto" else args.kind
    with _session(args) as services:
        roster = services.roster
        preview = roster.preview(path, kind, args.sheet)
        errors = preview.errors
        write = not args.dry_run and not (args.strict and errors)
        result = roster.commit(preview) if write else None
        if args.report and errors:
            roster.error_report(preview, Path(args.report).expanduser())
    if args.json:
        _json(preview.to_json())
    else:
        _print_preview(preview)
    print(preview.summary(), file=sys.stderr)
    if result is not None:
        print(result.message, file=sys.stderr)
    elif args.dry_run:
        print("预览完成，未写入数据库（--dry-run）。", file=sys.stderr)
    else:
        print(f"有 {len(errors)} 行有错误，按 --strict 全部未导入。", file=sys.stderr)
    if errors:
        listed = "；".join(f"第 {p.row} 行：{p.errors[0]}" for p in errors[:MAX_LISTED])
        more = f"等 {len(errors)} 行" if len(errors) > MAX_LISTED else ""
        print(f"错误：“{path.name}”{listed}{more}。", file=sys.stderr)
        if args.report:
            print(f"错误报告已写入：{Path(args.report).expanduser()}", file=sys.stderr)
        return 3
    return 0


def _print_preview(preview) -> None:
    _out(f"文件：{preview.path.name}" + (f"　工作表：{preview.sheet}" if preview.sheet else "")
         + f"　表头：第 {preview.layout.header_row} 行　种类：{preview.kind_label}")
    _out("读取的列：" + "、".join(f"{col}→{label}" for col, label in preview.mapped_columns()))
    unmapped = preview.unmapped_columns()
    if unmapped:
        _out("未读取的列：" + "、".join(unmapped))
    rows = [[str(p.row), ACTIONS[p.action], p.label, "；".join(p.messages)] for p in preview.rows]
    for line in _table(["行号", "结果", "名称", "说明"], rows, [True, False, False, False]):
        _out(line)


def _export(args) -> int:
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"--out 应是 .xlsx 或 .csv 文件：{out}")
    if not out.parent.is_dir():
        raise UsageError(f"--out 所在的文件夹不存在：{out.parent}")
    with _session(args) as services:
        path, count = services.roster.export(out, args.kind)
    _out(str(path))
    print(f"已导出 {count} 行。", file=sys.stderr)
    return 0
