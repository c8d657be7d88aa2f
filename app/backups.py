"""When backups are taken and how one is restored (DESIGN §4); the file mechanics are in db/backup.py.

Taken: every 30 minutes when something changed (the GUI's timer calls `auto()`), at exit when something changed,
before every import, export, migration (db/store.py) and restore. A restore first backs up the current state,
then replaces the whole database in one step, so it can itself be undone from the list.

Restoring an older copy must not break sync: packages already sent carry operation numbers (outbox seq) and a
chain of package hashes. The restored database is given the current high-water mark and chain before it goes
live, so the next package neither reuses a number the hub has already seen (it would be ignored as a duplicate)
nor forks the chain (the hub would refuse it).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from app.clock import SHANGHAI
from app.errors import StoreError, ValidationError
from app.files import fsync_file
from db import backup
from db.backup import BackupFile
from db.store import APPLICATION_ID, Store, latest_version, migrate_store

log = logging.getLogger(__name__)

AUTO_INTERVAL_MINUTES = 30
# Settings that continue across a restore: the per-recipient chain of sent packages (app/sync/exporter.py).
_CARRIED_SETTINGS = "sync.previous_package.%"

REASON_LABELS = {"auto": "定时备份", "exit": "退出时备份", "import": "导入前备份", "export": "导出前备份",
                 "restore": "恢复前备份", "manual": "手动备份", "recovered": "损坏前的最新备份"}


def reason_label(reason: str) -> str:
    if reason.startswith("before-v"):
        return f"升级前备份（升级到第 {reason.removeprefix('before-v')} 版）"
    return REASON_LABELS.get(reason, reason)


class BackupService:
    def __init__(self, store: Store, *, tz: tzinfo = SHANGHAI):
        self.store = store
        self.tz = tz
        # What the database looked like at the last backup; None = not known to be backed up yet.
        self._backed_up_state = self.state() if self._newest_backup_covers_file() else None

    @property
    def enabled(self) -> bool:
        return self.store.path != ":memory:"

    @property
    def folder(self) -> Path:
        return backup.backup_dir(self.store.path)

    def list(self) -> list[BackupFile]:
        return backup.list_backups(self.store.path) if self.enabled else []

    # -- taking ------------------------------------------------------------------------------------------
    def take(self, reason: str = "manual", *, now: datetime | None = None) -> BackupFile | None:
        """Back up now and rotate. None for an in-memory database. Raises StoreError (nothing left) on failure."""
        if not self.enabled:
            return None
        now = now or datetime.now(UTC)
        state = self.state()
        made = backup.take(self.store.conn, self.store.path, reason, when=now)
        self._backed_up_state = state
        removed = backup.prune(self.store.path, now, self.tz)
        log.info("backup %s (%s, %d bytes); rotation removed %d", made.path.name, reason, made.size, len(removed))
        return made

    def before(self, action: str) -> BackupFile | None:
        """The backup before an import, export or restore: skipped when nothing changed since the last one."""
        return self.take(action) if self.changed() else None

    def auto(self, *, now: datetime | None = None) -> BackupFile | None:
        """The timer's and the exit's backup: only when something changed since the last backup."""
        return self.take("auto", now=now) if self.changed() else None

    def changed(self) -> bool:
        """Did anything commit since the last backup (this connection's writes or another connection's)?"""
        return self.enabled and self.state() != self._backed_up_state

    def mark_backed_up(self, state: tuple[int, int]) -> None:
        """A backup of `state` (read before it started) was taken on another connection (the GUI's timer)."""
        self._backed_up_state = state

    def _newest_backup_covers_file(self) -> bool:
        """True when the newest backup was taken after the database file (and its WAL) last changed."""
        if not self.enabled:
            return True
        backups = self.list()
        if not backups:
            return False
        # An empty -wal is just this session's opening (a clean close checkpoints and removes it).
        wal = Path(self.store.path + "-wal")
        files = [Path(self.store.path)] + ([wal] if wal.exists() and wal.stat().st_size > 0 else [])
        changed = max((f.stat().st_mtime for f in files if f.exists()), default=0.0)
        return backups[0].path.stat().st_mtime > changed

    def state(self) -> tuple[int, int]:
        # total_changes counts this connection's writes; data_version moves when another connection commits.
        conn = self.store.conn
        return conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0]

    # -- restoring ---------------------------------------------------------------------------------------
    def restore(self, chosen: Path) -> BackupFile | None:
        """Replace the database's content with the backup `chosen`, after backing up the current state.

        Returns the backup of the state before the restore. The open connection stays valid and sees the restored
        content; callers drop their caches (the GUI reopens its window)."""
        chosen = Path(chosen)
        if not self.enabled:
            raise ValidationError("内存数据库没有备份可以恢复。", field="backup")
        problem = verify_backup(chosen)
        if problem:
            raise ValidationError(f"备份文件 {chosen.name} 不能用于恢复：{problem}", field="backup")
        safety = self.take("restore")
        with tempfile.TemporaryDirectory(dir=self.folder, prefix="restore-") as work:
            staged = Path(work) / "staged.db"
            shutil.copyfile(chosen, staged)
            staged_store = Store(str(staged), sqlite3.connect(str(staged), isolation_level=None))
            try:
                staged_store.conn.row_factory = sqlite3.Row
                version = staged_store.scalar("PRAGMA user_version")
                if version < latest_version():
                    migrate_store(staged_store, version)
                self._carry_sync_continuity(staged_store.conn)
                # One step for the live database: the backup API writes it in one transaction of its own.
                staged_store.conn.backup(self.store.conn)
            except sqlite3.Error as exc:
                raise StoreError(f"恢复失败：{backup.storage_problem(exc) or exc}。当前数据未改动"
                                 f"（恢复前的备份：{safety.path.name if safety else '无'}）。") from exc
            finally:
                staged_store.close()
        self._backed_up_state = self.state()
        log.info("restored %s from %s", self.store.path, chosen)
        return safety

    def _carry_sync_continuity(self, staged: sqlite3.Connection) -> None:
        live = self.store.conn
        high = live.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        chain = live.execute("SELECT key, value FROM settings WHERE key LIKE ?", (_CARRIED_SETTINGS,)).fetchall()
        staged.execute("BEGIN IMMEDIATE")
        if high is not None:
            old = staged.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
            if old is None:
                staged.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", (high[0],))
            else:
                staged.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'outbox'", (high[0],))
        staged.execute("DELETE FROM settings WHERE key LIKE ?", (_CARRIED_SETTINGS,))
        staged.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", [tuple(r) for r in chain])
        staged.execute("COMMIT")


def verify_backup(path: Path) -> str | None:
    """None if `path` can be restored by this version of the program, else why not (in Chinese)."""
    if not path.is_file():
        return "文件不存在"
    problem = backup.check_file(path)
    if problem:
        return f"文件已损坏：{problem}"
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    if app_id != APPLICATION_ID:
        return "不是助企工作台的数据库"
    if version > latest_version():
        return f"由更新版本的程序写入（版本 {version}），请先升级程序"
    return None


# ---------------------------------------------------------------- recovery of a damaged database at start

def newest_good_backup(db_path: Path) -> BackupFile | None:
    """The newest backup of `db_path` that passes the checks (older ones are tried when newer ones are bad)."""
    for candidate in backup.list_backups(db_path):
        if verify_backup(candidate.path) is None:
            return candidate
        log.warning("backup %s is not usable", candidate.path)
    return None


def recover(db_path: Path, good: BackupFile, *, now: datetime | None = None) -> Path:
    """Keep the damaged database aside and put a copy of `good` in its place. Returns the folder with the damaged
    files. At no moment is there no database file at `db_path`, and the damaged one is never overwritten: it is
    copied aside first, its -wal/-shm moved aside (a stale WAL must not be replayed onto the restored copy), and
    only then is the staged copy renamed over it."""
    problem = verify_backup(good.path)
    if problem:
        raise StoreError(f"备份 {good.path.name} 不能使用：{problem}")
    now = now or datetime.now(UTC)
    aside = db_path.parent / "damaged" / f"{db_path.stem}-{now.strftime('%Y%m%d-%H%M%S-%f')}"
    staged = db_path.with_name(db_path.name + ".restoring")
    try:
        aside.mkdir(parents=True, exist_ok=False)
        shutil.copyfile(good.path, staged)
        fsync_file(staged)
        if db_path.exists():
            shutil.copy2(db_path, aside / db_path.name)
            fsync_file(aside / db_path.name)
        for suffix in ("-wal", "-shm", "-journal"):
            part = Path(str(db_path) + suffix)
            if part.exists():
                os.replace(part, aside / part.name)
        os.replace(staged, db_path)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise StoreError(f"无法用备份恢复数据库 {db_path}：{exc.strerror or exc}。损坏的文件未被改动。") from exc
    log.warning("database %s was damaged: kept in %s, restored from %s", db_path, aside, good.path)
    return aside

