"""Masking of personal data (contact names, phone numbers) for lists, prints and exports; no Qt."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_SEPARATED_LANDLINE = re.compile(r"^(\(?0\d{2,3}\)?)([\s-]+)(\d{5,8})$")
_LANDLINE = re.compile(r"^(0(?:1\d|2\d|[3-9]\d{2}))(\d{7,8})$")
_STRIP = re.compile(r"[\s\-()]")


def _mask_tail(digits: str, keep: int = 4) -> str:
    """Stars for all but the last `keep` characters (all stars when too short to keep any)."""
    if len(digits) <= keep:
        return "*" * len(digits)
    return "*" * (len(digits) - keep) + digits[-keep:]


def mask_phone(phone: str | None) -> str:
    """Hide the middle of a phone number: 13812345678 -> 138****5678, 0371-67891234 -> 0371-****1234.

    Mobile numbers keep the first 3 and last 4 digits (a +86 prefix is dropped); landlines keep the
    area code and the last 4 digits; other numbers keep only the last 4. Text with no digits
    (e.g. "暂无") is returned as is; None and "" give "".
    """
    if not phone:
        return ""
    text = phone.strip()
    if not any(ch.isdigit() for ch in text):
        return text
    compact = _STRIP.sub("", text)
    mobile = _MOBILE.match(compact)
    if mobile:
        number = mobile.group(1)
        return f"{number[:3]}****{number[-4:]}"
    separated = _SEPARATED_LANDLINE.match(text)
    if separated:
        area, _sep, local = separated.groups()
        return f"{area.strip('()')}-{_mask_tail(local)}"
    landline = _LANDLINE.match(compact)
    if landline:
        area, local = landline.groups()
        return f"{area}-{_mask_tail(local)}"
    return _mask_tail(compact)


def mask_name(name: str | None) -> str:
    """Keep the first character of a person's name and star the rest: 张三丰 -> 张**, 张三 -> 张*."""
    if not name:
        return ""
    text = name.strip()
    if len(text) <= 1:
        return text
    return text[0] + "*" * (len(text) - 1)
