"""Deadlines: the 13710 template on the Chinese working-day calendar, overrides, calendar range warnings,
and "a missed deadline stays missed"."""

from __future__ import annotations

from datetime import date

import pytest

from app.errors import ValidationError
from app.stats import Period
from tests.unit.conftest import is_workday, nth_workday_after, workdays_in


def _problem(world, *, registered_on: str, severity: str = "一般") -> str:
    return world.problem(world.enterprise(), registered_on=registered_on, severity=severity)


def test_independent_calendar_sanity():
    # 2025 国庆/中秋: Oct 1-8 off, Sat 2025-09-28 and Sat 2025-10-11 are make-up working days.
    assert not is_workday(date(2025, 10, 8)) and is_workday(date(2025, 10, 11)) and is_workday(date(2025, 9, 28))
    assert not is_workday(date(2026, 2, 16)) and is_workday(date(2026, 2, 14)) and is_workday(date(2026, 2, 28))


def test_ordinary_problem_gets_7_working_days_across_national_day(svc, world):
    pid = _problem(world, registered_on="2025-09-29")
    assert world.assign(pid, "2025-09-30") == []
    p = svc.problems.get(pid)
    assert p["deadline"] == "2025-10-16"  # 10-09, 10-10, 10-11 (调休上班), 10-13 ... 10-16
    assert p["original_deadline"] == "2025-10-16"
    assert p["template_id"] == "T13710"
    assert p["deadline"] == nth_workday_after(date(2025, 9, 30), 7).isoformat()


def test_major_problem_gets_30_working_days(svc, world):
    pid = _problem(world, registered_on="2025-09-29", severity="重大")
    world.assign(pid, "2025-09-30")
    p = svc.problems.get(pid)
    assert p["template_id"] == "T13710M"
    assert p["deadline"] == nth_workday_after(date(2025, 9, 30), 30).isoformat()


@pytest.mark.parametrize(("assigned", "severity", "days"), [
    ("2026-02-10", "一般", 7),  # across 春节 2026: 02-14 (Sat) is a make-up day, 02-15..02-23 off
    ("2026-02-10", "重大", 30),
    ("2026-02-13", "一般", 7),
    ("2025-12-30", "一般", 7),  # across 元旦 2026 and the year boundary (2026-01-04 Sunday make-up day)
    ("2025-04-30", "重大", 30),  # 劳动节 2025
])
def test_deadline_matches_calendar_json(svc, world, assigned, severity, days):
    pid = _problem(world, registered_on=assigned, severity=severity)
    world.assign(pid, assigned)
    expected = nth_workday_after(date.fromisoformat(assigned), days)
    assert svc.problems.get(pid)["deadline"] == expected.isoformat()
    assert workdays_in(date.fromisoformat(assigned), expected) == days


def test_spring_festival_2026_example(svc, world):
    pid = _problem(world, registered_on="2026-02-10")
    world.assign(pid, "2026-02-10")
    # 02-11, 02-12, 02-13, 02-14 (调休上班), then 02-24, 02-25, 02-26
    assert svc.problems.get(pid)["deadline"] == "2026-02-26"


def test_explicit_deadline_and_template_override(svc, world):
    pid = _problem(world, registered_on="2025-09-29")
    world.assign(pid, "2025-09-30", deadline="2025-11-28")
    p = svc.problems.get(pid)
    assert p["deadline"] == p["original_deadline"] == "2025-11-28"

    pid2 = _problem(world, registered_on="2025-09-29")
    world.assign(pid2, "2025-09-30", template_id="TZS135")  # 中山: 5 working days
    p2 = svc.problems.get(pid2)
    assert p2["deadline"] == nth_workday_after(date(2025, 9, 30), 5).isoformat() == "2025-10-14"
    assert p2["template_id"] == "TZS135"

    pid3 = _problem(world, registered_on="2025-09-29")
    with pytest.raises(ValidationError) as err:
        world.assign(pid3, "2025-09-30", deadline="2025-09-29")  # before the day it is assigned
    assert err.value.field == "deadline"
    with pytest.raises(ValidationError) as err:
        world.assign(pid3, "2025-09-30", template_id="NOPE")
    assert err.value.field == "template_id"
    assert svc.problems.get(pid3)["status"] == "待交办"


def test_deadline_past_calendar_range_warns(svc, world):
    from app.clock import today

    last = svc.ctx.calendar.last_year
    if date(last, 11, 20) > today():  # the bundled calendar was extended: event dates may not be in the future
        pytest.skip("needs the calendar's last year to have reached 11-20")
    # 重大 problem assigned late in the last calendar year: 30 working days run into the next year.
    pid = _problem(world, registered_on=f"{last}-11-20", severity="重大")
    warnings = world.assign(pid, f"{last}-11-20")
    deadline = svc.problems.get(pid)["deadline"]
    assert deadline.startswith(str(last + 1))
    assert len(warnings) == 1 and str(last) in warnings[0] and "日历" in warnings[0]
    # an explicit deadline past the calendar warns too, and an extension past it
    pid2 = _problem(world, registered_on=f"{last}-10-09")
    assert world.assign(pid2, f"{last}-10-09", deadline=f"{last}-12-31") == []
    warnings = world.step(pid2, "延期", f"{last}-10-12", note="需要跨年协调。", deadline=f"{last + 1}-01-15",
                          approver="王局长")
    assert len(warnings) == 1 and "日历" in warnings[0]


def test_missed_deadline_stays_missed_after_extension(svc, world):
    pid = _problem(world, registered_on="2025-03-03")
    world.assign(pid, "2025-03-03")
    d = svc.problems.get(pid)["deadline"]
    assert d == "2025-03-12"
    world.step(pid, "延期", "2025-03-10", note="需协调供电公司。", deadline="2025-03-22", approver="王局长")
    world.resolve(pid, "2025-03-14")  # after D, before the extended deadline
    p = svc.problems.get(pid)
    assert p["missed_deadline"] is True and p["overdue"] is False and p["overdue_workdays"] == 0
    h = svc.stats.headline(Period(date(2025, 3, 1), date(2025, 3, 31)))
    assert h["missed_deadline"] == 1 and h["overdue"] == 0 and h["problems_solved"] == 1


def test_resolved_in_time_is_not_missed(svc, world):
    pid = _problem(world, registered_on="2025-03-03")
    world.assign(pid, "2025-03-03")
    world.resolve(pid, "2025-03-12")  # on the deadline day itself
    p = svc.problems.get(pid)
    assert p["missed_deadline"] is False and p["overdue"] is False
    h = svc.stats.headline(Period(date(2025, 3, 1), date(2025, 3, 31)))
    assert h["missed_deadline"] == 0 and h["overdue"] == 0


def test_overdue_counts_working_days(svc, world):
    pid = _problem(world, registered_on="2025-09-22")
    world.assign(pid, "2025-09-22", deadline="2025-09-30")
    row = svc.problems.get(pid)
    facts = svc.problems.deadline_facts(row, on=date(2025, 10, 20))
    assert facts["overdue"] is True and facts["missed_deadline"] is True
    assert facts["overdue_workdays"] == workdays_in(date(2025, 9, 30), date(2025, 10, 20)) == 9
    assert svc.problems.deadline_facts(row, on=date(2025, 9, 30))["overdue"] is False  # due today is not late
    left = svc.problems.deadline_facts(row, on=date(2025, 9, 26))["workdays_left"]
    assert left == workdays_in(date(2025, 9, 26), date(2025, 9, 30)) == 3  # 09-28 (Sun) is a make-up day
    # as of today (long after 2025-09-30) the problem is overdue, in get() and in the statistics
    assert row["overdue"] is True
    from app.clock import today

    assert row["overdue_workdays"] == svc.ctx.calendar.workdays_between(date(2025, 9, 30), today())
    h = svc.stats.headline(Period(date(2025, 9, 1), date(2025, 10, 20)))
    assert h["overdue"] == 1 and h["missed_deadline"] == 1
    h_before = svc.stats.headline(Period(date(2025, 9, 1), date(2025, 9, 30)))
    assert h_before["overdue"] == 0 and h_before["missed_deadline"] == 0


def test_supervision_records_overdue_workdays(svc, world):
    pid = _problem(world, registered_on="2025-09-22")
    world.assign(pid, "2025-09-22", deadline="2025-09-30")
    world.step(pid, "督办", "2025-10-13", reply_by="2025-10-15")
    ev = svc.problems.events(pid)[-1]
    assert ev["kind"] == "督办" and ev["data"]["overdue_workdays"] == workdays_in(date(2025, 9, 30), date(2025, 10, 13))
