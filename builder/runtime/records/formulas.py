"""Values the platform fills in: defaults on create and formulas on every save.

Both are JsonLogic evaluated by ``builder.runtime.rules.evaluator`` over the record as
JSON (the shape the API shows) merged with the context values ``$user``, ``$now`` and
``$old``. A formula sees the fields computed before it in definition order, so formulas
may build on each other; one that fails to evaluate, or whose result its type cannot
hold, stores null rather than blocking the save.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, MutableMapping
from typing import Any

from builder.runtime.rules.evaluator import RuleError, evaluate
from builder.schema.field_types import FieldValueError, field_type_registry

log = logging.getLogger(__name__)


def rule_data(record: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """What a rule sees: the record's fields plus ``$``-named context values."""
    data = dict(record)
    data.update(context)
    return data


def default_value(field: Mapping[str, Any], data: Mapping[str, Any]) -> Any:
    """The field's default as a stored value; ``{"logic": ...}`` is evaluated over ``data``.

    Raises ``FieldValueError`` when the default does not fit the field and ``RuleError``
    when its logic cannot be evaluated.
    """
    default = field.get("default")
    if isinstance(default, Mapping) and "logic" in default:
        default = evaluate(default["logic"], data)
    field_type = field_type_registry.get(field["type"])
    return field_type.parse(default, field)


def _finite(value: Any) -> bool:
    return not (isinstance(value, float) and not math.isfinite(value))


def compute_formulas(fields: Mapping[str, Mapping[str, Any]], values: MutableMapping[str, Any],
                     record: MutableMapping[str, Any], context: Mapping[str, Any]) -> None:
    """Compute every formula field in definition order into ``values`` (stored form) and
    ``record`` (JSON form)."""
    for key, field in fields.items():
        if field.get("type") != "formula":
            continue
        field_type = field_type_registry.get("formula")
        stored: Any = None
        try:
            result = evaluate(field.get("expression"), rule_data(record, context))
            if _finite(result) and not isinstance(result, (dict, list)):
                stored = field_type.parse(result, field)
        except (RuleError, FieldValueError) as exc:
            log.info("formula %s left empty: %s", key, exc)
            stored = None
        values[key] = stored
        record[key] = field_type.to_json(stored, field)
