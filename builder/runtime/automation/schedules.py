"""Timers of timed triggers: firing them, and keeping the recurring ones in step with the
published definition.

When an app is published, each enabled automation whose trigger recurs (``schedule``,
``no_activity``) gets its cron timer (re)scheduled, the timers of automations that were
removed, disabled or given another trigger are cancelled, and a new ``date_reached``
automation gets the timers of the records that already have a date to come (a job).
When a timer fires, the automation is read from the live definition again: a timer of an
automation that no longer exists (or changed trigger type) does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound
from builder.extensions import db
from builder.runtime.automation.context import iso, now
from builder.runtime.automation.definitions import build, live_store, processes_of
from builder.runtime.automation.engine import fire
from builder.runtime.automation.triggers import trigger_registry
from builder.runtime.automation.triggers.timed import (
    BATCH,
    TIMER_KIND,
    DateReached,
    TimedTrigger,
    prefix,
    record_key,
)
from builder.runtime.jobs import job, submit, timers
from builder.runtime.jobs.timers import DueTimer, timer_handler
from builder.runtime.records import rows
from builder.runtime.storage.tables import sibling_stores


@timer_handler(TIMER_KIND)
def fire_timed(timer: DueTimer) -> None:
    """A timed trigger's timer is due: queue a run for each firing whose condition holds."""
    payload = timer.payload
    store = live_store(timer.tenant_id, payload["app"], payload["entity"])
    if store is None:
        return
    automation = processes_of(store).automations.get(payload["automation"])
    if automation is None or automation.trigger_type != payload.get("trigger") \
            or automation.entity != store.key:
        return
    trigger = trigger_registry.get(automation.trigger_type)
    if not isinstance(trigger, TimedTrigger):
        return
    at = now()
    for firing in trigger.on_timer(automation, store, timer, at):
        fire(automation, store, firing, None, at)


def reconcile(tenant_id: int, definition: Mapping[str, Any],
              previous: Mapping[str, Any] | None) -> None:
    """Cancel the timers of automations gone or changed; schedule the recurring ones."""
    from builder.runtime.automation.context import tenant_timezone

    current = build(definition).automations
    before = build(previous).automations if previous else {}
    for key, automation in before.items():
        if key not in current or current[key].trigger != automation.trigger \
                or current[key].entity != automation.entity:
            timers.cancel(tenant_id, key_prefix=prefix(automation))
    for key, automation in current.items():
        old = before.get(key)
        changed = old is None or (old.trigger, old.entity) != (automation.trigger,
                                                               automation.entity)
        if automation.trigger_type == "date_reached" and changed:
            submit(arm_dates, (tenant_id, automation.app_key, key), tenant_id=tenant_id)
    zone = tenant_timezone(tenant_id).key
    for automation in current.values():
        trigger = trigger_registry.get(automation.trigger_type) \
            if automation.trigger_type in trigger_registry else None
        cron = trigger.cron(automation) if isinstance(trigger, TimedTrigger) else None
        if cron is None:
            continue
        payload = {"app": automation.app_key, "automation": automation.key,
                   "entity": automation.entity, "trigger": automation.trigger_type}
        timers.schedule(tenant_id, TIMER_KIND, None, payload, key=prefix(automation),
                        cron=cron, timezone=zone)


@job("automation.arm_dates")
def arm_dates(tenant_id: int, app_key: str, key: str) -> int:
    """Job: give the records that existed before a ``date_reached`` automation was
    published their timers (dates still to come); returns how many were set."""
    armed, last_id = 0, 0
    while True:
        definition = live_definition_of(tenant_id, app_key)
        automation = build(definition).automations.get(key) if definition else None
        store = live_store(tenant_id, app_key, automation.entity) if automation else None
        if automation is None or store is None or automation.trigger_type != "date_reached":
            return armed
        column = store.columns.get(str(automation.trigger["field"]))
        if column is None:
            return armed
        table = store.table
        ids = list(db.session.scalars(sa.select(table.c.id).where(
            table.c.id > last_id, table.c.deleted == sa.false(), column.is_not(None))
            .order_by(table.c.id).limit(BATCH)))
        if not ids:
            return armed
        at = now()
        trigger = trigger_registry.get("date_reached")
        records = rows.read_records(store, sibling_stores(store), ids)
        for record_id in ids:
            moment = DateReached.moment(automation, store, records[record_id])
            if moment is not None and moment > at:
                timers.schedule(tenant_id, TIMER_KIND, moment, {
                    "app": app_key, "automation": key, "entity": automation.entity,
                    "trigger": trigger.type, "record": record_id, "at": iso(moment)},
                    key=record_key(automation, record_id))
                armed += 1
        db.session.commit()
        last_id = ids[-1]


def live_definition_of(tenant_id: int, app_key: str) -> Mapping[str, Any] | None:
    from builder.designer.service import live_app

    try:
        return live_app(tenant_id, app_key)[1]
    except NotFound:
        return None


def install() -> None:
    from builder.designer.service import on_publish

    @on_publish("automation.schedules")
    def _published(app: Any, definition: Mapping[str, Any],
                   previous: Mapping[str, Any] | None) -> None:
        reconcile(app.tenant_id, definition, previous)
