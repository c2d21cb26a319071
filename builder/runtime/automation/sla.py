"""SLA timers: a countdown per policy and record, with escalation steps around the deadline.

A policy's clock starts when a record is created, enters a stage, or gets a value in a
field (``start``), and runs ``minutes`` of working time (``working_hours``) to its
deadline. Each escalation step is due ``offset_minutes`` of working time from the
deadline (negative: before it) and is one durable timer in the database, keyed per
record and step. When the step's timer fires and the stop condition still does not
hold, the step's action runs as a run of the run log (``kind = "sla"``), exactly once.

The stop condition (JsonLogic over the record, with ``$count.<entity>.<field>``) is
checked on every change of the record and of records pointing at it; once it holds the
clock is ``met`` and the remaining timers are cancelled. Leaving the stage or deleting
the record cancels the clock; starting it again (the stage entered again, the field set
again) replaces clock and timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.automation import related
from builder.runtime.automation.context import iso, matches, now, rule_data, tenant_timezone
from builder.runtime.automation.definitions import (
    AppProcesses,
    SlaPolicy,
    live_store,
    processes_of,
)
from builder.runtime.automation.models import (
    CANCELLED,
    MET,
    RUNNING,
    SLA,
    AutomationRun,
    SlaClock,
)
from builder.runtime.automation.runs import RunSkipped, queue_run
from builder.runtime.automation.sla_calendar import Calendar
from builder.runtime.jobs import timers
from builder.runtime.jobs.timers import DueTimer, timer_handler
from builder.runtime.records.events import (
    CREATE,
    DELETE,
    UPDATE,
    ProcessEvent,
    RecordChange,
    record_hooks,
)
from builder.runtime.storage.tables import EntityStore, sibling_stores

TIMER_KIND = "sla.escalate"
LISTENER = "automation.sla"
EMPTY: tuple[Any, ...] = (None, "", [])


def timer_key(policy: SlaPolicy, record_id: int, step: str | None = None) -> str:
    """``sla:<app>:<policy>:<record>:<step>``; without ``step``, the prefix of them all."""
    return f"sla:{policy.app_key}:{policy.key}:{record_id}:{step or ''}"


def calendar(policy: SlaPolicy, tenant_id: int) -> Calendar:
    return Calendar.of(policy.working_hours, tenant_id)


def stop_data(store: EntityStore, policy: SlaPolicy, record: Mapping[str, Any],
              at: datetime) -> dict[str, Any]:
    """What the stop condition sees: the record, ``$now``, ``$count``."""
    return rule_data(record, at=at, timezone=tenant_timezone(store.tenant_id), store=store)


def _clock(store: EntityStore, policy: SlaPolicy, record_id: int) -> SlaClock | None:
    return db.session.scalars(sa.select(SlaClock).where(
        SlaClock.tenant_id == store.tenant_id, SlaClock.app_key == policy.app_key,
        SlaClock.policy_key == policy.key, SlaClock.record_id == record_id)
        .with_for_update()).one_or_none()


def start_clock(store: EntityStore, policy: SlaPolicy, record: Mapping[str, Any],
                at: datetime) -> SlaClock:
    """(Re)start the policy's countdown on the record and schedule its escalations, in
    the caller's transaction. A stop condition already met records the clock as met."""
    record_id = int(record["id"])
    cal = calendar(policy, store.tenant_id)
    due = cal.add(at, policy.minutes)
    steps = {str(step["key"]): cal.add(due, int(step.get("offset_minutes", 0)))
             for step in policy.escalations}
    clock = _clock(store, policy, record_id)
    if clock is None:
        clock = SlaClock(tenant_id=store.tenant_id, app_key=policy.app_key,
                         policy_key=policy.key, entity_key=policy.entity,
                         record_id=record_id)
        db.session.add(clock)
    clock.status, clock.started_at, clock.due_at, clock.stopped_at = RUNNING, at, due, None
    clock.steps = {key: iso(moment) for key, moment in steps.items()}
    timers.cancel(store.tenant_id, key_prefix=timer_key(policy, record_id))
    if policy.stop is not None and matches(policy.stop, stop_data(store, policy, record, at)):
        clock.status, clock.stopped_at = MET, at
    else:
        zone = cal.zone.key
        for key, moment in steps.items():
            timers.schedule(store.tenant_id, TIMER_KIND, moment, {
                "app": policy.app_key, "policy": policy.key, "entity": policy.entity,
                "record": record_id, "step": key, "started": iso(at)},
                key=timer_key(policy, record_id, key), timezone=zone)
    db.session.flush()
    return clock


def stop_clock(store: EntityStore, policy: SlaPolicy, record_id: int, status: str,
               at: datetime) -> None:
    """End a running clock (``met`` or ``cancelled``) and cancel its pending steps."""
    clock = _clock(store, policy, record_id)
    if clock is None or clock.status != RUNNING:
        return
    clock.status, clock.stopped_at = status, at
    timers.cancel(store.tenant_id, key_prefix=timer_key(policy, record_id))
    db.session.flush()


def check_stop(store: EntityStore, policy: SlaPolicy, record_id: int, at: datetime,
               record: Mapping[str, Any] | None = None) -> bool:
    """Stop the running clock if its stop condition now holds; returns whether it did."""
    if policy.stop is None:
        return False
    running = db.session.scalar(sa.select(SlaClock.id).where(
        SlaClock.tenant_id == store.tenant_id, SlaClock.app_key == policy.app_key,
        SlaClock.policy_key == policy.key, SlaClock.record_id == record_id,
        SlaClock.status == RUNNING))
    if running is None:
        return False
    if record is None:
        from builder.runtime.records import RecordService

        record = RecordService(store, None, commit=False).get(record_id)
    if not matches(policy.stop, stop_data(store, policy, record, at)):
        return False
    stop_clock(store, policy, record_id, MET, at)
    return True


# -- reacting to records and stages -------------------------------------------------------


def _own_change(policy: SlaPolicy, change: RecordChange) -> None:
    record_id = change.record_id
    if record_id is None:
        return
    if change.action == DELETE:
        stop_clock(change.store, policy, record_id, CANCELLED, change.now)
        return
    if change.action not in (CREATE, UPDATE):
        return
    if policy.start == "created" and change.action == CREATE:
        start_clock(change.store, policy, change.after, change.now)
        return
    if policy.start == "field_set" and policy.field in change.changed:
        if change.after.get(policy.field) in EMPTY:
            stop_clock(change.store, policy, record_id, CANCELLED, change.now)
        else:
            start_clock(change.store, policy, change.after, change.now)
        return
    check_stop(change.store, policy, record_id, change.now, change.after)


def on_record_change(change: RecordChange) -> None:
    """Start, stop or re-check clocks for a change of a record or of a record pointing
    at one (a follow-up logged for a lead)."""
    processes = processes_of(change.store)
    for policy in processes.policies.values():
        if policy.entity == change.entity:
            _own_change(policy, change)
        elif change.action != "read" and change.entity in related.counted_entities(policy.stop):
            stores = sibling_stores(change.store)
            target = stores.get(policy.entity)
            if target is not None:
                for record_id in related.pointed_at(change, policy.entity):
                    check_stop(target, policy, record_id, change.now)


def on_stage_event(event: ProcessEvent) -> None:
    """Entering a policy's stage starts its clock; leaving it cancels the clock."""
    for policy in processes_of(event.store).policies_for(event.store.key):
        if policy.start != "stage_entered" or \
                policy.flow not in (None, event.data.get("flow")):
            continue
        if event.name == "stage_entered" and event.data.get("to") == policy.stage:
            from builder.runtime.records import RecordService

            record = RecordService(event.store, None, commit=False).get(event.record_id)
            start_clock(event.store, policy, record, event.now)
        elif event.name == "stage_left" and event.data.get("from") == policy.stage:
            stop_clock(event.store, policy, event.record_id, CANCELLED, event.now)


def install() -> None:
    record_hooks.listener(LISTENER, priority=450)(on_record_change)
    for name in ("stage_entered", "stage_left"):
        record_hooks.on(name, LISTENER)(on_stage_event)


# -- escalation ---------------------------------------------------------------------------


def _step(policy: SlaPolicy, key: str) -> Mapping[str, Any] | None:
    return next((s for s in policy.escalations if s.get("key") == key), None)


@timer_handler(TIMER_KIND)
def escalate(timer: DueTimer) -> None:
    """A step's timer fired: queue its action as a run, unless the clock stopped or
    restarted, or the stop condition holds by now (then the clock is met)."""
    payload = timer.payload
    store = live_store(timer.tenant_id, payload["app"], payload["entity"])
    if store is None:
        return
    policy = processes_of(store).policies.get(payload["policy"])
    if policy is None or _step(policy, payload["step"]) is None:
        return
    record_id = int(payload["record"])
    clock = _clock(store, policy, record_id)
    if clock is None or clock.status != RUNNING or iso(clock.started_at) != payload["started"]:
        return
    at = now()
    if check_stop(store, policy, record_id, at):
        return
    queue_run(tenant_id=timer.tenant_id, app_key=policy.app_key, kind=SLA, key=policy.key,
              entity=policy.entity, record_id=record_id,
              trigger=f"escalation:{payload['step']}",
              data={"$trigger": {"policy": policy.key, "step": payload["step"],
                                 "due_at": iso(clock.due_at), "step_at": iso(timer.due_at)}},
              user_id=None, depth=0, now=at,
              dedup_key=f"{payload['step']}:{payload['started']}")


def escalation_actions(run: AutomationRun, processes: AppProcesses) -> list[Mapping[str, Any]]:
    """The action of the SLA step a run stands for (the runner asks)."""
    policy = processes.policies.get(run.automation_key)
    step = _step(policy, run.trigger.removeprefix("escalation:")) if policy else None
    if policy is None or step is None:
        raise RunSkipped(gettext("automation.error.sla_stopped", policy=run.automation_key))
    clock = db.session.scalars(sa.select(SlaClock).where(
        SlaClock.tenant_id == run.tenant_id, SlaClock.app_key == run.app_key,
        SlaClock.policy_key == policy.key, SlaClock.record_id == run.record_id)
    ).one_or_none()
    if clock is None or clock.status != RUNNING:
        raise RunSkipped(gettext("automation.error.sla_stopped", policy=run.automation_key))
    return [step["action"]]
