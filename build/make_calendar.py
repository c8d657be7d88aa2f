"""Generates resources/calendar/cn_workdays.json from the `chinesecalendar` package (build-time only).

Usage: .venv/bin/python build/make_calendar.py [--first-year 2004] [--last-year 2026] [--output PATH]
Needs the optional "calendar" extra (pip install chinesecalendar); the app itself only reads the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import chinese_calendar  # noqa: E402
from chinese_calendar.constants import holidays as CC_HOLIDAYS  # noqa: E402
from chinese_calendar.constants import workdays as CC_WORKDAYS  # noqa: E402

from app.workcal import FORMAT, VERSION, WorkCalendar  # noqa: E402

NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
DEFAULT_OUTPUT = ROOT / "resources" / "calendar" / "cn_workdays.json"


def chinese_name(holiday: object) -> str:
    """Chinese name of a chinese_calendar Holiday enum member (its value is the English name)."""
    english = getattr(holiday, "value", str(holiday))
    try:
        return NAMES[english]
    except KeyError:
        raise SystemExit(f"no Chinese name for holiday {english!r}: add it to NAMES in {__file__}") from None


def supported_years() -> tuple[int, int]:
    years = {d.year for d in CC_HOLIDAYS} | {d.year for d in CC_WORKDAYS}
    return min(years), max(years)


def build(first_year: int, last_year: int) -> dict:
    """The calendar dict (zhuqi-calendar format) for the given inclusive year range."""

    def in_range(d: date) -> bool:
        return first_year <= d.year <= last_year

    holidays = {d.isoformat(): chinese_name(h) for d, h in sorted(CC_HOLIDAYS.items()) if in_range(d)}
    workdays = {
        d.isoformat(): f"{chinese_name(h)}调休上班"
        for d, h in sorted(CC_WORKDAYS.items())
        if in_range(d) and d.weekday() >= 5
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "first_year": first_year,
        "last_year": last_year,
        "source": f"国务院办公厅部署节假日安排的通知（经 chinesecalendar {version('chinesecalendar')} 整理）",
        "holidays": holidays,
        "workdays": workdays,
    }


def verify(data: dict) -> None:
    """Every day of the range must agree with chinese_calendar.is_workday."""
    cal = WorkCalendar.from_dict(data)
    d = date(cal.first_year, 1, 1)
    end = date(cal.last_year, 12, 31)
    while d <= end:
        if cal.is_workday(d) != chinese_calendar.is_workday(d):
            raise SystemExit(
                f"mismatch on {d}: ours={cal.is_workday(d)} chinese_calendar={chinese_calendar.is_workday(d)}"
            )
        d += timedelta(days=1)


def main(argv: list[str] | None = None) -> int:
    lo, hi = supported_years()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-year", type=int, default=lo)
    parser.add_argument("--last-year", type=int, default=hi)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not lo <= args.first_year <= args.last_year <= hi:
        parser.error(f"years must satisfy {lo} <= first <= last <= {hi} (what chinesecalendar covers)")
    data = build(args.first_year, args.last_year)
    verify(data)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    args.output.write_text(text, encoding="utf-8", newline="\n")
    print(
        f"wrote {args.output}: {args.first_year}-{args.last_year}, "
        f"{len(data['holidays'])} holidays, {len(data['workdays'])} make-up workdays"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
