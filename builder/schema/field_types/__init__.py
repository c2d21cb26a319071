"""The field-type registry. Adding a type is adding one class to one of these modules."""

from collections.abc import Mapping
from typing import Any

from builder.schema.field_types import (  # noqa: F401  (registration by import)
    choice,
    computed,
    files,
    number,
    reference,
    rollup,
    temporal,
    text,
)
from builder.schema.field_types.base import (
    FieldType,
    FieldValueError,
    LintContext,
    field_type_registry,
)


def kind_of(field: Mapping[str, Any]) -> str:
    """The JsonLogic/SQL value kind of a field definition."""
    field_type = field_type_registry.get(field["type"])
    if isinstance(field_type, computed.FormulaType):
        return field_type.kind_of(field)
    return field_type.kind


__all__ = ["FieldType", "FieldValueError", "LintContext", "field_type_registry", "kind_of"]
