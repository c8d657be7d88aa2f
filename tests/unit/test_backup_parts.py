"""A backup clears only its own database's leftovers: another database's backup may be under way in the folder."""

from __future__ import annotations

from app.services import Services


def test_a_backup_leaves_another_databases_part_file_alone(svc, db_path):
    folder = db_path.parent / "backups"
    folder.mkdir(exist_ok=True)
    ours = folder / "zhuqi_20260101-000000-000_auto.db.part"  # left by a killed backup of this database
    theirs = folder / "other_20260101-000000-000_auto.db.part"  # another database's backup, being written
    ours.write_bytes(b"half")
    theirs.write_bytes(b"half")
    made = svc.backups.take("manual")
    assert made.path.exists() and not ours.exists() and theirs.read_bytes() == b"half"
    other = Services.open(db_path.parent / "other.db")
    try:
        other.backups.take("manual")
    finally:
        other.close()
    assert not theirs.exists() and made.path.exists()
