"""Distributing the backlog: every unassigned record that a rule item matches, in the
background.

``start_distribution`` records a run (``AssignmentRun``) and enqueues ``distribute_job``;
the job walks the backlog in batches ordered by ``priority_field`` (highest first), then
id. Each batch is one transaction: its records are selected ``FOR UPDATE SKIP LOCKED``
(on PostgreSQL; SQLite runs one writer at a time), so several workers, several runs and
concurrent claims never give one record twice; each write is also conditional on the
record still being unassigned. The run's counts are updated in the batch's transaction,
so they are exact at every moment. When another engine refuses an assignment (a guard or
listener raises) or the database breaks a deadlock with another writer, the batch is redone
one record per transaction and the refused records are counted as ``failed``.

SQLite has one writer at a time and waiting writers poll with a growing back-off, so a
loop of back-to-back transactions would starve them (a rep saving a record would wait for
the whole run); on SQLite the job pauses ``SQLITE_PAUSE`` seconds between batches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import ColumnElement

from builder.database import utcnow
from builder.errors import AppError, Forbidden, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import User
from builder.runtime import jobs
from builder.runtime.automation import assignment_pools as pools
from builder.runtime.automation.assignment import (
    DISTRIBUTE,
    Assigner,
    entity_title,
    is_manager,
    rule_context,
    rule_named,
    rules_of,
)
from builder.runtime.automation.assignment_models import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    AssignmentRun,
)
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import after_row, column_ref
from builder.runtime.records import rows
from builder.runtime.storage.tables import EntityStore, entity_store

log = logging.getLogger(__name__)
BATCH_SIZE = 50
#: longer than the longest poll interval of SQLite's busy handler (100 ms)
SQLITE_PAUSE = 0.12


def _distributable(rule: Mapping[str, Any]) -> bool:
    """Rules with items distribute; a rule with only ``claim`` is a pool to claim from."""
    return bool(rule.get("rules"))


def backlog_condition(store: EntityStore, rule: Mapping[str, Any],
                      context: Mapping[str, Any]) -> ColumnElement[bool]:
    """Live records with no assignee that at least one item of the rule matches."""
    matches: list[ColumnElement[bool]] = []
    for item in rule.get("rules") or []:
        if item.get("when") is None:
            matches = [sa.true()]
            break
        matches.append(to_sql(item["when"], lambda name: column_ref(store, name), context))
    return sa.and_(store.table.c.deleted == sa.false(),
                   pools.assignee_column(store, rule["field"]).is_(None), sa.or_(*matches))


def _order(store: EntityStore, rule: Mapping[str, Any]) -> list[tuple[Any, bool]]:
    """Highest priority first (records without one last), then oldest first."""
    columns: list[tuple[Any, bool]] = []
    priority = rule.get("priority_field")
    if priority and priority in store.columns:
        columns.append((store.columns[priority], True))
    return [*columns, (store.table.c.id, False)]


def start_distribution(store: EntityStore, user: User, rule_key: str | None = None
                       ) -> AssignmentRun:
    """Record a run that distributes the entity's backlog by one rule (or all its rules)
    and enqueue it; the caller commits (the job leaves on commit). Only tenant admins and
    the rules' managers may."""
    rules = [rule_named(store, rule_key)] if rule_key else rules_of(store)
    rules = [r for r in rules if _distributable(r)]
    if not rules:
        message = gettext("assignment.error.no_rules", entity=entity_title(store))
        raise ValidationFailed(message, [Problem("rule", message, "no_rules")])
    if not all(is_manager(store, rule, user) for rule in rules):
        raise Forbidden(gettext("assignment.error.not_manager"))
    context = rule_context(user)
    pending = sum(int(db.session.execute(sa.select(sa.func.count()).select_from(store.table)
                                         .where(backlog_condition(store, r, context)))
                      .scalar_one()) for r in rules)
    run = AssignmentRun(tenant_id=store.tenant_id, app_key=store.app_key,
                        entity_key=store.key, rule_key=rule_key, status=QUEUED,
                        requested_by=user.id, pending=pending, per_user={})
    db.session.add(run)
    db.session.flush()
    jobs.enqueue(distribute_job, run.id)
    return run


def get_run(store: EntityStore, run_id: int) -> AssignmentRun | None:
    """A run of this entity in the store's tenant (``None`` for any other)."""
    return db.session.scalar(sa.select(AssignmentRun).where(
        AssignmentRun.id == run_id, AssignmentRun.tenant_id == store.tenant_id,
        AssignmentRun.app_key == store.app_key, AssignmentRun.entity_key == store.key))


def distribute_job(run_id: int) -> None:
    """The background half of ``start_distribution``; safe to run again after a crash
    (what is assigned stays assigned, the rest is picked up)."""
    run = db.session.get(AssignmentRun, run_id)
    if run is None or run.status in (DONE, FAILED):
        return
    run.status, run.started_at = RUNNING, utcnow()
    db.session.commit()
    try:
        store = entity_store(run.tenant_id, run.app_key, run.entity_key)
        user = db.session.scalar(sa.select(User).where(User.id == run.requested_by,
                                                       User.tenant_id == run.tenant_id))
        rules = [rule_named(store, run.rule_key)] if run.rule_key else rules_of(store)
        for rule in rules:
            if _distributable(rule):
                _distribute(run_id, store, rule, user)
        run = db.session.get(AssignmentRun, run_id)
        assert run is not None
        run.status, run.finished_at = DONE, utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("assignment run %s failed", run_id)
        failed = db.session.get(AssignmentRun, run_id)
        if failed is not None:
            failed.status, failed.finished_at, failed.error = FAILED, utcnow(), str(exc)
            db.session.commit()


def _distribute(run_id: int, store: EntityStore, rule: Mapping[str, Any], user: Any) -> None:
    order = _order(store, rule)
    position: list[Any] | None = None
    while True:
        assigner = Assigner(store, rule, user, kind=DISTRIBUTE, run_id=run_id)
        batch = _next_batch(store, rule, assigner.context, order, position)
        if not batch:
            db.session.commit()
            return
        position = [batch[-1][column.name] for column, _ in order]
        ids = [int(row["id"]) for row in batch]
        try:
            _count(run_id, [_assign(assigner, store, row) for row in batch])
            db.session.commit()
        except (AppError, OperationalError):  # refused, or a deadlock with another writer
            db.session.rollback()
            for record_id in ids:
                _one_by_one(run_id, store, rule, user, record_id)
        _let_others_write()


def _let_others_write() -> None:
    if db.session.get_bind().dialect.name == "sqlite":
        time.sleep(SQLITE_PAUSE)


def _next_batch(store: EntityStore, rule: Mapping[str, Any], context: Mapping[str, Any],
                order: Sequence[tuple[Any, bool]], position: list[Any] | None
                ) -> list[Mapping[Any, Any]]:
    query = sa.select(store.table).where(backlog_condition(store, rule, context))
    if position is not None:
        query = query.where(after_row(order, position))
    query = query.order_by(*[(c.desc() if d else c.asc()).nulls_last() for c, d in order])
    return list(db.session.execute(query.limit(BATCH_SIZE).with_for_update(skip_locked=True))
                .mappings())


def _assign(assigner: Assigner, store: EntityStore, row: Mapping[Any, Any]) -> int | None:
    record = rows.to_output(store, row)
    return assigner.assign(record, expect=None)


def _one_by_one(run_id: int, store: EntityStore, rule: Mapping[str, Any], user: Any,
                record_id: int) -> None:
    """Assign one record in its own transaction; a refusal counts as failed."""
    assigner = Assigner(store, rule, user, kind=DISTRIBUTE, run_id=run_id)
    table = store.table
    try:
        row = db.session.execute(sa.select(table).where(
            table.c.id == record_id, backlog_condition(store, rule, assigner.context))
            .with_for_update(skip_locked=True)).mappings().first()
        if row is not None:
            _count(run_id, [_assign(assigner, store, row)])
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        log.info("assignment run %s: record %s refused: %s", run_id, record_id, exc)
        _count(run_id, [], failed=1)
        db.session.commit()


def _count(run_id: int, assignees: list[int | None], failed: int = 0) -> None:
    """Add a batch's outcome to the run, in the batch's transaction (under the run's row
    lock, should the same run ever be worked twice at once)."""
    run = db.session.get(AssignmentRun, run_id, with_for_update=True, populate_existing=True)
    assert run is not None
    per_user = dict(run.per_user or {})
    for user_id in assignees:
        if user_id is not None:
            per_user[str(user_id)] = per_user.get(str(user_id), 0) + 1
    run.assigned += sum(1 for u in assignees if u is not None)
    run.unassigned += sum(1 for u in assignees if u is None)
    run.failed += failed
    run.per_user = per_user
