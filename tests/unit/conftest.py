"""Fixtures for the service-level unit tests: a migrated, initialised template database built once per
session and copied for every test (Anki's getEmptyCol idea), plus a small helper for building records."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from app import uscc
from app.paths import resource_path
from app.problems import ProblemInput
from app.services import Services
from app.visits import VisitInput

JINSHUI = "U410105"  # 金水区: the station's own unit
ZHONGYUAN = "U410102"  # 中原区
CITY = "U410100"  # 郑州市
RENSHE = "D05"  # 市人社局 (a responsible department)
GONGXIN = "D02"  # 市工信局

# Tables whose rows a user action may write (settings holds the record-number counters).
WRITTEN_TABLES = ("enterprises", "cadres", "work_groups", "assignments", "visits", "visit_enterprises",
                  "visit_cadres", "visit_attendees", "problems", "problem_events", "audit_log", "outbox", "settings",
                  "units")


def make_uscc(n: int, region: str = "410105") -> str:
    """A valid USCC (correct 18th character) for test enterprise number n."""
    return uscc.make(f"91{region}MA{n:07d}")


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table_counts(store, tables=WRITTEN_TABLES) -> dict[str, int]:
    return {t: store.scalar(f"SELECT count(*) FROM {t}") for t in tables}


def settings_snapshot(store) -> dict[str, str]:
    return dict(store.query("SELECT key, value FROM settings"))


# ---------------------------------------------------------------- independent working-day calendar

def _load_calendar_json() -> tuple[set[date], set[date]]:
    raw = json.loads(resource_path("calendar", "cn_workdays.json").read_text(encoding="utf-8"))
    holidays = {date.fromisoformat(d) for d in raw["holidays"]}
    workdays = {date.fromisoformat(d) for d in raw["workdays"]}
    return holidays, workdays


_HOLIDAYS, _MAKEUP = _load_calendar_json()


def is_workday(d: date) -> bool:
    """Counted straight from the bundled JSON, independently of app.workcal."""
    if d in _MAKEUP:
        return True
    if d in _HOLIDAYS:
        return False
    return d.weekday() < 5


def nth_workday_after(start: date, n: int) -> date:
    d, left = start, n
    while left:
        d += timedelta(days=1)
        if is_workday(d):
            left -= 1
    return d


def workdays_in(a: date, b: date) -> int:
    """Working days in (a, b]."""
    return sum(1 for i in range(1, (b - a).days + 1) if is_workday(a + timedelta(days=i)))


# ---------------------------------------------------------------- databases

def build_template(path: Path) -> Path:
    svc = Services.open(path)
    try:
        svc.initialise(role="station", unit_name="金水区", operator="张三")
    finally:
        svc.close()
    return path


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    path = build_template(tmp_path_factory.mktemp("template") / "zhuqi.db")
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def copy_template(template: Path, dest_dir: Path, name: str = "zhuqi.db") -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / name
    shutil.copyfile(template, dest)
    return dest


@pytest.fixture
def db_path(template_db, tmp_path) -> Path:
    return copy_template(template_db, tmp_path / "data")


@pytest.fixture
def svc(db_path):
    s = Services.open(db_path)
    yield s
    s.close()


@dataclass
class World:
    """Shortcuts for building records through the real services."""

    svc: Services
    _n: int = 0

    @property
    def me(self) -> str:
        return self.svc.installation.cadre_id

    def enterprise(self, name: str | None = None, *, unit_id: str = JINSHUI, **fields) -> str:
        self._n += 1
        region = "410105" if unit_id == JINSHUI else "410102"
        data = {"uscc": make_uscc(self._n, region), "name": name or f"测试企业{self._n:03d}有限公司",
                "unit_id": unit_id, **fields}
        return self.svc.enterprises.create(data).id

    def cadre(self, name: str = "李四", unit_id: str = JINSHUI) -> str:
        return self.svc.people.add_cadre(name, unit_id)

    def problem(self, ent_id: str, *, registered_on: str = "2025-03-03", category: str = "labour",
                description: str = "企业反映招工困难，缺少熟练技工。", severity: str = "一般", level: str = "区县级",
                request: str = "") -> str:
        return self.svc.problems.register(ProblemInput(
            enterprise_id=ent_id, category_code=category, description=description, severity=severity,
            level=level, registered_on=registered_on, request=request))

    def visit(self, ent_ids: list[str], *, visit_date: str = "2025-03-03", kind: str = "实地走访",
              summary: str = "了解企业生产经营情况。", problems: list[ProblemInput] | None = None,
              cadre_ids: list[str] | None = None) -> str:
        return self.svc.visits.create(VisitInput(
            kind=kind, visit_date=visit_date, enterprise_ids=ent_ids, cadre_ids=cadre_ids or [self.me],
            summary=summary, problems=problems or []))

    # -- workflow shortcuts ------------------------------------------------------------------------
    def step(self, pid: str, kind: str, on_date: str, note: str = "", **form) -> list[str]:
        return self.svc.problems.take_step(pid, kind, on_date=on_date, note=note, **form)

    def assign(self, pid: str, on_date: str, lead: str = RENSHE, **form) -> list[str]:
        return self.step(pid, "交办", on_date, lead_unit_id=lead, **form)

    def resolve(self, pid: str, on_date: str, outcome: str = "已解决", note: str = "已协调解决。") -> list[str]:
        return self.step(pid, "办结", on_date, note=note, outcome=outcome)

    def revisit(self, pid: str, on_date: str, verdict: str = "满意", method: str = "电话") -> list[str]:
        return self.step(pid, "回访", on_date, method=method, verdict=verdict)


@pytest.fixture
def world(svc) -> World:
    return World(svc)
