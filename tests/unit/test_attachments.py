"""app/attachments.py and migration 0002: scans attached to visits and problems, stored once by SHA-256."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest

import db.store as store_mod
from app.attachments import MAX_BYTES, AttachmentService
from app.errors import NotFoundError, StoreError, ValidationError
from app.problems import ProblemInput
from app.services import Services
from db.store import latest_version, open_store
from tests.unit.conftest import make_uscc

# --- sample files --------------------------------------------------------------------------------


def pdf_bytes(text: str = "signed") -> bytes:
    body = f"1 0 obj << /Type /Catalog >> endobj % {text}\n".encode()
    return b"%PDF-1.4\n" + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def png_bytes(seed: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00" + bytes([seed % 256, 0, 0])  # one RGB pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture
def files(tmp_path) -> Path:
    return tmp_path / "scans"


@pytest.fixture
def visit_id(world) -> str:
    ent = world.enterprise("郑州扫描测试有限公司")
    return world.visit(
        [ent], problems=[ProblemInput(enterprise_id=ent, category_code="labour", description="招工难，缺少熟练技工。")]
    )


@pytest.fixture
def problem_id(svc, visit_id) -> str:
    return svc.visits.get(visit_id)["problems"][0]["id"]


def audit_of(svc, table: str, row_id: str) -> list[dict]:
    return [
        dict(r)
        for r in svc.store.query(
            "SELECT * FROM audit_log WHERE table_name = ? AND row_id = ? ORDER BY at, id", (table, row_id)
        )
    ]


def max_seq(svc) -> int:
    return svc.store.scalar("SELECT coalesce(max(seq), 0) FROM outbox")


# --- adding --------------------------------------------------------------------------------------


def test_add_pdf_to_visit_lists_it_and_stores_blob(svc, visit_id, files):
    path = write(files, "走访记录表-签字.pdf", pdf_bytes())
    att_id = svc.attachments.add("visits", visit_id, path)
    (row,) = svc.attachments.list("visits", visit_id)
    assert row["id"] == att_id
    assert row["filename"] == "走访记录表-签字.pdf" and row["mime"] == "application/pdf" and row["type"] == "PDF"
    assert row["size"] == len(pdf_bytes()) and row["kind"] == "扫描件"
    assert row["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    assert row["operator"] == "张三" and row["added_at"].endswith("Z")
    assert svc.store.scalar("SELECT count(*) FROM blobs") == 1
    assert svc.attachments.data(att_id) == pdf_bytes()


def test_png_on_problem_and_newest_first(svc, problem_id, files):
    first = svc.attachments.add("problems", problem_id, write(files, "a.png", png_bytes(1)))
    second = svc.attachments.add("problems", problem_id, write(files, "b.pdf", pdf_bytes("b")), note="回访签字")
    rows = svc.attachments.list("problems", problem_id)
    assert [r["id"] for r in rows] == [second, first]
    assert rows[1]["mime"] == "image/png" and rows[1]["type"] == "PNG"
    assert rows[0]["note"] == "回访签字"


def test_jpeg_and_tiff_recognised_by_content_not_extension(svc, visit_id, files):
    jpg = write(files, "scan.dat", b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    tif = write(files, "scan.TIF", b"II*\x00" + b"\x01" * 64)
    svc.attachments.add("visits", visit_id, jpg)
    svc.attachments.add("visits", visit_id, tif)
    assert {r["mime"] for r in svc.attachments.list("visits", visit_id)} == {"image/jpeg", "image/tiff"}


def test_same_file_twice_on_same_owner_refused(svc, visit_id, files):
    svc.attachments.add("visits", visit_id, write(files, "first.pdf", pdf_bytes()))
    counts = (svc.store.scalar("SELECT count(*) FROM attachments"), max_seq(svc))
    with pytest.raises(ValidationError) as err:
        svc.attachments.add("visits", visit_id, write(files, "copy.pdf", pdf_bytes()))
    assert err.value.message.startswith("该文件已作为附件添加过（first.pdf，")
    assert (svc.store.scalar("SELECT count(*) FROM attachments"), max_seq(svc)) == counts


def test_oversize_file_refused_naming_file_and_size(svc, visit_id, files):
    big = files / "太大的扫描件.pdf"
    files.mkdir()
    with big.open("wb") as f:
        f.write(b"%PDF-1.4\n")
        f.truncate(MAX_BYTES + 1024 * 1024)
    with pytest.raises(ValidationError) as err:
        svc.attachments.add("visits", visit_id, big)
    assert "太大的扫描件.pdf" in err.value.message and "26.0 MB" in err.value.message and "25" in err.value.message
    assert svc.store.scalar("SELECT count(*) FROM attachments") == 0


def test_wrong_type_refused_naming_file_and_accepted_types(svc, visit_id, files):
    path = write(files, "记录.docx", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ValidationError) as err:
        svc.attachments.add("visits", visit_id, path)
    assert "记录.docx" in err.value.message
    assert all(t in err.value.message for t in ("PDF", "JPG", "PNG", "TIFF"))
    assert svc.store.scalar("SELECT count(*) FROM blobs") == 0


def test_missing_empty_file_and_unknown_owner(svc, visit_id, files):
    with pytest.raises(ValidationError) as err:
        svc.attachments.add("visits", visit_id, files / "不存在.pdf")
    assert "不存在.pdf" in err.value.message
    with pytest.raises(ValidationError) as err:
        svc.attachments.add("visits", visit_id, write(files, "空.pdf", b""))
    assert "空.pdf" in err.value.message
    path = write(files, "ok.pdf", pdf_bytes())
    with pytest.raises(NotFoundError):
        svc.attachments.add("visits", "no-such-visit", path)
    with pytest.raises(ValidationError):
        svc.attachments.add("cadres", visit_id, path)
    assert svc.store.scalar("SELECT count(*) FROM attachments") == 0


def test_same_content_on_two_owners_stored_once(svc, visit_id, problem_id, files):
    path = write(files, "签字.pdf", pdf_bytes())
    a = svc.attachments.add("visits", visit_id, path)
    b = svc.attachments.add("problems", problem_id, path)
    assert a != b
    assert svc.store.scalar("SELECT count(*) FROM blobs") == 1
    assert svc.store.scalar("SELECT count(*) FROM attachments") == 2
    assert svc.attachments.data(a) == svc.attachments.data(b) == pdf_bytes()


# --- reading -------------------------------------------------------------------------------------


def test_corrupted_blob_detected(svc, visit_id, files):
    att_id = svc.attachments.add("visits", visit_id, write(files, "坏.pdf", pdf_bytes()))
    sha = svc.attachments.get(att_id)["sha256"]
    svc.store.conn.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (pdf_bytes("tampered"), sha))
    with pytest.raises(StoreError) as err:
        svc.attachments.data(att_id)
    assert "附件内容已损坏" in err.value.message and "坏.pdf" in err.value.message
    with pytest.raises(StoreError):
        svc.attachments.export(att_id, files / "out.pdf")
    assert not (files / "out.pdf").exists()


def test_export_is_atomic_and_logged(svc, visit_id, tmp_path, files):
    att_id = svc.attachments.add("visits", visit_id, write(files, "签字.pdf", pdf_bytes()))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "签字.pdf").write_bytes(b"old content")
    dest = svc.attachments.export(att_id, out_dir / "签字.pdf")
    assert dest.read_bytes() == pdf_bytes()
    assert sorted(p.name for p in out_dir.iterdir()) == ["签字.pdf"]  # no temp file left
    (entry,) = [a for a in audit_of(svc, "attachments", att_id) if a["action"] == "导出附件"]
    assert json.loads(entry["after"]) == {"accessed_fields": ["data"]}


def test_export_to_unwritable_place_names_it(svc, visit_id, tmp_path, files):
    att_id = svc.attachments.add("visits", visit_id, write(files, "签字.pdf", pdf_bytes()))
    blocker = write(tmp_path, "blocker", b"x")  # a file where a folder should be
    with pytest.raises(ValidationError) as err:
        svc.attachments.export(att_id, blocker / "签字.pdf")
    assert "签字.pdf" in err.value.message


# --- history, removal, sync ----------------------------------------------------------------------


def test_add_writes_audit_on_attachment_and_owner_and_outbox(svc, visit_id, files):
    seq = max_seq(svc)
    att_id = svc.attachments.add("visits", visit_id, write(files, "签字.pdf", pdf_bytes()))
    ops = [
        (r["table_name"], r["op"], r["row_id"])
        for r in svc.store.query("SELECT * FROM outbox WHERE seq > ? ORDER BY seq", (seq,))
    ]
    assert ops[0] == ("attachments", "insert", att_id)
    assert [o[:2] for o in ops] == [("attachments", "insert"), ("audit_log", "insert"), ("audit_log", "insert")]
    new = json.loads(svc.store.scalar("SELECT new FROM outbox WHERE seq = ?", (seq + 1,)))
    assert new["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest() and new["owner_id"] == visit_id
    assert "data" not in new  # blobs travel by hash, not inside the row
    (own,) = audit_of(svc, "attachments", att_id)
    assert own["action"] == "添加附件" and own["operator"] == "张三"
    on_visit = [a for a in audit_of(svc, "visits", visit_id) if a["action"].startswith("添加附件")]
    assert [a["action"] for a in on_visit] == ["添加附件：扫描件"]
    details = json.loads(on_visit[0]["after"])
    assert details["filename"] == "签字.pdf" and details["size"] == len(pdf_bytes())
    assert details["sha256"] == hashlib.sha256(pdf_bytes()).hexdigest()
    assert on_visit[0]["before"] is None
    assert svc.store.scalar("SELECT rev FROM visits WHERE id = ?", (visit_id,)) == 1  # the visit itself unchanged


def test_remove_tombstones_keeps_blob_and_history(svc, problem_id, files):
    path = write(files, "回访签字.png", png_bytes())
    att_id = svc.attachments.add("problems", problem_id, path)
    seq = max_seq(svc)
    assert svc.attachments.remove(att_id) is True
    assert svc.attachments.list("problems", problem_id) == []
    row = svc.store.one("SELECT * FROM attachments WHERE id = ?", (att_id,))
    assert row["deleted"] == 1 and row["rev"] == 2
    assert svc.store.scalar("SELECT count(*) FROM blobs") == 1
    assert svc.attachments.data(att_id) == png_bytes()  # history can still show it
    ops = [(r["table_name"], r["op"]) for r in svc.store.query("SELECT * FROM outbox WHERE seq > ?", (seq,))]
    assert ops[0] == ("attachments", "delete")
    actions = [a["action"] for a in audit_of(svc, "problems", problem_id)]
    assert "添加附件：扫描件" in actions and "删除附件：扫描件" in actions
    assert svc.attachments.remove(att_id) is False  # twice: no-op
    # Added again after removal: allowed, the blob is reused.
    again = svc.attachments.add("problems", problem_id, path)
    assert again != att_id and svc.store.scalar("SELECT count(*) FROM blobs") == 1


def test_failed_add_leaves_nothing(svc, visit_id, files, monkeypatch):
    from db.changes import ChangeWriter

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ChangeWriter, "annotate", boom)
    before = (
        svc.store.scalar("SELECT count(*) FROM blobs"),
        svc.store.scalar("SELECT count(*) FROM attachments"),
        max_seq(svc),
    )
    with pytest.raises(RuntimeError):
        svc.attachments.add("visits", visit_id, write(files, "签字.pdf", pdf_bytes()))
    after = (
        svc.store.scalar("SELECT count(*) FROM blobs"),
        svc.store.scalar("SELECT count(*) FROM attachments"),
        max_seq(svc),
    )
    assert after == before


def test_find_owner_by_printed_record_number(svc, visit_id, problem_id):
    visit_no = svc.visits.get(visit_id)["record_no"]
    problem_no = svc.problems.get(problem_id)["record_no"]
    assert visit_no.startswith("ZF") and problem_no.startswith("WT")
    assert svc.attachments.find_owner(visit_no) == ("visits", visit_id)
    assert svc.attachments.find_owner(problem_no) == ("problems", problem_id)
    assert svc.attachments.find_owner(f"  {visit_no.lower()} ") == ("visits", visit_id)
    wide = visit_no.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})  # typed with a full-width IME
    assert svc.attachments.find_owner(wide) == ("visits", visit_id)
    assert svc.attachments.find_owner(f"助企工作台 {problem_no} 问题交办单") == ("problems", problem_id)
    assert svc.attachments.find_owner("ZF1999-0000-0001") is None
    assert svc.attachments.find_owner("") is None


def test_service_is_registered(svc):
    assert isinstance(svc.attachments, AttachmentService)


# --- migration -----------------------------------------------------------------------------------


def test_migration_from_version_1_keeps_data_and_backs_up(tmp_path, monkeypatch):
    real = store_mod._migrations()
    assert latest_version() >= 2 and real[1].VERSION == 2
    path = tmp_path / "data" / "zhuqi.db"
    monkeypatch.setattr(store_mod, "_migrations", lambda: real[:1])
    old = Services.open(path)
    old.initialise(role="station", unit_name="金水区", operator="张三")
    # Written as version 1 stored it (today's services expect today's tables).
    ent = "01900000-0000-7000-8000-000000000001"
    with old.store.transaction() as conn:
        conn.execute("INSERT INTO enterprises (id, origin, updated_at, updated_by, uscc, name, unit_id) "
                     "VALUES (?,?,?,?,?,?,?)", (ent, "I-TEST", "2025-01-01T00:00:00Z", "张三",
                                                make_uscc(7), "郑州老库企业有限公司", old.installation.unit_id))
    assert old.store.scalar("PRAGMA user_version") == 1
    assert old.store.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'attachments'") == 0
    old.close()
    monkeypatch.setattr(store_mod, "_migrations", lambda: real)

    svc = Services.open(path)
    try:
        assert svc.store.scalar("PRAGMA user_version") == latest_version()
        assert svc.enterprises.get(ent)["name"] == "郑州老库企业有限公司"
        assert svc.store.scalar("SELECT count(*) FROM enterprise_facts WHERE enterprise_id = ?", (ent,)) == 1
        assert svc.installation.operator == "张三"
        assert svc.store.scalar("PRAGMA integrity_check") == "ok"
        att = svc.attachments.add("enterprises", ent, write(tmp_path / "scans", "营业执照.png", png_bytes()))
        assert svc.attachments.data(att) == png_bytes()
    finally:
        svc.close()
    backups = list((path.parent / "backups").glob("*.db"))
    assert len(backups) == 1 and "before-v" in backups[0].name
    conn = sqlite3.connect(backups[0])
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT name FROM enterprises WHERE id = ?", (ent,)).fetchone()[0] == "郑州老库企业有限公司"
    finally:
        conn.close()


def test_attachments_schema(tmp_path):
    s = open_store(tmp_path / "zhuqi.db")
    try:
        cols = {r["name"]: r for r in s.query("PRAGMA table_info(attachments)")}
        assert {
            "id",
            "origin",
            "rev",
            "updated_at",
            "updated_by",
            "deleted",
            "owner_table",
            "owner_id",
            "sha256",
            "filename",
            "mime",
            "size",
            "kind",
            "note",
        } <= set(cols)
        assert cols["kind"]["dflt_value"] == "'扫描件'"
        with pytest.raises(sqlite3.IntegrityError):  # owner_table is checked by the schema too
            s.conn.execute(
                "INSERT INTO attachments (id, origin, updated_at, updated_by, owner_table, owner_id, "
                "sha256, filename, mime, size) VALUES ('a', 'o', 't', 'o', 'cadres', 'x', 'h', 'f', 'm', 1)"
            )
        assert {r["name"] for r in s.query("PRAGMA table_info(blobs)")} == {"sha256", "size", "data"}
        assert "attachments_owner" in {r["name"] for r in s.query("PRAGMA index_list(attachments)")}
    finally:
        s.close()


def test_find_owner_reads_the_qr_code_of_a_printed_form(svc, world):
    """The QR code on every printed visit record / problem sheet leads back to its record."""
    from app.pdf.document import Record

    ent = world.enterprise()
    vid = world.visit([ent])
    visit = svc.visits.get(vid)
    payload = Record(key=vid, kind="visit", title="走访记录表", number=visit["record_no"]).payload
    assert payload.startswith("ZQ:V:") and len(payload) == 37
    assert svc.attachments.find_owner(payload) == ("visits", vid)
    assert svc.attachments.find_owner(payload.lower()) == ("visits", vid)  # some scanners send lower case
    assert svc.attachments.find_owner("ZQ:V:" + "0" * 32) is None
