"""Rollups: a number or date summarising the records of another entity that match a record.

``{"key": "signed_amount", "type": "rollup", "entity": "contract", "aggregate": "sum",
"field": "amount", "match": {"owner": "rep"}, "filter": {"and": [{">=": [{"var":
"signed_date"}, {"var": "$this.start"}]}, {"==": [{"var": "status"}, "signed"]}]}}`` sums
the amounts of the signed contracts owned by the record's ``rep`` since its ``start``. The
value is stored like a formula's and kept current by the platform
(``builder.runtime.records.rollups``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.schema.common import SYSTEM_VARS
from builder.schema.field_types.base import FieldType, LintContext, field_type_registry
from builder.schema.field_types.computed import FormulaType

AGGREGATES = ("count", "sum", "avg", "min", "max")
RESULT_TYPES = ("number", "date", "datetime")
#: when holders are recomputed: after every change of a source record (``changes``), or
#: only when the holder itself is saved or refreshed (``save``: snapshots such as a daily
#: report, or summaries over whole tables that would otherwise be recomputed too often)
REFRESH = ("changes", "save")
#: system fields a match may name on either side
MATCH_SYSTEM = ("id", "owner", "created_by", "updated_by")
_NUMERIC_TYPES = ("number", "money", "percent", "formula", "rollup")


def entity_fields(app: Mapping[str, Any], key: Any) -> dict[str, Mapping[str, Any]] | None:
    for entity in app.get("entities") or []:
        if isinstance(entity, Mapping) and entity.get("key") == key:
            return {str(f.get("key")): f for f in entity.get("fields") or []
                    if isinstance(f, Mapping)}
    return None


@field_type_registry.register
class RollupType(FormulaType):
    """Count, sum, average, minimum or maximum over the matching records of ``entity``."""

    type = "rollup"
    computed = True
    properties = ("entity", "aggregate", "field", "match", "filter", "result_type", "precision",
                  "refresh")

    def result(self, field: Mapping[str, Any]) -> FieldType:
        result_type = field.get("result_type", "number")
        return field_type_registry.get(result_type if result_type in RESULT_TYPES else "number")

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        from builder.schema.logic import check_logic

        problems: list[Problem] = []
        if field.get("result_type", "number") not in RESULT_TYPES:
            problems.append(ctx.problem("result_type", "schema.error.result_type",
                                        value=field.get("result_type")))
        if field.get("refresh", "changes") not in REFRESH:
            problems.append(ctx.problem("refresh", "schema.error.rollup_refresh",
                                        value=field.get("refresh"), allowed=", ".join(REFRESH)))
        source = entity_fields(ctx.app, field.get("entity"))
        if source is None:
            return [*problems, ctx.problem("entity", "schema.error.unknown_entity",
                                           entity=field.get("entity"))]
        aggregate = field.get("aggregate", "count")
        if aggregate not in AGGREGATES:
            problems.append(ctx.problem("aggregate", "schema.error.rollup_aggregate",
                                        value=aggregate, allowed=", ".join(AGGREGATES)))
        elif aggregate != "count":
            target = source.get(str(field.get("field")))
            wanted = ("date", "datetime") if field.get("result_type") in ("date", "datetime") \
                else _NUMERIC_TYPES
            if target is None or target.get("type") not in wanted:
                problems.append(ctx.problem("field", "schema.error.rollup_field",
                                            field=field.get("field")))
        match = field.get("match", {})
        own = {str(f.get("key")) for f in ctx.entity.get("fields") or []
               if isinstance(f, Mapping)}
        if not isinstance(match, Mapping):
            problems.append(ctx.problem("match", "schema.error.rollup_match", field=match))
        else:
            for theirs, ours in match.items():
                if theirs not in source and theirs not in MATCH_SYSTEM:
                    problems.append(ctx.problem(f"match.{theirs}", "schema.error.rollup_match",
                                                field=theirs))
                if not isinstance(ours, str) or (ours not in own and ours not in MATCH_SYSTEM):
                    problems.append(ctx.problem(f"match.{theirs}", "schema.error.rollup_match",
                                                field=ours))
        if field.get("filter") is not None:
            problems += check_logic(field["filter"], f"{ctx.path}.filter",
                                    set(source) | set(SYSTEM_VARS))
        return problems
