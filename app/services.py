"""Services: the composition of every use case over one store, built by main.py and passed to the UI/CLI."""

from __future__ import annotations

from functools import cached_property

from app.attachments import AttachmentService
from app.backups import BackupService
from app.context import Context
from app.drafts import DraftStore
from app.enterprises import EnterpriseService
from app.installation import Installation, set_setting, write_installation
from app.people import PeopleService
from app.problems import ProblemService
from app.reference import ReferenceService
from app.stats import StatsService
from app.visits import VisitService
from app.workbench import WorkbenchService
from db.store import Store, open_store


class Services:
    def __init__(self, store: Store, *, checked: bool = False):
        self.store = store
        self.checked = checked  # the whole file passed PRAGMA quick_check when it was opened
        self.ctx = Context(store)
        self.reference = ReferenceService(self.ctx)
        self.people = PeopleService(self.ctx)
        self.enterprises = EnterpriseService(self.ctx)
        self.problems = ProblemService(self.ctx)
        self.visits = VisitService(self.ctx, self.problems)
        self.stats = StatsService(self.ctx)
        self.workbench = WorkbenchService(self.ctx, self.enterprises, self.problems, self.visits)
        self.attachments = AttachmentService(self.ctx)
        self.backups = BackupService(store)
        self.drafts = DraftStore.for_store(store)

    # Built on first use: their modules (cryptography, the PDF forms) need not load for the window to appear.
    @cached_property
    def printing(self):
        from app.printing import PrintService

        return PrintService(self)

    @cached_property
    def roster(self):
        from app.roster.service import RosterService

        return RosterService(self)

    @cached_property
    def sync(self):
        from app.sync.service import SyncService

        return SyncService(self)

    @classmethod
    def open(cls, path, *, check: bool = False) -> Services:
        """check=True: quick_check first (GUI start); a damaged file raises DatabaseDamagedError."""
        store = open_store(path, check=check)
        return cls(store, checked=check and store.path != ":memory:")

    @property
    def installation(self) -> Installation:
        return self.ctx.installation

    def initialise(self, *, role: str, unit_name: str, operator: str, cadre_role: str | None = "助企干部",
                   post: str | None = None, phone: str | None = None) -> Installation:
        """First run: identity, role and unit; on a station the operator also becomes a cadre (for 我的包联)."""
        from app.sync.identity import create_identity, discard_identity

        unit = self.reference.unit_by_name(unit_name)
        inst = None
        try:
            with self.store.transaction():
                inst = write_installation(self.store, role=role, unit_id=unit.id, operator=operator)
                # The sync keys are made now (DESIGN §5): private halves in the data folder, public in settings.
                create_identity(self.store, inst.id)
                self.ctx.forget_installation()
                if role == "station" and cadre_role:
                    cadre_id = self.people.add_cadre(operator, unit.id, role=cadre_role, post=post, phone=phone)
                    set_setting(self.store, "installation.cadre_id", cadre_id)
                    self.ctx.forget_installation()
        except BaseException:
            if inst is not None:  # the database rolled back: take the key file back too
                discard_identity(self.store, inst.id)
            self.ctx.forget_installation()
            raise
        return self.installation

    def reader(self) -> Services:
        """Services over a second connection, for a worker thread (a SQLite connection stays in one thread).

        Close it when done (`close_reader`); an in-memory database has only the one connection.
        """
        return self if self.store.path == ":memory:" else Services(self.store.reopen())

    def close_reader(self, other: Services) -> None:
        if other is not self:
            other.close()

    def close(self) -> None:
        self.store.close()
