"""open_store(): the one way to get a database connection — pragmas, migrations, backups."""

from __future__ import annotations

import contextlib
import importlib
import logging
import pkgutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from app.errors import DatabaseDamagedError, SchemaTooNewError, StoreError
from db import backup

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


def synced_version() -> int:
    """The schema version sync packages carry: the newest migration that changed what travels. Migrations of local,
    derived data (`LOCAL_ONLY = True`: indexes, enterprise_facts) do not count, so an upgraded station's packages
    still import at a hub that has not been upgraded yet."""
    return max(m.VERSION for m in _migrations() if not getattr(m, "LOCAL_ONLY", False))


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
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._storage_error(exc) from exc
            self._depth = 1
            try:
                yield self.conn
            except BaseException as exc:
                self._depth = 0
                self._rollback()
                if isinstance(exc, sqlite3.Error) and backup.storage_problem(exc):
                    raise self._storage_error(exc) from exc
                raise
            else:
                self._depth = 0
                try:
                    self.conn.execute("COMMIT")
                except BaseException as exc:
                    # A failed COMMIT (e.g. a deferred foreign key) leaves SQLite inside the transaction: end it,
                    # so nothing half-done stays visible on this connection.
                    self._rollback()
                    if isinstance(exc, sqlite3.Error) and backup.storage_problem(exc):
                        raise self._storage_error(exc) from exc
                    raise

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the disk failing again must not hide the first error
                self.conn.execute("ROLLBACK")

    def _storage_error(self, exc: sqlite3.Error) -> StoreError:
        """The disk or folder failed (full, read-only, removed drive…): say so in Chinese; SQLite rolled back."""
        problem = backup.storage_problem(exc)
        if problem is None:
            return StoreError(f"数据库 {self.path} 无法写入：{exc}。本次操作未保存，原有数据未受影响。")
        if problem == "数据库文件已损坏":
            return DatabaseDamagedError(f"数据库 {self.path} 已损坏（{exc}）。本次操作未保存。请关闭程序后重新打开，"
                                        "程序会检查数据库并提供用最新的完好备份恢复。", path=self.path)
        return StoreError(f"{problem}：本次操作未保存（已撤销，原有数据未受影响）。数据库：{self.path}。"
                          "请处理后重试。")

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def column(self, sql: str, params: tuple | dict = (), limit: int | None = None) -> list:
        """The first column of every row (the first `limit` rows), as a plain list: the ordered ids behind a list of
        100,000+ rows, without building a Row object for each (a third of the time at that size)."""
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        cur = self.conn.cursor()
        cur.row_factory = None
        return [r[0] for r in cur.execute(sql, params)]

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


def open_store(path: str | Path, *, migrate: bool = True, check: bool = False) -> Store:
    """Open (creating if needed) and migrate a database; refuse foreign or newer files.

    check=True runs `PRAGMA quick_check` first (the GUI at start) and raises DatabaseDamagedError on damage.
    """
    path = str(path)
    if path != ":memory:":
        parent = Path(path).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"无法创建数据库所在的文件夹 {parent}：{exc.strerror or exc}。"
                             "请检查该位置是否存在、是否有写入权限，或用 --db 指定其他位置。") from exc
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
        if check and path != ":memory:":
            verdict = [r[0] for r in conn.execute("PRAGMA quick_check")]
            if verdict != ["ok"]:
                conn.close()
                raise _damaged(path, "；".join(verdict[:3]))
    except sqlite3.DatabaseError as exc:
        problem = backup.storage_problem(exc)
        if problem == "数据库文件已损坏":
            raise _damaged(path, str(exc)) from exc
        if problem:
            raise StoreError(f"无法打开数据库文件 {path}：{problem}（{exc}）。") from exc
        raise StoreError(f"无法打开数据库文件 {path}：{exc}（文件可能已损坏或不是本程序的数据库）") from exc
    if version > latest:
        conn.close()
        raise _too_new(path, version, latest)
    store = Store(path, conn)
    if migrate and version < latest:
        if version > 0 and path != ":memory:":
            try:
                made = backup.take(conn, path, f"before-v{latest}")
            except BaseException:
                conn.close()
                raise
            log.info("backed up %s to %s before migrating", path, made.path)
        try:
            migrate_store(store, version)
        except sqlite3.Error as exc:
            store.close()
            raise StoreError(f"数据库 {path} 升级到版本 {latest} 失败，已回滚，原数据未改动"
                             f"（升级前的备份在 backups 文件夹）：{exc}") from exc
    return store


def _damaged(path: str, detail: str) -> DatabaseDamagedError:
    return DatabaseDamagedError(f"数据库文件 {path} 已损坏（{detail}）。", path=path)


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
        if backup.storage_problem(exc) == "数据库文件已损坏":
            raise _damaged(path, str(exc)) from exc
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
