"""Damage a database file as a failing disk does: noise over a table's pages, the file's size unchanged."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def damage_table(path: Path, table: str = "enterprises", *, keep_mtime: bool = False) -> None:
    """Overwrite every page of `table` after its header bytes with noise (optionally leaving the modification time,
    as damage that no write of ours explains)."""
    before = path.stat()
    conn = sqlite3.connect(path)
    pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    for p in pages:
        data[(p - 1) * size + 8:(p - 1) * size + 300] = os.urandom(292)
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
