"""Crash safety of export (DESIGN §5: a package is one file that travels on a USB stick; packages form a chain).

A station with demo data, enrolled with its district hub, runs a child process that makes a small edit and exports a
package, again and again, into one out folder (the USB stick). The child is killed with SIGKILL at random moments and
started again. After every kill:

* the station's database passes integrity_check (and every backup beside it is a sound database);
* every file in the out folder with the final name (*.zqpkg) reads and verifies completely with the hub's keys;
  anything else there is an unmistakable temporary file (*.part) that no one would carry to the hub;
* the ledger of sent packages agrees with the files: each recorded package's file has the recorded hash, the
  recorded packages form one chain, `sync.previous_package.<hub>` is the last one, and exactly the exports the child
  reported (or one more: the one in flight may have committed) are recorded.

Then the user carries the recorded packages to the hub: all import, and after one more normal export the hub holds
the station's latest records.

Two more tests kill the child at exact points of an export instead of at random (the child waits on its stdin there):
just before the finished package is renamed into place, and just after. The exporter records a package in its
ledger before the file gets its final name (app/sync/exporter.py), so a finished file is always known to the ledger
and the next package never claims the same predecessor (a fork the hub would refuse).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from killer import check_database, connect, kill_after, kill_at_pause, spawn, wait_ready
from syncnet import link, site

from app import demo
from app.services import Services
from app.sync.enrollment import trusted_signer
from app.sync.identity import load_identity_keys
from app.sync.package import SUFFIX, read_package, sha256_file

KILLS = 12

# Edit one enterprise, export a package for the hub; repeat until killed.
CHILD = """
import sys
from pathlib import Path

from app.services import Services
from app.textsearch import initials

db, out, start = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
services = Services.open(db)
ids = [r[0] for r in services.store.query("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id LIMIT 7")]
initials("预热拼音")  # load the pinyin table now, not during the first edit
print("ready", flush=True)
n = start
while True:
    services.enterprises.update(ids[n % len(ids)], {"note": f"第 {n} 次导出前的修改"})
    print("edited", n, flush=True)
    [result] = services.sync.export(out)
    print("exported", n, result.path.name, flush=True)
    n += 1
"""

# One edit and one export that stops at the rename of the finished package (before or after it) until killed.
PAUSING_CHILD = """
import os
import sys
from pathlib import Path

from app.services import Services

db, out, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_replace, real_rename = os.replace, os.rename


def pausing(real):
    def move(src, dst, *args, **kwargs):
        final = str(dst).endswith(".zqpkg")
        if final and where == "before":
            print("paused before the rename", dst, flush=True)
            sys.stdin.readline()
        real(src, dst, *args, **kwargs)
        if final and where == "after":
            print("paused after the rename", dst, flush=True)
            sys.stdin.readline()
    return move


os.replace, os.rename = pausing(real_replace), pausing(real_rename)
services = Services.open(db)
print("ready", flush=True)
ent = services.store.scalar("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id LIMIT 1")
services.enterprises.update(ent, {"note": "被中断的导出之前的修改"})
services.sync.export(out)
print("exported", flush=True)
"""


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    """A district hub and a station of it with small demo data, enrolled, nothing sent yet (both closed)."""
    root = tmp_path_factory.mktemp("killexport")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHUQI_DATA_DIR", str(root / "userdata"))
        hub = site(root, "hub", "district", "金水区", "钱区")
        station = site(root, "st", "station", "金水区", "王磊")
        link(hub, station)
        demo.generate(station, size="small", seed=5)
        station.close()
        hub.close()
    return root


@pytest.fixture
def world(network, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))
    for name in ("hub", "st"):
        shutil.copytree(network / name, tmp_path / name)
    (tmp_path / "usb").mkdir()
    hub = Services.open(tmp_path / "hub" / "hub.db")
    yield {"station": tmp_path / "st" / "st.db", "hub": hub, "usb": tmp_path / "usb", "data": tmp_path / "userdata"}
    hub.close()


class Hub:
    """What the hub can check of a file without importing it (cached by hash: finished files never change)."""

    def __init__(self, hub: Services):
        self.keys = load_identity_keys(hub.store, hub.installation.id)
        self.signers = trusted_signer(hub)
        self.verified: dict[str, dict] = {}

    def verify(self, path: Path) -> dict:
        sha = sha256_file(path)
        if sha not in self.verified:
            package = read_package(path, recipient=self.keys, trusted_signers=self.signers)  # raises if damaged
            assert package.file_sha256 == sha
            self.verified[sha] = package.manifest
        return {**self.verified[sha], "sha": sha, "path": path}


def ledger(db: Path) -> tuple[list[sqlite3.Row], str | None]:
    """packages_out rows for the hub, oldest first, and the chain setting for the hub."""
    conn = connect(db)
    try:
        hub_id = conn.execute("SELECT installation_id FROM trusted_hubs").fetchone()[0]
        rows = conn.execute("SELECT * FROM packages_out WHERE recipient = ? ORDER BY rowid", (hub_id,)).fetchall()
        pointer = conn.execute("SELECT value FROM settings WHERE key = ?",
                               (f"sync.previous_package.{hub_id}",)).fetchone()
        return rows, pointer[0] if pointer else None
    finally:
        conn.close()


def check_backups(db: Path) -> None:
    """Backups are made before every export: any finished one must be a sound database too."""
    for path in db.parent.rglob("*.db"):
        if path == db:
            continue
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok", path
        finally:
            conn.close()


def check_out_folder(usb: Path, hub: Hub) -> list[dict]:
    """Every finished package verifies; everything else is recognisably temporary. Returns the packages."""
    packages = []
    for path in sorted(usb.iterdir()):
        if path.name.endswith(SUFFIX):
            packages.append(hub.verify(path))
        else:
            assert path.name.endswith(".part"), f"{path.name}: neither a finished package nor a temporary file"
    return packages


def check_ledger(db: Path, packages: list[dict]) -> tuple[list[sqlite3.Row], list[dict]]:
    """The ledger agrees with the files: recorded files have their recorded hash, the recorded packages form one
    chain ending at the chain setting. Returns the rows and the finished files the ledger does not know."""
    rows, pointer = ledger(db)
    by_name = {p["path"].name: p for p in packages}
    previous = None
    for row in rows:
        package = by_name.get(row["file_name"])
        if package is not None:
            assert package["sha"] == row["file_sha256"], f"{row['file_name']}: the file is not the one recorded"
            assert package["package_id"] == row["package_id"]
            assert package["previous_package_sha256"] == previous, f"{row['file_name']}: the recorded chain breaks"
        previous = row["file_sha256"]
    assert pointer == previous, "sync.previous_package does not name the last recorded package"
    known = {row["file_sha256"] for row in rows}
    return rows, [p for p in packages if p["sha"] not in known]


def station_records(services: Services, origin: str) -> dict[str, list[tuple]]:
    from db.changes import SYNCED_TABLES

    conn = services.store.conn
    return {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t} WHERE origin = ?", (origin,)))  # noqa: S608
            for t in sorted(SYNCED_TABLES)}


def carry_to_hub(world, files: list[Path]) -> tuple[list, bool]:
    """The user takes the files (and one more, normal export) to the hub, which imports them in order. Returns the
    import results and whether the hub then holds the station's records as the station has them."""
    station = Services.open(world["station"])
    try:
        [last] = station.sync.export(world["usb"])
        results = world["hub"].sync.import_files([*files, last.path])
        origin = station.installation.id
        latest = station_records(station, origin)
    finally:
        station.close()
    return results, latest == station_records(world["hub"], origin)


def test_export_killed_at_random_moments_leaves_whole_packages_and_a_true_ledger(world):
    db, usb = world["station"], world["usb"]
    hub = Hub(world["hub"])
    # Kill moments are drawn in units of one edit + export on this machine (a loaded CI machine takes several
    # times longer than a quiet one), timed on a first child that is killed right after its first export.
    child = spawn(CHILD, db, usb, 900, data_dir=world["data"])
    wait_ready(child)
    t0 = time.monotonic()
    while (line := child.stdout.readline()) and not line.startswith("exported"):
        pass
    cycle = time.monotonic() - t0
    child.kill()
    child.communicate(timeout=60)
    assert line.startswith("exported"), "the timing child never exported"
    rng = random.Random(20261124)
    delays = [0.0, *(cycle * rng.uniform(0.1, 3.0) for _ in range(KILLS - 1))]
    rng.shuffle(delays)
    exported, history = len(ledger(db)[0]), []
    for n, delay in enumerate(delays):
        child = spawn(CHILD, db, usb, 1000 * n, data_dir=world["data"])
        lines, err, running = kill_after(child, delay)
        assert running, f"kill {n}: the child stopped by itself (exit {child.returncode}):\n{lines[-5:]}\n{err}"
        assert "Traceback" not in err, err
        reported = sum(1 for line in lines if line.startswith("exported"))

        check_database(db)
        check_backups(db)
        packages = check_out_folder(usb, hub)
        rows, unknown = check_ledger(db, packages)
        assert len(rows) - exported in (reported, reported + 1), \
            f"kill {n}: the child reported {reported} exports, the ledger grew by {len(rows) - exported}"
        assert not unknown, f"kill {n}: finished package files the ledger does not know: {unknown}"
        exported = len(rows)
        history.append((f"{delay:.2f}s", reported, len(rows), len(packages), len(unknown)))
    assert exported >= 5, (cycle, history)

    # Every finished file, in the order sent (a recorded package whose rename was killed has no file: a gap).
    files = [usb / row["file_name"] for row in ledger(db)[0] if (usb / row["file_name"]).exists()]
    results, same = carry_to_hub(world, files)
    assert [r.status for r in results] == ["imported"] * len(results), [r.message for r in results
                                                                         if r.status != "imported"]
    assert same, "the hub does not hold the station's latest records"
    leftovers = sorted(p.name for p in usb.iterdir() if not p.name.endswith(SUFFIX))
    print(f"\nkills (delay, exports reported, packages recorded, finished files, files the ledger does not know): "
          f"{history}\ntemporary files left: {len(leftovers)}")


def test_export_killed_before_the_package_is_renamed_into_place(world):
    """Killed with the package written under its temporary name (already recorded in the ledger): no finished file,
    nothing lost; the hub sees a gap in the chain, which it reports but accepts, and the next package carries every
    operation the hub has not acknowledged."""
    db, usb = world["station"], world["usb"]
    hub = Hub(world["hub"])
    child = spawn(PAUSING_CHILD, db, usb, "before", data_dir=world["data"])
    kill_at_pause(child, "paused before the rename")
    check_database(db)
    assert not list(usb.glob(f"*{SUFFIX}"))
    assert [p.name for p in usb.iterdir() if p.name.endswith(".part")], "the kill was not during the write"
    check_ledger(db, check_out_folder(usb, hub))

    results, same = carry_to_hub(world, [])
    assert [r.status for r in results] == ["imported"], [r.message for r in results]
    assert same


def test_export_killed_after_the_file_is_in_place_must_not_fork_the_chain(world):
    """Killed just after the finished package got its final name: the file is complete and verifies, so the user
    carries it to the hub with the next one. The ledger recorded it before the rename, so the next package follows it
    and both import (had the ledger not known it, the hub would refuse the second as a fork: “与已导入的文件分叉”)."""
    db, usb = world["station"], world["usb"]
    hub = Hub(world["hub"])
    child = spawn(PAUSING_CHILD, db, usb, "after", data_dir=world["data"])
    kill_at_pause(child, "paused after the rename")
    check_database(db)
    [orphan] = check_out_folder(usb, hub)  # complete and verified: a user would carry it to the hub
    check_ledger(db, [orphan])

    results, same = carry_to_hub(world, [orphan["path"]])
    assert [r.status for r in results] == ["imported", "imported"], [r.message for r in results]
    assert same
