"""Checks of the free-form parameters of triggers and actions, with localized problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext


def problem(path: str, key: str, **params: Any) -> Problem:
    return Problem(path, gettext(f"automation.error.{key}", **params), key)


def require(params: Mapping[str, Any], name: str, path: str, kind: type | tuple[type, ...],
            ) -> list[Problem]:
    """A problem when ``params[name]`` is missing or not of ``kind``."""
    value = params.get(name)
    if value is None:
        return [problem(f"{path}.{name}", "param_required", param=name)]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in (
            kind if isinstance(kind, tuple) else (kind,))):
        return [problem(f"{path}.{name}", "param_type", param=name)]
    return []


def positive_number(params: Mapping[str, Any], name: str, path: str,
                    required: bool = True) -> list[Problem]:
    value: Any = params.get(name)
    if value is None and not required:
        return []
    found = require(params, name, path, (int, float))
    if found:
        return found
    if value <= 0:
        return [problem(f"{path}.{name}", "param_positive", param=name)]
    return []


def one_of(value: Any, expected: Any) -> bool:
    """Whether ``value`` equals ``expected`` or, for a list, one of its items."""
    if isinstance(expected, list):
        return value in expected
    return bool(value == expected)
