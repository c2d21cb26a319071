"""Static checks of a JsonLogic rule, run when a definition is validated (nothing is evaluated).

Reports, each with the JSON path of the offending part: unknown operators, a wrong number of
arguments where an operator's arity is fixed, ``var``/``missing`` naming a field the entity
does not have (or a ``$count.…`` name that counts nothing of it), values that are not JSON,
objects that are neither a value nor an operation, and nesting deeper than
:data:`MAX_DEPTH` operations.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext
from builder.runtime.rules.evaluator import KNOWN_OPERATORS
from builder.schema.counts import COUNT_VAR
from builder.schema.related import FLOW_VAR, REL_VAR

MAX_DEPTH = 64

# operator -> (least, most) arguments; None: no upper bound. Operators not listed take any.
ARITY: dict[str, tuple[int, int | None]] = {
    "==": (2, 2),
    "!=": (2, 2),
    "===": (2, 2),
    "!==": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "<": (2, 3),
    "<=": (2, 3),
    "!": (1, 1),
    "!!": (1, 1),
    "%": (2, 2),
    "/": (2, 2),
    "-": (1, 2),
    "*": (1, None),
    "in": (2, 2),
    "substr": (2, 3),
    "var": (0, 2),
    "missing_some": (2, 2),
    "log": (1, 1),
    "and": (1, None),
    "or": (1, None),
    "map": (2, 2),
    "filter": (2, 2),
    "all": (2, 2),
    "some": (2, 2),
    "none": (2, 2),
    "reduce": (2, 3),
    "date_add": (3, 3),
    "date_diff": (3, 3),
    "date_of": (1, 2),
}

# Operators whose second argument is evaluated against each item instead of the record.
_SCOPED = frozenset({"map", "filter", "all", "some", "none", "reduce"})


def check_logic(logic: Any, path: str, known_vars: Collection[str] | None = None) -> list[Problem]:
    """Every problem in ``logic``; ``path`` is where the rule sits in the definition.

    ``known_vars`` are the field keys a ``var`` may name, plus the ``$count.…`` names the
    entity has (``builder.schema.counts``); other names starting with ``$`` are context
    values and always allowed. ``None`` skips that check.
    """
    checker = _Checker(known_vars)
    checker.visit(logic, path, 0, scoped=False)
    return checker.problems


class _Checker:
    def __init__(self, known_vars: Collection[str] | None) -> None:
        self.known = None if known_vars is None else frozenset(known_vars)
        self.problems: list[Problem] = []

    def report(self, path: str, code: str, **params: Any) -> None:
        self.problems.append(Problem(path, gettext(f"rules.{code}", **params), code))

    def visit(self, value: Any, path: str, depth: int, scoped: bool) -> None:
        if isinstance(value, dict):
            self.visit_object(value, path, depth, scoped)
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                self.report(path, "too_deep", limit=MAX_DEPTH)
                return
            for index, item in enumerate(value):
                self.visit(item, f"{path}[{index}]", depth + 1, scoped)
        elif isinstance(value, float) and not math.isfinite(value):
            self.report(path, "not_json", value=repr(value))
        elif value is not None and not isinstance(value, str | int | float | bool):
            self.report(path, "not_json", value=type(value).__name__)

    def visit_object(self, value: dict[Any, Any], path: str, depth: int, scoped: bool) -> None:
        if len(value) != 1:
            self.report(path, "invalid_object", count=len(value))
            return
        op, args = next(iter(value.items()))
        op_path = f"{path}.{op}" if path else str(op)
        if not isinstance(op, str):
            self.report(path, "not_json", value=repr(op))
            return
        if depth >= MAX_DEPTH:
            self.report(op_path, "too_deep", limit=MAX_DEPTH)
            return
        if op not in KNOWN_OPERATORS:
            self.report(op_path, "unknown_operator", operator=op)
        arguments = args if isinstance(args, list) else [args]
        arity = ARITY.get(op)
        if arity is not None:
            least, most = arity
            if len(arguments) < least or (most is not None and len(arguments) > most):
                expected = str(least) if least == most else f"{least}..{most if most else ''}"
                self.report(op_path, "arity", operator=op, expected=expected, count=len(arguments))
        if op in ("var", "missing", "missing_some") and not scoped:
            self.check_names(op, arguments, args, op_path)

        def arg_path(index: int) -> str:
            return f"{op_path}[{index}]" if isinstance(args, list) else op_path

        for index, argument in enumerate(arguments):
            inner_scoped = scoped or (op in _SCOPED and index == 1)
            self.visit(argument, arg_path(index), depth + 1, inner_scoped)

    def check_names(self, op: str, arguments: list[Any], raw: Any, op_path: str) -> None:
        if self.known is None:
            return
        top = "[{}]" if isinstance(raw, list) else ""
        names: list[tuple[Any, str]]
        if op == "var":
            names = [(arguments[0], top.format(0))] if arguments else []
        elif op == "missing" and arguments and isinstance(arguments[0], list):
            names = [(name, f"[0][{i}]") for i, name in enumerate(arguments[0])]
        elif op == "missing":
            names = [(name, top.format(i)) for i, name in enumerate(arguments)]
        else:
            keys = arguments[1] if len(arguments) > 1 else None
            listed = keys if isinstance(keys, list) else []
            names = [(name, f"[1][{i}]") for i, name in enumerate(listed)]
        for name, suffix in names:
            if isinstance(name, str) and not self.allowed(name):
                self.report(op_path + suffix, "unknown_field", field=name)

    def allowed(self, name: str) -> bool:
        assert self.known is not None
        checked = (COUNT_VAR, REL_VAR, FLOW_VAR)
        if name in checked or name.startswith(tuple(f"{n}." for n in checked)):
            return name in self.known
        if name == "" or name.startswith("$"):
            return True
        return name in self.known or name.split(".", 1)[0] in self.known
