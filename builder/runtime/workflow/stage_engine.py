"""Stage flows at work: transitions, the guard on the stage field, auto-advance, history.

- ``transition(...)`` moves a record to a stage when the move is allowed and every
  condition is met (``stage_criteria``); otherwise it refuses with a 422 listing all of
  them. It writes through ``RecordService`` inside ``events.acting("stage_flow")`` so the
  audit trail shows the change, then records the visit and emits ``stage_left`` and
  ``stage_entered``.
- A guard refuses people's direct writes of a stage field (create at another stage than
  the first, or a PATCH of the field). Other engines may write it; their moves are
  recorded like any other.
- A listener records where new records start, and, for flows with ``auto_advance``, moves
  a record forward on save as long as the stage it is in has exit conditions (an ``exit``
  rule or deliverables) and they, and the next stage's entry, are met.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from builder.database import utcnow
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.records import RecordService, events, rows
from builder.runtime.records.counts import with_counts
from builder.runtime.storage.tables import EntityStore
from builder.runtime.workflow.stage_criteria import Criteria
from builder.runtime.workflow.stage_flow import FORWARD, StageFlow, flow_for, flows_of
from builder.runtime.workflow.stage_models import AUTO, BY_ENGINE, CREATED, MANUAL, StageVisit

ENGINE_NAME = "stage_flow"


def transition(store: EntityStore, user: Any, record_id: int, to: Any, version: int,
               data: Any = None, *, flow: str | None = None, reason: str | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """Move a record to stage ``to`` (with optional field values set in the same save,
    such as the lost reason); returns the record.

    Raises ``ValidationFailed`` listing every reason the move is refused (not allowed by
    the flow, field problems, unmet entry/exit conditions, missing deliverables or
    reason), ``Conflict`` when ``version`` is stale, ``NotFound``.
    """
    stage_flow = flow_for(store, flow)
    moment = now or utcnow()
    service = RecordService(store, user, commit=False)
    try:
        row = rows.fetch_row(store, record_id)
        if row is None:
            raise NotFound(gettext("records.error.not_found"))
        if row["deleted"]:
            raise Conflict(gettext("records.error.deleted"))
        if row["version"] != version:
            message = gettext("records.error.stale_version", version=row["version"])
            raise Conflict(message, [Problem("version", message, "stale")],
                           current_version=row["version"])
        changes = _changes(stage_flow, data, to)
        before = service.get(record_id)
        frm = before.get(stage_flow.field)
        problems = _move_problems(stage_flow, frm, to)
        if not problems:
            problems = blockers(service, stage_flow, row, before, changes, to,
                                stage_flow.kind(frm, to), moment)
        if problems:
            raise ValidationFailed(gettext("stages.error.refused",
                                           stage=stage_flow.stage_title(str(to)),
                                           count=len(problems)), problems)
        _move(service, stage_flow, record_id, version, changes, frm, to, MANUAL, moment,
              reason)
        record = service.get(record_id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return record


def _changes(flow: StageFlow, data: Any, to: Any) -> dict[str, Any]:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationFailed(gettext("records.error.invalid"), [Problem(
            "data", gettext("records.error.not_an_object"), "not_an_object")])
    if flow.field in data:
        message = gettext("stages.error.stage_in_data", field=flow.field)
        raise ValidationFailed(message, [Problem(f"data.{flow.field}", message, "invalid")])
    if not isinstance(to, str) or to not in flow.by_key:
        message = gettext("stages.error.unknown_stage", stage=str(to), flow=flow.title)
        raise ValidationFailed(message, [Problem("to", message, "unknown_stage")])
    return dict(data)


def _move_problems(flow: StageFlow, frm: str | None, to: str) -> list[Problem]:
    if frm == to:
        message = gettext("stages.error.same_stage", stage=flow.stage_title(to))
        return [Problem("to", message, "same_stage")]
    refusal = flow.refusal(frm, to)
    return [refusal] if refusal is not None else []


def blockers(service: RecordService, flow: StageFlow, row: Mapping[str, Any],
             before: dict[str, Any], changes: Mapping[str, Any], to: str, kind: str,
             now: datetime) -> list[Problem]:
    """Every problem of saving ``changes`` with the record at stage ``to``: the fields'
    own rules and the move's conditions. A field's "required" problem is left out when
    the flow says the same about it in its own words."""
    store = service.store
    validator = service.validator(now)
    prepared = validator.prepare(store, {**changes, flow.field: to}, existing=row,
                                 before=before, trusted=frozenset({flow.field}))
    problems = list(validator.problems)
    if prepared is None:
        return problems
    context = with_counts(dict(service.context(now), **{"$old": before}), store,
                          service.stores, prepared.record, int(row["id"]))
    unmet = Criteria(flow, store, service.stores, prepared.record, context).unmet(
        before.get(flow.field), to, kind)
    explained = {p.path for p in unmet}
    return [p for p in problems if not (p.code == "required" and p.path in explained)] + unmet


def _move(service: RecordService, flow: StageFlow, record_id: int, version: int,
          changes: Mapping[str, Any], frm: str | None, to: str, how: str, now: datetime,
          reason: str | None) -> None:
    with events.acting(ENGINE_NAME):
        record = service.update(record_id, {**changes, flow.field: to}, version)
    if reason is None:
        reason_field = flow.by_key[to].data.get("reason_field")
        value = record.get(reason_field) if isinstance(reason_field, str) else None
        reason = str(value) if value not in (None, "") else None
    enter(service.store, flow, record_id, frm, to, service.user, how, now, reason)


def enter(store: EntityStore, flow: StageFlow, record_id: int, frm: str | None, to: str,
          user: Any, how: str, now: datetime, reason: str | None = None) -> None:
    """Record that the record entered ``to`` (closing its visit of the stage it left) and
    tell the subscribers: ``stage_left`` then ``stage_entered``, with ``flow``, ``from``
    and ``to``."""
    table = StageVisit.__table__
    db.session.execute(sa.update(table).where(
        table.c.tenant_id == store.tenant_id, table.c.app_key == store.app_key,
        table.c.flow_key == flow.key, table.c.record_id == record_id,
        table.c.left_at.is_(None)).values(left_at=now))
    db.session.execute(sa.insert(table).values(
        tenant_id=store.tenant_id, app_key=store.app_key, entity_key=store.key,
        record_id=record_id, flow_key=flow.key, from_stage=frm, to_stage=to,
        moved_by=getattr(user, "id", None), how=how, entered_at=now, left_at=None,
        reason=reason[:2000] if reason else None))
    details = {"flow": flow.key, "from": frm, "to": to}
    if frm is not None:
        events.record_hooks.emit(events.ProcessEvent("stage_left", store, record_id, user,
                                                     now, details))
    events.record_hooks.emit(events.ProcessEvent("stage_entered", store, record_id, user, now,
                                                 details))


# -- hooks ----------------------------------------------------------------------------------


def refuse_direct_writes(change: events.RecordChange) -> None:
    """Guard: a person (or API client) never sets a stage field directly."""
    if change.engine is not None or change.action not in (events.CREATE, events.UPDATE):
        return
    for flow in flows_of(change.store):
        title = _field_title(change.store, flow.field)
        if change.action == events.CREATE:
            value = change.after.get(flow.field)
            if value is None or value == flow.initial:
                continue
            message = gettext("stages.error.start_stage", field=title,
                              stage=flow.stage_title(flow.initial))
        elif flow.field in change.changed:
            message = gettext("stages.error.direct_write", field=title)
        else:
            continue
        raise ValidationFailed(message, [Problem(flow.field, message, "stage_locked")])


def after_write(change: events.RecordChange) -> None:
    """Listener: where a new record starts, moves made by other engines, auto-advance."""
    if change.engine == ENGINE_NAME or change.record_id is None \
            or change.action not in (events.CREATE, events.UPDATE):
        return
    for flow in flows_of(change.store):
        service = RecordService(change.store, change.user, stores=change.stores, commit=False)
        value = change.after.get(flow.field)
        current = value if isinstance(value, str) and value in flow.by_key else None
        if change.action == events.CREATE and value is None:
            version = service.get(change.record_id)["version"]
            _move(service, flow, change.record_id, version, {}, None, flow.initial, CREATED,
                  change.now, None)
        elif current is not None and (change.action == events.CREATE
                                      or flow.field in change.changed):
            frm = (change.before or {}).get(flow.field)
            enter(change.store, flow, change.record_id, frm, current, change.user,
                  CREATED if change.action == events.CREATE else BY_ENGINE, change.now)
        if flow.auto_advance:
            advance(service, flow, change.record_id, change.now)


def advance(service: RecordService, flow: StageFlow, record_id: int, now: datetime) -> None:
    """Move the record forward while the stage it is in has exit conditions that are met
    (and the next stage can be entered)."""
    for _ in range(len(flow.stages)):
        row = rows.fetch_row(service.store, record_id)
        if row is None or row["deleted"]:
            return
        before = service.get(record_id)
        frm = before.get(flow.field)
        stage = flow.by_key.get(frm) if isinstance(frm, str) else None
        to = flow.next_stage(frm) if stage is not None else None
        if stage is None or to is None or not _has_exit(stage.data):
            return
        if blockers(service, flow, row, before, {}, to, FORWARD, now):
            return
        _move(service, flow, record_id, row["version"], {}, frm, to, AUTO, now, None)


def _has_exit(stage: Mapping[str, Any]) -> bool:
    return stage.get("exit") is not None or bool(stage.get("deliverables"))


def _field_title(store: EntityStore, key: str) -> str:
    return localized(store.fields[key].get("title")) or key


def init_app(app: Flask) -> None:
    """Register the stage-flow guard and listener with the records service."""
    events.record_hooks.guard(ENGINE_NAME, priority=50)(refuse_direct_writes)
    events.record_hooks.listener(ENGINE_NAME, priority=50)(after_write)
