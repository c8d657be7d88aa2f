"""Sync and backups (DESIGN §4): every import and export is preceded by a backup of the state it starts from."""

from __future__ import annotations

from syncnet import deliver, link, site, up

from app import demo


def test_backup_before_export_and_import(tmp_path):
    hub = site(tmp_path, "hub", "district", "金水区")
    station = site(tmp_path, "st", "station", "金水区")
    try:
        link(hub, station)
        demo.generate(station, size="small", seed=3)
        package = up(station)
        assert [b.reason for b in station.backups.list()] == ["export"]
        deliver(hub, package)
        assert [b.reason for b in hub.backups.list()] == ["import"]
        hub.sync.import_files([package])  # the import changed the hub: this state is backed up first
        hub.sync.import_files([package])  # 已导入过 changed nothing: no second copy of the same state
        assert [b.reason for b in hub.backups.list()] == ["import", "import"]
    finally:
        hub.close()
        station.close()
