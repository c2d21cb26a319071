"""HTTP for the field-type registry: what the designer's palette offers.

Each entry carries its titles in every language (the browser switches language without
asking again), its JsonLogic value kind (which operators the condition builder offers) and
the definition properties it understands beyond the common ones.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.i18n import LANGUAGES, gettext
from builder.platform.auth import login_required_api
from builder.schema.definition import COMMON_FIELD_PROPERTIES
from builder.schema.field_types import field_type_registry

blp = Blueprint("field_types", __name__, url_prefix="/api/field-types",
                description="The field types a definition may use")


class FieldTypeSchema(Schema):
    type = fields.String()
    title = fields.Dict(metadata={"description": "Language → title"})
    kind = fields.String(metadata={"description": "JsonLogic value kind: number, text, "
                                                  "boolean, date, datetime, list, id"})
    properties = fields.List(fields.String(),
                             metadata={"description": "Properties of this type only"})
    computed = fields.Boolean(metadata={"description": "Values come from the platform"})
    has_column = fields.Boolean()


class FieldTypeListSchema(Schema):
    items = fields.List(fields.Nested(FieldTypeSchema))
    common_properties = fields.List(fields.String())


def describe_field_types() -> dict[str, Any]:
    """Every registered field type, in registration order, with titles in all languages."""
    items = [{
        "type": field_type.type,
        "title": {language: gettext(f"field.type.{field_type.type}", language)
                  for language in LANGUAGES},
        "kind": field_type.kind,
        "properties": list(field_type.properties),
        "computed": field_type.computed,
        "has_column": field_type.has_column,
    } for field_type in field_type_registry]
    return {"items": items, "common_properties": sorted(COMMON_FIELD_PROPERTIES)}


@blp.route("", methods=["GET"])
@login_required_api
@blp.response(200, FieldTypeListSchema)
def list_field_types() -> Any:
    """The field types of the registry: titles, value kind and own properties."""
    return describe_field_types()
