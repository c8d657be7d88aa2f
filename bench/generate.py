"""Benchmark datasets: a deterministic city (scale 1) made through the app's services, or a province pilot of N cities
(scale N) made by replicating that city N - 1 times with bulk SQL.

    .venv/bin/python bench/generate.py --scale 1 --seed 1 --out 全市.db      # ≈ 1 min: the seeds' city figures
    .venv/bin/python bench/generate.py --scale 10 --seed 1 --out 全省.db     # + ≈ 2–4 min: ten times that
    .venv/bin/python bench/generate.py --scale 3 --base small --out t.db     # seconds: three small stations (tests)

Scale 1 is `app.demo.generate(services, size="city", seed=N)` on a fresh 金水区 station — every row written by the
public services, with outbox and audit entries, exactly as `python main.py demo --size city` makes it (12,587
enterprises, 5,084 active cadres, 211 work groups, 24,570 visit-enterprise pairs, 9,493 symposia, 11,449 problems with
80,000 events) — plus HEAVY_VISITS visits for the enterprise that already had the most (VisitService.create, one
transaction), so the benchmark can open an enterprise with 200 visits.

Scale N adds N - 1 copies of every business row (work groups, cadres, enterprises, assignments, visits with their
enterprises, cadres and attendees, problems with their events), one transaction per copy, each copy a city of Henan
(洛阳, 开封, 新乡 …; a province pilot):

* every id is new (a hash of the old id and the copy number, keeping the UUIDv7 time part) and every foreign key to a
  business row is mapped the same way, so each copy is a consistent set of its own; units, departments, vocabularies
  and deadline templates are shared reference data and keep their ids (the copies belong to the same 16 units);
* credit codes stay valid and unique: the registration region's city digits (4101 郑州) become the copy's city
  (4103 洛阳 …) and the check digit is recomputed (the embedded organisation code, positions 9–17, is unchanged);
* enterprise names swap 郑州 for the copy's city (郑州宇通… → 洛阳宇通…); names without 郑州 become a branch
  (河南华瑞科技有限公司洛阳分公司); pinyin initials follow the new names;
* record numbers keep their year and installation code with the copy number in front of the serial
  (ZF2026-709A-0007 → ZF2026-709A-100007), so numbers stay unique;
* the outbox, audit log and sync bookkeeping are not copied (they describe the base city's own history);
* the search index gets a row for every copied enterprise, visit and problem (app.textsearch.index_new, reading each
  record the way the app does after a write).

Generation is deterministic: the same seed on the same day gives the same rows (ids, timestamps and the random
installation code aside — `business_digest` compares everything else), so figures of two runs are comparable.
`cached(scale, seed)` keeps generated databases in bench/results/cache/ keyed by base size, seed, schema version and a
fingerprint of the code that writes them; run.py uses it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import demo  # noqa: E402
from app import uscc as uscc_rules  # noqa: E402
from app.clock import today  # noqa: E402
from app.services import Services  # noqa: E402
from app.textsearch import _STORED_SOURCES, SEARCH_KINDS, index_new, initials  # noqa: E402
from app.visits import VisitInput  # noqa: E402
from db.store import latest_version  # noqa: E402

CACHE_DIR = ROOT / "bench" / "results" / "cache"
# What a generated database depends on: a change to any of these makes a new cache entry.
CACHE_INPUTS = ("db/migrations/*.py", "db/changes.py", "db/reference.py", "db/store.py", "app/demo.py",
                "app/demo_text.py", "app/enterprises.py", "app/visits.py", "app/problems.py", "app/people.py",
                "app/lifecycle.py", "app/textsearch.py", "app/uscc.py", "bench/generate.py")

# The business tables, parents first. Each row is copied with new ids; foreign keys into this set are remapped.
BUSINESS = ("work_groups", "cadres", "enterprises", "assignments", "visits", "visit_enterprises", "visit_cadres",
            "visit_attendees", "problems", "problem_events")
# Copy k (1-based) is the city CITIES[k - 1]: (name, the first four digits of its administrative division codes).
CITIES = (("洛阳", "4103"), ("开封", "4102"), ("新乡", "4107"), ("焦作", "4108"), ("许昌", "4110"),
          ("平顶山", "4104"), ("安阳", "4105"), ("南阳", "4113"), ("商丘", "4114"))
HOME_CITY, HOME_REGION = "郑州", "4101"
MAX_SCALE = len(CITIES) + 1
HEAVY_VISITS = 200  # visits of the one enterprise run.py opens
SERIAL_STEP = 100_000  # copy k's record numbers: k * SERIAL_STEP + the original serial
BENCH_SETTING = "bench.generated"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ROW_CHUNK = 20_000


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- scale 1: the city through the services -----------------------------------------------------------------------------


def _demo_progress():
    shown = [-1]

    def progress(done: int, total: int, text: str) -> None:
        step = int(10 * done / max(total, 1))
        if step != shown[0]:
            shown[0] = step
            log(f"  演示数据 {10 * step:3d}%  {text}")

    return progress


def add_heavy_visits(services: Services, seed: int, target: int = HEAVY_VISITS) -> tuple[str | None, int]:
    """Give the enterprise with the most visits `target` visits in all, through VisitService.create in one transaction:
    on-site visits on workdays of the last year by its current 包联 cadres, written up with texts of other on-site
    visits. Returns (enterprise id, visits added)."""
    store = services.store
    row = store.one(
        "SELECT e.id, count(ve.id) AS n FROM enterprises e JOIN visit_enterprises ve ON ve.enterprise_id = e.id "
        "WHERE e.deleted = 0 AND ve.deleted = 0 AND e.status = '在营' GROUP BY e.id ORDER BY n DESC, e.uscc LIMIT 1")
    if row is None:
        return None, 0
    ent_id, have = row["id"], row["n"]
    cadres = [r[0] for r in store.query(
        "SELECT cadre_id FROM assignments WHERE enterprise_id = ? AND deleted = 0 AND end_date IS NULL ORDER BY rowid",
        (ent_id,))] or [services.installation.cadre_id]
    texts = [r[0] for r in store.query(
        "SELECT summary FROM visits WHERE kind = '实地走访' AND deleted = 0 ORDER BY rowid LIMIT 2000")]
    rng = random.Random(f"heavy-{seed}")
    cal, end = services.ctx.calendar, today()
    days = [d for d in (end - timedelta(days=n) for n in range(1, 366)) if cal.is_workday(d)]
    add = max(0, target - have)
    with services.ctx.writing():
        for day in sorted(rng.choices(days, k=add)):
            services.visits.create(VisitInput(
                kind="实地走访", visit_date=day, enterprise_ids=[ent_id],
                cadre_ids=rng.sample(cadres, min(len(cadres), rng.choice((1, 1, 2)))), summary=rng.choice(texts)))
    return ent_id, add


def build_base(out: Path, seed: int, size: str = "city") -> dict:
    """`demo.generate(size, seed)` on a new 金水区 station at `out` (keys/ beside it), then the heavy enterprise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in (out, out.with_name(out.name + "-wal"), out.with_name(out.name + "-shm")):
        path.unlink(missing_ok=True)
    services = Services.open(out)
    try:
        started = time.perf_counter()
        log(f"生成基础数据：演示数据 --size {size} --seed {seed}（city 约 1 分钟）…")
        counts = demo.generate(services, size=size, seed=seed, progress=_demo_progress())
        heavy, added = add_heavy_visits(services, seed)
        log(f"  企业 {heavy} 增加走访 {added} 次（共 {HEAVY_VISITS} 次）")
        return {"demo": counts, "heavy_enterprise": heavy, "heavy_visits_added": added,
                "base_seconds": round(time.perf_counter() - started, 1)}
    finally:
        services.close()


# -- scale N: copies with bulk SQL --------------------------------------------------------------------------------------


def copy_id(old: str | None, k: int) -> str | None:
    """Copy k's id for `old`: the old UUIDv7's 48-bit time, version 7, variant 10, the rest from a hash of (k, old)."""
    if old is None:
        return None
    digest = int.from_bytes(hashlib.blake2b(f"{k}:{old}".encode(), digest_size=10).digest(), "big")
    ms = int(old.replace("-", "")[:12], 16) if _UUID.fullmatch(old) else digest >> 32
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (digest >> 62 & 0xFFF) << 64 | 0b10 << 62 | (
        digest & ((1 << 62) - 1))
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def copy_uscc(code: str | None, k: int) -> str | None:
    """The code with the registration region moved to copy k's city and the check digit recomputed."""
    if not code:
        return code
    if code[2:6] != HOME_REGION:
        raise ValueError(f"统一社会信用代码 {code} 的登记机关不在郑州（{HOME_REGION}），无法按城市复制")
    return uscc_rules.make(code[:2] + CITIES[k - 1][1] + code[6:17])


def copy_name(name: str, k: int) -> str:
    city = CITIES[k - 1][0]
    if HOME_CITY in name:
        return name.replace(HOME_CITY, city, 1)
    return f"{name}{city}分公司"


def copy_record_no(number: str | None, k: int) -> str | None:
    if not number:
        return number
    head, _, serial = number.rpartition("-")
    if not head or not serial.isdigit():
        return f"{number}-{k}"
    return f"{head}-{k * SERIAL_STEP + int(serial):04d}"


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _business_fks(conn: sqlite3.Connection, table: str) -> set[str]:
    """Columns of `table` that point at a business row (remapped in a copy)."""
    return {r[3] for r in conn.execute(f"PRAGMA foreign_key_list({table})") if r[2] in BUSINESS}


def _copy_select(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[str]]:
    special = {
        "enterprises": {"uscc": "bench_uscc(uscc, :k)", "name": "bench_name(name, :k)",
                        "name_initials": "bench_initials(bench_name(name, :k))"},
        "visits": {"record_no": "bench_record_no(record_no, :k)"},
        "problems": {"record_no": "bench_record_no(record_no, :k)"},
    }.get(table, {})
    fks = _business_fks(conn, table)
    cols = _columns(conn, table)
    exprs = []
    for col in cols:
        if col == "id" or col in fks:
            exprs.append(f"bench_id({col}, :k)")
        else:
            exprs.append(special.get(col, col))
    return cols, exprs


def _register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("bench_id", 2, copy_id, deterministic=True)
    conn.create_function("bench_uscc", 2, copy_uscc, deterministic=True)
    conn.create_function("bench_name", 2, copy_name, deterministic=True)
    conn.create_function("bench_initials", 1, initials, deterministic=True)
    conn.create_function("bench_record_no", 2, copy_record_no, deterministic=True)


def _index_copies(conn: sqlite3.Connection, table: str, first_rowid: int) -> int:
    """Search rows for the records of `table` from `first_rowid` on, read as the app reads them after a write
    (textsearch._STORED_SOURCES), written in batches with textsearch.index_new."""
    kind = SEARCH_KINDS[table]
    source = _STORED_SOURCES[kind]
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM {table} WHERE rowid >= ? AND deleted = 0 ORDER BY rowid", (first_rowid,))]
    done = 0
    for start in range(0, len(ids), _ROW_CHUNK):
        entries = []
        for row_id in ids[start:start + _ROW_CHUNK]:
            row = conn.execute(source, (row_id,)).fetchone()
            if row is not None:
                *parts, initials_of = tuple(row)
                entries.append((row_id, tuple(parts), initials_of))
        index_new(conn, kind, entries)
        done += len(entries)
    return done


def replicate(path: Path, scale: int) -> dict:
    """Add scale - 1 copies of the business rows of the database at `path` (which holds scale 1). Returns seconds
    and rows per copy."""
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"--scale must be 1…{MAX_SCALE}")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")  # work_groups and cadres point at each other: checked once at the end
    conn.execute("PRAGMA synchronous = OFF")  # a half-made file is never used: the caller renames it when complete
    conn.execute("PRAGMA cache_size = -200000")
    _register_functions(conn)
    base_max = {t: conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0] for t in BUSINESS}
    copies = []
    try:
        for k in range(1, scale):
            started = time.perf_counter()
            rows: dict[str, int] = {}
            conn.execute("BEGIN IMMEDIATE")
            first = {}
            for table in BUSINESS:
                cols, exprs = _copy_select(conn, table)
                first[table] = conn.execute(f"SELECT coalesce(max(rowid), 0) + 1 FROM {table}").fetchone()[0]
                cur = conn.execute(
                    f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {table} "
                    f"WHERE rowid <= :last ORDER BY rowid", {"k": k, "last": base_max[table]})
                rows[table] = cur.rowcount
            indexed = {t: _index_copies(conn, t, first[t]) for t in SEARCH_KINDS}
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            seconds = round(time.perf_counter() - started, 1)
            copies.append({"city": CITIES[k - 1][0], "rows": rows, "indexed": indexed, "seconds": seconds})
            log(f"  复制 {k}/{scale - 1}（{CITIES[k - 1][0]}）：{sum(rows.values()):,} 行，"
                f"索引 {sum(indexed.values()):,} 条，{seconds} 秒")
        errors = conn.execute("PRAGMA foreign_key_check").fetchall()
        if errors:
            raise RuntimeError(f"foreign_key_check: {len(errors)} errors, e.g. {errors[:3]}")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    return {"copies": copies}


# -- the whole thing ----------------------------------------------------------------------------------------------------


def _copy_db(src: Path, dst: Path) -> None:
    """The database file and the installation's keys folder beside it (a closed database has no -wal)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    keys = src.parent / "keys"
    if keys.is_dir() and keys != dst.parent / "keys":
        shutil.copytree(keys, dst.parent / "keys", dirs_exist_ok=True)


def _record(path: Path, meta: dict) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                     (BENCH_SETTING, json.dumps(meta, ensure_ascii=False)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def generate(out: Path, scale: int = 1, seed: int = 1, base: str = "city", base_db: Path | None = None) -> dict:
    """Write the scale-`scale` dataset to `out` (and the installation's keys/ folder beside it). `base_db`: an
    existing scale-1 database of the same base and seed to start from (copied), instead of building one."""
    out = Path(out)
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"--scale must be 1…{MAX_SCALE}")
    started = time.perf_counter()
    part = out.with_name(out.name + ".part")
    meta: dict = {"scale": scale, "seed": seed, "base": base, "schema_version": latest_version(), "on": str(today())}
    if base_db is not None:
        _copy_db(Path(base_db), part)
        meta["base_meta"] = read_meta(Path(base_db))
    else:
        meta.update(build_base(part, seed, base))
    if scale > 1:
        log(f"复制为 {scale} 个城市…")
        meta.update(replicate(part, scale))
    meta["counts"] = counts(part)
    meta["seconds"] = round(time.perf_counter() - started, 1)
    _record(part, meta)
    part.replace(out)
    return meta


def counts(path: Path) -> dict:
    """Live rows per business table, and the figures the issue states the scale in."""
    conn = sqlite3.connect(path)
    try:
        q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        out = {t: q(f"SELECT count(*) FROM {t} WHERE deleted = 0") for t in BUSINESS}
        out["symposia"] = q("SELECT count(*) FROM visits WHERE deleted = 0 AND kind = '座谈会'")
        out["active_cadres"] = q("SELECT count(*) FROM cadres WHERE deleted = 0 AND active = 1")
        out["search_rows"] = q("SELECT count(*) FROM search_rows")
        return out
    finally:
        conn.close()


def business_digest(path: Path) -> str:
    """SHA-256 over every business row in insertion order, with what differs between two runs of the same seed left
    out: ids (each replaced by its table and rowid, also inside JSON text), the installation's id and record-number
    code, and the clock stamps (updated_at, problem_events.at)."""
    conn = sqlite3.connect(path)
    try:
        keys: dict[str, str] = {}
        for table in (*BUSINESS, "units"):
            for rowid, row_id in conn.execute(f"SELECT rowid, id FROM {table} ORDER BY rowid"):
                keys[row_id] = f"{table}#{rowid}"
        inst = conn.execute("SELECT value FROM settings WHERE key = 'installation.id'").fetchone()[0]
        code = inst.replace("-", "")[-4:].upper()
        skip = {"id", "origin", "updated_at", "updated_by"}

        def clean(value):
            if not isinstance(value, str):
                return value
            value = _UUID.sub(lambda m: keys.get(m.group(), "?"), value)
            return value.replace(f"-{code}-", "-####-")

        h = hashlib.sha256()
        for table in BUSINESS:
            cols = [c for c in _columns(conn, table) if c not in skip and not (table == "problem_events" and c == "at")]
            h.update(f"{table}:{','.join(cols)}\n".encode())
            for row in conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid"):
                h.update(json.dumps([clean(v) for v in row], ensure_ascii=False).encode() + b"\n")
        return h.hexdigest()
    finally:
        conn.close()


# -- cache ------------------------------------------------------------------------------------------------------------


def fingerprint() -> str:
    h = hashlib.sha256()
    for pattern in CACHE_INPUTS:
        for path in sorted(ROOT.glob(pattern)):
            h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def cache_folder(seed: int, base: str = "city") -> Path:
    return CACHE_DIR / f"gen-{base}-seed{seed}-v{latest_version()}-{fingerprint()}"


def cached(scale: int, seed: int = 1, base: str = "city", fresh: bool = False) -> Path:
    """The dataset from bench/results/cache/, generated first when missing (scale N starts from the cached scale 1).
    Entries of older code or schema for the same base and seed are removed. The day is part of the data (visits
    cover the last twelve months), so an entry made on another day is made again."""
    folder = cache_folder(seed, base)
    for old in CACHE_DIR.glob(f"gen-{base}-seed{seed}-*"):
        if old != folder:
            log(f"删除过期的缓存 {old.name}")
            shutil.rmtree(old, ignore_errors=True)
    day = str(today())
    base_db = folder / "x1.db"
    out = folder / f"x{scale}.db"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    for db in (base_db, out):
        if db.is_file() and (read_meta(db) or {}).get("on") != day:
            log(f"缓存 {db.name} 不是今天生成的，重新生成")
            db.unlink()
            if db == base_db:
                for other in folder.glob("x*.db"):
                    other.unlink()
    if not base_db.is_file():
        generate(base_db, 1, seed, base)
    if not out.is_file():
        generate(out, scale, seed, base, base_db=base_db)
    else:
        log(f"使用缓存 {out.relative_to(ROOT)}（--fresh 重新生成）")
    return out


def read_meta(path: Path) -> dict | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (BENCH_SETTING,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, default=1, help=f"cities: 1 = the seeds' city, 10 = ten times (1…{MAX_SCALE})")
    ap.add_argument("--seed", type=int, default=1, help="demo seed (default 1)")
    ap.add_argument("--base", choices=demo.SIZES, default="city", help="what one city is: city (default) or small")
    ap.add_argument("--out", type=Path, help="database to write (its keys/ folder goes beside it); "
                                             "without --out: the cache in bench/results/cache/")
    ap.add_argument("--fresh", action="store_true", help="with the cache: generate again")
    args = ap.parse_args(argv)
    if not 1 <= args.scale <= MAX_SCALE:
        ap.error(f"--scale must be 1…{MAX_SCALE}")
    started = time.perf_counter()
    if args.out is None:
        path = cached(args.scale, args.seed, args.base, args.fresh)
    else:
        if args.out.exists():
            ap.error(f"{args.out} exists: choose a new file")
        base_db = cache_folder(args.seed, args.base) / "x1.db"
        usable = base_db.is_file() and (read_meta(base_db) or {}).get("on") == str(today()) and args.scale > 1
        generate(args.out, args.scale, args.seed, args.base, base_db=base_db if usable else None)
        path = args.out
    meta = read_meta(path) or {}
    print(json.dumps({"db": str(path), "seconds": round(time.perf_counter() - started, 1),
                      "counts": meta.get("counts")}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
