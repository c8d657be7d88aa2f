"""Reference data for forms and checks: units, responsible departments, vocabularies, deadline templates."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.context import Context
from app.errors import NotFoundError, ValidationError
from app.validate import name_key, text

DISTRICT_KINDS = ("开发区", "区", "县级市", "县")
DEPARTMENT_KINDS = ("市直部门", "区直部门", "乡镇街道", "其他单位")


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    short_name: str
    kind: str
    parent_id: str | None
    region_codes: tuple[str, ...]

    @property
    def is_district(self) -> bool:
        return self.kind in DISTRICT_KINDS


def _unit(row) -> Unit:
    return Unit(row["id"], row["name"], row["short_name"] or row["name"], row["kind"], row["parent_id"],
                tuple(json.loads(row["region_codes"] or "[]")))


class ReferenceService:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    def units(self, kinds: tuple[str, ...] | None = None) -> list[Unit]:
        rows = self.ctx.store.query("SELECT * FROM units WHERE deleted = 0 ORDER BY sort, name")
        units = [_unit(r) for r in rows]
        return [u for u in units if kinds is None or u.kind in kinds]

    def districts(self) -> list[Unit]:
        return self.units(DISTRICT_KINDS)

    def departments(self) -> list[Unit]:
        """Units a problem can be handed to: departments first, then districts (区县 handle their own)."""
        return self.units(DEPARTMENT_KINDS) + self.units(DISTRICT_KINDS)

    def unit(self, unit_id: str) -> Unit:
        row = self.ctx.store.one("SELECT * FROM units WHERE id = ? AND deleted = 0", (unit_id,))
        if row is None:
            raise NotFoundError(f"单位不存在：{unit_id}")
        return _unit(row)

    def unit_by_name(self, name: str) -> Unit:
        name = (name or "").strip()
        row = self.ctx.store.one("SELECT * FROM units WHERE (name = ? OR short_name = ?) AND deleted = 0 ORDER BY sort",
                                 (name, name))
        if row is None:
            raise ValidationError(f"单位“{name}”不存在。请使用 16 个开发区、区县（市）或市直部门的标准名称。",
                                  field="unit")
        return _unit(row)

    def unit_names(self) -> dict[str, str]:
        return {r["id"]: r["name"] for r in self.ctx.store.query("SELECT id, name FROM units")}

    def add_department(self, name: str, kind: str = "区直部门", parent_id: str | None = None) -> str:
        """A local responsible unit (e.g. 金水区人社局), synced like any record."""
        name = text(name, "单位名称", "name", required=True, max_len=60)
        if kind not in DEPARTMENT_KINDS:
            raise ValidationError(f"单位类别“{kind}”无效。", field="kind")
        if self.ctx.store.one("SELECT 1 FROM units WHERE name = ? AND deleted = 0", (name,)):
            raise ValidationError(f"单位“{name}”已存在。", field="name")
        with self.ctx.writing() as w:
            return w.insert("units", {"name": name, "short_name": name, "kind": kind,
                                      "parent_id": parent_id or self.ctx.installation.unit_id, "sort": 500},
                            action="新增责任单位")

    def vocabulary(self, kind: str) -> list[tuple[str, str]]:
        """(code, name) pairs of a vocabulary kind, e.g. problem_category, enterprise_tag."""
        rows = self.ctx.store.query(
            "SELECT code, name FROM vocabulary WHERE kind = ? AND deleted = 0 ORDER BY sort, name", (kind,))
        return [(r["code"], r["name"]) for r in rows]

    def names(self, kind: str) -> list[str]:
        return [name for _, name in self.vocabulary(kind)]

    def categories(self) -> dict[str, str]:
        return dict(self.vocabulary("problem_category"))

    def category_name(self, code: str) -> str:
        return self.categories().get(code, code)

    def templates(self) -> list[dict]:
        return [dict(r) for r in self.ctx.store.query(
            "SELECT * FROM deadline_templates WHERE deleted = 0 ORDER BY is_default DESC, severity, name")]

    def template_for(self, category_code: str | None, severity: str) -> dict:
        """The template of a category+severity, else the default template of that severity."""
        rows = self.ctx.store.query(
            "SELECT * FROM deadline_templates WHERE deleted = 0 AND severity = ? "
            "AND (category_code = ? OR (category_code IS NULL AND is_default = 1)) "
            "ORDER BY category_code IS NULL LIMIT 1", (severity, category_code))
        if not rows:
            rows = self.ctx.store.query("SELECT * FROM deadline_templates WHERE deleted = 0 AND is_default = 1 "
                                        "ORDER BY severity LIMIT 1")
        return dict(rows[0])

    def template(self, template_id: str) -> dict:
        row = self.ctx.store.one("SELECT * FROM deadline_templates WHERE id = ? AND deleted = 0", (template_id,))
        if row is None:
            raise ValidationError(f"办理时限模板不存在：{template_id}", field="template_id")
        return dict(row)


# Other names offices write for the development zones (the reference names are 郑州经开区 etc.).
_UNIT_ALIASES = {
    "郑州经开区": ("郑州经济技术开发区", "经济技术开发区", "经济开发区", "经开区"),
    "郑州高新区": ("郑州高新技术产业开发区", "高新技术产业开发区", "高新技术开发区", "高新区"),
    "郑州航空港区": ("郑州航空港经济综合实验区", "航空港经济综合实验区", "航空港实验区", "航空港区", "港区"),
    "管城回族区": ("管城区",),
}
_CITY_PREFIXES = ("河南省郑州市", "郑州市", "郑州")


class UnitMatcher:
    """Finds the unit a spreadsheet cell names: full or short name, 郑州市/郑州 prefix or not, common aliases."""

    def __init__(self, units: list[Unit]):
        self.by_key: dict[str, Unit] = {}
        for u in units:
            names = [u.name, u.short_name, *_UNIT_ALIASES.get(u.name, ())]
            for n in names:
                self.by_key.setdefault(name_key(n), u)

    def match(self, raw: str) -> Unit | None:
        key = name_key(raw)
        if not key:
            return None
        if key in self.by_key:
            return self.by_key[key]
        for prefix in _CITY_PREFIXES:
            if key.startswith(prefix) and key[len(prefix):] in self.by_key:
                return self.by_key[key[len(prefix):]]
        return None
