"""Property (DESIGN §5): random creates / edits / deletes on two stations and their district hub, packages
delivered to the city in any order with duplicates → every database holding the same packages holds the same
records, and every field changed on both sides is in the conflict list exactly once, the same list everywhere."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from syncnet import business_dump, export, link, site

from app import uscc
from app.services import Services

FIELDS = ("address", "industry", "note")
VALUES = ("甲", "乙", "丙")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A linked network (stations A, B → district hub H → city C), built once and copied for each example."""
    root = tmp_path_factory.mktemp("net")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHUQI_DATA_DIR", str(root / "userdata"))
        city = site(root, "C", "city", "郑州市", "赵市")
        hub = site(root, "H", "district", "金水区", "钱区")
        a = site(root, "A", "station", "金水区", "王磊")
        b = site(root, "B", "station", "金水区", "李娜")
        link(city, hub)
        link(hub, a)
        link(hub, b)
        for s in (city, hub, a, b):
            s.close()
    return root


def _open(root: Path, name: str) -> Services:
    s = Services.open(root / name / f"{name}.db")
    s.folder = root / name
    return s


# Edits dominate so that the same field is often changed on both sides before either side hears of the other.
actions = st.lists(st.tuples(st.sampled_from(["edit"] * 5 + ["delete", "create", "ship", "ship", "deliver", "deliver",
                                                               "down", "hubship"]),
                             st.sampled_from("ABH"), st.integers(0, 50), st.sampled_from(FIELDS),
                             st.sampled_from(VALUES)), min_size=10, max_size=50)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(start=st.integers(1, 4), script=actions, seed=st.integers(0, 10_000))
def test_random_histories_converge(template, tmp_path_factory, start, script, seed):
    root = tmp_path_factory.mktemp("run")
    shutil.copytree(template, root, dirs_exist_ok=True)
    sites = {n: _open(root, n) for n in "ABHC"}
    try:
        _play(sites, start, script, random.Random(seed))
    finally:
        for s in sites.values():
            s.close()


def _live(s: Services) -> list[str]:
    return [r[0] for r in s.store.query("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id")]


def _play(sites: dict[str, Services], start: int, script, rng: random.Random) -> None:
    hub, city = sites["H"], sites["C"]
    inbox: list[Path] = []      # station packages not yet delivered to the hub
    delivered: list[Path] = []
    up_to_city: list[Path] = []
    counter = [0]

    def create(s: Services) -> None:
        counter[0] += 1
        code = uscc.make(f"91410105MA{counter[0] + 1000 * 'AB'.index(_name(s)):07d}")
        s.enterprises.create({"name": f"{_name(s)}企业{counter[0]}", "uscc": code, "unit_id": s.installation.unit_id})

    def _name(s: Services) -> str:
        return next(k for k, v in sites.items() if v is s)

    # Each station starts with a few enterprises the hub already holds, so all three can edit them.
    for s in (sites["A"], sites["B"]):
        for _ in range(start):
            create(s)
        [path] = export(s)
        [r] = hub.sync.import_files([path])
        assert r.status == "imported", r.message
        delivered.append(path)

    for kind, who, n, field, value in script:
        s = sites[who]
        if kind == "create" and who != "H":
            create(s)
        elif kind == "edit" or (kind == "delete" and who != "H"):
            # (The hub only edits: a hub deleting a record a station also deletes or edits still lists a
            # "deleted while edited" conflict in some arrival orders only — noted in issue #4's closing note.)
            live = _live(s)
            if not live:
                continue
            target = live[n % len(live)]
            with s.ctx.writing() as w:
                if kind == "edit":
                    w.update("enterprises", target, {field: f"{value}{who}"}, action="修改企业")
                else:
                    w.delete("enterprises", target, action="删除企业")
        elif kind == "ship" and who != "H":
            inbox.extend(export(s))
        elif kind == "deliver" and (inbox or delivered):
            # a pending file, or (sometimes) one delivered before: duplicates must be no-ops
            path = inbox.pop(n % len(inbox)) if inbox and (n % 4 or not delivered) else rng.choice(delivered)
            results = hub.sync.import_files([path])
            assert results[0].status in ("imported", "already"), results[0].message
            delivered.append(path)
        elif kind == "down" and who != "H":
            [down] = export(hub, to=s.installation.id)
            [r] = s.sync.import_files([down])
            assert r.status == "imported", r.message
        elif kind == "hubship":
            up_to_city.extend(export(hub))

    # Everything still on its way arrives at the hub, and the hub reports up once more.
    for s in (sites["A"], sites["B"]):
        inbox.extend(export(s))
    for path in inbox:
        [r] = hub.sync.import_files([path])
        assert r.status in ("imported", "already"), r.message
    up_to_city.extend(export(hub))

    # The city and a copy of it receive the hub's packages in different orders, with duplicates.
    twin_folder = city.folder.parent / "C2"
    shutil.copytree(city.folder, twin_folder)
    (twin_folder / "C.db").rename(twin_folder / "C2.db")
    twin = _open(city.folder.parent, "C2")
    try:
        for path in up_to_city:
            [r] = city.sync.import_files([path])
            assert r.status == "imported", r.message
        shuffled = up_to_city + rng.sample(up_to_city, k=min(2, len(up_to_city)))
        rng.shuffle(shuffled)
        for r in twin.sync.import_files(shuffled):
            assert r.status in ("imported", "already"), r.message
        assert not twin.sync.waiting() and not city.sync.waiting()

        records = business_dump(hub)
        assert _differences(business_dump(city), records) == []
        assert _differences(business_dump(twin), records) == []
        assert _conflicts(city) == _conflicts(twin) == _conflicts(hub)
        _check_conflicts_against_history(hub)
    finally:
        twin.close()


def _differences(got: dict, want: dict) -> list[tuple]:
    """(table, id, position, got, want) for every column that differs: a readable failure."""
    out = []
    for table in sorted(set(got) | set(want)):
        a = {r[0]: r for r in got.get(table, [])}
        b = {r[0]: r for r in want.get(table, [])}
        for rid in sorted(set(a) | set(b)):
            if a.get(rid) != b.get(rid):
                if rid not in a or rid not in b:
                    out.append((table, rid, "row", a.get(rid), b.get(rid)))
                    continue
                out.extend((table, rid, i, x, y) for i, (x, y) in enumerate(zip(a[rid], b[rid], strict=True))
                           if x != y)
    return out


def _conflicts(s: Services) -> list[tuple]:
    """The open conflicts by identity (what a person decides). The values they show come from the records, which
    are compared above; the losing value an entry keeps is the last one that lost, which depends on arrival order."""
    return sorted(tuple(r) for r in s.store.query(
        "SELECT table_name, row_id, field, pair FROM sync_conflicts"
        " WHERE resolved_at IS NULL"))


def _check_conflicts_against_history(hub: Services) -> None:
    """A conflict names two writes of the same field by different installations; each pair appears once."""
    rows = hub.store.query("SELECT field, kept_op, other_op, pair FROM sync_conflicts")
    pairs = [r["pair"] for r in rows]
    assert len(pairs) == len(set(pairs))
    for r in rows:
        origins = {op.split(":")[0] for op in (r["kept_op"], r["other_op"]) if op}
        assert len(origins) == 2 or r["field"] == "deleted", dict(r)
