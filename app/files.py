"""Durable file writes, in one place: a file is either complete under its name or absent.

`write_file_atomic` = `write_temp_file` (temp file beside the target, written and fsynced) + `publish_file`
(rename, then fsync the folder so the rename itself survives a power cut). The two halves are separate for the
sync exporter, which records a package in its ledger between them (app/sync/exporter.py).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from app.errors import AppError


class FileWriteError(AppError):
    """A file could not be written completely; nothing was left behind in its place. `__cause__` is the OSError."""


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Complete file or none; raises FileWriteError (temp file removed); an existing file at `path` is replaced."""
    return publish_file(write_temp_file(path, data, mode=mode), path)


def write_temp_file(path: Path, data: bytes, *, mode: int = 0o644) -> Path:
    """First half of an atomic write: `data` durable in a `.part` file beside `path` (removed on failure)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise FileWriteError(f"无法写入文件夹 {path.parent}：{exc.strerror or exc}", file=str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileWriteError(f"写入文件 {path} 失败：{exc.strerror or exc}（文件未生成）", file=str(path)) from exc
    return Path(tmp)


def publish_file(tmp: Path, path: Path) -> Path:
    """Second half: give the temp file its final name and make the rename durable (temp removed on failure)."""
    try:
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileWriteError(f"写入文件 {path} 失败：{exc.strerror or exc}（文件未生成）", file=str(path)) from exc
    fsync_dir(path.parent)
    return path


def fsync_file(path: Path) -> None:
    # Windows flushes only handles open for writing.
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); Windows cannot open folders this way and needs no such step."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
