"""The run log: runs are queued in the transaction of what triggered them and listed here.

A queued run is a ``pending`` row plus a job sent when that transaction commits (see
``builder.runtime.automation.runner``); a trigger undone by a rollback leaves neither.
Runs that must happen once per occasion carry a ``dedup_key``: a second run with the
same key is not queued (a unique constraint decides, whatever the number of processes).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.extensions import db
from builder.runtime.automation.context import iso
from builder.runtime.automation.models import AUTOMATION, PENDING, RUN_STATUSES, AutomationRun

MAX_RUN_DEPTH = 5
MAX_ERROR_LENGTH = 4000


class RunSkipped(Exception):
    """The run no longer applies (automation removed, record deleted, clock stopped)."""


@dataclass(frozen=True)
class RunInfo:
    """The run whose actions are executing (its writes may trigger further runs)."""

    id: int
    tenant_id: int
    app_key: str
    kind: str
    key: str
    depth: int


_current: contextvars.ContextVar[RunInfo | None] = contextvars.ContextVar(
    "builder.automation.run", default=None)


def current_run() -> RunInfo | None:
    return _current.get()


@contextmanager
def running(info: RunInfo) -> Iterator[None]:
    token = _current.set(info)
    try:
        yield
    finally:
        _current.reset(token)


def queue_run(*, tenant_id: int, app_key: str, key: str, entity: str, record_id: int | None,
              trigger: str, data: Mapping[str, Any], user_id: int | None, depth: int,
              now: datetime, kind: str = AUTOMATION, dedup_key: str | None = None,
              status: str = PENDING, error: str | None = None) -> int | None:
    """Store a run (in the caller's transaction) and, when pending, send its job on commit.

    Returns the run's id, or ``None`` when a run with the same ``dedup_key`` exists.
    """
    table = AutomationRun.__table__
    values = dict(tenant_id=tenant_id, app_key=app_key, kind=kind, automation_key=key,
                  entity_key=entity, record_id=record_id, trigger=trigger[:80],
                  data=dict(data), user_id=user_id, depth=depth, status=status,
                  error=error[:MAX_ERROR_LENGTH] if error else None, dedup_key=dedup_key,
                  created_at=now,
                  finished_at=None if status == PENDING else now)
    if dedup_key is None:
        statement: Any = sa.insert(table).values(**values)
    else:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    run_id = db.session.execute(statement.returning(table.c.id)).scalar_one_or_none()
    if run_id is None:
        return None
    if status == PENDING:
        from builder.runtime.automation.runner import execute_run
        from builder.runtime.jobs import submit

        submit(execute_run, (int(run_id),), tenant_id=tenant_id, user_id=user_id,
               name=f"automation {app_key}.{key}")
    return int(run_id)


def run_dict(run: AutomationRun) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id, "automation": run.automation_key, "kind": run.kind,
        "entity": run.entity_key, "record_id": run.record_id, "trigger": run.trigger,
        "status": run.status, "error": run.error, "result": run.result,
        "depth": run.depth, "user_id": run.user_id,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at) if run.started_at else None,
        "finished_at": iso(run.finished_at) if run.finished_at else None,
    }


def list_runs(tenant_id: int, app_key: str, key: str, *, kind: str = AUTOMATION,
              status: str | None = None, record_id: int | None = None,
              before: int | None = None, limit: int = 50) -> dict[str, Any]:
    """The runs of one automation (or SLA policy), newest first; ``before`` pages on."""
    query = sa.select(AutomationRun).where(
        AutomationRun.tenant_id == tenant_id, AutomationRun.app_key == app_key,
        AutomationRun.kind == kind, AutomationRun.automation_key == key)
    if status is not None and status in RUN_STATUSES:
        query = query.where(AutomationRun.status == status)
    if record_id is not None:
        query = query.where(AutomationRun.record_id == record_id)
    if before is not None:
        query = query.where(AutomationRun.id < before)
    found = list(db.session.scalars(query.order_by(AutomationRun.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return {"items": [run_dict(r) for r in found],
            "next_before": found[-1].id if more and found else None}
