"""enterprise_facts (db/facts.py) stays equal to a recomputation from the stored rows after every kind of write:
the services, a sync-style merge (plain UPDATEs of whole rows) and hard deletes. The lists sort and filter by it,
so a stale figure would put an enterprise in the wrong place or the wrong 未走访 count."""

from __future__ import annotations

from conftest import JINSHUI

from app.clock import today
from app.enterprises import EnterpriseFilter
from db import facts


def recomputed(store) -> dict[str, tuple]:
    exprs = ", ".join(facts.FIGURES[f].format(e="e.id") for f in facts.ALL)
    return {r[0]: tuple(r[1:]) for r in store.query(f"SELECT e.id, {exprs} FROM enterprises e")}


def stored(store) -> dict[str, tuple]:
    return {r[0]: tuple(r[1:]) for r in store.query(
        "SELECT enterprise_id, last_visit, open_problems, cadres FROM enterprise_facts")}


def assert_current(store):
    assert stored(store) == recomputed(store)


def test_facts_follow_every_write(svc, world):
    store = svc.store
    a, b = world.enterprise("郑州甲科技有限公司"), world.enterprise("郑州乙机械有限公司")
    assert stored(store)[a] == (None, 0, None)

    v1 = world.visit([a, b], visit_date="2025-03-03")
    world.visit([a], visit_date="2025-05-20")
    assert stored(store)[a][0] == "2025-05-20" and stored(store)[b][0] == "2025-03-03"
    assert_current(store)

    p = world.problem(a)
    world.problem(a)
    assert stored(store)[a][1] == 2
    world.assign(p, "2025-03-04")
    world.resolve(p, "2025-03-10")  # 办结: no longer open
    assert stored(store)[a][1] == 1
    assert_current(store)

    c1, c2 = world.cadre("张三"), world.cadre("李四")
    asg = svc.people.assign(c1, a)
    svc.people.assign(c2, a)
    assert stored(store)[a][2] in ("张三、李四", "李四、张三")
    svc.people.update_cadre(c1, name="张叁")
    assert "张叁" in stored(store)[a][2]
    svc.people.end_assignment(asg)
    assert stored(store)[a][2] == "李四"
    assert_current(store)

    # What a sync merge does: whole-row UPDATEs, a visit deleted or moved elsewhere, hard deletes.
    with store.transaction() as conn:
        conn.execute("UPDATE visits SET visit_date = '2025-06-01', summary = summary WHERE id = ?", (v1,))
    assert stored(store)[b][0] == "2025-06-01"
    with store.transaction() as conn:
        conn.execute("UPDATE visits SET deleted = 1 WHERE id = ?", (v1,))
    assert stored(store)[b][0] is None and stored(store)[a][0] == "2025-05-20"
    with store.transaction() as conn:
        conn.execute("UPDATE problems SET status = status, deleted = 1 WHERE enterprise_id = ?", (a,))
        conn.execute("DELETE FROM visit_enterprises WHERE enterprise_id = ?", (a,))
    assert stored(store)[a][:2] == (None, 0)
    assert_current(store)


def test_rebuild_gives_what_the_triggers_kept(svc, world):
    ents = [world.enterprise() for _ in range(5)]
    world.visit(ents[:3], visit_date="2025-04-01")
    world.problem(ents[1])
    svc.people.assign(world.cadre("王五"), ents[2])
    kept = stored(svc.store)
    with svc.store.transaction() as conn:
        facts.rebuild(conn)
    assert stored(svc.store) == kept == recomputed(svc.store)


def test_lists_sort_and_filter_by_the_facts(svc, world):
    ents = svc.enterprises
    old, recent, never = (world.enterprise(n) for n in ("郑州老走访有限公司", "郑州新走访有限公司", "郑州未走访有限公司"))
    world.visit([old], visit_date="2020-01-02")
    world.visit([recent], visit_date=today().isoformat())
    mine = EnterpriseFilter(ids=[old, recent, never])
    assert ents.list_ids(mine, "last_visit") == [never, old, recent]  # never visited first, ascending
    assert ents.list_ids(mine, "last_visit", descending=True) == [recent, old, never]
    not_visited = EnterpriseFilter(ids=[old, recent, never], not_visited_days=30, unit_id=JINSHUI)
    assert set(ents.list_ids(not_visited)) == {old, never}
    assert ents.count(not_visited) == 2
    world.problem(never)
    assert ents.list_ids(mine, "open_problems", descending=True)[0] == never
    assert ents.rows([never])[never]["open_problems"] == 1
