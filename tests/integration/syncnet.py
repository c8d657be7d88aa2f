"""A small sync network for tests: installations in folders under tmp_path, linked by invite → join → enroll,
exchanging real package files (the same calls the 数据同步 screen makes)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from app.services import Services

# Local bookkeeping that legitimately differs between databases holding the same records.
LOCAL_TABLES = {"settings", "outbox", "sync_seen", "relay_ops", "waiting_ops", "field_versions", "sync_conflicts",
                "sync_aliases", "packages_in", "packages_out", "sync_acks", "enrolled_installations", "trusted_hubs",
                "search_index_enterprise", "search_index_visit", "search_index_problem", "search_rows", "audit_log"}


def site(root: Path, name: str, role: str, unit: str, operator: str = "王磊") -> Services:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    services = Services.open(folder / f"{name}.db")
    services.initialise(role=role, unit_name=unit, operator=operator)
    services.folder = folder  # where this site's packages are written
    return services


def link(hub: Services, member: Services) -> None:
    invite = hub.sync.make_invite(hub.folder)
    request, _ = member.sync.join(invite, member.folder)
    hub.sync.enroll(hub.sync.read_request(request))


def export(src: Services, *, to: str | None = None, full: bool = False) -> list[Path]:
    out = src.folder / "out"
    out.mkdir(exist_ok=True)
    return [r.path for r in src.sync.export(out, to=to, full=full)]


def up(src: Services, **kw) -> Path:
    [path] = export(src, **kw)
    return path


def deliver(dst: Services, *paths: Path) -> list:
    results = dst.sync.import_files(list(paths))
    bad = [r for r in results if r.status == "rejected"]
    assert not bad, bad[0].message
    return results


def business_dump(services: Services) -> dict[str, list[tuple]]:
    """Every synced table's rows, sorted (local bookkeeping left out): equal dumps = the same records."""
    conn = services.store.conn
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                                         " 'sqlite_%' AND name NOT LIKE 'search_index%'")]
    out = {}
    for t in sorted(set(tables) - LOCAL_TABLES):
        if t == "blobs":
            continue
        out[t] = sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}"))  # noqa: S608 - test
    return out


def db_digest(path: Path) -> str:
    """A content hash of a database (an SQL dump, so WAL state does not matter)."""
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode())
        return h.hexdigest()
    finally:
        conn.close()
