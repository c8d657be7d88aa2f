"""The whole loop of DESIGN §5: two stations → district hub → city, and back down."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from syncnet import business_dump, db_digest, deliver, export, link, site, up

from app import demo
from app.problems import ProblemInput
from app.services import Services

ADDITIVE = ("work_groups", "cadres", "enterprises_covered", "enterprise_visits", "symposia", "problems_collected",
            "problems_solved", "overdue", "visits")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))


@pytest.fixture
def net(tmp_path):
    city = site(tmp_path, "city", "city", "郑州市", "赵市")
    district = site(tmp_path, "district", "district", "金水区", "钱区")
    st1 = site(tmp_path, "st1", "station", "金水区", "王磊")
    st2 = site(tmp_path, "st2", "station", "二七区", "李娜")
    link(city, district)
    link(district, st1)
    link(district, st2)
    demo.generate(st1, size="small", seed=1)
    demo.generate(st2, size="small", seed=2)
    yield {"city": city, "district": district, "st1": st1, "st2": st2}
    for s in (city, district, st1, st2):
        s.close()


def _cli_stats(services) -> dict:
    import contextlib
    import io

    from app import cli

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli.main(["stats", "--db", str(services.store.path), "--json"]) == 0
    return json.loads(buf.getvalue())


def counts(services, origins) -> dict[str, int]:
    marks = ",".join("?" * len(origins))
    out = {}
    for t in ("enterprises", "cadres", "visits", "visit_enterprises", "problems", "problem_events", "assignments"):
        out[t] = services.store.scalar(f"SELECT count(*) FROM {t} WHERE origin IN ({marks})", tuple(origins))  # noqa: S608
    return out


def test_two_stations_district_city_figures_add_up(net):
    st1, st2, district, city = net["st1"], net["st2"], net["district"], net["city"]
    origins = [st1.installation.id, st2.installation.id]
    deliver(district, up(st1), up(st2))
    deliver(city, up(district))

    s1, s2, sd, sc = (_cli_stats(s) for s in (st1, st2, district, city))
    for key in ADDITIVE:
        assert sd[key] == s1[key] + s2[key], key
        assert sc[key] == sd[key], key
    c1 = counts(st1, [st1.installation.id])
    c2 = counts(st2, [st2.installation.id])
    assert counts(district, origins) == {t: c1[t] + c2[t] for t in c1}
    assert counts(city, origins) == counts(district, origins)
    # the relay kept the origin: the city knows each record came from its station, not from the district
    assert city.store.scalar("SELECT count(*) FROM enterprises WHERE origin = ?", (district.installation.id,)) == 0


def test_any_arrival_order_with_duplicates_gives_the_same_records(net):
    st1, st2, district = net["st1"], net["st2"], net["district"]
    p1 = up(st1)
    st1.enterprises.update(st1.store.scalar("SELECT id FROM enterprises LIMIT 1"), {"address": "金水路 1 号"})
    p2 = up(st1)  # not acknowledged yet: carries p1's operations again plus the edit
    q1 = up(st2)
    twin = _copy_of(district)  # the same hub (same keys), to receive the same files in another order
    try:
        deliver(district, p1, p2, q1)
        order = [q1, p2, p1, q1, p2]
        results = twin.sync.import_files(order)
        assert [r.status for r in results] == ["imported", "imported", "imported", "already", "already"]
        assert business_dump(twin) == business_dump(district)
        assert _cli_stats(twin) == _cli_stats(district)
    finally:
        twin.close()


def _copy_of(services):
    folder = services.folder.parent / f"{services.folder.name}-copy"
    shutil.copytree(services.folder / "keys", folder / "keys")
    target = sqlite3.connect(folder / f"{services.folder.name}.db")
    services.store.conn.backup(target)
    target.close()
    return Services.open(folder / f"{services.folder.name}.db")


def test_reimport_changes_nothing(net):
    st1, district = net["st1"], net["district"]
    path = up(st1)
    deliver(district, path)
    before = db_digest(district.store.path)
    [again] = district.sync.import_files([path])
    assert again.status == "already" and "已导入过" in again.message
    assert db_digest(district.store.path) == before


def test_acknowledgement_stops_resending_and_lost_stick_costs_nothing(net):
    st1, district = net["st1"], net["district"]
    lost = up(st1)  # this USB stick is lost on the way
    assert st1.sync.pending()["operations"] > 0
    second = up(st1)
    deliver(district, second)
    [down] = export(district, to=st1.installation.id)
    deliver(st1, down)
    assert st1.sync.pending()["operations"] == 0
    ledger = {e["file_name"]: e["status"] for e in st1.sync.ledger() if e["direction"] == "out"}
    assert ledger[second.name] == "已确认" and ledger[lost.name] == "已确认"
    ent = st1.store.scalar("SELECT id FROM enterprises LIMIT 1")
    st1.enterprises.update(ent, {"address": "花园路 8 号"})
    third = up(st1)
    manifest_ops = st1.store.scalar("SELECT operations FROM packages_out WHERE file_name = ?", (third.name,))
    assert 0 < manifest_ops < 10  # only the new edit (and its audit entry)
    deliver(district, third)
    assert district.store.scalar("SELECT address FROM enterprises WHERE id = ?", (ent,)) == "花园路 8 号"


def test_problem_escalated_to_city_comes_back_closed(net):
    st1, district, city = net["st1"], net["district"], net["city"]
    ent = st1.store.scalar("SELECT id FROM enterprises WHERE deleted = 0 LIMIT 1")
    pid = st1.problems.register(ProblemInput(enterprise_id=ent, category_code=st1.reference.vocabulary(
        "problem_category")[0][0], description="用电增容审批跨部门，需市级协调。", registered_on="2026-11-02"))
    st1.problems.take_step(pid, "上报", on_date="2026-11-03", level="市级", note="需市级协调。")
    deliver(district, up(st1))
    deliver(city, up(district))
    dept = city.store.scalar("SELECT id FROM units WHERE kind LIKE '%部门%' AND deleted = 0 ORDER BY sort LIMIT 1")
    city.problems.take_step(pid, "交办", on_date="2026-11-04", lead_unit_id=dept)
    city.problems.take_step(pid, "办结", on_date="2026-11-10", outcome="已解决", note="已完成增容。")
    city.problems.take_step(pid, "回访", on_date="2026-11-11", method="电话", verdict="满意")
    city.problems.take_step(pid, "销号", on_date="2026-11-12")
    assert city.problems.get(pid)["status"] == "已销号"

    [to_district] = export(city, to=district.installation.id)
    deliver(district, to_district)
    assert district.problems.get(pid)["status"] == "已销号"
    [to_station] = export(district, to=st1.installation.id)
    deliver(st1, to_station)
    got = st1.problems.get(pid)
    assert got["status"] == "已销号" and got["outcome"] == "已解决" and got["lead_unit_id"] == dept
    assert st1.problems.replayed_state(pid)["status"] == "已销号"
    # the station's stats count it as solved now
    assert _cli_stats(st1)["problems_solved"] >= 1


def test_package_bytes_hold_no_personal_data_in_clear(net):
    st1 = net["st1"]
    path = up(st1)
    data = path.read_bytes()
    rows = st1.store.query("SELECT contact_name, contact_phone, legal_rep FROM enterprises WHERE contact_phone"
                           " IS NOT NULL LIMIT 50")
    assert rows
    for r in rows:
        for value in r:
            if value:
                assert value.encode() not in data
    manifest = json.loads(data[11:11 + int.from_bytes(data[7:11], "big")])
    assert "contact" not in json.dumps(manifest, ensure_ascii=False)
