"""The field-type contract: one class per type, registered in ``field_type_registry``.

A field type knows how its values are stored (SQL column type), parsed from API input,
written back as JSON, converted from another type's stored value when a manager changes
the type, compared in rules (its JsonLogic value kind), and which definition properties it
needs (checked by the linker through ``lint``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.i18n import gettext
from builder.registry import Registrable, Registry


class FieldValueError(ValueError):
    """A value that this field cannot hold; ``key``/``params`` name the i18n message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str | None = None) -> str:
        return gettext(self.key, language, **self.params)


@dataclass
class LintContext:
    """What a field type may look at when checking its own definition."""

    app: Mapping[str, Any]
    entity: Mapping[str, Any]
    path: str
    entity_keys: set[str] = field(default_factory=set)

    def problem(self, suffix: str, key: str, **params: Any) -> Problem:
        return Problem(f"{self.path}.{suffix}" if suffix else self.path, gettext(key, **params),
                       key.rsplit(".", 1)[-1])


class FieldType(Registrable):
    """Base class; subclasses set ``type`` and override what differs."""

    type = ""
    #: JsonLogic/SQL value kind: number, text, boolean, date, datetime, list, id, json
    kind = "text"
    #: False for types that own no column (sub-tables live in the child entity's table)
    has_column = True
    #: an index is created for the column (relations, selects, users, dates)
    indexed = False
    #: text search looks into this column
    searchable = False
    #: values are computed by the platform, never taken from input
    computed = False
    #: definition properties this type understands beyond the common ones
    properties: tuple[str, ...] = ()

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        """API input → stored value; ``None`` means empty. Raise ``FieldValueError``."""
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            raise FieldValueError("field.error.not_text")
        return str(value)

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        """Stored value → JSON for API output and rule evaluation."""
        return value

    def from_cell(self, value: Any, field: Mapping[str, Any]) -> Any:
        """A spreadsheet cell (str, int, float, bool, datetime) → input for ``parse``.

        Spreadsheets store whole numbers as floats (a phone number ``13800138000.0``), so
        those become ints; text is stripped."""
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            return value.strip()
        return value

    def convert(self, value: Any, from_field: Mapping[str, Any], field: Mapping[str, Any]) -> Any:
        """A value stored under another type → this type; raise ``FieldValueError`` if it can't."""
        if value is None:
            return None
        json_value = field_type_registry.get(from_field["type"]).to_json(value, from_field)
        if isinstance(json_value, list):
            json_value = ",".join(str(v) for v in json_value)
        return self.parse(json_value, field)

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or value == []

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        return []

    def same_storage(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Whether a change from ``old`` to ``new`` keeps the column as it is."""
        return bool(old["type"] == new["type"] and
                    repr(self.column_type(old)) == repr(self.column_type(new)))


field_type_registry: Registry[FieldType] = Registry("field type")
