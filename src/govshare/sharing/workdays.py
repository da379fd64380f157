"""Working days (工作日) for the legal deadlines: Chinese public holidays and make-up working days (调休).

The holiday data is the `chinese-calendar` package's (maintained yearly from the State Council's 放假安排).
A year it does not cover yet counts Monday–Friday as working days; the jurisdiction can list that year's
holidays and make-up days (`sharing.extra_holidays` / `extra_workdays`) as soon as they are announced, and
the deadline is marked provisional until then.

Deadlines are counted in the node's local calendar (Asia/Shanghai): a request submitted on a working day
starts counting the next working day, and is due at the end (23:59:59) of the N-th working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from govshare.jurisdiction import SharingRules

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # aware UTC
    provisional: bool  # some day counted lies in a year the holiday data does not cover


class WorkCalendar:
    def __init__(self, rules: SharingRules) -> None:
        self.extra_holidays = frozenset(rules.extra_holidays)
        self.extra_workdays = frozenset(rules.extra_workdays)

    def is_workday(self, day: date) -> tuple[bool, bool]:
        """(is a working day, known from published holiday data)."""
        if day in self.extra_workdays:
            return True, True
        if day in self.extra_holidays:
            return False, True
        try:
            return bool(chinese_calendar.is_workday(day)), True
        except NotImplementedError:  # a year the package does not cover yet
            return day.weekday() < 5, False

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The end of the `days`-th working day after the local day of `start`."""
        day = start.astimezone(CHINA).date()
        provisional, counted = False, 0
        while counted < days:
            day += timedelta(days=1)
            working, known = self.is_workday(day)
            provisional = provisional or not known
            counted += working
        end = datetime.combine(day, time(23, 59, 59), tzinfo=CHINA)
        return Deadline(end.astimezone(UTC), provisional)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days from the local day after `start` up to and including the local day of `end`
        (a same-day answer took 0 working days)."""
        first, last = start.astimezone(CHINA).date(), end.astimezone(CHINA).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_workday(day)[0]
        return count

    def working_days_left(self, now: datetime, due_at: datetime) -> int:
        """Working days from today (exclusive) to the due day (inclusive); negative once overdue."""
        if due_at < now:
            return -self.working_days_between(due_at, now)
        return self.working_days_between(now, due_at)
