"""marshmallow schemas of the app definition (``docs/app-definition.md``).

``AppSchema().load(data)`` checks the shape of every part and fills defaults; references
between parts (entity, field, stage, role, metric keys) are the linker's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from marshmallow import INCLUDE, ValidationError, fields, validates_schema

from builder.schema.common import (
    Between,
    Bool,
    FieldKey,
    FreeDict,
    Int,
    JsonLogic,
    Key,
    LanguageMap,
    ListOf,
    Message,
    Object,
    OneOf,
    Str,
    StrictSchema,
    invalid,
    keys,
    many,
)
from builder.schema.documents import PrintTemplateSchema
from builder.schema.effects import EffectSchema, ThresholdSchema
from builder.schema.field_types import field_type_registry
from builder.schema.intake import InboundWebhookSchema, PublicFormSchema
from builder.schema.processes import (
    ApprovalChainSchema,
    AssignmentRuleSchema,
    AutomationSchema,
    SlaPolicySchema,
    StageFlowSchema,
)
from builder.schema.reports import AlertSchema, ReportSchema

FORMAT = 1
VERSION = re.compile(r"\d+\.\d+\.\d+")
VIEW_TYPES = ("list", "kanban", "calendar", "gallery")
AGGREGATES = ("count", "distinct_count", "sum", "avg", "min", "max", "median", "ratio")
PERIODS = ("day", "week", "month", "quarter", "year")
PERMISSION_ACTIONS = ("create", "read", "update", "delete", "export", "import", "approve",
                      "configure", "print")
#: a permission's ``entity`` that stands for every entity of the app
ALL_ENTITIES = "*"
#: named row scopes a permission may use instead of a JsonLogic condition
SCOPE_PRESETS = ("all", "own", "team", "managed")
#: properties every field may carry, whatever its type
COMMON_FIELD_PROPERTIES = frozenset({
    "key", "type", "title", "description", "help", "required", "required_when",
    "visible_when", "readonly_when", "unique", "default", "min", "max", "min_length",
    "max_length", "pattern", "pattern_message", "index",
})


def _bound(value: Any) -> Any:
    """``min``/``max``: a number, or an ISO date/datetime for date types."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise invalid("bound")
    if isinstance(value, str):
        try:
            (date.fromisoformat if len(value) == 10 else datetime.fromisoformat)(value)
        except ValueError:
            raise invalid("bound") from None
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error:
        raise invalid("pattern") from None
    return value


def _default(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) != {"logic"}:
        raise invalid("default")
    return value


def _version(value: str) -> str:
    if not VERSION.fullmatch(value):
        raise invalid("version")
    return value


def _accept(value: Any) -> Any:
    if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise invalid("accept")


class OptionSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    color = Str()


class FieldSchema(StrictSchema):
    """Common properties, plus the properties the field's type declares (``properties``)."""

    class Meta:
        unknown = INCLUDE

    key = FieldKey(required=True)
    type = Str(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    help = LanguageMap()
    required = Bool(load_default=False)
    required_when = JsonLogic()
    visible_when = JsonLogic()
    readonly_when = JsonLogic()
    unique = Bool(load_default=False)
    default = fields.Raw(allow_none=True, validate=_default)
    min = fields.Raw(validate=_bound)
    max = fields.Raw(validate=_bound)
    min_length = Int(validate=Between(0))
    max_length = Int(validate=Between(1))
    pattern = Str(validate=_regex)
    pattern_message = LanguageMap()
    index = Bool(load_default=False)
    # properties of the built-in types (checked against the type below)
    precision = Int()
    currency = Str()
    options = ListOf(Object(OptionSchema))
    entity = Key()
    multiple = Bool()
    max_files = Int(validate=Between(1))
    accept = fields.Raw(validate=_accept)
    template = Str()
    expression = JsonLogic()
    result_type = Str()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _type_properties(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        if not isinstance(original, Mapping):
            return
        type_name = original.get("type")
        known = isinstance(type_name, str) and type_name in field_type_registry
        allowed = (set(field_type_registry.get(str(type_name)).properties) if known
                   else {p for t in field_type_registry for p in t.properties})
        errors: dict[str, Any] = {}
        for name in original:
            if name in COMMON_FIELD_PROPERTIES or name in allowed:
                continue
            if known and (name in self.fields or
                          any(name in t.properties for t in field_type_registry)):
                errors[name] = [Message("schema.error.property_not_for_type",
                                        property=name, type=type_name)]
            else:
                errors[name] = [Message("schema.error.unknown_property")]
        if errors:
            raise ValidationError(errors)


class ValidationSchema(StrictSchema):
    key = Key(required=True)
    rule = JsonLogic(required=True, allow_none=False)
    message = LanguageMap(required=True)
    fields = keys()  # type: ignore[assignment]


class SectionSchema(StrictSchema):
    key = Key()
    title = LanguageMap()
    columns = Int(load_default=1, validate=Between(1, 4))
    fields = keys(required=True)  # type: ignore[assignment]


class FormSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    sections = many(SectionSchema, required=True)
    public = Bool(load_default=False)


class SortSchema(StrictSchema):
    field = Key(required=True)
    desc = Bool(load_default=False)


class ViewSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    type = Str(load_default="list", validate=OneOf(*VIEW_TYPES))
    columns = keys()
    filter = JsonLogic()
    sort = many(SortSchema)
    group_by = Key()
    date_field = Key()


class EntitySchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    title_field = Key()
    fields = many(FieldSchema)  # type: ignore[assignment]
    validations = many(ValidationSchema)
    forms = many(FormSchema)
    views = many(ViewSchema)


class MetricSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    entity = Key()
    aggregate = Str(required=True, validate=OneOf(*AGGREGATES))
    field = Key()
    filter = JsonLogic()
    time_field = Key()
    period = Str(validate=OneOf(*PERIODS))
    numerator = Key()
    denominator = Key()
    #: aggregate the time since ``field`` (a date or datetime) instead of its value
    age = Str(validate=OneOf("hour", "day"))

    @validates_schema
    def _by_aggregate(self, data: dict[str, Any], **kwargs: Any) -> None:
        aggregate = data.get("aggregate")
        if aggregate == "ratio":
            needed = ["numerator", "denominator"]
        elif aggregate in ("count", None):
            needed = ["entity"]
        else:
            needed = ["entity", "field"]
        errors: dict[str, Any] = {name: [Message("schema.error.required")] for name in needed
                  if not data.get(name)}
        if errors:
            raise ValidationError(errors)


class LayoutSchema(StrictSchema):
    x = Int(required=True, validate=Between(0))
    y = Int(required=True, validate=Between(0))
    w = Int(required=True, validate=Between(1))
    h = Int(required=True, validate=Between(1))


class WidgetSchema(StrictSchema):
    key = Key(required=True)
    type = Key(required=True)
    title = LanguageMap()
    metrics = keys()
    group_by = Key()
    options = FreeDict(keys=fields.String())
    layout = Object(LayoutSchema)


class DashboardSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    widgets = many(WidgetSchema)


class FieldAccessSchema(StrictSchema):
    hidden = keys()
    readonly = keys()


class PermissionEntity(Key):
    """An entity key, or ``*`` for every entity of the app."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if value == ALL_ENTITIES:
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class Scope(JsonLogic):
    """Which records a permission reaches: a preset name (``own``, ``team``...) or a
    JsonLogic condition over the record and ``$user``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and value not in SCOPE_PRESETS:
            raise ValidationError([Message("schema.error.one_of", value=value,
                                           choices=", ".join(SCOPE_PRESETS))])
        if value is not None and not isinstance(value, str | bool | Mapping):
            raise ValidationError([Message("access.schema.scope")])
        return value


class PermissionSchema(StrictSchema):
    entity = PermissionEntity(required=True)
    actions = ListOf(Str(validate=OneOf(*PERMISSION_ACTIONS)), load_default=list)
    scope = Scope()
    fields = Object(FieldAccessSchema)  # type: ignore[assignment]


class RoleSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    permissions = many(PermissionSchema)


class AppSchema(StrictSchema):
    format = Int(required=True, validate=OneOf(FORMAT))
    key = Key(required=True)
    version = Str(load_default="1.0.0", validate=_version)
    title = LanguageMap(required=True)
    description = LanguageMap()
    entities = many(EntitySchema)
    stage_flows = many(StageFlowSchema)
    approval_chains = many(ApprovalChainSchema)
    automations = many(AutomationSchema)
    assignment_rules = many(AssignmentRuleSchema)
    sla_policies = many(SlaPolicySchema)
    metrics = many(MetricSchema)
    dashboards = many(DashboardSchema)
    roles = many(RoleSchema)
    print_templates = many(PrintTemplateSchema)
    effects = many(EffectSchema)
    thresholds = many(ThresholdSchema)
    public_forms = many(PublicFormSchema)
    inbound_webhooks = many(InboundWebhookSchema)
    alerts = many(AlertSchema)
    reports = many(ReportSchema)


__all__ = [
    "AppSchema", "DashboardSchema", "EntitySchema", "FieldSchema", "FormSchema",
    "MetricSchema", "RoleSchema", "ValidationSchema", "ViewSchema",
]
