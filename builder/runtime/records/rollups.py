"""Rollup fields: computed from other records, kept current in the same transaction.

A rollup (``builder.schema.field_types.rollup``) aggregates the live records of a source
entity that ``match`` the holding record (``{source field: holder field}``, all equal) and
pass its ``filter`` (JsonLogic over the source record, translated to SQL; ``$this.<field>``
reads the holder, ``$now`` the time). It is computed:

- when the holder is saved, before its formulas (so formulas build on rollups);
- after any create, update, delete or restore of a source record, for every holder that
  matched the source record before or after the change, in the same transaction
  (:func:`refresh_after_change`, a record listener). Holders are rewritten through
  :func:`recompute`: only their computed fields (rollups and the formulas that follow)
  change, with an audit row and a record event naming the ``rollups`` engine, so
  automations can react to a figure crossing a line;
- on demand (:func:`recompute`), for figures that depend on the time (``$now``) and are
  refreshed on a schedule.

A refresh is a write of derived values, not a person's edit: field rules and guards that
refuse edits (read-only fields, approval locks) do not apply to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Flask

from builder.extensions import db
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.records import audit, events, rows
from builder.runtime.records.counts import with_counts
from builder.runtime.records.formulas import compute_formulas
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import FieldValueError, field_type_registry

log = logging.getLogger(__name__)
ENGINE = "rollups"
LISTENER = "rollups.refresh"
#: holders refreshed after one change at most (a rollup without match reaches them all)
MAX_HOLDERS = 5000


def rollup_fields(store: EntityStore) -> dict[str, Mapping[str, Any]]:
    return {key: field for key, field in store.fields.items()
            if field.get("type") == "rollup" and key in store.columns}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _holder_value(record: Mapping[str, Any], key: str, record_id: int | None) -> Any:
    return record_id if key == "id" else record.get(key)


def _stored(store: EntityStore, key: str, value: Any) -> Any:
    """A JSON value as the source column stores it (select keys, ids, dates...)."""
    if key in ("id", "owner", "created_by", "updated_by"):
        return value
    field = store.fields[key]
    return field_type_registry.get(field["type"]).parse(value, field)


def aggregate(source: EntityStore, field: Mapping[str, Any], holder: Mapping[str, Any],
              record_id: int | None, now: str) -> Any:
    """The rollup's value for ``holder`` (its JSON record), straight from the database."""
    table = source.table
    where: list[Any] = [table.c.deleted == sa.false()]
    for theirs, ours in (field.get("match") or {}).items():
        value = _holder_value(holder, ours, record_id)
        if value is None or value == "":
            return _empty(field)
        ref = column_ref(source, theirs)
        if ref is None:
            return _empty(field)
        try:
            where.append(ref.expr == _stored(source, theirs, value))
        except FieldValueError:
            return _empty(field)
    if field.get("filter") is not None:
        context = {"$this": dict(holder, id=record_id), "$now": now}
        where.append(to_sql(field["filter"], lambda name: column_ref(source, name), context))
    kind = field.get("aggregate", "count")
    if kind == "count":
        expr: Any = sa.func.count()
    else:
        ref = column_ref(source, str(field.get("field")))
        if ref is None:
            return _empty(field)
        functions: dict[str, Any] = {"sum": sa.func.sum, "avg": sa.func.avg,
                                     "min": sa.func.min, "max": sa.func.max}
        expr = functions[kind](ref.expr)
    value = db.session.execute(sa.select(expr).select_from(table).where(*where)).scalar()
    if isinstance(value, Decimal):
        value = float(value)
    if value is None and kind in ("sum", "count"):
        value = 0
    return value


def _empty(field: Mapping[str, Any]) -> Any:
    return 0 if field.get("aggregate", "count") in ("count", "sum") else None


def compute_rollups(store: EntityStore, stores: Mapping[str, EntityStore],
                    values: MutableMapping[str, Any], record: MutableMapping[str, Any],
                    record_id: int | None, context: Mapping[str, Any]) -> None:
    """Compute every rollup field of ``store`` into ``values`` (stored) and ``record``
    (JSON). A rollup that cannot be computed (a filter the database cannot run) stores
    null rather than blocking the save."""
    now = str(context.get("$now") or "")
    for key, field in rollup_fields(store).items():
        source = stores.get(str(field.get("entity")))
        field_type = field_type_registry.get("rollup")
        stored: Any = None
        if source is not None:
            try:
                result = aggregate(source, field, record, record_id, now)
                stored = field_type.parse(result, field) if result is not None else None
            except (RuleError, FieldValueError) as exc:
                log.info("rollup %s.%s left empty: %s", store.key, key, exc)
        values[key] = stored
        record[key] = field_type.to_json(stored, field)


def recompute(store: EntityStore, stores: Mapping[str, EntityStore], record_id: int,
              user: Any, now: datetime) -> bool:
    """Recompute the rollups and formulas of one live record and store what changed, with
    an audit row and a record event (engine ``rollups``); ``True`` when something did."""
    row = rows.fetch_row(store, record_id)
    if row is None or row["deleted"]:
        return False
    before = rows.to_output(store, row)
    rows.attach_children(store, stores, [before])
    record = dict(before)
    values = {key: row.get(column.name) for key, column in store.columns.items()}
    from builder.platform.service import user_context

    context = with_counts({"$user": user_context(user) if user is not None else {},
                           "$now": _iso(now), "$old": before}, store, stores, record,
                          record_id)
    compute_rollups(store, stores, values, record, record_id, context)
    compute_formulas(store.fields, values, record, context)
    computed = [key for key, field in store.fields.items()
                if field.get("type") in ("rollup", "formula") and key in store.columns]
    dirty = [key for key in computed if record.get(key) != before.get(key)]
    if not dirty:
        return False
    table = store.table
    user_id = getattr(user, "id", None)
    result = db.session.execute(sa.update(table).where(
        table.c.id == record_id, table.c.version == row["version"]).values(
        version=table.c.version + 1, updated_at=now, updated_by=user_id,
        **{store.columns[key].name: values[key] for key in dirty}))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False  # changed under us in this transaction: its own save computed it
    after = rows.read_records(store, stores, [record_id])[record_id]
    audit.append(store, record_id, audit.UPDATE, user_id, now, before, after)
    with events.acting(ENGINE):
        events.record_hooks.notify(events.RecordChange(
            events.UPDATE, store, stores, user, now, before, after, frozenset(dirty),
            record_id, ENGINE))
    return True


def fields_read(rule: Any, found: set[str] | None = None) -> set[str]:
    """Field keys a rule reads with ``var`` (``$``-values left out)."""
    found = set() if found is None else found
    if isinstance(rule, list):
        for item in rule:
            fields_read(item, found)
    elif isinstance(rule, Mapping):
        for op, args in rule.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name and not name.startswith("$"):
                    found.add(name.split(".")[0])
            else:
                fields_read(args, found)
    return found


def _rollups_over(stores: Mapping[str, EntityStore], source: str
                  ) -> Iterator[tuple[EntityStore, str, Mapping[str, Any]]]:
    for holder in stores.values():
        for key, field in rollup_fields(holder).items():
            if field.get("entity") == source and field.get("refresh", "changes") == "changes":
                yield holder, key, field


def _reads(field: Mapping[str, Any]) -> set[str]:
    keys = set((field.get("match") or {}).keys()) | fields_read(field.get("filter"))
    if field.get("field"):
        keys.add(str(field["field"]))
    return keys


def _holders(holder: EntityStore, field: Mapping[str, Any],
             sources: list[Mapping[str, Any]]) -> dict[int, None]:
    """Ids of the live holders that ``field`` matches for any of the ``sources``."""
    table = holder.table
    match = field.get("match") or {}
    sides = []
    for source in sources:
        parts = []
        for theirs, ours in match.items():
            value = source.get(theirs)
            ref = column_ref(holder, ours)
            if value is None or ref is None:
                break
            try:
                parts.append(ref.expr == _stored(holder, ours, value))
            except FieldValueError:
                break
        else:
            sides.append(sa.and_(sa.true(), *parts))
    if not sides:
        return {}
    query = sa.select(table.c.id).where(table.c.deleted == sa.false(), sa.or_(*sides))
    found = db.session.execute(query.order_by(table.c.id).limit(MAX_HOLDERS)).scalars()
    return dict.fromkeys(int(i) for i in found)


def refresh_after_change(change: events.RecordChange) -> None:
    """Recompute the holders of every rollup over the changed record's entity."""
    if change.action == events.READ:
        return
    sources = [s for s in (change.before, change.after) if s is not None]
    due: dict[str, dict[int, None]] = {}
    holders: dict[str, EntityStore] = {}
    for holder, _key, field in list(_rollups_over(change.stores, change.store.key)):
        if rows.is_child_entity(holder):
            continue
        if change.action == events.UPDATE and not (_reads(field) & change.changed):
            continue
        holders[holder.key] = holder
        due.setdefault(holder.key, {}).update(_holders(holder, field, sources))
    for key, ids in due.items():
        for holder_id in ids:
            recompute(holders[key], change.stores, holder_id, change.user, change.now)


def init_app(app: Flask) -> None:
    events.record_hooks.listener(LISTENER, priority=20, on_load=True)(refresh_after_change)
