"""bench/generate.py: the benchmark datasets are deterministic, consistent, and scale N is exactly N copies of scale 1."""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app import uscc
from app.enterprises import EnterpriseFilter
from app.services import Services

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Scale 1 and scale 3 of the small base (seed 1), the second made from the first as run.py's cache does."""
    folder = tmp_path_factory.mktemp("bench-gen")
    x1 = folder / "x1.db"
    gen.generate(x1, 1, seed=1, base="small")
    x3 = folder / "x3.db"
    gen.generate(x3, 3, seed=1, base="small", base_db=x1)
    return x1, x3


def check_cli(db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "check", "--db", str(db)],
                          capture_output=True, text=True, timeout=300)


def test_same_seed_same_rows_other_seed_other_rows(tmp_path, small):
    x1, x3 = small
    again = tmp_path / "again" / "x3.db"
    meta = gen.generate(again, 3, seed=1, base="small")  # from scratch this time, not from x1
    assert meta["counts"] == gen.counts(x3)
    assert gen.business_digest(again) == gen.business_digest(x3)
    assert gen.business_digest(x1) != gen.business_digest(x3)
    other = tmp_path / "other" / "x1.db"
    gen.generate(other, 1, seed=2, base="small")
    assert gen.business_digest(other) != gen.business_digest(x1)


def test_scale_multiplies_every_business_table_exactly(small):
    x1, x3 = small
    one, three = gen.counts(x1), gen.counts(x3)
    assert one["enterprises"] > 50 and one["problem_events"] > 100
    assert three == {k: 3 * v for k, v in one.items()}
    # Sync history is the base city's own: not copied.
    with sqlite3.connect(x1) as a, sqlite3.connect(x3) as b:
        for table in ("outbox", "audit_log"):
            assert a.execute(f"SELECT count(*) FROM {table}").fetchone() == b.execute(
                f"SELECT count(*) FROM {table}").fetchone()


def test_copies_are_consistent(small):
    _, x3 = small
    conn = sqlite3.connect(x3)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        codes = [r[0] for r in conn.execute("SELECT uscc FROM enterprises WHERE uscc IS NOT NULL")]
        assert len(codes) == len(set(codes)) and all(uscc.is_valid(c) for c in codes)
        assert {c[2:6] for c in codes} == {"4101", "4103", "4102"}  # 郑州, 洛阳, 开封
        for table in ("visits", "problems"):
            numbers = [r[0] for r in conn.execute(f"SELECT record_no FROM {table}")]
            assert len(numbers) == len(set(numbers))
        # Each copy (a third of every table, in rowid order) visits its own enterprises with its own cadres.
        per_ent, per_cadre = (conn.execute(f"SELECT max(rowid) / 3 FROM {t}").fetchone()[0]
                              for t in ("enterprises", "cadres"))
        mixed = conn.execute(
            "SELECT count(*) FROM visit_enterprises ve JOIN enterprises e ON e.id = ve.enterprise_id "
            "JOIN visit_cadres vc ON vc.visit_id = ve.visit_id JOIN cadres c ON c.id = vc.cadre_id "
            "WHERE (e.rowid - 1) / ? != (c.rowid - 1) / ?", (per_ent, per_cadre)).fetchone()[0]
        assert mixed == 0
    finally:
        conn.close()
    result = check_cli(x3)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "检查通过" in result.stdout


def test_copies_are_found_by_search_and_the_heavy_enterprise_has_200_visits(small):
    _, x3 = small
    services = Services.open(x3)
    try:
        ents = services.enterprises
        luoyang = ents.list_ids(EnterpriseFilter(text="洛阳"))
        assert luoyang and all("洛阳" in ents.get(i)["name"] for i in luoyang)
        assert ents.list_ids(EnterpriseFilter(text="ly")) and ents.list_ids(EnterpriseFilter(text="kf"))
        assert len(ents.list_ids(EnterpriseFilter(text="914103"))) == len(ents.list_ids(EnterpriseFilter(text="914101")))
        counts = [r[0] for r in services.store.query(
            "SELECT count(*) FROM visit_enterprises WHERE deleted = 0 GROUP BY enterprise_id ORDER BY 1 DESC LIMIT 3")]
        assert counts == [gen.HEAVY_VISITS] * 3  # the heavy enterprise and its two copies
        code = services.store.scalar("SELECT uscc FROM enterprises ORDER BY rowid LIMIT 1")
        copy = gen.copy_uscc(code, 1)
        assert ents.by_uscc(copy)["name"] == gen.copy_name(ents.by_uscc(code)["name"], 1)
    finally:
        services.close()


def test_copy_rules():
    code = uscc.make("91410105MA4F3YMC5")
    assert gen.copy_uscc(code, 1).startswith("91410305MA4F3YMC5") and uscc.is_valid(gen.copy_uscc(code, 1))
    assert gen.copy_name("郑州宇通客车股份有限公司", 2) == "开封宇通客车股份有限公司"
    assert gen.copy_name("河南华瑞科技有限公司", 1) == "河南华瑞科技有限公司洛阳分公司"
    assert gen.copy_record_no("ZF2026-709A-0007", 3) == "ZF2026-709A-300007"
    old = "01a20249-f0fa-71cd-b0b0-d7f4824a9834"
    new = gen.copy_id(old, 1)
    assert new == gen.copy_id(old, 1) != gen.copy_id(old, 2) != old
    assert new[:13] == old[:13] and new[14] == "7" and new[19] in "89ab"  # UUIDv7 time, version and variant kept
    assert gen.copy_id(None, 1) is None


@pytest.mark.slow
def test_city_scale_two(tmp_path):
    """The city base reproduces the seeds' figures (plus the heavy enterprise's visits) and doubles exactly."""
    x1 = tmp_path / "x1.db"
    meta = gen.generate(x1, 1, seed=1)
    one = meta["counts"]
    added = meta["heavy_visits_added"]
    assert one["work_groups"] == 211 and one["active_cadres"] == 5084
    assert one["symposia"] == 9493 and one["problems"] == 11449
    assert one["visit_enterprises"] == 24570 + added
    x2 = tmp_path / "x2.db"
    two = gen.generate(x2, 2, seed=1, base_db=x1)["counts"]
    assert two == {k: 2 * v for k, v in one.items()}
    result = check_cli(x2)
    assert result.returncode == 0, result.stdout + result.stderr
