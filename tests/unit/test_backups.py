"""Backups (DESIGN §4): taken whole or not at all, rotated as promised, restored without breaking sync, and the
damaged-database and full-disk paths that must never lose what is already saved."""

from __future__ import annotations

import importlib
import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import World, file_hash, make_uscc

from app import backups
from app.datadir import _drive_kind
from app.errors import DatabaseDamagedError, StoreError, ValidationError
from app.services import Services
from app.textsearch import FTS_TABLES
from db import backup
from db.backup import KEEP_DAYS, KEEP_HOURS, KEEP_MONTHS, KEEP_WEEKS
from db.store import latest_version
from tests.damage import damage_table

T0 = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday


def enterprise_names(svc: Services) -> set[str]:
    return {r[0] for r in svc.store.query("SELECT name FROM enterprises WHERE NOT deleted")}


# ---------------------------------------------------------------- taking

def test_backup_is_a_whole_checked_single_file(svc, db_path):
    World(svc).enterprise("备份测试企业有限公司")
    made = svc.backups.take("manual")
    assert made.path.parent == db_path.parent / "backups"
    assert made.path.name.startswith("zhuqi_") and made.path.name.endswith("_manual.db")
    assert not list(made.path.parent.glob("*.part"))
    assert not Path(f"{made.path}-wal").exists()
    conn = sqlite3.connect(made.path)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM enterprises WHERE name = '备份测试企业有限公司'").fetchone()[0] == 1
    finally:
        conn.close()
    assert svc.backups.list()[0] == made
    assert backups.reason_label(made.reason) == "手动备份"
    assert backups.reason_label("before-v5") == "升级前备份（升级到第 5 版）"


def test_backups_of_another_database_in_the_folder_are_not_listed(svc, db_path):
    svc.backups.take("manual")
    other = Services.open(db_path.parent / "other.db")
    try:
        other.backups.take("manual")
        assert len(other.backups.list()) == 1 and other.backups.list()[0].stem == "other"
    finally:
        other.close()
    assert [b.stem for b in svc.backups.list()] == ["zhuqi"]


def test_two_backups_in_the_same_instant_keep_both(svc):
    when = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    a = backup.take(svc.store.conn, svc.store.path, "import", when=when)
    b = backup.take(svc.store.conn, svc.store.path, "import", when=when)
    assert a.path != b.path and a.path.exists() and b.path.exists()
    assert b.reason == "import"


def test_backup_only_when_something_changed(svc):
    svc.backups.take("manual")
    assert not svc.backups.changed()
    assert svc.backups.auto() is None
    World(svc).enterprise()
    assert svc.backups.changed()
    assert svc.backups.auto().reason == "auto"
    assert not svc.backups.changed()


def test_change_on_another_connection_is_noticed(svc):
    svc.backups.take("manual")
    reader = svc.reader()
    try:
        World(reader).enterprise()
    finally:
        svc.close_reader(reader)
    assert svc.backups.changed()


def test_a_fresh_session_counts_as_not_backed_up_until_the_first_backup(db_path):
    svc = Services.open(db_path)
    try:
        assert svc.backups.changed()  # nothing says the last session's work was backed up
        svc.backups.take("manual")
        assert not svc.backups.changed()
    finally:
        svc.close()


def test_in_memory_database_has_no_backups():
    svc = Services.open(":memory:")
    try:
        assert svc.backups.take("manual") is None
        assert svc.backups.list() == []
    finally:
        svc.close()


# ---------------------------------------------------------------- failures while backing up

def _disk_fills_after(monkeypatch, pages: int) -> None:
    """The backup target gets at most `pages` pages: SQLite then reports SQLITE_FULL, as on a full disk."""
    real_connect = sqlite3.connect

    def connect(path, *args, **kw):
        conn = real_connect(path, *args, **kw)
        if str(path).endswith(".part"):
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(backup.sqlite3, "connect", connect)


def test_disk_full_during_backup_leaves_no_file_that_looks_valid(svc, db_path, monkeypatch):
    svc.backups.take("manual")
    before = {p.name: file_hash(p) for p in (db_path.parent / "backups").iterdir()}
    db_before = svc.store.query("SELECT count(*) FROM enterprises")[0][0]
    World(svc).enterprise()
    _disk_fills_after(monkeypatch, 3)
    with pytest.raises(StoreError) as err:
        svc.backups.take("auto")
    assert "磁盘空间已满" in err.value.message and "原数据库未改动" in err.value.message
    after = {p.name: file_hash(p) for p in (db_path.parent / "backups").iterdir()}
    assert after == before  # no .part, no half-written .db, the older backup untouched
    assert svc.store.scalar("SELECT count(*) FROM enterprises") == db_before + 1
    assert svc.backups.changed()  # the failed backup does not count


def test_failed_rename_leaves_no_backup(svc, db_path, monkeypatch):
    def no_space(*_a, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup.os, "replace", no_space)
    with pytest.raises(StoreError) as err:
        svc.backups.take("manual")
    assert "No space left" in err.value.message
    assert not list((db_path.parent / "backups").iterdir())


def test_disk_full_during_an_edit_says_so_and_keeps_everything(svc):
    world = World(svc)
    world.enterprise("已保存的企业有限公司")
    counts = svc.store.query("SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM outbox)")[0]
    pages = svc.store.scalar("PRAGMA page_count")
    svc.store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError) as err:
        for i in range(200):  # the first write that needs a new page fails
            svc.enterprises.create({"uscc": make_uscc(500 + i), "name": f"新企业{i:03d}有限公司", "unit_id": "U410105",
                                    "address": "很长的地址" * 30})
    assert "磁盘空间已满" in err.value.message and "本次操作未保存" in err.value.message
    assert not svc.store.conn.in_transaction
    assert svc.store.query("SELECT (SELECT count(*) FROM enterprises), (SELECT count(*) FROM outbox)")[0][0] >= counts[0]
    # every enterprise that exists has its outbox row: no action is half there
    assert svc.store.scalar("SELECT count(*) FROM enterprises e WHERE NOT EXISTS (SELECT 1 FROM outbox o"
                            " WHERE o.table_name = 'enterprises' AND o.row_id = e.id)") == 0
    assert "已保存的企业有限公司" in enterprise_names(svc)
    svc.store.conn.execute("PRAGMA max_page_count = 1073741823")
    world.enterprise("空间恢复后的企业有限公司")
    assert "空间恢复后的企业有限公司" in enterprise_names(svc)
    assert svc.store.scalar("PRAGMA integrity_check") == "ok"


def test_read_only_database_says_so(svc, monkeypatch):
    svc.store.close()
    path = svc.store.path
    svc.store.conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    svc.store.conn.row_factory = sqlite3.Row
    with pytest.raises(StoreError) as err:
        World(svc).enterprise()
    assert "只读" in err.value.message and "本次操作未保存" in err.value.message


# ---------------------------------------------------------------- rotation

def _fake(folder: Path, when: datetime, reason: str = "auto") -> None:
    name = f"zhuqi_{when.strftime('%Y%m%d-%H%M%S')}-000_{reason}.db"
    (folder / name).write_bytes(b"")


def test_rotation_keeps_the_promised_set_over_simulated_months(tmp_path):
    """A backup every 30 minutes for 100 days, pruning after each one as the app does."""
    db = tmp_path / "zhuqi.db"
    folder = tmp_path / "backups"
    folder.mkdir()
    now = T0
    end = T0 + timedelta(days=100)
    while now < end:
        _fake(folder, now)
        backup.prune(db, now, UTC)
        now += timedelta(minutes=30)
    last = now - timedelta(minutes=30)
    kept = backup.list_backups(db)
    times = [b.taken_at for b in kept]
    # every backup of the last 48 hours
    recent = [t for t in times if t >= last - timedelta(hours=KEEP_HOURS)]
    assert len(recent) == KEEP_HOURS * 2 + 1
    # one per day for the 14 days before them, the day's newest (23:30)
    for i in range(KEEP_DAYS):
        day = (last - timedelta(days=i)).date()
        on_day = [t for t in times if t.date() == day]
        assert on_day and max(on_day).strftime("%H:%M") == "23:30" or day == last.date()
    # one per ISO week for 8 weeks, one per month for the months that exist
    weeks = {t.isocalendar()[:2] for t in times}
    assert len(weeks) >= KEEP_WEEKS
    months = {(t.year, t.month) for t in times}
    assert months == {(2026, 1), (2026, 2), (2026, 3), (2026, 4)}
    # and nothing else: the set is small
    assert len(times) <= KEEP_HOURS * 2 + 1 + KEEP_DAYS + KEEP_WEEKS + KEEP_MONTHS
    older = [t for t in times if t < last - timedelta(days=KEEP_DAYS)]
    assert len(older) <= KEEP_WEEKS + KEEP_MONTHS


def test_rotation_over_two_years_keeps_twelve_months_and_the_newest(tmp_path):
    db = tmp_path / "zhuqi.db"
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(730):
        when = T0 + timedelta(days=day, hours=9)
        _fake(folder, when, "exit")
        backup.prune(db, when, UTC)
    times = sorted(b.taken_at for b in backup.list_backups(db))
    months = {(t.year, t.month) for t in times}
    assert len(months) == KEEP_MONTHS
    assert times[0] >= T0 + timedelta(days=730 - 366)
    # a long pause: the newest backup is kept however old it is
    later = T0 + timedelta(days=2000)
    backup.prune(db, later, UTC)
    assert [b.taken_at for b in backup.list_backups(db)] == [times[-1]]


def test_rotation_ignores_foreign_files(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    (folder / "zhuqi_garbage.db").write_bytes(b"x")
    _fake(folder, T0)
    backup.prune(tmp_path / "zhuqi.db", T0 + timedelta(days=400), UTC)
    assert (folder / "notes.txt").exists() and (folder / "zhuqi_garbage.db").exists()


# ---------------------------------------------------------------- restore

def test_restore_round_trip(svc):
    world = World(svc)
    world.enterprise("备份前的企业有限公司")
    chosen = svc.backups.take("manual")
    world.enterprise("备份后的企业有限公司")
    safety = svc.backups.restore(chosen.path)
    assert "备份后的企业有限公司" not in enterprise_names(svc)
    assert "备份前的企业有限公司" in enterprise_names(svc)
    assert safety.reason == "restore"
    # the restore itself can be undone from the list
    svc.backups.restore(safety.path)
    assert {"备份前的企业有限公司", "备份后的企业有限公司"} <= enterprise_names(svc)
    assert svc.store.scalar("PRAGMA integrity_check") == "ok"
    # other connections see the restored content too
    reader = svc.reader()
    try:
        assert "备份后的企业有限公司" in enterprise_names(reader)
    finally:
        svc.close_reader(reader)


def test_restore_keeps_sync_numbers_and_package_chain(svc):
    world = World(svc)
    chosen = svc.backups.take("manual")
    for _ in range(3):
        world.enterprise()
    high = svc.store.scalar("SELECT max(seq) FROM outbox")
    svc.store.conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('sync.previous_package.H1', 'abc')")
    svc.backups.restore(chosen.path)
    assert svc.store.scalar("SELECT max(seq) FROM outbox") < high
    world.enterprise()
    assert svc.store.scalar("SELECT max(seq) FROM outbox") > high  # never reuses a number the hub may have seen
    assert svc.store.scalar("SELECT value FROM settings WHERE key = 'sync.previous_package.H1'") == "abc"


def test_restore_of_an_older_schema_migrates_it(svc, db_path, monkeypatch):
    chosen = svc.backups.take("manual")
    conn = sqlite3.connect(chosen.path)
    for table in ("sync_seen", "relay_ops", "waiting_ops", "field_versions", "sync_conflicts", "sync_aliases",
                  "packages_in", "packages_out", "sync_acks"):  # what version 3 did not have
        conn.execute(f"DROP TABLE {table}")
    # ... nor what version 5 added (db/facts.py, db/migrations/0005_list_speed.py)
    for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {trigger}")
    v5 = importlib.import_module("db.migrations.0005_list_speed")
    for index in re.findall(r"CREATE (?:UNIQUE )?INDEX (\w+)", v5.SQL):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    for table in ("enterprise_facts", *FTS_TABLES.values()):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("CREATE VIRTUAL TABLE search_index USING fts5(kind UNINDEXED, row_id UNINDEXED, uni, bi, words, "
                 "tokenize = 'unicode61')")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    svc.backups.restore(chosen.path)
    assert svc.store.scalar("PRAGMA user_version") == latest_version()
    assert svc.store.scalar("SELECT count(*) FROM enterprise_facts") == svc.store.scalar("SELECT count(*) FROM enterprises")
    assert svc.store.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sync_acks'") == 1


@pytest.mark.parametrize("damage", ["garbage", "foreign", "newer", "missing"])
def test_restore_refuses_unusable_backups_and_changes_nothing(svc, tmp_path, damage):
    World(svc).enterprise("不能丢的企业有限公司")
    bad = tmp_path / "bad.db"
    if damage == "garbage":
        bad.write_bytes(os.urandom(9000))
    elif damage == "foreign":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE x (y)")
        conn.commit()
        conn.close()
    elif damage == "newer":
        made = svc.backups.take("manual")
        conn = sqlite3.connect(made.path)
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
        conn.close()
        bad = made.path
    before = svc.store.query("SELECT count(*) FROM enterprises")[0][0]
    with pytest.raises(ValidationError) as err:
        svc.backups.restore(bad)
    assert bad.name in err.value.message
    assert svc.store.scalar("SELECT count(*) FROM enterprises") == before


# ---------------------------------------------------------------- damaged database at start

def _damage(path: Path) -> None:
    damage_table(path)


def test_damaged_database_is_detected_kept_aside_and_recovered(db_path):
    svc = Services.open(db_path)
    World(svc).enterprise("备份里的企业有限公司")
    svc.backups.take("manual")
    svc.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    svc.close()
    _damage(db_path)
    damaged_bytes = file_hash(db_path)
    with pytest.raises(DatabaseDamagedError) as err:
        Services.open(db_path, check=True)
    assert str(db_path) in err.value.message
    good = backups.newest_good_backup(db_path)
    assert good is not None and good.reason == "manual"
    aside = backups.recover(db_path, good)
    assert file_hash(aside / db_path.name) == damaged_bytes  # kept, byte for byte
    svc = Services.open(db_path, check=True)
    try:
        assert "备份里的企业有限公司" in enterprise_names(svc)
    finally:
        svc.close()


def test_newest_good_backup_skips_damaged_backups(svc, db_path):
    older = svc.backups.take("manual")
    World(svc).enterprise()
    newer = svc.backups.take("manual")
    newer.path.write_bytes(os.urandom(5000))
    assert backups.newest_good_backup(db_path).path == older.path


def test_garbage_instead_of_the_database_counts_as_damaged(tmp_path):
    path = tmp_path / "zhuqi.db"
    path.write_bytes(os.urandom(10000))
    with pytest.raises(DatabaseDamagedError):
        Services.open(path, check=True)
    assert backups.newest_good_backup(path) is None


def test_recover_never_leaves_the_path_without_a_database(db_path, monkeypatch):
    svc = Services.open(db_path)
    good = svc.backups.take("manual")
    svc.close()
    original = file_hash(db_path)
    calls = []
    real_replace = os.replace

    def failing_replace(src, dst):
        calls.append(dst)
        if str(dst) == str(db_path):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(backups.os, "replace", failing_replace)
    with pytest.raises(StoreError):
        backups.recover(db_path, good)
    assert file_hash(db_path) == original
    assert not Path(str(db_path) + ".restoring").exists()


# ---------------------------------------------------------------- where the database lives

def test_drive_kind_reads_mountinfo(tmp_path, monkeypatch):
    if os.name == "nt" or not Path("/proc/self/mountinfo").exists():
        pytest.skip("Linux mount table only")
    text = ("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
            "40 22 0:50 / /media/usb rw - vfat /dev/sdz1 rw\n"
            "41 22 0:51 / /mnt/share rw - cifs //server/share rw\n")
    real_read = Path.read_text

    def read_text(self, *a, **kw):
        if str(self) == "/proc/self/mountinfo":
            return text
        if str(self) == "/sys/block/sdz/removable":
            return "1\n"
        if str(self) == "/sys/block/sda/removable":
            return "0\n"
        return real_read(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert _drive_kind(Path("/media/usb/data/zhuqi.db")) == "可移动磁盘（U盘）"
    assert _drive_kind(Path("/mnt/share/zhuqi.db")) == "网络驱动器"
    assert _drive_kind(Path("/home/user/zhuqi.db")) is None
