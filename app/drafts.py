"""DraftStore: autosaved, not yet saved form input (one JSON file per form) for the UI to offer back after a crash.

Drafts live beside the database in `drafts/<database stem>/`, one file per key ("visit:new",
"enterprise:<id>", "problem-step:<problem id>:<step>"…). A file is replaced atomically (temp file,
fsync, os.replace), so a crash in the middle of a save leaves the previous draft whole; a damaged
file is logged and ignored. An in-memory database keeps no drafts: nothing of it survives a crash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.clock import now_utc
from app.files import fsync_dir

log = logging.getLogger(__name__)

DRAFTS_DIR = "drafts"
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]+")


@dataclass(frozen=True)
class Draft:
    key: str
    saved_at: datetime  # UTC, aware
    payload: dict


def drafts_folder(db_path: str | Path) -> Path | None:
    """Where the drafts of the database at `db_path` live (None for an in-memory database)."""
    if str(db_path) == ":memory:":
        return None
    path = Path(db_path)
    return path.parent / DRAFTS_DIR / path.stem


def file_name(key: str) -> str:
    """A safe file name for `key`: a readable prefix (never a path) and a hash that keeps keys apart."""
    readable = _UNSAFE.sub("_", key)[:40]
    return f"{readable}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}.json"


class DraftStore:
    """save / load / discard / keys of the drafts in one folder; with no folder every call is a no-op."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @classmethod
    def for_store(cls, store) -> DraftStore:
        """The drafts of a db.store.Store (by its path)."""
        return cls(drafts_folder(store.path))

    def path(self, key: str) -> Path | None:
        return self.folder / file_name(key) if self.folder is not None else None

    def save(self, key: str, payload: dict) -> None:
        """Write the draft atomically; raises OSError (the previous draft stays) when the disk refuses."""
        path = self.path(key)
        if path is None:
            return
        text = json.dumps({"key": key, "saved_at": now_utc(), "payload": payload}, ensure_ascii=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".draft-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(path.parent)

    def load(self, key: str) -> Draft | None:
        """The draft of `key`, or None when there is none or its file cannot be read (logged)."""
        path = self.path(key)
        if path is None or not path.exists():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc["key"] != key or not isinstance(doc["payload"], dict):
                raise ValueError("not the draft of this key")
            saved_at = datetime.fromisoformat(doc["saved_at"].replace("Z", "+00:00"))
            return Draft(key, saved_at, doc["payload"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("Ignoring unreadable draft %s (%s): %s", key, path.name, exc)
            return None

    def discard(self, key: str) -> None:
        """Delete the draft (if any); a file the OS will not delete is logged, not raised."""
        path = self.path(key)
        if path is None:
            return
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not delete draft %s (%s): %s", key, path.name, exc)

    def keys(self) -> list[str]:
        """Keys of the readable drafts, sorted."""
        if self.folder is None or not self.folder.is_dir():
            return []
        keys = []
        for path in self.folder.glob("*.json"):
            try:
                key = json.loads(path.read_text(encoding="utf-8"))["key"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("Ignoring unreadable draft %s: %s", path.name, exc)
                continue
            if isinstance(key, str) and path.name == file_name(key):
                keys.append(key)
        return sorted(keys)
