"""Writing packages: up to our hub (every operation it has not acknowledged), down to an enrolled installation
(acknowledgements, reference data, and what was decided here about its problems).

Up: our own outbox plus, on a district hub, the operations it relays for its stations (origin kept). Anything the
hub has acknowledged (sync_acks, from its down packages) is left out unless `full`; so a lost USB stick costs
nothing — the next export carries the same operations again.

Down: "state" operations (origin = this hub, seq = position): the reference rows with our reference version, and
the problem events made above the recipient on problems that came from it (origin, or relayed through it). The
manifest's `acknowledged` field lists, per origin, the operation intervals we hold — the recipient stops resending
them. Each recipient's packages form a chain through `previous_package_sha256`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from app.clock import now_utc
from app.errors import SyncCancelled, ValidationError
from app.installation import ROLES, get_setting, set_setting
from app.sync import intervals
from app.sync.enrollment import REFERENCE_TABLES
from app.sync.identity import load_identity_keys
from app.sync.package import write_package
from db.changes import APPEND_ONLY

REFERENCE_VERSION_KEY = "reference.version"
_PREVIOUS_KEY = "sync.previous_package.{}"
_BATCH = 2000


@dataclass(frozen=True)
class ExportResult:
    path: Path
    package_id: str
    kind: str
    recipient_id: str
    recipient_label: str
    operations: int
    counts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"path": str(self.path), "package_id": self.package_id, "kind": self.kind,
                "recipient_id": self.recipient_id, "recipient_label": self.recipient_label,
                "operations": self.operations, "counts": self.counts}


def reference_version(store) -> int:
    return int(get_setting(store, REFERENCE_VERSION_KEY) or 1)


def _label(services, role: str | None, unit_id: str | None) -> str:
    unit = services.store.scalar("SELECT name FROM units WHERE id = ?", (unit_id,)) if unit_id else None
    return f"{unit or unit_id or '未知单位'} {ROLES.get(role, role or '')}".strip()


def _hub(services) -> dict | None:
    row = services.store.one("SELECT * FROM trusted_hubs ORDER BY joined_at DESC LIMIT 1")
    return None if row is None else dict(row)


def _enrolled(services) -> list[dict]:
    return [dict(r) for r in services.store.query(
        "SELECT * FROM enrolled_installations WHERE revoked_at IS NULL ORDER BY enrolled_at, installation_id")]


def recipients(services) -> list[dict]:
    out = []
    hub = _hub(services)
    if hub is not None:
        out.append({"installation_id": hub["installation_id"], "kind": "up",
                    "label": f"上报：{_label(services, hub['role'], hub['unit_id'])}"})
    for r in _enrolled(services):
        out.append({"installation_id": r["installation_id"], "kind": "down",
                    "label": f"下发：{_label(services, r['role'], r['unit_id'])}"})
    return out


def export(services, out_dir: Path, *, to: str | None = None, full: bool = False, progress=None) -> list[ExportResult]:
    if not Path(out_dir).is_dir():
        raise ValidationError(f"文件夹不存在：{out_dir}", field="out")
    me = services.installation
    hub = _hub(services)
    enrolled = {r["installation_id"]: r for r in _enrolled(services)}
    if to is None:
        if hub is not None:
            return [_export_up(services, Path(out_dir), hub, full, progress)]
        if enrolled:
            to = "all"
        elif me.role == "station":
            raise ValidationError("本机尚未加入汇总端：请先在“数据同步”中用汇总端的邀请文件加入"
                                  "（或运行 sync join），再导出。", field="to")
        else:
            raise ValidationError("本机还没有可以发送的对象：尚未加入上级汇总端，也没有登记任何下级安装。", field="to")
    if hub is not None and to == hub["installation_id"]:
        return [_export_up(services, Path(out_dir), hub, full, progress)]
    targets = list(enrolled.values()) if to == "all" else [enrolled.get(to)]
    if not targets or targets[0] is None:
        raise ValidationError(f"没有找到接收方 {to}：它不是本机的上级汇总端，也不是已登记（未撤销）的安装。", field="to")
    return [_export_down(services, Path(out_dir), target, progress) for target in targets]


# ---------------------------------------------------------------- up

def acknowledged(services, hub_id: str) -> dict[str, list[list[int]]]:
    return {o: json.loads(r) for o, r in services.store.query(
        "SELECT origin, ranges FROM sync_acks WHERE hub = ?", (hub_id,))}


def _outbox_ops(services, acks: dict, full: bool):
    """Own operations (outbox) not acknowledged: sorted by seq; append-only rows read from their tables."""
    conn = services.store.conn
    me = services.installation.id
    start = 0 if full else intervals.prefix_end(acks.get(me, []))
    ranges = acks.get(me, [])
    rows = conn.execute("SELECT seq, origin, table_name, row_id, op, rev, at, old, new FROM outbox WHERE seq > ?"
                        " ORDER BY seq", (start,))
    while batch := rows.fetchmany(_BATCH):
        ops = [_op(r) for r in batch if full or not intervals.contains(ranges, r["seq"])]
        _fill_append_only(conn, ops)
        yield from ops


def _relay_ops(services, acks: dict, full: bool):
    conn = services.store.conn
    rows = conn.execute("SELECT origin, seq, table_name, row_id, op, rev, at, old, new FROM relay_ops"
                        " ORDER BY origin, seq")
    while batch := rows.fetchmany(_BATCH):
        ops = [_op(r) for r in batch if full or not intervals.contains(acks.get(r["origin"], []), r["seq"])]
        _fill_append_only(conn, ops)
        yield from ops


def _op(r) -> dict:
    return {"origin": r["origin"], "seq": r["seq"], "table_name": r["table_name"], "row_id": r["row_id"],
            "op": r["op"], "rev": r["rev"], "at": r["at"],
            "old": None if r["old"] is None else json.loads(r["old"]),
            "new": None if r["new"] is None else json.loads(r["new"])}


def _fill_append_only(conn, ops: list[dict]) -> None:
    """Append-only inserts point at their row (new = NULL in the outbox): the row is the payload."""
    need: dict[str, list[dict]] = {}
    for op in ops:
        if op["new"] is None and op["table_name"] in APPEND_ONLY:
            need.setdefault(op["table_name"], []).append(op)
    for table, group in need.items():
        for start in range(0, len(group), 500):
            chunk = group[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found = {r["id"]: dict(r) for r in conn.execute(
                f"SELECT * FROM {table} WHERE id IN ({marks})", [op["row_id"] for op in chunk])}
            for op in chunk:
                op["new"] = found[op["row_id"]]


def _export_up(services, out_dir: Path, hub: dict, full: bool, progress) -> ExportResult:
    acks = acknowledged(services, hub["installation_id"])
    total = services.store.scalar("SELECT count(*) FROM outbox") + services.store.scalar(
        "SELECT count(*) FROM relay_ops")
    ops = []
    for op in itertools.chain(_outbox_ops(services, acks, full), _relay_ops(services, acks, full)):
        ops.append(op)
        if len(ops) % 5000 == 0 and progress is not None and progress(len(ops), total, "正在收集要导出的修改…") is False:
            raise SyncCancelled("已取消导出，未生成同步文件。")
    return _write(services, out_dir, ops, kind="up", recipient_id=hub["installation_id"],
                  recipient_public=bytes(hub["encryption_public"]),
                  label=_label(services, hub["role"], hub["unit_id"]), full=full, progress=progress)


# ---------------------------------------------------------------- down

def _subtree(services, recipient: str) -> list[str]:
    """The recipient and every installation whose operations reached us through it."""
    return [recipient, *[r[0] for r in services.store.query(
        "SELECT origin FROM sync_seen WHERE via = ? AND origin != ?", (recipient, recipient))]]


def _export_down(services, out_dir: Path, target: dict, progress) -> ExportResult:
    conn = services.store.conn
    rid = target["installation_id"]
    origins = _subtree(services, rid)
    marks = ",".join("?" * len(origins))
    me = services.installation.id
    ops: list[dict] = []

    def state_op(table: str, row: dict) -> None:
        ops.append({"origin": me, "seq": len(ops) + 1, "table_name": table, "row_id": row["id"], "op": "insert",
                    "rev": row["rev"], "at": row["updated_at"], "old": None, "new": row})

    for table in REFERENCE_TABLES:
        for r in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            state_op(table, dict(r))
    # Decisions made above the recipient on its problems: the events (append-only) are enough, the recipient
    # folds them into the problem's status.
    for r in conn.execute(
            f"SELECT e.* FROM problem_events e JOIN problems p ON p.id = e.problem_id WHERE p.origin IN ({marks})"
            f" AND e.origin NOT IN ({marks}) ORDER BY e.id", (*origins, *origins)):
        state_op("problem_events", dict(r))
    acked = {o: json.loads(r) for o, r in conn.execute(
        f"SELECT origin, ranges FROM sync_seen WHERE origin IN ({marks})", origins)}
    return _write(services, out_dir, ops, kind="down", recipient_id=rid,
                  recipient_public=bytes(target["encryption_public"]),
                  label=_label(services, target["role"], target["unit_id"]), full=False, progress=progress,
                  extra={"acknowledged": acked})


# ---------------------------------------------------------------- writing and the ledger

def _write(services, out_dir: Path, ops: list[dict], *, kind: str, recipient_id: str, recipient_public: bytes,
           label: str, full: bool, progress, extra: dict | None = None) -> ExportResult:
    store = services.store
    me = services.installation
    keys = load_identity_keys(store, me.id)
    if progress is not None and progress(len(ops), len(ops), "正在加密并写入同步文件…") is False:
        raise SyncCancelled("已取消导出，未生成同步文件。")
    previous_key = _PREVIOUS_KEY.format(recipient_id)
    previous = get_setting(store, previous_key)
    fields = {"kind": kind, "source_unit": me.unit_id, "previous_package_sha256": previous,
              "reference_version": reference_version(store), "recipient_installation": recipient_id,
              **(extra or {})}
    ranges: dict[str, list[list[int]]] = {}
    for op in ops:
        intervals.add(ranges.setdefault(op["origin"], []), op["seq"])
    written: dict = {}

    def record(path: Path, manifest: dict, file_sha256: str) -> None:
        # Before the file gets its name: a finished package the ledger does not know would let the next one
        # claim the same predecessor, and the hub refuses such a fork. A kill after this commit but before
        # the rename costs only a missing file, which the hub sees as a gap and the next package repairs.
        with store.transaction() as conn:
            conn.execute("INSERT INTO packages_out (package_id, file_name, file_sha256, recipient, kind, created_at,"
                         " ranges, counts, operations, full) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (manifest["package_id"], path.name, file_sha256, recipient_id, kind,
                          manifest["created_at"], json.dumps(ranges), json.dumps(manifest["counts"]), len(ops),
                          int(full)))
            set_setting(store, previous_key, file_sha256)
        written.update(manifest)

    try:
        path = write_package(out_dir, ops=ops, manifest_fields=fields, sender=keys,
                             recipient_public_x25519=recipient_public, before_publish=record)
    except BaseException:
        if written:  # recorded, but the file could not be given its name: take the record back
            with store.transaction() as conn:
                conn.execute("DELETE FROM packages_out WHERE package_id = ?", (written["package_id"],))
                set_setting(store, previous_key, previous)
        raise
    manifest = written
    return ExportResult(path=path, package_id=manifest["package_id"], kind=kind, recipient_id=recipient_id,
                        recipient_label=label, operations=len(ops), counts=dict(manifest["counts"]))


def record_acknowledgements(conn, hub_id: str, acked: dict) -> None:
    """Store what the hub holds (from its down package) and mark sent packages it fully covers."""
    at = now_utc()
    for origin, ranges in acked.items():
        row = conn.execute("SELECT ranges FROM sync_acks WHERE hub = ? AND origin = ?", (hub_id, origin)).fetchone()
        merged = intervals.union(json.loads(row[0]) if row else [], ranges)
        conn.execute("INSERT OR REPLACE INTO sync_acks (hub, origin, ranges, at) VALUES (?,?,?,?)",
                     (hub_id, origin, json.dumps(merged), at))
    acks = {o: json.loads(r) for o, r in conn.execute("SELECT origin, ranges FROM sync_acks WHERE hub = ?",
                                                      (hub_id,))}
    for pid, ranges in conn.execute("SELECT package_id, ranges FROM packages_out WHERE recipient = ? AND"
                                    " acknowledged_at IS NULL", (hub_id,)).fetchall():
        sent = json.loads(ranges)
        if all(intervals.covers(acks.get(o, []), first, last) for o, rs in sent.items() for first, last in rs):
            conn.execute("UPDATE packages_out SET acknowledged_at = ? WHERE package_id = ?", (at, pid))
