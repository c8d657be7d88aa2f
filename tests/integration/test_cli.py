"""The command line contract of DESIGN §8: subcommands, exit codes, Chinese messages, figures equal to the rows.

Most tests call app.cli.main in-process; one runs `python -m app.cli` as a real subprocess, and one
runs `python main.py` once main.py exists. The city-scale test is marked slow (about two minutes).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from app import cli, demo
from app.clock import today
from app.services import Services

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "work_groups",
    "cadres",
    "enterprises_covered",
    "enterprise_visits",
    "symposia",
    "problems_collected",
    "problems_solved",
    "solve_rate",
    "overdue",
)
ADDITIVE = (
    "work_groups",
    "cadres",
    "enterprises_covered",
    "enterprise_visits",
    "problems_collected",
    "problems_resolved",
    "problems_solved",
    "overdue",
    "missed_deadline",
)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """Never touch the real user data folder."""
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "small.db"
    assert cli.main(["demo", "--db", str(path), "--size", "small", "--seed", "7"]) == 0
    return path


# -- independent SQL for the figures (written from DESIGN §3, not from app/stats.py) ---------------


def truncated(num: int, den: int) -> str:
    if den == 0:
        return "—"
    tenths = num * 1000 // den
    return f"{tenths // 10}.{tenths % 10}%"


def sql_figures(path: Path, start: str = "0000-00-00", end: str | None = None) -> dict:
    end = end or today().isoformat()
    conn = sqlite3.connect(path)
    try:
        one = lambda sql, *p: conn.execute(sql, p).fetchone()[0]  # noqa: E731
        collected = one(
            "SELECT count(*) FROM problems p JOIN enterprises e ON e.id = p.enterprise_id "
            "WHERE p.deleted = 0 AND p.registered_on BETWEEN ? AND ?",
            start,
            end,
        )
        solved = one(
            "SELECT count(*) FROM problems p JOIN enterprises e ON e.id = p.enterprise_id "
            "WHERE p.deleted = 0 AND p.registered_on BETWEEN ? AND ? AND p.outcome = '已解决' "
            "AND p.resolved_on IS NOT NULL AND p.resolved_on <= ?",
            start,
            end,
            end,
        )
        return {
            "work_groups": one("SELECT count(*) FROM work_groups WHERE deleted = 0"),
            "cadres": one("SELECT count(*) FROM cadres WHERE deleted = 0 AND active = 1"),
            "enterprises_covered": one(
                "SELECT count(DISTINCT a.enterprise_id) FROM assignments a JOIN enterprises e ON e.id = a.enterprise_id "
                "WHERE a.deleted = 0 AND e.deleted = 0 AND a.start_date <= ? AND (a.end_date IS NULL OR a.end_date >= ?)",
                end,
                start,
            ),
            "enterprise_visits": one(
                "SELECT count(*) FROM visit_enterprises ve JOIN visits v ON v.id = ve.visit_id "
                "WHERE ve.deleted = 0 AND v.deleted = 0 AND v.visit_date BETWEEN ? AND ?",
                start,
                end,
            ),
            "symposia": one(
                "SELECT count(*) FROM visits v WHERE v.deleted = 0 AND v.kind = '座谈会' AND v.visit_date BETWEEN ? AND ? "
                "AND EXISTS (SELECT 1 FROM visit_enterprises ve WHERE ve.visit_id = v.id AND ve.deleted = 0)",
                start,
                end,
            ),
            "problems_collected": collected,
            "problems_solved": solved,
            "solve_rate": truncated(solved, collected),
            "overdue": one(
                "SELECT count(*) FROM problems p WHERE p.deleted = 0 AND p.registered_on BETWEEN ? AND ? "
                "AND p.status IN ('已交办', '办理中') AND p.deadline < ?",
                start,
                end,
                end,
            ),
        }
    finally:
        conn.close()


# -- help and usage ---------------------------------------------------------------------------------


def test_help_lists_every_subcommand_in_chinese(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in ("init", "demo", "stats", "print", "roster", "sync", "check"):
        assert name in out
    assert "用法" in out and "退出码" in out and "初始化数据库" in out
    assert frozenset({"init", "demo", "stats", "print", "roster", "sync", "check"}) == cli.SUBCOMMANDS
    for name in sorted(cli.SUBCOMMANDS):
        # sync and roster have sub-commands
        args = {"sync": (name, "identity", "--help"), "roster": (name, "import", "--help")}.get(name, (name, "--help"))
        code, out, _ = run(capsys, *args)
        assert code == 0 and "--db" in out and "显示本帮助并退出" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no subcommand: main.py opens the GUI, the CLI alone refuses
        ["frobnicate"],
        ["init", "--role", "station"],  # --unit missing
        ["init", "--unit", "金水区", "--role", "mayor"],
        ["demo", "--size", "huge"],
        ["stats", "--from", "2026-02-30"],
        ["stats", "--by", "colour"],
    ],
)
def test_bad_usage_exits_2_with_chinese_message(capsys, tmp_path, argv):
    code, out, err = run(capsys, *argv, *(["--db", str(tmp_path / "x.db")] if argv else []))
    assert code == 2
    assert "错误：" in err and out == ""
    assert not (tmp_path / "x.db").exists()


def test_missing_db_is_a_usage_error(capsys, tmp_path):
    for command in ("stats", "check"):
        code, _, err = run(capsys, command, "--db", str(tmp_path / "nope.db"))
        assert code == 2
        assert "数据库文件不存在" in err and "nope.db" in err
    code, _, err = run(capsys, "check", "--db", str(tmp_path))
    assert code == 2 and "文件夹" in err


def test_from_after_to_is_a_usage_error(capsys, small_db):
    code, _, err = run(capsys, "stats", "--db", str(small_db), "--from", "2026-05-01", "--to", "2026-04-01")
    assert code == 2 and "不能晚于" in err


def test_wants_cli():
    assert cli.wants_cli(["stats", "--db", "x"])
    assert cli.wants_cli(["--db", "x.db", "check"])
    assert cli.wants_cli(["--help"])
    assert not cli.wants_cli([])
    assert not cli.wants_cli(["--db", "stats"])  # a database file that happens to be called "stats"


def test_build_parser_gives_no_command_for_the_gui():
    args = cli.build_parser().parse_args(["--db", "x.db"])
    assert args.command is None and args.global_db == "x.db"


def test_default_db_follows_the_data_dir_variable(tmp_path, monkeypatch):
    from app.datadir import data_dir, default_db_path

    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "here"))
    assert data_dir() == tmp_path / "here"
    assert default_db_path() == tmp_path / "here" / "zhuqi.db"


# -- init -------------------------------------------------------------------------------------------


def test_init_prints_identity_and_refuses_a_second_time(capsys, tmp_path):
    db = str(tmp_path / "station.db")
    code, out, err = run(capsys, "init", "--db", db, "--role", "station", "--unit", "金水", "--operator", "王磊")
    assert code == 0, err
    assert "本机标识" in out and "金水区" in out and "干部端" in out and "王磊" in out
    code, _, err = run(capsys, "init", "--db", db, "--role", "district", "--unit", "金水区")
    assert code == 3
    assert err.startswith("错误：") and "已经初始化" in err


def test_init_json_and_hub_default_operator(capsys, tmp_path):
    code, out, _ = run(
        capsys, "init", "--db", str(tmp_path / "city.db"), "--role", "city", "--unit", "郑州市", "--json"
    )
    assert code == 0
    ident = json.loads(out)
    assert ident["role"] == "city" and ident["unit"] == "郑州市" and ident["operator"] == "管理员"
    assert len(ident["installation_id"]) == 36


@pytest.mark.parametrize(
    ("role", "unit", "words"),
    [
        ("station", "火星区", ("火星区", "不存在")),
        ("city", "金水区", ("郑州市",)),
        ("district", "郑州市", ("市级汇总端",)),
        ("station", "市工信局", ("市工信局", "责任单位")),
    ],
)
def test_init_rejects_a_wrong_unit_and_leaves_no_file(capsys, tmp_path, role, unit, words):
    db = tmp_path / "x.db"
    code, out, err = run(capsys, "init", "--db", str(db), "--role", role, "--unit", unit)
    assert code == 3 and out == ""
    assert err.startswith("错误：")
    for word in words:
        assert word in err
    assert not db.exists()


# -- demo + stats -----------------------------------------------------------------------------------


def test_demo_small_initialises_a_station_and_reports_counts(capsys, tmp_path):
    db = tmp_path / "d.db"
    code, out, err = run(capsys, "demo", "--db", str(db), "--json")
    assert code == 0, err
    counts = json.loads(out)
    assert "金水区干部端" in err  # the note that it initialised the database
    assert 50 <= counts["enterprises"] <= 70 and 130 <= counts["visits"] <= 170 and counts["problems"] == 80
    with _services(db) as s:
        assert s.installation.role == "station" and s.installation.operator == "王磊"
        assert demo.demo_info(s)["size"] == "small"
    code, _, err = run(capsys, "demo", "--db", str(db))
    assert code == 3 and "演示数据只能生成到新的" in err


class _services:
    def __init__(self, path):
        self.s = Services.open(path)

    def __enter__(self):
        return self.s

    def __exit__(self, *exc):
        self.s.close()


def test_stats_json_has_required_keys_and_equals_sql(capsys, small_db):
    code, out, err = run(capsys, "stats", "--db", str(small_db), "--json")
    assert code == 0, err
    figures = json.loads(out)
    for key in REQUIRED:
        assert key in figures
    assert figures["cutoff"] == today().isoformat()
    expected = sql_figures(small_db)
    assert {k: figures[k] for k in expected} == expected
    assert figures["problems_collected"] == 80 and figures["symposia"] > 0 and figures["overdue"] > 0


def test_stats_with_a_period_equals_sql(capsys, small_db):
    start = (today() - timedelta(days=120)).isoformat()
    code, out, _ = run(capsys, "stats", "--db", str(small_db), "--json", "--from", start)
    assert code == 0
    figures = json.loads(out)
    assert {k: figures[k] for k in REQUIRED} == sql_figures(small_db, start)


@pytest.mark.parametrize("by", ["unit", "month", "category", "level", "department"])
def test_stats_by_adds_up_to_the_headline(capsys, small_db, by):
    code, out, _ = run(capsys, "stats", "--db", str(small_db), "--json")
    head = json.loads(out)
    code, out, err = run(capsys, "stats", "--db", str(small_db), "--json", "--by", by)
    assert code == 0, err
    rows = json.loads(out)
    assert isinstance(rows, list) and rows and all("key" in r and "label" in r for r in rows)
    keys = ADDITIVE if by == "unit" else ("problems_collected", "problems_resolved", "problems_solved", "overdue")
    if by == "month":
        keys = ("enterprise_visits", "problems_collected", "problems_solved", "overdue")
    for key in keys:
        assert sum(r[key] for r in rows) == head[key], key
    if by == "unit":
        assert {r["label"] for r in rows} >= {"金水区"}


def test_stats_human_table_shows_definitions_and_cutoff(capsys, small_db):
    code, out, err = run(capsys, "stats", "--db", str(small_db))
    assert code == 0 and err == ""
    assert "解决率" in out and "口径说明" in out and "截断" in out
    assert f"截止日 {today().isoformat()}" in out
    code, out, _ = run(capsys, "stats", "--db", str(small_db), "--by", "unit", "--unit", "金水")
    assert code == 0 and "金水区" in out and "郑东新区" not in out.split("口径说明")[0]


def test_stats_rejects_unknown_unit(capsys, small_db):
    code, _, err = run(capsys, "stats", "--db", str(small_db), "--unit", "火星区")
    assert code == 3 and "火星区" in err


# -- check ------------------------------------------------------------------------------------------


def test_check_passes_on_demo_data(capsys, small_db):
    code, out, err = run(capsys, "check", "--db", str(small_db))
    assert code == 0, err
    assert "完整性检查：通过" in out and "结构版本" in out and "检查通过" in out and "金水区" in out
    code, out, _ = run(capsys, "check", "--db", str(small_db), "--json")
    report = json.loads(out)
    assert report["ok"] and report["integrity"] == ["ok"] and report["problem_state_mismatches"] == 0
    assert report["schema_version"] == report["latest_version"]
    assert report["counts"]["problems"] == 80


def test_check_rejects_garbage_and_empty_files_without_touching_them(capsys, tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    before = garbage.read_bytes()
    code, out, err = run(capsys, "check", "--db", str(garbage))
    assert code == 3 and err.startswith("错误：") and "garbage.db" in err
    assert garbage.read_bytes() == before
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = run(capsys, "check", "--db", str(empty))
    assert code == 3 and "空文件" in err
    assert empty.stat().st_size == 0
    code, _, err = run(capsys, "stats", "--db", str(garbage))
    assert code == 3 and "错误：" in err


def test_check_finds_a_damaged_page(capsys, tmp_path, small_db):
    copy = tmp_path / "damaged.db"
    copy.write_bytes(small_db.read_bytes())
    conn = sqlite3.connect(copy)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'problems'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(copy, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\x0d\xff\xff\xff" + bytes(60))
    code, _, err = run(capsys, "check", "--db", str(copy))
    assert code == 3 and "错误：" in err


def test_check_finds_a_problem_row_that_disagrees_with_its_events(capsys, tmp_path, small_db):
    copy = tmp_path / "tampered.db"
    copy.write_bytes(small_db.read_bytes())
    conn = sqlite3.connect(copy)
    conn.execute(
        "UPDATE problems SET status = '已销号' WHERE id = (SELECT id FROM problems WHERE status = '办理中' LIMIT 1)"
    )
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "check", "--db", str(copy))
    assert code == 3 and "不一致" in err


# -- demo generator ---------------------------------------------------------------------------------


def _fingerprint(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        q = lambda sql: sorted(tuple(r) for r in conn.execute(sql))  # noqa: E731
        return {
            "enterprises": q(
                "SELECT name, uscc, township, address, industry, scale, tags, legal_rep, status FROM enterprises"
            ),
            "visits": q("SELECT kind, visit_date, summary, policies, location FROM visits"),
            "problems": q(
                "SELECT title, description, category_code, status, level, outcome, deadline, "
                "original_deadline, resolved_on, closed_on FROM problems"
            ),
            "events": q("SELECT kind, on_date, from_status, to_status, note FROM problem_events"),
            "outbox": q("SELECT table_name, op, count(*) FROM outbox GROUP BY 1, 2"),
            "audit": q("SELECT action, table_name, count(*) FROM audit_log GROUP BY 1, 2"),
            "search": q("SELECT kind, count(*) FROM search_rows GROUP BY 1"),
            "cadres": q("SELECT name, role, rank, post, active FROM cadres"),
        }
    finally:
        conn.close()


def test_demo_is_deterministic(tmp_path):
    prints = []
    for name in ("a", "b"):
        s = Services.open(tmp_path / f"{name}.db")
        try:
            demo.generate(s, size="small", seed=3)
        finally:
            s.close()
        prints.append(_fingerprint(tmp_path / f"{name}.db"))
    assert prints[0] == prints[1]  # same seed, same day: same data, outbox, audit and search rows


def test_demo_data_is_valid_and_shows_every_state(tmp_path):
    from app import uscc

    s = Services.open(tmp_path / "v.db")
    try:
        demo.generate(s, size="small", seed=11)
        q = s.store.query
        codes = [r[0] for r in q("SELECT uscc FROM enterprises")]
        assert len(codes) == len(set(codes))
        assert all(uscc.validate(c).code == c and not uscc.validate(c).warnings for c in codes)
        statuses = {r[0] for r in q("SELECT status FROM problems")}
        assert statuses == {"待交办", "已交办", "办理中", "已办结", "已回访", "已销号"}
        kinds = {r[0] for r in q("SELECT kind FROM problem_events")}
        assert {"催办", "督办", "延期", "上报", "重办", "回访", "销号"} <= kinds
        assert {r[0] for r in q("SELECT level FROM problems")} >= {"区县级", "市级", "省级"}
        assert {r[0] for r in q("SELECT outcome FROM problems WHERE outcome IS NOT NULL")} == {
            "已解决",
            "已解释说明",
            "长期推进",
        }
        assert q("SELECT max(visit_date) FROM visits")[0][0] <= today().isoformat()
        assert q("SELECT max(on_date) FROM problem_events")[0][0] <= today().isoformat()
        assert s.store.scalar("SELECT count(*) FROM assignments WHERE end_date IS NOT NULL") > 0
        assert s.store.scalar("SELECT count(*) FROM enterprises WHERE status != '在营'") > 0
        # every synced row was written through ChangeWriter: an outbox insert per row
        for table in ("enterprises", "visits", "visit_enterprises", "problems", "problem_events", "assignments"):
            rows = s.store.scalar(f"SELECT count(*) FROM {table}")
            ops = s.store.scalar("SELECT count(*) FROM outbox WHERE table_name = ? AND op = 'insert'", (table,))
            assert rows == ops, table
        # the station's own cadre has 包联 enterprises (the workbench's 我的包联)
        assert s.people.enterprises_of_cadre(s.installation.cadre_id)
        # search finds demo records by a two-character word
        from app.enterprises import EnterpriseFilter

        assert s.enterprises.count(EnterpriseFilter(text="郑州")) > 0
    finally:
        s.close()


def test_demo_progress_can_cancel_without_leaving_data(tmp_path):
    s = Services.open(tmp_path / "cancel.db")
    seen = []

    def progress(done, total, text):
        seen.append((done, total, text))
        return len(seen) < 3

    try:
        with pytest.raises(demo.DemoCancelled):
            demo.generate(s, size="small", seed=1, progress=progress)
        assert demo.business_rows(s) == 0
        assert s.store.scalar("SELECT count(*) FROM outbox WHERE table_name = 'enterprises'") == 0
        assert all(total > 0 and 0 <= done <= total for done, total, _ in seen)
    finally:
        s.close()


# -- real processes ---------------------------------------------------------------------------------


def _env(tmp_path) -> dict:
    env = dict(os.environ, ZHUQI_DATA_DIR=str(tmp_path / "userdata"), PYTHONPATH=str(ROOT))
    env.pop("PYTHONIOENCODING", None)
    return env


def test_module_entry_point_in_a_subprocess(tmp_path):
    db = tmp_path / "p.db"
    env = _env(tmp_path)
    init = subprocess.run(
        [sys.executable, "-m", "app.cli", "init", "--db", str(db), "--role", "district", "--unit", "高新"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr.decode("utf-8", "replace")
    assert "郑州高新区" in init.stdout.decode("utf-8")
    stats = subprocess.run(
        [sys.executable, "-m", "app.cli", "stats", "--db", str(db), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert stats.returncode == 0
    figures = json.loads(stats.stdout.decode("utf-8"))
    assert figures["problems_collected"] == 0 and figures["solve_rate"] == "—"
    missing = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", "--db", str(tmp_path / "none.db")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert "数据库文件不存在" in missing.stderr.decode("utf-8")


@pytest.mark.skipif(not (ROOT / "main.py").exists(), reason="main.py not written yet")
def test_main_py_routes_subcommands_to_the_cli(tmp_path):
    env = _env(tmp_path)
    helped = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert helped.returncode == 0
    text = helped.stdout.decode("utf-8")
    assert all(name in text for name in ("init", "demo", "stats", "check"))
    bad = subprocess.run(
        [sys.executable, "main.py", "stats", "--db", str(tmp_path / "none.db")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert bad.returncode == 2


# -- city scale -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_city_demo_matches_the_seed_figures_and_sql(capsys, tmp_path):
    db = tmp_path / "city.db"
    code, out, err = run(capsys, "demo", "--db", str(db), "--size", "city", "--json")
    assert code == 0, err
    code, out, err = run(capsys, "stats", "--db", str(db), "--json")
    assert code == 0, err
    figures = json.loads(out)
    expected = sql_figures(db)
    assert {k: figures[k] for k in expected} == expected
    assert figures["work_groups"] == 211
    assert figures["cadres"] == 5084
    assert figures["enterprises_covered"] == 12327
    assert figures["enterprise_visits"] == 24570
    assert figures["symposia"] == 9493
    assert figures["problems_collected"] == 11449
    rate = float(figures["solve_rate"].rstrip("%"))
    assert 95.0 <= rate < 100.0
    code, out, _ = run(capsys, "stats", "--db", str(db), "--json", "--by", "unit")
    rows = json.loads(out)
    assert len(rows) == 16
    for key in ADDITIVE:
        assert sum(r[key] for r in rows) == figures[key], key
    code, _, err = run(capsys, "check", "--db", str(db))
    assert code == 0, err


def test_sync_identity_shows_the_keys_made_at_init(capsys, tmp_path):
    db = tmp_path / "s.db"
    code, out, _ = run(capsys, "init", "--db", str(db), "--role", "station", "--unit", "金水区", "--operator", "王磊")
    assert code == 0
    code, out, _ = run(capsys, "sync", "identity", "--db", str(db), "--json")
    assert code == 0
    ident = json.loads(out)
    assert ident["role"] == "station" and ident["unit"] == "金水区" and ident["key_file_ok"] is True
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){3}", ident["signing_fingerprint"])
    key_file = Path(ident["key_file"])
    assert key_file.parent == db.parent / "keys" and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert key_file.read_bytes() not in db.read_bytes()  # private keys never in the database
    code, out, _ = run(capsys, "sync", "identity", "--db", str(db))
    assert code == 0 and ident["signing_fingerprint"] in out and "正常" in out
    key_file.write_text("damaged")
    code, out, _ = run(capsys, "sync", "identity", "--db", str(db))
    assert code == 0 and "缺失或损坏" in out
    code, _, err = run(capsys, "sync", "--db", str(db))
    assert code == 2 and "identity" in err


def test_stats_by_cadre_is_offered_and_marked_non_additive(capsys, small_db):
    code, out, err = run(capsys, "stats", "--db", str(small_db), "--json", "--by", "cadre")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(r["additive"] is False and "key" in r for r in rows)
