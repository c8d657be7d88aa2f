"""app/sync: installation keys and the *.zqpkg package — round trip, authentication, confidentiality, and
every way a package can be damaged or forged being refused with a Chinese message naming the file."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import struct
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest

from app.ids import uuid7
from app.sync import package as pkg
from app.sync.keys import (
    InstallationKeys,
    KeyFileError,
    create_keys,
    fingerprint,
    key_dir_for,
    load_keys,
    verify_signature,
)
from app.sync.package import Limits, PackageRejected, PackageWriteError, read_package, seal, write_package

NAME, PHONE = "张伟", "13812345678"


# ---------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def station() -> InstallationKeys:
    return InstallationKeys.generate(uuid7())


@pytest.fixture(scope="module")
def station2() -> InstallationKeys:
    return InstallationKeys.generate(uuid7())


@pytest.fixture(scope="module")
def hub() -> InstallationKeys:
    return InstallationKeys.generate(uuid7())


@pytest.fixture(scope="module")
def attacker() -> InstallationKeys:
    return InstallationKeys.generate(uuid7())


def make_ops(origin: str, other_origin: str) -> list[dict]:
    ent = uuid7()
    row = {"id": ent, "origin": origin, "rev": 1, "updated_at": "2026-03-02T01:02:03.000000Z",
           "updated_by": origin, "deleted": 0, "name": "郑州测试机械有限公司", "contact_name": NAME,
           "contact_phone": PHONE, "unit_id": "U410105"}
    ops = [
        {"origin": origin, "seq": 7, "table_name": "enterprises", "row_id": ent, "op": "insert", "rev": 1,
         "at": "2026-03-02T01:02:03.000000Z", "old": None, "new": row},
        {"origin": origin, "seq": 9, "table_name": "enterprises", "row_id": ent, "op": "update", "rev": 2,
         "at": "2026-03-02T01:05:00.000000Z", "old": {"contact_phone": PHONE}, "new": {"contact_phone": "13900000000"}},
        {"origin": origin, "seq": 10, "table_name": "enterprises", "row_id": ent, "op": "delete", "rev": 3,
         "at": "2026-03-02T01:06:00.000000Z", "old": {"deleted": 0}, "new": {"deleted": 1}},
        {"origin": other_origin, "seq": 1, "table_name": "audit_log", "row_id": uuid7(), "op": "insert", "rev": 1,
         "at": "2026-03-01T00:00:00.000000Z", "old": None, "new": {"operator": NAME, "action": "新建"}},
    ]
    return ops


def trusted(*keys: InstallationKeys):
    table = {k.installation_id: k.signing_public for k in keys}
    return table.get


def write(folder: Path, sender: InstallationKeys, recipient: InstallationKeys, ops=None, **fields) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest_fields = {"kind": "up", "source_unit": "U410105", **fields}
    return write_package(folder, ops=make_ops(sender.installation_id, uuid7()) if ops is None else ops,
                         manifest_fields=manifest_fields, sender=sender,
                         recipient_public_x25519=recipient.encryption_public)


def read(path: Path, recipient: InstallationKeys, *signers: InstallationKeys, **kw):
    return read_package(path, recipient=recipient, trusted_signers=trusted(*signers), **kw)


def rejected(path: Path, recipient: InstallationKeys, *signers: InstallationKeys, **kw) -> PackageRejected:
    with pytest.raises(PackageRejected) as info:
        read(path, recipient, *signers, **kw)
    exc = info.value
    assert path.name in exc.message, exc.message
    assert re.search(r"[\u4e00-\u9fff]", exc.message), exc.message
    return exc


def split(data: bytes) -> tuple[int, bytes, bytes, bytes]:
    """version, manifest bytes, signature, body of a package file."""
    magic, version, mlen = struct.unpack_from(">6sBI", data)
    assert magic == pkg.MAGIC
    m_end = 11 + mlen
    (slen,) = struct.unpack_from(">H", data, m_end)
    return version, data[11:m_end], data[m_end + 2:m_end + 2 + slen], data[m_end + 2 + slen:]


def join(version: int, manifest: bytes, sig: bytes, body: bytes) -> bytes:
    return struct.pack(">6sBI", pkg.MAGIC, version, len(manifest)) + manifest + struct.pack(">H", len(sig)) + sig + body


def forged_manifest(sender: InstallationKeys, recipient: InstallationKeys, plaintext: bytes, ops: list[dict],
                    **overrides) -> dict:
    ranges: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    for op in ops:
        r = ranges.setdefault(op["origin"], [op["seq"], op["seq"]])
        r[:] = [min(r[0], op["seq"]), max(r[1], op["seq"])]
        counts[op["table_name"]] = counts.get(op["table_name"], 0) + 1
    manifest = {
        "format": pkg.FORMAT_NAME, "format_version": 1, "min_reader_version": 1, "schema_version": 1,
        "package_id": uuid7(), "kind": "up", "source_installation": sender.installation_id, "source_unit": "U410105",
        "source_key_fingerprint": sender.signing_fingerprint,
        "recipient_key_fingerprint": recipient.encryption_fingerprint, "created_at": "2026-03-02T01:02:03.000000Z",
        "algorithms": dict(pkg.ALGORITHMS),
        "body": {"plaintext_size": len(plaintext), "plaintext_sha256": hashlib.sha256(plaintext).hexdigest()},
        "ops": ranges, "counts": counts, "previous_package_sha256": None, "reference_version": None,
    }
    manifest.update(overrides)
    return manifest


def forge(folder: Path, ops: list[dict], signer: InstallationKeys, recipient: InstallationKeys, *,
          plaintext: bytes | None = None, as_sender: InstallationKeys | None = None, **overrides) -> Path:
    if plaintext is None:
        plaintext = b"".join(pkg.canonical_json(op) + b"\n" for op in ops)
    manifest = forged_manifest(as_sender or signer, recipient, plaintext, ops, **overrides)
    data = seal(manifest, zlib.compress(plaintext), sender=signer, recipient_public_x25519=recipient.encryption_public)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "forged.zqpkg"
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- round trip and authentication

def test_round_trip(tmp_path, station, hub):
    ops = make_ops(station.installation_id, uuid7())
    prev = "ab" * 32
    path = write(tmp_path / "out", station, hub, ops=ops, previous_package_sha256=prev, reference_version=3)
    assert re.fullmatch(r"U410105_up_\d{8}-\d{6}_[0-9a-f]{8}\.zqpkg", path.name)
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind
    got = read(path, hub, station)
    assert got.ops == sorted(ops, key=lambda o: (o["origin"], o["seq"]))
    m = got.manifest
    assert m["source_installation"] == got.source_installation == station.installation_id
    assert m["source_key_fingerprint"] == station.signing_fingerprint
    assert m["recipient_key_fingerprint"] == hub.encryption_fingerprint
    assert m["kind"] == "up" and m["source_unit"] == "U410105" and m["reference_version"] == 3
    assert m["previous_package_sha256"] == prev and m["algorithms"] == pkg.ALGORITHMS
    assert m["ops"] == {station.installation_id: [7, 10], ops[3]["origin"]: [1, 1]}
    assert m["counts"] == {"enterprises": 3, "audit_log": 1}
    assert m["body"]["ciphertext_size"] == len(split(path.read_bytes())[3])
    assert got.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == pkg.sha256_file(path)
    assert got.package_id == m["package_id"]


def test_empty_package_and_down_direction(tmp_path, station, hub):
    path = write(tmp_path, hub, station, ops=[], kind="down", source_unit="U410100")
    got = read(path, station, hub)
    assert got.ops == [] and got.manifest["kind"] == "down" and got.manifest["counts"] == {}


def test_sender_is_authenticated(tmp_path, station, station2, hub):
    path = write(tmp_path, station, hub)
    assert read(path, hub, station, station2).source_installation == station.installation_id
    # the hub holds another key for this installation id (e.g. re-enrolled): the file is not accepted
    impostor = {station.installation_id: station2.signing_public}.get
    with pytest.raises(PackageRejected) as info:
        read_package(path, recipient=hub, trusted_signers=impostor)
    assert info.value.reason == "fingerprint_mismatch"


def test_personal_data_never_in_clear(tmp_path, station, hub):
    path = write(tmp_path, station, hub)
    data = path.read_bytes()
    for secret in (NAME.encode("utf-8"), PHONE.encode(), NAME.encode("utf-16-le"), "郑州测试".encode()):
        assert secret not in data
    assert read(path, hub, station).ops[0]["new"]["contact_phone"] == PHONE


# ---------------------------------------------------------------- damaged files

def test_every_single_bit_flip_is_rejected(tmp_path, station, hub):
    good = write(tmp_path / "good", station, hub).read_bytes()
    rng = random.Random(20260302)
    head = 11 + len(split(good)[1]) + 2 + 64
    positions = set(range(0, 16)) | set(range(head - 70, head + 16)) | set(range(len(good) - 20, len(good)))
    positions |= {rng.randrange(len(good)) for _ in range(200)}
    reasons = set()
    bad = tmp_path / "bad" / "flipped.zqpkg"
    bad.parent.mkdir()
    for pos in sorted(positions):
        data = bytearray(good)
        data[pos] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(data))
        reasons.add(rejected(bad, hub, station).reason)
    assert {"bad_magic", "unsupported_format", "bad_signature", "decrypt_failed"} <= reasons, reasons


def test_truncated_at_many_lengths(tmp_path, station, hub):
    good = write(tmp_path / "good", station, hub).read_bytes()
    rng = random.Random(7)
    lengths = set(range(0, 40)) | {rng.randrange(len(good)) for _ in range(150)} | {len(good) - 1, len(good) - 17}
    bad = tmp_path / "bad" / "cut.zqpkg"
    bad.parent.mkdir()
    for n in sorted(lengths):
        bad.write_bytes(good[:n])
        exc = rejected(bad, hub, station)
        assert exc.reason == ("empty" if n == 0 else "truncated"), (n, exc.reason)


def test_empty_file(tmp_path, station, hub):
    path = tmp_path / "空文件.zqpkg"
    path.write_bytes(b"")
    exc = rejected(path, hub, station)
    assert exc.reason == "empty" and "空" in exc.message


@pytest.mark.parametrize("prefix", [b"", b"PK\x03\x04", pkg.MAGIC])
def test_random_bytes(tmp_path, station, hub, prefix):
    path = tmp_path / "random.zqpkg"
    for seed in range(20):
        path.write_bytes(prefix + random.Random(seed).randbytes(3000))
        assert rejected(path, hub, station).reason in {"bad_magic", "unsupported_format", "truncated", "bad_manifest"}


def test_trailing_bytes_rejected(tmp_path, station, hub):
    path = write(tmp_path, station, hub)
    path.write_bytes(path.read_bytes() + b"\0")
    assert rejected(path, hub, station).reason == "trailing_data"


# ---------------------------------------------------------------- trust

def test_unknown_signer(tmp_path, station, station2, hub):
    path = write(tmp_path, station, hub)
    exc = rejected(path, hub, station2)
    assert exc.reason == "unknown_signer" and "未登记的安装" in exc.message


def test_revoked_signer(tmp_path, station, hub):
    path = write(tmp_path, station, hub)
    revoked = {station.installation_id}
    enrolled = {station.installation_id: station.signing_public}

    def signers(iid):
        return None if iid in revoked else enrolled.get(iid)

    with pytest.raises(PackageRejected) as info:
        read_package(path, recipient=hub, trusted_signers=signers)
    assert info.value.reason == "unknown_signer" and path.name in info.value.message


def test_signature_by_another_key(tmp_path, station, hub, attacker):
    ops = make_ops(station.installation_id, uuid7())
    # claims to be the station (its id and fingerprint) but is signed by the attacker
    path = forge(tmp_path, ops, attacker, hub, as_sender=station)
    exc = rejected(path, hub, station)
    assert exc.reason == "bad_signature" and "签名无效，文件可能被篡改" in exc.message
    # claims the station's id with the attacker's own fingerprint
    path = forge(tmp_path / "b", ops, attacker, hub, source_installation=station.installation_id)
    assert rejected(path, hub, station).reason == "fingerprint_mismatch"


def test_tampered_manifest(tmp_path, station, hub, attacker):
    version, manifest_bytes, sig, body = split(write(tmp_path / "good", station, hub).read_bytes())
    manifest = json.loads(manifest_bytes)
    manifest["counts"]["enterprises"] += 1
    changed = pkg.canonical_json(manifest)
    path = tmp_path / "tampered.zqpkg"
    path.write_bytes(join(version, changed, sig, body))  # not re-signed
    exc = rejected(path, hub, station)
    assert exc.reason == "bad_signature" and "签名无效" in exc.message
    resigned = attacker.sign(pkg.MAGIC + bytes([version]) + changed)  # re-signed by the attacker
    path.write_bytes(join(version, changed, resigned, body))
    assert rejected(path, hub, station).reason == "bad_signature"
    manifest["source_key_fingerprint"] = attacker.signing_fingerprint  # ... and claiming the attacker's key
    changed = pkg.canonical_json(manifest)
    path.write_bytes(join(version, changed, attacker.sign(pkg.MAGIC + bytes([version]) + changed), body))
    assert rejected(path, hub, station).reason == "fingerprint_mismatch"


def test_manifest_must_match_body_even_from_an_enrolled_sender(tmp_path, station, hub):
    ops = make_ops(station.installation_id, uuid7())
    path = forge(tmp_path, ops, station, hub, counts={"enterprises": 4})
    assert rejected(path, hub, station).reason == "manifest_mismatch"
    path = forge(tmp_path / "b", ops[::-1], station, hub)  # not sorted by (origin, seq)
    assert rejected(path, hub, station).reason == "manifest_mismatch"
    bad_op = dict(ops[0], table_name="settings")
    path = forge(tmp_path / "c", [bad_op], station, hub, counts={"enterprises": 1})
    exc = rejected(path, hub, station)
    assert exc.reason == "bad_operation" and "settings" in exc.message
    path = forge(tmp_path / "d", ops[:1], station, hub, plaintext=b'{"origin":', counts={"enterprises": 1})
    assert rejected(path, hub, station).reason == "bad_operation"


def test_tampered_body(tmp_path, station, station2, hub):
    a = split(write(tmp_path / "a", station, hub).read_bytes())
    b = split(write(tmp_path / "b", station, hub).read_bytes())
    path = tmp_path / "tampered.zqpkg"
    body = bytearray(a[3])
    body[len(body) // 2] ^= 0x40
    path.write_bytes(join(a[0], a[1], a[2], bytes(body)))
    exc = rejected(path, hub, station)
    assert exc.reason == "decrypt_failed" and "篡改" in exc.message
    if len(a[3]) == len(b[3]):  # another package's body under this manifest
        path.write_bytes(join(a[0], a[1], a[2], b[3]))
        assert rejected(path, hub, station).reason == "decrypt_failed"


def test_wrong_recipient(tmp_path, station, station2, hub):
    path = write(tmp_path, station, station2)
    exc = rejected(path, hub, station)
    assert exc.reason == "wrong_recipient" and "不是发给本机的同步文件" in exc.message


# ---------------------------------------------------------------- versions, sizes, canonical form

def test_reader_version_from_the_future(tmp_path, station, hub):
    path = write(tmp_path, station, hub, min_reader_version=pkg.READER_VERSION + 1)
    exc = rejected(path, hub, station)
    assert exc.reason == "reader_too_old" and "升级" in exc.message


def test_schema_version_from_the_future(tmp_path, station, hub):
    from db.store import latest_version

    path = write(tmp_path, station, hub, schema_version=latest_version() + 1)
    assert rejected(path, hub, station).reason == "schema_too_new"
    assert read(path, hub, station, max_schema_version=latest_version() + 1).ops


def test_format_version_from_the_future(tmp_path, station, hub):
    ops = make_ops(station.installation_id, uuid7())
    path = forge(tmp_path, ops, station, hub, format_version=2)
    assert rejected(path, hub, station).reason == "unsupported_format"


def test_decompression_bomb(tmp_path, station, hub):
    ops = make_ops(station.installation_id, uuid7())[:1]
    huge = b"\0" * (50 * 1024 * 1024)
    compressed = zlib.compress(huge, 9)
    del huge
    manifest = forged_manifest(station, hub, b"x" * 1024, ops)  # declares 1 KB of plaintext
    path = tmp_path / "bomb.zqpkg"
    path.write_bytes(seal(manifest, compressed, sender=station, recipient_public_x25519=hub.encryption_public))
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        exc = rejected(path, hub, station)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exc.reason == "bomb"
    assert peak < 4 * 1024 * 1024, peak  # the file, its decrypted copy, and ~1 KB of output: never 50 MB


def test_size_limits_checked_before_decrypting(tmp_path, station, hub):
    path = write(tmp_path, station, hub)
    assert rejected(path, hub, station, limits=Limits(max_file=100)).reason == "too_large"
    assert rejected(path, hub, station, limits=Limits(max_plaintext=10)).reason == "too_large"
    assert rejected(path, hub, station, limits=Limits(max_manifest=100)).reason == "bad_manifest"


def test_non_canonical_manifest(tmp_path, station, hub):
    version, manifest_bytes, _sig, body = split(write(tmp_path / "good", station, hub).read_bytes())
    manifest = json.loads(manifest_bytes)
    path = tmp_path / "loose.zqpkg"
    variants = [json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode(),
                json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode(),  # keys unsorted
                manifest_bytes[:-1] + b',"counts":{}}']  # duplicate key
    for raw in variants:
        if raw == manifest_bytes:
            continue
        sig = station.sign(pkg.MAGIC + bytes([version]) + raw)  # a valid signature does not make it acceptable
        path.write_bytes(join(version, raw, sig, body))
        assert rejected(path, hub, station).reason == "not_canonical"


# ---------------------------------------------------------------- atomic writing

@pytest.mark.parametrize("victim", ["replace", "fsync"])
def test_atomic_write_leaves_nothing_on_failure(tmp_path, station, hub, monkeypatch, victim):
    folder = tmp_path / "usb"
    folder.mkdir()

    def boom(*a, **k):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, victim, boom)
    with pytest.raises(PackageWriteError) as info:
        write(folder, station, hub)
    assert "未" in info.value.message
    assert list(folder.iterdir()) == []


def test_write_verifies_by_rereading(tmp_path, station, hub, monkeypatch):
    folder = tmp_path / "usb"
    monkeypatch.setattr(pkg, "sha256_file", lambda p: "0" * 64)  # the stick returned other bytes
    with pytest.raises(PackageWriteError) as info:
        write(folder, station, hub)
    assert "校验失败" in info.value.message
    assert list(folder.iterdir()) == []


def test_write_refuses_bad_input(tmp_path, station, hub):
    ops = make_ops(station.installation_id, uuid7())
    with pytest.raises(ValueError):
        write(tmp_path, station, hub, ops=ops + [dict(ops[0])])  # same (origin, seq) twice
    with pytest.raises(ValueError):
        write(tmp_path, station, hub, ops=[dict(ops[0], op="upsert")])
    with pytest.raises(ValueError):
        write(tmp_path, station, hub, counts={})  # computed fields cannot be supplied
    with pytest.raises(ValueError):
        write(tmp_path, station, hub, source_unit="金水 区/../")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- keys

def test_keys_create_and_load(tmp_path):
    key_dir = key_dir_for(tmp_path / "data" / "zhuqi.db")
    assert key_dir == (tmp_path / "data" / "keys").resolve()
    iid = uuid7()
    made = create_keys(key_dir, iid)
    path = key_dir / f"{iid}.key"
    assert path.is_file() and [p.name for p in key_dir.iterdir()] == [path.name]
    if sys.platform != "win32":
        assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_keys(key_dir, iid)
    assert loaded.signing_public == made.signing_public and len(loaded.signing_public) == 32
    assert loaded.encryption_public == made.encryption_public and len(loaded.encryption_public) == 32
    assert verify_signature(made.signing_public, loaded.sign(b"data"), b"data")
    assert not verify_signature(made.signing_public, loaded.sign(b"data"), b"other")
    assert "PRIVATE KEY" in path.read_text(encoding="utf-8")
    assert "PRIVATE" not in repr(loaded) and made.signing_fingerprint in repr(loaded)
    with pytest.raises(KeyFileError):
        create_keys(key_dir, iid)  # never overwrites existing keys
    assert load_keys(key_dir, iid).signing_public == made.signing_public


def test_keys_missing_or_damaged(tmp_path):
    iid = uuid7()
    with pytest.raises(KeyFileError) as info:
        load_keys(tmp_path, iid)
    assert "本机密钥文件缺失或损坏" in info.value.message and "无法签名或解密同步文件" in info.value.message
    create_keys(tmp_path, iid)
    path = tmp_path / f"{iid}.key"
    good = path.read_text(encoding="utf-8")
    doc = json.loads(good)
    damaged = [b"", b"\xff\xfe garbage", good[: len(good) // 2].encode(),
               json.dumps({**doc, "ed25519_private": doc["ed25519_private"][:-60]}).encode(),
               json.dumps({**doc, "ed25519_private": doc["x25519_private"]}).encode(),  # wrong key type
               json.dumps({**doc, "installation_id": uuid7()}).encode(),
               json.dumps([1, 2]).encode()]
    for raw in damaged:
        path.write_bytes(raw)
        with pytest.raises(KeyFileError) as info:
            load_keys(tmp_path, iid)
        assert "本机密钥文件缺失或损坏" in info.value.message and str(path) in info.value.message


def test_fingerprint_format():
    keys = InstallationKeys.generate(uuid7())
    fp = fingerprint(keys.signing_public)
    assert re.fullmatch(r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}", fp)
    assert fp == keys.signing_fingerprint == fingerprint(bytes(keys.signing_public))
    assert fp.replace("-", "") == hashlib.sha256(keys.signing_public).hexdigest()[:16]
    assert fingerprint(keys.encryption_public) == keys.encryption_fingerprint != fp


def test_packages_carry_the_synced_schema_version_and_an_older_hub_reads_them(tmp_path, station, hub):
    """Migration 5 changed only local data: a package says 4, so a hub still on version 4 accepts it."""
    from db.store import synced_version

    path = write(tmp_path / "out", station, hub)
    assert read(path, hub, station).manifest["schema_version"] == synced_version() == 4
    assert read(path, hub, station, max_schema_version=4).ops
