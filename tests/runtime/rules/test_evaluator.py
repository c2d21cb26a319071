"""The Python evaluator against the shared fixture file (the browser runs the same cases)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from builder.runtime.rules import OPERATORS, RuleError, evaluate, truthy
from builder.runtime.rules.evaluator import js_number_to_string, js_to_number

CASES = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "jsonlogic_cases.json").read_text(encoding="utf-8")
)


def same(a: Any, b: Any) -> bool:
    """JSON equality that tells booleans from numbers (Python's ``True == 1`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_fixture_file_is_large_enough() -> None:
    assert len(CASES) >= 250
    assert all({"logic", "data", "result"} <= case.keys() for case in CASES)


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{i}:{json.dumps(c['logic'], ensure_ascii=False)[:60]}" for i, c in enumerate(CASES)],
)
def test_fixture_case(case: dict[str, Any]) -> None:
    if case.get("python_skip"):
        pytest.skip(case["python_skip"])
    assert same(evaluate(case["logic"], case["data"]), case["result"])


def test_known_differences_from_panzi_are_fixed() -> None:
    assert evaluate({"==": [None, 0]}) is False
    assert evaluate({"==": [None, False]}) is False
    assert evaluate({"==": ["", 0]}) is True
    assert evaluate({"cat": [True, None]}) == "true"
    assert evaluate({"/": [1, 0]}) == math.inf
    assert math.isnan(evaluate({"/": [0, 0]}))
    assert evaluate({"max": []}) == -math.inf
    assert evaluate({"var": ["a", 1]}, {"a": None}) is None


def test_context_values() -> None:
    data = {"owner": 3, "$user": {"id": 3, "roles": ["sales"]}, "$now": "2026-01-01T00:00:00"}
    assert evaluate({"==": [{"var": "owner"}, {"var": "$user.id"}]}, data) is True
    assert evaluate({"in": ["sales", {"var": "$user.roles"}]}, data) is True
    assert evaluate({"var": "$old.status"}, data) is None


def test_errors_are_rule_errors() -> None:
    with pytest.raises(RuleError):
        evaluate({"no_such_op": [1]})
    with pytest.raises(RuleError):
        evaluate({"*": []})
    with pytest.raises(RuleError):
        evaluate({"missing_some": [1, "a"]})
    deep: Any = 1
    for _ in range(5000):
        deep = {"!": [deep]}
    with pytest.raises(RuleError):
        evaluate(deep)


def test_truthy() -> None:
    assert [truthy(v) for v in ([], [0], 0, "", "0", None, {}, math.nan, -1)] == [
        False,
        True,
        False,
        False,
        True,
        False,
        True,
        False,
        True,
    ]


def test_operator_table() -> None:
    assert {"==", "!=", "cat", "var", "in", "missing"} <= OPERATORS.keys()
    assert "if" not in OPERATORS  # special forms are handled by the interpreter


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (123.456, "123.456"),
        (-0.0, "0"),
        (1e20, "100000000000000000000"),
        (2**53, "9007199254740992"),
        (math.inf, "Infinity"),
    ],
)
def test_number_to_string(number: float, text: str) -> None:
    assert js_number_to_string(number) == text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("", 0.0),
        (" 12 ", 12.0),
        ("0x1f", 31.0),
        ("1e3", 1000.0),
        ("-Infinity", -math.inf),
        (".5", 0.5),
        ("5.", 5.0),
        ("1_000", math.nan),
        ("inf", math.nan),
        ("١", math.nan),
    ],
)
def test_string_to_number(text: str, number: float) -> None:
    result = js_to_number(text)
    assert (math.isnan(result) and math.isnan(number)) or result == number
