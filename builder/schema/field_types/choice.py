"""Boolean, single select and multi select. Options are stored by key, shown by title."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.i18n import localized
from builder.schema.field_types.base import (
    FieldType,
    FieldValueError,
    LintContext,
    field_type_registry,
)

TRUE_WORDS = {"true", "1", "yes", "y", "是", "对", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "不", "off"}


@field_type_registry.register
class BooleanType(FieldType):
    type = "boolean"
    kind = "boolean"

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise FieldValueError("field.error.not_boolean")

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        return None if value is None else bool(value)


def option_keys(field: Mapping[str, Any]) -> list[str]:
    return [o["key"] for o in field.get("options") or [] if isinstance(o, Mapping) and "key" in o]


def match_option(field: Mapping[str, Any], value: Any) -> str:
    """An option key from its key or from its title in any language."""
    text = str(value).strip()
    options = [o for o in field.get("options") or [] if isinstance(o, Mapping)]
    for option in options:
        if option.get("key") == text:
            return text
    for option in options:
        titles = option.get("title") or {}
        names = titles.values() if isinstance(titles, Mapping) else [titles]
        if text in (str(n) for n in names):
            return str(option["key"])
    raise FieldValueError("field.error.not_an_option", value=text,
                          options=", ".join(localized(o.get("title")) or o["key"] for o in options))


def _lint_options(field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
    options = field.get("options")
    if not options:
        return [ctx.problem("options", "schema.error.options_required")]
    return []


@field_type_registry.register
class SelectType(FieldType):
    type = "select"
    indexed = True
    properties = ("options",)

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list, bool)):
            raise FieldValueError("field.error.not_an_option", value=str(value),
                                  options=", ".join(option_keys(field)))
        return match_option(field, value)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        return _lint_options(field, ctx)


@field_type_registry.register
class MultiSelectType(FieldType):
    """A JSON array of option keys, in the order of the options."""

    type = "multi_select"
    kind = "list"
    properties = ("options",)

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "" or value == []:
            return None
        if isinstance(value, str):
            value = [v for v in value.replace("，", ",").split(",") if v.strip()]
        if not isinstance(value, list):
            raise FieldValueError("field.error.not_a_list")
        chosen = {match_option(field, v) for v in value}
        return [key for key in option_keys(field) if key in chosen]

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        return value if value else []

    def from_cell(self, value: Any, field: Mapping[str, Any]) -> Any:
        """Options in one cell, separated by commas, 、 or semicolons."""
        if isinstance(value, str):
            return [v.strip() for v in re.split(r"[,，、;；]", value) if v.strip()]
        return super().from_cell(value, field)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        return _lint_options(field, ctx)
