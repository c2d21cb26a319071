"""Working time: deadlines and escalation offsets skip nights, weekends and holidays."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from builder.runtime.automation.sla_calendar import Calendar
from builder.schema.validate import check_definition
from tests.runtime.automation.helpers import sales_app

SH = ZoneInfo("Asia/Shanghai")
HOURS = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00",
         "timezone": "Asia/Shanghai", "holidays": ["2026-10-01"]}


def at(day: int, hour: int, minute: int = 0, month: int = 9) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def calendar(app) -> Calendar:
    return Calendar.of(HOURS)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    (at(21, 10), 120, at(21, 12)),              # Monday inside hours
    (at(21, 17), 120, at(22, 10)),              # runs over the night
    (at(21, 20), 30, at(22, 9, 30)),            # created after hours
    (at(25, 17), 120, at(28, 10)),              # Friday → Monday
    (at(26, 11), 60, at(28, 10)),               # Saturday → Monday
    (at(30, 17), 120, at(2, 10, month=10)),     # skips the holiday
    (at(21, 16), 120, at(21, 18)),              # ends exactly at closing time
    (at(21, 10), 9 * 60 * 2, at(23, 10)),       # two working days
])
def test_adding_working_minutes(calendar: Calendar, start: datetime, minutes: int,
                                due: datetime) -> None:
    assert calendar.add(start, minutes) == due
    assert calendar.minutes_between(start, due) == minutes


@pytest.mark.parametrize(("moment", "minutes", "expected"), [
    (at(21, 12), -30, at(21, 11, 30)),
    (at(22, 9, 15), -30, at(21, 17, 45)),       # back over the night
    (at(28, 9, 0), -60, at(25, 17)),            # back over the weekend
    (at(21, 18), 60, at(22, 10)),               # after the deadline at closing time
])
def test_offsets_from_a_deadline(calendar: Calendar, moment: datetime, minutes: int,
                                 expected: datetime) -> None:
    assert calendar.add(moment, minutes) == expected


def test_without_working_hours_every_minute_counts(app) -> None:
    calendar = Calendar.of(None)
    start = datetime(2026, 9, 26, 23, 0, tzinfo=UTC)
    assert calendar.add(start, 120) == datetime(2026, 9, 27, 1, 0, tzinfo=UTC)
    assert calendar.add(start, -30) == datetime(2026, 9, 26, 22, 30, tzinfo=UTC)


def test_working_days_back(calendar: Calendar) -> None:
    assert calendar.subtract_days(at(28, 15), 5, working_days=True) == at(21, 15)
    assert calendar.subtract_days(at(2, 15, month=10), 2, working_days=True) == at(29, 15)
    assert calendar.subtract_days(at(28, 15), 5, working_days=False) == at(23, 15)


def test_working_hours_name_a_real_time_zone_and_dates(app) -> None:
    policy = {"key": "p", "entity": "lead", "minutes": 60,
              "working_hours": {"timezone": "Mars/Olympus", "holidays": ["2026-13-01"]}}
    _, problems = check_definition(sales_app(sla_policies=[policy]))
    assert {p.path: p.code for p in problems} == {
        "sla_policies[0].working_hours.timezone": "timezone",
        "sla_policies[0].working_hours.holidays[0]": "iso_date"}
