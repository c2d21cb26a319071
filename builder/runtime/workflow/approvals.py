"""Approval chains: submit a record, route it step by step, decide, lock it meanwhile.

A chain of the app definition (``approval_chains``) names an entity, an entry condition
(``when``), ordered ``steps`` and what to set on the record when it is approved or
rejected. A run starts by an explicit submit (``start``) or, for ``trigger: on_save``
chains, when a save makes the entry condition hold (see ``approvals_hooks``).

Routing. Entering a step evaluates its ``when`` on the record (a step that does not apply
is skipped, with a ``skip`` entry in the trail) and resolves its approvers through the
approver-resolver registry, at that moment. One task is created per approver; ``mode:
any`` (或签) completes the step with the first approval, ``mode: all`` (会签) needs every
task approved. The submitter is never one of the approvers unless the chain says
``allow_self_approval``.

Nobody to approve. A step whose approvers resolve to nobody never passes silently; its
``if_no_approver`` decides: ``fail`` (the default, like Salesforce refusing a submit whose
approver cannot be determined) refuses the submit, or the approval that would reach the
step, with a 422 naming the step; ``skip`` (钉钉's 自动通过) skips it with a trail entry
saying why; ``admins`` (钉钉's 转交管理员) hands it to the tenant admins. A submit checks
every step that applies to the record up front, so a chain that cannot be routed is
refused before anything starts.

Actions on a task, each with a comment: ``approve``; ``reject`` (ends the run, back to
the submitter; with ``on_reject: previous`` it goes back one step instead while there is
one); ``return`` (to an earlier step the run went through, or to the submitter, which
ends the run so they can change the record and submit again); ``delegate`` (hands the
task to another active user of the tenant). The submitter may ``withdraw`` until anyone
has acted.

Concurrency: every action first bumps the run's ``version`` with a conditional
``UPDATE ... WHERE status = 'pending'`` (a row lock held to the end of the transaction, so
actions on one run are serialized by the database) and then claims the task with
``UPDATE ... WHERE status = 'pending'``. Whoever comes second gets a 409.

These functions never commit: the caller owns the transaction (an HTTP view, or the
records service when a save starts a run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import Conflict, Forbidden, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.platform.models import User
from builder.platform.service import user_context
from builder.runtime import access
from builder.runtime.records import RecordService, events
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import evaluate, truthy
from builder.runtime.storage.tables import EntityStore, entity_store
from builder.runtime.workflow import approvals_notices
from builder.runtime.workflow.approvals_models import (
    APPROVED,
    CANCELLED,
    DELEGATED,
    PENDING,
    REJECTED,
    RETURNED,
    WITHDRAWN,
    ApprovalAction,
    ApprovalInstance,
    ApprovalTask,
)
from builder.runtime.workflow.approvals_resolvers import (
    ResolveContext,
    resolve_approvers,
    users_by_id,
)
from builder.runtime.workflow.approvals_views import describe, iso, open_key, pending_row

ENGINE = "approval"
APPROVE, REJECT, RETURN, DELEGATE = "approve", "reject", "return", "delegate"
ACTIONS = (APPROVE, REJECT, RETURN, DELEGATE)
#: trail entries that count as someone having acted (withdrawing is no longer possible)
HUMAN_ACTIONS = ACTIONS
TO_SUBMITTER = "submitter"


@dataclass
class Run:
    """One action on a run: the run, its entity, who acts and when."""

    instance: ApprovalInstance
    store: EntityStore
    user: User | None
    now: datetime

    @property
    def chain(self) -> Mapping[str, Any]:
        return self.instance.chain

    def steps(self) -> list[Mapping[str, Any]]:
        return list(self.chain.get("steps") or [])

    def step_title(self, index: int) -> str:
        step = self.steps()[index]
        return localized(step.get("title")) or str(step.get("key"))

    def record(self) -> dict[str, Any]:
        return RecordService(self.store, self.user, commit=False).get(self.instance.record_id)

    def submitter(self) -> User | None:
        found = users_by_id(self.store.tenant_id, [self.instance.submitted_by])
        return found[0] if found else None

    def rule_data(self, record: Mapping[str, Any]) -> dict[str, Any]:
        person = self.submitter()
        return rule_data(record, {"$user": user_context(person) if person else {},
                                  "$now": iso(self.now)})

    def log(self, action: str, task: ApprovalTask | None = None, comment: str | None = None,
            step_index: int | None = None, **data: Any) -> None:
        index = task.step_index if task is not None else step_index
        key = self.steps()[index].get("key") if index is not None else None
        db.session.add(ApprovalAction(
            tenant_id=self.store.tenant_id, instance_id=self.instance.id,
            task_id=task.id if task is not None else None, step_index=index, step_key=key,
            action=action, user_id=self.user.id if self.user is not None else None,
            comment=comment, data=data, at=self.now))

    def emit(self, name: str, **data: Any) -> None:
        events.record_hooks.emit(events.ProcessEvent(
            name, self.store, self.instance.record_id, self.user, self.now,
            {"chain": self.instance.chain_key, "instance": self.instance.id, **data}))


# -- the contract other parts call ----------------------------------------------------------


def chain_of(store: EntityStore, chain_key: Any) -> dict[str, Any]:
    """The live definition of the chain ``chain_key`` of the store's entity, or a 422."""
    for chain in store.app.get("approval_chains") or []:
        if chain.get("key") == chain_key and chain.get("entity") == store.key:
            return dict(chain)
    message = gettext("approvals.error.unknown_chain", chain=chain_key, entity=store.key)
    raise ValidationFailed(message, [Problem("chain", message, "unknown_chain")])


def pending_instance(store: EntityStore, record_id: int) -> dict[str, Any] | None:
    """The record's pending approval (at most one at a time), described, or ``None``."""
    instance = pending_row(store.tenant_id, open_key(store.app_key, store.key, record_id))
    return describe(instance) if instance is not None else None


def start(store: EntityStore, record_id: int, chain_key: str, user: User,
          comment: str | None = None) -> dict[str, Any]:
    """Submit the record to the chain ``chain_key`` on behalf of ``user``; returns the run.

    Refused with a 422 when the record does not meet the chain's ``when`` or a step that
    applies has nobody to approve it, and with a 409 while another approval of the
    record is pending or when the record is deleted. Used by the submit endpoint, by
    ``on_save`` chains and by the automation action that starts an approval.
    """
    chain = chain_of(store, chain_key)
    now = utcnow()
    record = RecordService(store, user, commit=False).get(record_id)
    if record.get("deleted"):
        raise Conflict(gettext("records.error.deleted"))
    key = open_key(store.app_key, store.key, record_id)
    if pending_row(store.tenant_id, key) is not None:
        raise Conflict(gettext("approvals.error.already_pending"))
    instance = ApprovalInstance(
        tenant_id=store.tenant_id, app_key=store.app_key, entity_key=store.key,
        record_id=record_id, chain_key=chain["key"], chain=chain, status=PENDING,
        locks_record=bool(chain.get("lock_record", True)), submitted_by=user.id,
        submitted_at=now, version=1, open_key=key)
    run = Run(instance, store, user, now)
    data = rule_data(record, {"$user": user_context(user), "$now": iso(now)})
    when = chain.get("when")
    if when is not None and not truthy(evaluate(when, data)):
        message = gettext("approvals.error.entry_not_met", chain=_title(chain))
        raise ValidationFailed(message, [Problem("chain", message, "entry_not_met")])
    problems = [p for index, step in enumerate(run.steps()) if _applies(step, data)
                for p in [_route(run, index, record, user)[1]] if p is not None]
    if problems:
        raise ValidationFailed(gettext("approvals.error.cannot_route", chain=_title(chain)),
                               problems)
    db.session.add(instance)
    db.session.flush()
    run.log("submit", comment=comment)
    run.emit("approval_submitted")
    _enter(run, 0, record)
    db.session.flush()
    return describe(instance)


def act(user: User, task_id: int, action: str, comment: str | None = None, *,
        to_step: Any = None, to_user: Any = None) -> dict[str, Any]:
    """``user`` approves, rejects, returns or delegates their task ``task_id``.

    404 for a task of another tenant, 403 for someone else's task or when the user's
    roles do not grant ``approve`` on the record's entity (an app whose roles grant no
    permissions lets every assigned approver decide), 409 when the task or the run was
    decided meanwhile, 422 for a bad ``to_step`` / ``to_user``.
    """
    if action not in ACTIONS:
        message = gettext("approvals.error.unknown_action", actions=", ".join(ACTIONS))
        raise ValidationFailed(message, [Problem("action", message, "one_of")])
    task = db.session.scalar(sa.select(ApprovalTask).where(
        ApprovalTask.id == task_id, ApprovalTask.tenant_id == user.tenant_id))
    if task is None:
        raise NotFound(gettext("approvals.error.task_not_found"))
    if task.assignee_id != user.id:
        raise Forbidden(gettext("approvals.error.not_your_task"))
    instance = _lock(user.tenant_id, task.instance_id)
    store = entity_store(user.tenant_id, instance.app_key, instance.entity_key)
    _require_approve(store, user)
    db.session.refresh(task)
    if task.status != PENDING:
        raise Conflict(gettext("approvals.error.task_done"))
    if instance.submitted_by == user.id and not instance.chain.get("allow_self_approval"):
        raise Forbidden(gettext("approvals.error.self_approval"))
    run = Run(instance, store, user, utcnow())
    if action == APPROVE:
        _approve(run, task, comment)
    elif action == REJECT:
        _reject(run, task, comment)
    elif action == RETURN:
        _return(run, task, comment, to_step)
    else:
        _delegate(run, task, comment, to_user)
    db.session.flush()
    return describe(instance)


def _require_approve(store: EntityStore, user: User) -> None:
    """403 unless the user's roles grant ``approve`` on the entity."""
    if not access.can(user, store, "approve"):
        entity = localized(store.entity.get("title")) or store.key
        raise Forbidden(gettext("approvals.error.no_approve_right", entity=entity),
                        action="approve", entity=store.key)


def withdraw(user: User, instance_id: int, comment: str | None = None) -> dict[str, Any]:
    """The submitter takes their request back, as long as no approver has acted."""
    instance = _find_instance(user, instance_id)
    if instance.submitted_by != user.id:
        raise Forbidden(gettext("approvals.error.not_submitter"))
    instance = _lock(user.tenant_id, instance_id)
    acted = db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalAction).where(
        ApprovalAction.instance_id == instance.id, ApprovalAction.action.in_(HUMAN_ACTIONS)))
    if acted:
        raise Conflict(gettext("approvals.error.already_acted"))
    run = Run(instance, entity_store(user.tenant_id, instance.app_key, instance.entity_key),
              user, utcnow())
    run.log("withdraw", comment=comment, step_index=instance.current_step)
    _finish(run, WITHDRAWN)
    db.session.flush()
    return describe(instance)


def get_instance(user: User, instance_id: int) -> dict[str, Any]:
    """One run of the caller's tenant, with its steps, tasks and trail."""
    return describe(_find_instance(user, instance_id))


def _find_instance(user: User, instance_id: int) -> ApprovalInstance:
    instance = db.session.scalar(sa.select(ApprovalInstance).where(
        ApprovalInstance.id == instance_id, ApprovalInstance.tenant_id == user.tenant_id))
    if instance is None:
        raise NotFound(gettext("approvals.error.instance_not_found"))
    return instance


# -- routing --------------------------------------------------------------------------------


def _title(chain: Mapping[str, Any]) -> str:
    return localized(chain.get("title")) or str(chain.get("key"))


def _applies(step: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    when = step.get("when")
    return when is None or truthy(evaluate(when, data))


def _route(run: Run, index: int, record: Mapping[str, Any], submitter: User | None
           ) -> tuple[list[User], Problem | None]:
    """Who decides step ``index`` now: the users, or the problem when nobody may."""
    step = run.steps()[index]
    ctx = ResolveContext(run.store.tenant_id, record, submitter)
    found = resolve_approvers(step.get("approver") or {}, ctx)
    users = _eligible(run, found, submitter)
    policy = step.get("if_no_approver") or "fail"
    if not users and policy == "admins":
        users = _eligible(run, resolve_approvers({"type": "role", "role": "admin"}, ctx),
                          submitter)
    if users or policy == "skip":
        return users, None
    key = "approvals.error.only_submitter" if found else "approvals.error.no_approver"
    message = gettext(key, step=run.step_title(index))
    return [], Problem(f"steps[{index}].approver", message, "no_approver")


def _eligible(run: Run, users: list[User], submitter: User | None) -> list[User]:
    if run.chain.get("allow_self_approval") or submitter is None:
        return users
    return [u for u in users if u.id != submitter.id]


def _enter(run: Run, start: int, record: Mapping[str, Any], *, forced: bool = False) -> None:
    """Open the first step from ``start`` on that applies and has approvers; when none
    is left the run is approved. ``forced`` opens ``start`` without its condition (a
    return to a step the run already went through)."""
    data = run.rule_data(record)
    submitter = run.submitter()
    for index in range(start, len(run.steps())):
        if not (forced and index == start) and not _applies(run.steps()[index], data):
            run.log("skip", step_index=index, reason="condition")
            continue
        users, problem = _route(run, index, record, submitter)
        if problem is not None:
            raise ValidationFailed(gettext("approvals.error.cannot_route",
                                           chain=_title(run.chain)), [problem])
        if not users:
            run.log("skip", step_index=index, reason="no_approver")
            continue
        _open_step(run, index, users)
        return
    _finish(run, APPROVED)


def _open_step(run: Run, index: int, users: list[User]) -> None:
    instance = run.instance
    visit = (db.session.scalar(sa.select(sa.func.max(ApprovalTask.visit)).where(
        ApprovalTask.instance_id == instance.id, ApprovalTask.step_index == index)) or 0) + 1
    instance.current_step = index
    key = str(run.steps()[index].get("key"))
    for user in users:
        db.session.add(ApprovalTask(
            tenant_id=instance.tenant_id, instance_id=instance.id, step_index=index,
            step_key=key, visit=visit, assignee_id=user.id, status=PENDING,
            created_at=run.now))
    db.session.flush()
    approvals_notices.step_opened(run, index, [user.id for user in users])


def _finish(run: Run, outcome: str) -> None:
    """End the run: unlock the record, close open tasks, set the outcome fields and tell
    the other engines (``approval_decided``, or ``approval_withdrawn``)."""
    instance = run.instance
    instance.status = outcome
    instance.decided_at = run.now
    instance.open_key = None
    _cancel(instance.id)
    run.log("complete", step_index=instance.current_step, outcome=outcome)
    db.session.flush()
    values = (run.chain.get({APPROVED: "on_approved", REJECTED: "on_rejected"}.get(outcome, ""))
              or {}).get("set")
    if values:
        _set_fields(run, values)
    if outcome == WITHDRAWN:
        run.emit("approval_withdrawn")
    else:
        approvals_notices.decided(run, outcome)
        run.emit("approval_decided", outcome=outcome)


def _set_fields(run: Run, values: Mapping[str, Any]) -> None:
    """Write the outcome's ``set`` through the records service (validated and audited);
    a value ``{"logic": ...}`` is evaluated on the record first."""
    service = RecordService(run.store, run.user, commit=False)
    with events.acting(ENGINE):
        current = service.get(run.instance.record_id)
        data = run.rule_data(current)
        changes = {key: evaluate(value["logic"], data)
                   if isinstance(value, Mapping) and "logic" in value else value
                   for key, value in values.items()}
        service.update(run.instance.record_id, changes, current["version"])


def _cancel(instance_id: int, step_index: int | None = None, visit: int | None = None) -> None:
    """Close the pending tasks of a run (of one visit of one step, when given)."""
    query = sa.update(ApprovalTask).where(ApprovalTask.instance_id == instance_id,
                                          ApprovalTask.status == PENDING)
    if step_index is not None:
        query = query.where(ApprovalTask.step_index == step_index, ApprovalTask.visit == visit)
    db.session.execute(query.values(status=CANCELLED).execution_options(
        synchronize_session=False))


# -- actions --------------------------------------------------------------------------------


def _lock(tenant_id: int, instance_id: int) -> ApprovalInstance:
    """Take the run for this transaction (409 unless it is still pending)."""
    result = db.session.execute(
        sa.update(ApprovalInstance).where(ApprovalInstance.id == instance_id,
                                          ApprovalInstance.tenant_id == tenant_id,
                                          ApprovalInstance.status == PENDING)
        .values(version=ApprovalInstance.version + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(gettext("approvals.error.already_decided"))
    instance = db.session.get(ApprovalInstance, instance_id, populate_existing=True)
    assert instance is not None
    return instance


def _claim(run: Run, task: ApprovalTask, status: str, comment: str | None) -> None:
    """Mark the task decided, only if it is still pending (409 otherwise)."""
    result = db.session.execute(
        sa.update(ApprovalTask).where(ApprovalTask.id == task.id,
                                      ApprovalTask.status == PENDING)
        .values(status=status, acted_at=run.now, comment=comment)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(gettext("approvals.error.task_done"))
    db.session.refresh(task)


def _open_tasks(task: ApprovalTask) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalTask).where(
        ApprovalTask.instance_id == task.instance_id, ApprovalTask.step_index == task.step_index,
        ApprovalTask.visit == task.visit, ApprovalTask.status == PENDING)) or 0)


def _approve(run: Run, task: ApprovalTask, comment: str | None) -> None:
    _claim(run, task, APPROVED, comment)
    run.log(APPROVE, task, comment)
    if (run.steps()[task.step_index].get("mode") or "any") == "any":
        _cancel(run.instance.id, task.step_index, task.visit)
    if _open_tasks(task) == 0:
        _enter(run, task.step_index + 1, run.record())


def _reject(run: Run, task: ApprovalTask, comment: str | None) -> None:
    _claim(run, task, REJECTED, comment)
    run.log(REJECT, task, comment)
    _cancel(run.instance.id, task.step_index, task.visit)
    if run.chain.get("on_reject") == "previous":
        earlier = _visited_steps(run, before=task.step_index)
        if earlier:
            _enter(run, earlier[-1], run.record(), forced=True)
            return
    _finish(run, REJECTED)


def _visited_steps(run: Run, before: int) -> list[int]:
    """Indexes of the steps before ``before`` that this run has opened, ascending."""
    return sorted(db.session.scalars(sa.select(ApprovalTask.step_index).distinct().where(
        ApprovalTask.instance_id == run.instance.id, ApprovalTask.step_index < before)))


def _return(run: Run, task: ApprovalTask, comment: str | None, to_step: Any) -> None:
    if to_step in (None, "", TO_SUBMITTER):
        _claim(run, task, RETURNED, comment)
        run.log(RETURN, task, comment, to=TO_SUBMITTER)
        _finish(run, RETURNED)
        return
    keys = [str(step.get("key")) for step in run.steps()]
    visited = _visited_steps(run, before=task.step_index)
    target = keys.index(to_step) if to_step in keys else None
    if target is None or target not in visited:
        message = gettext("approvals.error.bad_return_step",
                          steps=", ".join([TO_SUBMITTER, *(keys[i] for i in visited)]))
        raise ValidationFailed(message, [Problem("to_step", message, "invalid")])
    _claim(run, task, RETURNED, comment)
    run.log(RETURN, task, comment, to=keys[target])
    _cancel(run.instance.id, task.step_index, task.visit)
    _enter(run, target, run.record(), forced=True)


def _delegate(run: Run, task: ApprovalTask, comment: str | None, to_user: Any) -> None:
    target = users_by_id(run.store.tenant_id, [to_user]) if isinstance(to_user, int) else []
    problem = None
    if not target:
        problem = "approvals.error.delegate_unknown"
    elif target[0].id == task.assignee_id:
        problem = "approvals.error.delegate_self"
    elif (target[0].id == run.instance.submitted_by
          and not run.chain.get("allow_self_approval")):
        problem = "approvals.error.delegate_submitter"
    elif db.session.scalar(sa.select(ApprovalTask.id).where(
            ApprovalTask.instance_id == task.instance_id,
            ApprovalTask.step_index == task.step_index, ApprovalTask.visit == task.visit,
            ApprovalTask.assignee_id == target[0].id, ApprovalTask.status == PENDING)):
        problem = "approvals.error.delegate_duplicate"
    if problem is not None:
        message = gettext(problem)
        raise ValidationFailed(message, [Problem("to_user", message, "invalid")])
    _claim(run, task, DELEGATED, comment)
    run.log(DELEGATE, task, comment, to_user=target[0].id)
    db.session.add(ApprovalTask(
        tenant_id=task.tenant_id, instance_id=task.instance_id, step_index=task.step_index,
        step_key=task.step_key, visit=task.visit, assignee_id=target[0].id, status=PENDING,
        delegated_from_id=task.id, created_at=run.now))
