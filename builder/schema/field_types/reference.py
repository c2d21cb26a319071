"""References: a user, a relation (many-to-one to another entity), a sub-table (owned children).

These types check the shape of a value here; that the referenced user or record exists in
the same tenant is checked by the records service, which can see the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.schema.field_types.base import (
    FieldType,
    FieldValueError,
    LintContext,
    field_type_registry,
)


def _as_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, bool):
        raise FieldValueError("field.error.not_an_id")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise FieldValueError("field.error.not_an_id") from None
    if number <= 0:
        raise FieldValueError("field.error.not_an_id")
    return number


def _lint_target(field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
    """The entity a relation or sub-table points at must be one of the app's."""
    target = field.get("entity")
    if not target:
        return [ctx.problem("entity", "schema.error.entity_required")]
    if target not in ctx.entity_keys:
        return [ctx.problem("entity", "schema.error.unknown_entity", entity=target)]
    return []


@field_type_registry.register
class UserType(FieldType):
    type = "user"
    kind = "id"
    indexed = True

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        return _as_id(value)


@field_type_registry.register
class RelationType(FieldType):
    """A record of another entity. ``lookup`` finds it from a field of this record (a
    scanned barcode), ``fill`` copies its fields here (``builder.runtime.records.linkage``)."""

    type = "relation"
    kind = "id"
    indexed = True
    properties = ("entity", "lookup", "fill")

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        return _as_id(value)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        problems = _lint_target(field, ctx)
        if problems:
            return problems
        return lint_linkage(field, ctx)


def _fields_of(ctx: LintContext, entity_key: Any) -> dict[str, Mapping[str, Any]]:
    for entity in ctx.app.get("entities") or []:
        if isinstance(entity, Mapping) and entity.get("key") == entity_key:
            return {f["key"]: f for f in entity.get("fields") or []
                    if isinstance(f, Mapping) and isinstance(f.get("key"), str)}
    return {}


def lint_linkage(field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
    """``lookup: {field, from}``: a unique field of the related entity and another field
    of this one; ``fill``: fields of this entity ← fields of the related one."""
    problems: list[Problem] = []
    own = _fields_of(ctx, ctx.entity.get("key"))
    related = _fields_of(ctx, field.get("entity"))
    lookup = field.get("lookup")
    if lookup is not None:
        if not isinstance(lookup, Mapping) or set(lookup) != {"field", "from"}:
            return [ctx.problem("lookup", "schema.error.lookup_shape")]
        target = related.get(str(lookup["field"]))
        if target is None or not target.get("unique"):
            problems.append(ctx.problem("lookup.field", "schema.error.lookup_not_unique",
                                        field=lookup["field"]))
        if lookup["from"] not in own or lookup["from"] == field.get("key"):
            problems.append(ctx.problem("lookup.from", "schema.error.unknown_field",
                                        field=lookup["from"], entity=ctx.entity.get("key")))
    fill = field.get("fill")
    if fill is not None:
        if not isinstance(fill, Mapping):
            return [*problems, ctx.problem("fill", "schema.error.not_object")]
        for mine, theirs in fill.items():
            target = own.get(mine)
            if target is None or mine == field.get("key") or \
                    target.get("type") in NOT_COPIED:
                problems.append(ctx.problem(f"fill.{mine}", "schema.error.unknown_field",
                                            field=mine, entity=ctx.entity.get("key")))
            if not isinstance(theirs, str) or theirs not in related:
                problems.append(ctx.problem(f"fill.{mine}", "schema.error.unknown_field",
                                            field=theirs, entity=field.get("entity")))
    return problems


@field_type_registry.register
class SubTableType(FieldType):
    """Child records of another entity, owned by this record (quote lines, a decision chain).

    The children live in their own entity's table with ``parent_id`` pointing here; the
    parent's API payload carries them as a list of objects.
    """

    type = "subtable"
    kind = "list"
    has_column = False
    properties = ("entity", "inherit")

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise FieldValueError("field.error.not_rows")
        return value

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        problems = _lint_target(field, ctx)
        if problems:
            return problems
        target = field["entity"]
        if target == ctx.entity.get("key"):
            return [ctx.problem("entity", "schema.error.subtable_cycle",
                                cycle=f"{target} → {target}")]
        return _lint_inherit(field, ctx)


#: types whose values are not stored fields a row can take from its record
NOT_COPIED = ("subtable", "formula", "autonumber")


def _lint_inherit(field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
    """``inherit``: fields of the rows ← stored fields of the record."""
    spec = field.get("inherit")
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        return [ctx.problem("inherit", "schema.error.not_object")]
    rows_fields = _fields_of(ctx, field.get("entity"))
    own = _fields_of(ctx, ctx.entity.get("key"))
    problems = []
    for mine, theirs in spec.items():
        row_field = rows_fields.get(mine)
        if row_field is None or row_field.get("type") in NOT_COPIED:
            problems.append(ctx.problem(f"inherit.{mine}", "schema.error.unknown_field",
                                        field=mine, entity=field.get("entity")))
        source = own.get(theirs) if isinstance(theirs, str) else None
        if source is None or source.get("type") in NOT_COPIED:
            problems.append(ctx.problem(f"inherit.{mine}", "schema.error.unknown_field",
                                        field=theirs, entity=ctx.entity.get("key")))
    return problems
