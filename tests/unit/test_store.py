"""db/store.py: migrations, pragmas, refusing foreign / newer / damaged files, backup before migrating."""

from __future__ import annotations

import os
import sqlite3
import types
from pathlib import Path

import pytest

import db.store as store_mod
from app.errors import SchemaTooNewError, StoreError
from db.store import APPLICATION_ID, latest_version, open_store
from tests.unit.conftest import file_hash

EXPECTED_TABLES = {
    "settings", "units", "vocabulary", "deadline_templates", "work_groups", "cadres", "enterprises", "assignments",
    "visits", "visit_enterprises", "visit_cadres", "visit_attendees", "problems", "problem_events", "audit_log",
    "outbox", "search_index_enterprise", "search_index_visit", "search_index_problem", "enterprise_facts",
}
DISTRICTS = {"郑东新区", "郑州经开区", "郑州高新区", "郑州航空港区", "中原区", "二七区", "管城回族区", "金水区", "惠济区",
             "上街区", "巩义市", "荥阳市", "新密市", "新郑市", "登封市", "中牟县"}


def _tables(store) -> set[str]:
    return {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def fresh(tmp_path):
    s = open_store(tmp_path / "new" / "zhuqi.db")  # parent folder is created too
    yield s
    s.close()


# ---------------------------------------------------------------- migrations and pragmas

def test_migrations_from_empty_reach_latest_with_all_tables(fresh):
    assert latest_version() >= 1
    assert fresh.scalar("PRAGMA user_version") == latest_version()
    assert fresh.scalar("PRAGMA application_id") == APPLICATION_ID
    assert _tables(fresh) >= EXPECTED_TABLES
    assert fresh.scalar("PRAGMA integrity_check") == "ok"
    assert fresh.scalar("PRAGMA foreign_key_check") is None


def test_pragmas_wal_foreign_keys_synchronous_full(fresh):
    for s in (fresh, fresh.reopen()):
        assert s.scalar("PRAGMA journal_mode").lower() == "wal"
        assert s.scalar("PRAGMA foreign_keys") == 1
        assert s.scalar("PRAGMA synchronous") == 2  # FULL
    with pytest.raises(sqlite3.IntegrityError):  # foreign keys really are enforced
        fresh.conn.execute("INSERT INTO cadres (id, origin, updated_at, updated_by, name, unit_id) "
                           "VALUES ('c1', 'x', 'now', 'x', '王五', 'no-such-unit')")


def test_reopening_is_a_noop(tmp_path):
    path = tmp_path / "zhuqi.db"
    s = open_store(path)
    s.close()
    s = open_store(path)
    try:
        assert s.scalar("PRAGMA user_version") == latest_version()
        assert s.scalar("SELECT count(*) FROM units WHERE name = '郑州市'") == 1  # reference data not loaded twice
        assert s.scalar("SELECT count(*) FROM outbox") == 0
    finally:
        s.close()
    assert not (tmp_path / "backups").exists()  # nothing to migrate, so no backup


def test_reference_data_loaded(fresh):
    units = {r["name"]: r["kind"] for r in fresh.query("SELECT name, kind FROM units WHERE deleted = 0")}
    assert set(units) >= DISTRICTS
    assert len([k for k in units.values() if k in ("开发区", "区", "县级市", "县")]) == 16
    assert units["郑州市"] == "市"
    for dept in ("市发展改革委", "市工信局", "市人社局", "市税务局", "郑州供电公司"):
        assert units[dept] == "市直部门"
    assert fresh.scalar("SELECT count(*) FROM units WHERE kind = '市直部门'") >= 20
    assert fresh.scalar("SELECT count(*) FROM units WHERE kind = '市直部门' AND parent_id = 'U410100'") == \
        fresh.scalar("SELECT count(*) FROM units WHERE kind = '市直部门'")
    cats = dict(fresh.query("SELECT code, name FROM vocabulary WHERE kind = 'problem_category'"))
    assert cats["finance"] == "融资信贷" and cats["labour"] == "用工人才" and len(cats) >= 8
    tpl = {r["id"]: r["solve_days"] for r in fresh.query("SELECT id, solve_days FROM deadline_templates")}
    assert tpl["T13710"] == 7 and tpl["T13710M"] == 30


# ---------------------------------------------------------------- refusing files

def _newer_copy(template_db: Path, dest: Path) -> Path:
    dest.write_bytes(template_db.read_bytes())
    conn = sqlite3.connect(dest)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    return dest


def test_newer_database_refused_and_untouched(template_db, tmp_path):
    path = _newer_copy(template_db, tmp_path / "newer.db")
    before = file_hash(path)
    with pytest.raises(SchemaTooNewError) as err:
        open_store(path)
    msg = err.value.message
    assert str(latest_version() + 1) in msg and str(latest_version()) in msg
    assert "版本" in msg and "升级" in msg
    assert file_hash(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newer.db"]  # no -wal/-shm or backup left behind


def test_newer_database_in_rollback_journal_mode_untouched(tmp_path):
    path = tmp_path / "newer.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future_table (a)")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {latest_version() + 5}")
    conn.commit()
    conn.close()
    before = file_hash(path)
    with pytest.raises(SchemaTooNewError):
        open_store(path)
    assert file_hash(path) == before


def _foreign(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('someone')")
    conn.commit()
    conn.close()
    return path


def test_foreign_sqlite_file_refused(tmp_path):
    path = _foreign(tmp_path / "other.sqlite")
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert not isinstance(err.value, SchemaTooNewError)
    assert "other.sqlite" in err.value.message and "不是助企工作台" in err.value.message
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'units'").fetchone()[0] == 0  # not migrated
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()


def test_foreign_file_with_other_application_id_refused(tmp_path):
    path = _foreign(tmp_path / "other.db")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 12345")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(StoreError):
        open_store(path)


def test_foreign_sqlite_file_left_byte_identical(tmp_path):
    path = _foreign(tmp_path / "other.sqlite")
    before = file_hash(path)
    with pytest.raises(StoreError):
        open_store(path)
    assert file_hash(path) == before


@pytest.mark.parametrize("content", [os.urandom(8192), "这不是数据库\n".encode() * 500, b"SQLite format 3\x00" + b"\x00" * 40])
def test_garbage_file_raises_store_error(tmp_path, content):
    path = tmp_path / "garbage.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as err:
        open_store(path)
    assert "garbage.db" in err.value.message


def test_damaged_schema_raises_store_error(template_db, tmp_path):
    path = tmp_path / "damaged.db"
    data = bytearray(template_db.read_bytes())
    conn = sqlite3.connect(template_db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    schema_pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema' AND pageno > 1")]
    conn.close()
    page = schema_pages[0] if schema_pages else 1
    start = (page - 1) * page_size + (100 if page == 1 else 0)
    data[start:page * page_size] = b"\xff" * (page * page_size - start)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        open_store(path)


def test_truncated_file_raises_store_error(template_db, tmp_path):
    path = tmp_path / "truncated.db"
    data = template_db.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError):
        open_store(path)


# ---------------------------------------------------------------- backup before migrating, failing migration

def _fake_migration(version: int, sql: str, after=None) -> types.ModuleType:
    mod = types.ModuleType(f"db.migrations.{version:04d}_fake")
    mod.VERSION = version
    mod.SQL = sql
    if after is not None:
        mod.after = after
    return mod


@pytest.fixture
def with_extra_migration(monkeypatch):
    real = store_mod._migrations()

    def install(sql: str, after=None):
        fake = _fake_migration(len(real) + 1, sql, after)
        monkeypatch.setattr(store_mod, "_migrations", lambda: [*real, fake])
        return len(real) + 1

    return install


def test_backup_before_migrating(template_db, tmp_path, with_extra_migration):
    path = tmp_path / "data" / "zhuqi.db"
    path.parent.mkdir()
    path.write_bytes(template_db.read_bytes())
    old_version = latest_version()
    new_version = with_extra_migration("CREATE TABLE policies (id TEXT PRIMARY KEY, title TEXT NOT NULL);")
    s = open_store(path)
    try:
        assert s.scalar("PRAGMA user_version") == new_version
        assert "policies" in _tables(s)
    finally:
        s.close()
    backups = list((path.parent / "backups").glob("*.db"))
    assert len(backups) == 1
    assert f"v{new_version}" in backups[0].name
    assert not list((path.parent / "backups").glob("*.part"))
    conn = sqlite3.connect(backups[0])
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == old_version
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'policies'").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM settings WHERE key = 'installation.operator'").fetchone()[0] == "张三"
    finally:
        conn.close()


def test_new_database_is_not_backed_up(tmp_path, with_extra_migration):
    with_extra_migration("CREATE TABLE policies (id TEXT PRIMARY KEY);")
    s = open_store(tmp_path / "zhuqi.db")
    s.close()
    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("kind", ["sql", "after"])
def test_failing_migration_rolls_back(template_db, tmp_path, with_extra_migration, kind):
    path = tmp_path / "zhuqi.db"
    path.write_bytes(template_db.read_bytes())
    old_version = latest_version()
    if kind == "sql":
        with_extra_migration("CREATE TABLE policies (id TEXT PRIMARY KEY);\n"
                             "UPDATE settings SET value = 'changed' WHERE key = 'installation.operator';\n"
                             "INSERT INTO no_such_table VALUES (1);")
    else:
        def after(conn):
            conn.execute("UPDATE settings SET value = 'changed' WHERE key = 'installation.operator'")
            raise RuntimeError("boom")

        with_extra_migration("CREATE TABLE policies (id TEXT PRIMARY KEY);", after)
    with pytest.raises((StoreError, sqlite3.Error, RuntimeError)):
        open_store(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == old_version
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'policies'").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM settings WHERE key = 'installation.operator'").fetchone()[0] == "张三"
    finally:
        conn.close()
    assert len(list((tmp_path / "backups").glob("*.db"))) == 1  # the backup made before trying is kept


def test_transaction_rolls_back_on_error(fresh):
    with pytest.raises(RuntimeError), fresh.transaction():
        fresh.conn.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        with fresh.transaction():  # re-entrant: the inner block joins the outer transaction
            fresh.conn.execute("INSERT INTO settings (key, value) VALUES ('b', '2')")
        raise RuntimeError("boom")
    assert fresh.scalar("SELECT count(*) FROM settings WHERE key IN ('a', 'b')") == 0
    with fresh.transaction():
        fresh.conn.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
    assert fresh.reopen().scalar("SELECT value FROM settings WHERE key = 'a'") == "1"


def test_packages_carry_the_version_of_what_travels():
    """Migration 5 changed only local, derived data: packages still say 4, so a hub not yet upgraded reads them."""
    from db.store import latest_version, synced_version

    assert latest_version() >= 5 and synced_version() == 4
