"""Turning a spreadsheet cell into the value a field wants: text without stray spaces, full-width letters and digits
made half-width, numbers that Excel made of phones and codes turned back into text, Excel date serials into dates.

Each function returns the clean value and, where the cell needed a repair the user should know of, a note.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

_KEEP_FULLWIDTH = set("（）：；，")  # Chinese punctuation stays as written in names and addresses
# One translation for a cell's text: full-width ！..～ → !..~ (but the punctuation above), odd spaces → " ",
# zero-width characters dropped.
_CLEAN = str.maketrans(
    {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULLWIDTH}
    | {ord(ch): " " for ch in "\u3000\u00a0\u2002\u2003\u2009\t\r\n"}
    | dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff")))
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +| +(?=[\u3000-\u9fff\uff00-\uffef])")
_MANY_SPACES = re.compile(r" {2,}")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
LIST_SEPARATORS = re.compile(r"[、,，;；/／|\s]+")


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def plain_text(value) -> str:
    """A text cell as the user meant it: full-width letters/digits half-width, Chinese punctuation kept, spaces
    trimmed, runs of spaces made one, spaces next to Chinese characters removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.isascii():
        text = text.strip()
        return _MANY_SPACES.sub(" ", text) if "  " in text else text
    text = text.translate(_CLEAN).strip()
    if " " not in text:
        return text
    return _CJK_SPACE.sub("", _MANY_SPACES.sub(" ", text))


def code_text(value) -> tuple[str, str | None]:
    """A code cell (credit code) as text, or ("", reason) when Excel stored it as a number and digits were lost."""
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int | float):
        # Excel keeps 15 significant digits: an 18-character code typed as a number is already damaged.
        return "", "在 Excel 中被存成了数字（常显示为科学计数法），后几位已丢失；请把该列设为“文本”格式后重新填写"
    return "".join(unicodedata.normalize("NFKC", plain_text(value)).split()).upper(), None


def phone_text(value) -> tuple[str, str | None]:
    """A phone cell as text. A number lost its leading 0 in Excel (0371… became 371…): it is put back."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        if not digits.startswith("1") and len(digits) >= 10:  # an area code without its 0 (mobiles start with 1)
            return "0" + digits, f"在 Excel 中被存成了数字，已补回开头的 0（{'0' + digits}）"
        return digits, None
    text = unicodedata.normalize("NFKC", plain_text(value))
    return re.sub(r"\s*([-－—])\s*", "-", text).strip(), None


def date_value(value) -> date | None:
    """A date cell: a real date, an Excel serial number, or text such as 2026-3-5, 2026/03/05, 2026年3月5日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # 1954 … 2119: a date serial in the 1900 date system
            return _EXCEL_EPOCH + timedelta(days=int(value))
        if 19000101 <= value <= 21001231 and float(value).is_integer():  # 20260305
            return date_value(str(int(value)))
        raise ValueError(value)
    text = unicodedata.normalize("NFKC", plain_text(value))
    if re.fullmatch(r"\d{8}", text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _DATE_TEXT.match(text)
    if m is None:
        raise ValueError(value)
    return date(int(m[1]), int(m[2]), int(m[3]))


def split_list(value) -> list[str]:
    """A cell holding several items (标签 专精特新、高新技术企业; several cadres): the items, in order, once each."""
    return list(dict.fromkeys(p for p in LIST_SEPARATORS.split(plain_text(value)) if p))


def shown(value) -> str:
    """A cell's value as the user sees it, for messages."""
    return plain_text(value) if not isinstance(value, float) else f"{value:g}"
