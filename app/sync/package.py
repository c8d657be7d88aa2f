"""The *.zqpkg sync package (DESIGN §5): write, read and verify one signed, encrypted file.

File layout (all integers big-endian):

    MAGIC  b"ZQPKG\\x00"                      6 bytes
    format version                           1 byte   (FORMAT_VERSION)
    manifest length N                        4 bytes  (<= Limits.max_manifest)
    manifest                                 N bytes  canonical JSON, UTF-8 (public: counts and ids only)
    signature length S                       2 bytes  (always 64)
    Ed25519 signature of MAGIC + version + manifest   S bytes
    body                                     manifest.body.ciphertext_size bytes, nothing after it:
        nonce (12) + ChaCha20-Poly1305(key, nonce, zlib(JSON Lines), aad=manifest) incl. 16-byte tag

key = HKDF-SHA256(X25519(ephemeral private, recipient public), salt=UUID bytes of package_id,
info=b"zhuqi-package-v1"); the ephemeral public key is in the manifest. The manifest carries the plaintext's
size and SHA-256, so the signature binds the sender to the content; the AEAD's associated data binds the body
to this manifest. JSON Lines: one operation per line (canonical JSON, "\\n" after each), sorted by (origin, seq).

read_package() verifies everything before returning anything and raises PackageRejected (Chinese message
naming the file, plus a `reason` code for programs) on the first failure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.clock import SHANGHAI, now_utc
from app.errors import AppError
from app.files import FileWriteError, publish_file, write_temp_file
from app.ids import uuid7
from app.sync.keys import PUBLIC_KEY_SIZE, InstallationKeys, fingerprint, verify_signature
from db.changes import SYNCED_TABLES

MAGIC = b"ZQPKG\x00"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})
READER_VERSION = 1  # packages whose min_reader_version is above this are refused
FORMAT_NAME = "zhuqi-sync-package"
SUFFIX = ".zqpkg"
ALGORITHMS = {"sign": "Ed25519", "kem": "X25519", "kdf": "HKDF-SHA256", "aead": "ChaCha20-Poly1305"}
HKDF_INFO = b"zhuqi-package-v1"
NONCE_SIZE, TAG_SIZE, SIG_SIZE = 12, 16, 64
KINDS = ("up", "down")
OP_FIELDS = ("origin", "seq", "table_name", "row_id", "op", "rev", "at", "old", "new")
OP_KINDS = ("insert", "update", "delete")
_HEAD = struct.Struct(">6sBI")  # magic, version, manifest length
_SIGLEN = struct.Struct(">H")
_MB = 1024 * 1024
_OUT_CHUNK = 4 * _MB  # decompressor output per step
_IN_CHUNK = 256 * 1024  # compressed input per step (keeps unconsumed_tail copies small)
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_FINGERPRINT = re.compile(r"[0-9a-f]{4}(?:-[0-9a-f]{4}){3}\Z")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9-]+")
# Record ids: UUIDs and reference codes such as "cadre_rank:一般干部" — never anything path-like.
_ROW_ID = re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,127}\Z")


@dataclass(frozen=True)
class Limits:
    max_file: int = 512 * _MB
    max_manifest: int = 1 * _MB
    max_plaintext: int = 2048 * _MB


@dataclass(frozen=True)
class Package:
    path: Path
    manifest: dict
    ops: list[dict]
    file_sha256: str

    @property
    def package_id(self) -> str:
        return self.manifest["package_id"]

    @property
    def source_installation(self) -> str:
        return self.manifest["source_installation"]


class PackageRejected(AppError):
    """A package failed verification; nothing from it may be used. `reason` is a stable code for programs."""

    def __init__(self, message: str, reason: str, *, file: str | None = None):
        super().__init__(message, file=file)
        self.reason = reason


class PackageWriteError(AppError):
    """A package could not be written completely; no file that looks like a package was left behind."""


def canonical_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_MB), b""):
            h.update(block)
    return h.hexdigest()


def _derive_key(shared: bytes, package_id: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=uuid.UUID(package_id).bytes,
                info=HKDF_INFO).derive(shared)


# ---------------------------------------------------------------- shape checks (shared by writer and reader)

def _int(v, low: int = 0) -> bool:
    return type(v) is int and v >= low


def _id(v) -> bool:
    return isinstance(v, str) and _ID.match(v) is not None


def _parses(v, check: Callable[[str], bool]) -> bool:
    try:
        return isinstance(v, str) and len(v) <= 200 and check(v)
    except ValueError:
        return False


def _uuid(v) -> bool:
    return _parses(v, lambda s: str(uuid.UUID(s)) == s)


def _stamp(v) -> bool:
    return _parses(v, lambda s: bool(datetime.fromisoformat(s.replace("Z", "+00:00"))))


def _hex64(v) -> bool:
    return _parses(v, lambda s: _HEX64.match(s) is not None)


def _fingerprint(v) -> bool:
    return _parses(v, lambda s: _FINGERPRINT.match(s) is not None)


def _body(v) -> bool:
    return (isinstance(v, dict) and set(v) == {"ciphertext_size", "plaintext_size", "plaintext_sha256",
                                               "ephemeral_public_key"}
            and _int(v["ciphertext_size"], NONCE_SIZE + TAG_SIZE) and _int(v["plaintext_size"])
            and _hex64(v["plaintext_sha256"])
            and _parses(v["ephemeral_public_key"], lambda s: len(base64.b64decode(s, validate=True)) == PUBLIC_KEY_SIZE))


def _ranges(v) -> bool:
    return isinstance(v, dict) and all(
        _id(k) and isinstance(r, list) and len(r) == 2 and _int(r[0], 1) and _int(r[1], 1) and r[0] <= r[1]
        for k, r in v.items())


def _counts(v) -> bool:
    return isinstance(v, dict) and all(k in SYNCED_TABLES and _int(n, 1) for k, n in v.items())


_MANIFEST_FIELDS: dict[str, Callable[[object], bool]] = {
    "format": lambda v: v == FORMAT_NAME,
    "format_version": _int,
    "min_reader_version": _int,
    "schema_version": lambda v: _int(v, 1),
    "package_id": _uuid,
    "kind": lambda v: isinstance(v, str) and v in KINDS,
    "source_installation": _id,
    "source_unit": _id,
    "source_key_fingerprint": _fingerprint,
    "recipient_key_fingerprint": _fingerprint,
    "created_at": _stamp,
    "algorithms": lambda v: isinstance(v, dict),
    "body": _body,
    "ops": _ranges,
    "counts": _counts,
    "previous_package_sha256": lambda v: v is None or _hex64(v),
    "reference_version": lambda v: v is None or _int(v),
}


def op_problem(op) -> str | None:
    """Why `op` is not a well-formed operation (None when it is)."""
    if not isinstance(op, dict):
        return "不是一个对象"
    if set(op) != set(OP_FIELDS):
        missing, extra = sorted(set(OP_FIELDS) - set(op)), sorted(set(op) - set(OP_FIELDS))
        return f"字段不对（缺少 {missing}，多出 {extra}）"
    if not _id(op["origin"]) or not _int(op["seq"], 1) or not _int(op["rev"], 1):
        return "origin、seq 或 rev 无效"
    if op["table_name"] not in SYNCED_TABLES:
        return f"数据表“{op['table_name']}”不参与同步"
    if not isinstance(op["row_id"], str) or not _ROW_ID.match(op["row_id"]):
        return "row_id 无效"
    if op["op"] not in OP_KINDS:
        return f"操作类型“{op['op']}”无效"
    if not _stamp(op["at"]):
        return "时间 at 无效"
    if not all(op[k] is None or isinstance(op[k], dict) for k in ("old", "new")):
        return "old/new 应为对象或 null"
    return None


def summarise(ops: list[dict]) -> tuple[dict[str, list[int]], dict[str, int], int | None]:
    """For ops sorted by (origin, seq): {origin: [first seq, last seq]}, {table: count}, and the index of the
    first op that is out of order or repeated (None when there is none)."""
    ranges: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    prev, bad = None, None
    for i, op in enumerate(ops):
        key = (op["origin"], op["seq"])
        if bad is None and prev is not None and key <= prev:
            bad = i
        prev = key
        ranges.setdefault(op["origin"], [op["seq"], op["seq"]])[1] = op["seq"]
        counts[op["table_name"]] = counts.get(op["table_name"], 0) + 1
    return ranges, counts, bad


# ---------------------------------------------------------------- writing

def write_package(path_dir: Path, *, ops: list[dict], manifest_fields: dict, sender: InstallationKeys,
                  recipient_public_x25519: bytes, limits: Limits | None = None,
                  before_publish: Callable[[Path, dict, str], None] | None = None) -> Path:
    """Write one package into folder `path_dir` and return its path.

    manifest_fields: required `kind`, `source_unit`; optional `package_id` (default a new UUIDv7), `created_at`
    (default now, UTC), `schema_version` (default this program's database version), `previous_package_sha256`
    and `reference_version` (default None), `min_reader_version` (default READER_VERSION), plus any extra
    non-personal keys (they are signed and readable before decryption). Everything else is computed here.
    The file is written atomically, then re-read and compared byte-for-byte by hash.

    before_publish(final_path, manifest, file_sha256) runs once the bytes are durable and verified in a temp file
    but before the file has its final name: the exporter records the package in its ledger there, so a package
    file can never exist that the sender's ledger (and so its chain of packages) does not know. If it raises,
    no file is left.
    """
    limits = limits or Limits()
    fields = dict(manifest_fields)
    computed = {"format", "format_version", "source_installation", "source_key_fingerprint",
                "recipient_key_fingerprint", "algorithms", "body", "ops", "counts"}
    if computed & set(fields):
        raise ValueError(f"manifest fields are computed by write_package: {sorted(computed & set(fields))}")
    recipient_public_x25519 = bytes(recipient_public_x25519)
    if len(recipient_public_x25519) != PUBLIC_KEY_SIZE:
        raise ValueError("recipient_public_x25519 must be 32 raw bytes")
    for op in ops:
        if (problem := op_problem(op)) is not None:
            raise ValueError(f"bad operation {op!r:.200}: {problem}")
    ordered = sorted(ops, key=lambda o: (o["origin"], o["seq"]))
    ranges, counts, repeated = summarise(ordered)
    if repeated is not None:
        raise ValueError(f"duplicate operation {ordered[repeated]!r:.200}")
    plaintext = b"".join(canonical_json(op) + b"\n" for op in ordered)
    if len(plaintext) > limits.max_plaintext:
        raise PackageWriteError(f"要导出的数据过大（{len(plaintext) // _MB} MB），超过同步文件上限。")
    compressed = zlib.compress(plaintext, 6)

    if "schema_version" not in fields:
        from db.store import synced_version

        fields["schema_version"] = synced_version()
    fields.setdefault("package_id", uuid7())
    fields.setdefault("created_at", now_utc())
    fields.setdefault("min_reader_version", READER_VERSION)
    fields.setdefault("previous_package_sha256", None)
    fields.setdefault("reference_version", None)
    manifest = {
        **fields, "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "source_installation": sender.installation_id, "source_key_fingerprint": sender.signing_fingerprint,
        "recipient_key_fingerprint": fingerprint(recipient_public_x25519), "algorithms": dict(ALGORITHMS),
        "body": {"plaintext_size": len(plaintext), "plaintext_sha256": hashlib.sha256(plaintext).hexdigest()},
        "ops": ranges, "counts": counts,
    }
    data = seal(manifest, compressed, sender=sender, recipient_public_x25519=recipient_public_x25519)
    if _HEAD.unpack_from(data)[2] > limits.max_manifest:
        raise ValueError("manifest too large (too many extra fields?)")
    if len(data) > limits.max_file:
        raise PackageWriteError(f"要导出的数据过大（{len(data) // _MB} MB），超过同步文件上限。")
    return _write_verified(Path(path_dir) / package_file_name(manifest), data, manifest, before_publish)


def seal(manifest: dict, compressed: bytes, *, sender: InstallationKeys, recipient_public_x25519: bytes) -> bytes:
    """The file bytes for a complete manifest (its body's ephemeral key and ciphertext size are filled in here)
    and an already compressed body. Low level: write_package() builds the manifest; tests use this to forge."""
    ephemeral = X25519PrivateKey.generate()
    manifest["body"] = {**manifest["body"], "ciphertext_size": NONCE_SIZE + len(compressed) + TAG_SIZE,
                        "ephemeral_public_key": base64.b64encode(ephemeral.public_key().public_bytes_raw()).decode()}
    bad = [k for k, check in _MANIFEST_FIELDS.items() if k not in manifest or not check(manifest[k])]
    if bad:
        raise ValueError(f"invalid manifest fields: {bad}")
    manifest_bytes = canonical_json(manifest)
    signature = sender.sign(MAGIC + bytes([manifest["format_version"]]) + manifest_bytes)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes(recipient_public_x25519)))
    nonce = os.urandom(NONCE_SIZE)
    key = _derive_key(shared, manifest["package_id"])
    body = nonce + ChaCha20Poly1305(key).encrypt(nonce, compressed, manifest_bytes)
    return b"".join((_HEAD.pack(MAGIC, manifest["format_version"], len(manifest_bytes)), manifest_bytes,
                     _SIGLEN.pack(len(signature)), signature, body))


def package_file_name(manifest: dict) -> str:
    """ASCII-only, so the name survives FAT32 USB sticks, zip tools and mail gateways:
    <unit id>_<kind>_<YYYYMMDD-HHMMSS Beijing time>_<last 8 hex digits of package id>.zqpkg
    (the last digits of a UUIDv7 are random; its first ones are the clock and repeat within a minute)."""
    unit = _SAFE_NAME.sub("_", manifest["source_unit"]).strip("_")[:32] or "unit"
    created = datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00")).astimezone(SHANGHAI)
    return f"{unit}_{manifest['kind']}_{created:%Y%m%d-%H%M%S}_{manifest['package_id'].replace('-', '')[-8:]}{SUFFIX}"


def _write_verified(path: Path, data: bytes, manifest: dict, before_publish) -> Path:
    expected = hashlib.sha256(data).hexdigest()
    if not path.parent.is_dir():
        raise PackageWriteError(f"文件夹不存在：{path.parent}，同步文件未生成。", file=str(path))
    if path.exists():
        raise PackageWriteError(f"同步文件 {path.name} 已存在，未覆盖。", file=str(path))
    _remove_stale_parts(path.parent)
    try:
        tmp = write_temp_file(path, data)
    except FileWriteError as exc:
        raise PackageWriteError(f"同步文件未能写完：{exc.message}", file=str(path)) from exc
    try:
        ok = sha256_file(tmp) == expected
    except OSError:
        ok = False
    if not ok:
        tmp.unlink(missing_ok=True)
        raise PackageWriteError(f"写入后校验失败：{path}（U 盘可能已拔出或损坏），文件已删除，请重新导出。",
                                file=str(path))
    try:
        if before_publish is not None:
            before_publish(path, manifest, expected)
        publish_file(tmp, path)
    except FileWriteError as exc:
        raise PackageWriteError(f"同步文件未能写完：{exc.message}", file=str(path)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _remove_stale_parts(folder: Path, older_than_s: float = 3600) -> None:
    """Temp files of package writes that were killed long ago (an export in progress elsewhere is left alone)."""
    cutoff = time.time() - older_than_s
    for part in folder.glob(f".*{SUFFIX}.*.part"):
        with contextlib.suppress(OSError):
            if part.stat().st_mtime < cutoff:
                part.unlink()


# ---------------------------------------------------------------- reading

def read_package(path: Path, *, recipient: InstallationKeys, trusted_signers: Callable[[str], bytes | None],
                 limits: Limits | None = None, max_schema_version: int | None = None) -> Package:
    """Verify one package completely and return its manifest and operations (see the module doc for the order).

    trusted_signers(installation_id) -> that installation's raw Ed25519 public key when it is enrolled and not
    revoked, else None. max_schema_version defaults to this program's database version.
    """
    limits = limits or Limits()
    path = Path(path)
    name = path.name

    def reject(reason: str, detail: str) -> PackageRejected:
        return PackageRejected(f"同步文件“{name}”被拒绝：{detail}", reason, file=str(path))

    truncated = "文件不完整（可能在拷贝时中断或被截断）"
    try:
        size = path.stat().st_size
        if size > limits.max_file:
            raise reject("too_large", f"文件过大（{size // _MB} MB，上限 {limits.max_file // _MB} MB）")
        data = path.read_bytes()
    except OSError as exc:
        raise reject("unreadable", f"无法读取文件（{exc.strerror or exc}）") from exc
    if not data:
        raise reject("empty", "文件是空的（0 字节）")
    if len(data) > limits.max_file:
        raise reject("too_large", "文件过大")
    file_sha256 = hashlib.sha256(data).hexdigest()
    if data[:len(MAGIC)] != MAGIC[:len(data)]:
        raise reject("bad_magic", "这不是助企工作台的同步文件（文件头不对）")
    if len(data) < _HEAD.size:
        raise reject("truncated", truncated)
    _, version, mlen = _HEAD.unpack_from(data)
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise reject("unsupported_format", f"文件格式版本 {version} 不受本程序支持，请升级程序后再导入")
    if mlen > limits.max_manifest:
        raise reject("bad_manifest", "文件清单过大，文件已损坏")
    end = _HEAD.size + mlen
    if len(data) < end + _SIGLEN.size:
        raise reject("truncated", truncated)
    manifest_bytes = data[_HEAD.size:end]
    manifest = _parse_manifest(manifest_bytes, version, reject)

    if manifest["min_reader_version"] > READER_VERSION:
        raise reject("reader_too_old", "此文件需要更新版本的程序才能读取，请先升级本程序")
    if max_schema_version is None:
        from db.store import latest_version

        max_schema_version = latest_version()
    if manifest["schema_version"] > max_schema_version:
        raise reject("schema_too_new", f"文件来自更新的数据库版本（{manifest['schema_version']}，本机为 "
                                       f"{max_schema_version}），请先升级本程序")
    (siglen,) = _SIGLEN.unpack_from(data, end)
    if siglen != SIG_SIZE:
        raise reject("bad_signature", "签名无效，文件可能被篡改")
    sig_end = end + _SIGLEN.size + SIG_SIZE
    if len(data) < sig_end:
        raise reject("truncated", truncated)
    source = manifest["source_installation"]
    signer = trusted_signers(source)
    if signer is None:
        raise reject("unknown_signer", f"发送方是未登记的安装（{source}），或其登记已被撤销")
    if fingerprint(signer) != manifest["source_key_fingerprint"]:
        raise reject("fingerprint_mismatch", "签名无效，文件可能被篡改（签名密钥与登记的不一致）")
    if not verify_signature(signer, data[end + _SIGLEN.size:sig_end], MAGIC + bytes([version]) + manifest_bytes):
        raise reject("bad_signature", "签名无效，文件可能被篡改")
    if manifest["recipient_key_fingerprint"] != recipient.encryption_fingerprint:
        raise reject("wrong_recipient", "不是发给本机的同步文件")

    body_info = manifest["body"]
    if body_info["plaintext_size"] > limits.max_plaintext or body_info["ciphertext_size"] > limits.max_file:
        raise reject("too_large", "文件声明的数据量超过上限")
    body = memoryview(data)[sig_end:]
    if len(body) < body_info["ciphertext_size"]:
        raise reject("truncated", truncated)
    if len(body) > body_info["ciphertext_size"]:
        raise reject("trailing_data", "文件末尾有多余的数据，文件可能被篡改")
    try:
        shared = recipient.encryption_key.exchange(
            X25519PublicKey.from_public_bytes(base64.b64decode(body_info["ephemeral_public_key"])))
        compressed = ChaCha20Poly1305(_derive_key(shared, manifest["package_id"])).decrypt(
            bytes(body[:NONCE_SIZE]), body[NONCE_SIZE:], manifest_bytes)  # memoryview: no copy of the body
    except (InvalidTag, ValueError) as exc:
        raise reject("decrypt_failed", "解密失败，文件内容被篡改或损坏") from exc
    ops = _read_body(compressed, body_info, reject)
    _check_against_manifest(ops, manifest, reject)
    return Package(path=path, manifest=manifest, ops=ops, file_sha256=file_sha256)


def _parse_manifest(raw: bytes, version: int, reject) -> dict:
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise reject("bad_manifest", "文件清单无法解析，文件已损坏或被篡改") from exc
    if not isinstance(manifest, dict):
        raise reject("bad_manifest", "文件清单格式不对")
    try:
        canonical = canonical_json(manifest) == raw
    except ValueError:
        canonical = False
    if not canonical:
        raise reject("not_canonical", "文件清单不是规范格式，文件可能被篡改")
    for key, check in _MANIFEST_FIELDS.items():
        if key not in manifest or not check(manifest[key]):
            raise reject("bad_manifest", f"文件清单字段“{key}”缺失或格式不对")
    if manifest["format_version"] != version:
        raise reject("bad_manifest", "文件清单与文件头的格式版本不一致")
    if manifest["algorithms"] != ALGORITHMS:
        raise reject("unsupported_algorithm", f"不支持的加密算法组合：{manifest['algorithms']}")
    return manifest


def _no_constant(name: str):
    raise ValueError(f"non-standard JSON constant {name}")


def _plaintext_chunks(compressed: bytes, declared: int, reject) -> Iterator[bytes]:
    """Inflate at most declared + 1 bytes in total, whatever the compressed data claims (zip-bomb safe)."""
    d = zlib.decompressobj()
    src, pos, total, pending = memoryview(compressed), 0, 0, b""
    try:
        while not d.eof:
            if not pending and pos < len(src):
                pending, pos = src[pos:pos + _IN_CHUNK], pos + _IN_CHUNK
            out = d.decompress(pending, min(_OUT_CHUNK, declared - total + 1))
            total += len(out)
            if total > declared:
                raise reject("bomb", "解压后的数据量超过文件声明的大小，拒绝解压")
            if not out and len(d.unconsumed_tail) == len(pending):  # no progress: the stream ends too early
                raise reject("bad_compression", "压缩数据不完整，文件已损坏")
            pending = d.unconsumed_tail
            if out:
                yield out
    except zlib.error as exc:
        raise reject("bad_compression", "压缩数据损坏") from exc
    if d.unused_data or d.unconsumed_tail or pos < len(src):
        raise reject("bad_compression", "压缩数据后有多余内容，文件已损坏")


def _read_body(compressed: bytes, info: dict, reject) -> list[dict]:
    digest, size, ops, rest = hashlib.sha256(), 0, [], b""
    for chunk in _plaintext_chunks(compressed, info["plaintext_size"], reject):
        digest.update(chunk)
        size += len(chunk)
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            ops.append(_parse_op(line, len(ops) + 1, reject))
    if size != info["plaintext_size"] or digest.hexdigest() != info["plaintext_sha256"]:
        raise reject("hash_mismatch", "内容校验值与清单不符，文件已损坏或被篡改")
    if rest:
        raise reject("bad_operation", "最后一行数据不完整")
    return ops


def _parse_op(line: bytes, number: int, reject) -> dict:
    try:
        op = json.loads(line.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise reject("bad_operation", f"第 {number} 条操作无法解析") from exc
    if (problem := op_problem(op)) is not None:
        raise reject("bad_operation", f"第 {number} 条操作格式不对：{problem}")
    return op


def _check_against_manifest(ops: list[dict], manifest: dict, reject) -> None:
    ranges, counts, bad = summarise(ops)
    if bad is not None:
        raise reject("manifest_mismatch", f"第 {bad + 1} 条操作的顺序不对或重复（应按来源和序号递增）")
    if ranges != manifest["ops"]:
        raise reject("manifest_mismatch", "操作序号范围与清单不符")
    if counts != manifest["counts"]:
        raise reject("manifest_mismatch", "各表记录数与清单不符")


def read_manifest(path: Path) -> dict:
    """The public manifest of a package this installation has just written and verified (not for imports:
    read_package verifies a received file)."""
    data = Path(path).read_bytes()
    _, _, mlen = _HEAD.unpack_from(data)
    return json.loads(data[_HEAD.size:_HEAD.size + mlen].decode("utf-8"))
