"""Schemas of the effect parts of an app: ``effects[]`` and ``thresholds[]``.

- An effect: a record of ``entity`` (or a sub-table row of that entity) adds ``delta`` to
  the number ``field`` of a target record, found through a relation field of the source
  (``target.relation``) or by matching target fields (``target.entity`` + ``match``),
  within ``min``/``max`` unless the ``override`` flag is set.
- A threshold: ``field`` of ``entity`` falling ``below`` a limit sets ``flag`` and creates
  an ``alert`` record, once per crossing.

References (entities, fields, relations, flags) are checked by ``linker_effects``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from builder.schema.common import (
    FreeDict,
    JsonLogic,
    Key,
    LanguageMap,
    Message,
    Object,
    OneOf,
    Str,
    StrictSchema,
    invalid,
)

IF_MISSING = ("refuse", "skip")
#: ``flag`` or ``relation.flag``
OVERRIDE = re.compile(r"[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})?")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _bound(value: Any) -> Any:
    """A number, or the key of a number field of the target."""
    if _number(value):
        return value
    if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,62}", value):
        return value
    raise invalid("effect_bound")


def _override(value: str) -> str:
    if not OVERRIDE.fullmatch(value):
        raise invalid("effect_override", value=value)
    return value


def _limit(value: Any) -> Any:
    """A number, or JsonLogic over the record."""
    if _number(value) or isinstance(value, Mapping):
        return value
    raise invalid("threshold_below")


class TargetSchema(StrictSchema):
    #: a relation field of the source pointing at the target
    relation = Key()
    #: the target entity, with ``match``
    entity = Key()
    #: target field → JsonLogic over the source (``$parent`` for a sub-table row's record)
    match = FreeDict(keys=Key(), values=JsonLogic(allow_none=False))

    @validates_schema
    def _one_way(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("relation"):
            if data.get("entity") or data.get("match"):
                raise ValidationError([Message("schema.error.effect_target")])
            return
        errors = {name: [Message("schema.error.required")]
                  for name in ("entity", "match") if not data.get(name)}
        if errors:
            raise ValidationError(errors)


class EffectSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    #: the source entity: its records, or its rows when it is a sub-table entity
    entity = Key(required=True)
    #: JsonLogic: whether the source counts (a cancelled order gives everything back)
    when = JsonLogic()
    target = Object(TargetSchema, required=True)
    #: the target's number field
    field = Key(required=True)
    #: JsonLogic over the source: what is added to the field (negative lowers it)
    delta = JsonLogic(required=True, allow_none=False)
    min = fields.Raw(validate=_bound)
    max = fields.Raw(validate=_bound)
    #: a boolean field of the target (or ``relation.field``) lifting the bounds when true
    override = Str(validate=_override)
    #: a target that cannot be found: refuse the write, or skip the effect
    if_missing = Str(load_default="refuse", validate=OneOf(*IF_MISSING))
    #: the source field a refusal names (default: the first field ``delta`` reads)
    source_field = Key()
    #: replaces the generated refusal; ``{available}``, ``{needed}``, ``{limit}``
    message = LanguageMap()


class AlertSchema(StrictSchema):
    entity = Key(required=True)
    #: field of the alert → JsonLogic over the record crossing the threshold
    set = FreeDict(keys=Key(), values=JsonLogic(), load_default=dict)


class ThresholdSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    entity = Key(required=True)
    field = Key(required=True)
    below = fields.Raw(required=True, validate=_limit)
    #: a boolean field set while the record is below the threshold
    flag = Key()
    alert = Object(AlertSchema)


__all__ = ["EffectSchema", "ThresholdSchema"]
