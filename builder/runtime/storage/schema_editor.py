"""The one module that changes tenant tables.

``apply(plan, app_id, definition)`` runs inside the caller's transaction: on PostgreSQL and
on SQLite (see ``builder.database``) DDL is transactional, so a failure anywhere leaves the
schema, the metadata and the data exactly as they were. Columns are never dropped here
except by ``purge``: hiding a field or changing its type keeps the old column and its data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from builder.errors import ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.storage import plan as p
from builder.runtime.storage.models import ACTIVE, HIDDEN, RETIRED, EntityTable, FieldColumn, utcnow
from builder.runtime.storage.tables import build_table, field_column, index_name, wants_index
from builder.runtime.storage.tenancy import table_location
from builder.schema.field_types import field_type_registry

APPLY_ORDER = [p.CREATE_TABLE, p.RESTORE_ENTITY, p.ADD_FIELD, p.RESTORE_FIELD, p.CHANGE_TYPE,
               p.UPDATE_FIELD, p.HIDE_FIELD, p.HIDE_ENTITY]


class _Editor:
    def __init__(self, tenant_id: int, app_id: int, definition: Mapping[str, Any]) -> None:
        self.tenant_id = tenant_id
        self.app_id = app_id
        self.conn = db.session.connection()
        self.dialect = self.conn.dialect.name
        self.ops = Operations(MigrationContext.configure(self.conn))
        self.entities = {e["key"]: e for e in definition.get("entities", [])}

    # -- helpers -----------------------------------------------------------------------
    def entity_table(self, key: str) -> EntityTable:
        return db.session.scalars(sa.select(EntityTable).where(
            EntityTable.app_id == self.app_id, EntityTable.entity_key == key)).one()

    def columns(self, table: EntityTable) -> list[FieldColumn]:
        return list(db.session.scalars(sa.select(FieldColumn).where(
            FieldColumn.entity_table_id == table.id).order_by(FieldColumn.id)))

    def sa_table(self, table: EntityTable) -> sa.Table:
        return build_table(self.tenant_id, table, self.columns(table), self.dialect)

    def location(self, table: EntityTable) -> tuple[str | None, str]:
        return table_location(self.tenant_id, table.local_name, self.dialect)

    def new_column(self, table: EntityTable, field_def: Mapping[str, Any]) -> FieldColumn:
        column = FieldColumn(entity_table_id=table.id, field_key=field_def["key"],
                             field_type=field_def["type"], field_def=dict(field_def),
                             state=ACTIVE)
        db.session.add(column)
        db.session.flush()
        return column

    def add_physical_column(self, table: EntityTable, column: FieldColumn) -> None:
        schema, name = self.location(table)
        self.ops.add_column(name, field_column(column), schema=schema)

    def create_index(self, table: EntityTable, column: FieldColumn) -> None:
        sa_table = self.sa_table(table)
        target = sa_table.c[column.column_name]
        name = index_name(sa_table.name, column.column_name)
        field_def = column.field_def
        if field_def["type"] == "autonumber":
            index = sa.Index(name, target, unique=True)
        elif field_def.get("unique"):
            live = sa_table.c.deleted == sa.false()
            index = sa.Index(name, target, unique=True, sqlite_where=live, postgresql_where=live)
        else:
            index = sa.Index(name, target)
        index.create(self.conn)

    def drop_index(self, table: EntityTable, column: FieldColumn) -> None:
        schema, name = self.location(table)
        index = index_name(name, column.column_name)
        qualified = f'"{schema}"."{index}"' if schema else f'"{index}"'
        self.conn.execute(sa.text(f"DROP INDEX IF EXISTS {qualified}"))

    def index_kind(self, field_def: Mapping[str, Any] | None) -> str | None:
        if not field_def or not wants_index(field_def):
            return None
        if field_def["type"] == "autonumber":
            return "unique"
        return "unique_live" if field_def.get("unique") else "plain"

    # -- steps -------------------------------------------------------------------------
    def create_table(self, step: p.Step) -> None:
        table = EntityTable(tenant_id=self.tenant_id, app_id=self.app_id,
                            entity_key=step.entity, state=ACTIVE)
        db.session.add(table)
        db.session.flush()
        created = [self.new_column(table, f) for f in p.column_fields(self.entities[step.entity])]
        self.sa_table(table).create(self.conn)
        for column in created:
            if self.index_kind(column.field_def):
                self.create_index(table, column)

    def restore_entity(self, step: p.Step) -> None:
        self.entity_table(step.entity).state = ACTIVE

    def add_field(self, step: p.Step) -> None:
        table = self.entity_table(step.entity)
        assert step.after is not None
        column = self.new_column(table, step.after)
        self.add_physical_column(table, column)
        if self.index_kind(column.field_def):
            self.create_index(table, column)

    def restore_field(self, step: p.Step) -> None:
        assert step.after is not None
        table = self.entity_table(step.entity)
        column = db.session.get(FieldColumn, step.column_id)
        assert column is not None
        if not field_type_registry.get(step.after["type"]).same_storage(column.field_def,
                                                                         step.after):
            column.state = ACTIVE  # converted below, then retired
            self.change_type(step)
            return
        column.state, column.field_def, column.changed_at = ACTIVE, dict(step.after), utcnow()
        if self.index_kind(column.field_def):
            self.create_index(table, column)

    def change_type(self, step: p.Step) -> None:
        assert step.after is not None
        table = self.entity_table(step.entity)
        source = db.session.get(FieldColumn, step.column_id)
        assert source is not None
        physical = self.columns(table)
        failures: list[int] = []
        converted: list[dict[str, Any]] = []
        for record_id, value, error in p.convert_rows(self.tenant_id, table, physical, source,
                                                      step.after):
            if error is not None:
                failures.append(record_id)
            elif value is not None:
                converted.append({"rid": record_id, "value": value})
        if failures:
            raise ValidationFailed(gettext("storage.error.publish_refused"), [
                p.Problem(f"entities.{step.entity}.fields.{step.field}.type",
                          gettext("storage.error.cannot_convert", count=len(failures),
                                  field=step.field, type=p.type_title(step.after, None),
                                  ids=", ".join(str(i) for i in failures[:p.MAX_LISTED_IDS])),
                          "cannot_convert")])
        if self.index_kind(source.field_def):
            self.drop_index(table, source)
        source.state, source.changed_at = RETIRED, utcnow()
        target = self.new_column(table, step.after)
        self.add_physical_column(table, target)
        sa_table = self.sa_table(table)
        if converted:
            statement = (sa.update(sa_table).where(sa_table.c.id == sa.bindparam("rid"))
                         .values({target.column_name: sa.bindparam("value")}))
            for start in range(0, len(converted), p.BATCH):
                self.conn.execute(statement, converted[start:start + p.BATCH])
        if self.index_kind(target.field_def):
            self.create_index(table, target)

    def update_field(self, step: p.Step) -> None:
        table = self.entity_table(step.entity)
        column = db.session.get(FieldColumn, step.column_id)
        assert column is not None and step.after is not None
        before, after = self.index_kind(column.field_def), self.index_kind(step.after)
        column.field_def, column.changed_at = dict(step.after), utcnow()
        if before != after:
            if before:
                self.drop_index(table, column)
            if after:
                self.create_index(table, column)

    def hide_field(self, step: p.Step) -> None:
        table = self.entity_table(step.entity)
        column = db.session.get(FieldColumn, step.column_id)
        assert column is not None
        if self.index_kind(column.field_def):
            self.drop_index(table, column)
        column.state, column.changed_at = HIDDEN, utcnow()

    def hide_entity(self, step: p.Step) -> None:
        self.entity_table(step.entity).state = HIDDEN


def apply(plan: p.Plan, app_id: int, definition: Mapping[str, Any]) -> None:
    """Carry out a plan in the current transaction; raise if anything cannot be done."""
    if plan.problems:
        raise ValidationFailed(gettext("storage.error.publish_refused"), plan.problems)
    editor = _Editor(plan.tenant_id, app_id, definition)
    steps = sorted(plan.steps, key=lambda s: APPLY_ORDER.index(s.action))
    for step in steps:
        getattr(editor, step.action)(step)
    db.session.flush()


def purge(tenant_id: int, app_id: int, entity_key: str, field_key: str | None = None) -> int:
    """Drop the columns of hidden or retired fields (all, or one field's); returns how many."""
    editor = _Editor(tenant_id, app_id, {})
    table = editor.entity_table(entity_key)
    schema, name = editor.location(table)
    qualified = f'"{schema}"."{name}"' if schema else f'"{name}"'
    dropped = 0
    for column in editor.columns(table):
        if column.state == ACTIVE or (field_key and column.field_key != field_key):
            continue
        editor.drop_index(table, column)
        editor.conn.execute(sa.text(
            f'ALTER TABLE {qualified} DROP COLUMN "{column.column_name}"'))
        db.session.delete(column)
        dropped += 1
    db.session.flush()
    return dropped


def drop_app(tenant_id: int, app_id: int) -> int:
    """Drop every table of an app with its storage metadata (a purged uninstall); returns
    how many tables were dropped. Runs in the caller's transaction like everything here."""
    editor = _Editor(tenant_id, app_id, {})
    tables = list(db.session.scalars(sa.select(EntityTable).where(EntityTable.app_id == app_id)))
    for table in tables:
        schema, name = editor.location(table)
        qualified = f'"{schema}"."{name}"' if schema else f'"{name}"'
        editor.conn.execute(sa.text(f"DROP TABLE IF EXISTS {qualified}"))
        db.session.execute(sa.delete(FieldColumn).where(FieldColumn.entity_table_id == table.id))
        db.session.delete(table)
    db.session.flush()
    return len(tables)
