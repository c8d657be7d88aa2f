"""AttachmentService: scans of signed forms attached to visits, problems and enterprises, stored by SHA-256.

The file content goes into `blobs` (one copy per hash, inside the database, so backups and transactions
cover it); `attachments` rows point at it and sync like any record. Adding or removing an attachment also
writes an audit entry against its owner, so the visit's or problem's history shows it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from pathlib import Path

from app.clock import local_date_of
from app.context import Context
from app.errors import NotFoundError, StoreError, ValidationError
from app.validate import choice, text

MAX_BYTES = 25 * 1024 * 1024
CHUNK = 1024 * 1024
KINDS = ("扫描件", "照片", "其他")
OWNERS = {"visits": "走访记录", "problems": "问题", "enterprises": "企业"}
# (label, mime, magic prefixes): recognised by content, never by the file name's extension.
TYPES = (
    ("PDF", "application/pdf", (b"%PDF",)),
    ("JPG", "image/jpeg", (b"\xff\xd8\xff",)),
    ("PNG", "image/png", (b"\x89PNG\r\n\x1a\n",)),
    ("TIFF", "image/tiff", (b"II*\x00", b"MM\x00*")),
)
ACCEPTED = "PDF、JPG、PNG 或 TIFF"
TYPE_LABELS = {mime: label for label, mime, _ in TYPES}
# Record numbers as printed under the QR code, e.g. ZF2026-AB12-0007 (visit) or WT2026-AB12-0012 (problem).
_RECORD_NO = re.compile(r"(ZF|WT)\d{4}-[0-9A-Z]{4}-\d{4,}")
# The QR code on a printed form: "ZQ:V:" (visit) or "ZQ:P:" (problem) + the record id as 32 hex digits.
_QR_PAYLOAD = re.compile(r"ZQ:([VP]):([0-9A-F]{32})")
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def human_size(n: int) -> str:
    """File size as a cadre reads it: 512 B, 38.2 KB, 3.4 MB."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def sniff_mime(head: bytes) -> str | None:
    """The mime type of a PDF/JPEG/PNG/TIFF file from its first bytes; None for anything else."""
    for _label, mime, prefixes in TYPES:
        if any(head.startswith(p) for p in prefixes):
            return mime
    return None


def safe_filename(name: str) -> str:
    """A file name usable on Windows too (a name synced from elsewhere may hold any character)."""
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:150] or "附件"


class AttachmentService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # -- adding ------------------------------------------------------------------------------------
    def _owner(self, owner_table: str, owner_id: str | None) -> str:
        if owner_table not in OWNERS:
            raise ValidationError(f"不能给“{owner_table}”添加附件。", field="owner_table")
        label = OWNERS[owner_table]
        if not owner_id or not self.ctx.store.one(
            f"SELECT 1 FROM {owner_table} WHERE id = ? AND deleted = 0", (owner_id,)
        ):
            raise NotFoundError(f"要添加附件的{label}不存在或已删除。")
        return label

    @staticmethod
    def _read(path: str | os.PathLike[str]) -> tuple[str, bytes, str]:
        """(file name, content, mime) of a file that is acceptable as an attachment."""
        p = Path(path)
        name = p.name
        try:
            if not p.is_file():
                raise ValidationError(f"找不到文件“{p}”。", field="path", file=str(p))
            size = p.stat().st_size
            if size > MAX_BYTES:
                raise _too_big(name, size, p)
            digest, chunks, total = hashlib.sha256(), [], 0
            with p.open("rb") as f:
                while chunk := f.read(CHUNK):
                    total += len(chunk)
                    if total > MAX_BYTES:  # grew since stat()
                        raise _too_big(name, total, p)
                    digest.update(chunk)
                    chunks.append(chunk)
        except OSError as exc:
            raise ValidationError(f"无法读取文件“{name}”：{exc.strerror or exc}", field="path", file=str(p)) from None
        if not total:
            raise ValidationError(f"文件“{name}”是空文件（0 字节），不能作为附件。", field="path", file=str(p))
        data = b"".join(chunks)
        mime = sniff_mime(data[:8])
        if mime is None:
            raise ValidationError(
                f"文件“{name}”不是可接受的扫描件格式。可添加 {ACCEPTED} 文件。", field="path", file=str(p)
            )
        return name, data, mime

    def add(
        self, owner_table: str, owner_id: str, path: str | os.PathLike[str], *, kind: str = "扫描件", note: str = ""
    ) -> str:
        """Attach the file at `path` to a record; returns the attachment id. One transaction, audited on both."""
        self._owner(owner_table, owner_id)
        kind = choice(kind, KINDS, "附件类别", "kind")
        note = text(note, "附件说明", "note", max_len=500)
        name, data, mime = self._read(path)
        filename = text(name, "文件名", "path", required=True, max_len=255)
        sha = hashlib.sha256(data).hexdigest()
        with self.ctx.writing() as w:
            same = self._listed(owner_table, owner_id, sha=sha)
            if same:
                raise ValidationError(
                    f"该文件已作为附件添加过（{same[0]['filename']}，{same[0]['added_on']}）",
                    field="path",
                    file=str(path),
                )
            # Same hash, same bytes: stored once. A copy found damaged is replaced by these good bytes.
            w.conn.execute(
                "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO UPDATE "
                "SET size = excluded.size, data = excluded.data WHERE blobs.data IS NOT excluded.data",
                (sha, len(data), data),
            )
            att_id = w.insert(
                "attachments",
                {
                    "owner_table": owner_table,
                    "owner_id": owner_id,
                    "sha256": sha,
                    "filename": filename,
                    "mime": mime,
                    "size": len(data),
                    "kind": kind,
                    "note": note,
                },
                action="添加附件",
            )
            w.annotate(
                f"添加附件：{kind}",
                owner_table,
                owner_id,
                {"attachment_id": att_id, "filename": filename, "sha256": sha, "size": len(data)},
            )
        return att_id

    # -- reading -----------------------------------------------------------------------------------
    def _listed(self, owner_table: str, owner_id: str, *, sha: str | None = None) -> list[dict]:
        sql = (
            "SELECT a.*, coalesce(au.at, a.updated_at) AS added_at, coalesce(au.operator, a.updated_by) AS operator "
            "FROM attachments a LEFT JOIN audit_log au ON au.id = ("
            "  SELECT id FROM audit_log WHERE table_name = 'attachments' AND row_id = a.id AND before IS NULL"
            "  ORDER BY at LIMIT 1) "
            "WHERE a.owner_table = ? AND a.owner_id = ? AND a.deleted = 0"
        )
        params: list = [owner_table, owner_id]
        if sha is not None:
            sql += " AND a.sha256 = ?"
            params.append(sha)
        rows = self.ctx.store.query(sql + " ORDER BY added_at DESC, a.id DESC", tuple(params))
        out = []
        for r in rows:
            d = dict(r)
            d["type"] = TYPE_LABELS.get(d["mime"], d["mime"])
            d["added_on"] = local_date_of(d["added_at"]).isoformat()
            out.append(d)
        return out

    def list(self, owner_table: str, owner_id: str) -> list[dict]:
        """The record's attachments, newest first: the row plus type (PDF/JPG/…), added_at/added_on and operator."""
        if owner_table not in OWNERS:
            raise ValidationError(f"“{owner_table}”没有附件。", field="owner_table")
        return self._listed(owner_table, owner_id)

    def get(self, attachment_id: str) -> dict:
        """One attachment row (deleted ones too: history may still show them)."""
        row = self.ctx.store.one("SELECT * FROM attachments WHERE id = ?", (attachment_id,))
        if row is None:
            raise NotFoundError(f"附件不存在：{attachment_id}")
        return dict(row)

    def data(self, attachment_id: str) -> bytes:
        """The file's bytes, checked against the SHA-256 it was stored under."""
        att = self.get(attachment_id)
        blob = self.ctx.store.one("SELECT data FROM blobs WHERE sha256 = ?", (att["sha256"],))
        if blob is None:
            raise StoreError(f"附件“{att['filename']}”的文件内容不在本数据库中（可能尚未随同步文件收到）。")
        data = bytes(blob[0])
        if len(data) != att["size"] or hashlib.sha256(data).hexdigest() != att["sha256"]:
            raise StoreError(
                f"附件内容已损坏：“{att['filename']}”与保存时的校验值不符。请从备份恢复数据库，或重新扫描后添加。"
            )
        return data

    def export(self, attachment_id: str, dest_path: str | os.PathLike[str], *, action: str = "导出附件") -> Path:
        """Write the file to `dest_path` atomically (temp file in the same folder, fsync, rename); logged."""
        data = self.data(attachment_id)
        dest = Path(dest_path)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise ValidationError(
                f"无法保存文件“{dest}”：{exc.strerror or exc}", field="dest_path", file=str(dest)
            ) from None
        # A signed scan carries names and phone numbers: DESIGN §7 wants exports of personal data logged.
        with self.ctx.writing() as w:
            w.record_access(action, "attachments", attachment_id, ["data"])
        return dest

    # -- removing ----------------------------------------------------------------------------------
    def remove(self, attachment_id: str) -> bool:
        """Tombstone the attachment and note it on the owner; the blob stays for history. False if already gone."""
        att = self.get(attachment_id)
        if att["deleted"]:
            return False
        with self.ctx.writing() as w:
            if not w.delete("attachments", attachment_id, action="删除附件"):
                return False
            w.annotate(
                f"删除附件：{att['kind']}",
                att["owner_table"],
                att["owner_id"],
                {
                    "attachment_id": attachment_id,
                    "filename": att["filename"],
                    "sha256": att["sha256"],
                    "size": att["size"],
                },
            )
        return True

    # -- finding the record of a printed form ------------------------------------------------------
    def find_owner(self, record_no: str) -> tuple[str, str] | None:
        """The record whose number (printed under the QR code, typed) or QR code (scanned) is `record_no`.

        Returns ("visits", id) for a ZF… number, ("problems", id) for a WT… number, None if there is none.
        Full-width characters, spaces, lower case and text around the number (a scanned QR payload) are ignored.
        """
        cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", record_no or "")).upper()
        if qr := _QR_PAYLOAD.search(cleaned):
            table = "visits" if qr.group(1) == "V" else "problems"
            h = qr.group(2).lower()
            row_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            if self.ctx.store.one(f"SELECT 1 FROM {table} WHERE id = ? AND deleted = 0", (row_id,)):
                return table, row_id
            return None
        if m := _RECORD_NO.search(cleaned):
            cleaned = m.group(0)
        if not cleaned:
            return None
        tables = {"ZF": ("visits",), "WT": ("problems",)}.get(cleaned[:2], ("visits", "problems"))
        for table in tables:
            row = self.ctx.store.one(
                f"SELECT id FROM {table} WHERE record_no = ? AND deleted = 0 ORDER BY updated_at DESC LIMIT 1",
                (cleaned,),
            )
            if row is not None:
                return table, row[0]
        return None


def _too_big(name: str, size: int, p: Path) -> ValidationError:
    return ValidationError(
        f"文件“{name}”大小为 {human_size(size)}，超过附件上限 {human_size(MAX_BYTES)}。"
        "请降低扫描分辨率或分成几个文件后再添加。",
        field="path",
        file=str(p),
    )
