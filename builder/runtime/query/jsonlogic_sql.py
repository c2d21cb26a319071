"""JsonLogic -> SQLAlchemy Core, for the operators the designer emits.

The SQL condition selects exactly the rows for which :func:`builder.runtime.rules.evaluate`
(and so json-logic-js) is truthy. Every predicate built here is two-valued (never SQL NULL),
so ``NOT`` and ``!`` stay exact. How JavaScript's conversions map onto columns:

- numbers: a null field compares as 0 (``budget < 100000`` holds for a null budget), so
  ``IS NULL`` is added only where 0 satisfies the comparison; ``==``/``!=`` never match null
  with 0 (``!=`` is ``IS DISTINCT FROM``). Arithmetic is done in double precision like
  JavaScript; ``+`` and ``*`` turn null into NaN (``parseFloat``), ``-`` and ``/`` into 0.
  Inside arithmetic SQL NULL stands for NaN: it satisfies no comparison and is falsy.
- text: ``!``/``!!`` test null-or-empty; ``in`` with a string is a case-sensitive substring
  test (``instr`` on SQLite, ``LIKE`` with ``\\``, ``%`` and ``_`` escaped on PostgreSQL).
- booleans: null and false are both falsy and both compare as 0.
- dates (``YYYY-MM-DD``) and datetimes (``YYYY-MM-DDTHH:MM:SS``, whole seconds) are compared
  as JavaScript compares their ISO strings; a literal may be a date, a datetime, or a longer
  string beginning with one (``$now`` with a fraction), and is bound as a ``date``/``datetime``
  when the column has a date type, so ISO text (SQLite) and DATE/TIMESTAMP (PostgreSQL) both
  work.
- multi-select lists (JSON arrays stored as text): ``in`` with the field as haystack tests
  membership; ``!!`` tests non-empty.
- ``$``-values come from ``context`` and, like any part of the rule that reads no field, are
  evaluated in Python and bound as parameters.

Refused with :class:`RuleError` (never translated loosely): operators other than the subset
below, ``var`` with a default, comparing a text field with a number or boolean (JavaScript
would convert the text to a number), ordering text or list fields (``<`` on text depends on
collation), comparing fields of different kinds, date strings that are not ISO dates, ``/``
by anything but a non-zero number, ``and``/``or``/``if``/``missing`` used as a value rather
than as a condition.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.i18n import gettext
from builder.runtime.query.sql_functions import (
    SQLITE_JSON_TYPES,
    contains,
    json_array_length,
    json_has,
)
from builder.runtime.rules.evaluator import (
    KNOWN_OPERATORS,
    NAN,
    RuleError,
    evaluate,
    js_compare,
    js_get,
    js_loose_equals,
    js_parse_float,
    js_strict_equals,
    js_to_number,
    js_to_string,
    js_type,
    truthy,
)

KINDS = ("number", "text", "boolean", "date", "datetime", "list", "id")


@dataclass(frozen=True)
class ColumnRef:
    """A field's column (or expression) and its kind (one of :data:`KINDS`)."""

    expr: ColumnElement[Any]
    kind: str


def to_sql(
    logic: Any,
    resolve: Callable[[str], ColumnRef | None],
    context: Mapping[str, Any] | None = None,
) -> ColumnElement[bool]:
    """A WHERE condition true exactly for the rows where ``logic`` is truthy.

    ``resolve`` maps a field key to its column (``None``: no such field); ``context`` holds
    the ``$``-values. Raises :class:`RuleError`, with the path in the rule, for anything it
    cannot translate exactly, and for a rule nested deeper than :data:`MAX_DEPTH` (the
    database compiles a condition recursively, as this translator does).
    """
    if nesting_depth(logic) > MAX_DEPTH:
        raise RuleError(gettext("rules.recursion"), "$")
    try:
        return _Translator(resolve, dict(context or {})).predicate(logic, "")
    except RecursionError as exc:
        raise RuleError(gettext("rules.recursion"), "$") from exc


MAX_DEPTH = 64
"""How deeply a rule translated to SQL may nest (lists and operations)."""


def nesting_depth(node: Any) -> int:
    """How deeply ``node`` nests lists and mappings, counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


# --- terms ---------------------------------------------------------------------------------

# kinds of translated sub-expressions besides the column kinds:
#   const      a Python value (the part reads no field)
#   nan        a double-precision number where SQL NULL stands for NaN (arithmetic results)
#   predicate  a two-valued SQL boolean whose JsonLogic value is true/false (comparisons)
#   truth      a two-valued SQL boolean that is only the truthiness of the value (and, or,
#              if, missing): it may be used as a condition, not compared
_NUMERIC = ("number", "nan")
_ISO = {
    "date": (re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII), 10),
    "datetime": (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", re.ASCII), 19),
}
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
# how `column op literal` becomes `column op' bound` when the literal is longer than the
# stored ISO strings (it begins with one) or is a date compared with a datetime column
_LONGER = {"<": "<=", "<=": "<=", ">": ">", ">=": ">"}
_SHORTER = {"<": "<", "<=": "<", ">": ">=", ">=": ">="}
_SCOPED = frozenset({"map", "filter", "all", "some", "none", "reduce"})


@dataclass(frozen=True)
class _Term:
    kind: str
    expr: Any = None
    value: Any = None


def _const(value: Any) -> _Term:
    return _Term("const", value=value)


def _sql_compare(op: str, left: Any, right: Any) -> ColumnElement[bool]:
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _number_param(number: float) -> Any:
    """A bound number typed by its value (an integer binds as BIGINT, keeping indexes usable;
    anything else as double precision, so ``2.5`` is never cast to an integer column's type)."""
    if number.is_integer() and abs(number) < 2**53:
        return sa.literal(int(number), sa.BigInteger())
    return sa.literal(number, sa.Float())


def _as_double(expr: Any) -> Any:
    return sa.cast(expr, sa.Float())


class _Translator:
    def __init__(self, resolve: Callable[[str], ColumnRef | None], context: dict[str, Any]):
        self.resolve = resolve
        self.context = context

    # entry points

    def predicate(self, node: Any, path: str) -> ColumnElement[bool]:
        return self.truth(self.term(node, path), path)

    def truth(self, term: _Term, path: str) -> ColumnElement[bool]:
        kind, x = term.kind, term.expr
        if kind == "const":
            return sa.true() if truthy(term.value) else sa.false()
        if kind in ("predicate", "truth"):
            return x
        if kind in _NUMERIC:
            return sa.and_(x.is_not(None), x != 0)
        if kind == "text":
            return sa.and_(x.is_not(None), x != "")
        if kind == "boolean":
            return x.is_(sa.true())
        if kind in ("date", "datetime"):
            return x.is_not(None)
        if kind == "list":
            return sa.and_(x.is_not(None), json_array_length(x) > 0)
        raise self.refuse(path, "rules.sql.unsupported_kind", kind=kind)

    def term(self, node: Any, path: str) -> _Term:
        if not self.reads_fields(node):
            return _const(self.constant(node, path))
        if isinstance(node, list):
            raise self.refuse(path, "rules.sql.dynamic")
        op, raw = next(iter(node.items()))
        args = raw if isinstance(raw, list) else [raw]
        op_path = f"{path}.{op}" if path else op

        def arg_path(index: int) -> str:
            return f"{op_path}[{index}]" if isinstance(raw, list) else op_path

        if op not in SQL_OPERATORS:
            key = "rules.unknown_operator" if op not in KNOWN_OPERATORS else "rules.sql.operator"
            raise RuleError(gettext(key, operator=op), op_path)
        handler = getattr(self, _HANDLERS[op])
        return handler(op, args, op_path, arg_path)

    # constants

    def reads_fields(self, node: Any) -> bool:
        if isinstance(node, list):
            return any(self.reads_fields(item) for item in node)
        if not isinstance(node, dict) or len(node) != 1:
            return False
        op, raw = next(iter(node.items()))
        args = raw if isinstance(raw, list) else [raw]
        if op == "var":
            name = args[0] if args else None
            if isinstance(name, dict | list):
                if self.reads_fields(name):
                    return True
                name = self.constant(name, "")
            return not (isinstance(name, str) and name.startswith("$"))
        if op in ("missing", "missing_some"):
            return True
        if op in _SCOPED:
            args = args[:1] + args[2:]
        return any(self.reads_fields(arg) for arg in args)

    def constant(self, node: Any, path: str) -> Any:
        try:
            return evaluate(node, self.context)
        except RuleError as exc:
            raise RuleError(exc.message, path) from exc

    def refuse(self, path: str, key: str, **params: Any) -> RuleError:
        return RuleError(gettext(key, **params), path)

    def arity(self, op: str, args: list[Any], least: int, most: int, path: str) -> None:
        if not least <= len(args) <= most:
            expected = str(least) if least == most else f"{least}..{most}"
            raise self.refuse(path, "rules.arity", operator=op, expected=expected, count=len(args))

    # fields

    def on_var(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 1, 2, path)
        name = args[0]
        if isinstance(name, dict | list):
            name = self.constant(name, arg_path(0))
        if name is None or name == "" or isinstance(name, dict | list):
            raise self.refuse(path, "rules.sql.dynamic")
        name = js_to_string(name)
        if len(args) > 1:
            raise self.refuse(path, "rules.sql.var_default", field=name)
        ref = self.resolve(name)
        if ref is None:
            raise self.refuse(path, "rules.unknown_field", field=name)
        kind = "number" if ref.kind == "id" else ref.kind
        if kind not in KINDS:
            raise self.refuse(path, "rules.sql.unsupported_kind", kind=ref.kind)
        return _Term(kind, ref.expr)

    def on_missing(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        if any(self.reads_fields(arg) for arg in args):
            raise self.refuse(path, "rules.sql.dynamic")
        values = [self.constant(arg, arg_path(i)) for i, arg in enumerate(args)]
        if op == "missing":
            keys = values[0] if values and isinstance(values[0], list) else values
            tests = [self.is_missing(key, path) for key in keys]
            return _Term("truth", sa.or_(sa.false(), *tests))
        self.arity(op, values, 2, 2, path)
        need, keys = values
        if not isinstance(keys, list):
            raise self.refuse(path, "rules.sql.dynamic")
        counts = [sa.case((self.is_missing(key, path), 1), else_=0) for key in keys]
        count = sum(counts[1:], counts[0]) if counts else sa.literal(0)
        # missing_some is truthy when too few are present and some are missing
        truthy_counts = [
            m for m in range(1, len(keys) + 1) if not js_compare(">=", len(keys) - m, need)
        ]
        return _Term("truth", count.in_(truthy_counts) if truthy_counts else sa.false())

    def is_missing(self, key: Any, path: str) -> ColumnElement[bool]:
        if not isinstance(key, str) or key.startswith("$"):
            value = js_get(self.context, key)
            return sa.true() if value is None or value == "" else sa.false()
        term = self.on_var("var", [key], path, lambda _: path)
        if term.kind == "text":
            return sa.or_(term.expr.is_(None), term.expr == "")
        return term.expr.is_(None)

    # logic

    def on_not(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 1, 1, path)
        inner = self.predicate(args[0], arg_path(0))
        return _Term("predicate", sa.not_(inner) if op == "!" else inner)

    def on_and_or(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 1, 10_000, path)
        parts = [self.predicate(arg, arg_path(i)) for i, arg in enumerate(args)]
        return _Term("truth", sa.and_(*parts) if op == "and" else sa.or_(*parts))

    def on_if(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        whens = []
        index = 0
        while index < len(args) - 1:
            whens.append(
                (
                    self.predicate(args[index], arg_path(index)),
                    self.predicate(args[index + 1], arg_path(index + 1)),
                )
            )
            index += 2
        otherwise = self.predicate(args[index], arg_path(index)) if index < len(args) else None
        if not whens:
            return _Term("truth", otherwise if otherwise is not None else sa.false())
        return _Term(
            "truth", sa.case(*whens, else_=otherwise if otherwise is not None else sa.false())
        )

    # comparisons

    def on_equality(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 2, 2, path)
        left, right = (self.term(arg, arg_path(i)) for i, arg in enumerate(args))
        strict = op in ("===", "!==")
        equal = self.equal(left, right, strict, path)
        return _Term("predicate", sa.not_(equal) if op in ("!=", "!==") else equal)

    def equal(self, a: _Term, b: _Term, strict: bool, path: str) -> ColumnElement[bool]:
        if a.kind == "const" and b.kind == "const":
            same = js_strict_equals if strict else js_loose_equals
            return sa.true() if same(a.value, b.value) else sa.false()
        if a.kind == "const":
            a, b = b, a
        if "truth" in (a.kind, b.kind):
            raise self.refuse(path, "rules.sql.not_a_value")
        if b.kind == "const":
            return self.equal_value(a, b.value, strict, path)
        return self.equal_terms(a, b, strict, path)

    def equal_value(self, t: _Term, c: Any, strict: bool, path: str) -> ColumnElement[bool]:
        kind, x, ctype = t.kind, t.expr, js_type(c)
        if c is None:
            return sa.false() if kind in ("nan", "predicate") else x.is_(None)
        if kind in _NUMERIC:
            if strict and ctype != "number":
                return sa.false()
            n = js_to_number(c)
            if math.isnan(n):
                return sa.false()
            return sa.and_(x.is_not(None), x == _number_param(n))
        if kind in ("boolean", "predicate"):
            if strict and ctype != "boolean":
                return sa.false()
            n = js_to_number(c)
            if n not in (0, 1):
                return sa.false()
            if kind == "predicate":
                return x if n == 1 else sa.not_(x)
            return x.is_(sa.true() if n == 1 else sa.false())
        if kind in ("text", "date", "datetime"):
            if ctype in ("array", "object") and not strict:
                c, ctype = js_to_string(c), "string"
            if ctype != "string":
                if strict or kind != "text":
                    return sa.false()  # a date string never equals a number or a boolean
                raise self.refuse(path, "rules.sql.text_number")
            if kind == "text":
                return sa.and_(x.is_not(None), x == c)
            bound, mode = self.temporal(kind, c, x)
            if bound is None or mode != "exact":
                return sa.false()  # stored values are always canonical ISO strings
            return sa.and_(x.is_not(None), x == bound)
        if kind == "list" and strict:
            return sa.false()
        raise self.refuse(path, "rules.sql.mixed_kinds", left=kind, right=ctype)

    def equal_terms(self, a: _Term, b: _Term, strict: bool, path: str) -> ColumnElement[bool]:
        kinds = {a.kind, b.kind}
        self.same_storage(a, b, path)
        if a.kind == b.kind and a.kind in ("number", "text", "boolean", "date", "datetime"):
            return a.expr.is_not_distinct_from(b.expr)
        if kinds <= set(_NUMERIC):
            return sa.and_(a.expr.is_not(None), b.expr.is_not(None), a.expr == b.expr)
        if kinds == {"predicate"}:
            return sa.or_(sa.and_(a.expr, b.expr), sa.and_(sa.not_(a.expr), sa.not_(b.expr)))
        if kinds == {"predicate", "boolean"}:
            pred, col = (a.expr, b.expr) if a.kind == "predicate" else (b.expr, a.expr)
            return sa.or_(
                sa.and_(col.is_(sa.true()), pred), sa.and_(col.is_(sa.false()), sa.not_(pred))
            )
        if strict and "list" not in kinds:
            if kinds & {"nan", "predicate"}:
                return sa.false()
            return sa.and_(a.expr.is_(None), b.expr.is_(None))
        raise self.refuse(path, "rules.sql.mixed_kinds", left=a.kind, right=b.kind)

    def on_compare(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 2, 3 if op in ("<", "<=") else 2, path)
        terms = [self.term(arg, arg_path(i)) for i, arg in enumerate(args)]
        parts = [self.compare(op, terms[i], terms[i + 1], path) for i in range(len(terms) - 1)]
        return _Term("predicate", sa.and_(*parts) if len(parts) > 1 else parts[0])

    def compare(self, op: str, a: _Term, b: _Term, path: str) -> ColumnElement[bool]:
        if a.kind == "const" and b.kind == "const":
            return sa.true() if js_compare(op, a.value, b.value) else sa.false()
        if a.kind == "const":
            op, a, b = _FLIP[op], b, a
        if "truth" in (a.kind, b.kind):
            raise self.refuse(path, "rules.sql.not_a_value")
        if b.kind == "const":
            return self.compare_value(op, a, b.value, path)
        return self.compare_terms(op, a, b, path)

    def compare_value(self, op: str, t: _Term, c: Any, path: str) -> ColumnElement[bool]:
        kind, x = t.kind, t.expr
        zero_matches = js_compare(op, 0, c)  # a null field compares as 0
        if kind in _NUMERIC:
            n = js_to_number(c)
            if math.isnan(n):
                return sa.false()
            if math.isinf(n):
                holds: ColumnElement[bool] = sa.true() if js_compare(op, 0, n) else sa.false()
                return sa.and_(x.is_not(None), holds)
            condition = _sql_compare(op, x, _number_param(n))
            if kind == "number" and zero_matches:
                return sa.or_(x.is_(None), condition)
            return sa.and_(x.is_not(None), condition)
        if kind in ("boolean", "predicate"):
            is_true = x.is_(sa.true()) if kind == "boolean" else x
            when_true, when_false = js_compare(op, 1, c), zero_matches
            if when_true and when_false:
                return sa.true()
            if when_true:
                return is_true
            return sa.not_(is_true) if when_false else sa.false()
        if kind in ("date", "datetime"):
            text = js_to_string(c) if js_type(c) in ("array", "object") else c
            if not isinstance(text, str):  # a date string compared with a number is NaN
                return x.is_(None) if zero_matches else sa.false()
            bound, mode = self.temporal(kind, text, x)
            if bound is None:
                raise self.refuse(path, "rules.sql.date_literal", value=text)
            sql_op = {"exact": op, "longer": _LONGER[op], "shorter": _SHORTER[op]}[mode]
            return sa.and_(x.is_not(None), _sql_compare(sql_op, x, bound))
        if kind == "text":
            raise self.refuse(path, "rules.sql.text_order")
        raise self.refuse(path, "rules.sql.mixed_kinds", left=kind, right=js_type(c))

    def compare_terms(self, op: str, a: _Term, b: _Term, path: str) -> ColumnElement[bool]:
        self.same_storage(a, b, path)
        if a.kind in _NUMERIC and b.kind in _NUMERIC:
            guards = [t.expr.is_not(None) for t in (a, b) if t.kind == "nan"]
            left, right = (
                sa.func.coalesce(t.expr, 0) if t.kind == "number" else t.expr for t in (a, b)
            )
            return sa.and_(*guards, _sql_compare(op, left, right))
        if a.kind == b.kind and a.kind in ("date", "datetime"):
            both = sa.and_(
                a.expr.is_not(None), b.expr.is_not(None), _sql_compare(op, a.expr, b.expr)
            )
            if js_compare(op, 0, 0):
                return sa.or_(both, sa.and_(a.expr.is_(None), b.expr.is_(None)))
            return both
        if "text" in (a.kind, b.kind):
            raise self.refuse(path, "rules.sql.text_order")
        raise self.refuse(path, "rules.sql.mixed_kinds", left=a.kind, right=b.kind)

    def same_storage(self, a: _Term, b: _Term, path: str) -> None:
        """Two date fields compare only when both are stored alike (both ISO text or both
        DATE/TIMESTAMP), which holds for the fields of one tenant's tables."""
        dated = (sa.Date, sa.DateTime)
        if (
            a.kind in ("date", "datetime")
            and a.kind == b.kind
            and isinstance(a.expr.type, dated) != isinstance(b.expr.type, dated)
        ):
            raise self.refuse(path, "rules.sql.mixed_kinds", left=a.kind, right=b.kind)

    def temporal(self, kind: str, text: str, column: Any) -> tuple[Any, str]:
        """The bound value and how to compare a date/datetime column with an ISO string."""
        size = _ISO[kind][1]
        mode = "exact" if len(text) == size else "longer"
        head = text[:size]
        if len(text) < size and kind == "datetime" and _valid_iso("date", text):
            head, mode = text + "T00:00:00", "shorter"
        if not _valid_iso(kind, head):
            return None, ""
        if isinstance(column.type, sa.DateTime):
            return datetime.fromisoformat(head), mode
        if isinstance(column.type, sa.Date):
            return date.fromisoformat(head), mode
        return head, mode

    # membership

    def on_in(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        self.arity(op, args, 2, 2, path)
        needle, haystack = (self.term(arg, arg_path(i)) for i, arg in enumerate(args))
        if "truth" in (needle.kind, haystack.kind):
            raise self.refuse(path, "rules.sql.not_a_value")
        if haystack.kind == "const":
            return _Term("predicate", self.in_value(needle, haystack.value, path))
        if needle.kind != "const":
            raise self.refuse(path, "rules.sql.dynamic")
        x, c = haystack.expr, needle.value
        if haystack.kind == "text":
            text = js_to_string(c)
            found = contains(x, sa.literal(text, sa.String()), sa.literal(_like_pattern(text)))
            return _Term("predicate", sa.and_(x.is_not(None), x != "", found))
        if haystack.kind == "list":
            ctype = js_type(c)
            if ctype in ("array", "object", "undefined"):
                return _Term("predicate", sa.false())
            if ctype == "boolean":
                types = ",true," if c else ",false,"
            else:
                types = SQLITE_JSON_TYPES[ctype]
            value = sa.literal(c if ctype in ("string", "number") else None)
            has = json_has(
                x, value, sa.literal(types, sa.String()), sa.literal(json.dumps([c]), sa.String())
            )
            return _Term("predicate", sa.and_(x.is_not(None), has))
        if haystack.kind in ("date", "datetime"):
            raise self.refuse(path, "rules.sql.mixed_kinds", left=haystack.kind, right="in")
        return _Term("predicate", sa.false())  # numbers and booleans have no indexOf

    def in_value(self, needle: _Term, haystack: Any, path: str) -> ColumnElement[bool]:
        if needle.kind == "const":
            return sa.true() if _in(needle.value, haystack) else sa.false()
        kind, x = needle.kind, needle.expr
        if isinstance(haystack, str):
            if haystack == "":
                return sa.false()
            if kind != "text":
                raise self.refuse(path, "rules.sql.mixed_kinds", left=kind, right="string")
            found = contains(sa.literal(haystack, sa.String()), x, sa.null())
            inside = sa.and_(x.is_not(None), found)
            return sa.or_(x.is_(None), inside) if "null" in haystack else inside
        if not isinstance(haystack, list):
            return sa.false()
        if kind in ("number", "nan", "text"):
            wanted = "string" if kind == "text" else "number"
            scalars = [item for item in haystack if js_type(item) == wanted]
            options = []
            if scalars and kind == "text":
                options.append(sa.and_(x.is_not(None), x.in_(scalars)))
            elif scalars:
                whole = all(float(i).is_integer() and abs(i) < 2**53 for i in scalars)
                numbers = sa.bindparam(
                    None,
                    [int(i) if whole else float(i) for i in scalars],
                    expanding=True,
                    type_=sa.BigInteger() if whole else sa.Float(),
                )
                options.append(sa.and_(x.is_not(None), x.in_(numbers)))
        else:
            options = [
                self.equal_value(needle, item, True, path) for item in haystack if item is not None
            ]
        if None in haystack and kind not in ("nan", "predicate"):
            options.append(x.is_(None))
        return sa.or_(sa.false(), *options)

    # arithmetic

    def on_arithmetic(self, op: str, args: list[Any], path: str, arg_path: Any) -> _Term:
        if op == "*" and len(args) == 1:
            return self.term(args[0], arg_path(0))  # JavaScript returns it unchanged
        if op == "*":
            self.arity(op, args, 1, 10_000, path)
        if op == "-":
            self.arity(op, args, 1, 2, path)
        if op == "/":
            self.arity(op, args, 2, 2, path)
        terms = [self.term(arg, arg_path(i)) for i, arg in enumerate(args)]
        if op in ("+", "*"):
            parts = [self.parse_float(t, path) for t in terms]
            if any(isinstance(p, float) and math.isnan(p) for p in parts):
                return _const(NAN)
            result = parts[0] if parts else 0.0
            for part in parts[1:]:
                result = result + part if op == "+" else result * part
            return _Term("nan", result)
        numbers = [self.to_number(t, path) for t in terms]
        if op == "-":
            if len(numbers) == 1:
                return _Term("nan", -numbers[0])
            return _Term("nan", numbers[0] - numbers[1])
        divisor = terms[1].value if terms[1].kind == "const" else None
        if divisor is None or js_to_number(divisor) == 0 or math.isnan(js_to_number(divisor)):
            raise self.refuse(path, "rules.sql.division")
        return _Term("nan", numbers[0] / js_to_number(divisor))

    def parse_float(self, term: _Term, path: str) -> Any:
        if term.kind == "const":
            return js_parse_float(term.value)
        if term.kind == "number":
            return _as_double(term.expr)
        if term.kind == "nan":
            return term.expr
        if term.kind in ("boolean", "predicate"):
            return NAN  # parseFloat(true) is NaN
        raise self.refuse(path, "rules.sql.arithmetic", kind=term.kind)

    def to_number(self, term: _Term, path: str) -> Any:
        if term.kind == "const":
            return js_to_number(term.value)
        if term.kind == "number":
            return sa.func.coalesce(_as_double(term.expr), 0.0)
        if term.kind == "nan":
            return term.expr
        raise self.refuse(path, "rules.sql.arithmetic", kind=term.kind)


def _in(needle: Any, haystack: Any) -> bool:
    return bool(evaluate({"in": [{"var": "n"}, {"var": "h"}]}, {"n": needle, "h": haystack}))


def _valid_iso(kind: str, text: str) -> bool:
    pattern, _ = _ISO[kind]
    if not pattern.fullmatch(text):
        return False
    try:
        (date if kind == "date" else datetime).fromisoformat(text)
    except ValueError:
        return False
    return True


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_HANDLERS = {
    **dict.fromkeys(("var",), "on_var"),
    **dict.fromkeys(("missing", "missing_some"), "on_missing"),
    **dict.fromkeys(("!", "!!"), "on_not"),
    **dict.fromkeys(("and", "or"), "on_and_or"),
    **dict.fromkeys(("if", "?:"), "on_if"),
    **dict.fromkeys(("==", "!=", "===", "!=="), "on_equality"),
    **dict.fromkeys(("<", "<=", ">", ">="), "on_compare"),
    **dict.fromkeys(("in",), "on_in"),
    **dict.fromkeys(("+", "-", "*", "/"), "on_arithmetic"),
}
SQL_OPERATORS = frozenset(_HANDLERS)
"""The operators :func:`to_sql` translates."""
