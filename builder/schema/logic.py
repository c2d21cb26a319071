"""JsonLogic properties of a definition, checked with the rules package's ``check_logic``.

Until ``builder.runtime.rules.check`` is importable a basic check stands in: the value is
JSON, every operator object has one key naming a known operator, and every ``var`` names a
known variable (``$``-names are context values and always allowed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext

CHECK_MODULE = "builder.runtime.rules.check"
OPERATORS = frozenset({
    "var", "missing", "missing_some", "if", "?:", "==", "===", "!=", "!==", "!", "!!", "or",
    "and", ">", ">=", "<", "<=", "max", "min", "+", "-", "*", "/", "%", "map", "reduce",
    "filter", "all", "none", "some", "merge", "in", "cat", "substr", "log",
    "date_add", "date_diff", "date_of",
})
#: operators whose later arguments read the current item, not the record
_SCOPED = frozenset({"map", "reduce", "filter", "all", "none", "some"})

Checker = Callable[..., list[Problem]]


def _checker() -> Checker:
    try:
        module = importlib.import_module(CHECK_MODULE)
    except ModuleNotFoundError as error:
        if error.name and CHECK_MODULE.startswith(error.name):
            return basic_check
        raise
    checker: Checker = module.check_logic
    return checker


def check_logic(logic: Any, path: str, known_vars: Collection[str] | None = None,
                ) -> list[Problem]:
    """Problems of one JsonLogic value found at ``path``."""
    return _checker()(logic, path, known_vars)


def _problem(path: str, code: str, **params: Any) -> Problem:
    return Problem(path, gettext(f"schema.error.{code}", **params), code)


def basic_check(logic: Any, path: str, known_vars: Collection[str] | None = None,
                ) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(logic, list):
        for index, item in enumerate(logic):
            problems += basic_check(item, f"{path}[{index}]", known_vars)
        return problems
    if not isinstance(logic, Mapping):
        if logic is None or isinstance(logic, (str, int, float, bool)):
            return problems
        return [_problem(path, "logic_value")]
    if len(logic) != 1:
        return [_problem(path, "logic_shape")]
    operator, args = next(iter(logic.items()))
    if operator not in OPERATORS:
        return [_problem(path, "logic_operator", operator=operator)]
    if operator == "var":
        name = args[0] if isinstance(args, list) and args else args
        if known_vars is not None and isinstance(name, str) and name:
            head = name.split(".", 1)[0]
            if not head.startswith("$") and not head.isdigit() and head not in known_vars:
                problems.append(_problem(path, "logic_var", name=name))
        return problems
    arguments = args if isinstance(args, list) else [args]
    for index, item in enumerate(arguments):
        scope = None if operator in _SCOPED and index > 0 else known_vars
        problems += basic_check(item, f"{path}.{operator}[{index}]", scope)
    return problems
