"""Working time: moving a moment by minutes (or days) of working time.

``Calendar.add(moment, minutes)`` counts only the minutes inside working hours (days of
the week and a daily window, read in the tenant's time zone); a negative amount counts
backwards. Without working hours every minute counts. SLA deadlines, escalation offsets
and "no activity for N working days" all go through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from builder.runtime.automation.context import tenant_timezone

MAX_DAYS_SEARCHED = 3660


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Calendar:
    """Working hours: ISO weekdays (1 = Monday), a daily window, a time zone, holidays.

    ``days`` empty means every minute is working time."""

    zone: ZoneInfo
    days: frozenset[int] = frozenset()
    start: time = time(0, 0)
    end: time = time(0, 0)
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, working_hours: Mapping[str, Any] | None, tenant_id: int | None = None
           ) -> Calendar:
        """The calendar of a definition's ``working_hours`` (none: every minute counts)."""
        wh = working_hours or {}
        zone = tenant_timezone(tenant_id, wh.get("timezone"))
        if not working_hours:
            return cls(zone)
        return cls(zone, frozenset(int(d) for d in wh.get("days") or (1, 2, 3, 4, 5)),
                   _time(wh.get("start") or "09:00"), _time(wh.get("end") or "18:00"),
                   frozenset(date.fromisoformat(d) for d in wh.get("holidays") or ()))

    @property
    def always(self) -> bool:
        return not self.days or self.start >= self.end

    def is_working_day(self, day: date) -> bool:
        return self.always or (day.isoweekday() in self.days and day not in self.holidays)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.start, tzinfo=self.zone),
                datetime.combine(day, self.end, tzinfo=self.zone))

    def _next_window(self, moment: datetime) -> tuple[datetime, datetime]:
        """The working window containing ``moment`` (from ``moment``), or the next one."""
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_SEARCHED):
            if self.is_working_day(day):
                start, end = self._window(day)
                if moment < end:
                    return max(start, moment), end
            day += timedelta(days=1)
        raise ValueError("no working time in the next ten years")

    def _previous_window(self, moment: datetime) -> tuple[datetime, datetime]:
        """The working window containing ``moment`` (up to ``moment``), or the one before."""
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_SEARCHED):
            if self.is_working_day(day):
                start, end = self._window(day)
                if moment > start:
                    return start, min(end, moment)
            day -= timedelta(days=1)
        raise ValueError("no working time in the last ten years")

    def add(self, moment: datetime, minutes: float) -> datetime:
        """``moment`` moved by ``minutes`` of working time (backwards when negative).

        Zero leaves ``moment`` as it is; a deadline reached at the end of a day's window
        stays there rather than jumping to the next morning. The result is in UTC."""
        return self._add(moment, minutes).astimezone(UTC)

    def _add(self, moment: datetime, minutes: float) -> datetime:
        if self.always or minutes == 0:
            return moment + timedelta(minutes=minutes)
        remaining = timedelta(minutes=abs(minutes))
        current = moment
        if minutes > 0:
            while True:
                start, end = self._next_window(current)
                if remaining <= end - start:
                    return start + remaining
                remaining -= end - start
                current = end
        while True:
            start, end = self._previous_window(current)
            if remaining <= end - start:
                return end - remaining
            remaining -= end - start
            current = start

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        if end < start:
            return -self.minutes_between(end, start)
        if self.always:
            return (end - start).total_seconds() / 60
        total = timedelta()
        current = start
        while current < end:
            window_start, window_end = self._next_window(current)
            if window_start >= end:
                break
            total += min(window_end, end) - window_start
            current = window_end
        return total.total_seconds() / 60

    def subtract_days(self, moment: datetime, days: int, working_days: bool) -> datetime:
        """``moment`` minus ``days`` calendar days, or minus ``days`` working days (same
        time of day, skipping days off)."""
        if not working_days:
            return moment - timedelta(days=days)
        local = moment.astimezone(self.zone)
        counted = 0
        for _ in range(MAX_DAYS_SEARCHED):
            if counted >= days:
                break
            local = datetime.combine(local.date() - timedelta(days=1), local.timetz())
            if self.is_working_day(local.date()):
                counted += 1
        return local.astimezone(moment.tzinfo)
