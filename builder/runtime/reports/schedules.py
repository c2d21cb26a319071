"""The cron timers of alerts and reports, kept in step with the published definition.

Publishing an app schedules one recurring timer per enabled alert and report (key
``reports:<alert|report>:<app>:<key>``, cron and time zone from its ``schedule``) and
cancels the timers of those removed or disabled. A timer whose schedule did not change
is left alone, so publishing at 08:59 does not skip the 09:00 report. When a timer
fires, the item is read again from the live definition: a timer of an item that no
longer exists or is disabled does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from builder import clock
from builder.errors import NotFound
from builder.runtime.jobs import timers
from builder.runtime.jobs.timers import DueTimer, timer_handler
from builder.schema.reports import DEFAULT_TIMEZONE

ALERT_TIMER = "reports.alert"
REPORT_TIMER = "reports.report"
#: definition part → (timer kind, payload name)
PARTS = {"alerts": (ALERT_TIMER, "alert"), "reports": (REPORT_TIMER, "report")}


def timer_key(part: str, app_key: str, key: str) -> str:
    return f"reports:{PARTS[part][1]}:{app_key}:{key}"


def _enabled(definition: Mapping[str, Any] | None, part: str) -> dict[str, Mapping[str, Any]]:
    return {str(item["key"]): item for item in (definition or {}).get(part) or []
            if item.get("enabled", True) and item.get("schedule")}


def _schedule(item: Mapping[str, Any]) -> tuple[str, str]:
    schedule = item["schedule"]
    return str(schedule["cron"]), str(schedule.get("timezone") or DEFAULT_TIMEZONE)


def reconcile(tenant_id: int, app_key: str, definition: Mapping[str, Any],
              previous: Mapping[str, Any] | None) -> None:
    """Cancel the timers of items gone or disabled; (re)schedule those new or changed.
    In the publishing transaction."""
    for part, (kind, name) in PARTS.items():
        current, before = _enabled(definition, part), _enabled(previous, part)
        for key in set(before) - set(current):
            timers.cancel(tenant_id, key=timer_key(part, app_key, key))
        for key, item in current.items():
            timer = timer_key(part, app_key, key)
            unchanged = key in before and _schedule(before[key]) == _schedule(item)
            if unchanged and timers.pending(tenant_id, timer):
                continue
            cron, zone = _schedule(item)
            timers.schedule(tenant_id, kind, None, {"app": app_key, name: key}, key=timer,
                            cron=cron, timezone=zone)


def _live_item(timer: DueTimer, part: str) -> Mapping[str, Any] | None:
    from builder.designer.service import live_app

    try:
        _app, definition = live_app(timer.tenant_id, str(timer.payload["app"]))
    except NotFound:
        return None
    return _enabled(definition, part).get(str(timer.payload[PARTS[part][1]]))


def occurrence(timer: DueTimer) -> datetime:
    """The occurrence a firing stands for: the latest one due by now (missed occurrences
    collapse into one firing, which speaks for the most recent of them)."""
    now = clock.now()
    if not timer.cron:
        return timer.due_at
    local = now.astimezone(ZoneInfo(timer.timezone)) + timedelta(seconds=1)
    latest: datetime = croniter(timer.cron, local).get_prev(datetime)
    return max(timer.due_at, latest.astimezone(UTC))


@timer_handler(ALERT_TIMER)
def fire_alert(timer: DueTimer) -> None:
    """An alert's hour: judge it as of the moment it was due."""
    from builder.runtime.reports.alerts import run_alert

    if _live_item(timer, "alerts") is not None:
        run_alert(timer.tenant_id, str(timer.payload["app"]), str(timer.payload["alert"]),
                  occurrence(timer))


@timer_handler(REPORT_TIMER)
def fire_report(timer: DueTimer) -> None:
    """A report's hour: make the run of the period it covers."""
    from builder.runtime.reports.runs import make_run

    if _live_item(timer, "reports") is not None:
        make_run(timer.tenant_id, str(timer.payload["app"]), str(timer.payload["report"]),
                 occurrence(timer))


def install() -> None:
    """Keep the timers in step with every publish."""
    from builder.designer.service import on_publish

    @on_publish("reports.schedules")
    def _published(app: Any, definition: Mapping[str, Any],
                   previous: Mapping[str, Any] | None) -> None:
        reconcile(app.tenant_id, app.key, definition, previous)
