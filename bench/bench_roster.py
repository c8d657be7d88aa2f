"""Roster import benchmark: a city-style enterprise roster of --rows rows (default 50,000) imported into an empty
district database, against openpyxl's own read of the same file, timed in the same run.

    .venv/bin/python bench/bench_roster.py                 # 50,000 rows (≈ 1–2 min)
    .venv/bin/python bench/bench_roster.py --rows 5000     # a quick check
    .venv/bin/python bench/bench_roster.py --profile       # + one cProfile run of the import

What is timed (median of --runs)
  baseline   openpyxl.load_workbook(read_only=True, data_only=True) and iterating every row's values: the least any
             reader of this file must do.
  preview    RosterService.preview(path): read + find the header + check and match every row (nothing written) —
             what `roster import --dry-run` and the GUI's preview cost.
  import     preview + RosterService.commit into a fresh copy of the empty database: one transaction writing every
             enterprise with its outbox, audit and search-index rows. The backup before the import is skipped
             (the database is empty; its cost is the backup's, not the import's).
  update     the same file again with every 10th phone changed, into the imported database: 10 % updates, 90 %
             unchanged.

ratio = our time ÷ baseline time (lower is better); goal: import ≤ 2 × baseline. The file is messy like a real
one: a merged title row, header on row 3, header variants, full-width and lower-case credit codes, numeric phones,
blank rows every 1,000 rows and a 合计 row. Results: bench/results/roster.json (git-ignored).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402

from app import uscc  # noqa: E402
from app.services import Services  # noqa: E402

RESULTS = ROOT / "bench" / "results"
REGION = {"金水区": "410105", "中原区": "410102", "二七区": "410103", "惠济区": "410108"}
WORDS = "华瑞恒通达信兴泰宏昌鑫源博隆盛安嘉和德隆丰顺科创新材智能精密机械电子食品物流商贸建设环保医药"
KINDS = ("科技", "机械", "电子", "食品", "物流", "商贸", "建设", "环保", "医药", "材料")
TAGS = ("专精特新", "高新技术企业", "科技型中小企业", "瞪羚", "链主", "三高")


def code(n: int, region: str) -> str:
    body = f"MA{n:06d}"[-8:]
    return uscc.make(f"91{region}{body}{uscc.org_code_check(body)}")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def make_roster(path: Path, rows: int, seed: int, changed_every: int = 0) -> Path:
    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("企业名单")
    ws.append(["郑州市“万人助万企”包联企业名单"])
    ws.append(["填报单位：市工信局", None, None, None, None, None, "2026年11月"])
    ws.append(["序号", "企业全称", "信用代码", "属地", "乡镇（街道）", "详细地址", "行业", "企业规模", "企业类别",
               "法人", "联系人", "手机", "备注"])
    units = list(REGION)
    for i in range(rows):
        if i and i % 1000 == 0:
            ws.append([])
        unit = units[i % len(units)]
        c = code(i + 1, REGION[unit])
        c = fullwidth(c) if i % 7 == 0 else c.lower() if i % 11 == 0 else c
        name = f"郑州{''.join(rnd.choice(WORDS) for _ in range(3))}{rnd.choice(KINDS)}有限公司{i:05d}"
        phone = 13800000000 + i
        if changed_every and i % changed_every == 0:
            phone += 1
        ws.append([i + 1, name, c, unit, f"{unit[:2]}街道", f"{unit}{rnd.randint(1, 300)}号", rnd.choice(KINDS),
                   rnd.choice(("小型", "微型", "中型")), "、".join(rnd.sample(TAGS, rnd.randint(0, 2))),
                   f"法人{i % 97}", f"联系人{i % 89}", phone, None])
    ws.append(["合计", f"共 {rows} 家"])
    wb.save(path)
    return path


def openpyxl_read(path: Path) -> int:
    wb = load_workbook(path, read_only=True, data_only=True)
    n = 0
    for _ in wb.active.iter_rows(values_only=True):
        n += 1
    wb.close()
    return n


def timed(fn, runs: int) -> tuple[float, list[float], object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        tmp = Path(tmp)
        print(f"writing a {args.rows}-row roster…", file=sys.stderr)
        roster = make_roster(tmp / "名单.xlsx", args.rows, args.seed)
        changed = make_roster(tmp / "名单2.xlsx", args.rows, args.seed, changed_every=10)
        empty = tmp / "empty.db"
        s = Services.open(empty)
        s.initialise(role="district", unit_name="金水区", operator="管理员")
        s.close()

        base, base_runs, nrows = timed(lambda: openpyxl_read(roster), args.runs)
        print(f"openpyxl read: {base:.2f} s ({nrows} rows)", file=sys.stderr)

        def fresh() -> Services:
            db = tmp / f"run-{time.monotonic_ns()}.db"
            shutil.copyfile(empty, db)
            svc = Services.open(db)
            svc.backups.before = lambda action: None  # an empty database: nothing to back up
            return svc

        svc = fresh()
        prev, prev_runs, preview = timed(lambda: svc.roster.preview(roster), args.runs)
        counts = dict(preview.counts())
        svc.close()
        print(f"preview: {prev:.2f} s {counts}", file=sys.stderr)

        def full_import():
            svc = fresh()
            try:
                return svc.roster.commit(svc.roster.preview(roster))
            finally:
                svc.close()

        imp, imp_runs, result = timed(full_import, args.runs)
        print(f"import: {imp:.2f} s (created {result.created})", file=sys.stderr)

        def update_run():
            svc = fresh()
            svc.roster.commit(svc.roster.preview(roster))
            start = time.perf_counter()
            res = svc.roster.commit(svc.roster.preview(changed))
            elapsed = time.perf_counter() - start
            svc.close()
            return elapsed, res

        upd_times = [update_run() for _ in range(max(1, args.runs - 1))]
        upd = statistics.median(t for t, _ in upd_times)
        upd_result = upd_times[-1][1]
        print(f"update: {upd:.2f} s (updated {upd_result.updated}, unchanged {upd_result.unchanged})",
              file=sys.stderr)

        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(full_import)
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(25)

    figures = {
        "rows": args.rows,
        "baseline_openpyxl_read_s": round(base, 3),
        "preview_s": round(prev, 3),
        "import_s": round(imp, 3),
        "update_s": round(upd, 3),
        "preview_ratio": round(prev / base, 2),
        "import_ratio": round(imp / base, 2),
        "update_ratio": round(upd / base, 2),
        "goal_import_ratio": 2.0,
        "preview_counts": counts,
        "runs": {"baseline": base_runs, "preview": prev_runs, "import": imp_runs},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "roster.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"{'figure':<10} {'seconds':>8} {'× openpyxl read':>16}")
    print(f"{'baseline':<10} {base:>8.2f} {1:>16.2f}")
    for label, value in (("preview", prev), ("import", imp), ("update", upd)):
        print(f"{label:<10} {value:>8.2f} {value / base:>16.2f}")
    print(f"goal: import ≤ 2.0 × baseline → {'met' if imp / base <= 2.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
