"""open_store(): the one way to get a database connection — pragmas, migrations, backups."""

from __future__ import annotations

import contextlib
import importlib
import logging
import pkgutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from app.errors import SchemaTooNewError, StoreError

log = logging.getLogger(__name__)

# Marks the file as ours ("ZQ" + 1): a foreign SQLite file is refused instead of migrated.
APPLICATION_ID = 0x5A510001
BUSY_TIMEOUT_MS = 10_000


def _migrations() -> list:
    import db.migrations as pkg

    mods = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name[:4].isdigit():
            mods.append(importlib.import_module(f"db.migrations.{info.name}"))
    mods.sort(key=lambda m: m.VERSION)
    for expected, mod in enumerate(mods, start=1):
        if expected != mod.VERSION:
            raise RuntimeError(f"migration numbering gap at {mod.__name__}")
    return mods


def latest_version() -> int:
    return len(_migrations())


class Store:
    """A connection plus the transaction discipline every service uses.

    `isolation_level=None` puts sqlite3 in autocommit mode so that `transaction()` alone decides
    where a user action begins and ends (BEGIN IMMEDIATE: one writer, no upgrade deadlocks).
    """

    def __init__(self, path: str | Path, conn: sqlite3.Connection):
        self.path = str(path)
        self.conn = conn
        self._depth = 0
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One user action: everything inside commits together or not at all. Re-entrant."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self._depth = 0
                try:
                    self.conn.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (e.g. a deferred foreign key) leaves SQLite inside the transaction: end it,
                    # so nothing half-done stays visible on this connection.
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def reopen(self) -> Store:
        """A second connection to the same file, for a worker thread (SQLite connections are per thread)."""
        return Store(self.path, _connect(self.path))

    def close(self) -> None:
        self.conn.close()


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if path != ":memory:":
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("journal_mode is %s, not WAL", mode)
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def backup_to(conn: sqlite3.Connection, dest: Path) -> Path:
    """Copy a live database with SQLite's backup API to a temp file, check it, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    target = sqlite3.connect(str(tmp))
    try:
        conn.backup(target)
        ok = target.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        target.close()
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"备份文件校验失败：{dest.name}（{ok}）")
    tmp.replace(dest)
    return dest


def open_store(path: str | Path, *, migrate: bool = True) -> Store:
    """Open (creating if needed) and migrate a database; refuse foreign or newer files."""
    path = str(path)
    if path != ":memory:":
        parent = Path(path).parent
        if not parent.exists():
            parent.mkdir(parents=True, exist_ok=True)
    # Look before touching: a foreign or newer file must stay byte-identical, and switching to WAL
    # rewrites the header, so the first look is through a read-only connection.
    version, app_id, has_tables = _probe(path)
    if has_tables and app_id not in (0, APPLICATION_ID):
        raise StoreError(f"文件 {path} 不是助企工作台的数据库，已拒绝打开。")
    if has_tables and app_id == 0 and version == 0:
        raise StoreError(f"文件 {path} 含有其他程序的数据表，不是助企工作台的数据库，已拒绝打开。")
    latest = latest_version()
    if version > latest:
        raise _too_new(path, version, latest)
    try:
        conn = _connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"无法打开数据库文件 {path}：{exc}（文件可能已损坏或不是本程序的数据库）") from exc
    if version > latest:
        conn.close()
        raise _too_new(path, version, latest)
    store = Store(path, conn)
    if migrate and version < latest:
        if version > 0 and path != ":memory:":
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            dest = Path(path).parent / "backups" / f"{Path(path).stem}.before-v{latest}-{stamp}.db"
            backup_to(conn, dest)
            log.info("backed up %s to %s before migrating", path, dest)
        try:
            migrate_store(store, version)
        except sqlite3.Error as exc:
            store.close()
            raise StoreError(f"数据库 {path} 升级到版本 {latest} 失败，已回滚，原数据未改动"
                             f"（升级前的备份在 backups 文件夹）：{exc}") from exc
    return store


def _too_new(path: str, version: int, latest: int) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"数据库 {path} 的版本为 {version}，高于本程序支持的版本 {latest}。"
        "它由更新版本的助企工作台写入，请升级程序后再打开（为保护数据，本程序不会修改它）。"
    )


def _probe(path: str) -> tuple[int, int, int]:
    """(user_version, application_id, table count) read without writing anything to the file."""
    if path == ":memory:" or not Path(path).exists() or Path(path).stat().st_size == 0:
        return 0, 0, 0
    try:
        # immutable: no lock files, no -wal/-shm created. A WAL file's newer pages are not seen here,
        # so open_store checks the version again on the real connection before migrating.
        uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
        probe = sqlite3.connect(uri, uri=True)
        try:
            version = probe.execute("PRAGMA user_version").fetchone()[0]
            app_id = probe.execute("PRAGMA application_id").fetchone()[0]
            tables = probe.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"无法打开数据库文件 {path}：{exc}（文件可能已损坏或不是本程序的数据库）") from exc
    return version, app_id, tables


def migrate_store(store: Store, current: int) -> None:
    """Apply every migration above `current`, each in its own transaction with its version bump."""
    conn = store.conn
    for mod in _migrations():
        if current >= mod.VERSION:
            continue
        log.info("migrating %s to version %d", store.path, mod.VERSION)
        try:
            # executescript() commits anything pending first, so the BEGIN lives inside the script.
            conn.executescript(f"BEGIN IMMEDIATE;\n{mod.SQL}\n")
            if hasattr(mod, "after"):
                mod.after(conn)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {mod.VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
