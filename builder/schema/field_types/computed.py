"""Values the platform computes: autonumber codes and formulas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.schema.field_types.base import (
    FieldType,
    LintContext,
    field_type_registry,
)

TOKEN = re.compile(r"\{(YYYY|YY|MM|DD|seq(?::(\d+))?)\}")


def render_code(template: str, moment: datetime, seq: int) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("seq"):
            width = int(match.group(2) or 1)
            return str(seq).zfill(width)
        return {"YYYY": f"{moment.year:04d}", "YY": f"{moment.year % 100:02d}",
                "MM": f"{moment.month:02d}", "DD": f"{moment.day:02d}"}[token]

    return TOKEN.sub(replace, template)


def code_period(template: str, moment: datetime) -> str:
    """The counter bucket: sequences restart when the date part of the template changes."""
    parts = [t for t, _ in TOKEN.findall(template) if not t.startswith("seq")]
    if not parts:
        return "all"
    return render_code("-".join("{" + p + "}" for p in parts), moment, 0)


@field_type_registry.register
class AutonumberType(FieldType):
    """A code such as ``KH-{YYYY}-{seq:5}`` → ``KH-2026-00001``, unique per tenant."""

    type = "autonumber"
    computed = True
    indexed = True
    searchable = True
    properties = ("template",)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        template = field.get("template")
        if not isinstance(template, str) or "{seq" not in template:
            return [ctx.problem("template", "schema.error.autonumber_template")]
        leftovers = TOKEN.sub("", template)
        if "{" in leftovers or "}" in leftovers:
            return [ctx.problem("template", "schema.error.autonumber_template")]
        return []


RESULT_TYPES = {"number": "number", "text": "text", "boolean": "boolean", "date": "date"}


@field_type_registry.register
class FormulaType(FieldType):
    """JsonLogic over the same record, computed on every save and stored for queries."""

    type = "formula"
    computed = True
    properties: tuple[str, ...] = ("expression", "result_type", "precision")

    def result(self, field: Mapping[str, Any]) -> FieldType:
        return field_type_registry.get(RESULT_TYPES.get(field.get("result_type", "number"),
                                                        "number"))

    def kind_of(self, field: Mapping[str, Any]) -> str:
        return self.result(field).kind

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return self.result(field).column_type(field)

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        return self.result(field).parse(value, field)

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        return self.result(field).to_json(value, field)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        problems: list[Problem] = []
        if field.get("result_type", "number") not in RESULT_TYPES:
            problems.append(ctx.problem("result_type", "schema.error.result_type",
                                        value=field.get("result_type")))
        if "expression" not in field:
            problems.append(ctx.problem("expression", "schema.error.expression_required"))
        return problems
