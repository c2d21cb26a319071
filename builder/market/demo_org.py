"""Demo organisations and time-relative demo data.

A sales app's demo means little without sales people: a package may list the people of
its demo (``demo_users``: username, display name, roles) and their ``teams`` (parent,
manager, members by username). Installing with demo data creates the users the tenant
does not have yet (active and available, without a password: they cannot log in until an
admin sets one) and the teams, and gives the roles their listed members.
Without demo data nothing of it is created.

Demo records may also say who owns them, and when things happened relative to the
install, so that dashboards of "this week" and "this month" show figures whenever the
package is installed:

- ``"$owner": {"$user": "zhang.wei"}`` on a record: its owner (by default the installing
  admin); a username the tenant lacks leaves the admin and is reported;
- ``{"$date": -3}`` in a date field: three days before today (the tenant's zone);
  ``{"$date": -1, "start_of": "quarter"}``: the first day of the previous quarter (with
  ``start_of`` — ``week``, ``month``, ``quarter``, ``year`` — the number counts periods);
- ``{"$datetime": -26.5}`` in a datetime field: 26.5 hours before now (in a date field:
  that moment's date).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from builder import clock
from builder.platform import service as platform
from builder.platform.models import Tenant
from builder.runtime.rules.dates import format_datetime, today

OWNER = "$owner"
DATE, DATETIME = "$date", "$datetime"


def create_demo_users(tenant: Tenant, people: Sequence[Mapping[str, Any]]) -> list[str]:
    """Create the demo people the tenant lacks; returns their usernames."""
    created = []
    for person in people:
        if platform.get_user_by_username(tenant, str(person["username"])) is not None:
            continue
        for key in person.get("roles") or []:
            if platform.get_role(tenant.id, key) is None:
                platform.create_role(tenant, key)
        platform.create_user(tenant, str(person["username"]), None,
                             display_name=person.get("display_name") or None,
                             roles=list(person.get("roles") or []), is_available=True)
        created.append(str(person["username"]))
    return created


START_OF = ("week", "month", "quarter", "year")


def is_relative(value: Any) -> bool:
    return isinstance(value, Mapping) and (DATE in value or DATETIME in value) and \
        set(value) <= {DATE, DATETIME, "start_of"}


def relative(value: Mapping[str, Any], kind: str, timezone: str) -> str | None:
    """The ISO date or datetime a relative marker stands for now; ``None`` if it does not
    fit the field (a ``$datetime`` in a date field gives its date)."""
    offset = value.get(DATE, value.get(DATETIME))
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        return None
    if DATE not in value:
        moment = clock.now() + timedelta(hours=float(offset))
        return today(timezone, moment).isoformat() if kind == "date" else format_datetime(moment)
    period = value.get("start_of")
    if period is None:
        day = today(timezone) + timedelta(days=int(offset))
    elif period in START_OF:
        from builder.runtime.insight.periods import period_start, shift

        day = shift(period_start(today(timezone), period), period, int(offset))
    else:
        return None
    if kind == "date":
        return day.isoformat()
    return format_datetime(datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)))
