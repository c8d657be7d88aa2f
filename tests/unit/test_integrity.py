"""When the GUI checks the whole database file before its window (app/integrity.py), and the check itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import World

from app import integrity
from app.services import Services
from tests.damage import damage_table


def clean_session(db_path: Path, *, write: bool = False) -> None:
    """A GUI session from open to clean exit (optionally writing something)."""
    svc = Services.open(db_path)
    integrity.session_started(db_path)
    if write:
        World(svc).enterprise()
    svc.close()
    integrity.session_ended(db_path)


def damage(path: Path, keep_mtime: bool = False) -> None:
    damage_table(path, keep_mtime=keep_mtime)


def test_a_file_without_a_record_is_checked(db_path):
    assert integrity.read_record(db_path) is None
    assert integrity.reason_to_check(db_path) == "no session record"


def test_after_a_clean_session_and_a_recent_check_the_start_does_not_check(db_path):
    integrity.check_passed(db_path)
    clean_session(db_path, write=True)
    assert integrity.reason_to_check(db_path) is None
    record = integrity.read_record(db_path)
    assert record is not None and not record.open and record.wal == 0


def test_a_session_that_did_not_end_cleanly_after_writing_is_checked(db_path):
    integrity.check_passed(db_path)
    clean_session(db_path)
    svc = Services.open(db_path)
    integrity.session_started(db_path)
    World(svc).enterprise()  # committed to the -wal; then the program is killed (no session_ended)
    assert integrity.reason_to_check(db_path) == "the last session did not end cleanly"
    svc.close()
    assert integrity.reason_to_check(db_path) == "the last session did not end cleanly"


def test_a_session_killed_while_only_reading_is_not_checked_again(db_path):
    integrity.check_passed(db_path)
    clean_session(db_path)
    svc = Services.open(db_path)
    integrity.session_started(db_path)
    svc.store.query("SELECT count(*) FROM enterprises")
    # killed here: the record stays open, but nothing was written
    assert integrity.read_record(db_path).open
    assert integrity.reason_to_check(db_path) is None
    svc.close()


def test_a_file_changed_between_sessions_is_checked(db_path):
    integrity.check_passed(db_path)
    clean_session(db_path)
    damage(db_path)
    assert integrity.reason_to_check(db_path) == "the file changed outside our sessions"


def test_a_week_without_a_passing_check_is_checked_and_a_backup_counts(db_path):
    now = datetime.now(UTC)
    integrity.check_passed(db_path, when=now - timedelta(days=8))
    clean_session(db_path)
    assert integrity.reason_to_check(db_path, now=now).startswith("no check since")
    svc = Services.open(db_path)
    integrity.session_started(db_path)
    made = svc.backups.take("manual")  # every backup passed a quick_check of the copy
    svc.close()
    integrity.session_ended(db_path)
    assert integrity.last_check(db_path) == made.taken_at
    assert integrity.reason_to_check(db_path, now=now) is None
    assert integrity.reason_to_check(db_path, now=now + timedelta(days=8)).startswith("no check since")


def test_damage_found_is_remembered_until_a_check_passes(db_path):
    integrity.check_passed(db_path)
    clean_session(db_path)
    integrity.check_failed(db_path, "页 12 损坏")
    assert integrity.reason_to_check(db_path) == "the last check found damage (页 12 损坏)"
    integrity.session_ended(db_path)  # ending a session keeps what the check found
    assert integrity.read_record(db_path).damaged == "页 12 损坏"
    integrity.check_passed(db_path)
    assert integrity.reason_to_check(db_path) is None


def test_an_unreadable_record_means_check(db_path):
    integrity.check_passed(db_path)
    integrity.record_path(db_path).write_text("{not json", encoding="utf-8")
    assert integrity.reason_to_check(db_path) == "no session record"


def test_quick_check_finds_damage_on_its_own_connection(db_path):
    svc = Services.open(db_path)
    World(svc).enterprise("检查用企业有限公司")
    svc.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert integrity.quick_check(db_path) is None  # while the GUI's connection is open
    svc.close()
    damage(db_path, keep_mtime=True)
    problem = integrity.quick_check(db_path)
    assert problem and problem != "ok"


def test_quick_check_stops_when_cancelled(db_path):
    check = integrity.QuickCheck(db_path)
    check.cancel()
    with pytest.raises(integrity.CheckCancelled):
        check.run()


def test_memory_and_new_files_need_no_check(tmp_path):
    assert integrity.reason_to_check(":memory:") is None
    assert integrity.reason_to_check(tmp_path / "new.db") is None
