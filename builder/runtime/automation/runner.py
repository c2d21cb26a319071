"""Executing queued runs: one job, one transaction, exactly once.

``execute_run(run_id)`` claims the pending run with a conditional UPDATE, runs every
action in the same transaction (as the ``automation`` engine, so guards let the writes
through and the audit trail shows them) and marks the run succeeded on commit. If any
action fails, the transaction rolls back, so nothing of the run stays, and the run is
marked failed with the error in a transaction of its own. A second delivery of the same
job finds the run no longer pending and does nothing. A worker killed mid-run rolls the
run back (still pending); the job sweep finds the lost job by its stopped heartbeat and
starts it again (``max_attempts``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import AppError, Conflict, NotFound
from builder.extensions import db
from builder.i18n import DEFAULT_LANGUAGE, gettext, use_language
from builder.platform.models import User
from builder.runtime.automation.actions import ActionContext, action_registry
from builder.runtime.automation.context import now
from builder.runtime.automation.definitions import AppProcesses, processes_of
from builder.runtime.automation.models import (
    AUTOMATION,
    FAILED,
    PENDING,
    SKIPPED,
    SUCCEEDED,
    AutomationRun,
)
from builder.runtime.automation.runs import MAX_ERROR_LENGTH, RunInfo, RunSkipped, running
from builder.runtime.jobs import job
from builder.runtime.records.events import acting
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore, entity_store

log = logging.getLogger(__name__)

ENGINE = "automation"
ATTEMPTS = 3


@job("automation.run", max_attempts=5)
def execute_run(run_id: int) -> str | None:
    """Job: execute a queued run once; returns its final status (``None``: not pending)."""
    error: Exception | None = None
    for _attempt in range(ATTEMPTS):
        try:
            return _execute(run_id)
        except RunSkipped as skip:
            db.session.rollback()
            return _finish(run_id, SKIPPED, str(skip))
        except Conflict as conflict:  # a record moved on meanwhile: read it again
            db.session.rollback()
            error = conflict
        except Exception as failure:
            db.session.rollback()
            if not isinstance(failure, AppError):
                log.exception("automation run %s failed", run_id)
            return _finish(run_id, FAILED, _message(failure))
    return _finish(run_id, FAILED, _message(error))


def _message(error: Exception | None) -> str:
    if isinstance(error, AppError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _finish(run_id: int, status: str, error: str | None) -> str | None:
    at = now()
    result = db.session.execute(sa.update(AutomationRun).where(
        AutomationRun.id == run_id, AutomationRun.status == PENDING).values(
        status=status, error=(error or "")[:MAX_ERROR_LENGTH] or None,
        started_at=sa.func.coalesce(AutomationRun.started_at, at), finished_at=at))
    db.session.commit()
    return status if result.rowcount else None  # type: ignore[attr-defined]


def _claim(run_id: int, at: datetime) -> AutomationRun | None:
    """Take the run for this transaction (the row stays locked until it ends)."""
    claimed = db.session.execute(sa.update(AutomationRun).where(
        AutomationRun.id == run_id, AutomationRun.status == PENDING).values(started_at=at))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get(AutomationRun, run_id, populate_existing=True)


def _store(run: AutomationRun) -> EntityStore:
    try:
        return entity_store(run.tenant_id, run.app_key, run.entity_key)
    except NotFound as missing:
        raise RunSkipped(str(missing)) from None


def _actions(run: AutomationRun, processes: AppProcesses) -> list[Mapping[str, Any]]:
    """What the run does: the automation's actions or the SLA step's action."""
    if run.kind == AUTOMATION:
        automation = processes.automations.get(run.automation_key)
        if automation is None:
            raise RunSkipped(gettext("automation.error.automation_gone",
                                     automation=run.automation_key))
        return list(automation.actions)
    from builder.runtime.automation.sla import escalation_actions

    return escalation_actions(run, processes)


def _user(run: AutomationRun) -> User | None:
    if run.user_id is None:
        return None
    user = db.session.get(User, run.user_id)
    return user if user is not None and user.tenant_id == run.tenant_id else None


def _execute(run_id: int) -> str | None:
    at = now()
    run = _claim(run_id, at)
    if run is None:
        db.session.rollback()
        return None
    store = _store(run)
    processes = processes_of(store)
    actions = _actions(run, processes)
    user = _user(run)
    from builder.runtime.records import RecordService

    record = None
    if run.record_id is not None:
        try:
            record = RecordService(store, user, commit=False).get(run.record_id)
        except NotFound:
            record = None
        if record is None or record.get("deleted"):
            raise RunSkipped(gettext("automation.error.record_gone", id=run.record_id))
    user_context: dict[str, Any] = {}
    if user is not None:
        from builder.platform.service import user_context as context_of

        user_context = context_of(user)
    ctx = ActionContext(run.id, store, user, at, record, dict(run.data or {}), user_context)
    info = RunInfo(run.id, run.tenant_id, run.app_key, run.kind, run.automation_key, run.depth)
    results: list[dict[str, Any]] = []
    language = user.language if user is not None else DEFAULT_LANGUAGE
    with acting(ENGINE), running(info), use_language(language):
        for index, params in enumerate(actions):
            ctx.action_index = index
            action = action_registry.get(str(params.get("type")))
            try:
                outcome = action.run(params, ctx)
            except RuleError as error:
                raise AppError(gettext("automation.error.action_rule", index=index,
                                       type=action.type, reason=error.message),
                               error.details, "rule_error", 422) from error
            results.append({"type": action.type, **outcome})
    run.status = SUCCEEDED
    run.result = results
    run.finished_at = now()
    db.session.commit()
    return SUCCEEDED
