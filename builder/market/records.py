"""Records copied exactly: what an export writes (``data`` files) and an import reads back.

An exported record keeps its field values and its system values (``$meta``: created and
updated at and by, owner, version, deleted) so a copy lists, sorts and counts the same.
Relations become ``{"$ref": "entity:<source id>"}``, users ``{"$user": "username"}``,
files ``{"$file": "files/..."}`` with their bytes in the package, sub-table rows nest
inside their parent. Deleted records are copied too (they are in the recycle bin).

An import writes the rows directly, not through the records service: a copy is not a new
edit, so today's rules (a field made required later) must not refuse yesterday's records.
Each copied record gets one ``import`` row in the audit trail. Ids are kept when the
entity's table is still empty (a fresh app), so references stay exactly as they were;
otherwise records get new ids and every reference is mapped. Autonumber counters are
carried over so new codes continue after the copied ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.errors import Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.market.refs import (
    FILE,
    REF,
    FileCollector,
    FileLoader,
    UserMap,
    UserNames,
    child_entities,
    entity_order,
    is_marker,
)
from builder.runtime.records import audit, rows
from builder.runtime.storage.tables import EntityStore
from builder.runtime.storage.tenancy import system_tables
from builder.schema.field_types import FieldValueError, field_type_registry

KEY, META, COUNTERS = "$key", "$meta", "$counters"
IMPORT = "import"
BATCH = 1000
Progress = Callable[[str], None]
_datetime = field_type_registry.get("datetime")


# -- export -------------------------------------------------------------------------------


def dump_app(tenant_id: int, app_key: str, stores: Mapping[str, EntityStore],
             names: UserNames, files: FileCollector) -> dict[str, Any]:
    """Every record of an app (deleted ones too) as ``{entity: [records], "$counters"}``."""
    children = child_entities(stores)
    out: dict[str, Any] = {}
    for key, store in stores.items():
        if key in children:
            continue
        records: list[dict[str, Any]] = []
        for batch in _batches(store):
            records.extend(_dump_rows(store, stores, batch, names, files))
        out[key] = records
    counters = system_tables(tenant_id, db.session.get_bind().dialect.name)[1]
    out[COUNTERS] = dict(db.session.execute(
        sa.select(counters.c.name, counters.c.value)
        .where(counters.c.name.startswith(f"{app_key}.", autoescape=True))
        .order_by(counters.c.name)).all())
    return out


def _batches(store: EntityStore) -> Iterator[list[Any]]:
    table, last = store.table, 0
    while True:
        batch = list(db.session.execute(sa.select(table).where(table.c.id > last)
                                        .order_by(table.c.id).limit(BATCH)).mappings())
        if not batch:
            return
        yield batch
        last = batch[-1]["id"]


def _dump_rows(store: EntityStore, stores: Mapping[str, EntityStore],
               batch: list[Mapping[str, Any]], names: UserNames,
               files: FileCollector) -> list[dict[str, Any]]:
    subtables = rows.subtable_fields(store)
    grouped = {key: rows.fetch_children(stores[str(f["entity"])], [r["id"] for r in batch],
                                        include_deleted=True)
               for key, f in subtables.items() if str(f.get("entity")) in stores}
    records = []
    for row in batch:
        record: dict[str, Any] = {KEY: str(row["id"]), META: {
            "id": row["id"], "created_at": _datetime.to_json(row["created_at"], {}),
            "created_by": names.name(row["created_by"]),
            "updated_at": _datetime.to_json(row["updated_at"], {}),
            "updated_by": names.name(row["updated_by"]), "owner": names.name(row["owner"]),
            "version": row["version"], "deleted": bool(row["deleted"])}}
        for key, column in store.columns.items():
            record[key] = _dump_value(store.fields[key], rows.field_json(
                store, key, row.get(column.name)), names, files)
        for key, children in grouped.items():
            child = stores[str(subtables[key]["entity"])]
            record[key] = _dump_rows(child, stores, list(children.get(row["id"], [])),
                                     names, files)
        records.append(record)
    return records


def _dump_value(field: Mapping[str, Any], value: Any, names: UserNames,
                files: FileCollector) -> Any:
    kind = field.get("type")
    if value is None:
        return None
    if kind == "relation":
        return {REF: f"{field['entity']}:{value}"}
    if kind == "user":
        return names.ref(value)
    if kind in ("attachment", "image"):
        return [ref for ref in (files.add(desc) for desc in value) if ref is not None]
    return value


# -- import -------------------------------------------------------------------------------


class ExactLoader:
    """Writes the exported records of one app into the target tenant's tables."""

    def __init__(self, app_key: str, stores: Mapping[str, EntityStore], user_id: int | None,
                 users: UserMap, files: FileLoader) -> None:
        self.app = app_key
        self.stores = stores
        self.user_id = user_id
        self.users = users
        self.files = files
        self.children = child_entities(stores)
        self.problems: list[Problem] = []
        #: (entity, source key) → id in the target
        self.ids: dict[tuple[str, str], int] = {}
        #: (entity, target id, field, "entity:key") to fill in after every insert
        self.deferred: list[tuple[str, int, str, str]] = []
        self.keep_ids: dict[str, bool] = {}
        self.written: dict[str, list[int]] = {}
        self.now = datetime.now(UTC)

    def problem(self, place: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(place, gettext(key, **params), key.rsplit(".", 1)[-1]))

    def load(self, content: Mapping[str, Any], where: str,
             progress: Progress | None = None) -> dict[str, int]:
        """Copy ``{entity: [records], "$counters": {...}}``; returns how many per entity."""
        entities = [k for k in content if not k.startswith("$")]
        for entity in entities:
            if entity not in self.stores or entity in self.children:
                self.problem(f"{where}#{self.app}.{entity}", "market.error.unknown_entity",
                             entity=entity)
        self._raise()
        for key, store in self.stores.items():
            self.keep_ids[key] = db.session.execute(
                sa.select(store.table.c.id).limit(1)).first() is None
        self._plan_ids(content, entities)
        counts: dict[str, int] = {}
        for entity in entity_order(entities, self.stores):
            if progress is not None:
                progress(f"{self.app}.{entity}")
            records = content[entity]
            for index, record in enumerate(records):
                self._insert(self.stores[entity], record, None,
                             f"{where}#{self.app}.{entity}[{index}]")
            counts[entity] = len(records)
        self._raise()
        self._fill_deferred()
        self._finish(content.get(COUNTERS) or {})
        return {k: v for k, v in counts.items() if v}

    def _raise(self) -> None:
        if self.problems:
            raise ValidationFailed(gettext("market.error.invalid_data"), list(self.problems))

    def _plan_ids(self, content: Mapping[str, Any], entities: list[str]) -> None:
        """Ids known before inserting: the source ids, where tables were empty."""

        def plan(store: EntityStore, records: list[Any]) -> None:
            for record in records:
                meta = record.get(META) if isinstance(record, Mapping) else None
                source = meta.get("id") if isinstance(meta, Mapping) else None
                if self.keep_ids[store.key] and isinstance(source, int) and source > 0:
                    self.ids[(store.key, str(record.get(KEY)))] = source
                for key, field in rows.subtable_fields(store).items():
                    if isinstance(record.get(key), list):
                        plan(self.stores[str(field["entity"])], record[key])

        for entity in entities:
            plan(self.stores[entity], content[entity])

    def _insert(self, store: EntityStore, record: Any, parent_id: int | None,
                place: str) -> None:
        if not isinstance(record, Mapping):
            self.problem(place, "market.error.bad_data_shape")
            return
        given = record.get(META)
        meta: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        values = self._system(meta, place)
        later: list[tuple[str, str]] = []
        children: list[tuple[EntityStore, list[Any], str]] = []
        for key, value in record.items():
            if key in (KEY, META):
                continue
            field = store.fields.get(key)
            here = f"{place}.{key}"
            if field is None or (field["type"] != "subtable" and key not in store.columns):
                self.problem(here, "market.error.unknown_field", field=key)
                continue
            if field["type"] == "subtable":
                if isinstance(value, list):
                    children.append((self.stores[str(field["entity"])], value, here))
                continue
            stored = self._value(store, key, field, value, here, later)
            values[store.columns[key].name] = stored
        if self.problems:
            return
        source_key = str(record.get(KEY))
        planned = self.ids.get((store.key, source_key)) if self.keep_ids[store.key] else None
        if planned is not None:
            values["id"] = planned
        values["parent_id"] = parent_id
        table = store.table
        new_id = int(db.session.execute(sa.insert(table).values(**values)
                                        .returning(table.c.id)).scalar_one())
        self.ids[(store.key, source_key)] = new_id
        self.written.setdefault(store.key, []).append(new_id)
        self.deferred.extend((store.key, new_id, field, ref) for field, ref in later)
        for child, items, here in children:
            for index, item in enumerate(items):
                self._insert(child, item, new_id, f"{here}[{index}]")

    def _system(self, meta: Mapping[str, Any], place: str) -> dict[str, Any]:
        def moment(name: str) -> datetime:
            text = meta.get(name)
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00")) \
                    if isinstance(text, str) else None
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed or self.now

        owner = self.users.resolve(meta.get("owner"), f"{place}.$meta.owner")
        version = meta.get("version")
        return {
            "created_at": moment("created_at"), "updated_at": moment("updated_at"),
            "created_by": self.users.resolve(meta.get("created_by"),
                                             f"{place}.$meta.created_by"),
            "updated_by": self.users.resolve(meta.get("updated_by"),
                                             f"{place}.$meta.updated_by"),
            # a record always has an owner: the importing admin stands in for a lost one
            "owner": owner if owner is not None or meta.get("owner") is None
            else self.user_id,
            "version": version if isinstance(version, int) and version > 0 else 1,
            "deleted": bool(meta.get("deleted", False)),
        }

    def _value(self, store: EntityStore, key: str, field: Mapping[str, Any], value: Any,
               place: str, later: list[tuple[str, str]]) -> Any:
        kind = field["type"]
        if value is None:
            return None
        if kind == "relation":
            ref = value.get(REF) if is_marker(value, REF) else None
            if not isinstance(ref, str) or ":" not in ref:
                self.problem(place, "market.error.bad_ref", entity=field.get("entity"))
                return None
            entity, source = ref.split(":", 1)
            found = self.ids.get((entity, source))
            if found is None:
                later.append((key, ref))
            return found
        if kind == "user":
            return self.users.resolve(value, place)
        if kind in ("attachment", "image"):
            items = value if isinstance(value, list) else []
            return [self.files.load(item, f"{place}[{i}]") for i, item in enumerate(items)
                    if is_marker(item, FILE)] or None
        field_type = field_type_registry.get(kind)
        try:
            if kind == "autonumber":
                return str(value)
            return field_type.parse(value, field)
        except FieldValueError as exc:
            self.problems.append(Problem(place, exc.message(), exc.key.rsplit(".", 1)[-1]))
            return None

    def _fill_deferred(self) -> None:
        updates: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entity, record_id, field, ref in self.deferred:
            target_entity, source = ref.split(":", 1)
            target = self.ids.get((target_entity, source))
            if target is None:
                continue  # the record pointed at was not exported: the relation stays empty
            updates.setdefault((entity, field), []).append({"rid": record_id, "value": target})
        for (entity, field), batch in updates.items():
            store = self.stores[entity]
            table = store.table
            db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("rid"))
                               .values({store.columns[field].name: sa.bindparam("value")}),
                               batch)

    def _finish(self, counters: Mapping[str, Any]) -> None:
        """Audit rows, sequences after kept ids, and the autonumber counters."""
        dialect = db.session.get_bind().dialect.name
        for entity, ids in self.written.items():
            store = self.stores[entity]
            for start in range(0, len(ids), BATCH):
                chunk = ids[start:start + BATCH]
                stored = rows.read_records(store, {**self.stores}, chunk)
                for record_id in chunk:
                    audit.append(store, record_id, IMPORT, self.user_id, self.now, None,
                                 stored[record_id])
            if dialect == "postgresql" and self.keep_ids[entity]:
                schema, name = store.table.schema, store.table.name
                qualified = f'"{schema}"."{name}"'
                db.session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{qualified}', 'id'), "
                    f"(SELECT max(id) FROM {qualified}))"))
        table = system_tables(next(iter(self.stores.values())).tenant_id, dialect)[1]
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for name, value in counters.items():
            if not isinstance(value, int) or not str(name).startswith(f"{self.app}."):
                continue
            statement = insert(table).values(name=name, value=value)
            db.session.execute(statement.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": sa.func.max(table.c.value, statement.excluded.value)}
                if dialect == "sqlite" else
                {"value": sa.func.greatest(table.c.value, statement.excluded.value)}))
