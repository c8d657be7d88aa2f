"""db/changes.py through the services: every change lands with its outbox operation and audit entry, together
or not at all."""

from __future__ import annotations

import json

import pytest

from app.errors import ValidationError
from app.problems import ProblemInput, ProblemService
from app.visits import VisitInput
from db.changes import ChangeWriter
from tests.unit.conftest import JINSHUI, make_uscc, settings_snapshot, table_counts


def _outbox_since(svc, seq: int) -> list[dict]:
    rows = svc.store.query("SELECT * FROM outbox WHERE seq > ? ORDER BY seq", (seq,))
    return [{**dict(r), "old": json.loads(r["old"]) if r["old"] else None,
             "new": json.loads(r["new"]) if r["new"] else None} for r in rows]


def _max_seq(svc) -> int:
    return svc.store.scalar("SELECT coalesce(max(seq), 0) FROM outbox")


def _audit_of(svc, row_id: str) -> list[dict]:
    return [dict(r) for r in svc.store.query("SELECT * FROM audit_log WHERE row_id = ? ORDER BY at, id", (row_id,))]


def test_create_enterprise_writes_row_outbox_and_audit(svc):
    before = table_counts(svc.store)
    seq = _max_seq(svc)
    ent_id = svc.enterprises.create({"uscc": make_uscc(1), "name": "郑州测试机械有限公司", "unit_id": JINSHUI,
                                     "contact_phone": "13812345678"}).id
    after = table_counts(svc.store)
    assert after["enterprises"] == before["enterprises"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    ops = _outbox_since(svc, seq)
    assert [(o["table_name"], o["op"]) for o in ops] == [("enterprises", "insert"), ("audit_log", "insert")]
    assert ops[0]["row_id"] == ent_id and ops[0]["rev"] == 1 and ops[0]["old"] is None
    assert ops[0]["new"]["name"] == "郑州测试机械有限公司" and ops[0]["new"]["uscc"] == make_uscc(1)
    assert all(o["origin"] == svc.installation.id for o in ops)
    row = svc.store.one("SELECT * FROM enterprises WHERE id = ?", (ent_id,))
    assert row["rev"] == 1 and row["deleted"] == 0 and row["origin"] == svc.installation.id
    assert row["updated_by"] == svc.installation.id and row["updated_at"].endswith("Z")
    (audit,) = _audit_of(svc, ent_id)
    assert audit["operator"] == "张三" and audit["action"] == "新建企业" and audit["table_name"] == "enterprises"
    assert audit["before"] is None and json.loads(audit["after"])["name"] == "郑州测试机械有限公司"
    assert ops[1]["row_id"] == audit["id"]


def test_update_records_only_changed_fields_and_bumps_rev(svc, world):
    ent_id = world.enterprise("郑州测试机械有限公司", contact_phone="13812345678", address="金水路1号")
    seq = _max_seq(svc)
    svc.enterprises.update(ent_id, {"contact_phone": "0371-67891234", "address": "金水路1号"})
    row = svc.store.one("SELECT * FROM enterprises WHERE id = ?", (ent_id,))
    assert row["rev"] == 2 and row["contact_phone"] == "0371-67891234"
    ops = _outbox_since(svc, seq)
    assert [(o["table_name"], o["op"]) for o in ops] == [("enterprises", "update"), ("audit_log", "insert")]
    assert ops[0]["rev"] == 2
    assert ops[0]["old"] == {"contact_phone": "13812345678"}
    assert ops[0]["new"] == {"contact_phone": "0371-67891234"}
    audit = _audit_of(svc, ent_id)[-1]
    assert audit["action"] == "修改企业信息"
    assert json.loads(audit["before"]) == {"contact_phone": "13812345678"}
    assert json.loads(audit["after"]) == {"contact_phone": "0371-67891234"}


def test_update_without_changes_writes_nothing(svc, world):
    ent_id = world.enterprise("郑州测试机械有限公司", contact_phone="13812345678", tags=["专精特新", "三高企业"])
    before = table_counts(svc.store)
    row_before = dict(svc.store.one("SELECT * FROM enterprises WHERE id = ?", (ent_id,)))
    svc.enterprises.update(ent_id, {"contact_phone": " 13812345678 ", "tags": ["三高企业", "专精特新"]})
    svc.enterprises.update(ent_id, {})
    assert table_counts(svc.store) == before
    assert dict(svc.store.one("SELECT * FROM enterprises WHERE id = ?", (ent_id,))) == row_before


def test_delete_is_a_tombstone_and_twice_is_a_noop(svc, world):
    ent_id = world.enterprise()
    seq = _max_seq(svc)
    with svc.ctx.writing() as w:
        assert w.delete("enterprises", ent_id, action="删除企业") is True
    row = svc.store.one("SELECT * FROM enterprises WHERE id = ?", (ent_id,))
    assert row is not None and row["deleted"] == 1 and row["rev"] == 2  # kept, never hard-deleted
    ops = _outbox_since(svc, seq)
    assert [(o["table_name"], o["op"]) for o in ops] == [("enterprises", "delete"), ("audit_log", "insert")]
    # the delete carries the row as the deleter saw it (so a receiver can tell an unseen edit: a conflict)
    assert ops[0]["old"]["deleted"] == 0 and ops[0]["new"] == {"deleted": 1}
    assert ops[0]["old"]["name"] == row["name"] and "rev" not in ops[0]["old"]
    counts = table_counts(svc.store)
    with svc.ctx.writing() as w:
        assert w.delete("enterprises", ent_id, action="删除企业") is False
    assert table_counts(svc.store) == counts
    assert svc.store.scalar("SELECT rev FROM enterprises WHERE id = ?", (ent_id,)) == 2


def test_writer_refuses_unsynced_and_append_only_edits(svc):
    with svc.ctx.writing() as w:
        with pytest.raises(ValueError):
            w.insert("settings", {"key": "x"}, action="x")
        with pytest.raises(ValueError):
            w.update("audit_log", "whatever", {"action": "x"}, action="x")


def test_problem_step_writes_event_update_outbox_and_audit_together(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    seq = _max_seq(svc)
    world.assign(pid, "2025-03-04")
    ops = _outbox_since(svc, seq)
    # the event, then the cached-state update with the step's one audit entry
    assert [(o["table_name"], o["op"]) for o in ops] == [
        ("problem_events", "insert"), ("problems", "update"), ("audit_log", "insert")]
    assert ops[1]["rev"] == 2 and ops[1]["old"]["status"] == "待交办" and ops[1]["new"]["status"] == "已交办"


def test_step_that_changes_no_field_is_still_audited(svc, world):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    world.assign(pid, "2025-03-04")
    world.step(pid, "进展", "2025-03-05", note="已对接。")  # first 进展: status and first_progress_on change
    seq = _max_seq(svc)
    world.step(pid, "进展", "2025-03-06", note="继续推进。")  # nothing cached changes
    ops = _outbox_since(svc, seq)
    assert [(o["table_name"], o["op"]) for o in ops] == [("problem_events", "insert"), ("audit_log", "insert")]


def test_visit_save_writes_everything_in_one_transaction(svc, world):
    a, b = world.enterprise(), world.enterprise()
    before = table_counts(svc.store)
    world.visit([a, b], kind="座谈会", problems=[
        ProblemInput(enterprise_id=a, category_code="finance", description="续贷困难。"),
        ProblemInput(enterprise_id=b, category_code="labour", description="用工紧张。"),
    ])
    after = table_counts(svc.store)
    assert after["visits"] - before["visits"] == 1
    assert after["visit_enterprises"] - before["visit_enterprises"] == 2
    assert after["visit_cadres"] - before["visit_cadres"] == 1
    assert after["problems"] - before["problems"] == 2
    assert after["problem_events"] - before["problem_events"] == 2
    # every synced row written has exactly one outbox insert
    inserted = sum(after[t] - before[t] for t in ("visits", "visit_enterprises", "visit_cadres", "problems",
                                                   "problem_events", "audit_log"))
    assert after["outbox"] - before["outbox"] == inserted


# ---------------------------------------------------------------- failures leave nothing behind

def _visit_with_two_problems(world, second_description: str = "融资难。") -> VisitInput:
    a, b = world.enterprise(), world.enterprise()
    return VisitInput(kind="座谈会", visit_date="2025-03-03", enterprise_ids=[a, b], cadre_ids=[world.me],
                      summary="召开企业座谈会。", statuses_seen={b: "停产"}, problems=[
                          ProblemInput(enterprise_id=a, category_code="labour", description="用工紧张。"),
                          ProblemInput(enterprise_id=b, category_code="finance", description=second_description),
                      ])


def test_visit_with_invalid_second_problem_saves_nothing(svc, world):
    v = _visit_with_two_problems(world, second_description="   ")
    before, settings = table_counts(svc.store), settings_snapshot(svc.store)
    with pytest.raises(ValidationError) as err:
        svc.visits.create(v)
    assert err.value.field == "description" and "问题2" in err.value.message
    assert table_counts(svc.store) == before
    assert settings_snapshot(svc.store) == settings


def _fail_on_second(monkeypatch, cls, name):
    real = getattr(cls, name)
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, flaky)
    return calls


def test_failure_mid_visit_save_leaves_no_rows(svc, world, monkeypatch):
    v = _visit_with_two_problems(world)
    b = v.enterprise_ids[1]
    before = table_counts(svc.store)
    status_before = svc.enterprises.get(b)["status"]
    _fail_on_second(monkeypatch, ProblemService, "register_with")
    with pytest.raises(RuntimeError):
        svc.visits.create(v)
    after = table_counts(svc.store)
    assert {k: after[k] for k in after if k != "settings"} == {k: before[k] for k in before if k != "settings"}
    assert svc.enterprises.get(b)["status"] == status_before  # the 停产 status seen is rolled back too
    assert svc.store.scalar("SELECT count(*) FROM search_rows WHERE kind = 'visit'") == 0
    assert not svc.store.conn.in_transaction


def test_failure_mid_write_in_writer(svc, world, monkeypatch):
    v = _visit_with_two_problems(world)
    before = table_counts(svc.store)
    real = ChangeWriter._audit
    calls = []

    def flaky(self, *args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(self, *args)

    monkeypatch.setattr(ChangeWriter, "_audit", flaky)
    with pytest.raises(RuntimeError):
        svc.visits.create(v)
    after = table_counts(svc.store)
    assert {k: after[k] for k in after if k != "settings"} == {k: before[k] for k in before if k != "settings"}
    monkeypatch.setattr(ChangeWriter, "_audit", real)
    svc.visits.create(_visit_with_two_problems(world))  # the store is usable afterwards


def test_failed_save_does_not_advance_record_counters(svc, world, monkeypatch):
    v = _visit_with_two_problems(world)
    settings = settings_snapshot(svc.store)
    _fail_on_second(monkeypatch, ProblemService, "register_with")
    with pytest.raises(RuntimeError):
        svc.visits.create(v)
    assert settings_snapshot(svc.store) == settings


def test_failed_step_leaves_problem_unchanged(svc, world, monkeypatch):
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    before = table_counts(svc.store)
    row = dict(svc.store.one("SELECT * FROM problems WHERE id = ?", (pid,)))
    real = ChangeWriter.update

    def broken(self, table, *args, **kwargs):
        if table == "problems":
            raise RuntimeError("boom")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(ChangeWriter, "update", broken)
    with pytest.raises(RuntimeError):
        world.assign(pid, "2025-03-04")
    assert table_counts(svc.store) == before  # the 交办 event written first was rolled back
    assert dict(svc.store.one("SELECT * FROM problems WHERE id = ?", (pid,))) == row


def test_append_only_rows_are_not_copied_into_the_outbox(svc, world):
    """Events and audit entries never change: their outbox operations point at the row (new is NULL)."""
    seq = _max_seq(svc)
    pid = world.problem(world.enterprise(), registered_on="2025-03-03")
    ops = _outbox_since(svc, seq)
    by_table = {}
    for op in ops:
        by_table.setdefault(op["table_name"], []).append(op)
    assert by_table["problems"][0]["new"]["title"]  # an editable row keeps its inserted values
    for table in ("problem_events", "audit_log"):
        assert by_table[table] and all(op["new"] is None for op in by_table[table])
        for op in by_table[table]:  # ...and the row they point at is there
            assert svc.store.scalar(f"SELECT count(*) FROM {table} WHERE id = ?", (op["row_id"],)) == 1
    assert svc.problems.get(pid)


def test_insert_many_writes_what_insert_writes(svc):
    """The roster import's batch path stores the same rows, outbox operations (same order) and audit entries."""
    def records(offset):
        return [{"uscc": make_uscc(offset + i), "name": f"郑州批量{offset + i}有限公司", "unit_id": JINSHUI,
                 "tags": "[]", "status": "在营", **({"address": "金水路"} if i % 2 else {})} for i in range(3)]

    def written(seq, ids):
        ops = [(o["table_name"], o["op"], o["rev"], o["old"],
                {k: v for k, v in (o["new"] or {}).items() if k not in ("id", "updated_at", "uscc", "name")})
               for o in _outbox_since(svc, seq)]
        rows = [{k: v for k, v in dict(svc.store.one("SELECT * FROM enterprises WHERE id = ?", (i,))).items()
                 if k not in ("id", "updated_at", "uscc", "name")} for i in ids]
        audits = [(a["operator"], a["action"], a["before"], sorted(json.loads(a["after"])))
                  for i in ids for a in _audit_of(svc, i)]
        return ops, rows, audits

    seq = _max_seq(svc)
    with svc.ctx.writing() as w:
        one_by_one = [w.insert("enterprises", r, action="导入") for r in records(10)]
    expected = written(seq, one_by_one)
    seq = _max_seq(svc)
    with svc.ctx.writing() as w:
        batch = w.insert_many("enterprises", records(20), action="导入")
    assert written(seq, batch) == expected
    assert len(set(batch)) == 3
