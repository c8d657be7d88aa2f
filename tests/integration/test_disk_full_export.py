"""A full USB stick during export (issue #5): no file that looks like a package is left, and the station's ledger
and package chain are exactly as before, so the next export on a stick with space carries on."""

from __future__ import annotations

import errno
import os

import pytest
from syncnet import deliver, link, site, up

from app import demo, files
from app.errors import AppError
from app.sync.package import SUFFIX


@pytest.fixture
def pair(tmp_path):
    hub = site(tmp_path, "hub", "district", "金水区")
    station = site(tmp_path, "st", "station", "金水区")
    link(hub, station)
    demo.generate(station, size="small", seed=5)
    yield hub, station
    hub.close()
    station.close()


def ledger_state(station) -> tuple:
    return (station.store.query("SELECT package_id, file_sha256 FROM packages_out ORDER BY created_at"),
            station.store.query("SELECT key, value FROM settings WHERE key LIKE 'sync.previous_package.%'"))


class FullAfter:
    """A file object whose writes fail with ENOSPC once `limit` bytes are written (a stick that fills up)."""

    def __init__(self, real, limit: int):
        self.real, self.left = real, limit

    def write(self, data):
        if len(data) > self.left:
            self.real.write(data[: self.left])
            self.left = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.left -= len(data)
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.mark.parametrize("where", ["write", "rename"])
def test_full_stick_leaves_no_package_and_no_ledger_entry(pair, monkeypatch, where):
    hub, station = pair
    first = up(station)  # one package already sent: the chain has a head to protect
    deliver(hub, first)
    station.enterprises.update(station.store.scalar("SELECT id FROM enterprises LIMIT 1"), {"note": "满盘前的修改"})
    before = ledger_state(station)
    out = station.folder / "out"
    files_before = sorted(p.name for p in out.iterdir())

    if where == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: FullAfter(real_fdopen(fd, mode), 4096))
    else:
        def no_space(*_a, **_kw):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(files.os, "replace", no_space)
    with pytest.raises(AppError) as err:
        station.sync.export(out)
    assert "未" in err.value.message and "No space left" in err.value.message
    monkeypatch.undo()

    assert sorted(p.name for p in out.iterdir()) == files_before  # no partial file, no .part either
    assert ledger_state(station) == before
    second = up(station)  # space again: the next package follows the first, and the hub takes it
    assert second.name.endswith(SUFFIX)
    [result] = deliver(hub, second)
    assert result.status == "imported"
    assert hub.store.scalar("SELECT count(*) FROM enterprises WHERE note = '满盘前的修改'") == 1
