"""Periods of business time: days, weeks (Monday first), months, quarters and years in the
tenant's time zone, as Python boundaries and as SQL bucket expressions.

Datetimes are stored in UTC; a manager in Shanghai means Shanghai's March when they say
"March". Bucketing in SQL and the ranges used for drill-down are both derived here, so a
bar and the list behind it always cut time at the same instants. A bucket is named by the
ISO date of its first day (``2026-03-01`` for March).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

PERIODS = ("day", "week", "month", "quarter", "year")
DEFAULT_ZONE = "Asia/Shanghai"


def period_start(day: date, period: str) -> date:
    """The first day of the period containing ``day``."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period == "year":
        return date(day.year, 1, 1)
    raise ValueError(f"unknown period {period!r}")


def shift(start: date, period: str, steps: int) -> date:
    """The start of the period ``steps`` periods after the one starting at ``start``."""
    if period == "day":
        return start + timedelta(days=steps)
    if period == "week":
        return start + timedelta(weeks=steps)
    months = {"month": 1, "quarter": 3, "year": 12}[period] * steps
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Window:
    """A half-open range of days ``[start, end)`` in the tenant's zone."""

    start: date
    end: date
    zone: str = DEFAULT_ZONE

    @classmethod
    def of(cls, day: date, period: str, zone: str = DEFAULT_ZONE) -> Window:
        start = period_start(day, period)
        return cls(start, shift(start, period, 1), zone)

    def previous(self, period: str) -> Window:
        return Window(shift(self.start, period, -1), self.start, self.zone)

    def buckets(self, period: str) -> Iterator[Window]:
        start = period_start(self.start, period)
        while start < self.end:
            following = shift(start, period, 1)
            yield Window(start, following, self.zone)
            start = following

    def utc_bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.zone)
        return (datetime.combine(self.start, time(), zone).astimezone(UTC),
                datetime.combine(self.end, time(), zone).astimezone(UTC))

    def as_logic(self, field: str, kind: str) -> dict[str, Any]:
        """JsonLogic selecting the records whose ``field`` falls in the window."""
        if kind == "date":
            low, high = self.start.isoformat(), self.end.isoformat()
        else:
            start, end = self.utc_bounds()
            low, high = (start.strftime("%Y-%m-%dT%H:%M:%S"),
                         end.strftime("%Y-%m-%dT%H:%M:%S"))
        return {"and": [{">=": [{"var": field}, low]}, {"<": [{"var": field}, high]}]}

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def today(zone: str = DEFAULT_ZONE, now: datetime | None = None) -> date:
    moment = now or datetime.now(UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


def _offset_hours(zone: str, day: date) -> float:
    offset = datetime.combine(day, time(12), ZoneInfo(zone)).utcoffset()
    return (offset or timedelta()).total_seconds() / 3600


def bucket_sql(column: Any, kind: str, period: str, dialect: str, zone: str = DEFAULT_ZONE,
               on: date | None = None) -> Any:
    """A SQL expression naming the period of ``column`` by its first day (ISO text).

    Datetimes are moved into the zone first (by its offset: the zones tenants use in
    China keep one offset all year)."""
    if dialect == "postgresql":
        local = column if kind == "date" else sa.func.timezone(zone, column)
        return sa.func.to_char(sa.func.date_trunc(period, local), "YYYY-MM-DD")
    hours = _offset_hours(zone, on or date.today())
    local = sa.func.date(column) if kind == "date" else sa.func.datetime(
        column, f"{hours:+g} hours")
    if period == "day":
        return sa.func.date(local)
    if period == "week":
        return sa.func.date(local, "weekday 0", "-6 days")
    if period == "month":
        return sa.func.strftime("%Y-%m-01", local)
    if period == "year":
        return sa.func.strftime("%Y-01-01", local)
    month = sa.cast(sa.func.strftime("%m", local), sa.Integer)
    first = (month - 1) / 3 * 3 + 1
    return sa.func.strftime("%Y", local) + "-" + sa.func.printf("%02d", first) + "-01"
