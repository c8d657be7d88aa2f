"""Sync benchmark: a city-scale station's first package (export, import into an empty district hub, the same file
again) and a second, incremental package after a few hundred edits, each against a bare baseline timed in the same
run.

    .venv/bin/python bench/bench_sync.py                   # city demo, seed 1 (≈ 7 min; the first run adds ≈ 1 min)
    .venv/bin/python bench/bench_sync.py --fresh           # rebuild the cached station and hub first
    .venv/bin/python bench/bench_sync.py --no-profile      # skip the cProfile runs (≈ 2 min less)
    .venv/bin/python bench/bench_sync.py --size small      # a quick check of the script itself (seconds)

What is timed (best of --runs; the full import best of --import-runs)
  export       station.sync.export(out) of every operation: read the outbox, canonical JSON Lines, zlib, sign,
               encrypt, atomic write with verification, the packages_out ledger row.
    baseline   json.dumps of the same operations + write + fsync of one file. The operations are read untimed,
               exactly as the exporter sends them: outbox rows with old/new parsed, append-only inserts (whose
               outbox row only points at the record) filled with the record.
  import       hub.sync.import_files([package]) into the empty hub: verify, decrypt, parse, check every operation,
               merge, write, relay bookkeeping, search index — one transaction.
    baseline   executemany INSERT of every business row the package creates (per table, the same columns, read back
               from the imported hub) into a freshly migrated database (db.store.open_store), one transaction.
    all rows   (for reference, no goal) executemany of every row the import wrote in every table — business rows
               plus relay_ops, field_versions, search_index/search_rows, sync_seen, packages_in — into a copy of the
               empty hub, one transaction: the cost of what the import stores, without the work of deciding it.
  re-import    the same file again ("已导入过"), as a share of the first import.
  incremental  --edits edits on the station (enterprise details, visit texts, problem steps) after the hub's down
               package acknowledged the first one: the second package's export and import, against json.dumps + write
               + fsync and executemany INSERT/UPDATE of the rows it creates or changes on a copy of the hub.

ratio = our throughput ÷ baseline throughput (bench/README.md; = baseline time ÷ our time); the table also shows
"× baseline" (our time ÷ baseline time). Goals: export ≤ 2 × baseline (ratio ≥ 0.5), import ≤ 3 × (ratio ≥ 0.33),
re-import ≤ 5 % of the import.

The station and hub (databases and the keys folders beside them) are cached in bench/results/cache/ per size and
seed, and rebuilt when the schema, the change writer or the demo generator changes (--fresh forces it). Every
measurement works on copies in a temporary folder. --profile (default) runs cProfile once over the full export, the
full import and the incremental import. Results: bench/results/sync-<timestamp>.json (git-ignored), .prof files
beside it (`python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import subprocess
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
# What the cached databases depend on: a change to any of these rebuilds the cache.
CACHE_INPUTS = ("db/migrations/*.py", "db/changes.py", "db/reference.py", "app/demo.py", "app/demo_text.py")
GOALS = {"export": 2.0, "import": 3.0, "reimport_share": 0.05}  # × baseline time; share of the first import
STATION, HUB = "station", "hub"
_CHUNK = 500


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the station and the hub -------------------------------------------------------------------------------------


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


def cache_fingerprint() -> str:
    h = hashlib.sha256()
    for pattern in CACHE_INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def build_cache(folder: Path, size: str, seed: int, fingerprint: str) -> None:
    """A district hub and a station that joined it (invite → join → enroll, as the 数据同步 screen does), then the
    demo generated on the station: every record is in its outbox, nothing acknowledged yet."""
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    log(f"生成缓存 {folder.name}：汇总端 + 干部端，演示数据 --size {size} --seed {seed}（city 约 1–2 分钟）…")
    hub = _site(part / HUB, HUB, "district", "金水区", "钱区")
    station = _site(part / STATION, STATION, "station", "金水区", "王磊")
    files = part / "files"
    try:
        files.mkdir()
        invite = hub.sync.make_invite(files)
        request, _ = station.sync.join(invite, files)
        hub.sync.enroll(hub.sync.read_request(request))
        start = time.perf_counter()
        counts = demo.generate(station, size=size, seed=seed, progress=_demo_progress())
        meta = {"size": size, "seed": seed, "fingerprint": fingerprint,
                "built_at": datetime.now().isoformat(timespec="seconds"),
                "demo_seconds": round(time.perf_counter() - start, 1), "demo": counts,
                "station_id": station.installation.id, "hub_id": hub.installation.id}
    finally:
        station.close()
        hub.close()
    shutil.rmtree(files, ignore_errors=True)
    (part / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    part.rename(folder)


def cached(size: str, seed: int, fresh: bool) -> tuple[Path, dict]:
    folder = CACHE_DIR / f"sync-{size}-seed{seed}"
    meta_file = folder / "meta.json"
    fingerprint = cache_fingerprint()
    stale = meta_file.is_file() and json.loads(meta_file.read_text(encoding="utf-8")).get("fingerprint") != fingerprint
    if fresh or stale or not meta_file.is_file():
        if stale and not fresh:
            log("数据库结构或演示数据生成程序已改动，缓存作废。")
        build_cache(folder, size, seed, fingerprint)
    else:
        log(f"使用缓存 {folder.relative_to(ROOT)}（--fresh 重新生成）")
    return folder, json.loads(meta_file.read_text(encoding="utf-8"))


def open_copy(src: Path, dst: Path, name: str) -> Services:
    """A working copy of a site folder (database + keys folder) and its services."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return Services.open(dst / f"{name}.db")


def close_and_remove(services) -> None:
    """Close a Services or a Store and delete its folder (the working copies take up to 1 GB each)."""
    store = getattr(services, "store", services)
    store.close()
    shutil.rmtree(Path(store.path).parent, ignore_errors=True)


# -- what the baselines get -----------------------------------------------------------------------------------------


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


def business_rows(conn: sqlite3.Connection, ops: list[dict]) -> dict[str, dict]:
    """Per table, the rows the package created ("insert") and changed ("update"), as the imported hub holds them.
    Business rows only: the seeded reference rows are in every migrated database and never travel up (a station's
    own 责任部门 do: they are units the package creates)."""
    ids: dict[str, dict[str, dict[str, None]]] = defaultdict(lambda: {"insert": {}, "update": {}})
    for op in ops:
        ids[op["table_name"]]["insert" if op["op"] == "insert" else "update"][op["row_id"]] = None
    out = {}
    for table, kinds in ids.items():
        created = list(kinds["insert"])
        changed = [i for i in kinds["update"] if i not in kinds["insert"]]
        cols, found = _rows_by_id(conn, table, created + changed)
        if len(found) != len(created) + len(changed):
            log(f"  注意：{table} 有 {len(created) + len(changed) - len(found)} 条记录在导入后的汇总端找不到")
        out[table] = {"columns": cols, "replace": False,
                      "insert": [tuple(found[i][c] for c in cols) for i in created if i in found],
                      "update": [(*(found[i][c] for c in cols if c != "id"), i) for i in changed if i in found]}
    return out


def user_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                                       " 'sqlite_%' AND name NOT LIKE 'search_index_%' ORDER BY name")]


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in user_tables(conn)}


def all_rows(conn: sqlite3.Connection, empty_db: Path) -> dict[str, dict]:
    """Every row the import added or changed, in every table (the FTS index with its rowids), compared with a copy
    of the hub before the import."""
    conn.execute("ATTACH DATABASE ? AS before_import", (str(empty_db),))
    try:
        out = {}
        for table in user_tables(conn):
            rowid = "rowid, " if table == "search_index" else ""
            cur = conn.execute(f"SELECT {rowid}* FROM main.{table} EXCEPT SELECT {rowid}* FROM before_import.{table}")
            rows = [tuple(r) for r in cur]
            if rows:
                out[table] = {"columns": tuple(d[0] for d in cur.description), "replace": True, "insert": rows,
                              "update": []}
        return out
    finally:
        conn.execute("DETACH DATABASE before_import")


def count_rows(tables: dict[str, dict]) -> int:
    return sum(len(t["insert"]) + len(t["update"]) for t in tables.values())


def baseline_dump(ops: list[dict], path: Path) -> int:
    data = json.dumps(ops, ensure_ascii=False).encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return len(data)


def baseline_write(conn: sqlite3.Connection, tables: dict[str, dict]) -> dict[str, float]:
    """executemany of the given rows in one transaction (foreign keys checked at commit, as the merge does).
    Returns the seconds per table and for the commit."""
    seconds = {}
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("PRAGMA defer_foreign_keys = ON")
    for table, t in tables.items():
        start = time.perf_counter()
        cols = t["columns"]
        if t["insert"]:
            verb = "INSERT OR REPLACE" if t["replace"] else "INSERT"
            conn.executemany(f"{verb} INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                             t["insert"])
        if t["update"]:
            sets = ",".join(f"{c} = ?" for c in cols if c != "id")
            conn.executemany(f"UPDATE {table} SET {sets} WHERE id = ?", t["update"])
        seconds[table] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    conn.execute("COMMIT")
    seconds["COMMIT"] = round(time.perf_counter() - start, 3)
    return seconds


# -- the edits between the two packages -----------------------------------------------------------------------------


def make_edits(station: Services, n: int) -> dict[str, int]:
    """n edits as a cadre makes them, each its own save: half enterprise details, a third visit texts, the rest
    problem steps (进展 or 催办: an appended event, usually a status change too)."""
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
        allowed = station.problems.allowed_steps(pid)
        kind = next((k for k in ("进展", "催办") if k in allowed), None)
        if kind:
            with contextlib.suppress(Exception):  # e.g. a date rule of this problem: take the next one
                station.problems.take_step(pid, kind, note="基准测试：已电话联系责任单位。")
                done["problem_steps"] += 1
    return done


# -- timing ---------------------------------------------------------------------------------------------------------


def timed(runs: int, fn, setup=None, teardown=None) -> tuple[list[float], list]:
    """Times of `runs` calls of fn(setup()) (setup and teardown(arg, result) untimed), and the results."""
    times, results = [], []
    for _ in range(runs):
        arg = setup() if setup else None
        start = time.perf_counter()
        result = fn(arg)
        times.append(time.perf_counter() - start)
        results.append(result)
        if teardown:
            teardown(arg, result)
    return times, results


def figure(ours: list[float], base: list[float], work: int, base_work: int | None = None) -> dict:
    """Our and the baseline's runs; ratio = baseline time ÷ our time (throughput ratio), times_baseline = inverse."""
    best, base_best = min(ours), min(base)
    return {"runs_s": [round(t, 4) for t in ours], "best_s": round(best, 4), "rows_per_s": round(work / best),
            "baseline": {"runs_s": [round(t, 4) for t in base], "best_s": round(base_best, 4),
                         "rows_per_s": round((base_work or work) / base_best)},
            "ratio": round(base_best / best, 3), "times_baseline": round(best / base_best, 2)}


def profile(fn, path: Path, top: int) -> dict:
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
        if where.parts[:1] == ("bench",):
            continue  # our own lambdas
        rows.append({"function": f"{where}:{line}({func})" if line else func, "calls": calls,
                     "tottime_s": round(tottime, 3), "cumtime_s": round(cumtime, 3)})
    return {"file": str(path.relative_to(ROOT)), "total_s": round(max(r["cumtime_s"] for r in rows), 3),
            "by_cumulative": sorted(rows, key=lambda r: -r["cumtime_s"])[:top],
            "by_own_time": sorted(rows, key=lambda r: -r["tottime_s"])[:top]}


# -- the benchmark --------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, work: Path, folder: Path, stamp: str):
        self.args = args
        self.work = work
        self.hub_src = folder / HUB
        self.stamp = stamp
        self.station = open_copy(folder / STATION, work / STATION, STATION)
        self.n = 0

    def _name(self, prefix: str) -> Path:
        self.n += 1
        return self.work / f"{prefix}-{self.n}"

    def out_dir(self, prefix: str) -> Path:
        d = self._name(prefix)
        d.mkdir(parents=True)
        return d

    def hub_copy(self, src: Path | None = None) -> Path:
        """A copy of a hub folder (the empty hub unless `src`); returns its database file."""
        dst = self._name("hub")
        shutil.copytree(src or self.hub_src, dst)
        return dst / f"{HUB}.db"

    def empty_hub(self, src: Path | None = None) -> Services:
        return Services.open(self.hub_copy(src))

    def export(self, result: dict) -> Path:
        runs = self.args.runs
        ops = read_ops(self.station.store.conn)
        log(f"导出全部 {len(ops):,} 条操作：计时 {runs} 次…")
        ours, exported = timed(runs, lambda d: self.station.sync.export(d), setup=lambda: self.out_dir("up"))
        [first] = exported[0]
        assert first.operations == len(ops), (first.operations, len(ops))
        sizes: list[int] = []
        base, _ = timed(runs, lambda d: sizes.append(baseline_dump(ops, d / "ops.json")),
                        setup=lambda: self.out_dir("json"), teardown=lambda d, _r: shutil.rmtree(d))
        result["package"] = {"operations": len(ops), "counts": first.counts, "file_bytes": first.path.stat().st_size,
                             "plaintext_bytes": read_manifest(first.path)["body"]["plaintext_size"],
                             "baseline_json_bytes": sizes[0]}
        result["export"] = figure(ours, base, len(ops))
        log(f"  ours {min(ours):.2f} 秒，baseline {min(base):.2f} 秒：× {result['export']['times_baseline']}")
        self.ops = ops
        return first.path

    def import_(self, result: dict, pkg: Path) -> Services:
        """Import into fresh copies of the empty hub; returns the last (imported) hub, still open."""
        log(f"导入空的汇总端：计时 {self.args.import_runs} 次（每次一个新的汇总端副本）…")
        hubs: list[Services] = []

        def setup() -> Services:
            if hubs:
                close_and_remove(hubs.pop())
            hubs.append(self.empty_hub())
            self.before = table_counts(hubs[-1].store.conn)
            return hubs[-1]

        def one(hub: Services):
            [res] = hub.sync.import_files([pkg])
            return res

        ours, res = timed(self.args.import_runs, one, setup=setup,
                          teardown=lambda _h, r: log(f"  {r.message}"))
        assert all(r.status == "imported" for r in res), res[0].message
        hub = hubs[0]
        after = table_counts(hub.store.conn)
        written = {t: after[t] - self.before.get(t, 0) for t in after if after[t] != self.before.get(t, 0)}

        rows = business_rows(hub.store.conn, self.ops)
        base, _ = timed(self.args.runs, lambda s: baseline_write(s.conn, rows),
                        setup=lambda: open_store(self.out_dir("schema") / "base.db"),
                        teardown=lambda s, _r: close_and_remove(s))
        empty = self.hub_copy()
        everything = all_rows(hub.store.conn, empty)
        shutil.rmtree(empty.parent)
        base_all, split = timed(self.args.runs, lambda s: baseline_write(s.conn, everything),
                                setup=lambda: open_store(self.hub_copy()),
                                teardown=lambda s, _r: close_and_remove(s))
        fig = figure(ours, base, len(self.ops), count_rows(rows))
        fig.update(applied=res[0].applied, skipped=res[0].skipped, waiting=res[0].waiting,
                   conflicts=res[0].conflicts, business_rows=count_rows(rows), rows_written=sum(written.values()),
                   rows_written_per_table=written,
                   all_rows_baseline={"rows": count_rows(everything), "runs_s": [round(t, 4) for t in base_all],
                                      "best_s": round(min(base_all), 4),
                                      "seconds_per_table": split[base_all.index(min(base_all))],
                                      "times_baseline": round(min(ours) / min(base_all), 2)})
        result["import"] = fig
        log(f"  ours {min(ours):.2f} 秒，baseline {min(base):.2f} 秒（{count_rows(rows):,} 行）：× "
            f"{fig['times_baseline']}；全部写入的 {count_rows(everything):,} 行 {min(base_all):.2f} 秒")
        return hub

    def reimport(self, result: dict, hub: Services, pkg: Path) -> None:
        again, res = timed(self.args.runs, lambda _: hub.sync.import_files([pkg])[0])
        assert all(r.status == "already" for r in res), res[0].message
        share = min(again) / result["import"]["best_s"]
        result["reimport"] = {"runs_s": [round(t, 4) for t in again], "best_s": round(min(again), 4),
                              "share_of_import": round(share, 5), "message": res[0].message}
        log(f"再次导入同一文件：{min(again) * 1000:.1f} 毫秒 = 首次导入的 {100 * share:.3f}%")

    def incremental(self, result: dict, hub: Services) -> Path:
        """Down package (acknowledgements) to the station, edits there, then the second package."""
        station, runs = self.station, self.args.runs
        [down] = hub.sync.export(self.out_dir("down"), to=station.installation.id)
        [ack] = station.sync.import_files([down.path])
        assert ack.status == "imported", ack.message
        hub_path = Path(hub.store.path)
        hub.close()
        self.hub_after = hub_path.parent
        last_seq = station.store.scalar("SELECT max(seq) FROM outbox")
        start = time.perf_counter()
        edits = make_edits(station, self.args.edits)
        log(f"增量：{sum(edits.values())} 次修改 {edits}（{time.perf_counter() - start:.1f} 秒）")
        ops = read_ops(station.store.conn, last_seq)
        ours_exp, exported = timed(runs, lambda d: station.sync.export(d), setup=lambda: self.out_dir("inc"))
        [second] = exported[0]
        assert second.operations == len(ops), (second.operations, len(ops))
        base_exp, _ = timed(runs, lambda d: baseline_dump(ops, d / "ops.json"), setup=lambda: self.out_dir("json"),
                            teardown=lambda d, _r: shutil.rmtree(d))
        hubs: list[Services] = []

        def hub_copy() -> Services:
            hubs.append(self.empty_hub(self.hub_after))
            return hubs[-1]

        ours_imp, res = timed(runs, lambda h: h.sync.import_files([second.path])[0], setup=hub_copy)
        assert all(r.status == "imported" for r in res), res[0].message
        rows = business_rows(hubs[-1].store.conn, ops)
        for h in hubs:
            close_and_remove(h)
        base_imp, _ = timed(runs, lambda s: baseline_write(s.store.conn, rows), setup=hub_copy,
                            teardown=lambda s, _r: close_and_remove(s))
        result["incremental"] = {
            "edits": edits, "operations": len(ops), "counts": second.counts, "file_bytes": second.path.stat().st_size,
            "export": figure(ours_exp, base_exp, len(ops)),
            "import": {**figure(ours_imp, base_imp, len(ops), count_rows(rows)), "business_rows": count_rows(rows),
                       "message": res[0].message},
        }
        inc = result["incremental"]
        log(f"  导出 {min(ours_exp):.3f} 秒（× {inc['export']['times_baseline']}），"
            f"导入 {min(ours_imp):.3f} 秒（× {inc['import']['times_baseline']}）")
        return second.path

    def profiles(self, result: dict, pkg: Path, pkg2: Path) -> None:
        log("cProfile：全部导出、导入空汇总端、增量导入各一次…")
        top = self.args.top
        path = RESULTS_DIR / f"sync-{self.stamp}"
        out = self.out_dir("profile")
        prof = {"export": profile(lambda: self.station.sync.export(out, full=True), Path(f"{path}-export.prof"), top)}
        hub = self.empty_hub()
        prof["import"] = profile(lambda: hub.sync.import_files([pkg]), Path(f"{path}-import.prof"), top)
        close_and_remove(hub)
        hub = self.empty_hub(self.hub_after)
        prof["incremental_import"] = profile(lambda: hub.sync.import_files([pkg2]),
                                             Path(f"{path}-incremental-import.prof"), top)
        close_and_remove(hub)
        result["profile"] = prof

    def run(self, result: dict) -> None:
        try:
            pkg = self.export(result)
            hub = self.import_(result, pkg)
            self.reimport(result, hub, pkg)
            pkg2 = self.incremental(result, hub)
            if self.args.profile:
                self.profiles(result, pkg, pkg2)
        finally:
            self.station.close()


# -- the report -----------------------------------------------------------------------------------------------------


def print_summary(r: dict) -> None:
    p, a, inc = r["package"], r["reimport"], r["incremental"]

    def line(name: str, f: dict, goal: float | None) -> None:
        verdict = "" if goal is None else ("达标" if f["times_baseline"] <= goal else "未达标")
        print(f"{name:<14}{f['best_s']:>10.3f}{f['baseline']['best_s']:>10.3f}{f['times_baseline']:>9.2f}×"
              f"{f['ratio']:>8.3f}  {'' if goal is None else f'≤ {goal:g}×':<6}{verdict:<4}"
              f"{f['rows_per_s']:>11,}{f['baseline']['rows_per_s']:>11,}")

    print(f"\n同步基准：{r['dataset']['size']} 演示数据 seed {r['dataset']['seed']}，{r['machine']}，"
          f"Python {r['python']}，SQLite {r['sqlite']}")
    print(f"首个同步包：{p['operations']:,} 条操作，文件 {p['file_bytes'] / 1e6:.1f} MB（明文 JSON Lines "
          f"{p['plaintext_bytes'] / 1e6:.1f} MB；基线 JSON {p['baseline_json_bytes'] / 1e6:.1f} MB）")
    print(f"{'':<14}{'ours 秒':>9}{'基线 秒':>8}{'×基线':>8}{'ratio':>8}  {'目标':<5}{'':<4}{'ours 条/秒':>10}"
          f"{'基线 行/秒':>9}")
    line("导出（全部）", r["export"], GOALS["export"])
    line("导入空汇总端", r["import"], GOALS["import"])
    share = a["share_of_import"]
    print(f"{'再次导入':<14}{a['best_s']:>10.3f}{'':>10}{100 * share:>9.3f}%{'':>8}  ≤ 5%  "
          f"{'达标' if share <= GOALS['reimport_share'] else '未达标'}")
    allb = r["import"]["all_rows_baseline"]
    split = allb["seconds_per_table"]
    print(f"（参考：导入写入的全部 {allb['rows']:,} 行——业务行、relay_ops、field_versions、搜索索引——"
          f"executemany {allb['best_s']:.2f} 秒，导入为其 {allb['times_baseline']}×；其中 relay_ops "
          f"{split.get('relay_ops', 0):.2f} 秒，search_index {split.get('search_index', 0):.2f} 秒，"
          f"COMMIT {split['COMMIT']:.2f} 秒）")
    print(f"增量同步包：{sum(inc['edits'].values())} 次修改 → {inc['operations']:,} 条操作，"
          f"文件 {inc['file_bytes'] / 1e3:.1f} kB")
    line("增量导出", inc["export"], None)
    line("增量导入", inc["import"], None)
    for name, prof in r.get("profile", {}).items():
        print(f"\ncProfile {name}（共 {prof['total_s']:.1f} 秒，{prof['file']}）——累计秒、自身秒、调用次数：")
        for row in prof["by_cumulative"][:15]:
            print(f"  {row['cumtime_s']:>8.2f}{row['tottime_s']:>8.2f}{row['calls']:>11,}  {row['function']}")


def code_version() -> str | None:
    """The commit measured (with "-dirty" when app/ or db/ have uncommitted changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app", "db"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sync benchmark (export / import / re-import / incremental vs baselines)")
    ap.add_argument("--seed", type=int, default=1, help="demo seed (default 1)")
    ap.add_argument("--size", choices=("small", "city"), default="city", help="demo size (default city)")
    ap.add_argument("--fresh", action="store_true", help="regenerate the cached station and hub")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of the smaller parts; best is kept (default 3)")
    ap.add_argument("--import-runs", type=int, default=2, help="timed runs of the full import (default 2)")
    ap.add_argument("--edits", type=int, default=300, help="edits before the incremental package (default 300)")
    ap.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                    help="cProfile the full export, the full import and the incremental import once (default on)")
    ap.add_argument("--top", type=int, default=30, help="profile rows kept in the results (default 30)")
    ap.add_argument("--out", help="results file (default bench/results/sync-<timestamp>.json)")
    args = ap.parse_args(argv)
    if min(args.runs, args.import_runs, args.edits) < 1:
        ap.error("--runs, --import-runs and --edits must be at least 1")

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_sync_") as tmp:
        os.environ["ZHUQI_DATA_DIR"] = str(Path(tmp) / "userdata")  # nothing may touch the user's data folder
        folder, meta = cached(args.size, args.seed, args.fresh)
        result: dict = {
            "benchmark": "sync", "when": datetime.now().isoformat(timespec="seconds"),
            "code": code_version(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "dataset": {k: meta[k] for k in ("size", "seed", "built_at", "demo_seconds", "demo")},
            "runs": args.runs, "import_runs": args.import_runs, "goals_times_baseline": GOALS,
        }
        Bench(args, Path(tmp) / "work", folder, stamp).run(result)
    out = Path(args.out) if args.out else RESULTS_DIR / f"sync-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_summary(result)
    print(f"\n结果：{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
