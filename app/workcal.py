"""Chinese working-day calendar (法定节假日 and 调休 make-up days) for deadline arithmetic."""

from __future__ import annotations

import functools
import json
import re
from bisect import bisect_right
from collections.abc import Mapping
from datetime import date, datetime
from itertools import accumulate
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.errors import ValidationError
from app.paths import resource_path

FORMAT = "zhuqi-calendar"
VERSION = 1
BUNDLED = ("calendar", "cn_workdays.json")
MIN_YEAR, MAX_YEAR = 1949, 2200
MAX_FILE_BYTES = 4 * 1024 * 1024
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAYS = "一二三四五六日"


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _weekdays_upto(o: int) -> int:
    """Mon-Fri days with proleptic ordinal in [1, o]; ordinal 1 (0001-01-01) is a Monday."""
    q, r = divmod(o, 7)
    return 5 * q + min(r, 5)


def _where(file: str | None) -> str:
    return f"日历文件“{file}”" if file else "日历数据"


class WorkCalendar:
    """Working days on the Chinese calendar: Mon-Fri unless a holiday, Sat/Sun only when a 调休 make-up day.

    Outside [first_year, last_year] it falls back to plain Mon-Fri. Instances are not modified after
    construction; build them with from_dict / load_file / load_bundled, combine them with merged().
    """

    __slots__ = ("_first_year", "_last_year", "_source", "_holidays", "_workdays", "_ex_ords", "_ex_prefix")

    def __init__(
        self,
        *,
        first_year: int,
        last_year: int,
        holidays: Mapping[date, str],
        workdays: Mapping[date, str],
        source: str = "",
        file: str | None = None,
    ):
        where = _where(file)
        if first_year > last_year:
            raise ValidationError(
                f"{where}的年份范围不一致：first_year（{first_year}）晚于 last_year（{last_year}）",
                field="first_year",
                file=file,
            )
        for key, entries in (("holidays", holidays), ("workdays", workdays)):
            for d in entries:
                if not first_year <= d.year <= last_year:
                    raise ValidationError(
                        f"{where}的 {key} 中日期 {d.isoformat()} 不在文件声明的年份范围"
                        f" {first_year}–{last_year} 年内（年份范围不一致）",
                        field=key,
                        file=file,
                    )
        for d in sorted(set(holidays) & set(workdays)):
            raise ValidationError(
                f"{where}中 {d.isoformat()} 同时出现在 holidays（{holidays[d]}）和 workdays（{workdays[d]}）中，"
                "无法判断当天是否上班",
                field="workdays",
                file=file,
            )
        self._first_year = first_year
        self._last_year = last_year
        self._source = source
        self._holidays: Mapping[date, str] = MappingProxyType(dict(sorted(holidays.items())))
        self._workdays: Mapping[date, str] = MappingProxyType(dict(sorted(workdays.items())))
        # Exceptions to Mon-Fri: a weekday off counts -1, a weekend make-up day +1; prefix sums give O(log n) counts.
        deltas = {d.toordinal(): -1 for d in holidays if d.weekday() < 5}
        deltas.update({d.toordinal(): 1 for d in workdays if d.weekday() >= 5})
        self._ex_ords = sorted(deltas)
        self._ex_prefix = [0, *accumulate(deltas[o] for o in self._ex_ords)]

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_dict(cls, d: Any, *, file: str | None = None) -> WorkCalendar:
        """Build from the JSON shape {"format": "zhuqi-calendar", "version": 1, "first_year", "last_year",
        "source", "holidays": {"YYYY-MM-DD": name}, "workdays": {...}}; ValidationError(file=file) if malformed."""
        where = _where(file)

        def fail(message: str, field: str) -> ValidationError:
            return ValidationError(where + message, field=field, file=file)

        if not isinstance(d, Mapping):
            raise fail(f"格式不正确：内容应为 JSON 对象，实际为 {type(d).__name__}", "format")
        fmt = d.get("format")
        if fmt != FORMAT:
            raise fail(f"不是助企工作台的节假日日历（format 应为“{FORMAT}”，实际为“{fmt}”）", "format")
        ver = d.get("version")
        if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
            raise fail(f"缺少有效的版本号 version（实际为“{ver}”）", "version")
        if ver > VERSION:
            raise fail(f"的版本为 {ver}，本程序只支持版本 {VERSION}，请升级助企工作台后再导入", "version")
        years: dict[str, int] = {}
        for key in ("first_year", "last_year"):
            val = d.get(key)
            if not isinstance(val, int) or isinstance(val, bool) or not MIN_YEAR <= val <= MAX_YEAR:
                raise fail(f"的 {key} 应为年份整数（如 2026），实际为“{val}”", key)
            years[key] = val
        source = d.get("source", "")
        if not isinstance(source, str):
            raise fail("的 source 应为文字说明", "source")
        parsed: dict[str, dict[date, str]] = {}
        for key in ("holidays", "workdays"):
            entries = d.get(key)
            if not isinstance(entries, Mapping):
                raise fail(f"缺少 {key}，或其不是“日期: 名称”形式的 JSON 对象", key)
            out: dict[date, str] = {}
            for raw, name in entries.items():
                day = None
                if isinstance(raw, str) and _DATE_RE.fullmatch(raw):
                    try:
                        day = date.fromisoformat(raw)
                    except ValueError:
                        day = None
                if day is None:
                    raise fail(f"的 {key} 中有无效日期“{raw}”（应为 YYYY-MM-DD 格式的真实日期）", key)
                if not isinstance(name, str) or not name.strip():
                    raise fail(f"的 {key} 中 {raw} 的名称应为非空文字，实际为“{name}”", key)
                out[day] = name.strip()
            parsed[key] = out
        return cls(
            first_year=years["first_year"],
            last_year=years["last_year"],
            holidays=parsed["holidays"],
            workdays=parsed["workdays"],
            source=source,
            file=file,
        )

    @classmethod
    def load_file(cls, path: str | PathLike[str]) -> WorkCalendar:
        """Read a calendar JSON file (e.g. next year's, distributed by a hub); ValidationError(file=path) on any problem."""
        name = str(path)
        p = Path(path)
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                raise ValidationError(f"日历文件“{name}”过大，不是有效的节假日日历文件", field="file", file=name)
            raw = p.read_bytes()
        except FileNotFoundError:
            raise ValidationError(f"找不到日历文件“{name}”", field="file", file=name) from None
        except OSError as exc:
            raise ValidationError(f"无法读取日历文件“{name}”：{exc.strerror or exc}", field="file", file=name) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(f"日历文件“{name}”不是 UTF-8 编码的 JSON 文件", field="file", file=name) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"日历文件“{name}”不是有效的 JSON（第{exc.lineno}行第{exc.colno}列：{exc.msg}）",
                field="file",
                file=name,
            ) from None
        except (ValueError, RecursionError):
            raise ValidationError(f"日历文件“{name}”不是有效的 JSON", field="file", file=name) from None
        return cls.from_dict(data, file=name)

    @classmethod
    def load_bundled(cls) -> WorkCalendar:
        """The calendar shipped in resources/calendar/cn_workdays.json (loaded once, then cached)."""
        return _load_bundled()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict from_dict accepts (dates as YYYY-MM-DD, sorted)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "first_year": self._first_year,
            "last_year": self._last_year,
            "source": self._source,
            "holidays": {d.isoformat(): n for d, n in self._holidays.items()},
            "workdays": {d.isoformat(): n for d, n in self._workdays.items()},
        }

    def merged(self, other: WorkCalendar) -> WorkCalendar:
        """Union of both calendars; for years `other` covers, `other` wins. The ranges must touch or overlap."""
        if other._first_year > self._last_year + 1 or other._last_year < self._first_year - 1:
            lo, hi = sorted(((self._first_year, self._last_year), (other._first_year, other._last_year)))
            missing = f"{lo[1] + 1}" if hi[0] - lo[1] == 2 else f"{lo[1] + 1}–{hi[0] - 1}"
            raise ValidationError(
                f"导入的日历（{other._first_year}–{other._last_year} 年）与已有日历"
                f"（{self._first_year}–{self._last_year} 年）之间缺少 {missing} 年，请先导入缺少年份的日历",
                field="calendar",
            )

        def mine(d: date) -> bool:
            return not other._first_year <= d.year <= other._last_year

        holidays = {d: n for d, n in self._holidays.items() if mine(d)} | dict(other._holidays)
        workdays = {d: n for d, n in self._workdays.items() if mine(d)} | dict(other._workdays)
        sources = [s for s in dict.fromkeys((self._source, other._source)) if s]
        return WorkCalendar(
            first_year=min(self._first_year, other._first_year),
            last_year=max(self._last_year, other._last_year),
            holidays=holidays,
            workdays=workdays,
            source="；".join(sources),
        )

    # ----------------------------------------------------------------- queries

    @property
    def first_year(self) -> int:
        return self._first_year

    @property
    def last_year(self) -> int:
        return self._last_year

    @property
    def source(self) -> str:
        return self._source

    @property
    def holidays(self) -> Mapping[date, str]:
        """Days off (read-only): date → holiday name, e.g. 春节."""
        return self._holidays

    @property
    def workdays(self) -> Mapping[date, str]:
        """Make-up working days (read-only): date → name, e.g. 春节调休上班."""
        return self._workdays

    def covers(self, d: date) -> bool:
        """True when d's year is within the loaded holiday schedules."""
        return self._first_year <= d.year <= self._last_year

    def beyond(self, d: date) -> bool:
        """True when d is after the last covered year (deadline arithmetic there is plain Mon-Fri)."""
        return d.year > self._last_year

    def range_warning(self, d: date) -> str | None:
        """The message callers show when d is beyond the calendar, else None."""
        if not self.beyond(d):
            return None
        return f"该日期超出已载入的节假日日历（至 {self._last_year} 年），请导入新年度日历"

    def is_workday(self, d: date) -> bool:
        """Mon-Fri unless a holiday; Sat/Sun only when a make-up working day."""
        d = _as_date(d)
        if d in self._workdays:
            return True
        if d in self._holidays:
            return False
        return d.weekday() < 5

    def day_name(self, d: date) -> str | None:
        """Holiday or 调休 name of d (e.g. 国庆节, 国庆节调休上班), None for an ordinary day."""
        d = _as_date(d)
        return self._holidays.get(d) or self._workdays.get(d)

    def _rank(self, o: int) -> int:
        """Working days with ordinal <= o, counted from 0001-01-01 (only differences are meaningful)."""
        return _weekdays_upto(o) + self._ex_prefix[bisect_right(self._ex_ords, o)]

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; if b < a, minus the working days in (b, a]."""
        return self._rank(_as_date(b).toordinal()) - self._rank(_as_date(a).toordinal())

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after start (start not counted; n=0 → start; n<0 → the |n|-th one before)."""
        start = _as_date(start)
        if n == 0:
            return start
        s = start.toordinal()
        if n > 0:
            # smallest ordinal o > s with rank(o) >= rank(s) + n; that day is necessarily a working day.
            target = self._rank(s) + n
            lo, hi = s, s + 2 * n + 14
            while self._rank(hi) < target:
                hi += hi - s
        else:
            target = self._rank(s - 1) + n + 1
            lo, hi = s - 2 * -n - 14, s - 1
            while self._rank(lo) >= target:
                lo -= s - lo
        while hi - lo > 1:  # invariant: rank(lo) < target <= rank(hi)
            mid = (lo + hi) // 2
            if self._rank(mid) >= target:
                hi = mid
            else:
                lo = mid
        return date.fromordinal(hi)

    # ----------------------------------------------------------------- dunder

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return (self._first_year, self._last_year, dict(self._holidays), dict(self._workdays)) == (
            other._first_year,
            other._last_year,
            dict(other._holidays),
            dict(other._workdays),
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"WorkCalendar({self._first_year}–{self._last_year}, {len(self._holidays)} holidays, "
            f"{len(self._workdays)} make-up workdays)"
        )


@functools.cache
def _load_bundled() -> WorkCalendar:
    return WorkCalendar.load_file(resource_path(*BUNDLED))
