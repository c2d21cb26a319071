"""Values and message texts computed from figures.

- ``value_of``: a value given as JsonLogic over the figures; objects that are not rules
  and lists are built item by item, constants stay as they are.
- ``render``: a message text: a string with ``{name}`` placeholders (``{subject_name}``,
  ``{achievement_pct}``), a language map of such strings, or a JsonLogic rule.
- ``number_text``: a figure as people read it (thousands separated, at most two decimals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from builder.i18n import LANGUAGES, localized
from builder.runtime.rules.evaluator import KNOWN_OPERATORS, evaluate, js_get, js_to_string

PLACEHOLDER = re.compile(r"\{([$A-Za-z_][A-Za-z0-9_.]*)\}")


def is_rule(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 \
        and next(iter(value)) in KNOWN_OPERATORS


def value_of(logic: Any, data: Mapping[str, Any]) -> Any:
    """``logic`` evaluated over ``data`` (see the module doc)."""
    if is_rule(logic):
        return evaluate(logic, data)
    if isinstance(logic, Mapping):
        return {k: value_of(v, data) for k, v in logic.items()}
    if isinstance(logic, list):
        return [value_of(item, data) for item in logic]
    return logic


def number_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return js_to_string(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def percent_text(share: Any) -> str:
    """``0.4`` → ``+40.0%``."""
    if share is None:
        return "-"
    return f"{share * 100:+.1f}%"


def _fill(template: str, data: Mapping[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        value: Any = data
        for part in match.group(1).split("."):
            value = js_get(value, part, None)
            if value is None:
                return ""
        return number_text(value) if isinstance(value, int | float) else js_to_string(value)

    return PLACEHOLDER.sub(fill, template)


def render(template: Any, data: Mapping[str, Any], language: str | None = None) -> str:
    """One text in ``language`` from ``template`` (see the module doc)."""
    if is_rule(template):
        return js_to_string(evaluate(template, data))
    if isinstance(template, Mapping):
        template = localized(dict(template), language)
    if not isinstance(template, str):
        return "" if template is None else js_to_string(template)
    return _fill(template, data)


def render_all(template: Any, data: Mapping[str, Any]) -> dict[str, str]:
    """``template`` rendered in every language, for each recipient to read theirs."""
    return {language: render(template, data, language) for language in LANGUAGES}
