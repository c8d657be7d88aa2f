"""Enrollment (DESIGN §5 Trust): hub invite → station join (request) → hub enroll after comparing fingerprints.

Files (UTF-8 JSON, signed but not encrypted: their content is public):

    {"document": {...}, "signature": base64(Ed25519 signature of canonical_json(document))}

* invite ``*.zqinvite`` — document {format: "zhuqi-invite", version: 1, hub: {installation_id, role, unit_id,
  unit_name, signing_public, encryption_public}, created_at, reference: {units, vocabulary,
  deadline_templates}}, signed by the hub.
* enrollment request ``*.zqjoin`` — document {format: "zhuqi-join", version: 1, installation: {id, role,
  unit_id, unit_name, operator, signing_public, encryption_public}, hub_id, created_at}, signed by the joiner.

A self-signature proves only that the file is intact; authenticity comes from the operators comparing the
signing-key fingerprints out of band (the hub's when joining, the station's when enrolling). Public keys are
base64 of the raw 32 bytes. The tables written here are local trust state: not synced, no outbox.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from app.clock import now_utc
from app.errors import AppError, NotFoundError, ValidationError
from app.files import FileWriteError, write_file_atomic
from app.installation import ROLES, get_setting, set_setting
from app.sync.identity import load_identity_keys
from app.sync.keys import PUBLIC_KEY_SIZE, fingerprint, verify_signature
from app.sync.package import canonical_json

INVITE_FORMAT, INVITE_SUFFIX = "zhuqi-invite", ".zqinvite"
JOIN_FORMAT, JOIN_SUFFIX = "zhuqi-join", ".zqjoin"
VERSION = 1
HUB_ROLES = ("district", "city")
# Who may report to whom: a station to a district or the city, a district hub to the city.
ACCEPTS = {"district": ("station",), "city": ("station", "district")}
MAX_INVITE = 32 * 1024 * 1024
MAX_REQUEST = 64 * 1024
SIG_SIZE = 64
REFERENCE_TABLES = ("units", "vocabulary", "deadline_templates")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


class EnrollmentError(AppError):
    """An invite or enrollment request is damaged, forged, not for us, or conflicts with what we trust."""


# ---------------------------------------------------------------- file envelope

def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode("ascii")


def _unb64(value, size: int) -> bytes | None:
    if not isinstance(value, str) or len(value) > 200:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def _write_signed(path: Path, document: dict, keys) -> Path:
    signature = keys.sign(canonical_json(document))
    data = json.dumps({"document": document, "signature": _b64(signature)}, ensure_ascii=False, sort_keys=True,
                      indent=1).encode("utf-8")
    try:
        return write_file_atomic(path, data)
    except FileWriteError as exc:
        raise EnrollmentError(exc.message, file=str(path)) from exc


def _read_signed(path: Path, *, what: str, max_size: int) -> tuple[dict, bytes]:
    """(document, signature) of a signed file, parsed within `max_size`; signature not yet checked."""
    path = Path(path)
    bad = f"{what} {path.name} 已损坏或不是{what}"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_size + 1)
    except FileNotFoundError as exc:
        raise EnrollmentError(f"{what}不存在：{path}", file=str(path)) from exc
    except OSError as exc:
        raise EnrollmentError(f"无法读取{what} {path}：{exc.strerror or exc}", file=str(path)) from exc
    if len(raw) > max_size:
        raise EnrollmentError(f"{bad}（文件过大）。", file=str(path))
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise EnrollmentError(f"{bad}（内容无法解析，可能被改动）。", file=str(path)) from exc
    if not isinstance(envelope, dict) or set(envelope) != {"document", "signature"} \
            or not isinstance(envelope["document"], dict):
        raise EnrollmentError(f"{bad}。", file=str(path))
    signature = _unb64(envelope["signature"], SIG_SIZE)
    if signature is None:
        raise EnrollmentError(f"{bad}（签名格式不对）。", file=str(path))
    return envelope["document"], signature


def _check_signature(path: Path, document: dict, signature: bytes, public: bytes, what: str) -> None:
    try:
        signed = canonical_json(document)
    except (ValueError, TypeError) as exc:
        raise EnrollmentError(f"{what} {Path(path).name} 已损坏。", file=str(path)) from exc
    if not verify_signature(public, signature, signed):
        raise EnrollmentError(f"{what} {Path(path).name} 的签名不符：文件在签名后被改动过或是伪造的，已拒绝。",
                              file=str(path))


def _text(value, limit: int = 200, *, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and 0 < len(value) <= limit


def _party_problem(party, id_key: str) -> str | None:
    """Why an invite's hub / a request's installation block is malformed (None when it is fine)."""
    if not isinstance(party, dict):
        return "缺少身份信息"
    if not (isinstance(party.get(id_key), str) and _ID.match(party[id_key])):
        return "安装标识无效"
    if party.get("role") not in ROLES:
        return "角色无效"
    if not _text(party.get("unit_id"), 64) or not _text(party.get("unit_name"), optional=True):
        return "单位无效"
    if _unb64(party.get("signing_public"), PUBLIC_KEY_SIZE) is None \
            or _unb64(party.get("encryption_public"), PUBLIC_KEY_SIZE) is None:
        return "公钥无效"
    return None


# ---------------------------------------------------------------- helpers on our side

def _me(services):
    return services.installation


def _unit_name(services, unit_id: str | None) -> str | None:
    if not unit_id:
        return None
    return services.store.scalar("SELECT name FROM units WHERE id = ?", (unit_id,))


def _out_file(out_path: Path, stem: str, suffix: str) -> Path:
    out_path = Path(out_path)
    if out_path.is_dir():
        return out_path / f"{stem}{suffix}"
    if not out_path.parent.exists():
        raise EnrollmentError(f"输出文件夹不存在：{out_path.parent}", file=str(out_path))
    return out_path


def _stem(unit_name: str | None, installation_id: str) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "", unit_name or "") or "unit"
    return f"{safe}-{installation_id.replace('-', '')[-8:]}"


def _reference_rows(services) -> dict[str, list[dict]]:
    out = {}
    for table in REFERENCE_TABLES:
        rows = services.store.query(f"SELECT * FROM {table} WHERE deleted = 0 ORDER BY id")  # noqa: S608 - fixed names
        out[table] = [dict(r) for r in rows]
    return out


# ---------------------------------------------------------------- invite (hub)

def make_invite(services, out_path: Path) -> Path:
    """Write this hub's signed invite (its public keys and reference data); returns the file written."""
    me = _me(services)
    if me.role not in HUB_ROLES:
        raise ValidationError("只有汇总端可以生成邀请文件（本机是干部端）。", field="role")
    keys = load_identity_keys(services.store, me.id)
    unit_name = _unit_name(services, me.unit_id)
    document = {
        "format": INVITE_FORMAT,
        "version": VERSION,
        "hub": {"installation_id": me.id, "role": me.role, "unit_id": me.unit_id, "unit_name": unit_name,
                "signing_public": _b64(keys.signing_public), "encryption_public": _b64(keys.encryption_public)},
        "created_at": now_utc(),
        "reference": _reference_rows(services),
        "reference_version": int(get_setting(services.store, "reference.version") or 1),
    }
    path = _out_file(out_path, _stem(unit_name, me.id), INVITE_SUFFIX)
    return _write_signed(path, document, keys)


def read_invite(invite_path: Path) -> dict:
    """The verified invite document (self-signature and shape checked); EnrollmentError otherwise."""
    path = Path(invite_path)
    document, signature = _read_signed(path, what="邀请文件", max_size=MAX_INVITE)
    name = path.name
    if document.get("format") != INVITE_FORMAT:
        raise EnrollmentError(f"{name} 不是汇总端的邀请文件。", file=str(path))
    if document.get("version") != VERSION:
        raise EnrollmentError(f"邀请文件 {name} 的版本（{document.get('version')}）本程序不支持，请升级程序。",
                              file=str(path))
    hub = document.get("hub")
    problem = _party_problem(hub, "installation_id")
    if problem:
        raise EnrollmentError(f"邀请文件 {name} 已损坏（{problem}）。", file=str(path))
    _check_signature(path, document, signature, _unb64(hub["signing_public"], PUBLIC_KEY_SIZE), "邀请文件")
    if hub["role"] not in HUB_ROLES:
        raise EnrollmentError(f"邀请文件 {name} 不是汇总端生成的。", file=str(path))
    reference = document.get("reference")
    if not isinstance(reference, dict) or not all(isinstance(reference.get(t), list) for t in REFERENCE_TABLES) \
            or not _text(document.get("created_at"), 64):
        raise EnrollmentError(f"邀请文件 {name} 已损坏（内容不完整）。", file=str(path))
    version = document.get("reference_version", 1)
    if type(version) is not int or version < 1:
        raise EnrollmentError(f"邀请文件 {name} 已损坏（基础数据版本无效）。", file=str(path))
    return document


def describe_invite(invite_path: Path) -> dict:
    """The verified invite with the hub's signing fingerprint, for the operator to compare before joining."""
    document = read_invite(invite_path)
    hub = document["hub"]
    return {"hub": {k: hub.get(k) for k in ("installation_id", "role", "unit_id", "unit_name")},
            "role_label": ROLES[hub["role"]], "created_at": document["created_at"],
            "signing_fingerprint": fingerprint(_unb64(hub["signing_public"], PUBLIC_KEY_SIZE)),
            "reference_version": document.get("reference_version", 1)}


def _load_reference(services, document: dict) -> None:
    """Take the hub's reference data (units, categories, departments, deadline templates) as ours: ids are shared,
    so problems assigned to a city department name the same row everywhere. Local trust-free bookkeeping: no
    outbox (every installation gets the same rows from the hub)."""
    conn = services.store.conn
    version = document.get("reference_version", 1)
    if version < int(get_setting(services.store, "reference.version") or 1):
        return
    for table in REFERENCE_TABLES:
        cols = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for row in document["reference"][table]:
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                continue
            values = {k: v for k, v in row.items() if k in cols and (v is None or isinstance(v, (str, int, float)))}
            names = list(values)
            try:
                conn.execute(f"INSERT INTO {table} ({','.join(names)}) VALUES ({','.join('?' * len(names))})"
                             f" ON CONFLICT(id) DO UPDATE SET {','.join(f'{n} = excluded.{n}' for n in names)}",
                             tuple(values.values()))
            except sqlite3.IntegrityError:
                continue  # e.g. a department this station added itself under the same name: keep ours
    set_setting(services.store, "reference.version", str(version))


# ---------------------------------------------------------------- join (station, or a district joining the city)

def join(services, invite_path: Path, out_path: Path) -> tuple[Path, str]:
    """Trust the hub of a verified invite and write our signed enrollment request.

    Returns (request file, hub signing-key fingerprint); the operator must compare the fingerprint with the one
    the hub shows (`sync identity` on the hub) before sending the request.
    """
    me = _me(services)
    if me.role == "city":
        raise ValidationError("市级汇总端不加入其他汇总端。", field="role")
    document = read_invite(invite_path)
    hub = document["hub"]
    name = Path(invite_path).name
    if me.role not in ACCEPTS[hub["role"]]:
        raise EnrollmentError(f"邀请文件 {name} 来自{ROLES[hub['role']]}，{ROLES[me.role]}不能加入。",
                              file=str(invite_path))
    if hub["installation_id"] == me.id:
        raise EnrollmentError(f"邀请文件 {name} 是本机生成的，不能加入自己。", file=str(invite_path))
    keys = load_identity_keys(services.store, me.id)
    signing = _unb64(hub["signing_public"], PUBLIC_KEY_SIZE)
    encryption = _unb64(hub["encryption_public"], PUBLIC_KEY_SIZE)
    unit_name = _unit_name(services, me.unit_id)
    request = {
        "format": JOIN_FORMAT,
        "version": VERSION,
        "installation": {"id": me.id, "role": me.role, "unit_id": me.unit_id, "unit_name": unit_name,
                         "operator": me.operator, "signing_public": _b64(keys.signing_public),
                         "encryption_public": _b64(keys.encryption_public)},
        "hub_id": hub["installation_id"],
        "created_at": now_utc(),
    }
    out_file = _out_file(out_path, _stem(unit_name, me.id), JOIN_SUFFIX)
    with services.store.transaction():
        known = services.store.one("SELECT signing_public, encryption_public FROM trusted_hubs "
                                   "WHERE installation_id = ?", (hub["installation_id"],))
        if known is not None and (bytes(known[0]), bytes(known[1])) != (signing, encryption):
            raise EnrollmentError(f"邀请文件 {name} 中的汇总端已用其他密钥加入过，可能是冒用，已拒绝。",
                                  file=str(invite_path))
        services.store.conn.execute(
            "INSERT INTO trusted_hubs (installation_id, role, unit_id, signing_public, encryption_public, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(installation_id) DO UPDATE SET role = excluded.role,"
            " unit_id = excluded.unit_id",
            (hub["installation_id"], hub["role"], hub["unit_id"], signing, encryption, now_utc()))
        _load_reference(services, document)
        # Written inside the transaction: a failed write leaves no trusted hub behind either.
        _write_signed(out_file, request, keys)
    return out_file, fingerprint(signing)


# ---------------------------------------------------------------- enroll (hub)

def read_request(services, request_path: Path) -> dict:
    """The verified enrollment request plus the joiner's `signing_fingerprint` for the operator to confirm."""
    me = _me(services)
    if me.role not in HUB_ROLES:
        raise ValidationError("只有汇总端可以登记其他安装。", field="role")
    path = Path(request_path)
    name = path.name
    document, signature = _read_signed(path, what="登记申请文件", max_size=MAX_REQUEST)
    if document.get("format") != JOIN_FORMAT:
        raise EnrollmentError(f"{name} 不是登记申请文件。", file=str(path))
    if document.get("version") != VERSION:
        raise EnrollmentError(f"登记申请文件 {name} 的版本（{document.get('version')}）本程序不支持，请升级程序。",
                              file=str(path))
    inst = document.get("installation")
    problem = _party_problem(inst, "id") or (
        None if _text(inst.get("operator"), optional=True) and _text(document.get("created_at"), 64)
        and isinstance(document.get("hub_id"), str) else "内容不完整")
    if problem:
        raise EnrollmentError(f"登记申请文件 {name} 已损坏（{problem}）。", file=str(path))
    _check_signature(path, document, signature, _unb64(inst["signing_public"], PUBLIC_KEY_SIZE), "登记申请文件")
    if document["hub_id"] != me.id:
        raise EnrollmentError(f"登记申请文件 {name} 是发给另一个汇总端（{document['hub_id']}）的，不是本机，已拒绝。",
                              file=str(path))
    _check_role(me.role, inst, path)
    result = dict(document)
    result["signing_fingerprint"] = fingerprint(_unb64(inst["signing_public"], PUBLIC_KEY_SIZE))
    result["encryption_fingerprint"] = fingerprint(_unb64(inst["encryption_public"], PUBLIC_KEY_SIZE))
    return result


def _check_role(hub_role: str, inst: dict, path: Path | None = None) -> None:
    if inst["role"] not in ACCEPTS.get(hub_role, ()):
        raise EnrollmentError(f"{ROLES[hub_role]}不能登记{ROLES.get(inst['role'], inst['role'])}。",
                              file=None if path is None else str(path))


def enroll(services, request: dict) -> str:
    """Accept the installation of a request from `read_request` (after the operator confirmed the fingerprint).

    Returns "enrolled", "already" (same keys, nothing changed: 已登记过) or "restored" (same keys, was revoked).
    The same installation id with different keys is refused (可能是冒用).
    """
    me = _me(services)
    if me.role not in HUB_ROLES:
        raise ValidationError("只有汇总端可以登记其他安装。", field="role")
    inst = request.get("installation") if isinstance(request, dict) else None
    if _party_problem(inst, "id") or request.get("hub_id") != me.id:
        raise EnrollmentError("登记申请无效或不是发给本机的。")
    _check_role(me.role, inst)
    if inst["id"] == me.id:
        raise EnrollmentError("不能登记本机自己。")
    signing = _unb64(inst["signing_public"], PUBLIC_KEY_SIZE)
    encryption = _unb64(inst["encryption_public"], PUBLIC_KEY_SIZE)
    with services.store.transaction():
        known = services.store.one("SELECT signing_public, encryption_public, revoked_at FROM enrolled_installations"
                                   " WHERE installation_id = ?", (inst["id"],))
        if known is not None:
            if (bytes(known[0]), bytes(known[1])) != (signing, encryption):
                raise EnrollmentError(f"该安装（{inst['id']}）已用其他密钥登记，可能是冒用，已拒绝。")
            if known[2] is None:
                return "already"
            services.store.conn.execute(
                "UPDATE enrolled_installations SET revoked_at = NULL, enrolled_at = ?, enrolled_by = ?"
                " WHERE installation_id = ?", (now_utc(), me.operator, inst["id"]))
            return "restored"
        services.store.conn.execute(
            "INSERT INTO enrolled_installations (installation_id, role, unit_id, operator, signing_public,"
            " encryption_public, enrolled_at, enrolled_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (inst["id"], inst["role"], inst["unit_id"], inst.get("operator"), signing, encryption, now_utc(),
             me.operator))
    return "enrolled"


def list_enrolled(services) -> list[dict]:
    rows = services.store.query("SELECT * FROM enrolled_installations ORDER BY enrolled_at, installation_id")
    out = []
    for r in rows:
        out.append({
            "installation_id": r["installation_id"], "role": r["role"],
            "role_label": ROLES.get(r["role"], r["role"]), "unit_id": r["unit_id"],
            "unit": _unit_name(services, r["unit_id"]), "operator": r["operator"],
            "signing_fingerprint": fingerprint(bytes(r["signing_public"])),
            "encryption_fingerprint": fingerprint(bytes(r["encryption_public"])),
            "enrolled_at": r["enrolled_at"], "enrolled_by": r["enrolled_by"], "revoked_at": r["revoked_at"],
            "note": r["note"],
        })
    return out


def revoke(services, installation_id: str, note: str = "") -> bool:
    """Stop accepting packages from an enrolled installation; True when revoked now, False if it already was."""
    with services.store.transaction():
        row = services.store.one("SELECT revoked_at FROM enrolled_installations WHERE installation_id = ?",
                                 (installation_id,))
        if row is None:
            raise NotFoundError(f"没有登记过安装标识为 {installation_id} 的安装。")
        if row[0] is not None:
            return False
        services.store.conn.execute(
            "UPDATE enrolled_installations SET revoked_at = ?, note = ? WHERE installation_id = ?",
            (now_utc(), note or None, installation_id))
    return True


def trusted_signer(services) -> Callable[[str], bytes | None]:
    """For read_package: the raw Ed25519 key of an enrolled, unrevoked installation, or of a hub we joined."""
    store = services.store

    def lookup(installation_id: str) -> bytes | None:
        key = store.scalar("SELECT signing_public FROM enrolled_installations WHERE installation_id = ?"
                           " AND revoked_at IS NULL", (installation_id,))
        if key is None:
            key = store.scalar("SELECT signing_public FROM trusted_hubs WHERE installation_id = ?",
                               (installation_id,))
        return None if key is None else bytes(key)

    return lookup
