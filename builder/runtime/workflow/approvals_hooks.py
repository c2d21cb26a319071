"""How approvals hook into record writes: the lock while pending, and ``on_save`` chains.

- The guard ``approvals.lock`` refuses (409) every change of a record with a pending run
  of a chain that has ``lock_record`` (the default): updates, deletes and restores from
  any caller, and changes of its sub-table rows. Only the approval engine's own writes
  (``events.acting("approval")``, the outcome fields) go through.
- The listener ``approvals.on_save`` starts a ``trigger: on_save`` chain, on behalf of the
  person saving, when a save leaves the chain's ``when`` true and either creates the
  record, makes the condition true, or changes a field the condition reads (a price
  lowered again after an approval needs a new one; an unrelated edit does not).
  Nothing starts while another run of the record is pending. If the run cannot be
  routed (nobody to approve), the save itself is refused with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask

from builder.errors import Conflict, Problem
from builder.i18n import gettext, localized
from builder.runtime.records import events
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import evaluate, truthy
from builder.runtime.storage.tables import EntityStore
from builder.runtime.workflow import approvals
from builder.runtime.workflow.approvals_views import iso, open_key, pending_row

LOCK_GUARD = "approvals.lock"
ON_SAVE_LISTENER = "approvals.on_save"


def _chains(app: Mapping[str, Any], entity_key: str) -> list[Mapping[str, Any]]:
    return [c for c in app.get("approval_chains") or [] if c.get("entity") == entity_key]


def _parent_entity(store: EntityStore) -> str | None:
    for entity in store.app.get("entities") or []:
        for field in entity.get("fields") or []:
            if field.get("type") == "subtable" and field.get("entity") == store.key:
                return str(entity.get("key"))
    return None


def _lock_targets(change: events.RecordChange) -> Iterator[tuple[str, int]]:
    """The records whose approval lock covers this change: itself, and for a sub-table
    row, the record it belongs to."""
    store = change.store
    if change.record_id is not None and _chains(store.app, store.key):
        yield store.key, change.record_id
    parent = _parent_entity(store)
    if parent is not None and _chains(store.app, parent):
        for image in (change.before, change.after):
            parent_id = (image or {}).get("parent_id")
            if isinstance(parent_id, int):
                yield parent, parent_id


def refuse_locked(change: events.RecordChange) -> None:
    """The guard: a record awaiting approval cannot change (except by the engine)."""
    if change.action == events.READ or events.acting_engine() == approvals.ENGINE:
        return
    for entity_key, record_id in dict.fromkeys(_lock_targets(change)):
        instance = pending_row(change.tenant_id, open_key(change.app_key, entity_key,
                                                          record_id))
        if instance is None or not instance.locks_record:
            continue
        title = localized(instance.chain.get("title")) or instance.chain_key
        message = gettext("approvals.error.locked", chain=title)
        raise Conflict(message, [Problem("$", message, "approval_pending")],
                       approval_instance=instance.id)


def _vars(logic: Any) -> set[str]:
    """The record fields a JsonLogic rule reads (``{"var": "a.b"}`` reads ``a``)."""
    found: set[str] = set()
    if isinstance(logic, Mapping):
        for op, args in logic.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name and not name.startswith("$"):
                    found.add(name.split(".")[0])
            else:
                found |= _vars(args)
    elif isinstance(logic, list):
        for item in logic:
            found |= _vars(item)
    return found


def _holds(chain: Mapping[str, Any], record: Mapping[str, Any] | None,
           context: Mapping[str, Any]) -> bool:
    when = chain.get("when")
    return record is not None and (when is None or truthy(evaluate(when, rule_data(
        record, context))))


def start_on_save(change: events.RecordChange) -> None:
    """The listener: start the ``on_save`` chains a create or update calls for."""
    if change.action not in (events.CREATE, events.UPDATE) or change.record_id is None:
        return
    if events.acting_engine() == approvals.ENGINE or change.user is None:
        return
    chains = [c for c in _chains(change.store.app, change.entity)
              if c.get("trigger") == "on_save"]
    if not chains:
        return
    from builder.platform.service import user_context

    context = {"$user": user_context(change.user), "$now": iso(change.now)}
    for chain in chains:
        if not _holds(chain, change.after, context):
            continue
        if change.before is not None and _holds(chain, change.before, context) and not any(
                change.before.get(k) != change.after.get(k) for k in _vars(chain.get("when"))):
            continue
        if pending_row(change.tenant_id, open_key(change.app_key, change.entity,
                                                  change.record_id)) is not None:
            return
        approvals.start(change.store, change.record_id, str(chain["key"]), change.user)
        return


def register() -> None:
    """Install the guard and the listener (idempotent: names replace earlier entries)."""
    events.record_hooks.guard(LOCK_GUARD, priority=10)(refuse_locked)
    events.record_hooks.listener(ON_SAVE_LISTENER, priority=50)(start_on_save)


def init_app(app: Flask) -> None:
    register()
