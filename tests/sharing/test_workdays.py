"""Working-day deadlines on the Chinese calendar: holidays and make-up days (调休), provisional years."""

from __future__ import annotations

from datetime import UTC, date, datetime

from govshare.jurisdiction import SharingRules
from govshare.sharing.workdays import CHINA, WorkCalendar


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA).astimezone(UTC)


def test_ten_working_days_skip_weekends() -> None:
    calendar = WorkCalendar(SharingRules())
    # Monday 2026-03-02 → the 10th working day after is Monday 2026-03-16 (no holidays in between).
    deadline = calendar.add_working_days(_at(date(2026, 3, 2)), 10)
    assert deadline.due_at.astimezone(CHINA).date() == date(2026, 3, 16)
    assert deadline.due_at.astimezone(CHINA).hour == 23
    assert not deadline.provisional


def test_national_day_holiday_and_make_up_working_days() -> None:
    calendar = WorkCalendar(SharingRules())
    # 2026 国庆: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 are make-up working days (调休).
    assert calendar.is_workday(date(2026, 10, 5)) == (False, True)
    assert calendar.is_workday(date(2026, 10, 10)) == (True, True)
    # Submitted Wednesday 09-30: working days 10-08 (1), 10-09 (2), 10-10 Sat make-up (3), 10-12 (4) …
    deadline = calendar.add_working_days(_at(date(2026, 9, 30)), 4)
    assert deadline.due_at.astimezone(CHINA).date() == date(2026, 10, 12)
    # Counting back: an answer on 10-12 took 4 working days.
    assert calendar.working_days_between(_at(date(2026, 9, 30)), _at(date(2026, 10, 12))) == 4


def test_a_year_without_published_holidays_is_provisional_and_configurable() -> None:
    calendar = WorkCalendar(SharingRules())
    deadline = calendar.add_working_days(_at(date(2026, 12, 28)), 5)
    # 12-29, 12-30, 12-31 (2026, known), then 2027-01-01 (Fri) and 01-04 (Mon) as plain weekdays.
    assert deadline.due_at.astimezone(CHINA).date() == date(2027, 1, 4)
    assert deadline.provisional
    configured = WorkCalendar(SharingRules(extra_holidays=(date(2027, 1, 1),)))
    later = configured.add_working_days(_at(date(2026, 12, 28)), 5)
    assert later.due_at.astimezone(CHINA).date() == date(2027, 1, 5)


def test_days_left_turn_negative_once_overdue() -> None:
    calendar = WorkCalendar(SharingRules())
    due = calendar.add_working_days(_at(date(2026, 3, 2)), 2).due_at  # Wednesday 03-04 23:59:59
    assert calendar.working_days_left(_at(date(2026, 3, 3)), due) == 1
    assert calendar.working_days_left(_at(date(2026, 3, 6)), due) == -2
