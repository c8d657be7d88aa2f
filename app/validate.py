"""Field checks shared by services; each failure names the field in Chinese (ValidationError.field = key)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from app.clock import parse_date, today
from app.errors import ValidationError

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


def text(value: str | None, label: str, field: str, *, required: bool = False, max_len: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"“{label}”不能为空。", field=field)
    if len(value) > max_len:
        raise ValidationError(f"“{label}”过长：{len(value)} 个字，最多 {max_len} 个字。", field=field)
    return value


def choice(value: str | None, options: Iterable[str], label: str, field: str, *, required: bool = True) -> str | None:
    options = tuple(options)
    if value in (None, "") and not required:
        return None
    if value not in options:
        raise ValidationError(f"“{label}”的值“{value or ''}”无效，可选：{'、'.join(options)}。", field=field)
    return value


def phone(value: str | None, label: str, field: str) -> str:
    value = (value or "").strip()
    if value and not _PHONE.match(value):
        raise ValidationError(f"“{label}”格式不正确：“{value}”。请填写手机号或带区号的固定电话。", field=field)
    return value


def a_date(value, label: str, field: str, *, required: bool = True, not_future: bool = False,
           not_before: date | None = None) -> str | None:
    if value in (None, ""):
        if required:
            raise ValidationError(f"“{label}”不能为空。", field=field)
        return None
    try:
        d = parse_date(value)
    except ValueError:
        raise ValidationError(f"“{label}”不是有效日期：“{value}”（格式：2026-03-15）。", field=field) from None
    if d.year < 2000 or d.year > 2100:
        raise ValidationError(f"“{label}”超出合理范围：{d.isoformat()}。", field=field)
    if not_future and d > today():
        raise ValidationError(f"“{label}”不能晚于今天（{today().isoformat()}）。", field=field)
    if not_before and d < not_before:
        raise ValidationError(f"“{label}”不能早于 {not_before.isoformat()}。", field=field)
    return d.isoformat()


def name_key(name: str | None) -> str:
    """What two spellings of one name share (for matching, never for storing): NFKC so that （） = (), no spaces,
    case-folded."""
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()
