"""SyncService: everything the 数据同步 screen and the `sync` commands do, over one installation's store.

Enrollment (invite / join / enroll / revoke) lives in app/sync/enrollment.py, export in exporter.py, import and
merge in importer.py and merge.py; this facade only puts them behind one object with plain-data results.

Progress callbacks have the demo generator's shape: progress(done, total, text) -> False to cancel (the work
is then rolled back / no file is left, and SyncCancelled is raised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from app.sync import enrollment, exporter, importer, ledger
from app.sync.identity import describe

Progress = Callable[[int, int, str], object]


class SyncService:
    def __init__(self, services):
        self.services = services

    @property
    def store(self):
        return self.services.store

    # -- who we are and whom we trust ------------------------------------------------------------------
    def identity(self) -> dict:
        """installation_id, role, role_label, unit, unit_id, operator, signing/encryption fingerprints, key file."""
        inst = self.services.installation
        info = {"installation_id": inst.id, "role": inst.role, "role_label": inst.role_label,
                "unit_id": inst.unit_id, "unit": self.services.reference.unit(inst.unit_id).name,
                "operator": inst.operator}
        info.update(describe(self.store, inst.id))
        return info

    def hub(self) -> dict | None:
        """The hub this installation reports to (from the invite it joined), or None."""
        return ledger.hub_info(self.services)

    def read_invite(self, path: Path) -> dict:
        """The verified invite, plus `signing_fingerprint` of the hub, for the operator to compare before joining."""
        return enrollment.describe_invite(path)

    def make_invite(self, out: Path) -> Path:
        return enrollment.make_invite(self.services, Path(out))

    def join(self, invite: Path, out: Path) -> tuple[Path, str]:
        """Trust the invite's hub, load its reference data, write our enrollment request.
        Returns (request file, hub signing fingerprint)."""
        return enrollment.join(self.services, Path(invite), Path(out))

    def read_request(self, path: Path) -> dict:
        return enrollment.read_request(self.services, Path(path))

    def enroll(self, request: dict) -> str:
        return enrollment.enroll(self.services, request)

    def enrolled(self) -> list[dict]:
        return enrollment.list_enrolled(self.services)

    def revoke(self, installation_id: str, note: str = "") -> bool:
        return enrollment.revoke(self.services, installation_id, note)

    # -- packages ------------------------------------------------------------------------------------------
    def recipients(self) -> list[dict]:
        """Whom this installation can write a package for: [{installation_id, label, kind: "up"|"down"}]."""
        return exporter.recipients(self.services)

    def pending(self) -> dict:
        """{"operations": not yet acknowledged by the hub, "last_export": ISO time or None,
        "last_acknowledged": ISO time or None} — for the screen's header."""
        return ledger.pending(self.services)

    def export(self, out_dir: Path, *, to: str | None = None, full: bool = False,
               progress: Progress | None = None) -> list[exporter.ExportResult]:
        """Write packages into `out_dir`: up to our hub by default; `to` = an enrolled installation id (a down
        package) or "all" (a down package for each enrolled installation). A backup is taken first (DESIGN §4)."""
        self.services.backups.before("export")
        return exporter.export(self.services, Path(out_dir), to=to, full=full, progress=progress)

    def import_files(self, paths: Iterable[Path], *, progress: Progress | None = None) -> list[importer.ImportResult]:
        """Import each file in its own transaction; one result per file, in order. Never raises for a bad file.
        A backup is taken first (DESIGN §4)."""
        self.services.backups.before("import")
        return importer.import_files(self.services, [Path(p) for p in paths], progress=progress)

    # -- what happened -------------------------------------------------------------------------------------
    def ledger(self, limit: int = 500) -> list[dict]:
        """Packages sent and received, newest first (see ledger.entries for the keys)."""
        return ledger.entries(self.services, limit)

    def conflicts(self, *, resolved: bool = False) -> list[dict]:
        """Both-sides edits waiting for a person (or, with resolved=True, the ones already decided)."""
        return ledger.conflicts(self.services, resolved=resolved)

    def resolve_conflict(self, conflict_id: int, keep: str) -> None:
        """keep="current": confirm the value the record has now; keep="other": put the other value in (as a
        normal edit, so it travels on like any change). The losing value stays in the conflict row."""
        importer.resolve_conflict(self.services, conflict_id, keep)

    def waiting(self) -> list[dict]:
        """Operations held until the record they need arrives."""
        return ledger.waiting(self.services)
