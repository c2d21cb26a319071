"""The SLA state of a record as people see it: each policy's deadline, whether it is
breached, the working time remaining, and what each escalation step did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.automation.context import iso, now
from builder.runtime.automation.definitions import processes_of
from builder.runtime.automation.models import RUNNING, SLA, AutomationRun, SlaClock
from builder.runtime.automation.sla_calendar import Calendar
from builder.runtime.storage.tables import EntityStore


def record_sla(store: EntityStore, record_id: int, at: datetime | None = None
               ) -> list[dict[str, Any]]:
    """Every SLA clock of the record, soonest deadline first.

    ``breached``: the deadline came while the clock runs, or the stop condition was met
    only after it; ``remaining_minutes``: working minutes to the deadline while running
    (negative once overdue)."""
    at = at or now()
    clocks = list(db.session.scalars(sa.select(SlaClock).where(
        SlaClock.tenant_id == store.tenant_id, SlaClock.app_key == store.app_key,
        SlaClock.entity_key == store.key, SlaClock.record_id == record_id)
        .order_by(SlaClock.due_at, SlaClock.id)))
    if not clocks:
        return []
    step_runs: dict[tuple[str, str], AutomationRun] = {}
    for run in db.session.scalars(sa.select(AutomationRun).where(
            AutomationRun.tenant_id == store.tenant_id, AutomationRun.app_key == store.app_key,
            AutomationRun.kind == SLA, AutomationRun.record_id == record_id)
            .order_by(AutomationRun.id)):
        step_runs[(run.automation_key, run.dedup_key or "")] = run
    policies = processes_of(store).policies
    items = []
    for clock in clocks:
        policy = policies.get(clock.policy_key)
        calendar = Calendar.of(policy.working_hours if policy else None, store.tenant_id)
        running = clock.status == RUNNING
        stopped = clock.stopped_at or at
        steps = []
        for key, step_at in (clock.steps or {}).items():
            fired = step_runs.get((clock.policy_key, f"{key}:{iso(clock.started_at)}"))
            steps.append({"key": key, "at": step_at,
                          "run": {"id": fired.id, "status": fired.status} if fired else None})
        items.append({
            "policy": clock.policy_key, "title": dict(policy.title) if policy else {},
            "status": clock.status, "started_at": iso(clock.started_at),
            "due_at": iso(clock.due_at),
            "stopped_at": iso(clock.stopped_at) if clock.stopped_at else None,
            "breached": at >= clock.due_at if running else stopped > clock.due_at,
            "remaining_minutes": round(calendar.minutes_between(at, clock.due_at), 1)
            if running else None,
            "steps": steps,
        })
    return items
