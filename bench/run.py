"""The benchmark suite (issue #8 "规模与速度"): every measure of DESIGN §7 on one generated dataset, each against a
baseline timed in the same run, one line per measure, all figures in bench/results.json.

    .venv/bin/python bench/run.py --quick        # scale 1 (the seeds' city), fewer runs, small sub-benchmarks: minutes
    .venv/bin/python bench/run.py                # scale 10 (a province pilot of ten cities, 126k enterprises)
    .venv/bin/python bench/run.py --only gui,search --scale 10
    .venv/bin/python bench/run.py --fresh        # generate the dataset again (bench/generate.py)

Measures (the dataset from bench/generate.py, a copy in a temporary folder; GUI parts in child processes with
QT_QPA_PLATFORM=offscreen):

  start        main.py --db DATASET, spawn to the main window's first paint (ZHUQI_EXIT_AFTER_FIRST_PAINT=1)
               ÷ a bare PySide6 window (bench_bundle.HELLO) from spawn to its first paint.        goal ≤ 2.0 ×
  search       EnterpriseService.list_ids(EnterpriseFilter(text=q)) (the list's search) and .search(q) (the
               pickers) over QUERIES — 2-character words, names, pinyin initials, credit-code prefixes,
               full-width input — p95 of every query × run; baseline: the bare FTS5 MATCH of the same terms.
                                                                                                 goal p95 ≤ 50 ms
  list         the 企业 page (MainWindow, as main.py builds it): first shown until the list has painted its rows;
               scrollToBottom until painted; a header click (sortByColumn) on other columns until painted; a search
               typed into its box; the 问题 page and its 逾期 tab; the 走访 page.
               Baseline: a bare QTableView over a bare model holding the ids of a plain ORDER BY (set-based GROUP BY
               for the computed columns) and fetching plain columns of the painted rows.         goal ≤ 150 ms
  enterprise   open the enterprise with 200 visits (EnterprisesView.open_enterprise, 走访记录 tab showing) and
               another one in the detail panel, until its visit table has painted; baseline: bare SQL of the same
               records and a bare table of the visits.                                         goal ≤ 100 ms
  rss          peak RSS (ru_maxrss) of the GUI process after all of the above; baseline: the bare process. ≤ 400 MB
  scripts      bench_sync.py (export ÷ json.dumps + fsync ≤ 2 ×, import ÷ executemany ≤ 3 ×), bench_print.py
               (PDF ÷ bare reportlab canvas ≤ 2 ×), bench_roster.py (Excel import ÷ openpyxl read ≤ 2 ×), run as
               child processes with small sizes under --quick; bench_bundle.py's figures (frozen start and size) are
               read from bench/results/bundle.json, or measured again with --bundle.

"× baseline" is our time ÷ the baseline's (for RSS our MB ÷ the bare process's). Medians of --runs child processes
for the GUI figures. Machine, code version and dataset are recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
for p in (str(ROOT), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

RESULTS_FILE = BENCH / "results.json"
RESULTS_DIR = BENCH / "results"
QUERIES = (
    "科技", "机械", "食品", "物流", "建材", "医药", "电子", "用工",  # 2-character words (建材, 用工: no name has them)
    "嘉盛", "众禾", "宇通", "新材料", "信息技术", "郑州嘉盛", "洛阳嘉盛", "金水区",  # brands, names, places
    "zzhr", "hnht", "zzjs", "lyjs", "zz",  # pinyin initials of a name's start (zz: half of the names)
    "914101", "91410105MA", "91410305",  # credit-code prefixes (914101: every Zhengzhou enterprise)
    "ｚｚｈｒ", "９１４１０１", "郑州　科技",  # full-width input (IME), ideographic space
)
TYPED = ("科技", "zzhr", "91410105", "洛阳")  # typed into the 企业 page's search box
GOALS = {"start": ("ratio", 2.0), "search": ("ms", 50.0), "list": ("ms", 150.0), "enterprise": ("ms", 100.0),
         "rss": ("MB", 400.0)}
PARTS = ("start", "search", "gui", "scripts")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


PYCACHE = RESULTS_DIR / "cache" / "pycache"


def python_env() -> dict:
    """The environment of every child: bytecode cached (in bench/results/cache/pycache, not beside the sources), as
    an installed copy has it — with PYTHONDONTWRITEBYTECODE every start would compile each module again."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def compile_sources() -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "app", "db", "ui", "main.py"], cwd=ROOT,
                   env=python_env(), check=True, stdout=subprocess.DEVNULL)


def child_env(data: Path) -> dict:
    env = python_env()
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["ZHUQI_DATA_DIR"] = str(data)
    env["ZHUQI_NO_CRASH_DIALOG"] = "1"
    env.pop("ZHUQI_EXIT_AFTER_FIRST_PAINT", None)
    return env


# =====================================================================================================================
# GUI children (run.py --child gui|bare): build the window, time each step until its widget has painted
# =====================================================================================================================


def _paint_timer():
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    class Watch(QObject):
        """Quits `loop` once `widget` has painted: after its first Paint event, when that frame is done."""

        def __init__(self, loop):
            super().__init__()
            self.loop, self.at = loop, None
            self.seen = False

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, self.done)
            return False

        def done(self):
            self.at = time.perf_counter()
            self.loop.quit()

    def timed(action, target, ready=None, timeout: float = 120.0) -> float:
        """Seconds from calling `action` until `ready()` holds and `target()` (a widget) has painted after it."""
        app = QApplication.instance()
        start = time.perf_counter()
        action()
        if ready is not None:
            while not ready():
                if time.perf_counter() - start > timeout:
                    raise TimeoutError("not ready")
                app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        widget = target()
        loop = QEventLoop()
        watch = Watch(loop)
        widget.installEventFilter(watch)
        widget.update()
        QTimer.singleShot(int(timeout * 1000), loop.quit)
        loop.exec()
        widget.removeEventFilter(watch)
        if watch.at is None:
            raise TimeoutError(f"{widget} did not paint")
        return watch.at - start

    return timed


def _peak_rss_mb() -> float:
    """This process's peak resident set size. On Linux VmHWM: ru_maxrss starts a child at its parent's peak at the
    time of the fork (it survives exec), so a child of a big parent would report the parent's figure."""
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return round(int(text.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def child_gui(db: Path, settings_path: Path, heavy: list[str]) -> dict:
    """The app's own window over `db`: the figures of one run."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from app.services import Services
    from ui.fonts import register_bundled_font
    from ui.main_window import MainWindow
    from ui.settings import Settings
    from ui.style import apply_style
    from ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([sys.argv[0]])
    register_bundled_font(app)
    apply_style(app)
    timed = _paint_timer()
    out: dict = {}
    services = Services.open(db)
    window = MainWindow(services, Settings(settings_path), TaskRunner())
    out["window_first_paint"] = timed(window.show, lambda: window)

    ents = None

    def page(key):
        return window.pages.get(key)

    out["list.enterprises_open"] = timed(
        lambda: window.show_page("enterprises"), lambda: page("enterprises").table.viewport(),
        ready=lambda: page("enterprises") is not None and page("enterprises").model.rowCount() > 0)
    ents = page("enterprises")
    out["rows"] = ents.model.rowCount()
    table = ents.table
    out["list.enterprises_scroll_end"] = timed(table.scrollToBottom, table.viewport)
    from ui.models.enterprise_model import CADRES, LAST_VISIT, OPEN_PROBLEMS, UNIT, USCC

    for key, column in (("uscc", USCC), ("unit", UNIT), ("last_visit", LAST_VISIT), ("cadres", CADRES),
                        ("open_problems", OPEN_PROBLEMS)):
        out[f"list.enterprises_sort_{key}"] = timed(
            lambda c=column: table.sortByColumn(c, Qt.SortOrder.AscendingOrder), table.viewport)
    ents.model.sort(-1)  # back to the natural order (by name)
    typed = []
    for text in TYPED:
        def search(t=text):
            ents.search_box.setText(t)
            ents.search_box.flush()
        typed.append(timed(search, table.viewport))
    out["list.enterprises_search_typed"] = typed
    timed(lambda: (ents.search_box.setText(""), ents.search_box.flush()), table.viewport)

    detail = ents.detail
    detail.tabs.setCurrentIndex(1)  # 走访记录
    out["enterprise.open"] = timed(lambda: ents.open_enterprise(heavy[0]), lambda: detail.visit_table.viewport())
    out["enterprise.visits"] = detail.visit_table.model().rowCount()
    out["enterprise.detail"] = timed(lambda: detail.set_enterprise(heavy[-1]), lambda: detail.visit_table.viewport())

    out["list.problems_open"] = timed(
        lambda: window.show_page("problems"), lambda: page("problems").table.viewport(),
        ready=lambda: page("problems") is not None)
    probs = page("problems")
    from ui.views.problems_view import OVERDUE_TAB, TABS

    overdue = [key for _label, key in TABS].index(OVERDUE_TAB)
    out["list.problems_overdue"] = timed(lambda: probs.tabs.setCurrentIndex(overdue), probs.table.viewport)
    out["overdue_rows"] = probs.model.rowCount()
    out["list.visits_open"] = timed(
        lambda: window.show_page("visits"), lambda: page("visits").table.viewport(),
        ready=lambda: page("visits") is not None)
    out["rss_mb"] = _peak_rss_mb()
    window.close()
    services.close()
    return out


def child_bare(db: Path, heavy: list[str]) -> dict:
    """The baselines: bare QTableViews over bare models fed by plain SQL, the same shapes and row counts."""
    import json as _json

    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from ui.fonts import register_bundled_font

    app = QApplication.instance() or QApplication([sys.argv[0]])
    register_bundled_font(app)
    timed = _paint_timer()
    conn = sqlite3.connect(db)
    today = date.today().isoformat()

    class Bare(QAbstractTableModel):
        def __init__(self, table: str, cols: tuple[str, ...], sql: str, params=()):
            super().__init__()
            self.table, self.cols = table, cols
            self.load(sql, params)

        def load(self, sql, params=()):
            self.beginResetModel()
            self.ids = [r[0] for r in conn.execute(sql, params)]
            self.rows: dict[str, tuple] = {}
            self.endResetModel()

        def rowCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(self.ids)

        def columnCount(self, parent=QModelIndex()):
            return 0 if parent.isValid() else len(self.cols)

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role != Qt.ItemDataRole.DisplayRole:
                return None
            rid = self.ids[index.row()]
            row = self.rows.get(rid)
            if row is None:
                page = self.ids[index.row():index.row() + 200]
                for r in conn.execute(f"SELECT id, {', '.join(self.cols)} FROM {self.table} WHERE id IN "
                                      "(SELECT value FROM json_each(?))", (_json.dumps(page),)):
                    self.rows[r[0]] = r[1:]
                row = self.rows.get(rid, ())
            value = row[index.column()] if index.column() < len(row) else None
            return None if value is None else str(value)

    def view(model, w=1100, h=460):
        t = QTableView()
        t.resize(w, h)
        t.setModel(model)
        t.show()
        return t

    e_cols = ("name", "uscc", "unit_id", "status", "industry", "tags", "scale", "township", "legal_rep",
              "contact_name", "contact_phone")
    live = "FROM enterprises e WHERE e.deleted = 0 AND e.archived = 0"
    out: dict = {}
    holder: dict = {}

    def open_list():
        holder["m"] = Bare("enterprises", e_cols, f"SELECT e.id {live} ORDER BY e.name_initials, e.name, e.id")
        holder["t"] = view(holder["m"])

    out["list.enterprises_open"] = timed(open_list, lambda: holder["t"].viewport())
    t, m = holder["t"], holder["m"]
    out["list.enterprises_scroll_end"] = timed(t.scrollToBottom, t.viewport)
    sorts = {
        "uscc": f"SELECT e.id {live} ORDER BY e.uscc, e.name, e.id",
        "unit": "SELECT e.id FROM enterprises e JOIN units u ON u.id = e.unit_id WHERE e.deleted = 0 "
                "AND e.archived = 0 ORDER BY u.sort, e.name, e.id",
        "last_visit": "SELECT e.id FROM enterprises e LEFT JOIN (SELECT ve.enterprise_id, max(v.visit_date) AS d "
                      "FROM visit_enterprises ve JOIN visits v ON v.id = ve.visit_id WHERE ve.deleted = 0 AND "
                      "v.deleted = 0 GROUP BY ve.enterprise_id) x ON x.enterprise_id = e.id WHERE e.deleted = 0 "
                      "AND e.archived = 0 ORDER BY x.d, e.name, e.id",
        "cadres": "SELECT e.id FROM enterprises e LEFT JOIN (SELECT a.enterprise_id, group_concat(c.name, '、') AS n "
                  "FROM assignments a JOIN cadres c ON c.id = a.cadre_id WHERE a.deleted = 0 AND a.end_date IS NULL "
                  "GROUP BY a.enterprise_id) x ON x.enterprise_id = e.id WHERE e.deleted = 0 AND e.archived = 0 "
                  "ORDER BY x.n, e.name, e.id",
        "open_problems": "SELECT e.id FROM enterprises e LEFT JOIN (SELECT enterprise_id, count(*) AS n FROM problems "
                         "WHERE deleted = 0 AND status IN ('待交办','已交办','办理中') GROUP BY enterprise_id) x "
                         "ON x.enterprise_id = e.id WHERE e.deleted = 0 AND e.archived = 0 "
                         "ORDER BY coalesce(x.n, 0), e.name, e.id",
    }
    for key, sql in sorts.items():
        out[f"list.enterprises_sort_{key}"] = timed(lambda s=sql: m.load(s), t.viewport)
    m.load(f"SELECT e.id {live} ORDER BY e.name_initials, e.name, e.id")
    from app.textsearch import match_query

    typed = []
    for text in TYPED:
        q = match_query(text)
        sql = (f"SELECT e.id {live} AND e.id IN (SELECT row_id FROM search_rows WHERE docid IN (SELECT rowid FROM "
               "search_index_enterprise WHERE search_index_enterprise MATCH ?)) ORDER BY e.name_initials, e.name, e.id")
        typed.append(timed(lambda s=sql, q=q: m.load(s, (q,)), t.viewport))
    out["list.enterprises_search_typed"] = typed

    v_cols = ("record_no", "kind", "visit_date", "summary", "location", "policies")
    visits_of = ("SELECT v.id FROM visits v JOIN visit_enterprises ve ON ve.visit_id = v.id WHERE ve.enterprise_id = ? "
                 "AND ve.deleted = 0 AND v.deleted = 0 ORDER BY v.visit_date DESC, v.record_no DESC")

    def detail(ent_id):
        def run():
            conn.execute("SELECT * FROM enterprises WHERE id = ?", (ent_id,)).fetchall()
            conn.execute("SELECT * FROM problems WHERE enterprise_id = ? AND deleted = 0", (ent_id,)).fetchall()
            conn.execute("SELECT a.*, c.name FROM assignments a JOIN cadres c ON c.id = a.cadre_id "
                         "WHERE a.enterprise_id = ? AND a.deleted = 0", (ent_id,)).fetchall()
            conn.execute("SELECT * FROM audit_log WHERE table_name = 'enterprises' AND row_id = ? UNION ALL "
                         "SELECT * FROM audit_log WHERE table_name = 'assignments' AND row_id IN (SELECT id FROM "
                         "assignments WHERE enterprise_id = ?)", (ent_id, ent_id)).fetchall()
            holder["vm"] = Bare("visits", v_cols, visits_of, (ent_id,))
            holder["vt"] = view(holder["vm"], 1100, 300)
        return run

    out["enterprise.open"] = timed(detail(heavy[0]), lambda: holder["vt"].viewport())
    out["enterprise.detail"] = timed(detail(heavy[-1]), lambda: holder["vt"].viewport())

    p_cols = ("record_no", "title", "status", "level", "severity", "registered_on", "deadline", "lead_unit_id",
              "category_code", "outcome", "satisfaction")

    def problems():
        holder["pm"] = Bare("problems", p_cols, "SELECT p.id FROM problems p WHERE p.deleted = 0 "
                            "ORDER BY p.registered_on DESC, p.id")
        holder["pt"] = view(holder["pm"])

    out["list.problems_open"] = timed(problems, lambda: holder["pt"].viewport())
    out["list.problems_overdue"] = timed(
        lambda: holder["pm"].load("SELECT p.id FROM problems p WHERE p.deleted = 0 AND p.status IN ('已交办','办理中') "
                                  "AND p.deadline < ? ORDER BY p.registered_on DESC, p.id", (today,)),
        lambda: holder["pt"].viewport())

    def visits():
        holder["wm"] = Bare("visits", v_cols, "SELECT v.id FROM visits v WHERE v.deleted = 0 "
                            "ORDER BY v.visit_date DESC, v.record_no DESC")
        holder["wt"] = view(holder["wm"])

    out["list.visits_open"] = timed(visits, lambda: holder["wt"].viewport())
    out["rss_mb"] = _peak_rss_mb()
    conn.close()
    return out


# =====================================================================================================================
# The parent: dataset, measures, sub-benchmarks, table
# =====================================================================================================================


def run_child(kind: str, db: Path, work: Path, heavy: list[str], n: int, extra: list[str] = ()) -> dict:
    out = work / f"{kind}-{n}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--db", str(db), "--child-out", str(out),
           "--settings", str(work / f"settings-{n}.ini"), *extra, "--heavy", *heavy]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=child_env(work / "data"), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["child_seconds"] = round(time.perf_counter() - started, 1)
    return result


def first_paint(cmd: list[str], env: dict, timeout: float = 600) -> tuple[float, float]:
    """(seconds from spawn to the "first-paint" line, the seconds the child reported); the child is then killed
    (our app would otherwise back up the whole database at exit)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("first-paint"):
                return time.perf_counter() - started, float(line.split()[1])
        raise RuntimeError(f"{cmd} exited with {proc.wait(timeout)} without printing first-paint")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def measure_start(db: Path, work: Path, runs: int) -> dict:
    from bench_bundle import HELLO

    hello = work / "hello.py"
    hello.write_text(HELLO, encoding="utf-8")
    env = child_env(work / "data") | {"ZHUQI_EXIT_AFTER_FIRST_PAINT": "1"}
    ours_cmd = [sys.executable, str(ROOT / "main.py"), "--db", str(db)]
    bare_cmd = [sys.executable, str(hello)]
    log("启动：预热…")
    first_paint(ours_cmd, env)
    first_paint(bare_cmd, env)
    ours, bare, ours_own = [], [], []
    for i in range(runs):
        wall, own = first_paint(ours_cmd, env)
        ours.append(wall)
        ours_own.append(own)
        bare.append(first_paint(bare_cmd, env)[0])
        log(f"  启动 {i + 1}/{runs}：ours {wall:.3f} s（进程内 {own:.3f} s），bare {bare[-1]:.3f} s")
    # Where the start goes on this database: the quick_check the GUI runs before opening it.
    conn = sqlite3.connect(db)
    t0 = time.perf_counter()
    conn.execute("PRAGMA quick_check").fetchall()
    quick_check = time.perf_counter() - t0
    conn.close()
    return {"ours_runs_s": [round(x, 3) for x in ours], "bare_runs_s": [round(x, 3) for x in bare],
            "ours_in_process_runs_s": [round(x, 3) for x in ours_own],
            "ours_s": statistics.median(ours), "bare_s": statistics.median(bare), "quick_check_s": round(quick_check, 3)}


def measure_search(db: Path, reps: int) -> dict:
    from app.enterprises import EnterpriseFilter
    from app.services import Services
    from app.textsearch import match_query

    services = Services.open(db)
    raw = sqlite3.connect(db)
    per_query: dict[str, dict] = {}
    samples = {"list": [], "picker": [], "bare": []}
    try:
        ents = services.enterprises
        for q in QUERIES:
            fts = match_query(q)

            def bare(fts=fts, q=q):
                if fts is None:
                    return raw.execute("SELECT id FROM enterprises WHERE name LIKE ?", (f"%{q}%",)).fetchall()
                return raw.execute("SELECT row_id FROM search_rows WHERE docid IN (SELECT rowid FROM "
                                   "search_index_enterprise WHERE search_index_enterprise MATCH ?)",
                                   (fts,)).fetchall()

            fns = {"list": lambda q=q: ents.list_ids(EnterpriseFilter(text=q)), "picker": lambda q=q: ents.search(q),
                   "bare": bare}
            found = {k: len(fn()) for k, fn in fns.items()}  # warm-up, and the result sizes
            times = {k: [] for k in fns}
            for _ in range(reps):
                for k, fn in fns.items():
                    t0 = time.perf_counter()
                    fn()
                    times[k].append(time.perf_counter() - t0)
            for k in fns:
                samples[k] += times[k]
            per_query[q] = {"rows": found["list"], "bare_rows": found["bare"],
                            **{f"{k}_ms": round(1000 * statistics.median(v), 2) for k, v in times.items()}}
        sql, params = ents.list_query(EnterpriseFilter(text="科技"))
        plan = [tuple(r) for r in services.store.query(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        raw.close()
        services.close()
    result = {k: {"p50_ms": round(1000 * statistics.median(v), 2), "p95_ms": round(1000 * p95(v), 2),
                  "max_ms": round(1000 * max(v), 2)} for k, v in samples.items()}
    result["queries"] = per_query
    result["reps"] = reps
    result["list_query_plan"] = [r[-1] for r in plan]
    return result


def measure_gui(db: Path, work: Path, heavy: list[str], runs: int, profile: Path | None) -> dict:
    ours, bare = [], []
    for n in range(runs):
        log(f"界面 {n + 1}/{runs}：本程序…")
        ours.append(run_child("gui", db, work, heavy, n))
        log(f"界面 {n + 1}/{runs}：基线…")
        bare.append(run_child("bare", db, work, heavy, n))
    if profile is not None:
        log(f"界面：cProfile → {profile}")
        run_child("gui", db, work, heavy, runs, ["--profile", str(profile.resolve())])
    return {"ours_runs": ours, "bare_runs": bare}


def _median_of(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs]
    if isinstance(values[0], list):  # a list per run (typed searches): the median over all of them
        values = [x for v in values for x in v]
    return statistics.median(values)


# -- the sub-benchmarks --------------------------------------------------------------------------------------------------


def run_script(name: str, args: list[str], timeout: float = 3600) -> dict:
    cmd = [sys.executable, str(BENCH / name), *args]
    log(f"运行 {name} {' '.join(args)} …")
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=python_env())
    seconds = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        log(f"  {name} 失败（{proc.returncode}）：{proc.stderr[-1500:]}")
    return {"cmd": " ".join(["python", f"bench/{name}", *args]), "returncode": proc.returncode, "seconds": seconds,
            "stdout": proc.stdout[-3000:]}


def scripts(quick: bool, work: Path, bundle: bool) -> dict:
    out: dict = {}
    sync_out = work / "sync.json"
    sync_args = (["--size", "small", "--runs", "1", "--import-runs", "1"] if quick
                 else ["--size", "city", "--runs", "2", "--import-runs", "1"])
    out["sync"] = run_script("bench_sync.py", [*sync_args, "--no-profile", "--out", str(sync_out)])
    out["sync"]["figures"] = _read(sync_out)

    print_out = work / "print.json"
    print_args = ["--visits", "200", "--runs", "1"] if quick else ["--visits", "1000", "--runs", "3"]
    out["print"] = run_script("bench_print.py", [*print_args, "--out", str(print_out)])
    out["print"]["figures"] = _read(print_out)

    roster_file = RESULTS_DIR / "roster.json"
    kept = roster_file.read_bytes() if roster_file.is_file() else None
    roster_args = ["--rows", "5000", "--runs", "1"] if quick else ["--rows", "50000", "--runs", "3"]
    out["roster"] = run_script("bench_roster.py", roster_args)
    out["roster"]["figures"] = _read(roster_file)
    if quick and kept is not None:  # bench_roster.py always writes there: keep the full run's figures
        roster_file.write_bytes(kept)

    bundle_file = RESULTS_DIR / "bundle.json"
    if bundle:
        out["bundle"] = run_script("bench_bundle.py", ["--reuse", "--runs", "3" if quick else "5"])
    else:
        out["bundle"] = {"cmd": f"(read {bundle_file.relative_to(ROOT)}; --bundle measures it again)"}
    out["bundle"]["figures"] = _read(bundle_file)
    return out


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- the table ----------------------------------------------------------------------------------------------------------


def line(name: str, value: float | None, unit: str, baseline: float | None, goal: tuple[str, float] | None,
         note: str = "", **extra) -> dict:
    """One measure: `value` and `baseline` in `unit`; goal (on "ratio" or on the value) and whether it is met."""
    ratio = None if value is None or not baseline else value / baseline
    met = None
    if goal is not None and value is not None:
        on, limit = goal
        met = (ratio if on == "ratio" else value) <= limit if (on != "ratio" or ratio is not None) else None
    return {"measure": name, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio,
            "goal": None if goal is None else {"on": goal[0], "max": goal[1]}, "met": met, "note": note, **extra}


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 1000 else f"{value:,.0f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.3g} {unit}"


def _goal_text(m: dict) -> str:
    g = m["goal"]
    if g is None:
        return "—"
    return f"≤ {g['max']:g} ×" if g["on"] == "ratio" else f"≤ {_fmt(g['max'], m['unit'])}"


def _verdict(m: dict) -> str:
    if m["met"] is None:
        return ""
    if m["met"]:
        return "met"
    g = m["goal"]
    over = (m["ratio"] if g["on"] == "ratio" else m["value"]) / g["max"]
    return f"NOT met ({over:.1f} × the goal)"


def print_table(measures: list[dict]) -> None:
    rows = [("measure", "figure", "baseline", "× baseline", "goal", "")]
    for m in measures:
        rows.append((m["measure"], _fmt(m["value"], m["unit"]), _fmt(m["baseline"], m["unit"]),
                     "—" if m["ratio"] is None else f"{m['ratio']:.2f}" if m["ratio"] >= 0.1 else f"{m['ratio']:.4f}",
                     _goal_text(m), _verdict(m)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r[:5], widths,
                                                                                           strict=True)))
              + ("  " + r[5] if r[5] else ""))
        if i == 0:
            print("-" * (sum(widths) + 2 * 4 + 6))


def build_measures(res: dict) -> list[dict]:
    ms: list[dict] = []
    if "start" in res:
        s = res["start"]
        ms.append(line("start: spawn to main window painted", s["ours_s"], "s", s["bare_s"], GOALS["start"],
                       "bare: PySide6 QLabel window"))
    if "search" in res:
        s = res["search"]
        for k, label in (("list", "search p95: list_ids (企业 list)"), ("picker", "search p95: search() (pickers)")):
            ms.append(line(label, s[k]["p95_ms"], "ms", s["bare"]["p95_ms"], GOALS["search"],
                           f"p50 {s[k]['p50_ms']} ms; bare FTS5 MATCH p50 {s['bare']['p50_ms']} ms"))
    if "gui" in res:
        ours, bare = res["gui"]["ours_runs"], res["gui"]["bare_runs"]
        labels = {
            "list.enterprises_open": "企业 list: open (all rows)",
            "list.enterprises_scroll_end": "企业 list: scroll to the end",
            "list.enterprises_sort_uscc": "企业 list: sort by 信用代码",
            "list.enterprises_sort_unit": "企业 list: sort by 所属单位",
            "list.enterprises_sort_last_visit": "企业 list: sort by 最近走访",
            "list.enterprises_sort_cadres": "企业 list: sort by 包联干部",
            "list.enterprises_sort_open_problems": "企业 list: sort by 未办结问题",
            "list.enterprises_search_typed": "企业 list: search typed (median)",
            "list.problems_open": "问题 list: open",
            "list.problems_overdue": "问题 list: 逾期 tab",
            "list.visits_open": "走访 list: open",
        }
        heavy = res.get("dataset", {}).get("heavy_enterprises") or [("", "?"), ("", "?")]
        labels["enterprise.open"] = f"enterprise ({heavy[0][1]} visits): open"
        labels["enterprise.detail"] = f"enterprise ({heavy[-1][1]} visits): detail"
        for key, label in labels.items():
            goal = GOALS["enterprise"] if key.startswith("enterprise.") else GOALS["list"]
            if key == "list.enterprises_search_typed":
                goal = None
            ms.append(line(label, 1000 * _median_of(ours, key), "ms", 1000 * _median_of(bare, key), goal))
        ms.append(line("peak RSS after browsing", max(r["rss_mb"] for r in ours), "MB",
                       max(r["rss_mb"] for r in bare), GOALS["rss"], "bare: the baseline process"))
    sc = res.get("scripts", {})
    sync = (sc.get("sync") or {}).get("figures")
    if sync:
        for key, goal, label in (("export", 2.0, "sync export (package)"), ("import", 3.0, "sync import (package)")):
            f = sync[key]
            ms.append(line(f"{label} [{sync.get('dataset', {}).get('size', '?')}]", f["best_s"], "s",
                           f["baseline"]["best_s"], ("ratio", goal),
                           "baseline: json.dumps + fsync" if key == "export" else "baseline: executemany"))
        ms.append(line("sync re-import (the same file again)", sync["reimport"]["best_s"], "s",
                       sync["import"]["best_s"], ("ratio", 0.05), "baseline: the first import; goal ≤ 5 % of it"))
    pr = (sc.get("print") or {}).get("figures")
    if pr:
        v = pr["visit_records"]
        ms.append(line(f"PDF: {v['records']} 走访记录表 ({v['pages']} pages)", v["ours"]["median_s"], "s",
                       v["baseline"]["median_s"], ("ratio", 2.0), "baseline: bare reportlab canvas"))
    ro = (sc.get("roster") or {}).get("figures")
    if ro:
        ms.append(line(f"Excel: roster import ({ro['rows']:,} rows)", ro["import_s"], "s",
                       ro["baseline_openpyxl_read_s"], ("ratio", 2.0), "baseline: openpyxl read"))
    bu = (sc.get("bundle") or {}).get("figures")
    if bu:
        when = bu.get("when", "?")
        ms.append(line(f"frozen app start (bundle.json {when[:10]})", bu["start"]["ours_s"], "s",
                       bu["start"]["hello_s"], ("ratio", 2.0)))
        ms.append(line(f"frozen app size (bundle.json {when[:10]})", bu["size"]["ours_mb"], "MB",
                       bu["size"]["hello_mb"], ("ratio", 1.5)))
    return ms


# -- main ----------------------------------------------------------------------------------------------------------------


def machine() -> dict:
    import PySide6

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"platform": platform.platform(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "pyside6": PySide6.__version__,
            "load_at_start": load, "memory_gb": _memory_gb()}


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def code_version() -> dict:
    def git(*a):
        r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status) if status is not None else None}


def heavy_enterprises(db: Path) -> list[tuple[str, int]]:
    """The two enterprises with the most visits and their visit counts (at scale ≥ 2: the base city's enterprise with
    200 visits and a copy of it)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT ve.enterprise_id, count(*) AS n FROM visit_enterprises ve WHERE ve.deleted = 0 "
                            "GROUP BY ve.enterprise_id ORDER BY n DESC, ve.enterprise_id LIMIT 2").fetchall()
    finally:
        conn.close()
    return [(r[0], r[1]) for r in rows]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="scale 1, fewer runs, small sub-benchmarks (minutes)")
    ap.add_argument("--scale", type=int, help="dataset scale (default 10; 1 with --quick)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, help="GUI child processes and start pairs (default 3; 1 GUI / 3 starts quick)")
    ap.add_argument("--reps", type=int, help="timed repetitions of each search query (default 10; 3 with --quick)")
    ap.add_argument("--only", help=f"comma-separated parts: {','.join(PARTS)} (default all)")
    ap.add_argument("--bundle", action="store_true", help="measure bench_bundle.py again instead of reading its file")
    ap.add_argument("--fresh", action="store_true", help="generate the dataset again")
    ap.add_argument("--dataset", type=Path, help="measure on this database (a copy of it) instead of the generated one, "
                    "e.g. one made earlier by generate.py --out; opening it migrates the copy")
    ap.add_argument("--profile", type=Path, help="also run the GUI child once under cProfile, stats to this file "
                                                 "(python -m pstats FILE); its figures are not used")
    ap.add_argument("--out", type=Path, default=RESULTS_FILE, help="results file (default bench/results.json)")
    ap.add_argument("--child", choices=("gui", "bare"), help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--settings", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--heavy", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        if args.child == "bare":
            result = child_bare(args.db, args.heavy)
        elif args.profile:
            import cProfile

            prof = cProfile.Profile()
            result = prof.runcall(child_gui, args.db, args.settings, args.heavy)
            prof.dump_stats(args.profile)
        else:
            result = child_gui(args.db, args.settings, args.heavy)
        args.child_out.write_text(json.dumps(result), encoding="utf-8")
        return 0

    import generate as gen

    started = time.perf_counter()
    scale = args.scale or (1 if args.quick else 10)
    runs = args.runs or (1 if args.quick else 3)
    start_runs = args.runs or 3
    reps = args.reps or (3 if args.quick else 10)
    parts = set(PARTS if not args.only else args.only.split(","))
    if parts - set(PARTS):
        ap.error(f"--only: unknown part(s) {', '.join(sorted(parts - set(PARTS)))}")
    res: dict = {"benchmark": "run", "when": datetime.now().isoformat(timespec="seconds"), "quick": args.quick,
                 "machine": machine(), "code": code_version(),
                 "settings": {"scale": scale, "seed": args.seed, "gui_runs": runs, "start_runs": start_runs,
                              "search_reps": reps, "parts": sorted(parts)}}
    with tempfile.TemporaryDirectory(prefix="zhuqi-bench-run-") as tmp:
        work = Path(tmp)
        if parts & {"start", "search", "gui"}:
            t0 = time.perf_counter()
            cache = args.dataset or gen.cached(scale, args.seed, fresh=args.fresh)
            meta = gen.read_meta(cache) or {}
            res["dataset"] = {"db": str(cache), "bytes": cache.stat().st_size,
                              "counts": meta.get("counts"), "generated_seconds": meta.get("seconds"),
                              "generated_on": meta.get("on"), "ready_seconds": round(time.perf_counter() - t0, 1)}
            db = work / "bench.db"
            gen._copy_db(cache, db)
            compile_sources()
            heavy_visits = heavy_enterprises(db)
            heavy = [h[0] for h in heavy_visits]
            res["dataset"]["heavy_enterprises"] = heavy_visits
            log(f"数据：{cache}（{cache.stat().st_size / 1e9:.2f} GB），企业 "
                f"{(meta.get('counts') or {}).get('enterprises', '?'):,} 家")
            if "search" in parts:
                log(f"搜索：{len(QUERIES)} 个查询 × {reps} 次…")
                res["search"] = measure_search(db, reps)
            if "gui" in parts:
                res["gui"] = measure_gui(db, work, heavy, runs, args.profile)
            if "start" in parts:
                res["start"] = measure_start(db, work, start_runs)
        if "scripts" in parts:
            res["scripts"] = scripts(args.quick, work, args.bundle)
    res["measures"] = build_measures(res)
    res["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    ds = res.get("dataset", {}).get("counts") or {}
    print(f"助企工作台 benchmarks — scale {scale} (enterprises {ds.get('enterprises', '?')}), "
          f"{res['machine']['cpus']} CPUs, Python {res['machine']['python']}, SQLite {res['machine']['sqlite']}, "
          f"commit {res['code']['commit']}{' (dirty)' if res['code']['dirty'] else ''}")
    print_table(res["measures"])
    missed = [m for m in res["measures"] if m["met"] is False]
    print(f"{len(res['measures'])} measures, {len(missed)} goals not met; {res['seconds']:.0f} s; "
          f"results: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
