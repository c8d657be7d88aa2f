"""This installation's identity and role (settings table), created once by `init` or first-run setup."""

from __future__ import annotations

from dataclasses import dataclass

from app.clock import now_utc
from app.errors import ValidationError
from app.ids import uuid7
from db.store import Store

ROLES = {"station": "干部端", "district": "区县汇总端", "city": "市级汇总端"}
_KEYS = ("id", "role", "unit_id", "operator", "cadre_id", "created_at")


@dataclass(frozen=True)
class Installation:
    id: str
    role: str
    unit_id: str
    operator: str
    cadre_id: str | None
    created_at: str

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def short_code(self) -> str:
        """Four hex digits from the random part of the id, to keep record numbers unique per installation."""
        return self.id.replace("-", "")[-4:].upper()


def load_installation(store: Store) -> Installation | None:
    rows = dict(store.query("SELECT key, value FROM settings WHERE key LIKE 'installation.%'"))
    values = {k: rows.get(f"installation.{k}") for k in _KEYS}
    if not values["id"]:
        return None
    return Installation(**values)


def write_installation(store: Store, *, role: str, unit_id: str, operator: str) -> Installation:
    """Create the identity (inside the caller's transaction). Refuses a second initialisation."""
    if role not in ROLES:
        raise ValidationError(f"角色“{role}”无效，应为 station（干部端）、district（区县汇总端）或 city（市级汇总端）。",
                              field="role")
    if not operator.strip():
        raise ValidationError("操作人姓名不能为空。", field="operator")
    if load_installation(store) is not None:
        raise ValidationError("本数据库已经初始化过，不能重复初始化。", field="role")
    inst = Installation(id=uuid7(), role=role, unit_id=unit_id, operator=operator.strip(), cadre_id=None,
                        created_at=now_utc())
    for key in _KEYS:
        set_setting(store, f"installation.{key}", getattr(inst, key))
    return inst


def get_setting(store: Store, key: str, default: str | None = None) -> str | None:
    value = store.scalar("SELECT value FROM settings WHERE key = ?", (key,))
    return default if value is None else value


def set_setting(store: Store, key: str, value: str | None) -> None:
    store.conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
