"""``validate_definition``: the one entry point that checks an app definition."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext
from builder.schema.common import problems_from_errors
from builder.schema.definition import AppSchema
from builder.schema.linker import link, problem


def check_definition(data: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The normalized definition (``None`` if the schema rejects it) and every problem.

    The linker runs even when the schema finds errors, on the input as given, so that one
    answer lists everything: shapes, unknown types, duplicate keys and broken references.
    """
    if not isinstance(data, dict):
        return None, [problem("$", "not_object")]
    loaded: dict[str, Any] | None
    try:
        loaded = AppSchema().load(data)
        problems: list[Problem] = []
    except ValidationError as error:
        loaded = None
        problems = problems_from_errors(error.messages)
    problems += link(loaded if loaded is not None else data)
    unique: dict[tuple[str, str], Problem] = {}
    for item in problems:
        unique.setdefault((item.path, item.message), item)
    return loaded, list(unique.values())


def validate_definition(data: Any) -> dict[str, Any]:
    """Check a whole app definition; return it normalized (defaults filled, plain JSON).

    Raises ``ValidationFailed`` listing every problem with its JSON path.
    """
    loaded, problems = check_definition(data)
    if problems or loaded is None:
        raise ValidationFailed(gettext("schema.error.invalid_definition"), problems)
    return loaded
