"""`roster import` / `roster export` (DESIGN §8, issue #7): the JSON preview per row, exit codes, --dry-run and
--strict writing nothing, the error report, and the export → import round trip through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app import cli, uscc
from app.services import Services

ROOT = Path(__file__).resolve().parents[2]


def good_code(n: int, region: str = "410105") -> str:
    body = f"MA{n:06d}"
    return uscc.make(f"91{region}{body}{uscc.org_code_check(body)}")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "金水区.db"
    s = Services.open(path)
    s.initialise(role="station", unit_name="金水区", operator="王磊")
    s.close()
    return path


@pytest.fixture
def messy(tmp_path) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in [["金水区企业名单"], [], ["序号", "单位名称", "社会信用代码", "区县", "联系电话", "标签"],
                [1, "郑州甲科技有限公司", good_code(1), "金水区", 13800138000, "专精特新"],
                [2, "郑州乙机械有限公司", good_code(2)[:17] + "0" if good_code(2)[17] != "0" else good_code(2)[:17] + "1",
                 "金水区", None, None],
                [3, "郑州甲科技有限公司", good_code(1), "金水区", None, None],
                [4, "郑州丙食品有限公司", None, "金水", "0371-63886666", None],
                ["合计", "3 家"]]:
        ws.append(row)
    ws.merge_cells("A1:F1")
    path = tmp_path / "名单.xlsx"
    wb.save(path)
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(db: Path, table: str) -> int:
    s = Services.open(db)
    try:
        return s.store.scalar(f"SELECT count(*) FROM {table} WHERE deleted = 0")
    finally:
        s.close()


def test_dry_run_json_gives_every_rows_verdict_and_writes_nothing(capsys, db, messy):
    before = count(db, "enterprises"), count(db, "audit_log")
    code, out, err = run(capsys, "roster", "import", messy, "--db", db, "--dry-run", "--json")
    rows = json.loads(out)
    assert [(r["row"], r["action"]) for r in rows] == [(4, "new"), (5, "error"), (6, "error"), (7, "new")]
    assert "校验位错误" in rows[1]["messages"][0] and "与第 4 行" in rows[2]["messages"][0]
    assert any("未填写统一社会信用代码" in m for m in rows[3]["messages"])
    assert code == 3 and "第 5 行" in err and "第 6 行" in err and "跳过 合计行 1 行" in err
    assert (count(db, "enterprises"), count(db, "audit_log")) == before


def test_import_writes_accepted_rows_and_the_report(capsys, db, messy, tmp_path):
    report = tmp_path / "问题.xlsx"
    code, out, err = run(capsys, "roster", "import", messy, "--db", db, "--report", report)
    assert code == 3 and "新增 2" in err and "2 行有错误" in err
    assert count(db, "enterprises") == 2
    ws = load_workbook(report).active
    assert [r[-2] for r in ws.iter_rows(min_row=4, values_only=True)] == [5, 6]
    # Once imported, the same file has nothing new.
    code, out, _ = run(capsys, "roster", "import", messy, "--db", db, "--dry-run", "--json")
    assert [r["action"] for r in json.loads(out)] == ["unchanged", "error", "error", "unchanged"]


def test_strict_writes_nothing_when_a_row_is_bad(capsys, db, messy):
    code, _, err = run(capsys, "roster", "import", messy, "--db", db, "--strict")
    assert code == 3 and "--strict" in err
    assert count(db, "enterprises") == 0


def test_clean_file_exits_zero_and_the_table_is_readable(capsys, db, tmp_path):
    wb = Workbook()
    wb.active.append(["企业名称", "统一社会信用代码"])
    wb.active.append(["郑州甲科技有限公司", good_code(1)])
    wb.save(tmp_path / "a.xlsx")
    code, out, err = run(capsys, "roster", "import", tmp_path / "a.xlsx", "--db", db)
    assert code == 0 and "行号" in out and "新增" in out and "郑州甲科技有限公司" in out
    assert "企业名单已导入：新增 1" in err


def test_export_then_import_changes_nothing(capsys, db, messy, tmp_path):
    run(capsys, "roster", "import", messy, "--db", db)
    out_file = tmp_path / "导出.xlsx"
    code, out, err = run(capsys, "roster", "export", "--db", db, "--out", out_file)
    assert code == 0 and out.strip() == str(out_file) and "已导出 2 行" in err
    code, out, _ = run(capsys, "roster", "import", out_file, "--db", db, "--json")
    assert code == 0 and [r["action"] for r in json.loads(out)] == ["unchanged", "unchanged"]
    csv_file = tmp_path / "导出.csv"
    assert run(capsys, "roster", "export", "--db", db, "--out", csv_file)[0] == 0
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")
    code, out, _ = run(capsys, "roster", "import", csv_file, "--db", db, "--json")
    assert code == 0 and [r["action"] for r in json.loads(out)] == ["unchanged", "unchanged"]


@pytest.mark.parametrize("argv,code,message", [
    (["roster"], 2, "请指定名单子命令"),
    (["roster", "import", "没有.xlsx"], 2, "名单文件不存在"),
    (["roster", "export", "--out", "x.pdf"], 2, ".xlsx 或 .csv"),
])
def test_usage_errors(capsys, db, tmp_path, argv, code, message):
    argv = [a if a != "没有.xlsx" else str(tmp_path / a) for a in argv]
    if argv[:2] in (["roster", "import"], ["roster", "export"]):
        argv += ["--db", str(db)]
    got, _, err = run(capsys, *argv)
    assert got == code and message in err


def test_bad_file_is_rejected_with_exit_3(capsys, db, tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_text("这不是工作簿", encoding="utf-8")
    code, _, err = run(capsys, "roster", "import", bad, "--db", db)
    assert code == 3 and "“坏.xlsx”不是有效的 .xlsx 工作簿" in err


def test_main_py_subprocess(db, messy):
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "roster", "import", str(messy), "--db", str(db),
                           "--dry-run", "--json"], capture_output=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 3
    rows = json.loads(proc.stdout.decode("utf-8"))
    assert [r["row"] for r in rows] == [4, 5, 6, 7]
