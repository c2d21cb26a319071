"""Reading approvals: a run with its steps, tasks and trail; a record's runs; an inbox.

Everything here only reads. Users appear as ``{"id", "username", "name"}`` (as in a
record's history), timestamps as ISO 8601 UTC strings, titles in the caller's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.platform.models import User
from builder.runtime import access
from builder.runtime.records import rows
from builder.runtime.storage.tables import EntityStore, entity_store, sibling_stores
from builder.runtime.workflow.approvals_models import (
    APPROVED,
    DELEGATED,
    PENDING,
    REJECTED,
    RETURNED,
    ApprovalAction,
    ApprovalInstance,
    ApprovalTask,
)

UserRef = dict[str, Any] | None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def open_key(app_key: str, entity_key: str, record_id: int) -> str:
    """What identifies a record among the pending runs of a tenant."""
    return f"{app_key}:{entity_key}:{record_id}"


def pending_row(tenant_id: int, key: str) -> ApprovalInstance | None:
    return db.session.scalar(sa.select(ApprovalInstance).where(
        ApprovalInstance.tenant_id == tenant_id, ApprovalInstance.open_key == key))


def _users(tenant_id: int, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: {"id": u.id, "username": u.username, "name": u.display_name or u.username}
            for u in db.session.execute(sa.select(User.id, User.username, User.display_name)
                                        .where(User.tenant_id == tenant_id,
                                               User.id.in_(wanted)))}


def _step_status(step: Mapping[str, Any], tasks: list[ApprovalTask], skipped: bool) -> str:
    """``waiting`` (not reached), ``skipped``, ``pending``, ``approved``, ``rejected``,
    ``returned`` or ``cancelled``, from the tasks of the step's latest visit."""
    if not tasks:
        return "skipped" if skipped else "waiting"
    latest = max(t.visit for t in tasks)
    statuses = [t.status for t in tasks if t.visit == latest and t.status != DELEGATED]
    for status in (PENDING, REJECTED, RETURNED):
        if status in statuses:
            return status
    if APPROVED in statuses and ((step.get("mode") or "any") == "any"
                                 or all(s == APPROVED for s in statuses)):
        return APPROVED
    return "cancelled"


def describe(instance: ApprovalInstance) -> dict[str, Any]:
    """A run as the API shows it: status, steps with their tasks, and the whole trail
    (who did what, when, with which comment), oldest first."""
    tasks = list(db.session.scalars(sa.select(ApprovalTask).where(
        ApprovalTask.instance_id == instance.id).order_by(ApprovalTask.id)))
    actions = list(db.session.scalars(sa.select(ApprovalAction).where(
        ApprovalAction.instance_id == instance.id).order_by(ApprovalAction.id)))
    users = _users(instance.tenant_id, [instance.submitted_by, *(t.assignee_id for t in tasks),
                                        *(a.user_id for a in actions),
                                        *(a.data.get("to_user") for a in actions)])
    chain = instance.chain
    steps_def = list(chain.get("steps") or [])
    skipped = {a.step_index for a in actions if a.action == "skip"}
    steps = []
    for index, step in enumerate(steps_def):
        own = [t for t in tasks if t.step_index == index]
        steps.append({
            "index": index, "key": step.get("key"),
            "title": localized(step.get("title")) or step.get("key"),
            "mode": step.get("mode") or "any",
            "status": _step_status(step, own, index in skipped),
            "tasks": [_task(t, users) for t in own],
        })
    current = instance.current_step
    return {
        "id": instance.id, "chain": instance.chain_key,
        "title": localized(chain.get("title")) or instance.chain_key,
        "app": instance.app_key, "entity": instance.entity_key,
        "record_id": instance.record_id, "status": instance.status,
        "current_step": steps_def[current].get("key")
        if current is not None and current < len(steps_def) else None,
        "locks_record": instance.locks_record,
        "submitted_by": users.get(instance.submitted_by or 0),
        "submitted_at": iso(instance.submitted_at), "decided_at": iso(instance.decided_at),
        "steps": steps,
        "actions": [_action(a, users) for a in actions],
    }


def _task(task: ApprovalTask, users: Mapping[int, Any]) -> dict[str, Any]:
    return {"id": task.id, "step": task.step_key, "visit": task.visit,
            "assignee": users.get(task.assignee_id or 0), "status": task.status,
            "delegated_from": task.delegated_from_id, "created_at": iso(task.created_at),
            "acted_at": iso(task.acted_at), "comment": task.comment}


def _action(action: ApprovalAction, users: Mapping[int, Any]) -> dict[str, Any]:
    data = dict(action.data or {})
    if "to_user" in data:
        data["to_user"] = users.get(data["to_user"])
    return {"id": action.id, "action": action.action, "step": action.step_key,
            "task_id": action.task_id, "user": users.get(action.user_id or 0),
            "comment": action.comment, "at": iso(action.at), **data}


def trail(store: EntityStore, record_id: int) -> list[dict[str, Any]]:
    """Every approval run of a record, newest first, each with its full trail."""
    if rows.fetch_row(store, record_id) is None:
        raise NotFound(gettext("records.error.not_found"))
    instances = db.session.scalars(sa.select(ApprovalInstance).where(
        ApprovalInstance.tenant_id == store.tenant_id, ApprovalInstance.app_key == store.app_key,
        ApprovalInstance.entity_key == store.key, ApprovalInstance.record_id == record_id)
        .order_by(ApprovalInstance.id.desc()))
    return [describe(instance) for instance in instances]


def _summaries(tenant_id: int, wanted: set[tuple[str, str, int]], user: User
               ) -> dict[tuple[str, str, int], dict[str, Any]]:
    """``{"id", "title", "values"}`` of each record: its top-level field values, without
    the fields ``user`` may not read."""
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    by_entity: dict[tuple[str, str], list[int]] = {}
    for app_key, entity_key, record_id in wanted:
        by_entity.setdefault((app_key, entity_key), []).append(record_id)
    for (app_key, entity_key), ids in by_entity.items():
        try:
            store = entity_store(tenant_id, app_key, entity_key)
        except NotFound:
            continue  # the app or entity was unpublished since
        records = rows.read_records(store, sibling_stores(store), ids)
        title_field = store.entity.get("title_field")
        for record_id, record in records.items():
            values = access.redact(store, user, {
                k: v for k, v in record.items()
                if k in store.columns and k not in rows.subtable_fields(store)})
            title = record.get(title_field) if title_field else None
            found[(app_key, entity_key, record_id)] = {
                "id": record_id, "title": str(title) if title not in (None, "") else
                f"#{record_id}", "entity_title": localized(store.entity.get("title"))
                or entity_key, "values": values}
    return found


def inbox(user: User) -> list[dict[str, Any]]:
    """``user``'s pending tasks, oldest first, each with the run, step and a summary of
    the record to decide on."""
    found = db.session.execute(
        sa.select(ApprovalTask, ApprovalInstance)
        .join(ApprovalInstance, ApprovalInstance.id == ApprovalTask.instance_id)
        .where(ApprovalTask.tenant_id == user.tenant_id, ApprovalTask.assignee_id == user.id,
               ApprovalTask.status == PENDING, ApprovalInstance.status == PENDING)
        .order_by(ApprovalTask.created_at, ApprovalTask.id)).all()
    summaries = _summaries(user.tenant_id, {(i.app_key, i.entity_key, i.record_id)
                                            for _, i in found}, user)
    users = _users(user.tenant_id, [i.submitted_by for _, i in found])
    items = []
    for task, instance in found:
        steps = list(instance.chain.get("steps") or [])
        step = steps[task.step_index] if task.step_index < len(steps) else {}
        items.append({
            "task_id": task.id, "instance_id": instance.id, "chain": instance.chain_key,
            "chain_title": localized(instance.chain.get("title")) or instance.chain_key,
            "step": task.step_key, "step_title": localized(step.get("title")) or task.step_key,
            "mode": step.get("mode") or "any", "assigned_at": iso(task.created_at),
            "delegated_from": task.delegated_from_id,
            "submitted_by": users.get(instance.submitted_by or 0),
            "submitted_at": iso(instance.submitted_at),
            "app": instance.app_key, "entity": instance.entity_key,
            "record": summaries.get((instance.app_key, instance.entity_key,
                                     instance.record_id)),
        })
    return items
