"""Sync benchmark: a city-scale station's first package (export, import into an empty district hub, re-import) and
a second, incremental package after a few hundred edits, each against a bare-minimum baseline timed in the same run.

    .venv/bin/python bench/bench_sync.py                  # city demo, seed 1 (first run builds the cache: ≈ 1–2 min)
    .venv/bin/python bench/bench_sync.py --fresh          # rebuild the cached station and hub
    .venv/bin/python bench/bench_sync.py --size small     # a quick check of the script itself

What is timed (best of --runs; the big import best of --import-runs)
  export      station.sync.export(out) of every operation (read the outbox, canonical JSON Lines, zlib, sign,
              encrypt, atomic write with verification, the packages_out ledger row)
    baseline  json.dumps of the same operations (read untimed, exactly as the exporter sends them: outbox rows with
              old/new parsed, append-only inserts filled from their table) + write + fsync of one file
  import      hub.sync.import_files([package]) into the empty hub (verify, decrypt, parse, check every operation,
              merge, write, relay bookkeeping, search index, one transaction)
    baseline  executemany INSERT of every row the package creates (per table, the same columns, read back from the
              imported hub) into a freshly migrated database, in one transaction
  re-import   the same file again ("already"), as a share of the first import
  incremental after --edits edits on the station (enterprises, visit texts, problem steps) and a down package from
              the hub acknowledging the first one: export and import of the second package, against json.dumps
              + write + fsync and executemany INSERT/UPDATE of the rows it creates or changes

Goals: export ≤ 2 × baseline, import ≤ 3 × baseline, re-import ≤ 5 % of the import.

The generated station and hub (databases and their keys folders) are cached under bench/results/cache/ per size
and seed; every measurement works on copies in a temporary folder, so the cache is never changed. --profile
(default on) also runs cProfile once over an export and an import and reports the top functions.
Results: bench/results/sync-<timestamp>.json (git-ignored), the .prof files beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import demo  # noqa: E402
from app.services import Services  # noqa: E402
from app.sync.package import read_manifest  # noqa: E402
from db.changes import APPEND_ONLY  # noqa: E402
from db.store import open_store  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
CACHE_DIR = RESULTS_DIR / "cache"
GOALS = {"export": 2.0, "import": 3.0, "reimport_share": 0.05}
STATION, HUB = "station", "hub"
_CHUNK = 500


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the station and the hub ---------------------------------------------------------------------------------


def _site(folder: Path, name: str, role: str, unit: str, operator: str) -> Services:
    folder.mkdir(parents=True, exist_ok=True)
    services = Services.open(folder / f"{name}.db")
    services.initialise(role=role, unit_name=unit, operator=operator)
    return services


def _demo_progress():
    shown = [-1]

    def progress(done: int, total: int, text: str) -> None:
        step = int(10 * done / max(total, 1))
        if step != shown[0]:
            shown[0] = step
            log(f"  演示数据 {10 * step:3d}%  {text}")

    return progress


def build_cache(folder: Path, size: str, seed: int) -> dict:
    """A district hub and a station that joined it (invite → join → enroll), then the demo on the station."""
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    log(f"生成缓存 {folder.name}：汇总端 + 干部端，演示数据 --size {size} --seed {seed}（city 约 1 分钟）…")
    hub = _site(part / HUB, HUB, "district", "金水区", "钱区")
    station = _site(part / STATION, STATION, "station", "金水区", "王磊")
    try:
        files = part / "files"
        files.mkdir()
        invite = hub.sync.make_invite(files)
        request, _ = station.sync.join(invite, files)
        hub.sync.enroll(hub.sync.read_request(request))
        start = time.perf_counter()
        counts = demo.generate(station, size=size, seed=seed, progress=_demo_progress())
        meta = {"size": size, "seed": seed, "built_at": datetime.now().isoformat(timespec="seconds"),
                "demo_seconds": round(time.perf_counter() - start, 1), "demo": counts,
                "station_id": station.installation.id, "hub_id": hub.installation.id}
    finally:
        station.close()
        hub.close()
    shutil.rmtree(files, ignore_errors=True)
    (part / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    part.rename(folder)
    return meta


def cached(size: str, seed: int, fresh: bool) -> tuple[Path, dict]:
    folder = CACHE_DIR / f"sync-{size}-seed{seed}"
    if fresh or not (folder / "meta.json").is_file():
        build_cache(folder, size, seed)
    else:
        log(f"使用缓存 {folder.relative_to(ROOT)}（--fresh 重新生成）")
    return folder, json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def open_copy(src: Path, dst: Path, name: str) -> Services:
    """A working copy of a site folder (database + keys folder) and its services."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return Services.open(dst / f"{name}.db")


def close_and_remove(services: Services) -> None:
    folder = Path(services.store.path).parent
    services.close()
    shutil.rmtree(folder, ignore_errors=True)


# -- what the baselines get ----------------------------------------------------------------------------------


def read_ops(conn: sqlite3.Connection, after_seq: int = 0) -> list[dict]:
    """The operations as the exporter sends them: outbox rows with old/new parsed, append-only inserts (whose
    outbox row only points at the record) filled with the record itself."""
    assert conn.execute("SELECT count(*) FROM relay_ops").fetchone()[0] == 0, "a station relays nothing"
    ops = [{"origin": r[0], "seq": r[1], "table_name": r[2], "row_id": r[3], "op": r[4], "rev": r[5], "at": r[6],
            "old": None if r[7] is None else json.loads(r[7]), "new": None if r[8] is None else json.loads(r[8])}
           for r in conn.execute("SELECT origin, seq, table_name, row_id, op, rev, at, old, new FROM outbox"
                                 " WHERE seq > ? ORDER BY seq", (after_seq,))]
    need: dict[str, list[dict]] = defaultdict(list)
    for op in ops:
        if op["new"] is None and op["table_name"] in APPEND_ONLY:
            need[op["table_name"]].append(op)
    for table, group in need.items():
        found = _rows_by_id(conn, table, [op["row_id"] for op in group])[1]
        for op in group:
            op["new"] = found[op["row_id"]]
    return ops


def _rows_by_id(conn: sqlite3.Connection, table: str, ids: list[str]) -> tuple[tuple[str, ...], dict[str, dict]]:
    cols: tuple[str, ...] = ()
    found: dict[str, dict] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        cur = conn.execute(f"SELECT * FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        cols = tuple(d[0] for d in cur.description)
        for r in cur:
            found[r[0]] = dict(zip(cols, r, strict=True))
    return cols, found


def written_rows(conn: sqlite3.Connection, ops: list[dict]) -> dict[str, dict]:
    """Per table, the rows the package created ("insert") and changed ("update"), as the imported hub holds them.
    Only business rows: the seeded reference rows are in every migrated database and never travel up (a station's
    own 责任部门 do: they are units the package creates)."""
    ids: dict[str, dict[str, dict[str, None]]] = defaultdict(lambda: {"insert": {}, "update": {}})
    for op in ops:
        ids[op["table_name"]]["insert" if op["op"] == "insert" else "update"][op["row_id"]] = None
    out = {}
    for table, kinds in ids.items():
        created = list(kinds["insert"])
        changed = [i for i in kinds["update"] if i not in kinds["insert"]]
        cols, found = _rows_by_id(conn, table, created + changed)
        missing = len(created) + len(changed) - len(found)
        if missing:
            log(f"  注意：{table} 有 {missing} 条记录在导入后的汇总端找不到（合并为别名？）")
        out[table] = {"columns": cols,
                      "insert": [tuple(found[i][c] for c in cols) for i in created if i in found],
                      "update": [(*(found[i][c] for c in cols if c != "id"), i) for i in changed if i in found]}
    return out


def baseline_dump(ops: list[dict], path: Path) -> int:
    data = json.dumps(ops, ensure_ascii=False).encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return len(data)


def baseline_write(conn: sqlite3.Connection, tables: dict[str, dict]) -> int:
    """executemany of the same rows in one transaction (foreign keys checked at commit, as the merge does)."""
    n = 0
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("PRAGMA defer_foreign_keys = ON")
    for table, t in tables.items():
        cols = t["columns"]
        if t["insert"]:
            conn.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                             t["insert"])
        if t["update"]:
            sets = ",".join(f"{c} = ?" for c in cols if c != "id")
            conn.executemany(f"UPDATE {table} SET {sets} WHERE id = ?", t["update"])
        n += len(t["insert"]) + len(t["update"])
    conn.execute("COMMIT")
    return n


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                                        " 'sqlite_%' AND name NOT LIKE 'search_index_%' ORDER BY name")]
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in names}


# -- the edits between the two packages ------------------------------------------------------------------------


def make_edits(station: Services, n: int) -> dict[str, int]:
    """n edits as a cadre makes them, each its own save: half enterprise details, a third visit texts, the rest
    problem steps (催办, appended events and a status change)."""
    conn = station.store.conn
    done = {"enterprises": 0, "visits": 0, "problem_steps": 0}
    n_ent, n_vis = n // 2, n // 3
    for i, (eid,) in enumerate(conn.execute("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id LIMIT ?",
                                            (n_ent,)).fetchall()):
        station.enterprises.update(eid, {"address": f"金水路 {i + 1} 号（基准测试修改）"})
        done["enterprises"] += 1
    for (vid,) in conn.execute("SELECT id FROM visits WHERE deleted = 0 ORDER BY id LIMIT ?", (n_vis,)).fetchall():
        station.visits.update_text(vid, follow_up="下周电话回访，确认政策落实情况（基准测试修改）。")
        done["visits"] += 1
    wanted = n - n_ent - n_vis
    for (pid,) in conn.execute("SELECT id FROM problems WHERE deleted = 0 ORDER BY id").fetchall():
        if done["problem_steps"] >= wanted:
            break
        for kind in ("进展", "催办"):
            if kind in station.problems.allowed_steps(pid):
                with contextlib.suppress(Exception):
                    station.problems.take_step(pid, kind, note="基准测试：已电话联系责任单位。")
                    done["problem_steps"] += 1
                break
    return done


# -- timing --------------------------------------------------------------------------------------------------


def best_of(runs: int, fn, setup=None, teardown=None) -> tuple[float, list[float], list]:
    """Best (least) time of `runs` calls; setup() before each (untimed) gives fn its argument."""
    times, results = [], []
    for _ in range(runs):
        arg = setup() if setup else None
        start = time.perf_counter()
        result = fn(arg) if setup else fn()
        times.append(time.perf_counter() - start)
        results.append(result)
        if teardown:
            teardown(arg, result)
    return min(times), times, results


def figure(ours: list[float], base: list[float] | None, rows: int, base_rows: int | None = None) -> dict:
    out = {"runs_s": [round(t, 3) for t in ours], "best_s": round(min(ours), 3),
           "rows_per_s": round(rows / min(ours))}
    if base is not None:
        out["baseline"] = {"runs_s": [round(t, 4) for t in base], "best_s": round(min(base), 4),
                           "rows_per_s": round((base_rows or rows) / min(base))}
        out["ratio"] = round(min(ours) / min(base), 2)  # time ÷ baseline time (throughput: the inverse)
    return out


def profile(fn, path: Path, top: int) -> list[dict]:
    prof = cProfile.Profile()
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
    prof.dump_stats(path)
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        where = Path(file)
        with contextlib.suppress(ValueError):
            where = where.relative_to(ROOT)
        rows.append({"function": f"{where}:{line}({func})" if line else func, "calls": calls,
                     "tottime_s": round(tottime, 3), "cumtime_s": round(cumtime, 3)})
    by_cum = sorted(rows, key=lambda r: -r["cumtime_s"])[:top]
    by_own = sorted(rows, key=lambda r: -r["tottime_s"])[:top]
    return {"file": str(path.relative_to(ROOT)), "total_s": round(max(r["cumtime_s"] for r in rows), 3),
            "by_cumulative": by_cum, "by_own_time": by_own}


# -- main ----------------------------------------------------------------------------------------------------


def run(args, work: Path, folder: Path, meta: dict, stamp: str) -> dict:
    result: dict = {
        "benchmark": "sync", "when": datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "machine": f"{platform.system()} {platform.machine()} {os.cpu_count()} cores",
        "dataset": {k: meta[k] for k in ("size", "seed", "built_at", "demo_seconds", "demo")},
        "runs": args.runs, "import_runs": args.import_runs, "goals": GOALS,
    }
    station = open_copy(folder / STATION, work / STATION, STATION)
    hub_src = folder / HUB
    n_hub = [0]

    def fresh_hub(_=None) -> Services:
        n_hub[0] += 1
        return open_copy(hub_src, work / f"hub-{n_hub[0]}", HUB)

    def out_dir(name: str) -> Path:
        d = work / "out" / f"{name}-{time.perf_counter_ns()}"
        d.mkdir(parents=True)
        return d

    # (a) export of every operation -----------------------------------------------------------------------
    ops = read_ops(station.store.conn)
    log(f"导出：{len(ops):,} 条操作，计时 {args.runs} 次…")
    t_exp, exp_runs, exp_results = best_of(args.runs, lambda d: station.sync.export(d), setup=lambda: out_dir("up"))
    [first] = exp_results[0]
    assert first.operations == len(ops), (first.operations, len(ops))
    pkg = first.path
    manifest_body = read_manifest(pkg)["body"]
    sizes: list[int] = []
    t_dump, dump_runs, _ = best_of(args.runs, lambda d: sizes.append(baseline_dump(ops, d / "ops.json")),
                                   setup=lambda: out_dir("baseline"))
    result["package"] = {"operations": len(ops), "counts": first.counts, "file_bytes": pkg.stat().st_size,
                         "plaintext_bytes": manifest_body["plaintext_size"], "baseline_json_bytes": sizes[0]}
    result["export"] = figure(exp_runs, dump_runs, len(ops))
    log(f"  ours {t_exp:.2f} 秒，baseline {t_dump:.2f} 秒，× {result['export']['ratio']}")

    # (b) import into the empty hub ---------------------------------------------------------------------------
    log(f"导入空的汇总端：计时 {args.import_runs} 次（每次一个新的汇总端副本）…")
    hubs: list[Services] = []

    def do_import(hub: Services):
        hubs.append(hub)
        before = table_counts(hub.store.conn) if len(hubs) == 1 else None
        start = time.perf_counter()
        [res] = hub.sync.import_files([pkg])
        elapsed = time.perf_counter() - start
        assert res.status == "imported", res.message
        return res, before, elapsed

    imp_runs, imp_results = [], []
    for _ in range(args.import_runs):
        res, before, elapsed = do_import(fresh_hub())
        imp_runs.append(elapsed)
        imp_results.append((res, before))
        log(f"  {elapsed:.2f} 秒：{res.message}")
    for h in hubs[:-1]:
        close_and_remove(h)
    hub = hubs[-1]
    res, before = imp_results[0]
    after = table_counts(hub.store.conn)
    delta = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
    rows = written_rows(hub.store.conn, ops)
    n_rows = sum(len(t["insert"]) + len(t["update"]) for t in rows.values())
    n_base = [0]

    def fresh_schema():
        n_base[0] += 1
        return open_store(work / f"base-{n_base[0]}" / "base.db")

    t_base, base_runs, _ = best_of(args.runs, lambda s: baseline_write(s.conn, rows), setup=fresh_schema,
                                   teardown=lambda s, _r: s.close())
    result["import"] = figure(imp_runs, base_runs, len(ops), n_rows)
    result["import"].update(applied=res.applied, skipped=res.skipped, waiting=res.waiting, conflicts=res.conflicts,
                            business_rows=n_rows, rows_written_per_table=delta,
                            rows_written=sum(delta.values()))
    log(f"  ours {min(imp_runs):.2f} 秒，baseline {t_base:.2f} 秒（{n_rows:,} 行），× {result['import']['ratio']}")

    # (c) the same file again -------------------------------------------------------------------------------------
    t_again, again_runs, again = best_of(args.runs, lambda: hub.sync.import_files([pkg]))
    assert all(r[0].status == "already" for r in again), again[0][0].message
    result["reimport"] = {"runs_s": [round(t, 4) for t in again_runs], "best_s": round(t_again, 4),
                          "share_of_import": round(t_again / min(imp_runs), 4), "message": again[0][0].message}
    log(f"再次导入同一文件：{t_again * 1000:.1f} 毫秒 = 首次导入的 {100 * t_again / min(imp_runs):.2f}%")

    # (d) an incremental package -----------------------------------------------------------------------------------
    [down] = hub.sync.export(out_dir("down"), to=station.installation.id)
    [ack] = station.sync.import_files([down.path])
    assert ack.status == "imported", ack.message
    hub_after = work / "hub-after"
    hub_path = Path(hub.store.path)
    hub.close()
    shutil.copytree(hub_path.parent, hub_after)
    shutil.rmtree(hub_path.parent)
    last_seq = station.store.scalar("SELECT max(seq) FROM outbox")
    t0 = time.perf_counter()
    edits = make_edits(station, args.edits)
    log(f"增量：{sum(edits.values())} 次修改 {edits}（{time.perf_counter() - t0:.1f} 秒）")
    ops2 = read_ops(station.store.conn, last_seq)
    _, inc_exp_runs, inc_exp = best_of(args.runs, lambda d: station.sync.export(d), setup=lambda: out_dir("inc"))
    [second] = inc_exp[0]
    assert second.operations == len(ops2), (second.operations, len(ops2))
    pkg2 = second.path
    _, inc_dump_runs, _ = best_of(args.runs, lambda d: baseline_dump(ops2, d / "ops.json"),
                                  setup=lambda: out_dir("inc-baseline"))
    inc_hubs: list[Services] = []

    def hub_copy():
        hub = open_copy(hub_after, work / f"hub-inc-{len(inc_hubs)}", HUB)
        inc_hubs.append(hub)
        return hub

    _, inc_imp_runs, inc_imp = best_of(args.runs, lambda h: h.sync.import_files([pkg2])[0], setup=hub_copy)
    assert all(r.status == "imported" for r in inc_imp), inc_imp[0].message
    rows2 = written_rows(inc_hubs[-1].store.conn, ops2)
    n_rows2 = sum(len(t["insert"]) + len(t["update"]) for t in rows2.values())
    for h in inc_hubs:
        close_and_remove(h)
    base_copies: list[Services] = []

    def base_copy():
        s = open_copy(hub_after, work / f"hub-inc-base-{len(base_copies)}", HUB)
        base_copies.append(s)
        return s

    _, inc_base_runs, _ = best_of(args.runs, lambda s: baseline_write(s.store.conn, rows2), setup=base_copy,
                                  teardown=lambda s, _r: close_and_remove(s))
    result["incremental"] = {
        "edits": edits, "operations": len(ops2), "counts": second.counts, "file_bytes": pkg2.stat().st_size,
        "export": figure(inc_exp_runs, inc_dump_runs, len(ops2)),
        "import": {**figure(inc_imp_runs, inc_base_runs, len(ops2), n_rows2), "business_rows": n_rows2,
                   "message": inc_imp[0].message},
    }
    inc = result["incremental"]
    log(f"  导出 {inc['export']['best_s']:.3f} 秒（× {inc['export']['ratio']}），"
        f"导入 {inc['import']['best_s']:.3f} 秒（× {inc['import']['ratio']}）")

    # profiles -------------------------------------------------------------------------------------------------------
    if args.profile:
        log("cProfile：导出一次、导入一次…")
        prof_export = RESULTS_DIR / f"sync-{stamp}-export.prof"
        prof_import = RESULTS_DIR / f"sync-{stamp}-import.prof"
        d = out_dir("profile")
        result["profile"] = {"export": profile(lambda: station.sync.export(d, full=True), prof_export, args.top)}
        hub = fresh_hub()
        result["profile"]["import"] = profile(lambda: hub.sync.import_files([pkg]), prof_import, args.top)
        close_and_remove(hub)
    station.close()
    return result


def print_summary(r: dict) -> None:
    p, e, i, a, inc = r["package"], r["export"], r["import"], r["reimport"], r["incremental"]

    def line(name, ours, base, ratio, goal, rows, base_rows):
        ok = "" if goal is None else ("达标" if ratio <= goal else "未达标")
        goal_text = "" if goal is None else f"≤ {goal:g}"
        print(f"{name:<18}{ours:>10.3f}{base:>12.3f}{ratio:>8.2f}  {goal_text:<6}{ok:<6}{rows:>12,}{base_rows:>14,}")

    print(f"\n同步基准（{r['dataset']['size']} 演示数据，seed {r['dataset']['seed']}，{r['machine']}）")
    print(f"首个同步包：{p['operations']:,} 条操作，文件 {p['file_bytes'] / 1e6:.1f} MB"
          f"（明文 {p['plaintext_bytes'] / 1e6:.1f} MB；基线 JSON {p['baseline_json_bytes'] / 1e6:.1f} MB）")
    print(f"{'':<18}{'ours 秒':>9}{'baseline 秒':>11}{'倍数':>6}  {'目标':<5}{'':<5}{'ours 行/秒':>10}{'基线 行/秒':>11}")
    line("导出（全部）", e["best_s"], e["baseline"]["best_s"], e["ratio"], GOALS["export"], e["rows_per_s"],
         e["baseline"]["rows_per_s"])
    line("导入空汇总端", i["best_s"], i["baseline"]["best_s"], i["ratio"], GOALS["import"], i["rows_per_s"],
         i["baseline"]["rows_per_s"])
    share = a["share_of_import"]
    print(f"{'再次导入（已导入过）':<14}{a['best_s']:>10.3f}{'':>12}{100 * share:>7.2f}%  ≤ 5%   "
          f"{'达标' if share <= GOALS['reimport_share'] else '未达标'}")
    print(f"增量同步包：{sum(inc['edits'].values())} 次修改 → {inc['operations']:,} 条操作，"
          f"文件 {inc['file_bytes'] / 1e3:.1f} kB")
    line("增量导出", inc["export"]["best_s"], inc["export"]["baseline"]["best_s"], inc["export"]["ratio"], None,
         inc["export"]["rows_per_s"], inc["export"]["baseline"]["rows_per_s"])
    line("增量导入", inc["import"]["best_s"], inc["import"]["baseline"]["best_s"], inc["import"]["ratio"], None,
         inc["import"]["rows_per_s"], inc["import"]["baseline"]["rows_per_s"])
    for name, prof in r.get("profile", {}).items():
        print(f"\ncProfile {name}（共 {prof['total_s']:.1f} 秒，{prof['file']}），按累计时间：")
        for row in prof["by_cumulative"]:
            print(f"  {row['cumtime_s']:>8.2f}  {row['tottime_s']:>8.2f}  {row['calls']:>9,}  {row['function']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sync benchmark (export / import / re-import / incremental vs baselines)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", choices=("small", "city"), default="city", help="demo size (default city)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached station and hub")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of the small parts; best is reported (default 3)")
    ap.add_argument("--import-runs", type=int, default=2, help="timed runs of the full import (default 2)")
    ap.add_argument("--edits", type=int, default=300, help="edits before the incremental package (default 300)")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                    help="cProfile one export and one import (default on)")
    ap.add_argument("--top", type=int, default=25, help="profile rows to keep (default 25)")
    ap.add_argument("--out", help="results file (default bench/results/sync-<timestamp>.json)")
    args = ap.parse_args(argv)
    if min(args.runs, args.import_runs, args.edits) < 1:
        ap.error("--runs, --import-runs and --edits must be at least 1")

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_sync_") as tmp:
        os.environ["ZHUQI_DATA_DIR"] = str(Path(tmp) / "userdata")  # nothing may touch the user's data folder
        folder, meta = cached(args.size, args.seed, args.fresh)
        result = run(args, Path(tmp) / "work", folder, meta, stamp)
    out = Path(args.out) if args.out else RESULTS_DIR / f"sync-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_summary(result)
    print(f"\n结果：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
