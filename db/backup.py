"""Backup files of a database (DESIGN §4): taken with SQLite's backup API, checked, then renamed into place.

A backup lives in `backups/` beside its database as `<stem>_<UTC stamp>_<reason>.db`. The name is the record:
listing, rotation and restore need nothing else. A file only gets its final name after it was written completely,
fsynced and passed `PRAGMA quick_check`, so a `.db` file in the folder is always a whole backup; an interrupted one
stays a `.part` that the next backup removes.

Rotation keeps about the last 48 hours (every backup), the newest of each of the last 14 days, 8 weeks and 12
months, and always the newest backup of all.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path

from app.errors import StoreError
from app.files import fsync_dir, fsync_file

log = logging.getLogger(__name__)

BACKUP_DIR = "backups"
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(r"^(?P<stem>.+)_(?P<stamp>\d{8}-\d{6})-(?P<ms>\d{3})_(?P<reason>[a-z0-9-]+?)(?:-(?P<n>\d+))?\.db$")

KEEP_HOURS = 48
KEEP_DAYS = 14
KEEP_WEEKS = 8
KEEP_MONTHS = 12


@dataclass(frozen=True)
class BackupFile:
    path: Path
    taken_at: datetime  # UTC, aware
    reason: str  # "auto", "exit", "import", "export", "restore", "manual", "before-v5" (a migration)…
    size: int
    stem: str  # the database's file name without .db: backups of several databases may share a folder


def backup_dir(db_path: str | Path) -> Path:
    return Path(db_path).parent / BACKUP_DIR


def parse(path: Path) -> BackupFile | None:
    """The backup a file name describes, or None for anything else in the folder."""
    m = _NAME.match(path.name)
    if m is None:
        return None
    try:
        taken = datetime.strptime(m["stamp"], _STAMP).replace(tzinfo=UTC) + timedelta(milliseconds=int(m["ms"]))
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    return BackupFile(path, taken, m["reason"], size, m["stem"])


def list_backups(db_path: str | Path) -> list[BackupFile]:
    """This database's backups, newest first (other databases sharing the folder are left out)."""
    folder = backup_dir(db_path)
    stem = Path(db_path).stem
    if not folder.is_dir():
        return []
    found = [b for b in (parse(p) for p in folder.glob("*.db")) if b is not None and b.stem == stem]
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def take(conn: sqlite3.Connection, db_path: str | Path, reason: str, *, when: datetime | None = None) -> BackupFile:
    """Copy the live database behind `conn` into a new backup file; raises StoreError (nothing left) on failure."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    folder = backup_dir(db_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"无法创建备份文件夹 {folder}：{exc.strerror or exc}") from exc
    base = f"{Path(db_path).stem}_{when.strftime(_STAMP)}-{when.microsecond // 1000:03d}_{reason}"
    dest = folder / f"{base}.db"
    n = 1
    while dest.exists():  # two backups in the same millisecond (e.g. before an import, then before an export)
        n += 1
        dest = folder / f"{base}-{n}.db"
    copy_database(conn, dest, what="备份", stale=f"{Path(db_path).stem}_*.part")
    backup = parse(dest)
    assert backup is not None, dest
    return backup


def copy_database(conn: sqlite3.Connection, dest: Path, *, what: str, stale: str | None = None) -> None:
    """Backup API → `dest.part`, fsync, quick_check, rename, fsync the folder. No partial `dest` ever exists.

    `stale`: a pattern of `.part` files left in the folder by copies that were killed or ran out of space, removed
    first — only this database's (one process has it open): another database's backup in the same folder may be
    under way. Without it, only an old `dest.part` is removed."""
    tmp = dest.with_name(dest.name + ".part")
    for old in dest.parent.glob(stale or tmp.name):
        if old.name.endswith(".part"):
            old.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            conn.backup(target)
            verdict = target.execute("PRAGMA quick_check").fetchone()[0]
            # The copy is a plain rollback-journal file: one file, no -wal beside it to lose.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        if verdict != "ok":
            raise StoreError(f"{what}文件校验失败：{dest.name}（{verdict}），已删除，原数据库未改动。")
        fsync_file(tmp)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{what}失败：{storage_problem(exc) or exc}（{dest.parent}），原数据库未改动。") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{what}失败：无法写入 {dest.parent}（{exc.strerror or exc}），原数据库未改动。") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_file(path: Path) -> str | None:
    """None if `path` is a sound SQLite file, else what is wrong with it (in Chinese)."""
    try:
        uri = path.resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"无法读取（{exc}）"
    return None if rows == ["ok"] else "；".join(rows[:3])


def storage_problem(exc: BaseException) -> str | None:
    """A Chinese explanation when `exc` is the disk or the folder failing us (not our SQL), else None."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return "磁盘空间已满"
    if code == sqlite3.SQLITE_READONLY or "readonly database" in text:
        return "数据库文件或所在文件夹是只读的（或没有写入权限）"
    if code == sqlite3.SQLITE_IOERR or "disk i/o error" in text:
        return "读写磁盘出错（U盘或网络盘是否已断开？）"
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open database" in text:
        return "无法打开数据库文件（文件夹不存在、被移走或没有权限）"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return "数据库文件已损坏"
    return None


# ---------------------------------------------------------------- rotation

def keep_set(backups: list[BackupFile], now: datetime, tz: tzinfo) -> set[Path]:
    """Which backups the rotation keeps; days, weeks and months are counted in `tz` (the user's calendar)."""
    if not backups:
        return set()
    newest_first = sorted(backups, key=lambda b: b.taken_at, reverse=True)
    keep = {newest_first[0].path}
    today = now.astimezone(tz).date()
    horizon = now - timedelta(hours=KEEP_HOURS)
    keep.update(b.path for b in newest_first if b.taken_at >= horizon)

    def newest_per(bucket, window: set) -> None:
        seen = set()
        for b in newest_first:
            key = bucket(b.taken_at.astimezone(tz).date())
            if key in window and key not in seen:
                seen.add(key)
                keep.add(b.path)

    newest_per(lambda d: d, {today - timedelta(days=i) for i in range(KEEP_DAYS)})
    newest_per(_week_of, {_week_of(today - timedelta(weeks=i)) for i in range(KEEP_WEEKS)})
    newest_per(lambda d: (d.year, d.month), {_month_back(today, i) for i in range(KEEP_MONTHS)})
    return keep


def _week_of(d: date) -> tuple[int, int]:
    iso = d.isocalendar()
    return iso.year, iso.week


def _month_back(d: date, months: int) -> tuple[int, int]:
    index = d.year * 12 + d.month - 1 - months
    return index // 12, index % 12 + 1


def prune(db_path: str | Path, now: datetime, tz: tzinfo) -> list[Path]:
    """Delete the backups the rotation no longer keeps; returns what was deleted."""
    backups = list_backups(db_path)
    keep = keep_set(backups, now, tz)
    removed = []
    for b in backups:
        if b.path not in keep:
            try:
                b.path.unlink()
                removed.append(b.path)
            except OSError as exc:  # e.g. opened by an antivirus scan: try again next time
                log.warning("could not remove old backup %s: %s", b.path, exc)
    return removed
