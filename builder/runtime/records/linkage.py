"""Relations filled from what people and devices have at hand (数据联动).

- **Reference by unique key.** A relation value may be given as ``{"<field>": value}``
  where the field is ``unique`` in the related entity: ``{"barcode": "6901234567892"}``,
  ``{"code": "SH01"}``, ``{"phone": "13800138000"}``. It stands for the live record
  holding that value; none is a problem at the relation's path. Seed files, imports and
  other systems can point at records without knowing their ids.
- **Lookup** (``lookup: {"field", "from"}`` on a relation field): when the record's own
  ``from`` field is given (a scanned barcode, a phone number typed at the counter) and the
  relation is not, the relation is set to the related record whose unique ``field``
  equals it. A value that finds nothing is a problem at the ``from`` field.
- **Fill** (``fill: {"<this field>": "<related field>"}``): when the relation gets a
  value (on create, or changed), the listed fields that the request did not send are
  copied from the related record: the price from the SKU, the store's region onto the
  order. A person may still send their own value.

- **Inherit** (``inherit: {"<row field>": "<record field>"}`` on a sub-table field): the
  rows carry these fields of their record (the store, time and status of an order on
  each line), set on every write of the record, so lists, metrics and row scopes over
  the rows need no join.

Also here: the problem telling which record already holds a unique value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.records import rows
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import FieldValueError, field_type_registry


def _entity_title(store: EntityStore) -> str:
    return localized(store.entity.get("title")) or store.key


def _field_title(store: EntityStore, key: str) -> str:
    return localized(store.fields[key].get("title")) or key


def find_by(store: EntityStore, key: str, value: Any) -> int | None:
    """The id of the live record whose ``key`` holds ``value`` (parsed for its type)."""
    column = store.columns.get(key)
    if column is None:
        return None
    parsed = field_type_registry.get(store.fields[key]["type"]).parse(value, store.fields[key])
    if parsed is None:
        return None
    table = store.table
    found = db.session.scalar(sa.select(table.c.id).where(
        column == parsed, table.c.deleted == sa.false()).order_by(table.c.id).limit(1))
    return None if found is None else int(found)


def resolve_reference(stores: Mapping[str, EntityStore], field_def: Mapping[str, Any],
                      value: Any) -> Any:
    """A relation value given as ``{"<unique field>": value}`` → the record's id; other
    values are returned as given. Raises ``FieldValueError``."""
    if not isinstance(value, Mapping) or "id" in value:
        return value
    target = stores.get(str(field_def.get("entity")))
    if target is None or len(value) != 1:
        raise FieldValueError("linkage.error.reference_shape")
    key, wanted = next(iter(value.items()))
    if not isinstance(key, str) or key not in target.columns or \
            not target.fields[key].get("unique"):
        raise FieldValueError("linkage.error.reference_key", field=key,
                              entity=_entity_title(target))
    found = find_by(target, key, wanted)
    if found is None:
        raise FieldValueError("linkage.error.reference_not_found",
                              entity=_entity_title(target),
                              field=_field_title(target, key), value=wanted)
    return found


def unique_clash(store: EntityStore, holder: int, path: str) -> Problem:
    """"Already used by <record>", naming the record that holds the value."""
    title_field = store.entity.get("title_field")
    title = None
    if isinstance(title_field, str) and title_field in store.columns:
        title = db.session.scalar(sa.select(store.columns[title_field]).where(
            store.table.c.id == holder))
    message = gettext("linkage.error.not_unique", entity=_entity_title(store), title=title) \
        if title not in (None, "") else gettext("linkage.error.not_unique_id",
                                                entity=_entity_title(store), id=holder)
    return Problem(path, message, "unique", holder)


def inherited(parent: EntityStore, child: EntityStore, field_def: Mapping[str, Any],
              values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a sub-table's rows take from their record (``inherit: {"<row field>":
    "<record field>"}``), as JSON input for the rows."""
    spec = field_def.get("inherit")
    if not isinstance(spec, Mapping):
        return {}
    return {mine: rows.field_json(parent, theirs, values.get(theirs))
            for mine, theirs in spec.items()
            if mine in child.columns and theirs in parent.columns}


def inheritance_changed(parent: EntityStore, field_def: Mapping[str, Any],
                        values: Mapping[str, Any], existing: Mapping[str, Any] | None) -> bool:
    """Whether a record field its rows inherit changes in this write."""
    spec = field_def.get("inherit")
    if not isinstance(spec, Mapping) or existing is None:
        return False
    return any(theirs in parent.columns and
               values.get(theirs) != existing.get(parent.columns[theirs].name)
               for theirs in spec.values())


def _relations(store: EntityStore, prop: str) -> Iterator[tuple[str, Mapping[str, Any],
                                                                 EntityStore, Any]]:
    for key, field_def in store.fields.items():
        spec = field_def.get(prop)
        if field_def.get("type") == "relation" and isinstance(spec, Mapping) and \
                key in store.columns:
            yield key, field_def, store, spec


def _changed(existing: Mapping[str, Any] | None, store: EntityStore, key: str,
             value: Any) -> bool:
    if value is None:
        return False
    return existing is None or existing.get(store.columns[key].name) != value


def link(stores: Mapping[str, EntityStore], store: EntityStore, data: Mapping[str, Any],
         given: MutableMapping[str, Any], values: MutableMapping[str, Any],
         record: MutableMapping[str, Any], existing: Mapping[str, Any] | None,
         path: str) -> list[Problem]:
    """Apply the lookups, then the fills, of one record's input; returns the problems.

    ``data`` is the input as sent, ``given`` the parsed values to check, ``values`` and
    ``record`` the record in stored and JSON form (all three are updated)."""
    problems: list[Problem] = []

    def put(key: str, value: Any) -> None:
        given[key] = values[key] = value
        record[key] = rows.field_json(store, key, value)

    for key, field_def, _, spec in _relations(store, "lookup"):
        source = str(spec.get("from"))
        target = stores.get(str(field_def.get("entity")))
        if key in data or source not in given or target is None or \
                not _changed(existing, store, source, given[source]):
            continue
        try:
            found = find_by(target, str(spec.get("field")), given[source])
        except FieldValueError:
            found = None
        if found is None:
            problems.append(Problem(f"{path}{source}", gettext(
                "linkage.error.lookup_not_found", entity=_entity_title(target),
                value=given[source]), "not_found"))
        else:
            put(key, found)
    filled: set[str] = set()
    pending = list(_relations(store, "fill"))
    while pending:
        waiting = []
        for key, field_def, _, spec in pending:
            if key in given and _changed(existing, store, key, given[key]):
                problems += _fill(stores, store, field_def, spec, given[key], data, put, path)
                filled.add(key)
            elif key not in filled:
                waiting.append((key, field_def, store, spec))
        if len(waiting) == len(pending):
            break
        pending = waiting
    return problems


def _fill(stores: Mapping[str, EntityStore], store: EntityStore,
          field_def: Mapping[str, Any], spec: Mapping[str, Any], related_id: Any,
          data: Mapping[str, Any], put: Any, path: str) -> list[Problem]:
    target = stores.get(str(field_def.get("entity")))
    if target is None or not isinstance(related_id, int):
        return []
    row = db.session.execute(sa.select(target.table).where(
        target.table.c.id == related_id, target.table.c.deleted == sa.false())
    ).mappings().first()
    if row is None:
        return []  # the relation check reports it
    problems: list[Problem] = []
    for mine, theirs in spec.items():
        if mine in data or mine not in store.columns or theirs not in target.columns:
            continue
        value = rows.field_json(target, theirs, row[target.columns[theirs].name])
        try:
            put(mine, field_type_registry.get(store.fields[mine]["type"]).parse(
                value, store.fields[mine]))
        except FieldValueError as exc:
            problems.append(Problem(f"{path}{mine}", exc.message(), "fill"))
    return problems
