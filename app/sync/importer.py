"""Importing packages: verify everything first, then apply each file in one transaction (DESIGN §5 Import).

Per file: already imported (same bytes) → "已导入过", nothing written. Otherwise read_package() checks the
container, signature, recipient, sizes and hashes; then here: same package id with other content (tampering), the
sender's role and the package kind, the origins it may speak for, every operation's shape, the reference-data
version of a down package, the chain (a fork is refused, a gap is reported). Only then one transaction applies the
operations (app/sync/merge.py), stores acknowledgements and reference data, and records the package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from app.clock import now_utc
from app.errors import AppError, NotFoundError, SyncCancelled, ValidationError
from app.installation import set_setting
from app.sync import intervals
from app.sync.enrollment import REFERENCE_TABLES, trusted_signer
from app.sync.exporter import REFERENCE_VERSION_KEY, record_acknowledgements, reference_version
from app.sync.identity import load_identity_keys
from app.sync.ledger import installation_label
from app.sync.merge import Merger, Schema
from app.sync.package import Package, PackageRejected, read_package

_MB = 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportResult:
    file: str
    status: str  # "imported" | "already" | "rejected"
    message: str
    reason: str | None = None
    package_id: str | None = None
    source_id: str | None = None
    source_label: str | None = None
    applied: int = 0
    skipped: int = 0
    waiting: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def import_files(services, paths: list[Path], *, progress=None) -> list[ImportResult]:
    results = []
    schema = None
    for i, path in enumerate(paths):
        if progress is not None and progress(i, len(paths), f"正在导入 {Path(path).name}…") is False:
            raise SyncCancelled(f"已取消导入：前 {i} 个文件已处理，其余未导入。")
        try:
            schema = schema or Schema(services.store.conn)
            results.append(import_file(services, Path(path), schema))
        except PackageRejected as exc:
            results.append(ImportResult(file=str(path), status="rejected", message=exc.message, reason=exc.reason))
        except sqlite3.DatabaseError as exc:
            # Verified, yet the database refused the result (e.g. a record pointing nowhere): all rolled back.
            log.exception("applying %s failed", path)
            results.append(ImportResult(
                file=str(path), status="rejected", reason="apply_failed",
                message=f"同步文件“{Path(path).name}”被拒绝：其中的记录无法与本机数据合并（{exc}），"
                        "本机数据未作任何改动。请把此文件交给维护人员检查。"))
    if progress is not None:
        progress(len(paths), len(paths), "导入完成")
    return results


def _file_hash(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None  # read_package names the problem


def import_file(services, path: Path, schema: Schema | None = None) -> ImportResult:
    """Import one package; raises PackageRejected (nothing written) when it must be refused."""
    store = services.store
    me = services.installation
    name = path.name

    def reject(reason: str, detail: str) -> PackageRejected:
        return PackageRejected(f"同步文件“{name}”被拒绝：{detail}", reason, file=str(path))

    digest = _file_hash(path)
    done = store.one("SELECT package_id, source, imported_at FROM packages_in WHERE file_sha256 = ?", (digest,))
    if done is not None:
        return ImportResult(file=str(path), status="already", package_id=done["package_id"], source_id=done["source"],
                            source_label=_source_label(services, done["source"]),
                            message=f"{name}：已导入过（{done['imported_at'][:10]}），未作改动")
    try:
        keys = load_identity_keys(store, me.id)
    except AppError as exc:
        raise reject("no_keys", exc.message) from exc
    package = read_package(path, recipient=keys, trusted_signers=trusted_signer(services))
    manifest = package.manifest
    source = manifest["source_installation"]
    if store.scalar("SELECT 1 FROM packages_in WHERE package_id = ?", (package.package_id,)):
        raise reject("same_id_other_content", "已导入过编号相同但内容不同的文件，此文件可能被篡改")
    if manifest.get("recipient_installation", me.id) != me.id:
        raise reject("wrong_recipient", "不是发给本机的同步文件")
    sender = _sender(services, source)
    down = manifest["kind"] == "down"
    if down != (sender == "hub"):
        raise reject("wrong_kind", "文件方向不对：干部端只接受上级汇总端下发的文件，汇总端只接受已登记安装上报的文件"
                     if down else "文件方向不对：上级汇总端发来的应是下发文件")
    schema = schema or Schema(store.conn)
    _check_operations(package, sender, schema, reject)
    acked = manifest.get("acknowledged", {})
    if down:
        if not isinstance(acked, dict) or not all(isinstance(k, str) and intervals.valid(v) for k, v in acked.items()):
            raise reject("bad_manifest", "确认信息格式不对")
        if manifest["reference_version"] is not None and manifest["reference_version"] < reference_version(store):
            raise reject("old_reference", f"基础数据版本 {manifest['reference_version']} 比本机已有的版本 "
                                          f"{reference_version(store)} 旧，可能是重放的旧文件")
    chain = _chain(store, source, manifest["previous_package_sha256"], reject)

    with store.transaction() as conn:
        ops = package.ops
        if down:
            newer = manifest["reference_version"] is not None and manifest["reference_version"] > reference_version(store)
            ops = [op for op in ops if op["table_name"] not in REFERENCE_TABLES or newer]
            if newer:
                set_setting(store, REFERENCE_VERSION_KEY, str(manifest["reference_version"]))
            record_acknowledgements(conn, source, acked)
        merger = Merger(conn, me=me.id, package_id=package.package_id, via=source,
                        relay=me.role == "district" and not down, schema=schema)
        summary = merger.apply(ops, state=down)
        conn.execute("INSERT INTO packages_in (package_id, file_sha256, file_name, source, kind, created_at, imported_at,"
                     " previous_sha256, chain, operations, applied, skipped, waiting, conflicts)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (package.package_id, package.file_sha256, name, source, manifest["kind"], manifest["created_at"],
                      now_utc(), manifest["previous_package_sha256"], chain, len(package.ops), summary.applied,
                      summary.skipped, summary.waiting, summary.conflicts))
    parts = [f"已导入 {summary.applied} 条"]
    if summary.skipped:
        parts.append(f"{summary.skipped} 条此前已有")
    if summary.released:
        parts.append(f"{summary.released} 条等待中的操作已补上")
    if summary.waiting:
        parts.append(f"{summary.waiting} 条等待所需记录")
    if summary.conflicts:
        parts.append(f"{summary.conflicts} 处冲突待处理")
    if chain == "gap":
        parts.append("此前有文件未收到（序列有缺口）")
    return ImportResult(file=str(path), status="imported", message=f"{name}：" + "，".join(parts),
                        package_id=package.package_id, source_id=source, source_label=_source_label(services, source),
                        applied=summary.applied, skipped=summary.skipped, waiting=summary.waiting,
                        conflicts=summary.conflicts)


def _sender(services, source: str) -> str:
    """"hub" (the hub we joined), "station" or "district" (an installation we enrolled)."""
    if services.store.scalar("SELECT 1 FROM trusted_hubs WHERE installation_id = ?", (source,)):
        return "hub"
    return services.store.scalar("SELECT role FROM enrolled_installations WHERE installation_id = ?", (source,))


def _source_label(services, source: str | None) -> str | None:
    return installation_label(services, source) if source else None


def _check_operations(package: Package, sender: str, schema: Schema, reject) -> None:
    source = package.source_installation
    for number, op in enumerate(package.ops, start=1):
        where = f"第 {number} 条操作（{op['table_name']} {op['row_id'][:40]}）"
        if sender != "district" and op["origin"] != source:
            raise reject("foreign_origin", f"{where}来自其他安装，此发送方无权代发")
        if sender == "hub" and (op["op"] != "insert" or op["table_name"] not in (*REFERENCE_TABLES, "problem_events")):
            raise reject("bad_operation", f"{where}不是下发文件可以包含的内容")
        problem = schema.shape_problem(op)
        if problem:
            raise reject("bad_record", f"{where}格式不对：{problem}")


def _chain(store, source: str, previous: str | None, reject) -> str:
    """'first', 'ok' or 'gap'; a fork (another package already claimed the same predecessor) is refused."""
    if store.scalar("SELECT 1 FROM packages_in WHERE source = ? AND previous_sha256 IS ?", (source, previous)):
        raise reject("fork", "与已导入的文件分叉（两个文件声称接在同一个文件之后），可能是从旧备份恢复后导出的或被篡改")
    if previous is None:
        return "first"
    known = store.scalar("SELECT 1 FROM packages_in WHERE source = ? AND file_sha256 = ?", (source, previous))
    return "ok" if known else "gap"


# ---------------------------------------------------------------- conflicts a person decides

def resolve_conflict(services, conflict_id: int, keep: str) -> None:
    if keep not in ("current", "other"):
        raise ValidationError("请选择保留当前值或改用另一值。", field="keep")
    row = services.store.one("SELECT * FROM sync_conflicts WHERE id = ?", (conflict_id,))
    if row is None:
        raise NotFoundError(f"冲突记录 {conflict_id} 不存在。")
    if row["resolved_at"]:
        raise ValidationError("这条冲突已经处理过了。", field="keep")
    with services.ctx.writing() as w:
        if keep == "other":
            value = json.loads(row["other_value"]) if row["other_value"] is not None else None
            if row["field"] == "deleted":
                w.restore(row["table_name"], row["row_id"], action="同步冲突：恢复被删除的记录")
            else:
                w.update(row["table_name"], row["row_id"], {row["field"]: value}, action="同步冲突：改用另一值")
            if row["table_name"] in ("enterprises", "visits", "problems"):
                from app.textsearch import SEARCH_KINDS, reindex_stored

                reindex_stored(w.conn, SEARCH_KINDS[row["table_name"]], row["row_id"])
        w.conn.execute("UPDATE sync_conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
                       (now_utc(), services.installation.operator, keep, conflict_id))
