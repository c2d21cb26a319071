"""Assignment: who gets a record, from the ``assignment_rules`` of the app definition.

A rule fills one assignee field of an entity (the system ``owner`` or a user field) from
ordered items ``{when, pool, strategy}``: the first item whose JsonLogic ``when`` holds for
the record and whose strategy finds someone eligible assigns; when an item finds nobody
(everyone away or at ``max_open``), the next matching item is tried. Strategies live in
``assignment_strategies`` (one class each, in a registry).

Assignments happen:

- on create: a record listener runs each rule with ``on_create`` (the default) in the
  creating transaction. A rule on ``owner`` replaces the creator; a rule on a user field
  fills it only when the creator left it empty.
- on demand: ``assignment_runs.start_distribution`` hands out the unassigned backlog
  (highest ``priority_field`` first) in a background job.
- from other engines: ``assign_record`` (the automation action "assign", SLA "reassign").
- by people: ``claim`` takes an unassigned record from the pool (公海), ``release`` gives
  it back.

Every assignment goes through ``RecordService.set_owner`` inside ``events.acting("assignment")``:
audited, announced as an update, and logged in ``assignment_log`` (rule, item, strategy,
who asked), which the record's history shows under ``details.assignment``. Concurrency
is settled in the database: the rule's row lock orders the rotation, claims are
conditional updates (``... WHERE owner IS NULL``), a claim limit takes the claimer's lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from builder.errors import Conflict, Forbidden, NotFound
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.platform.models import User
from builder.runtime.automation import assignment_pools as pools
from builder.runtime.automation.assignment_models import AssignmentLog
from builder.runtime.automation.assignment_strategies import Pick, strategy_registry
from builder.runtime.records import audit, events
from builder.runtime.records.formulas import rule_data
from builder.runtime.records.service import RecordService
from builder.runtime.rules.evaluator import RuleError, evaluate, truthy
from builder.runtime.storage.tables import EntityStore

ENGINE = "assignment"
CREATED, DISTRIBUTE, ASSIGN, CLAIM, RELEASE = "created", "distribute", "assign", "claim", "release"


# -- rules ----------------------------------------------------------------------------------


def rules_of(store: EntityStore) -> list[Mapping[str, Any]]:
    """The entity's assignment rules, in definition order (``field`` defaults to owner)."""
    return [dict(rule, field=rule.get("field") or "owner")
            for rule in store.app.get("assignment_rules") or []
            if rule.get("entity") == store.key]


def rule_named(store: EntityStore, rule_key: str) -> Mapping[str, Any]:
    for rule in rules_of(store):
        if rule["key"] == rule_key:
            return rule
    raise NotFound(gettext("assignment.error.unknown_rule", rule=rule_key,
                           entity=entity_title(store)))


def item_scope(index: int, item: Mapping[str, Any]) -> str:
    """The rotation scope of a rule item: its key, else its position."""
    return str(item.get("key") or index)


def rule_context(user: Any, now: datetime | None = None) -> dict[str, Any]:
    """The ``$``-values of assignment conditions: ``$now`` and the acting ``$user``."""
    from builder.platform.service import user_context

    moment = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return {"$now": moment, "$user": user_context(user) if user is not None else {}}


def holds(logic: Any, record: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Whether a condition holds for a record (no condition always holds; a condition
    that cannot be evaluated does not)."""
    if logic is None:
        return True
    try:
        return truthy(evaluate(logic, rule_data(record, context)))
    except RuleError:
        return False


def is_manager(store: EntityStore, rule: Mapping[str, Any], user: Any) -> bool:
    """Tenant admins and the rule's ``managers`` may distribute and take records back."""
    if user is None:
        return False
    return bool(user.is_tenant_admin) or user.id in pools.pool_members(
        store.tenant_id, rule.get("managers"))


def entity_title(store: EntityStore) -> str:
    return localized(store.entity.get("title")) or store.key


def _user_name(tenant_id: int, user_id: int | None) -> str:
    user = db.session.scalar(sa.select(User).where(User.id == user_id,
                                                   User.tenant_id == tenant_id))
    return (user.display_name or user.username) if user is not None else str(user_id)


# -- assigning ------------------------------------------------------------------------------


class Assigner:
    """Assignments under one rule, in the caller's transaction, by ``user`` (``None``:
    the system). ``kind`` and ``run_id`` go to the assignment log."""

    def __init__(self, store: EntityStore, rule: Mapping[str, Any], user: Any, *,
                 kind: str, run_id: int | None = None) -> None:
        self.store = store
        self.rule = rule
        self.user = user
        self.kind = kind
        self.run_id = run_id
        # $user costs queries (teams, roles): only for rules that read it
        self.context = rule_context(user if "$user" in json.dumps(rule) else None)
        self.records = RecordService(store, user, commit=False)
        #: shared by the picks of this transaction (see ``Pick.cache``)
        self.cache: dict[str, Any] = {}

    @property
    def field(self) -> str:
        return str(self.rule["field"])

    def matching(self, record: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(scope, item) of each item whose condition holds for the record, in order."""
        for index, item in enumerate(self.rule.get("rules") or []):
            if holds(item.get("when"), record, self.context):
                yield item_scope(index, item), item

    def assign(self, record: Mapping[str, Any], *, exclude: Iterable[int] = (),
               expect: Any = ...) -> int | None:
        """Give ``record`` to the first eligible user of the first matching item; returns
        that user's id, or ``None`` (nothing written) when no item finds anyone.

        ``expect`` as for ``RecordService.set_owner`` (``None``: only if still unassigned).
        """
        if "locked" not in self.cache:
            pools.lock_rule(self.store.tenant_id, self.store.app_key, self.rule["key"])
            self.cache["locked"] = True
        excluded = frozenset(exclude)
        for scope, item in self.matching(record):
            strategy = strategy_registry.get(item.get("strategy") or "round_robin")
            pick = Pick(self.store, self.rule, item, scope, record, self.context, excluded,
                        self.cache)
            user_id = strategy.pick(pick)
            if user_id is not None:
                self.write(int(record["id"]), user_id, expect=expect, item=item,
                           strategy=strategy.type)
                return user_id
        return None

    def write(self, record_id: int, user_id: int | None, *, expect: Any = ...,
              item: Mapping[str, Any] | None = None, strategy: str | None = None
              ) -> dict[str, Any]:
        """Set the assignee through the records service and log the change (if there was
        one); returns the record."""
        table, column = self.store.table, pools.assignee_column(self.store, self.field)
        current = db.session.execute(sa.select(table.c.version, column).where(
            table.c.id == record_id)).first()
        with events.acting(ENGINE):
            after = self.records.set_owner(record_id, user_id, field=self.field,
                                           expect=expect)
        if current is None or after["version"] == current[0]:
            return after  # it was theirs already
        db.session.add(AssignmentLog(
            tenant_id=self.store.tenant_id, app_key=self.store.app_key,
            entity_key=self.store.key, record_id=record_id, version=after["version"],
            field=self.field, kind=self.kind, rule_key=self.rule["key"],
            item_key=item.get("key") if item else None, strategy=strategy,
            from_user_id=current[1], to_user_id=user_id,
            by_user_id=getattr(self.user, "id", None), run_id=self.run_id))
        db.session.flush()
        return after


def assign_record(store: EntityStore, record_id: int, *, rule_key: str | None = None,
                  user: Any = None, exclude: Iterable[int] = ()) -> int | None:
    """Assign one record by the entity's rules (or the rule ``rule_key``) and return the
    assignee's id, or ``None`` when no rule item finds anyone (nothing changes).

    For other engines: the automation action "assign" and SLA escalation "reassign"
    (which passes the current assignee in ``exclude``). Runs in the caller's transaction
    and does not commit; ``user`` is who acts (``None``: the system). The record's row is
    locked first, so a concurrent claim or distribution cannot interleave.
    """
    table = store.table
    locked = db.session.execute(sa.select(table.c.id).where(
        table.c.id == record_id, table.c.deleted == sa.false()).with_for_update()).first()
    if locked is None:
        raise NotFound(gettext("records.error.not_found"))
    rules = [rule_named(store, rule_key)] if rule_key else rules_of(store)
    for rule in rules:
        assigner = Assigner(store, rule, user, kind=ASSIGN)
        user_id = assigner.assign(assigner.records.get(record_id), exclude=exclude)
        if user_id is not None:
            return user_id
    return None


# -- claiming -------------------------------------------------------------------------------


def claim_rule(store: EntityStore, rule_key: str | None) -> Mapping[str, Any]:
    """The rule whose pool people claim from: ``rule_key``, else the entity's first rule
    with ``claim``; ``Forbidden`` when claiming is not set up."""
    rule = rule_named(store, rule_key) if rule_key else next(
        (r for r in rules_of(store) if r.get("claim") is not None), None)
    if rule is None or rule.get("claim") is None:
        raise Forbidden(gettext("assignment.error.claim_disabled",
                                entity=entity_title(store)))
    return rule


def claim(store: EntityStore, record_id: int, user: User, *,
          rule_key: str | None = None) -> dict[str, Any]:
    """``user`` takes an unassigned record from the pool and gets it back, committed.

    The write is conditional on the record being unassigned, so when several people claim
    the same record at once exactly one succeeds; the others get a 409 naming the winner.
    Refused when the user is not in the claim ``pool``, the record does not meet the
    claim's ``when``, or the user already holds ``max_open`` open records.
    """
    try:
        rule = claim_rule(store, rule_key)
        settings = rule["claim"]
        assigner = Assigner(store, rule, user, kind=CLAIM)
        if settings.get("pool") and user.id not in pools.pool_members(store.tenant_id,
                                                                       settings["pool"]):
            raise Forbidden(gettext("assignment.error.not_in_claim_pool"))
        record = assigner.records.get(record_id)
        if record.get("deleted"):
            raise Conflict(gettext("records.error.deleted"))
        _refuse_taken(store, record.get(assigner.field), user)
        if not holds(settings.get("when"), record, assigner.context):
            raise Conflict(gettext("assignment.error.not_claimable"))
        limit = settings.get("max_open")
        if limit:
            pools.lock_claimer(store.tenant_id, store.app_key, rule["key"], user.id)
            held = pools.open_loads(store, assigner.field, [user.id], rule.get("open"),
                                    assigner.context)[user.id]
            if held >= limit:
                raise Conflict(gettext("assignment.error.claim_limit", count=held, max=limit),
                               limit=limit, held=held)
        try:
            after = assigner.write(record_id, user.id, expect=None)
        except Conflict as exc:
            if "holder" not in exc.extra:
                raise
            _refuse_taken(store, exc.extra["holder"], user)
            raise
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return after


def _refuse_taken(store: EntityStore, holder: int | None, user: User) -> None:
    if holder is None:
        return
    if holder == user.id:
        raise Conflict(gettext("assignment.error.already_yours"), holder=holder)
    raise Conflict(gettext("assignment.error.taken", name=_user_name(store.tenant_id, holder)),
                   holder=holder)


def release(store: EntityStore, record_id: int, user: User, *,
            rule_key: str | None = None) -> dict[str, Any]:
    """Give a record back to the pool (unassigned), committed; by its holder or a manager."""
    try:
        rule = claim_rule(store, rule_key)
        assigner = Assigner(store, rule, user, kind=RELEASE)
        record = assigner.records.get(record_id)
        holder = record.get(assigner.field)
        if holder is None:
            raise Conflict(gettext("assignment.error.not_assigned"))
        if holder != user.id and not is_manager(store, rule, user):
            raise Forbidden(gettext("assignment.error.not_holder"))
        after = assigner.write(record_id, None, expect=holder)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return after


# -- on create, history, wiring -------------------------------------------------------------


def _on_create(change: events.RecordChange) -> None:
    """Assign a new record by each rule of its entity that runs on create."""
    if change.action != events.CREATE or change.record_id is None:
        return
    for rule in rules_of(change.store):
        if not rule.get("on_create", True) or not rule.get("rules"):
            continue
        record = change.after
        if rule["field"] != "owner" and record.get(rule["field"]) is not None:
            continue
        Assigner(change.store, rule, change.user, kind=CREATED).assign(
            dict(record, id=change.record_id))


def _history_details(store: EntityStore, record_id: int) -> dict[int, dict[str, Any]]:
    """Version of the record after each assignment → how it was made."""
    log = db.session.scalars(sa.select(AssignmentLog).where(
        AssignmentLog.tenant_id == store.tenant_id, AssignmentLog.app_key == store.app_key,
        AssignmentLog.entity_key == store.key, AssignmentLog.record_id == record_id))
    return {entry.version: {
        "kind": entry.kind, "rule": entry.rule_key, "item": entry.item_key,
        "strategy": entry.strategy, "field": entry.field, "from": entry.from_user_id,
        "to": entry.to_user_id, "by": entry.by_user_id, "run": entry.run_id,
    } for entry in log}


def init_app(app: Flask) -> None:
    """Register the on-create listener and the history details (once per process)."""
    events.record_hooks.listener(ENGINE, priority=50)(_on_create)
    audit.history_details[ENGINE] = _history_details
