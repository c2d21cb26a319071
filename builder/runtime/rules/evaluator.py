"""JsonLogic evaluation that agrees with json-logic-js, the browser's evaluator.

``panzi-json-logic`` walks the rule; the operations whose results differ from json-logic-js
are replaced here by JavaScript's own semantics: abstract (``==``) and strict (``===``)
equality, relational comparison (``<`` on two strings compares them, anything else compares
numbers), ``String(x)`` and ``Array.prototype.join`` for ``cat``, ``parseFloat`` for ``+``
and ``*``, IEEE arithmetic for ``/``, ``%``, ``min`` and ``max`` (``1/0`` is ``inf``, ``0/0``
and ``max()`` of nothing are ``nan`` / ``-inf`` as in JavaScript), ``indexOf`` for ``in``,
and ``var`` returning ``null`` (not the default) for a key that is present with a null value.

Errors never escape as arbitrary exceptions: an unknown operator, a malformed rule, a rule
nested too deeply for the interpreter or anything an operation cannot handle raises
:class:`RuleError` (HTTP 422). Numeric results may be ``inf`` or ``nan``, as in JavaScript;
callers that store a result check ``math.isfinite``.

Rule data is the record as JSON: numbers, strings, booleans, ``None``; dates as
``YYYY-MM-DD``, datetimes as ``YYYY-MM-DDTHH:MM:SS``; multi-select values as lists. Context
values are keys starting with ``$`` (``$user``, ``$now``, ``$old``) in the same mapping, so
``{"var": "$user.id"}`` reads ``data["$user"]["id"]``.

Remaining differences from json-logic-js (the designer does not emit them): ``reduce`` takes
its initial value literally instead of evaluating it, and strings compare by code point
rather than by UTF-16 code unit (only characters outside the BMP sort differently).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from json_logic.apply import apply as _apply
from json_logic.builtins import BUILTINS

from builder.errors import AppError, Problem
from builder.i18n import gettext
from builder.runtime.rules.dates import DATE_OPERATORS

log = logging.getLogger(__name__)


class RuleError(AppError):
    """A rule that cannot be evaluated or translated; ``path`` says where in the rule."""

    def __init__(self, message: str, path: str = "", **extra: Any) -> None:
        details = [Problem(path, message, "rule")] if path else []
        super().__init__(message, details, "rule_error", 422, extra)
        self.path = path


class _Undefined:
    """JavaScript's ``undefined``: an argument that was not given."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()
NAN = float("nan")
INF = float("inf")

# Operators handled by the interpreter itself (their arguments are evaluated lazily).
SPECIAL_FORMS = frozenset(
    {"if", "?:", "and", "or", "filter", "map", "reduce", "all", "some", "none"}
)

_JS_SPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL = re.compile(
    r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", re.ASCII
)
_RADIX = re.compile(r"0([xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)", re.ASCII)


# --- JavaScript value semantics ------------------------------------------------------------


def js_type(value: Any) -> str:
    """``typeof``, with ``null`` and arrays told apart: undefined, null, boolean, number,
    string, array or object."""
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return INF if value > 0 else -INF


def _parse_decimal(text: str) -> float:
    sign = -1.0 if text.startswith("-") else 1.0
    if text.lstrip("+-") == "Infinity":
        return sign * INF
    return float(text)


def js_to_number(value: Any) -> float:
    """``Number(value)``."""
    kind = js_type(value)
    if kind == "number":
        return _float(value)
    if kind == "boolean":
        return 1.0 if value else 0.0
    if kind == "null":
        return 0.0
    if kind == "string":
        text = value.strip(_JS_SPACE)
        if not text:
            return 0.0
        if _DECIMAL.fullmatch(text):
            return _parse_decimal(text)
        radix = _RADIX.fullmatch(text)
        if radix:
            digits = radix.group(1)
            return _float(int(digits[1:], {"x": 16, "o": 8, "b": 2}[digits[0].lower()]))
        return NAN
    if kind == "array":
        return js_to_number(js_to_string(value))
    return NAN


def js_parse_float(value: Any) -> float:
    """``parseFloat(value)``: the longest decimal prefix of ``String(value)``."""
    if js_type(value) == "number":
        return _float(value)
    match = _DECIMAL.match(js_to_string(value).lstrip(_JS_SPACE))
    return _parse_decimal(match.group(0)) if match else NAN


def js_number_to_string(number: float) -> str:
    """``Number.prototype.toString()``: shortest round-trip digits, JavaScript's layout."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = int(exponent) + k
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def js_to_string(value: Any) -> str:
    """``String(value)``."""
    kind = js_type(value)
    if kind == "string":
        return str(value)
    if kind == "number":
        return js_number_to_string(_float(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("null", "undefined"):
        return kind
    if kind == "array":
        return js_join(value, ",")
    return "[object Object]"


def js_join(items: list[Any] | tuple[Any, ...], separator: str) -> str:
    """``Array.prototype.join``: null and undefined become empty strings."""
    return separator.join("" if x is None or x is UNDEFINED else js_to_string(x) for x in items)


def _to_primitive(value: Any) -> Any:
    kind = js_type(value)
    if kind == "array":
        return js_to_string(value)
    if kind == "object":
        return "[object Object]"
    return value


def js_strict_equals(a: Any, b: Any) -> bool:
    """``a === b``."""
    kind = js_type(a)
    if kind != js_type(b):
        return False
    if kind == "number":
        return _float(a) == _float(b)
    if kind in ("array", "object"):
        return a is b
    return bool(a == b)


def js_loose_equals(a: Any, b: Any) -> bool:
    """``a == b`` (the abstract equality comparison)."""
    ta, tb = js_type(a), js_type(b)
    if ta == tb:
        return js_strict_equals(a, b)
    if {ta, tb} <= {"array", "object"}:
        return False  # two different objects
    nullish = ("null", "undefined")
    if ta in nullish or tb in nullish:
        return ta in nullish and tb in nullish
    if ta == "boolean":
        return js_loose_equals(js_to_number(a), b)
    if tb == "boolean":
        return js_loose_equals(a, js_to_number(b))
    if ta in ("array", "object"):
        return js_loose_equals(_to_primitive(a), b)
    if tb in ("array", "object"):
        return js_loose_equals(a, _to_primitive(b))
    # number and string
    return js_to_number(a) == js_to_number(b)


def _less(a: Any, b: Any) -> bool | None:
    """The abstract relational comparison ``a < b``; ``None`` stands for undefined (NaN)."""
    pa, pb = _to_primitive(a), _to_primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        return pa < pb
    na, nb = js_to_number(pa), js_to_number(pb)
    if math.isnan(na) or math.isnan(nb):
        return None
    return na < nb


_PLAIN = (int, float, str)
_NUMBER_TYPES = (int, float)


def js_compare(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for ``<``, ``<=``, ``>``, ``>=`` with JavaScript's conversions."""
    if type(a) in _NUMBER_TYPES and type(b) in _NUMBER_TYPES:  # the common case, fast
        return _FAST_COMPARE[op](a, b)
    if op == "<":
        return _less(a, b) is True
    if op == ">":
        return _less(b, a) is True
    if op == "<=":
        return _less(b, a) is False
    if op == ">=":
        return _less(a, b) is False
    raise ValueError(op)


_FAST_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that an empty list is falsy."""
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str | list):
        return len(value) > 0
    return True


def js_get(data: Any, key: Any, default: Any = UNDEFINED) -> Any:
    """The ``var`` lookup: dotted path, list indexes and ``length``; the default only when a
    step is undefined (absent), so a key present with ``null`` gives ``null``."""
    not_found = None if default is UNDEFINED else default
    if key is UNDEFINED or key is None or key == "":
        return data
    for prop in js_to_string(key).split("."):
        if data is None or data is UNDEFINED:
            return not_found
        data = _property(data, prop)
        if data is UNDEFINED:
            return not_found
    return data


def _property(value: Any, prop: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(prop, UNDEFINED)
    if isinstance(value, list | str):
        units = value if isinstance(value, list) else _utf16(value)
        if prop == "length":
            return len(units)
        if prop.isascii() and prop.isdigit() and (prop == "0" or not prop.startswith("0")):
            index = int(prop)
            if index < len(units) and isinstance(value, list):
                return units[index]
            if index < len(units):
                return _from_utf16(units[index : index + 1])
    return UNDEFINED


def _utf16(text: str) -> list[int]:
    raw = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]


def _from_utf16(units: list[int]) -> str:
    raw = b"".join(u.to_bytes(2, "little") for u in units)
    return raw.decode("utf-16-le", "surrogatepass")


def _to_integer(value: Any) -> float:
    number = js_to_number(value)
    if math.isnan(number):
        return 0
    return number if math.isinf(number) else float(math.trunc(number))


def _js_substr(text: str, start: Any, length: Any = UNDEFINED) -> str:
    """``String.prototype.substr`` on UTF-16 code units."""
    units = _utf16(text)
    size = len(units)
    begin = _to_integer(start)
    begin = max(size + begin, 0) if begin < 0 else min(begin, size)
    count = size - begin if length is UNDEFINED else min(max(_to_integer(length), 0), size - begin)
    first = int(begin)
    return _from_utf16(units[first : first + int(count)])


def _js_plus(a: Any, b: Any) -> Any:
    pa, pb = _to_primitive(a), _to_primitive(b)
    if isinstance(pa, str) or isinstance(pb, str):
        return js_to_string(pa) + js_to_string(pb)
    return js_to_number(pa) + js_to_number(pb)


# --- operations: each takes the data, then the evaluated arguments -------------------------


def _op_equals(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> bool:
    if type(a) is type(b) and type(a) in _PLAIN:  # the common case, fast
        return bool(a == b)
    return js_loose_equals(a, b)


def _op_not_equals(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> bool:
    return not _op_equals(data, a, b)


def _op_strict_equals(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> bool:
    return js_strict_equals(a, b)


def _op_strict_not_equals(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> bool:
    return not js_strict_equals(a, b)


def _between(op: str) -> Callable[..., bool]:
    def operation(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *rest: Any) -> bool:
        if not rest:
            return js_compare(op, a, b)
        return js_compare(op, a, b) and js_compare(op, b, rest[0])

    return operation


def _binary(op: str) -> Callable[..., bool]:
    def operation(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> bool:
        return js_compare(op, a, b)

    return operation


def _op_not(data: Any, a: Any = UNDEFINED, *_: Any) -> bool:
    return not truthy(a)


def _op_double_not(data: Any, a: Any = UNDEFINED, *_: Any) -> bool:
    return truthy(a)


def _op_add(data: Any, *args: Any) -> float:
    total = 0.0
    for arg in args:
        total += js_parse_float(arg)
    return total


def _op_multiply(data: Any, *args: Any) -> Any:
    if not args:
        raise TypeError("reduce of empty array with no initial value")
    if len(args) == 1:
        return args[0]
    product = js_parse_float(args[0])
    for arg in args[1:]:
        product *= js_parse_float(arg)
    return product


def _op_subtract(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> float:
    if b is UNDEFINED:
        return -js_to_number(a)
    return js_to_number(a) - js_to_number(b)


def js_divide(a: float, b: float) -> float:
    """IEEE division as JavaScript does it: ``x/0`` is ``±inf``, ``0/0`` is ``nan``."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def _op_divide(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> float:
    return js_divide(js_to_number(a), js_to_number(b))


def _op_remainder(data: Any, a: Any = UNDEFINED, b: Any = UNDEFINED, *_: Any) -> float:
    x, y = js_to_number(a), js_to_number(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or y == 0:
        return NAN
    if math.isinf(y):
        return x
    return math.fmod(x, y)


def _op_min(data: Any, *args: Any) -> float:
    numbers = [js_to_number(arg) for arg in args]
    return NAN if any(map(math.isnan, numbers)) else min(numbers, default=INF)


def _op_max(data: Any, *args: Any) -> float:
    numbers = [js_to_number(arg) for arg in args]
    return NAN if any(map(math.isnan, numbers)) else max(numbers, default=-INF)


def _op_cat(data: Any, *args: Any) -> str:
    return js_join(args, "")


def _op_substr(
    data: Any, source: Any = UNDEFINED, start: Any = UNDEFINED, end: Any = UNDEFINED, *_: Any
) -> str:
    text = js_to_string(source)
    if end is not UNDEFINED and js_compare("<", end, 0):
        temp = _js_substr(text, start)
        return _js_substr(temp, 0, _js_plus(len(_utf16(temp)), end))
    return _js_substr(text, start, end)


def _op_in(data: Any, needle: Any = UNDEFINED, haystack: Any = UNDEFINED, *_: Any) -> bool:
    if isinstance(haystack, str):  # an empty string is falsy: ``!b`` returns false
        return haystack != "" and js_to_string(needle) in haystack
    if isinstance(haystack, list):
        return any(js_strict_equals(needle, item) for item in haystack)
    return False


def _op_var(data: Any, key: Any = UNDEFINED, default: Any = UNDEFINED, *_: Any) -> Any:
    return js_get(data, key, default)


def _op_missing(data: Any, *args: Any) -> list[Any]:
    keys = args[0] if args and isinstance(args[0], list) else args
    found = []
    for key in keys:
        value = js_get(data, key)
        if value is None or value == "":
            found.append(key)
    return found


def _op_missing_some(
    data: Any, need: Any = UNDEFINED, options: Any = UNDEFINED, *_: Any
) -> list[Any]:
    if not isinstance(options, list):
        raise TypeError("missing_some needs a list of keys")
    missing = _op_missing(data, *options)
    if js_compare(">=", len(options) - len(missing), need):
        return []
    return missing


def _op_log(data: Any, value: Any = None, *_: Any) -> Any:
    log.debug("jsonlogic log: %r", value)
    return value


OPERATORS: dict[str, Callable[..., Any]] = {
    **BUILTINS,
    "==": _op_equals,
    "!=": _op_not_equals,
    "===": _op_strict_equals,
    "!==": _op_strict_not_equals,
    "<": _between("<"),
    "<=": _between("<="),
    ">": _binary(">"),
    ">=": _binary(">="),
    "!": _op_not,
    "!!": _op_double_not,
    "+": _op_add,
    "*": _op_multiply,
    "-": _op_subtract,
    "/": _op_divide,
    "%": _op_remainder,
    "min": _op_min,
    "max": _op_max,
    "cat": _op_cat,
    "substr": _op_substr,
    "in": _op_in,
    "var": _op_var,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
    "log": _op_log,
    **DATE_OPERATORS,
}
"""The operation table passed to the interpreter (special forms are not in it)."""

KNOWN_OPERATORS = frozenset(OPERATORS) | SPECIAL_FORMS


def evaluate(logic: Any, data: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a JsonLogic rule against ``data`` as json-logic-js would.

    Raises :class:`RuleError` for an unknown operator or a rule that cannot be evaluated.
    """
    try:
        return _clean(_apply(logic, data, OPERATORS))
    except ReferenceError as exc:
        raise RuleError(gettext("rules.unknown_operator", operator=_operator_name(exc))) from exc
    except RecursionError as exc:
        raise RuleError(gettext("rules.recursion")) from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
        raise RuleError(gettext("rules.evaluation_failed", reason=str(exc))) from exc


def _clean(value: Any) -> Any:
    """Turn the internal ``undefined`` into ``None`` in a result."""
    if value is UNDEFINED:
        return None
    if isinstance(value, list) and any(item is UNDEFINED for item in value):
        return [None if item is UNDEFINED else item for item in value]
    return value


def _operator_name(exc: ReferenceError) -> str:
    text = str(exc)
    match = re.search(r"'(.*)'", text)
    return match.group(1) if match else text
