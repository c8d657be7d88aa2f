"""Realistic, deterministic demo data (演示数据) for training, screenshots, benchmarks and tests.

Every row is written through the same services and the same ChangeWriter as real work, so sync
columns, outbox operations and audit entries look exactly like a cadre's own records:

* ``size="small"``: one station's worth (~60 enterprises, ~150 visits, ~80 problems);
* ``size="city"``: the seeds' city scale (211 work groups, 5,084 cadres, 12,327 enterprises covered,
  24,570 enterprise-visits, 9,493 symposia, 11,449 problems), about a minute on two cores.

Both go through the public services only (EnterpriseService.create, VisitService.create,
ProblemService.take_step...), nested in one transaction.

Everything is generated from one ``random.Random(seed)`` in a fixed order, relative to ``clock.today()``
(visits cover the last twelve months): the same seed on the same day gives the same data. Names,
codes, phone numbers and policy titles are fictitious. The whole run is one transaction: if it fails
or is cancelled nothing is left behind. Demo data is only written into an empty database, never mixed
with real records (they would travel up in sync packages).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from app import lifecycle as lc
from app import uscc as uscc_rules
from app.clock import now_utc, today
from app.demo_text import (
    APPROVERS,
    BANKS,
    BRAND_1,
    BRAND_2,
    BUILDINGS,
    CADRE_ROLE_MIX,
    CATEGORIES,
    CATEGORY_CODES,
    CLOSINGS,
    CSO_POSTS,
    EXPLAINED_NOTE,
    EXPOS,
    FINANCE,
    FOLLOW_UPS,
    GIVEN_1,
    GIVEN_2,
    HONORS,
    LABOUR,
    LOCAL_DEPTS,
    LONGTERM_NOTE,
    NAME_PREFIX,
    OPS,
    POLICIES,
    POST_DEPTS,
    POST_OFFICES,
    POST_PREFIX,
    PROGRESS_NOTES,
    ROADS,
    SCALE_WEIGHTS,
    SUFFIXES,
    SURNAME_WEIGHTS,
    SURNAMES,
    TAG_EXTRAS,
    TECHS,
    TITLES,
    TOWNSHIPS,
    TRADES,
    UTILITY_COMPANIES,
)
from app.errors import AppError, ValidationError
from app.installation import get_setting, set_setting
from app.problems import ProblemInput
from app.visits import SYMPOSIUM, Attendee, VisitInput

SIZES = ("small", "city")
DEMO_SETTING = "demo.generated"
DEFAULT_UNIT = "金水区"
DEFAULT_OPERATOR = "王磊"

Progress = Callable[[int, int, str], object]


class DemoCancelled(AppError):
    """The progress callback asked to stop; the transaction was rolled back."""


# ------------------------------------------------------------------------------------------------
# Scale
# ------------------------------------------------------------------------------------------------

# Relative weight of each unit's "四上" enterprises (city scale) and whether it is mostly urban services.
UNIT_WEIGHTS = {
    "U410105": (1650, "urban"),
    "U410100ZD": (1250, "urban"),
    "U410171": (1050, "industrial"),
    "U410172": (950, "industrial"),
    "U410173": (900, "industrial"),
    "U410102": (700, "urban"),
    "U410103": (800, "urban"),
    "U410104": (700, "urban"),
    "U410108": (420, "urban"),
    "U410106": (230, "industrial"),
    "U410181": (720, "industrial"),
    "U410182": (620, "industrial"),
    "U410183": (600, "industrial"),
    "U410184": (900, "industrial"),
    "U410185": (420, "industrial"),
    "U410122": (620, "industrial"),
}


@dataclass(frozen=True)
class Scale:
    name: str
    covered: int  # enterprises with a 包联 cadre
    uncovered: int  # enterprises on the roster without one (new, or closed)
    groups: int
    cadres: int  # active cadres, including any already in the database
    enterprise_visits: int  # 家次 (visit × enterprise pairs)
    symposia: int
    problems: int
    home_share: float  # share of enterprises in the home unit (small) or None = by UNIT_WEIGHTS
    cso_per_unit: int


SCALES = {
    "small": Scale(
        "small",
        covered=56,
        uncovered=4,
        groups=4,
        cadres=16,
        enterprise_visits=172,
        symposia=62,
        problems=80,
        home_share=0.86,
        cso_per_unit=1,
    ),
    "city": Scale(
        "city",
        covered=12_327,
        uncovered=260,
        groups=211,
        cadres=5_084,
        enterprise_visits=24_570,
        symposia=9_493,
        problems=11_449,
        home_share=0.0,
        cso_per_unit=12,
    ),
}

# ------------------------------------------------------------------------------------------------
# Word banks
# ------------------------------------------------------------------------------------------------

def _cn_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ------------------------------------------------------------------------------------------------
# Plan records
# ------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Unit:
    id: str
    name: str
    kind: str
    profile: str
    region: str
    townships: tuple[str, ...]
    roads: tuple[str, ...]
    depts: dict[str, str] = field(default_factory=dict)  # LOCAL_DEPTS key -> unit id
    groups: list = field(default_factory=list)
    csos: list = field(default_factory=list)


@dataclass(eq=False)
class _Cadre:
    name: str
    unit: _Unit
    role: str
    rank: str
    post: str
    phone: str
    group: _Group | None = None
    id: str | None = None
    leaves_on: date | None = None  # 调离: assignments end, cadre made inactive


@dataclass(eq=False)
class _Group:
    name: str
    unit: _Unit
    id: str | None = None
    leader: _Cadre | None = None
    members: list = field(default_factory=list)
    ents: list = field(default_factory=list)


@dataclass(eq=False)
class _Assign:
    cadre: _Cadre
    role: str
    start: date
    end: date | None = None
    id: str | None = None


@dataclass(eq=False)
class _Ent:
    unit: _Unit
    data: dict
    trade: tuple
    key: bool
    weight: float
    group: _Group | None = None
    assigns: list = field(default_factory=list)
    id: str | None = None


@dataclass(eq=False)
class _Problem:
    ent: _Ent
    category: str
    title: str
    description: str
    request: str
    severity: str
    registered: date
    slots: dict
    fate: str = "normal"
    stop: str | None = None
    id: str | None = None


@dataclass(eq=False)
class _Visit:
    kind: str
    ents: list
    group: _Group | None = None
    day: date | None = None
    seq: int = 0
    statuses: dict = field(default_factory=dict)  # _Ent -> status seen
    problems: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Writer: the public services, exactly as the GUI saves
# ------------------------------------------------------------------------------------------------


class _ServiceSink:
    """Saves enterprises and visits exactly as the GUI does."""

    def __init__(self, services):
        self.s = services

    def enterprise(self, data: dict) -> str:
        return self.s.enterprises.create(data).id

    def visit(self, v: VisitInput, unit_id: str) -> tuple[str, list[str]]:
        vid = self.s.visits.create(v)
        pids = [
            r[0]
            for r in self.s.store.query(
                "SELECT id FROM problems WHERE visit_id = ? AND deleted = 0 ORDER BY rowid", (vid,)
            )
        ]
        return vid, pids


# ------------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------------


def ensure_initialised(services) -> bool:
    """Initialise an empty database as a 金水区 cadre station run by 王磊; False if it already was."""
    if services.ctx.initialised:
        return False
    services.initialise(
        role="station",
        unit_name=DEFAULT_UNIT,
        operator=DEFAULT_OPERATOR,
        cadre_role="服务专员",
        post="区发改委企业服务科四级主任科员",
        phone="13803710512",
    )
    return True


def business_rows(services) -> int:
    """Enterprises, visits and problems already in the database (demo data only goes into an empty one)."""
    return sum(services.store.scalar(f"SELECT count(*) FROM {t}") for t in ("enterprises", "visits", "problems"))


def generate(services, size: str = "small", seed: int = 1, progress: Progress | None = None) -> dict:
    """Fill an empty database with demo data; returns the counts (what the CLI prints).

    progress(done, total, text) is called now and then; returning False cancels (nothing is saved).
    """
    if size not in SCALES:
        raise ValidationError(f"演示数据规模“{size}”无效，可选：{'、'.join(SIZES)}。", field="size")
    started = time.perf_counter()
    ensure_initialised(services)
    existing = business_rows(services)
    if existing:
        raise ValidationError(
            f"数据库中已有 {existing} 条企业、走访或问题记录。演示数据只能生成到新的（空的）数据库中，"
            "以免与真实数据混在一起并被同步上报。请用 --db 指定一个新文件。",
            field="db",
        )
    gen = _Generator(services, SCALES[size], int(seed), progress)
    # One transaction for everything (the services' own transactions nest into it): fast, and a
    # cancelled or failed run leaves nothing behind.
    with services.ctx.writing():
        gen.sink = _ServiceSink(services)
        gen.run()
        set_setting(
            services.store,
            DEMO_SETTING,
            json.dumps(
                {"size": size, "seed": int(seed), "on": today().isoformat(), "at": now_utc()}, ensure_ascii=False
            ),
        )
    if services.store.path != ":memory:":
        services.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if progress is not None:
        progress(gen.total, gen.total, "完成")
    counts = counts_of(services)
    counts.update(size=size, seed=int(seed), seconds=round(time.perf_counter() - started, 1))
    return counts


def counts_of(services) -> dict:
    q = services.store.scalar
    return {
        "departments_added": q("SELECT count(*) FROM units WHERE deleted = 0 AND origin != 'reference'"),
        "work_groups": q("SELECT count(*) FROM work_groups WHERE deleted = 0"),
        "cadres": q("SELECT count(*) FROM cadres WHERE deleted = 0 AND active = 1"),
        "cadres_inactive": q("SELECT count(*) FROM cadres WHERE deleted = 0 AND active = 0"),
        "enterprises": q("SELECT count(*) FROM enterprises WHERE deleted = 0"),
        "assignments": q("SELECT count(*) FROM assignments WHERE deleted = 0"),
        "assignments_ended": q("SELECT count(*) FROM assignments WHERE deleted = 0 AND end_date IS NOT NULL"),
        "visits": q("SELECT count(*) FROM visits WHERE deleted = 0"),
        "symposia": q("SELECT count(*) FROM visits WHERE deleted = 0 AND kind = ?", (SYMPOSIUM,)),
        "enterprise_visits": q(
            "SELECT count(*) FROM visit_enterprises ve JOIN visits v ON v.id = ve.visit_id "
            "WHERE ve.deleted = 0 AND v.deleted = 0"
        ),
        "problems": q("SELECT count(*) FROM problems WHERE deleted = 0"),
        "problem_events": q("SELECT count(*) FROM problem_events WHERE deleted = 0"),
        "outbox": q("SELECT count(*) FROM outbox"),
        "audit_log": q("SELECT count(*) FROM audit_log"),
    }


def demo_info(services) -> dict | None:
    """What `generate` recorded in this database (size, seed, day), or None for a database without demo data."""
    raw = get_setting(services.store, DEMO_SETTING)
    return json.loads(raw) if raw else None


class _Generator:
    def __init__(self, services, scale: Scale, seed: int, progress: Progress | None):
        self.s = services
        self.scale = scale
        self.rng = random.Random(seed)
        self.progress = progress
        self.sink = None
        self.today = today()
        self.cal = services.ctx.calendar
        self.first_day = self.today - timedelta(days=364)
        self.inst = services.installation
        self.owns_city = services.problems.owns({"level": lc.LEVELS[1]})
        self.used_names: set[str] = set()
        self.used_codes: set[str] = set()
        self.done = 0
        self.total = 1
        self._last_tick = 0.0
        self._next_done = 0
        self.units: list[_Unit] = []
        self.cadres: list[_Cadre] = []
        self.ents: list[_Ent] = []
        self.visits: list[_Visit] = []
        self.problems: list[_Problem] = []
        self.me: _Cadre | None = None

    # -- helpers -----------------------------------------------------------------------------------
    def tick(self, n: int = 0, text: str = "", force: bool = False) -> None:
        self.done += n
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_tick < 0.2 and self.done < self._next_done:
            return
        self._last_tick = now
        self._next_done = self.done + max(1, self.total // 100)  # every 1 % of the work, or every 0.2 s
        if self.progress(min(self.done, self.total), self.total, text) is False:
            raise DemoCancelled("已取消生成演示数据，数据库未作任何修改。")

    def pick(self, pairs):
        items, weights = zip(*pairs, strict=True)
        return self.rng.choices(items, weights)[0]

    def person(self) -> str:
        surname = self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        if self.rng.random() < 0.38:
            return surname + self.rng.choice(GIVEN_1)
        if self.rng.random() < 0.5:
            return surname + self.rng.choice(GIVEN_2)
        return surname + self.rng.choice(GIVEN_1) + self.rng.choice(GIVEN_1)

    def mobile(self) -> str:
        head = self.rng.choice(("13", "15", "18"))
        third = self.rng.choice("0123456789" if head != "15" else "012356789")
        return f"{head}{third}{self.rng.randrange(10**8):08d}"

    def workday_near(self, d: date, n: int) -> date:
        return self.cal.add_workdays(d, n)

    def random_day(self, lo: date, hi: date, *, workday: bool = True) -> date:
        span = (hi - lo).days
        for _ in range(20):
            d = lo + timedelta(days=self.rng.randint(0, max(span, 0)))
            if not workday or self.cal.is_workday(d):
                return d
        return d

    # -- phases ------------------------------------------------------------------------------------
    def run(self) -> None:
        sc = self.scale
        self.total = sc.cadres + sc.covered * 2 + sc.uncovered + sc.enterprise_visits + sc.problems
        self.tick(text="准备单位和责任部门…", force=True)
        self.plan_units()
        self.make_departments()
        self.make_people()
        self.make_enterprises()
        self.make_assignments()
        self.plan_visits()
        self.plan_problems()
        self.write_visits()
        self.work_problems()

    def plan_units(self) -> None:
        ref = {u.id: u for u in self.s.reference.districts()}
        inst_unit = ref.get(self.inst.unit_id)
        home_id = inst_unit.id if inst_unit else self.s.reference.unit_by_name(DEFAULT_UNIT).id
        if self.inst.role == "station" and self.scale.name == "small":
            # A cadre's station works for its own unit only: its demo records export exactly like real work.
            # (The city-scale set spans every unit whatever the role: it reproduces the city's own figures.)
            ids = [home_id]
        elif self.scale.name == "small":
            others = [u for u in ("U410100ZD", "U410172", "U410171") if u != home_id][:2]
            ids = [home_id, *others]
        else:
            ids = [u for u in UNIT_WEIGHTS if u in ref]
            ids.sort(key=lambda u: u != home_id)  # home unit first
        for uid in ids:
            u = ref[uid]
            codes = [c for c in u.region_codes if len(c) == 6]
            region = (
                codes[0]
                if codes
                else {"U410171": "410171", "U410172": "410172", "U410173": "410173"}.get(uid, "410100")
            )
            self.units.append(
                _Unit(
                    uid,
                    u.name,
                    u.kind,
                    UNIT_WEIGHTS.get(uid, (1, "urban"))[1],
                    region,
                    _split(TOWNSHIPS.get(uid, "城区街道")),
                    _split(ROADS.get(uid, "中原路")),
                )
            )
        self.home = self.units[0]

    def make_departments(self) -> None:
        scope = self.units if self.scale.name == "city" else [self.home]
        existing = {r[0]: r[1] for r in self.s.store.query("SELECT name, id FROM units WHERE deleted = 0")}
        for u in scope:
            for key in LOCAL_DEPTS:
                name = f"{u.name}{key}"
                uid = existing.get(name) or self.s.reference.add_department(name, "区直部门", parent_id=u.id)
                u.depts[key] = uid
        self.unit_names = self.s.reference.unit_names()

    # -- people ------------------------------------------------------------------------------------
    def _shares(self, total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
        """Split `total` by weights (largest remainder), each at least `minimum`."""
        base = [minimum] * len(weights)
        rest = total - minimum * len(weights)
        s = sum(weights)
        raw = [rest * w / s for w in weights]
        out = [b + int(r) for b, r in zip(base, raw, strict=True)]
        order = sorted(range(len(weights)), key=lambda i: -(raw[i] - int(raw[i])))
        for i in order[: total - sum(out)]:
            out[i] += 1
        return out

    def _unit_weights(self) -> list[float]:
        if len(self.units) == 1:
            return [1.0]
        if self.scale.name == "small":
            rest = (1 - self.scale.home_share) / max(1, len(self.units) - 1)
            return [self.scale.home_share] + [rest] * (len(self.units) - 1)
        return [UNIT_WEIGHTS[u.id][0] for u in self.units]

    def _post(self, unit: _Unit, role: str) -> tuple[str, str]:
        rng = self.rng
        pre = POST_PREFIX.get(unit.kind, "区")
        township = rng.choice(unit.townships)
        town_office = "办事处" if township.endswith("街道") else ""
        if role == "首席服务官":
            return "县处级", rng.choice(CSO_POSTS.get(unit.kind, CSO_POSTS["区"]))
        dept = rng.choice(POST_DEPTS)
        head = "主任" if dept.endswith(("委", "办", "中心")) else "局长"
        if role == "工作组组长":
            if rng.random() < 0.25:
                return "县处级", rng.choice(CSO_POSTS.get(unit.kind, CSO_POSTS["区"]))
            if rng.random() < 0.5:
                return "科级", f"{pre}{dept}{head}"
            if town_office:
                return "科级", f"{township}办事处{rng.choice(('主任', '党工委副书记', '副主任'))}"
            return "科级", f"{township}{rng.choice(('镇长', '党委副书记', '副镇长'))}"
        if role in ("金牌店小二", "星级服务员") and rng.random() < 0.5:
            return "科级", f"{pre}{dept}副{head}"
        r = rng.random()
        if r < 0.3:
            return "科级", f"{pre}{dept}{rng.choice(POST_OFFICES)}科长"
        if r < 0.7:
            return (
                "一般干部",
                f"{pre}{dept}{rng.choice(POST_OFFICES)}{rng.choice(('科员', '四级主任科员', '一级科员'))}",
            )
        return "一般干部", f"{township}{town_office}经济发展办{rng.choice(('科员', '副主任', '四级主任科员'))}"

    def make_people(self) -> None:
        sc, rng, people = self.scale, self.rng, self.s.people
        weights = self._unit_weights()
        groups_per_unit = self._shares(sc.groups, weights, minimum=1)
        existing = {
            r[0]: r[1]
            for r in self.s.store.query(
                "SELECT unit_id, count(*) FROM cadres WHERE deleted = 0 AND active = 1 GROUP BY unit_id"
            )
        }
        existing_total = sum(existing.get(u.id, 0) for u in self.units)
        new_cadres = max(0, sc.cadres - existing_total)
        leavers = max(1, round(new_cadres * 0.01))  # 调离 during the year: inactive, on top of the active target
        cadres_per_unit = self._shares(new_cadres + leavers, weights, minimum=0)
        # The installation's own cadre joins the home unit's first group (so 我的包联 has content).
        own = self.inst.cadre_id
        for u, n_groups, n_cadres in zip(self.units, groups_per_unit, cadres_per_unit, strict=True):
            for i in range(1, n_groups + 1):
                g = _Group(f"{u.name}第{_cn_number(i)}工作组", u)
                g.id = people.add_work_group(g.name, u.id, note=f"{u.name}“万人助万企”助企工作组")
                u.groups.append(g)
            n_cso = min(sc.cso_per_unit, max(0, n_cadres - n_groups))
            roles = ["工作组组长"] * min(n_groups, n_cadres) + ["首席服务官"] * n_cso
            roles += [self.pick(CADRE_ROLE_MIX) for _ in range(n_cadres - len(roles))]
            for i, role in enumerate(roles):
                rank, post = self._post(u, role)
                c = _Cadre(self.person(), u, role, rank, post, self.mobile())
                if role == "工作组组长":
                    c.group = u.groups[i]
                elif role != "首席服务官":
                    c.group = u.groups[rng.randrange(len(u.groups))]
                c.id = people.add_cadre(
                    c.name,
                    u.id,
                    role=role,
                    rank=rank,
                    post=post,
                    phone=c.phone,
                    work_group_id=c.group.id if c.group else None,
                )
                if c.group:
                    c.group.members.append(c)
                    if role == "工作组组长":
                        c.group.leader = c
                        people.set_group_leader(c.group.id, c.id)
                else:
                    u.csos.append(c)
                self.cadres.append(c)
                self.tick(1, "正在登记工作组和助企干部…")
            if own and u is self.home and u.groups:
                row = people.cadre(own)
                me = _Cadre(
                    row["name"],
                    u,
                    row["role"],
                    row["rank"] or "一般干部",
                    row["post"] or "",
                    row["phone"] or "",
                    u.groups[0],
                    own,
                )
                people.update_cadre(own, work_group_id=u.groups[0].id, rank=me.rank)
                u.groups[0].members.append(me)
                self.me = me
        # About 1 % of the members leave (调离) during the year: their 包联 pass to a colleague.
        members = [c for c in self.cadres if c.role not in ("工作组组长", "首席服务官")]
        for c in rng.sample(members, min(leavers, len(members))):
            c.leaves_on = self.random_day(self.today - timedelta(days=300), self.today - timedelta(days=20))

    # -- enterprises -------------------------------------------------------------------------------
    def _uscc(self, unit: _Unit) -> str:
        rng = self.rng
        region = unit.region if rng.random() < 0.86 else "410100"
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        while True:
            if rng.random() < 0.62:
                body = "MA" + rng.choice("34569") + "".join(rng.choice(alphabet) for _ in range(5))
            else:
                body = f"{rng.randrange(10**8):08d}"
            org = body + uscc_rules.org_code_check(body)
            code = uscc_rules.make("91" + region + org)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def _name(self, unit: _Unit, trade: tuple) -> str:
        rng = self.rng
        for _ in range(50):
            prefix = self.pick(NAME_PREFIX)
            brand = rng.choice(BRAND_1) + rng.choice(BRAND_2)
            if brand[0] == brand[1]:
                continue
            if rng.random() < 0.08:
                brand += rng.choice(BRAND_2)
            name = f"{prefix}{brand}{trade[0]}{self.pick(SUFFIXES)}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("enterprise name space exhausted")

    def _address(self, unit: _Unit) -> str:
        rng = self.rng
        road, other = rng.sample(unit.roads, 2) if len(unit.roads) > 1 else (unit.roads[0], unit.roads[0])
        if rng.random() < 0.7:
            addr = f"{unit.name}{road}{rng.randint(1, 300)}号"
            if rng.random() < 0.3:
                addr += f"{rng.choice(BUILDINGS)}{rng.randint(2, 28)}层"
            return addr
        return f"{unit.name}{road}与{other}交叉口{rng.choice(('东北角', '西南角', '东南角', '西北角', '向北200米'))}"

    def _trade(self, unit: _Unit) -> tuple:
        boost = {"urban": ("svc", "con", "re"), "industrial": ("mfg",)}[unit.profile]
        weights = [3 if t[3] in boost else 1 for t in TRADES]
        return self.rng.choices(TRADES, weights)[0]

    def make_enterprises(self) -> None:
        sc, rng = self.scale, self.rng
        weights = self._unit_weights()
        covered = self._shares(sc.covered, weights, minimum=2)
        uncovered = self._shares(sc.uncovered, weights, minimum=0)
        for u, n_cov, n_unc in zip(self.units, covered, uncovered, strict=True):
            for i in range(n_cov + n_unc):
                trade = self._trade(u)
                tags = {"四上企业", trade[2]}
                for tag, w in TAG_EXTRAS:
                    if rng.random() * 100 < w:
                        tags.add(tag)
                if "专精特新小巨人" in tags:
                    tags.add("专精特新")
                key = bool(tags & {"链主企业", "单项冠军", "专精特新小巨人", "科技瞪羚企业"}) or rng.random() < 0.02
                scale = "大型" if key and rng.random() < 0.5 else self.pick(SCALE_WEIGHTS)
                legal = self.person()
                status = "在营"
                if i >= n_cov:  # on the roster but not (yet) 包联: mostly new, some closed down
                    status = self.pick((("在营", 70), ("停产", 15), ("注销", 10), ("失联", 5)))
                data = {
                    "uscc": self._uscc(u),
                    "name": self._name(u, trade),
                    "unit_id": u.id,
                    "township": rng.choice(u.townships),
                    "address": self._address(u),
                    "industry": trade[1],
                    "scale": scale,
                    "tags": sorted(tags),
                    "legal_rep": legal,
                    "contact_name": legal if rng.random() < 0.15 else self.person(),
                    "contact_phone": self.mobile(),
                    "status": status,
                }
                weight = (3.0 if key else 1.0) * (1.5 if scale in ("大型", "中型") else 1.0)
                e = _Ent(u, data, trade, key, weight)
                e.id = self.sink.enterprise(data)
                if i < n_cov:
                    self.ents.append(e)
                self.tick(1, "正在登记企业…")

    def make_assignments(self) -> None:
        rng, people = self.rng, self.s.people
        campaign = date(2021, 9, 1)
        latest_start = self.today - timedelta(days=400)
        for e in self.ents:
            u = e.unit
            staffed = [g for g in u.groups if g.members]
            g = staffed[rng.randrange(len(staffed))]
            e.group = g
            g.ents.append(e)
            start = campaign + timedelta(days=rng.randint(0, max(0, (latest_start - campaign).days)))
            first = rng.choice(g.members)
            chain = [first]
            if rng.random() < 0.3 and len(g.members) > 1:
                second = rng.choice(g.members)
                if second is not first:
                    chain.append(second)
            for c in chain:
                if c.leaves_on:
                    successor = rng.choice([m for m in g.members if not m.leaves_on] or [g.leader])
                    e.assigns.append(_Assign(c, "包联干部", start, c.leaves_on))
                    e.assigns.append(_Assign(successor, "包联干部", c.leaves_on))
                elif rng.random() < 0.06:  # 调整包联: handed over within the group during the year
                    end = self.random_day(self.today - timedelta(days=320), self.today - timedelta(days=30))
                    other = rng.choice([m for m in g.members if m is not c and not m.leaves_on] or [g.leader])
                    e.assigns.append(_Assign(c, "包联干部", start, end))
                    e.assigns.append(_Assign(other, "包联干部", end))
                else:
                    e.assigns.append(_Assign(c, "包联干部", start))
            if e.key and u.csos:
                e.assigns.append(_Assign(rng.choice(u.csos), "首席服务官", start))
        if self.me is not None:  # the station's own cadre 包联 a share of home enterprises
            home_ents = [e for e in self.ents if e.unit is self.home]
            mine = rng.sample(home_ents, min(len(home_ents), 15 if self.scale.name == "small" else 6))
            for e in mine:
                e.assigns.append(_Assign(self.me, "包联干部", self.today - timedelta(days=rng.randint(380, 700))))
        for e in self.ents:
            seen: set[str] = set()
            for a in sorted(e.assigns, key=lambda a: a.end is None):  # history first, then current ones
                if a.end is None and a.cadre.id in seen:
                    continue  # the same cadre twice: keep one open assignment
                if a.end is None:
                    seen.add(a.cadre.id)
                a.id = people.assign(
                    a.cadre.id,
                    e.id,
                    role=a.role,
                    start_date=a.start,
                    note="首席服务官“一对一”服务" if a.role == "首席服务官" else "",
                )
                if a.end:
                    people.end_assignment(
                        a.id, a.end, note="干部调离，包联关系移交" if a.cadre.leaves_on else "工作组内部调整包联"
                    )
            e.assigns = [a for a in e.assigns if a.id]
            self.tick(1, "正在建立包联关系…")
        for c in self.cadres:
            if c.leaves_on:
                people.update_cadre(c.id, active=False)

    # -- visits ------------------------------------------------------------------------------------
    def _symposium_size(self) -> int:
        r = self.rng.random()
        if r < 0.90:
            return 1
        if r < 0.94:
            return 2
        return self.rng.randint(3, 8)

    def _weighted_sample(self, pool: list, weights: list, k: int) -> list:
        out: list = []
        for _ in range(k * 6):
            e = self.rng.choices(pool, weights)[0]
            if e not in out:
                out.append(e)
            if len(out) == k:
                break
        return out

    def plan_visits(self) -> None:
        sc, rng = self.scale, self.rng
        groups = [g for u in self.units for g in u.groups if g.ents]
        gweights = [len(g.ents) for g in groups]
        family = 0
        for _ in range(sc.symposia):
            g = rng.choices(groups, gweights)[0]
            k = min(self._symposium_size(), len(g.ents))
            ents = self._weighted_sample(g.ents, [e.weight for e in g.ents], k)
            self.visits.append(_Visit(SYMPOSIUM, ents, g))
            family += len(ents)
        remaining = max(0, sc.enterprise_visits - family)
        kinds = rng.choices(("实地走访", "电话沟通", "视频连线", "政策宣讲"), (80, 9, 5, 6), k=remaining)
        picks = rng.choices(self.ents, [e.weight for e in self.ents], k=remaining)
        for kind, e in zip(kinds, picks, strict=True):
            self.visits.append(_Visit(kind, [e], e.group))
        # Dates: working days over the last year (a few on weekends), then the records in date order.
        workdays = [d for d in (self.first_day + timedelta(days=i) for i in range(365)) if self.cal.is_workday(d)]
        # The operator's own enterprises lean towards recent visits, as a working cadre's would, so the
        # 工作台 shows a believable month rather than a year of neglect.
        recent = [d for d in workdays if (self.today - d).days <= 40]
        for i, v in enumerate(self.visits):
            if recent and any(self._mine(e) for e in v.ents) and rng.random() < 0.45:
                v.day = rng.choice(recent)
            else:
                v.day = (
                    rng.choice(workdays)
                    if rng.random() < 0.97
                    else self.random_day(self.first_day, self.today, workday=False)
                )
            v.seq = i
        self.visits.sort(key=lambda v: (v.day, v.seq))
        # Enterprise health seen on visits: on its last visit an enterprise may turn out 停产/失联/注销.
        last: dict = {}
        for v in self.visits:
            for e in v.ents:
                last[e] = v
        visited = list(last)
        n = max(2, round(len(visited) * 0.012))
        for i, e in enumerate(rng.sample(visited, min(n, len(visited)))):
            last[e].statuses[e] = ("停产", "失联", "停产", "注销", "停产")[i % 5]

    def plan_problems(self) -> None:
        rng = self.rng
        pairs = [(v, e) for v in self.visits for e in v.ents if v.statuses.get(e) not in ("失联", "注销")]
        kind_w = {"实地走访": 1.0, SYMPOSIUM: 1.1, "电话沟通": 0.6, "视频连线": 0.7, "政策宣讲": 0.5}
        chosen = sorted(rng.choices(range(len(pairs)), [kind_w[v.kind] for v, _ in pairs], k=self.scale.problems))
        cats = [c for c in CATEGORY_CODES if CATEGORIES[c]["w"] > 0]
        cat_w = [CATEGORIES[c]["w"] for c in cats]
        for idx in chosen:
            v, e = pairs[idx]
            taken = {p.title for p in v.problems if p.ent is e}
            for _ in range(10):
                code = rng.choices(cats, cat_w)[0]
                title, desc, req = rng.choice(CATEGORIES[code]["t"])
                if title not in taken:
                    break
            slots = self._slots(e)
            p = _Problem(
                e,
                code,
                title.format(**slots),
                desc.format(**slots),
                req.format(**slots),
                "重大" if rng.random() < 0.05 else "一般",
                v.day,
                slots,
            )
            v.problems.append(p)
            self.problems.append(p)
        self._assign_fates()

    def _slots(self, e: _Ent) -> dict:
        rng = self.rng
        return {
            "bank": rng.choice(BANKS),
            "amt": rng.choice((200, 300, 500, 800, 1000, 1500, 2000, 3000)),
            "big": rng.choice((3000, 5000, 8000, 12000, 20000)),
            "award": rng.choice((10, 20, 30, 50, 100, 200)),
            "month": rng.randint(1, 12),
            "n": rng.randint(2, 9),
            "mu": rng.choice((15, 20, 30, 50, 80)),
            "kva": rng.choice((630, 800, 1250, 2000)),
            "product": e.trade[4],
            "honor": rng.choice(HONORS),
            "policy": rng.choice(POLICIES),
            "expo": rng.choice(EXPOS),
            "tech": rng.choice(TECHS),
            "pct": rng.randint(5, 30),
            "road": rng.choice(e.unit.roads),
        }

    def _assign_fates(self) -> None:
        """Pick which problems take which road through the workflow (quotas, so small data shows them all)."""
        rng, probs = self.rng, self.problems
        n = len(probs)
        age = [(self.today - p.registered).days for p in probs]
        free = set(range(n))

        def take(fate: str, count: int, lo: int, hi: int) -> None:
            pool = [i for i in range(n) if i in free and lo <= age[i] <= hi]
            picked = rng.sample(pool, min(count, len(pool)))
            if fate == "stuck":  # at least one overdue problem on the operator's own desk
                mine = [i for i in pool if self._mine(probs[i].ent) and i not in picked]
                if mine and not any(self._mine(probs[i].ent) for i in picked):
                    picked[-1:] = [rng.choice(mine)]
            for i in picked:
                probs[i].fate = fate
                if fate in ("escalate", "province"):
                    probs[i].severity = "重大"
                free.discard(i)

        take("stuck", max(2, round(n * 0.0015)), 25, 150)
        if self.owns_city:  # a city hub works escalated problems itself
            take("province", max(1, round(n * 0.0008)), 40, 200)
            take("escalate", max(2, round(n * 0.015)), 45, 330)
        else:  # a station or district hub hands them up and waits for the hub's down package
            take("province", max(1, round(n * 0.0001)), 20, 200)
            take("escalate", max(2, round(n * 0.004)), 20, 330)
        take("reopen", max(2, round(n * 0.01)), 60, 330)
        take("explained", max(1, round(n * 0.0008)), 30, 365)
        take("longterm", max(1, round(n * 0.0006)), 30, 365)
        take("extended", max(2, round(n * 0.03)), 30, 365)
        take("late", max(3, round(n * 0.05)), 30, 365)
        # The newest problems stop at each early state, so every status shows even in small data.
        newest = sorted((i for i in free), key=lambda i: (self._mine(probs[i].ent), probs[i].registered, i))[-6:]
        for i, stop in zip(
            newest, (lc.PENDING, lc.ASSIGNED, lc.IN_PROGRESS, lc.RESOLVED, lc.REVISITED, lc.IN_PROGRESS), strict=False
        ):
            probs[i].stop = stop

    def _mine(self, e: _Ent) -> bool:
        """Whether the installation's own cadre (包联) the enterprise."""
        return self.me is not None and any(a.cadre is self.me and a.end is None for a in e.assigns)

    # -- writing visits ----------------------------------------------------------------------------
    def _cadres_for(self, v: _Visit) -> list[_Cadre]:
        rng = self.rng
        out: list[_Cadre] = []
        for e in v.ents:
            active = [a.cadre for a in e.assigns if a.start <= v.day and (a.end is None or a.end >= v.day)]
            for c in active:
                if c not in out and (c.role != "首席服务官" or rng.random() < 0.3):
                    out.append(c)
        g = v.group
        if g and g.leader and (v.kind == SYMPOSIUM or rng.random() < 0.2) and g.leader not in out:
            out.insert(0, g.leader)
        if not out and g:
            out.append(g.leader or g.members[0])
        return out[:4]

    def _place(self, v: _Visit) -> str:
        e = v.ents[0]
        if v.kind == SYMPOSIUM:
            town = e.data["township"]
            return self.rng.choice(
                (
                    f"{e.data['name']}会议室",
                    f"{town}{'办事处' if town.endswith('街道') else '政府'}会议室",
                    f"{e.unit.name}政务服务中心会议室",
                )
            )
        return {"电话沟通": "", "视频连线": "线上（视频会议）"}.get(v.kind, e.data["address"])

    def _summary(
        self, v: _Visit, cadres: list[_Cadre], attendees: list[Attendee], policies: list[str], place: str
    ) -> str:
        rng = self.rng
        e = v.ents[0]
        lead = cadres[0]
        who = f"{lead.name}{'等' if len(cadres) > 1 else ''}"
        host = attendees[0] if attendees else None
        host_text = f"{host.title}{host.name}" if host else "负责人"
        sector = e.trade[3]
        slots = {
            "m": max(1, (v.day.month - 1) or 1),
            "rev": rng.choice((800, 1500, 3200, 5600, 9800, 16000)),
            "pct": rng.randint(3, 25),
            "pct2": rng.randint(55, 85),
            "product": e.trade[4],
            "month": (v.day.month + rng.randint(1, 4) - 1) % 12 + 1,
            "n": rng.randint(2, 9),
            "big": rng.choice((5000, 8000, 12000, 30000)),
            "emp": rng.choice((60, 120, 260, 480, 900, 1500)),
        }
        parts: list[str] = []
        if v.kind == SYMPOSIUM:
            if len(v.ents) > 1:
                names = "、".join(x.data["name"] for x in v.ents[:3])
                parts.append(
                    f"{who}在{place}召开企业座谈会，{names}{'等' if len(v.ents) > 3 else ''}{len(v.ents)}家企业负责人参加。"
                )
                parts.append("会上，各企业负责人介绍了生产经营情况和发展中遇到的困难。")
            else:
                parts.append(f"{who}在{place}召开座谈会，与{e.data['name']}{host_text}及部门负责人座谈交流。")
                parts.append(rng.choice(OPS[sector]).format(**slots))
        elif v.kind == "电话沟通":
            parts.append(f"{who}通过电话与企业{host_text}沟通，了解企业近期生产经营情况。")
            parts.append(rng.choice(OPS[sector]).format(**slots))
        elif v.kind == "视频连线":
            parts.append(f"{who}通过视频连线方式与企业{host_text}交流，了解企业生产经营和项目推进情况。")
            parts.append(rng.choice(OPS[sector]).format(**slots))
        elif v.kind == "政策宣讲":
            parts.append(
                f"{who}到{e.data['name']}开展惠企政策宣讲，重点解读了{'、'.join(policies) or '最新惠企政策'}。"
            )
            parts.append("现场解答了企业关心的税费减免、奖补资金申报等问题，指导企业用足用好政策。")
        else:
            parts.append(f"{who}到{e.data['name']}实地走访，与企业{host_text}座谈交流，详细了解企业生产经营情况。")
            parts.append(rng.choice(OPS[sector]).format(**slots))
            if rng.random() < 0.5:
                parts.append(rng.choice(LABOUR).format(**slots))
            if rng.random() < 0.3:
                parts.append(rng.choice(FINANCE))
        for x, status in v.statuses.items():
            parts.append(
                {
                    "停产": f"{x.data['name']}目前处于停产状态，正在进行设备检修和技术改造，计划近期复产。",
                    "失联": f"走访发现{x.data['name']}厂区大门紧闭、电话无法接通，经与属地核实，企业处于失联状态。",
                    "注销": f"经核实，{x.data['name']}已于近期办理注销登记。",
                }[status]
            )
        if policies and v.kind != "政策宣讲":
            parts.append(f"工作组宣讲了{'、'.join(policies)}等惠企政策。")
        if v.problems:
            titles = "、".join(f"“{p.title}”" for p in v.problems[:3])
            parts.append(f"企业反映了{titles}{'等' if len(v.problems) > 3 else ''}问题，工作组现场登记，将按程序交办。")
        elif rng.random() < 0.5:
            parts.append("企业暂无需要协调解决的问题。")
        parts.append(rng.choice(CLOSINGS))
        return "".join(parts[:7])

    def write_visits(self) -> None:
        rng = self.rng
        for v in self.visits:
            cadres = self._cadres_for(v)
            attendees: list[Attendee] = []
            for e in v.ents:
                d = e.data
                contact_title = rng.choice(TITLES)
                if v.kind in ("电话沟通", "视频连线") or v.statuses.get(e) in ("失联", "注销"):
                    if v.statuses.get(e) not in ("失联", "注销"):
                        attendees.append(Attendee(d["contact_name"], contact_title, d["contact_phone"], e.id))
                    continue
                if d["contact_name"] != d["legal_rep"] and rng.random() < 0.6:
                    attendees.append(Attendee(d["legal_rep"], rng.choice(("董事长", "总经理", "执行董事")), "", e.id))
                attendees.append(Attendee(d["contact_name"], contact_title, d["contact_phone"], e.id))
            n_pol = {
                "政策宣讲": rng.randint(1, 3),
                SYMPOSIUM: int(rng.random() < 0.6),
                "实地走访": int(rng.random() < 0.4),
            }
            policies = rng.sample(POLICIES, n_pol.get(v.kind, int(rng.random() < 0.1)))
            location = self._place(v)
            summary = self._summary(v, cadres, attendees, policies, location)
            vin = VisitInput(
                kind=v.kind,
                visit_date=v.day,
                enterprise_ids=[e.id for e in v.ents],
                cadre_ids=[c.id for c in cadres],
                summary=summary,
                attendees=attendees,
                policies="；".join(policies),
                follow_up=rng.choice(FOLLOW_UPS),
                location=location[:200],
                start_time=f"{rng.choice((9, 9, 10, 10, 11, 14, 15, 15, 16))}:{rng.choice(('00', '30'))}",
                problems=[
                    ProblemInput(
                        enterprise_id=p.ent.id,
                        category_code=p.category,
                        description=p.description,
                        request=p.request,
                        title=p.title,
                        severity=p.severity,
                        registered_on=p.registered,
                    )
                    for p in v.problems
                ],
                statuses_seen={e.id: s for e, s in v.statuses.items()},
            )
            _vid, pids = self.sink.visit(vin, cadres[0].unit.id)
            for p, pid in zip(v.problems, pids, strict=True):
                p.id = pid
            self.tick(len(v.ents), "正在登记走访记录…")

    # -- problem workflow --------------------------------------------------------------------------
    def _lead(self, p: _Problem, level: str) -> tuple[str, list[str]]:
        rng = self.rng
        spec = CATEGORIES[p.category]
        if level == lc.LEVELS[0]:
            if p.category == "utilities" and rng.random() < 0.6:
                lead = rng.choice(UTILITY_COMPANIES)
            else:
                local = [p.ent.unit.depts[k] for k in spec["local"] if k in p.ent.unit.depts]
                lead = rng.choice(local) if local else p.ent.unit.id
        else:
            lead = rng.choice(spec["city"])
        assist: list[str] = []
        if rng.random() < 0.3:
            pool = [u for u in (*p.ent.unit.depts.values(), *spec["city"]) if u != lead]
            if pool:
                assist.append(rng.choice(pool))
        return lead, assist

    def _script(self, p: _Problem) -> list[tuple[str, date, str, dict]]:
        """The workflow steps of one problem, dated in order (steps after today are dropped)."""
        rng, wd = self.rng, self.workday_near
        steps: list[tuple[str, date, str, dict]] = []
        tpl = "T13710M" if p.severity == "重大" else "T13710"
        solve_days = self.templates[tpl]
        level = lc.LEVELS[0]
        t = p.registered
        fast = p.stop is not None

        def gap(*choices: int) -> int:
            return 0 if fast else rng.choice(choices)

        def add(kind: str, day: date, note: str = "", **form) -> date:
            steps.append((kind, day, note, form))
            return day

        if p.fate in ("escalate", "province"):
            if not self.owns_city:  # handed up; the hub above takes it from here
                if p.fate == "province":
                    add(
                        "上报",
                        wd(t, gap(0, 1, 2)),
                        "涉及省级审批权限和跨区域协调，提请省“万人助万企”活动办公室协调解决。",
                        level=lc.LEVELS[2],
                    )
                else:
                    city = self.unit_names.get(rng.choice(CATEGORIES[p.category]["city"]), "市直部门")
                    add(
                        "上报",
                        wd(t, gap(0, 1, 2)),
                        f"该问题涉及{city}职能，需市级层面协调解决，提请上报市“万人助万企”办。",
                        level=lc.LEVELS[1],
                    )
                return steps
            level = lc.LEVELS[1]
            city = self.unit_names.get(rng.choice(CATEGORIES[p.category]["city"]), "市直部门")
            t = add(
                "上报",
                wd(t, gap(0, 1, 2)),
                f"该问题涉及{city}职能，需市级层面协调解决，提请上报市“万人助万企”办。",
                level=level,
            )
        lead, assist = self._lead(p, level)
        lead_name = self.unit_names.get(lead, "责任单位")
        slots = {**p.slots, "lead": lead_name}
        assigned = add(
            "交办",
            wd(t, gap(0, 0, 1, 1, 2)),
            f"请{lead_name}牵头办理，按时限反馈办理结果。",
            lead_unit_id=lead,
            assist_unit_ids=assist,
            template_id=tpl,
        )
        deadline = wd(assigned, solve_days)
        t = add("接收", wd(assigned, gap(0, 0, 1)), "已接收，明确专人负责办理。")
        t = add("进展", wd(t, gap(0, 1, 1, 2, 3)), rng.choice(PROGRESS_NOTES).format(lead=lead_name))
        if p.fate == "province":
            add(
                "上报",
                wd(t, rng.randint(8, 20)),
                "涉及省级审批权限和跨区域协调，提请省“万人助万企”活动办公室协调解决。",
                level=lc.LEVELS[2],
            )
            return steps
        if p.fate == "stuck":
            t = add("催办", wd(deadline, 1), "该问题已超过办理时限，请加快办理进度并及时反馈。")
            d = wd(deadline, rng.randint(3, 6))
            add("督办", d, "问题逾期未办结，现予督办，请限期书面报告办理情况。", reply_by=wd(d, 3))
            if rng.random() < 0.5:
                d2 = wd(d, rng.randint(8, 15))
                add("督办", d2, "督办后仍未办结，再次督办。", reply_by=wd(d2, 3))
            return steps
        if p.fate == "late":
            t = add("催办", wd(deadline, 1), "该问题已超过办理时限，请加快办理进度并及时反馈。")
            if rng.random() < 0.5:
                d = wd(deadline, rng.randint(2, 4))
                t = add("督办", d, "问题逾期未办结，现予督办，请限期书面报告办理情况。", reply_by=wd(d, 3))
            resolved = wd(t, rng.randint(1, 8))
        elif p.fate == "extended":
            ext_day = max(t, wd(deadline, -rng.randint(1, 2)))
            extra = rng.randint(5, 15)
            t = add(
                "延期",
                ext_day,
                "涉及多部门会商和企业补充材料，经批准延期办理。",
                deadline=wd(deadline, extra),
                approver=rng.choice(APPROVERS),
            )
            resolved = wd(deadline, rng.randint(1, extra))
        elif p.fate in ("escalate",):
            if rng.random() < 0.5:
                t = add("进展", wd(t, rng.randint(3, 8)), "已召开专题协调会，明确解决路径。")
            resolved = wd(t, rng.randint(3, max(4, solve_days - 5)))
        else:
            days = range(1, solve_days + 1)
            k = rng.choices(days, [max(1, 16 - abs(i - 3) * 2) for i in days])[0]
            resolved = max(t, wd(assigned, gap(k)))
        outcome = {"explained": "已解释说明", "longterm": "长期推进"}.get(p.fate, lc.SOLVED_OUTCOME)
        note = {"已解释说明": EXPLAINED_NOTE, "长期推进": LONGTERM_NOTE}.get(outcome) or rng.choice(
            CATEGORIES[p.category]["done"]
        )
        t = add("办结", resolved, note.format(**slots), outcome=outcome)
        method = self.pick((("电话", 70), ("上门", 25), ("书面", 5)))
        if p.fate == "reopen":
            t = add(
                "回访",
                wd(t, rng.randint(1, 4)),
                f"经{method}回访，企业反映问题未实质解决，对办理结果不满意。",
                method=method,
                verdict="不满意",
            )
            t = add(
                "重办",
                wd(t, rng.randint(0, 1)),
                f"企业回访不满意，重新交办{lead_name}，要求限期解决到位。",
                template_id=tpl,
            )
            t = add("接收", wd(t, rng.randint(0, 1)), "已接收重办事项，主要负责同志牵头办理。")
            t = add("进展", wd(t, rng.randint(1, 3)), "已再次上门对接企业，逐项落实企业诉求。")
            t = add(
                "办结",
                wd(t, rng.randint(1, 4)),
                rng.choice(CATEGORIES[p.category]["done"]).format(**slots),
                outcome=lc.SOLVED_OUTCOME,
            )
        verdict = "基本满意" if outcome != lc.SOLVED_OUTCOME else self.pick((("满意", 90), ("基本满意", 10)))
        t = add(
            "回访",
            wd(t, gap(1, 2, 3, 4)),
            f"经{method}回访，企业对办理结果表示{verdict}。",
            method=method,
            verdict=verdict,
        )
        if outcome != "长期推进":
            add("销号", wd(t, gap(0, 1, 2, 3)), "经企业确认，问题已办理完毕，予以销号。")
        return steps

    def work_problems(self) -> None:
        self.templates = {t["id"]: int(t["solve_days"]) for t in self.s.reference.templates()}
        take = self.s.problems.take_step
        stop_after = {lc.PENDING: 0, lc.ASSIGNED: 1, lc.IN_PROGRESS: 3, lc.RESOLVED: 4, lc.REVISITED: 5}
        for p in self.problems:
            steps = self._script(p)
            if p.stop is not None:
                steps = steps[: stop_after[p.stop]]
                steps = [(k, min(d, self.today), n, f) for k, d, n, f in steps]
            last = p.registered
            for kind, day, note, form in steps:
                if day > self.today:
                    break
                day = max(day, last)
                take(p.id, kind, on_date=day, note=note, **form)
                last = day
            self.tick(1, "正在办理问题（交办、办结、回访、销号）…")
