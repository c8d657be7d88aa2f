"""Tests for app.workcal: bundled calendar, 调休 make-up days, deadline arithmetic, imported calendar files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import ValidationError
from app.paths import resource_path
from app.workcal import WorkCalendar

D = date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.load_bundled()


def _days(a: date, b: date) -> list[date]:
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _cal_2027() -> dict:
    return {
        "format": "zhuqi-calendar",
        "version": 1,
        "first_year": 2027,
        "last_year": 2027,
        "source": "测试用 2027 年日历",
        "holidays": {"2027-01-01": "元旦", "2027-02-08": "春节", "2027-02-09": "春节"},
        "workdays": {"2027-02-20": "春节调休上班"},
    }


def _write(tmp_path: Path, data: object, name: str = "cal.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ----------------------------------------------------------------- bundled calendar


def test_bundled_range_and_cached(cal: WorkCalendar) -> None:
    assert cal.first_year <= 2018
    assert cal.last_year == 2026
    assert WorkCalendar.load_bundled() is cal
    assert cal.covers(D(2026, 12, 31)) and not cal.covers(D(2027, 1, 1))


def test_bundled_file_round_trips(cal: WorkCalendar) -> None:
    on_disk = json.loads(resource_path("calendar", "cn_workdays.json").read_text(encoding="utf-8"))
    assert cal.to_dict() == on_disk
    assert WorkCalendar.from_dict(cal.to_dict()) == cal


def test_runtime_does_not_import_chinesecalendar_or_qt() -> None:
    code = (
        "import sys, app.workcal, app.uscc; "
        "assert 'chinese_calendar' not in sys.modules; assert 'PySide6' not in sys.modules; "
        "app.workcal.WorkCalendar.load_bundled()"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_agrees_with_chinesecalendar_every_day(cal: WorkCalendar) -> None:
    chinese_calendar = pytest.importorskip("chinese_calendar")
    for d in _days(D(cal.first_year, 1, 1), D(cal.last_year, 12, 31)):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d


def test_weekends(cal: WorkCalendar) -> None:
    assert not cal.is_workday(D(2026, 3, 7))  # Sat
    assert not cal.is_workday(D(2026, 3, 8))  # Sun
    assert cal.is_workday(D(2026, 3, 9))  # Mon
    assert cal.day_name(D(2026, 3, 7)) is None


def test_spring_festival_2026(cal: WorkCalendar) -> None:
    for d in _days(D(2026, 2, 15), D(2026, 2, 23)):
        assert not cal.is_workday(d), d
        assert cal.day_name(d) == "春节"
    for d in (D(2026, 2, 14), D(2026, 2, 28)):  # Saturdays
        assert d.weekday() == 5
        assert cal.is_workday(d)
        assert cal.day_name(d) == "春节调休上班"
    assert cal.is_workday(D(2026, 2, 13)) and cal.is_workday(D(2026, 2, 24))


def test_national_day_and_mid_autumn_2025(cal: WorkCalendar) -> None:
    for d in _days(D(2025, 10, 1), D(2025, 10, 8)):
        assert not cal.is_workday(d), d
    assert cal.day_name(D(2025, 10, 1)) == "国庆节"
    assert cal.day_name(D(2025, 10, 6)) == "中秋节"
    assert D(2025, 9, 28).weekday() == 6 and cal.is_workday(D(2025, 9, 28))
    assert D(2025, 10, 11).weekday() == 5 and cal.is_workday(D(2025, 10, 11))
    assert cal.day_name(D(2025, 10, 11)) == "国庆节调休上班"
    assert cal.is_workday(D(2025, 10, 9))


def test_new_year_2026(cal: WorkCalendar) -> None:
    assert not cal.is_workday(D(2026, 1, 1)) and not cal.is_workday(D(2026, 1, 2))
    assert cal.is_workday(D(2026, 1, 4))  # Sunday make-up day
    assert cal.day_name(D(2026, 1, 4)) == "元旦调休上班"


# ----------------------------------------------------------------- deadline arithmetic


def test_seven_workdays_across_national_day(cal: WorkCalendar) -> None:
    # 交办 on Tue 2025-09-30: 10-09 Thu, 10-10 Fri, 10-11 Sat (调休), 10-13..10-16 → due Thu 2025-10-16.
    assert cal.add_workdays(D(2025, 9, 30), 7) == D(2025, 10, 16)
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 16)) == 7
    assert cal.workdays_between(D(2025, 10, 16), D(2025, 9, 30)) == -7
    assert cal.add_workdays(D(2025, 10, 16), -7) == D(2025, 9, 30)


def test_seven_workdays_across_spring_festival_2026(cal: WorkCalendar) -> None:
    # Thu 02-12: 02-13 Fri, 02-14 Sat (调休), 02-24..02-27, 02-28 Sat (调休) → due 2026-02-28.
    assert cal.add_workdays(D(2026, 2, 12), 7) == D(2026, 2, 28)


def test_makeup_saturday_counts(cal: WorkCalendar) -> None:
    assert cal.add_workdays(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert cal.add_workdays(D(2026, 2, 27), 1) == D(2026, 2, 28)
    assert cal.add_workdays(D(2026, 2, 28), 1) == D(2026, 3, 2)
    assert cal.workdays_between(D(2026, 2, 13), D(2026, 2, 14)) == 1


def test_add_zero_and_from_holiday(cal: WorkCalendar) -> None:
    assert cal.add_workdays(D(2026, 2, 17), 0) == D(2026, 2, 17)
    assert cal.add_workdays(D(2026, 2, 17), 1) == D(2026, 2, 24)
    assert cal.add_workdays(D(2026, 2, 17), -1) == D(2026, 2, 14)
    assert cal.workdays_between(D(2026, 2, 17), D(2026, 2, 17)) == 0


def test_plain_weekdays_outside_range(cal: WorkCalendar) -> None:
    assert cal.is_workday(D(2027, 1, 1))  # a Friday; no 2027 schedule loaded
    assert cal.add_workdays(D(2027, 1, 1), 1) == D(2027, 1, 4)
    assert cal.is_workday(D(1999, 10, 1))


def _naive_add(cal: WorkCalendar, start: date, n: int) -> date:
    d, left, step = start, abs(n), 1 if n > 0 else -1
    while left:
        d += timedelta(days=step)
        if cal.is_workday(d):
            left -= 1
    return d


def _naive_between(cal: WorkCalendar, a: date, b: date) -> int:
    if b < a:
        return -_naive_between(cal, b, a)
    return sum(cal.is_workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


@settings(max_examples=300, deadline=None)
@given(st.dates(D(2003, 6, 1), D(2027, 6, 30)), st.integers(-60, 60), st.integers(-90, 90))
def test_matches_day_by_day_stepping(start: date, n: int, span: int) -> None:
    cal = WorkCalendar.load_bundled()
    due = cal.add_workdays(start, n)
    assert due == _naive_add(cal, start, n)
    if n:
        assert cal.is_workday(due)
        assert cal.workdays_between(start, due) == (n if n > 0 else n + 1 - cal.is_workday(start))
    other = start + timedelta(days=span)
    assert cal.workdays_between(start, other) == _naive_between(cal, start, other)


def test_fast_enough_for_thousands(cal: WorkCalendar) -> None:
    start = D(2018, 1, 1)
    t0 = time.perf_counter()
    for i in range(20_000):
        d = cal.add_workdays(start + timedelta(days=i % 3000), i % 40)
        cal.workdays_between(start, d)
    assert time.perf_counter() - t0 < 2.0
    assert cal.add_workdays(D(2004, 1, 1), 5000) == _naive_add(cal, D(2004, 1, 1), 5000)


# ----------------------------------------------------------------- range, import, merge


def test_beyond_2027(cal: WorkCalendar) -> None:
    assert not cal.beyond(D(2026, 12, 31))
    assert cal.beyond(D(2027, 1, 4))
    assert cal.range_warning(D(2026, 12, 31)) is None
    assert cal.range_warning(D(2027, 1, 4)) == "该日期超出已载入的节假日日历（至 2026 年），请导入新年度日历"
    deadline = cal.add_workdays(D(2026, 12, 25), 7)
    assert cal.beyond(deadline)


def test_merged_with_imported_2027(cal: WorkCalendar, tmp_path: Path) -> None:
    imported = WorkCalendar.load_file(_write(tmp_path, _cal_2027(), "2027.json"))
    merged = cal.merged(imported)
    assert (merged.first_year, merged.last_year) == (cal.first_year, 2027)
    assert not merged.beyond(D(2027, 6, 1)) and merged.beyond(D(2028, 1, 3))
    assert not merged.is_workday(D(2027, 1, 1))
    assert merged.is_workday(D(2027, 2, 20)) and merged.day_name(D(2027, 2, 20)) == "春节调休上班"
    assert not merged.is_workday(D(2026, 2, 16)) and merged.is_workday(D(2026, 2, 14))
    assert merged.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert cal.last_year == 2026  # original untouched
    assert WorkCalendar.from_dict(merged.to_dict()) == merged


def test_merged_overlap_other_wins(cal: WorkCalendar) -> None:
    revised = {
        "format": "zhuqi-calendar",
        "version": 1,
        "first_year": 2026,
        "last_year": 2027,
        "holidays": {"2026-10-01": "国庆节", "2027-01-01": "元旦"},
        "workdays": {},
    }
    merged = cal.merged(WorkCalendar.from_dict(revised))
    assert merged.is_workday(D(2026, 2, 16))  # 2026 now comes from the revised file only
    assert not merged.is_workday(D(2026, 10, 1))
    assert not merged.is_workday(D(2025, 10, 1))  # 2025 kept from the bundled calendar
    assert (merged.first_year, merged.last_year) == (cal.first_year, 2027)


def test_merged_with_gap_rejected(cal: WorkCalendar) -> None:
    data = _cal_2027() | {"first_year": 2028, "last_year": 2028, "holidays": {}, "workdays": {}}
    with pytest.raises(ValidationError, match="缺少 2027 年"):
        cal.merged(WorkCalendar.from_dict(data))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"format": "other-calendar"}, "format"),
        ({"version": 2}, "版本"),
        ({"first_year": "2027"}, "first_year"),
        ({"first_year": 2028}, "年份范围不一致"),
        ({"holidays": {"2027-02-30": "春节"}}, "2027-02-30"),
        ({"holidays": {"2027/01/01": "元旦"}}, "2027/01/01"),
        ({"holidays": {"2028-01-01": "元旦"}}, "年份范围不一致"),
        ({"holidays": {"2027-01-01": ""}}, "名称"),
        ({"holidays": ["2027-01-01"]}, "holidays"),
        ({"workdays": {"2027-01-01": "调休"}}, "同时出现"),
    ],
)
def test_malformed_files_rejected_naming_file(tmp_path: Path, change: dict, fragment: str) -> None:
    path = _write(tmp_path, _cal_2027() | change, "bad-2027.json")
    with pytest.raises(ValidationError) as exc:
        WorkCalendar.load_file(path)
    assert str(path) in exc.value.message
    assert fragment in exc.value.message
    assert exc.value.file == str(path)


@pytest.mark.parametrize("content", ["not json at all", "[1, 2, 3]", '{"format": "zhuqi-calendar"', ""])
def test_non_calendar_json_rejected(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path, content, "broken.json")
    with pytest.raises(ValidationError) as exc:
        WorkCalendar.load_file(path)
    assert str(path) in exc.value.message and exc.value.file == str(path)


def test_missing_and_binary_files_rejected(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ValidationError, match="找不到") as exc:
        WorkCalendar.load_file(missing)
    assert exc.value.file == str(missing)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValidationError, match="UTF-8"):
        WorkCalendar.load_file(binary)


def test_from_dict_without_file_still_explains() -> None:
    with pytest.raises(ValidationError, match="日历数据.*2027-13-01"):
        WorkCalendar.from_dict(_cal_2027() | {"workdays": {"2027-13-01": "x"}})
