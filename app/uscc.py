"""统一社会信用代码 (GB 32100-2015): normalisation, check digit, validation with Chinese messages."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters a USCC may use (I, O, S, V, Z are excluded)."""

LENGTH = 18
FIELD = "uscc"

_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # position i+1 → 3^i mod 31
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code body weights
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True)
class UsccResult:
    """A USCC that passed validation, in normalised form, plus non-blocking warnings (Chinese)."""

    code: str
    warnings: tuple[str, ...] = ()


def normalize(raw: str) -> str:
    """Full-width → half-width (NFKC), drop all whitespace and zero-width characters, upper-case."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", str(raw)).translate(_ZERO_WIDTH)
    return "".join(text.split()).upper()


def _show(ch: str) -> str:
    """A character as it should appear inside a message (invisible ones as U+XXXX)."""
    return f"“{ch}”" if ch.isprintable() else f"U+{ord(ch):04X}"


def _illegal(code: str) -> list[tuple[int, str]]:
    return [(i + 1, ch) for i, ch in enumerate(code) if ch not in _VALUES]


def _illegal_text(bad: list[tuple[int, str]]) -> str:
    shown = "、".join(f"第{pos}位{_show(ch)}" for pos, ch in bad[:5])
    if len(bad) > 5:
        shown += f"等{len(bad)}处"
    return shown


def _check(first17: str) -> str:
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def check_digit(first17: str) -> str:
    """The 18th character for the given first 17 (normalised first); ValidationError if they are not valid."""
    code = normalize(first17)
    if len(code) != 17:
        raise ValidationError(f"计算校验位需要前17位，当前为{len(code)}位", field=FIELD)
    bad = _illegal(code)
    if bad:
        raise ValidationError(
            f"{_illegal_text(bad)}不是统一社会信用代码的合法字符（只能用数字和大写字母，I、O、S、V、Z 不可使用）",
            field=FIELD,
        )
    return _check(code)


def make(first17: str) -> str:
    """first17 (normalised) followed by its check digit, e.g. for generating demo data."""
    code = normalize(first17)
    return code + check_digit(code)


def org_code_check(body8: str) -> str | None:
    """GB 11714 check character for an 8-character organisation code body, None if the body is malformed."""
    if len(body8) != 8:
        return None
    total = 0
    for ch, w in zip(body8, _ORG_WEIGHTS, strict=True):
        if ch.isdigit() and ch.isascii():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        else:
            return None
        total += value * w
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def validate(raw: str, *, region_codes: Iterable[str] | None = None) -> UsccResult:
    """Normalise and check a USCC; raise ValidationError(field="uscc") or return the code with warnings.

    Rejects: empty, wrong length, illegal characters, wrong 18th character. Only warns when the embedded
    organisation code (positions 9-17) fails GB 11714, or when region_codes is given and positions 3-8
    start with none of them (prefix match: "4101" accepts every Zhengzhou district).
    """
    code = normalize(raw)
    if not code:
        raise ValidationError("统一社会信用代码不能为空", field=FIELD)
    bad = _illegal(code)
    if len(code) != LENGTH:
        message = f"统一社会信用代码应为18位，当前为{len(code)}位"
        if bad:
            message += f"；另有非法字符：{_illegal_text(bad)}（I、O、S、V、Z 不可使用）"
        raise ValidationError(message + "，请核对", field=FIELD)
    if bad:
        raise ValidationError(
            f"统一社会信用代码含非法字符：{_illegal_text(bad)}。只能使用数字和大写字母，且 I、O、S、V、Z 不可使用",
            field=FIELD,
        )
    expected = _check(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{code[17]}”，请核对是否有录入错误",
            field=FIELD,
        )

    warnings: list[str] = []
    org = code[8:17]
    org_expected = org_code_check(org[:8])
    if org_expected != org[8]:
        hint = f"第17位应为“{org_expected}”" if org_expected else "含不符合规则的字符"
        warnings.append(f"内含的组织机构代码 {org[:8]}-{org[8]}（第9–17位）校验不通过（{hint}），请核对原始证照")
    if region_codes is not None:
        codes = [str(c).strip() for c in region_codes if c is not None and str(c).strip()]
        region = code[2:8]
        if codes and not any(region.startswith(c) for c in codes):
            allowed = "、".join(codes[:5]) + ("等" if len(codes) > 5 else "")
            warnings.append(
                f"登记管理机关行政区划码 {region}（第3–8位）不在本单位辖区（{allowed}）内，请核对企业所属单位"
            )
    return UsccResult(code, tuple(warnings))


def is_valid(raw: str) -> bool:
    """True when validate(raw) would accept the code (warnings do not matter)."""
    try:
        validate(raw)
    except (ValidationError, TypeError):
        return False
    return True
