"""Context: what every service needs — the store, who is acting, the working-day calendar."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from app.errors import StoreError
from app.installation import Installation, get_setting, load_installation, set_setting
from app.workcal import WorkCalendar
from db.changes import Actor, ChangeWriter
from db.store import Store

IMPORTED_CALENDAR_KEY = "calendar.imported"


class Context:
    def __init__(self, store: Store):
        self.store = store
        self._installation: Installation | None = None
        self._calendar: WorkCalendar | None = None

    @property
    def installation(self) -> Installation:
        if self._installation is None:
            self._installation = load_installation(self.store)
            if self._installation is None:
                raise StoreError("数据库尚未初始化：请先完成首次设置（或运行 main.py init）。")
        return self._installation

    @property
    def initialised(self) -> bool:
        return load_installation(self.store) is not None

    def forget_installation(self) -> None:
        self._installation = None

    def actor(self) -> Actor:
        inst = self.installation
        return Actor(installation_id=inst.id, operator=inst.operator)

    @contextlib.contextmanager
    def writing(self) -> Iterator[ChangeWriter]:
        """One user action: a transaction and the writer that records outbox + audit rows in it."""
        actor = self.actor()
        with self.store.transaction() as conn:
            yield ChangeWriter(conn, actor)

    @property
    def calendar(self) -> WorkCalendar:
        if self._calendar is None:
            cal = WorkCalendar.load_bundled()
            extra = get_setting(self.store, IMPORTED_CALENDAR_KEY)
            if extra:
                cal = cal.merged(WorkCalendar.from_dict(json.loads(extra)))
            self._calendar = cal
        return self._calendar

    def import_calendar(self, path: str) -> WorkCalendar:
        """Take a later year's calendar file (a hub distributes it); kept in settings, merged at load."""
        incoming = WorkCalendar.load_file(path)
        merged = self.calendar.merged(incoming)  # validates continuity before anything is saved
        with self.store.transaction():
            set_setting(self.store, IMPORTED_CALENDAR_KEY, json.dumps(incoming.to_dict(), ensure_ascii=False))
        self._calendar = merged
        return merged

    def next_number(self, prefix: str, year: int) -> str:
        """Next record number like ZF2026-AB12-0007 (per installation, so two PCs never collide)."""
        key = f"counter.{prefix}.{year}"
        with self.store.transaction():
            n = int(get_setting(self.store, key, "0")) + 1
            set_setting(self.store, key, str(n))
        return f"{prefix}{year}-{self.installation.short_code}-{n:04d}"
