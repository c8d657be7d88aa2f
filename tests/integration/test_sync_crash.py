"""Crash safety of import (DESIGN §5 Import: each package applies in one transaction).

A child process imports three stations' packages (demo data, about 3,000 operations each) into a district hub and
is killed with SIGKILL at random moments. Afterwards the database must pass SQLite's integrity check and hold
exactly the first k packages for some k — each package entirely or not at all, never half of one — and importing
the same files again must complete and give the same records as an import that was never interrupted.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from syncnet import business_dump, link, site, up

from app import demo
from app.services import Services

ROOT = Path(__file__).resolve().parents[2]
KILLS = 8
UNITS = ("金水区", "二七区", "中原区")

CHILD = """
import sys, time
from pathlib import Path
from app.services import Services

services = Services.open(Path(sys.argv[1]))
files = [Path(f) for f in sys.argv[2:]]
print("ready", flush=True)
started = time.perf_counter()
results = services.sync.import_files(files)
took = time.perf_counter() - started
services.close()
print("done", took, *(r.status for r in results), flush=True)
"""


def table_counts(db: Path) -> dict[str, int]:
    """Rows in every table (FTS shadow tables left out: their layout is an implementation detail)."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                                            " 'sqlite_%' AND name NOT LIKE 'search_index_%' ORDER BY name")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in names}  # noqa: S608 - test
    finally:
        conn.close()


def check_database(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def origin_count(db: Path, table: str, origin: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE origin = ?", (origin,)).fetchone()[0]  # noqa: S608
    finally:
        conn.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A district hub (closed, never imported anything), three packages for it, and the states after importing
    the first k of them in order (k = 0..3), computed without interruption."""
    root = tmp_path_factory.mktemp("crash")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHUQI_DATA_DIR", str(root / "userdata"))
        hub = site(root, "hub", "district", "金水区", "钱区")
        # stations of three districts: two stations of one district that both made the same department trip an
        # app bug (see test_sync_rejections.py::test_two_stations_that_made_the_same_department_both_import)
        stations = [site(root, f"st{i}", "station", unit, f"干部{i}") for i, unit in enumerate(UNITS)]
        files, origins = [], []
        for i, st in enumerate(stations):
            link(hub, st)
            demo.generate(st, size="small", seed=11 + i)
            files.append(up(st))
            origins.append(st.installation.id)
            st.close()
        hub.close()

        reference = root / "reference"
        shutil.copytree(root / "hub", reference)
        db = reference / "hub.db"
        states = [table_counts(db)]
        enterprises = []
        services = Services.open(db)
        try:
            for path in files:
                [result] = services.sync.import_files([path])
                assert result.status == "imported", result.message
                states.append(table_counts(db))
            full_dump = business_dump(services)
        finally:
            services.close()
        for origin in origins:
            enterprises.append(origin_count(db, "enterprises", origin))
    assert all(n > 0 for n in enterprises)
    assert len({tuple(sorted(s.items())) for s in states}) == len(states)  # each package changes the counts
    return {"root": root, "files": files, "origins": origins, "states": states, "enterprises": enterprises,
            "full_dump": full_dump}


def spawn(db: Path, files: list[Path], data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZHUQI_DATA_DIR": str(data_dir),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(db), *map(str, files)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fresh_hub(world, folder: Path) -> Path:
    shutil.copytree(world["root"] / "hub", folder)
    return folder / "hub.db"


def test_import_killed_at_random_moments_leaves_whole_packages_only(world, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))
    files, states = world["files"], world["states"]

    # one undisturbed run: how long the import itself takes in a child process (only to spread the kills)
    db = fresh_hub(world, tmp_path / "calibrate")
    child = spawn(db, files, tmp_path / "userdata")
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    words = out.split("done", 1)[1].split()
    assert words[1:] == ["imported"] * len(files), out
    duration = float(words[0])
    assert table_counts(db) == states[-1]

    rng = random.Random(20261122)
    delays = [0.0, *sorted(rng.uniform(0, duration * 1.1) for _ in range(KILLS - 1))]
    reached = []
    for n, delay in enumerate(delays):
        db = fresh_hub(world, tmp_path / f"kill{n}")
        child = spawn(db, files, tmp_path / "userdata")
        try:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(delay)
            child.kill()  # SIGKILL: no cleanup, no rollback by Python
        finally:
            child.communicate(timeout=60)

        check_database(db)
        counts = table_counts(db)
        assert counts in states, f"kill {n} after {delay:.3f} s left a state that is not k whole packages"
        k = states.index(counts)
        reached.append(k)
        assert counts["packages_in"] == k
        for i, origin in enumerate(world["origins"]):
            assert origin_count(db, "enterprises", origin) == (world["enterprises"][i] if i < k else 0)

        services = Services.open(db)
        try:
            results = services.sync.import_files(files)
            assert [r.status for r in results] == ["already"] * k + ["imported"] * (len(files) - k), \
                [r.message for r in results]
            assert business_dump(services) == world["full_dump"]
        finally:
            services.close()
        check_database(db)
        assert table_counts(db) == states[-1]
        shutil.rmtree(db.parent)
    print(f"import took {duration:.2f} s in the child; packages complete at each kill: {reached}")
