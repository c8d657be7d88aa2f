"""Crash safety of everyday edits (DESIGN §4–§5, STYLE: one user action = one transaction = its audit entry and
change-log rows).

A child process works through a long, fixed sequence of user actions on a station through the real services
(tests/integration/killer.py `plan`): new enterprises and edits of them, 包联, visits with up to three problems raised
on the form and up to two attendees, corrections of a visit's text, the problem steps 交办 and 办结, scans attached to a
visit and removed again (a tombstone). Every action writes the marker "动作 N" into its records; the child prints N
once the action is saved. It is killed with SIGKILL at random moments and started again on the same database, as a
cadre restarts the program after a power cut. After every kill:

* the database passes integrity_check, foreign_key_check and the full-text index's own check;
* the actions found are exactly 1..k, and k is the last number the child printed or the one after it (the action
  in flight when the process died may or may not have committed — never partly);
* each of those actions is whole: the visit with its enterprises, cadre, attendees and N problems, each problem
  with its 登记 event; outbox and audit rows for every record; the search index; an edit's audit entry and outbox
  update; a step's event with its problem change; a removed scan's tombstone with its operation and history entry;
* across the database: every row this installation made has outbox operations for revisions 1..rev and no
  operation points at a missing row; every change has its audit entry; the record-number counters equal the numbers
  used (no gap); each problem's row is the fold of its events.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from killer import Checker, check_database, connect, kill_after, markers_in_database, plan, present_actions, spawn

from app.services import Services

KILLS = 15
PLAN = 25_000  # more actions than the child reaches in all its runs together (it saves a few hundred a second)
FINAL_ACTIONS = 25  # the last run ends normally after these

CHILD = """
import sys
from pathlib import Path

import killer
from app.services import Services

db, start, stop, files = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
actions = killer.plan(stop)
services = Services.open(db)
killer.warm_up()
print("ready", flush=True)
for action in actions[start - 1:]:
    killer.perform(services, action, files)
    print(action.n, action.kind, flush=True)
services.close()
print("finished", flush=True)
"""


@pytest.fixture
def station(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))
    db = tmp_path / "station" / "station.db"
    services = Services.open(db)
    services.initialise(role="station", unit_name="金水区", operator="王磊")
    services.close()
    (tmp_path / "scans").mkdir()
    return db


def reported(lines: list[str], before: int) -> int:
    """The last action number the child printed (it prints only after the action committed)."""
    numbers = [int(line.split()[0]) for line in lines if line[:1].isdigit()]
    assert numbers == list(range(before + 1, before + 1 + len(numbers))), lines[:5]
    return numbers[-1] if numbers else before


def examine(db: Path, actions, last: int, label: str) -> int:
    """Check the database after a kill; returns k, the number of actions it holds (1..k, each whole)."""
    check_database(db)
    conn = connect(db)
    try:
        present = present_actions(conn, actions)
        k = len(present)
        assert present == set(range(1, k + 1)), f"{label}: actions present are not 1..{k}: " \
                                                f"missing {sorted(set(range(1, k + 1)) - present)[:10]}"
        assert markers_in_database(conn) <= present, f"{label}: records of an action that is not whole: " \
                                                     f"{sorted(markers_in_database(conn) - present)[:10]}"
        assert k in (last, last + 1), f"{label}: the child reported action {last} saved, the database holds {k}"
        checker = Checker(conn)
        for a in actions[:k]:
            checker.action(a)
        checker.bookkeeping()
        assert not checker.failures, f"{label}:\n" + "\n".join(checker.failures[:20])
        return k
    finally:
        conn.close()


def test_edits_killed_at_random_moments_are_all_or_nothing(station, tmp_path):
    actions = plan(PLAN)
    rng = random.Random(20261123)
    delays = [0.0, *(rng.uniform(0.02, 0.6) for _ in range(KILLS - 1))]
    rng.shuffle(delays)
    done, history = 0, []
    for n, delay in enumerate(delays):
        child = spawn(CHILD, station, done + 1, PLAN, tmp_path / "scans", data_dir=tmp_path / "userdata")
        lines, err, running = kill_after(child, delay)
        assert running, f"kill {n}: the child stopped by itself (exit {child.returncode}):\n{lines[-5:]}\n{err}"
        assert "Traceback" not in err, err
        last = reported(lines, done)
        started = time.perf_counter()
        k = examine(station, actions, last, f"kill {n} after {delay:.2f} s")
        history.append((f"{delay:.2f}s", last, k, f"{time.perf_counter() - started:.2f}s"))
        assert k >= done
        done = k

    # One more run that ends normally: the database that survived all the kills keeps working.
    child = spawn(CHILD, station, done + 1, done + FINAL_ACTIONS, tmp_path / "scans", data_dir=tmp_path / "userdata")
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "ready" and lines[-1] == "finished", out
    assert examine(station, actions[:done + FINAL_ACTIONS], reported(lines[1:-1], done), "final run") \
        == done + FINAL_ACTIONS
    kinds = {a.kind for a in actions[:done]}
    assert kinds == {"ent", "edit", "assign", "visit", "vtext", "step", "attach", "detach"}, kinds
    in_flight = sum(1 for _, last, k, _ in history if k == last + 1)
    print(f"\n{len(delays)} kills (delay, last reported, actions saved, check time): {history}; the action in "
          f"flight had committed unreported {in_flight} times; {done + FINAL_ACTIONS} actions in all")
