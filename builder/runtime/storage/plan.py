"""Publish plans: what the database must do so the tables match a new definition.

A plan is computed from the storage metadata (what columns exist) and the new definition,
not from a diff of two documents, so it is right even after a failed publish or a rollback.
Type changes are dry-run over the stored data: values that cannot convert are listed with
their record ids, and a plan with such problems cannot be applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.storage.models import ACTIVE, HIDDEN, EntityTable, FieldColumn
from builder.runtime.storage.tables import build_table
from builder.schema.field_types import FieldValueError, field_type_registry

MAX_LISTED_IDS = 50
BATCH = 2000

# step actions, in the order they are applied
CREATE_TABLE = "create_table"
RESTORE_ENTITY = "restore_entity"
ADD_FIELD = "add_field"
RESTORE_FIELD = "restore_field"
CHANGE_TYPE = "change_type"
UPDATE_FIELD = "update_field"
HIDE_FIELD = "hide_field"
HIDE_ENTITY = "hide_entity"


@dataclass
class Step:
    action: str
    entity: str
    field: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    #: the physical column a restore or type change starts from
    column_id: int | None = None
    problems: list[Problem] = dataclass_field(default_factory=list)
    failed_ids: list[int] = dataclass_field(default_factory=list)
    failed_count: int = 0

    def describe(self, language: str | None = None) -> str:
        definition = self.after or self.before or {}
        params = {
            "entity": self.entity,
            "field": localized(definition.get("title"), language) or self.field or "",
            "before": type_title(self.before, language),
            "after": type_title(self.after, language),
            "count": self.failed_count,
        }
        text = gettext(f"storage.step.{self.action}", language, **params)
        if self.failed_count:
            text += gettext("storage.step.cannot_convert", language, **params)
        return text

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        return {
            "action": self.action, "entity": self.entity, "field": self.field,
            "description": self.describe(language),
            "before_type": (self.before or {}).get("type"),
            "after_type": (self.after or {}).get("type"),
            "failed_ids": self.failed_ids, "failed_count": self.failed_count,
        }


def type_title(field_def: Mapping[str, Any] | None, language: str | None) -> str:
    if not field_def:
        return ""
    return gettext(f"field.type.{field_def['type']}", language)


@dataclass
class Plan:
    tenant_id: int
    app_id: int | None
    steps: list[Step] = dataclass_field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for step in self.steps for p in step.problems]

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        return {
            "steps": [s.as_dict(language) for s in self.steps],
            "problems": [p.as_dict() for p in self.problems],
            "can_apply": not self.problems,
        }


def column_fields(entity: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for field_def in entity.get("fields", []):
        if field_type_registry.get(field_def["type"]).has_column:
            yield field_def


def _columns_of(table_id: int) -> list[FieldColumn]:
    return list(db.session.scalars(
        sa.select(FieldColumn).where(FieldColumn.entity_table_id == table_id)
        .order_by(FieldColumn.id)))


def make_plan(tenant_id: int, app_id: int | None, definition: Mapping[str, Any]) -> Plan:
    plan = Plan(tenant_id, app_id)
    tables: dict[str, EntityTable] = {}
    if app_id is not None:
        tables = {t.entity_key: t for t in db.session.scalars(
            sa.select(EntityTable).where(EntityTable.app_id == app_id))}
    wanted = {e["key"] for e in definition.get("entities", [])}
    for entity in definition.get("entities", []):
        table = tables.get(entity["key"])
        if table is None:
            plan.steps.append(Step(CREATE_TABLE, entity["key"], after={"title": entity.get("title"),
                                                                        "type": "entity"}))
            continue
        if table.state != ACTIVE:
            plan.steps.append(Step(RESTORE_ENTITY, entity["key"]))
        plan.steps.extend(_field_steps(tenant_id, table, entity))
    for key, table in tables.items():
        if key not in wanted and table.state == ACTIVE:
            plan.steps.append(Step(HIDE_ENTITY, key))
    return plan


def _field_steps(tenant_id: int, table: EntityTable, entity: Mapping[str, Any]) -> list[Step]:
    steps: list[Step] = []
    physical = _columns_of(table.id)
    active = {c.field_key: c for c in physical if c.state == ACTIVE}
    hidden: dict[str, FieldColumn] = {}
    for column in physical:
        if column.state == HIDDEN:
            hidden[column.field_key] = column  # the newest hidden column wins
    new_fields = {f["key"]: f for f in column_fields(entity)}
    for key, new in new_fields.items():
        current = active.get(key)
        if current is None:
            previous = hidden.get(key)
            if previous is None:
                steps.append(Step(ADD_FIELD, entity["key"], key, after=new))
                continue
            step = Step(RESTORE_FIELD, entity["key"], key, before=previous.field_def, after=new,
                        column_id=previous.id)
            if not _same_storage(previous.field_def, new):
                _dry_run(tenant_id, table, physical, previous, new, step)
            steps.append(step)
            continue
        if _same_storage(current.field_def, new):
            if current.field_def != new:
                step = Step(UPDATE_FIELD, entity["key"], key, before=current.field_def,
                            after=new, column_id=current.id)
                if new.get("unique") and not current.field_def.get("unique"):
                    _check_duplicates(tenant_id, table, physical, current, step)
                steps.append(step)
            continue
        step = Step(CHANGE_TYPE, entity["key"], key, before=current.field_def, after=new,
                    column_id=current.id)
        _dry_run(tenant_id, table, physical, current, new, step)
        steps.append(step)
    for key, current in active.items():
        if key not in new_fields:
            steps.append(Step(HIDE_FIELD, entity["key"], key, before=current.field_def,
                              column_id=current.id))
    return steps


def _same_storage(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return field_type_registry.get(new["type"]).same_storage(old, new)


def convert_rows(tenant_id: int, table: EntityTable, physical: list[FieldColumn],
                 source: FieldColumn, new: Mapping[str, Any]
                 ) -> Iterator[tuple[int, Any, FieldValueError | None]]:
    """Every stored value of ``source`` converted to ``new``'s type, record by record."""
    dialect = db.session.get_bind().dialect.name
    sa_table = build_table(tenant_id, table, physical, dialect)
    column = sa_table.c[source.column_name]
    target = field_type_registry.get(new["type"])
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(sa_table.c.id, column)
            .where(column.is_not(None), sa_table.c.id > last_id)
            .order_by(sa_table.c.id).limit(BATCH)).all()
        if not rows:
            return
        for record_id, value in rows:
            try:
                yield record_id, target.convert(value, source.field_def, new), None
            except FieldValueError as error:
                yield record_id, None, error
        last_id = rows[-1][0]


def _dry_run(tenant_id: int, table: EntityTable, physical: list[FieldColumn],
             source: FieldColumn, new: Mapping[str, Any], step: Step) -> None:
    for record_id, _value, error in convert_rows(tenant_id, table, physical, source, new):
        if error is None:
            continue
        step.failed_count += 1
        if len(step.failed_ids) < MAX_LISTED_IDS:
            step.failed_ids.append(record_id)
    if step.failed_count:
        step.problems.append(Problem(
            f"entities.{step.entity}.fields.{step.field}.type",
            gettext("storage.error.cannot_convert", count=step.failed_count,
                    field=localized(new.get("title")) or step.field,
                    type=type_title(new, None),
                    ids=", ".join(str(i) for i in step.failed_ids)),
            "cannot_convert"))


def _check_duplicates(tenant_id: int, table: EntityTable, physical: list[FieldColumn],
                      column: FieldColumn, step: Step) -> None:
    """A field made unique must not already hold the same value twice among live records."""
    dialect = db.session.get_bind().dialect.name
    sa_table = build_table(tenant_id, table, physical, dialect)
    target = sa_table.c[column.column_name]
    live = sa.and_(sa_table.c.deleted == sa.false(), target.is_not(None))
    dupes = sa.select(target).where(live).group_by(target).having(sa.func.count() > 1)
    rows = db.session.execute(
        sa.select(sa_table.c.id).where(live, target.in_(dupes)).order_by(sa_table.c.id)).all()
    if not rows:
        return
    step.failed_count = len(rows)
    step.failed_ids = [r[0] for r in rows[:MAX_LISTED_IDS]]
    step.problems.append(Problem(
        f"entities.{step.entity}.fields.{step.field}.unique",
        gettext("storage.error.duplicates", count=len(rows),
                field=localized((step.after or {}).get("title")) or step.field,
                ids=", ".join(str(i) for i in step.failed_ids)),
        "duplicates"))
