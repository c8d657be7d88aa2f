"""Whole-file checks of the database (PRAGMA quick_check) for the GUI: before the window or in the background.

A quick_check reads the whole file (2.5 s for a 2.7 GB city hub), so the GUI runs it before the window only when
there is a reason to distrust the file (`reason_to_check`), and otherwise on its own connection after the window
has appeared (`quick_check`). What decides is a small record beside the database, `<name>.db.session`, written
when a session starts and when it ends cleanly:

* no record (first start on this file, or the file came from elsewhere) → check before the window;
* the file is not as the record left it — a session that did not end cleanly and had changed the file (its
  writes are still in the -wal), or anything else that changed the file between our sessions (copied over,
  restored by hand, a disk fault) → check before the window. An unclean session that changed nothing (killed while
  the user only looked) cannot have damaged the file: SQLite writes nothing for reads;
* the last check found damage (in the background) → check before the window, which offers the newest good backup;
* no check has passed for CHECK_EVERY days → check before the window. Every backup passed a quick_check before it
  got its name (db/backup.py), and the backup API read every page of the live file to make it, so the newest
  backup's time counts as a check of the live file.

The record is a convenience, never a risk: when it is missing or unreadable the file is checked.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from db import backup

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(days=7)
SUFFIX = ".session"


@dataclass(frozen=True)
class SessionRecord:
    open: bool  # a session is (or was, if it never ended cleanly) running on the file
    file: tuple[int, int]  # (size, mtime_ns) of the database file when the record was written
    wal: int  # size of its -wal file then (0: none)
    checked_at: str | None = None  # UTC ISO time of the last passing whole-file check made by the GUI
    damaged: str | None = None  # what the last check found wrong, until a check passes again


def record_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}{SUFFIX}")


def read_record(db_path: str | Path) -> SessionRecord | None:
    try:
        data = json.loads(record_path(db_path).read_text(encoding="utf-8"))
        return SessionRecord(open=bool(data["open"]), file=(int(data["file"][0]), int(data["file"][1])),
                             wal=int(data["wal"]), checked_at=data.get("checked_at"), damaged=data.get("damaged"))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _file_state(db_path: str | Path) -> tuple[tuple[int, int], int]:
    st = os.stat(db_path)
    try:
        wal = os.stat(f"{db_path}-wal").st_size
    except OSError:
        wal = 0
    return (st.st_size, st.st_mtime_ns), wal


def _write(db_path: str | Path, record: SessionRecord) -> None:
    """Replace the record in one step (a crash leaves the old record or the new one, never half of one)."""
    path = record_path(db_path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(asdict(record), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only folder: the next start simply checks the file
        log.warning("cannot write %s: %s", path, exc)
        tmp.unlink(missing_ok=True)


def _update(db_path: str | Path, *, open: bool | None = None, **changes) -> None:
    """Rewrite the record with the file as it is now (and `changes`), keeping what is not changed."""
    old = read_record(db_path)
    try:
        file, wal = _file_state(db_path)
    except OSError:
        return
    fields = {"open": old.open if old else False, "checked_at": old.checked_at if old else None,
              "damaged": old.damaged if old else None}
    if open is not None:
        fields["open"] = open
    fields.update(changes)
    _write(db_path, SessionRecord(file=file, wal=wal, **fields))


def last_check(db_path: str | Path, record: SessionRecord | None = None) -> datetime | None:
    """When a whole-file check of `db_path` last passed: ours, or the check of the newest backup."""
    record = record if record is not None else read_record(db_path)
    times = [b.taken_at for b in backup.list_backups(db_path)[:1]]
    if record is not None and record.checked_at:
        with contextlib.suppress(ValueError):
            times.append(datetime.fromisoformat(record.checked_at))
    return max(times, default=None)


def reason_to_check(db_path: str | Path, *, now: datetime | None = None) -> str | None:
    """Why the file must be checked before the window appears (for the log), or None: check in the background."""
    path = Path(db_path)
    if str(db_path) == ":memory:" or not path.exists() or path.stat().st_size == 0:
        return None  # nothing to check: open_store creates it
    record = read_record(path)
    if record is None:
        return "no session record"
    if record.damaged:
        return f"the last check found damage ({record.damaged})"
    try:
        file, wal = _file_state(path)
    except OSError:
        return "cannot stat the file"
    if (file, wal) != (record.file, record.wal):
        return "the last session did not end cleanly" if record.open else "the file changed outside our sessions"
    when = last_check(path, record)
    now = now or datetime.now(UTC)
    if when is None or now - when > CHECK_EVERY:
        return f"no check since {when:%Y-%m-%d}" if when else "never checked"
    return None


def session_started(db_path: str | Path) -> None:
    """The GUI opened the database (after migrations): a crash from now on leaves the record open."""
    if str(db_path) != ":memory:":
        _update(db_path, open=True)


def session_ended(db_path: str | Path) -> None:
    """The GUI closed its connection cleanly: the file as it is now is ours."""
    if str(db_path) != ":memory:":
        _update(db_path, open=False)


def check_passed(db_path: str | Path, *, when: datetime | None = None) -> None:
    if str(db_path) != ":memory:":
        _update(db_path, checked_at=(when or datetime.now(UTC)).isoformat(), damaged=None)


def check_failed(db_path: str | Path, detail: str) -> None:
    """Damage found: the next start checks before the window and so offers the newest good backup."""
    if str(db_path) != ":memory:":
        _update(db_path, damaged=detail or "quick_check")


class QuickCheck:
    """PRAGMA quick_check of the file on a connection of its own, which another thread may stop (`cancel`)."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._cancelled = False

    def run(self) -> str | None:
        """None when the file is sound, else what is wrong (Chinese). Raises CheckCancelled when stopped."""
        with self._lock:
            if self._cancelled:
                raise CheckCancelled()
            try:
                uri = f"{self.db_path.resolve().as_uri()}?mode=ro"
                self._conn = conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                return f"无法读取（{exc}）"
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            if self._cancelled:
                raise CheckCancelled() from exc
            return _problem(exc)
        finally:
            with self._lock:
                self._conn = None
                conn.close()
        if self._cancelled:
            raise CheckCancelled()
        return None if rows == ["ok"] else "；".join(rows[:3])

    def cancel(self) -> None:
        """Stop the check (from any thread): SQLite is interrupted at once."""
        with self._lock:
            self._cancelled = True
            if self._conn is not None:
                self._conn.interrupt()


def quick_check(db_path: str | Path) -> str | None:
    """QuickCheck(db_path).run(): None when the file is sound, else what is wrong (Chinese)."""
    return QuickCheck(db_path).run()


def _problem(exc: sqlite3.Error) -> str:
    problem = backup.storage_problem(exc)
    return f"{problem}（{exc}）" if problem else str(exc)


class CheckCancelled(Exception):
    """quick_check stopped because it was asked to (the window closed first)."""
