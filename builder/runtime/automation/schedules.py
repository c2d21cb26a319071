"""Timers of timed triggers: firing them, and keeping the recurring ones in step with the
published definition.

When an app is published, each enabled automation whose trigger recurs (``schedule``,
``no_activity``) gets its cron timer (re)scheduled, and the timers of automations that
were removed, disabled or given another trigger are cancelled. When a timer fires, the
automation is read from the live definition again: a timer of an automation that no
longer exists (or changed trigger type) does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import NotFound
from builder.runtime.automation.context import now
from builder.runtime.automation.definitions import build, processes_of
from builder.runtime.automation.engine import fire
from builder.runtime.automation.triggers import trigger_registry
from builder.runtime.automation.triggers.timed import TIMER_KIND, TimedTrigger, prefix
from builder.runtime.jobs import timers
from builder.runtime.jobs.timers import DueTimer, timer_handler
from builder.runtime.storage.tables import entity_store


@timer_handler(TIMER_KIND)
def fire_timed(timer: DueTimer) -> None:
    """A timed trigger's timer is due: queue a run for each firing whose condition holds."""
    payload = timer.payload
    try:
        store = entity_store(timer.tenant_id, payload["app"], payload["entity"])
    except NotFound:
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


def install() -> None:
    from builder.designer.service import on_publish

    @on_publish("automation.schedules")
    def _published(app: Any, definition: Mapping[str, Any],
                   previous: Mapping[str, Any] | None) -> None:
        reconcile(app.tenant_id, definition, previous)
