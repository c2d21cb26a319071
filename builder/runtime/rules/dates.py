"""Date arithmetic in rules: ``date_add``, ``date_diff`` and ``date_of``.

Rules read dates as ``YYYY-MM-DD`` and datetimes as ISO strings (``2026-03-08T09:30:00Z``;
without an offset a datetime is UTC). The three operators work on those strings and give
the same results as their twins in the browser (``frontend/src/logic/jsonlogic.js``; the
shared cases are in ``tests/fixtures/jsonlogic_cases.json``):

- ``{"date_add": [value, amount, unit]}``: ``value`` moved by ``amount`` units (``minute``,
  ``hour``, ``day``, ``week``, ``month``, ``year``; negative goes back). A date moved by
  whole days, weeks, months or years stays a date; anything else is a datetime in UTC
  (``YYYY-MM-DDTHH:MM:SSZ``, whole seconds). Months and years take whole amounts and keep
  the day of the month where it exists (31 January + 1 month = 28/29 February).
- ``{"date_diff": [start, end, unit]}``: ``end - start`` in ``minute``, ``hour``, ``day`` or
  ``week`` units, fractions kept (a date counts as its midnight, UTC).
- ``{"date_of": [value, timezone]}``: the calendar date of a moment in an IANA time zone
  (default ``Asia/Shanghai``); a date is returned as it is. ``{"date_of": {"var": "$now"}}``
  is today.

Anything that is not a date or a datetime (null, numbers, other text), an unknown unit or
zone, or an amount that is not a finite number gives ``null``, never an error. In SQL
(list filters, metrics) the operators may be used where they read no field, e.g. ``{">=":
[{"var": "created_at"}, {"date_add": [{"var": "$now"}, -7, "day"]}]}``: that part is
computed before the query and bound as a value.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_CALENDAR_MONTHS = {"month": 1, "year": 12}


def parse_moment(value: Any) -> tuple[datetime, bool] | None:
    """``(aware datetime, is_date)`` of an ISO date or datetime string; ``None`` otherwise.

    Fractions of a second are cut to milliseconds, as the browser's ``Date`` keeps them."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        match = _DATE.fullmatch(text)
        if match:
            y, m, d = (int(part) for part in match.groups())
            return datetime(y, m, d, tzinfo=UTC), True
        match = _DATETIME.fullmatch(text)
        if not match:
            return None
        y, mo, d, h, mi = (int(part) for part in match.groups()[:5])
        seconds = int(match.group(6) or 0)
        millis = int((match.group(7) or "0")[:3].ljust(3, "0"))
        offset = match.group(8)
        moment = datetime(y, mo, d, h, mi, seconds, millis * 1000, tzinfo=UTC)
    except ValueError:
        return None
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment, False


def format_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(value: Any) -> float | None:
    from builder.runtime.rules.evaluator import js_to_number

    number = js_to_number(value)
    return number if math.isfinite(number) else None


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole months, the day kept where the month has it."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(year)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def date_add(_data: Any = None, value: Any = None, amount: Any = None, unit: Any = None,
             *_: Any) -> str | None:
    parsed = parse_moment(value)
    number = _amount(amount)
    if parsed is None or number is None or not isinstance(unit, str):
        return None
    moment, is_date = parsed
    try:
        if unit in _CALENDAR_MONTHS:
            whole = int(number)
            moment = add_months(moment, whole * _CALENDAR_MONTHS[unit])
            keeps_date = True
        elif unit in _SECONDS:
            millis = round(number * _SECONDS[unit] * 1000)
            moment = moment + timedelta(milliseconds=millis)
            keeps_date = unit in ("day", "week") and float(number).is_integer()
        else:
            return None
    except (OverflowError, ValueError):
        return None
    if is_date and keeps_date:
        return moment.date().isoformat()
    return format_datetime(moment)


def date_diff(_data: Any = None, start: Any = None, end: Any = None, unit: Any = None,
              *_: Any) -> float | None:
    first, second = parse_moment(start), parse_moment(end)
    if first is None or second is None or unit not in _SECONDS:
        return None
    millis = (second[0] - first[0]) // timedelta(milliseconds=1)
    result = millis / 1000 / _SECONDS[str(unit)]
    return int(result) if result.is_integer() else result


def date_of(_data: Any = None, value: Any = None, timezone: Any = None, *_: Any) -> str | None:
    parsed = parse_moment(value)
    if parsed is None:
        return None
    moment, is_date = parsed
    if is_date:
        return moment.date().isoformat()
    zone_name = DEFAULT_TIMEZONE if timezone is None else timezone
    if not isinstance(zone_name, str):
        return None
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return moment.astimezone(zone).date().isoformat()


def today(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> date:
    """Today's date in ``timezone`` by the business clock."""
    from builder import clock

    return (now or clock.now()).astimezone(ZoneInfo(timezone)).date()


DATE_OPERATORS: dict[str, Callable[..., Any]] = {
    "date_add": date_add, "date_diff": date_diff, "date_of": date_of}
"""Added to the evaluator's operation table."""
