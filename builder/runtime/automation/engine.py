"""The automation engine: record changes and process events in, queued runs out.

It listens to every record change (in the transaction of the change) and to the process
events its triggers name. For each enabled automation of the entity, the trigger says
whether and on which record it fires; the condition is checked against the record as
the trigger saw it; a run is queued (see ``runs``) and executed by a job after commit.

Loops are stopped two ways: a write made by a run does not trigger the same automation
again (unless its trigger says ``"retrigger": true``), and runs started by runs carry a
depth; past ``MAX_RUN_DEPTH`` the run is logged as skipped instead of queued.

Nothing here may break the change that triggered it: a condition that cannot be
evaluated is logged as a failed run, not raised.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from builder.errors import AppError
from builder.i18n import gettext
from builder.runtime.automation import reads
from builder.runtime.automation.context import matches, now, rule_data, tenant_timezone
from builder.runtime.automation.definitions import Automation, processes_of
from builder.runtime.automation.models import AUTOMATION, FAILED, SKIPPED
from builder.runtime.automation.runs import MAX_RUN_DEPTH, current_run, queue_run
from builder.runtime.automation.triggers import Firing, trigger_registry
from builder.runtime.records.events import (
    READ,
    ProcessEvent,
    RecordChange,
    acting_engine,
    record_hooks,
)
from builder.runtime.storage.tables import EntityStore

log = logging.getLogger(__name__)

ENGINE = "automation"
LISTENER = "automation.engine"


def _user_context(user: Any, logic: Any) -> dict[str, Any]:
    """``$user`` costs queries (roles, teams): built only when the logic names it."""
    if user is None or "$user" not in json.dumps(logic, default=str):
        return {}
    from builder.platform.service import user_context

    return user_context(user)


def _depth(automation: Automation) -> int | None:
    """The depth of a run this automation would start now; ``None``: its own write."""
    current = current_run()
    if current is None or acting_engine() != ENGINE:
        return 0
    if current.kind == AUTOMATION and current.key == automation.key \
            and current.app_key == automation.app_key \
            and not automation.trigger.get("retrigger"):
        return None
    return current.depth + 1


def fire(automation: Automation, store: EntityStore, firing: Firing, user: Any,
         at: datetime | None = None) -> int | None:
    """Queue a run of ``automation`` for ``firing`` when its condition holds.

    Returns the run's id (also for a run logged as failed or skipped), else ``None``.
    Call it in the transaction of what happened.
    """
    at = at or now()
    depth = _depth(automation)
    if depth is None:
        return None
    user_id = getattr(user, "id", None)
    run: dict[str, Any] = dict(
        tenant_id=store.tenant_id, app_key=automation.app_key, key=automation.key,
        entity=automation.entity, record_id=firing.record_id, trigger=automation.trigger_type,
        data=firing.context, user_id=user_id, depth=depth, now=at, dedup_key=firing.dedup_key)
    try:
        data = rule_data(firing.record, at=at, context=firing.context,
                         user_context=_user_context(user, automation.condition),
                         timezone=tenant_timezone(store.tenant_id), store=store)
        if not matches(automation.condition, data):
            return None
    except AppError as error:
        return queue_run(**run, status=FAILED, error=str(error))
    if depth > MAX_RUN_DEPTH:
        return queue_run(**run, status=SKIPPED,
                         error=gettext("automation.error.loop", depth=MAX_RUN_DEPTH))
    return queue_run(**run)


def on_record_change(change: RecordChange) -> None:
    """The record listener: track reads, then let each automation's trigger look."""
    if change.action == READ:
        reads.track(change)
    processes = processes_of(change.store)
    for automation in processes.automations.values():
        if automation.trigger_type not in trigger_registry:
            continue
        trigger = trigger_registry.get(automation.trigger_type)
        if automation.entity != change.entity:
            trigger.on_related_change(automation, change)
            continue
        for firing in trigger.on_change(automation, change):
            fire(automation, change.store, firing, change.user, change.now)


def on_process_event(event: ProcessEvent) -> None:
    """A process event (stage entered/left, approval decided) about a record."""
    automations = [a for a in processes_of(event.store).automations_for(event.store.key)
                   if a.trigger_type in trigger_registry
                   and event.name in trigger_registry.get(a.trigger_type).events]
    if not automations:
        return
    from builder.runtime.records import RecordService

    record: Mapping[str, Any] = RecordService(event.store, event.user, commit=False).get(
        event.record_id)
    for automation in automations:
        trigger = trigger_registry.get(automation.trigger_type)
        for firing in trigger.on_event(automation, event, record):
            fire(automation, event.store, firing, event.user, event.now)


def install() -> None:
    """Register the engine on the record events (idempotent)."""
    record_hooks.listener(LISTENER, priority=500)(on_record_change)
    events = sorted({name for trigger in trigger_registry for name in trigger.events})
    for name in events:
        record_hooks.on(name, LISTENER)(on_process_event)
