"""Every way a package must be refused (DESIGN §5 Import: verify everything first, then one transaction).

Each rejection must leave the importing database byte-for-byte unchanged (an SQL dump's hash, and no new row in
packages_in) and give an ImportResult with status "rejected", a Chinese message naming the file and a stable
`reason` code for programs.

The network is built once per module (a district hub that has already imported one package from its station, a
second package from that station not yet imported, and a stranger that joined the hub but was never enrolled) and
copied into a fresh folder for every test, so tests may change it freely.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from syncnet import db_digest, deliver, export, link, site, up

from app import cli, demo
from app.clock import now_utc
from app.ids import uuid7
from app.installation import set_setting
from app.services import Services
from app.sync.enrollment import trusted_signer
from app.sync.exporter import reference_version
from app.sync.identity import load_identity_keys
from app.sync.keys import InstallationKeys
from app.sync.package import MAGIC, Package, canonical_json, package_file_name, read_package, seal, summarise
from db.changes import SYNCED_TABLES
from db.store import latest_version

_HEAD = struct.Struct(">6sBI")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_REASON = re.compile(r"[a-z][a-z_]*\Z")
# Every code a damaged file may be refused with (which one depends on where the damage is).
DAMAGE_REASONS = {"bad_magic", "unsupported_format", "bad_manifest", "not_canonical", "truncated", "reader_too_old",
                  "schema_too_new", "bad_signature", "unknown_signer", "fingerprint_mismatch", "wrong_recipient",
                  "too_large", "trailing_data", "decrypt_failed", "unsupported_algorithm", "manifest_mismatch"}


# ---------------------------------------------------------------- the network


@dataclass
class Net:
    root: Path
    hub: Services  # district hub: enrolled `st`, already imported its first package
    st: Services  # station
    stranger: Services  # a station that joined the hub's invite but was never enrolled
    pending: Path  # st's second package (not yet imported by the hub)


def _open(folder: Path, name: str) -> Services:
    services = Services.open(folder / name / f"{name}.db")
    services.folder = folder / name
    return services


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("base")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHUQI_DATA_DIR", str(root / "userdata"))
        hub = site(root, "hub", "district", "金水区", "钱区")
        st = site(root, "st", "station", "金水区", "王磊")
        stranger = site(root, "stranger", "station", "金水区", "孙强")
        link(hub, st)
        stranger.sync.join(hub.sync.make_invite(hub.folder), stranger.folder)  # never enrolled by the hub
        demo.generate(st, size="small", seed=1)
        deliver(hub, up(st))
        ent = st.store.scalar("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id LIMIT 1")
        st.enterprises.update(ent, {"address": "金水路 1 号"})
        pending = up(st)
        for s in (hub, st, stranger):
            s.close()
    return root, pending.relative_to(root)


@pytest.fixture
def net(base, tmp_path, monkeypatch):
    root, pending = base
    copy_root = tmp_path / "net"
    shutil.copytree(root, copy_root)
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(copy_root / "userdata"))
    n = Net(copy_root, _open(copy_root, "hub"), _open(copy_root, "st"), _open(copy_root, "stranger"),
            copy_root / pending)
    yield n
    for s in (n.hub, n.st, n.stranger):
        s.close()


# ---------------------------------------------------------------- helpers


def packages_in(services: Services) -> int:
    return services.store.scalar("SELECT count(*) FROM packages_in")


def file_bytes_digest(services: Services) -> str:
    """The database file and its write-ahead log, byte for byte."""
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        f = Path(f"{services.store.path}{suffix}")
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()


def refused(services: Services, path: Path, reason: str | set[str] | None = None, *, dump: bool = True):
    """Import `path`, which must be refused without changing anything; returns the result. Unchanged means: no
    row written through the connection, the same file bytes (database and WAL) and, unless dump=False (loops
    compare the dump once around the loop instead), the same SQL dump."""
    conn = services.store.conn
    before = db_digest(services.store.path) if dump else None
    rows, files, changes = packages_in(services), file_bytes_digest(services), conn.total_changes
    [result] = services.sync.import_files([path])
    assert result.status == "rejected", result
    assert Path(path).name in result.message, result.message
    assert _CHINESE.search(result.message), result.message
    assert result.reason and _REASON.match(result.reason), result
    if isinstance(reason, str):
        assert result.reason == reason, result
    elif reason is not None:
        assert result.reason in reason, result
    assert result.applied == 0
    assert packages_in(services) == rows
    assert conn.total_changes == changes and not conn.in_transaction
    assert file_bytes_digest(services) == files, f"{Path(path).name} ({result.reason}) changed the database file"
    if dump:
        assert db_digest(services.store.path) == before, f"{Path(path).name} ({result.reason}) changed the database"
    return result


def decode(path: Path, reader: Services) -> Package:
    """Read a package as `reader` does (it must be addressed to it and from someone it trusts)."""
    keys = load_identity_keys(reader.store, reader.installation.id)
    return read_package(path, recipient=keys, trusted_signers=trusted_signer(reader))


def sender_keys(services: Services) -> InstallationKeys:
    return load_identity_keys(services.store, services.installation.id)


def hub_public(hub: Services) -> bytes:
    return sender_keys(hub).encryption_public


def forge(folder: Path, template: dict, ops: list[dict], *, sender: InstallationKeys, recipient_public: bytes,
          plaintext: bytes | None = None, sort: bool = True, **changes) -> Path:
    """A package signed by `sender` with the manifest of `template` but these operations (ranges, counts, size and
    hash computed from them unless `changes` overrides them; "body" in changes is merged into the body)."""
    manifest = copy.deepcopy(template)
    if sort:
        ops = sorted(ops, key=lambda o: (o["origin"], o["seq"]))
    ranges, counts, _ = summarise(ops)
    counts = {t: n for t, n in counts.items() if t in SYNCED_TABLES}  # seal() checks them; the reader checks ops first
    if plaintext is None:
        plaintext = b"".join(canonical_json(op) + b"\n" for op in ops)
    manifest.update(package_id=uuid7(), created_at=now_utc(), ops=ranges, counts=counts,
                    source_installation=sender.installation_id, source_key_fingerprint=sender.signing_fingerprint)
    manifest["body"] = {"plaintext_size": len(plaintext), "plaintext_sha256": hashlib.sha256(plaintext).hexdigest()}
    body = changes.pop("body", {})
    manifest.update(changes)
    manifest["body"].update(body)
    data = seal(manifest, zlib.compress(plaintext, 6), sender=sender, recipient_public_x25519=recipient_public)
    path = folder / package_file_name(manifest)
    path.write_bytes(data)
    return path


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def parts(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(manifest bytes, signature, body) of a package file."""
    _, _, mlen = _HEAD.unpack_from(data)
    end = _HEAD.size + mlen
    return data[_HEAD.size:end], data[end + 2:end + 66], data[end + 66:]


def assemble(manifest_bytes: bytes, signature: bytes, body: bytes, version: int = 1) -> bytes:
    return _HEAD.pack(MAGIC, version, len(manifest_bytes)) + manifest_bytes + struct.pack(">H", len(signature)) \
        + signature + body


@pytest.fixture
def bad_dir(tmp_path) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    return folder


# ---------------------------------------------------------------- damage on the way


def test_one_flipped_bit_anywhere_is_refused(net, bad_dir):
    data = net.pending.read_bytes()
    manifest_bytes, _, body = parts(data)
    m_start, s_start = _HEAD.size, _HEAD.size + len(manifest_bytes) + 2
    b_start = s_start + 64
    assert b_start + len(body) == len(data)
    boundaries = {
        *range(_HEAD.size),  # magic, format version, manifest length
        m_start, m_start + 1, m_start + len(manifest_bytes) // 2, s_start - 3,  # manifest (first, middle, last)
        s_start - 2, s_start - 1,  # signature length
        s_start, s_start + 32, b_start - 1,  # signature
        b_start, b_start + 11, b_start + 12,  # nonce, first ciphertext byte
        b_start + len(body) // 2, len(data) - 17, len(data) - 16, len(data) - 1,  # middle, last byte, the tag
    }
    rng = random.Random(20261122)
    spread = (*rng.sample(range(m_start, s_start - 2), 16), *rng.sample(range(s_start, b_start), 8),
              *rng.sample(range(b_start, len(data)), 20), *rng.sample(range(len(data)), 6))
    positions = sorted(boundaries | set(spread))
    assert len(positions) >= 60
    seen = {}
    before = db_digest(net.hub.store.path)
    for n, pos in enumerate(positions):
        damaged = bytearray(data)
        damaged[pos] ^= 1 << rng.randrange(8)
        path = write(bad_dir, f"flip{n:02d}_{pos}.zqpkg", bytes(damaged))
        result = refused(net.hub, path, DAMAGE_REASONS, dump=False)
        seen[pos] = result.reason
        path.unlink()
    assert db_digest(net.hub.store.path) == before
    # header damage is named as such, body damage fails the authenticated decryption
    assert seen[0] == "bad_magic" and seen[6] == "unsupported_format"
    assert all(seen[p] == "decrypt_failed" for p in positions if p >= b_start)
    assert all(seen[p] in ("bad_signature", "fingerprint_mismatch") for p in positions if s_start <= p < b_start)
    # the undamaged file still imports afterwards: the refusals left nothing behind
    [ok] = net.hub.sync.import_files([net.pending])
    assert ok.status == "imported", ok.message


def test_truncated_empty_and_random_files_are_refused(net, bad_dir):
    data = net.pending.read_bytes()
    manifest_bytes, _, body = parts(data)
    b_start = _HEAD.size + len(manifest_bytes) + 66
    lengths = [1, 3, 6, 7, 10, 11, 12, _HEAD.size + len(manifest_bytes) // 2, _HEAD.size + len(manifest_bytes),
               _HEAD.size + len(manifest_bytes) + 1, b_start - 10, b_start, b_start + 12, b_start + len(body) // 2,
               len(data) - 16, len(data) - 1]
    before = db_digest(net.hub.store.path)
    for n in lengths:
        refused(net.hub, write(bad_dir, f"cut_{n}.zqpkg", data[:n]), "truncated", dump=False)
    assert db_digest(net.hub.store.path) == before
    refused(net.hub, write(bad_dir, "empty.zqpkg", b""), "empty")
    rng = random.Random(7)
    noise = bytes(rng.getrandbits(8) for _ in range(4096))
    refused(net.hub, write(bad_dir, "noise.zqpkg", b"\x00" + noise), "bad_magic")
    refused(net.hub, write(bad_dir, "zip.zqpkg", b"PK\x03\x04" + noise), "bad_magic")
    refused(net.hub, write(bad_dir, "magic_noise.zqpkg", MAGIC + noise), DAMAGE_REASONS)
    refused(net.hub, write(bad_dir, "magic_v1_noise.zqpkg", MAGIC + b"\x01" + noise), DAMAGE_REASONS)
    refused(net.hub, write(bad_dir, "trailing.zqpkg", data + b"\x00"), "trailing_data")
    refused(net.hub, bad_dir / "missing.zqpkg", "unreadable")


# ---------------------------------------------------------------- who sent it


def test_package_from_an_installation_never_enrolled_is_refused(net):
    path = up(net.stranger)
    result = refused(net.hub, path, "unknown_signer")
    assert net.stranger.installation.id in result.message


def test_package_from_a_revoked_installation_is_refused(net):
    assert net.hub.sync.revoke(net.st.installation.id, "电脑丢失")
    result = refused(net.hub, net.pending, "unknown_signer")
    assert "撤销" in result.message


def test_signature_by_another_key_is_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    thief = InstallationKeys.generate(net.st.installation.id)  # same installation id, a key nobody enrolled
    # honest about its key fingerprint: not the enrolled key
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=thief, recipient_public=hub_public(net.hub))
    refused(net.hub, path, "fingerprint_mismatch")
    # claims the enrolled key's fingerprint: the signature does not verify
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=thief, recipient_public=hub_public(net.hub),
                 source_key_fingerprint=sender_keys(net.st).signing_fingerprint)
    refused(net.hub, path, "bad_signature")


def test_package_for_another_hub_is_refused(net, tmp_path):
    other = site(tmp_path, "other_hub", "district", "金水区", "周区")
    try:
        link(other, net.st)  # the station now reports to another hub too; its next export goes there
        path = up(net.st)
        assert decode(path, other).manifest["recipient_installation"] == other.installation.id
        refused(net.hub, path, "wrong_recipient")
    finally:
        other.close()


def test_manifest_naming_another_recipient_installation_is_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub),
                 recipient_installation=net.stranger.installation.id)
    refused(net.hub, path, "wrong_recipient")


# ---------------------------------------------------------------- tampering


def test_tampered_manifest_with_the_original_signature_is_refused(net, bad_dir):
    data = net.pending.read_bytes()
    manifest_bytes, signature, body = parts(data)
    manifest = json.loads(manifest_bytes)
    manifest["counts"]["enterprises"] += 1
    refused(net.hub, write(bad_dir, "counts.zqpkg", assemble(canonical_json(manifest), signature, body)),
            "bad_signature")
    manifest = json.loads(manifest_bytes)
    manifest["body"]["plaintext_size"] //= 100  # a smaller declared size, to slip a bomb through
    refused(net.hub, write(bad_dir, "size.zqpkg", assemble(canonical_json(manifest), signature, body)),
            "bad_signature")
    manifest = json.loads(manifest_bytes)  # same content, not the signed bytes
    loose = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    refused(net.hub, write(bad_dir, "loose.zqpkg", assemble(loose, signature, body)), "not_canonical")


def test_tampered_body_is_refused(net, bad_dir):
    data = net.pending.read_bytes()
    manifest_bytes, signature, body = parts(data)
    for n, pos in enumerate((20, len(body) // 3, len(body) - 20)):
        damaged = bytearray(body)
        damaged[pos] = (damaged[pos] + 1) % 256
        refused(net.hub, write(bad_dir, f"body{n}.zqpkg", assemble(manifest_bytes, signature, bytes(damaged))),
                "decrypt_failed")
    # a body sealed for this manifest's sender but swapped in from another package of the same sender
    other = forge(bad_dir, decode(net.pending, net.hub).manifest, decode(net.pending, net.hub).ops[:5],
                  sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    _, _, other_body = parts(other.read_bytes())
    refused(net.hub, write(bad_dir, "swapped.zqpkg", assemble(manifest_bytes, signature, other_body)),
            {"truncated", "trailing_data", "decrypt_failed"})


def test_schema_version_from_the_future_is_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub),
                 schema_version=latest_version() + 1)
    result = refused(net.hub, path, "schema_too_new")
    assert "升级" in result.message
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub),
                 min_reader_version=99)
    refused(net.hub, path, "reader_too_old")


def test_same_package_id_with_other_content_is_refused(net, bad_dir):
    deliver(net.hub, net.pending)
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    edit = next(op for op in ops if op["table_name"] == "enterprises" and op["op"] == "update")
    edit["new"]["address"] = "另一个地址"
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub),
                 package_id=pkg.package_id)
    refused(net.hub, path, "same_id_other_content")
    # with fewer operations, too
    path = forge(bad_dir, pkg.manifest, pkg.ops[:-1], sender=sender_keys(net.st),
                 recipient_public=hub_public(net.hub), package_id=pkg.package_id)
    refused(net.hub, path, "same_id_other_content")


def test_replayed_older_reference_data_is_refused_by_the_station(net):
    hub, st = net.hub, net.st
    [old] = export(hub, to=st.installation.id)
    with hub.store.transaction():
        set_setting(hub.store, "reference.version", "2")
    [new] = export(hub, to=st.installation.id)
    deliver(st, new)
    assert reference_version(st.store) == 2
    result = refused(st, old, "old_reference")
    assert "旧" in result.message


def test_declared_size_far_smaller_than_the_real_one_is_refused_as_a_bomb(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    keys, public = sender_keys(net.st), hub_public(net.hub)
    bomb = b" " * (64 * 1024 * 1024)  # 64 MB of spaces, about 64 KB compressed
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=keys, recipient_public=public, plaintext=bomb,
                 body={"plaintext_size": 1000})
    assert path.stat().st_size < 1024 * 1024
    refused(net.hub, path, "bomb")
    # the real operations, declared one byte short
    plain = b"".join(canonical_json(op) + b"\n" for op in pkg.ops)
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=keys, recipient_public=public,
                 body={"plaintext_size": len(plain) - 1})
    refused(net.hub, path, "bomb")
    # ... and one byte long: not a bomb, but the size does not match
    path = forge(bad_dir, pkg.manifest, pkg.ops, sender=keys, recipient_public=public,
                 body={"plaintext_size": len(plain) + 1})
    refused(net.hub, path, "hash_mismatch")


# ---------------------------------------------------------------- what is inside


def _first(ops: list[dict], table: str, kind: str) -> int:
    return next(i for i, op in enumerate(ops) if op["table_name"] == table and op["op"] == kind)


@pytest.mark.parametrize("damage", ["missing_name", "unknown_column", "nested_value", "id_mismatch",
                                    "update_append_only", "delete_with_values"])
def test_operation_with_a_record_of_the_wrong_shape_is_refused_naming_it(net, bad_dir, damage):
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    i = _first(ops, "enterprises", "insert")
    op = ops[i]
    if damage == "missing_name":
        del op["new"]["name"]
    elif damage == "unknown_column":
        op["new"]["secret_column"] = 1
    elif damage == "nested_value":
        op["new"]["address"] = {"street": "金水路"}
    elif damage == "id_mismatch":
        op["new"]["id"] = uuid7()
    elif damage == "update_append_only":
        i = _first(ops, "audit_log", "insert")
        ops[i].update(op="update", old={"operator": "王磊"}, new={"operator": "别人"})
    elif damage == "delete_with_values":
        i = _first(ops, "enterprises", "update")
        ops[i].update(op="delete", old={}, new={"deleted": 1, "name": "x"})
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, "bad_record")
    assert f"第 {i + 1} 条操作" in result.message, result.message


def test_operation_with_a_foreign_origin_from_a_station_is_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    foreign = copy.deepcopy(ops[10])
    foreign["origin"] = net.stranger.installation.id  # a station speaking for another installation
    foreign["seq"] = 1
    path = forge(bad_dir, pkg.manifest, [*ops, foreign], sender=sender_keys(net.st),
                 recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, "foreign_origin")
    assert "条操作" in result.message and "其他安装" in result.message


# Our container is not zip: the body is one JSON-Lines stream of operations (app/sync/package.py), so there are
# no member names to check for "..", absolute paths or duplicates. The equivalents are checked instead: the same
# operation (origin + seq) twice, a row id or table name that looks like a path, and a table that is not synced.


def test_duplicate_operation_is_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    path = forge(bad_dir, pkg.manifest, [*ops[:20], ops[19], *ops[20:]], sender=sender_keys(net.st),
                 recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, "manifest_mismatch")
    assert "第 21 条操作" in result.message and "重复" in result.message
    # a second, different operation under the same origin + seq (a replaced member, in zip terms)
    twin = copy.deepcopy(ops[19])
    twin["at"] = now_utc()
    path = forge(bad_dir, pkg.manifest, [*ops[:20], twin, *ops[20:]], sender=sender_keys(net.st),
                 recipient_public=hub_public(net.hub), sort=False)
    refused(net.hub, path, "manifest_mismatch")


def test_operations_out_of_order_are_refused(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    ops[3], ops[4] = ops[4], ops[3]
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub),
                 sort=False)
    refused(net.hub, path, "manifest_mismatch")


@pytest.mark.parametrize("table", ["../enterprises", "/etc/passwd", "sqlite_master", "settings",
                                   "enterprises; DROP TABLE units", "packages_in"])
def test_operation_on_a_table_that_is_not_synced_is_refused(net, bad_dir, table):
    pkg = decode(net.pending, net.hub)
    ops = copy.deepcopy(pkg.ops)
    i = _first(ops, "enterprises", "insert")
    ops[i]["table_name"] = table
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, "bad_operation")
    assert f"第 {i + 1} 条操作" in result.message


def _fresh_enterprise(ops: list[dict], row_id: str) -> tuple[list[dict], int]:
    """`ops` plus a new enterprise insert (the next seq, so the hub has not seen it and would really apply it) whose
    id is `row_id`; returns the operations and the new one's position (0-based)."""
    op = copy.deepcopy(next(o for o in ops if o["table_name"] == "enterprises" and o["op"] == "insert"))
    op["seq"] = max(o["seq"] for o in ops) + 1
    op["row_id"] = op["new"]["id"] = row_id  # consistent with the record, so only the id itself is wrong
    op["new"].update(uscc=None, name="路径测试企业")  # no twin to merge with
    return [*ops, op], len(ops)


@pytest.mark.parametrize("row_id", ["", "x" * 129])
def test_operation_with_an_empty_or_overlong_row_id_is_refused(net, bad_dir, row_id):
    pkg = decode(net.pending, net.hub)
    ops, i = _fresh_enterprise(pkg.ops, row_id)
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, "bad_operation")
    assert f"第 {i + 1} 条操作" in result.message


# APP BUG (fails until fixed): op_problem() (app/sync/package.py) only checks that row_id is a string of 1-128
# characters, and Schema.shape_problem() (app/sync/merge.py) only that it equals new["id"]; so a correctly signed
# package can create records whose id is "../x", "/etc/passwd", a Windows path or contains NUL/control characters.
# Nothing uses a row id as a file name today, but the issue asks for these to be refused (DESIGN §5: every record's
# shape is verified first; ids are UUIDv7, or "kind:名称" for vocabulary). Suggested fix in op_problem(): refuse a
# row_id that starts with "." or contains "/", "\\" or a character below U+0020 (or U+007F) — e.g.
# re.compile(r"[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,127}\Z") — with reason "bad_operation"; and, in
# shape_problem(), the same for every *_id column of new/old.
@pytest.mark.parametrize("row_id", ["../x", "/etc/passwd", "..\\..\\windows\\x", "a\x00b"])
def test_operation_with_a_path_like_row_id_is_refused(net, bad_dir, row_id):
    pkg = decode(net.pending, net.hub)
    ops, i = _fresh_enterprise(pkg.ops, row_id)
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    result = refused(net.hub, path, {"bad_operation", "bad_record"})
    assert f"第 {i + 1} 条操作" in result.message


def test_forged_fresh_operation_is_really_applied_when_its_id_is_fine(net, bad_dir):
    """Control for the test above: the same forged operation with a proper id is imported (so a refusal there is
    about the id, not about the forgery)."""
    pkg = decode(net.pending, net.hub)
    ops, _ = _fresh_enterprise(pkg.ops, uuid7())
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    [result] = net.hub.sync.import_files([path])
    assert result.status == "imported", result.message
    assert net.hub.store.scalar("SELECT count(*) FROM enterprises WHERE id = ?", (ops[-1]["row_id"],)) == 1


# ---------------------------------------------------------------- the chain


def test_fork_is_refused_and_gap_imports_with_a_note(net):
    hub, st = net.hub, net.st
    ent = st.store.scalar("SELECT id FROM enterprises WHERE deleted = 0 ORDER BY id DESC LIMIT 1")
    st.enterprises.update(ent, {"address": "花园路 8 号"})
    third = up(st)  # follows `pending`, which the hub has not seen: a gap
    [result] = hub.sync.import_files([third])
    assert result.status == "imported", result.message
    assert "缺口" in result.message
    assert hub.store.scalar("SELECT chain FROM packages_in WHERE file_name = ?", (third.name,)) == "gap"
    [filled] = hub.sync.import_files([net.pending])  # the missing one arrives late: fine
    assert filled.status == "imported" and "缺口" not in filled.message, filled.message

    # the station is restored from an old backup (it forgets what it sent) and exports again: a second
    # package that claims to be the first one
    with st.store.transaction():
        set_setting(st.store, f"sync.previous_package.{hub.installation.id}", None)
    st.enterprises.update(ent, {"address": "农业路 3 号"})
    fork = up(st)
    assert decode(fork, hub).manifest["previous_package_sha256"] is None
    result = refused(hub, fork, "fork")
    assert "分叉" in result.message


# ---------------------------------------------------------------- the command line


def test_cli_prints_one_line_per_file_and_exits_3_when_any_is_refused(net, bad_dir, capsys):
    hub_db = str(net.hub.store.path)
    data = net.pending.read_bytes()
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x10
    flipped = write(bad_dir, "flipped.zqpkg", bytes(damaged))
    empty = write(bad_dir, "empty.zqpkg", b"")
    stranger = up(net.stranger)
    net.hub.close()
    before = db_digest(Path(hub_db))

    code = cli.main(["sync", "import", "--db", hub_db, str(flipped), str(empty), str(stranger)])
    out, _ = capsys.readouterr()
    assert code == 3
    lines = out.strip().splitlines()
    assert len(lines) == 3
    for line, path in zip(lines, (flipped, empty, stranger), strict=True):
        assert line.startswith("被拒绝") and path.name in line, line
    assert db_digest(Path(hub_db)) == before

    code = cli.main(["sync", "import", "--db", hub_db, "--json", str(net.pending), str(flipped), str(empty)])
    out, _ = capsys.readouterr()
    assert code == 3
    results = json.loads(out)
    assert [r["status"] for r in results] == ["imported", "rejected", "rejected"]
    assert [r["reason"] for r in results] == [None, "decrypt_failed", "empty"]
    assert all(Path(r["file"]).name in r["message"] for r in results)

    code = cli.main(["sync", "import", "--db", hub_db, "--json", str(net.pending)])
    out, _ = capsys.readouterr()
    assert code == 0
    [again] = json.loads(out)
    assert again["status"] == "already" and again["reason"] is None
    net.hub = Services.open(Path(hub_db))  # closed by the fixture


# ---------------------------------------------------------------- app bugs found while writing these tests


def _fresh_event(ops: list[dict], **new) -> list[dict]:
    """`ops` plus a new problem event (the next seq) on a problem the hub already holds."""
    op = copy.deepcopy(next(o for o in ops if o["table_name"] == "problem_events" and o["op"] == "insert"))
    op["seq"] = max(o["seq"] for o in ops) + 1
    op["row_id"] = op["new"]["id"] = uuid7()
    op["new"].update(new)
    return [*ops, op]


# APP BUG (fails until fixed), two in one:
# 1. A problem event whose data names a unit that does not exist (here a 交办 to "no-such-unit", correctly signed by
#    an enrolled station) passes every check, Merger._replay_problems() (app/sync/merge.py) folds it into
#    problems.lead_unit_id, and the deferred foreign key fails at COMMIT: import_files() raises
#    sqlite3.IntegrityError instead of returning a "rejected" result naming the file (DESIGN §5: "Any failure rolls
#    everything back and says why in plain Chinese, naming the file and record").
# 2. Worse, Store.transaction() (db/store.py) runs COMMIT outside its try/except, and SQLite keeps the transaction
#    open when a COMMIT fails on a deferred foreign key: the connection stays inside the half-applied import. The
#    same connection then sees the uncommitted packages_in row (importing the file again says "已导入过"), every
#    later write fails with "cannot start a transaction within a transaction", and closing the program loses it.
# Suggested fixes: in Store.transaction(), `try: COMMIT` / `except BaseException: if in_transaction: ROLLBACK;
# raise`; in importer.import_files(), turn an sqlite3.Error from the apply step into a per-file result (status
# "rejected", reason e.g. "apply_failed", a Chinese message naming the file); and check event data before the
# transaction: every *_id / *_unit_ids value in a problem event's data must name a record that is here or in the
# package (or let the operation wait), like Schema.parents does for columns.
def test_event_naming_a_missing_unit_is_refused_and_leaves_no_open_transaction(net, bad_dir):
    pkg = decode(net.pending, net.hub)
    ops = _fresh_event(pkg.ops, kind="交办", on_date="2026-11-20", from_status=None, to_status=None, note="",
                       data=json.dumps({"lead_unit_id": "no-such-unit", "deadline": "2026-12-20"}))
    path = forge(bad_dir, pkg.manifest, ops, sender=sender_keys(net.st), recipient_public=hub_public(net.hub))
    conn = net.hub.store.conn
    before = db_digest(net.hub.store.path)
    try:
        results = net.hub.sync.import_files([path])
    except Exception as exc:  # noqa: BLE001 - the bug: it escapes
        results = exc
    assert not conn.in_transaction, "a failed COMMIT left the import's transaction open"
    assert isinstance(results, list), f"import_files raised {results!r} instead of reporting the file"
    [result] = results
    assert result.status == "rejected" and path.name in result.message, result
    assert db_digest(net.hub.store.path) == before
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


# APP BUG (fails until fixed): two stations of one district that both made a department of the same name (the demo
# data does; so would two cadres adding the same 区直部门 by hand). The hub merges the second department into the
# first (sync_aliases, NATURAL_KEYS["units"]) and resolves aliases in foreign-key *columns*, but
# Merger._replay_problems() then recomputes problems.lead_unit_id (and assist_unit_ids) from the events' data, which
# still hold the second station's department ids: the deferred foreign key fails at COMMIT and the second station's
# package can never be imported (sqlite3.IntegrityError, and the open transaction of the bug above).
# Suggested fix: resolve aliases in the replayed state before writing it — for each (column, parent table) of
# Schema.parents["problems"] apply Merger._resolve(parent, value), and map each id in assist_unit_ids the same way;
# ProblemService's own replay (take_step / replayed_state) should do the same, e.g. through one shared helper that
# reads sync_aliases, or rewrite the ids in an event's data when the event is stored at import.
def test_two_stations_that_made_the_same_department_both_import(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUQI_DATA_DIR", str(tmp_path / "userdata"))
    hub = site(tmp_path, "hub", "district", "金水区", "钱区")
    stations = [site(tmp_path, f"st{i}", "station", "金水区", f"干部{i}") for i in range(2)]
    try:
        for st in stations:  # both join before the hub has any department from the other
            link(hub, st)
        for i, st in enumerate(stations):
            demo.generate(st, size="small", seed=1 + i)
        first, second = up(stations[0]), up(stations[1])
        deliver(hub, first)
        try:
            [result] = hub.sync.import_files([second])
        finally:
            assert not hub.store.conn.in_transaction
        assert result.status == "imported", result.message
        assert hub.store.scalar("SELECT count(*) FROM sync_aliases WHERE table_name = 'units'") > 0
        assert hub.store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        for s in (hub, *stations):
            s.close()
